"""The text-pair source: what every sentence-pair dataset declares to the DataModule and the LightningModule.

A :class:`TextPairSource` takes its configuration as explicit, typed constructor arguments (the signature is the
schema the config validator checks; no source forwards ``**kwargs``), and holds the dataset's fixed facts as
class variables. Every source declares, as attributes rather than as optional hooks:

* :attr:`~TextPairSource.label_names` — the labels in index order;
* :attr:`~TextPairSource.metrics` — split name → metric names (first = primary) for every split it serves;
* :attr:`~TextPairSource.prediction_maps` — split name → a name in :data:`PREDICTION_MAPS` applied to the
  predictions before that split is scored (e.g. 3-way MNLI predictions on 2-way HANS);
* :attr:`~TextPairSource.cell_names` — split name → the names of its analysis cells, for splits whose examples
  carry a ``cell`` (per-cell accuracy, e.g. label × overlap level of the synthetic task).
"""

from __future__ import annotations

import abc
import re
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
import torch

from compresslab.data.base import DatasetSource
from compresslab.data.nlu.encoding import PairDataset, encode_pairs, load_tokenizer, minilm_path
from compresslab.data.nlu.formats import TextPairs
from compresslab.utils.errors import ConfigError

#: metric names used in :attr:`TextPairSource.metrics`: ``acc`` accuracy; ``f1`` binary F1 with class 1 positive
#: (QQP: duplicate); ``f1_weighted`` the support-weighted mean of the per-class F1 (PAWS, srnet.md §4)
METRIC_NAMES: tuple[str, ...] = ("acc", "f1", "f1_weighted")


# ================================================================================================ label maps
def hans_map_predictions(preds: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
    """Map 3-way MNLI predictions onto HANS' 2-way labels: neutral (2) → non-entailment (0).

    With MNLI's label order (contradiction 0, entailment 1, neutral 2) and HANS' (non-entailment 0,
    entailment 1), contradiction already equals non-entailment, so only neutral moves (srnet.md §4, as the
    official ``compute_metrics_ood``). Integer class indices of any shape in, same type and shape out.
    """
    if isinstance(preds, torch.Tensor):
        return torch.where(preds == 2, torch.zeros_like(preds), preds)
    preds = np.asarray(preds)
    return np.where(preds == 2, 0, preds).astype(preds.dtype)


#: prediction mappings by name, as listed in :attr:`TextPairSource.prediction_maps`
PREDICTION_MAPS: dict[str, Callable[[Any], Any]] = {"mnli_to_hans": hans_map_predictions}


# ================================================================================================ checks
def check_max_length(max_length: Any) -> None:
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 8 <= max_length <= 4096:
        raise ConfigError(
            "data.dataset.max_length",
            max_length,
            "an integer token length in [8, 4096]",
            "set max_length=128.",
        )


def check_split_name(key: str, name: Any) -> None:
    """A name that becomes the metric prefix ``test_<name>``."""
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(
            key,
            name,
            "a lower-case identifier (it becomes the metric prefix test_<name>)",
            "use e.g. 'hans'.",
        )


# ================================================================================================ base
class TextPairSource(DatasetSource):
    """A sentence-pair classification dataset, tokenised with one tokenizer to one fixed length.

    Args:
        tokenizer: local transformers tokenizer/checkpoint directory; ``None`` = the packaged MiniLM
            (:func:`~compresslab.data.nlu.encoding.minilm_path`).
        max_length: fixed token length of every pair (padding/truncation, ``longest_first``).
        cache_dir: folder of the tokenisation cache; ``None`` disables caching.
    """

    #: label names in index order
    label_names: ClassVar[tuple[str, ...]] = ()
    #: metrics this dataset is scored with (first = primary), see :data:`METRIC_NAMES`
    eval_metrics: ClassVar[tuple[str, ...]] = ("acc",)
    #: name in :data:`PREDICTION_MAPS` applied when a model with more classes is scored on this set
    prediction_map: ClassVar[str | None] = None

    def __init__(
        self, *, tokenizer: str | None = None, max_length: int = 128, cache_dir: str | None = None
    ) -> None:
        check_max_length(max_length)
        self.tokenizer, self.max_length, self.cache_dir = tokenizer, max_length, cache_dir

    # ------------------------------------------------------------------------------------------ contract
    @property
    def num_classes(self) -> int:
        return len(self.label_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.max_length,)

    @property
    def tokenizer_dir(self) -> str:
        """The tokenizer directory in use (the MiniLM package's model folder when ``tokenizer`` is None)."""
        return str(self.tokenizer) if self.tokenizer is not None else str(minilm_path())

    @property
    @abc.abstractmethod
    def metrics(self) -> dict[str, list[str]]:
        """Split name → metric names (first = primary), for every evaluation split :meth:`load` returns."""

    @property
    def prediction_maps(self) -> dict[str, str]:
        """Split name → name in :data:`PREDICTION_MAPS` to apply to predictions before scoring that split."""
        return {}

    @property
    def cell_names(self) -> dict[str, tuple[str, ...]]:
        """Split name → names of the analysis cells its examples carry (``batch["cell"]`` indexes them); splits
        without cells are absent."""
        return {}

    # ------------------------------------------------------------------------------------------ encode
    def check_tokenizer(self) -> None:
        """Load the tokenizer once (a :class:`ConfigError` naming the value if it cannot be loaded)."""
        load_tokenizer(self.tokenizer_dir)

    def encode(self, pairs: TextPairs, tag: str) -> PairDataset:
        """Tokenise ``pairs`` with this source's tokenizer and length (cached) into a :class:`PairDataset`."""
        enc = encode_pairs(pairs, self.tokenizer_dir, self.max_length, self.cache_dir, tag)
        return PairDataset(enc, pairs)

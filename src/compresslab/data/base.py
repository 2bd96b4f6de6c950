"""The contract between the shared DataModule and the dataset readers.

A :class:`DatasetSource` knows one dataset: its on-disk format, its splits, its transforms. Constructing one
never touches the disk (so configs compose and ``compresslab-measure`` runs without the data);
:meth:`DatasetSource.check` validates what is on disk and :meth:`DatasetSource.load` returns the splits.

New datasets (the NLU readers, tabular sets) plug in by subclassing :class:`DatasetSource`; the DataModule
does not change. Evaluation splits are ordered mappings ``prefix -> Dataset``: the prefix is the metric
namespace (``val``, ``test``, ``test_hans``), so in-distribution and out-of-distribution sets are served as
one list of loaders and logged under distinct names.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from compresslab.utils.errors import ConfigError


@dataclass
class Splits:
    """The splits of one dataset. ``val``/``test`` map metric prefixes to datasets, in loader order."""

    train: Dataset
    val: dict[str, Dataset] = field(default_factory=dict)
    test: dict[str, Dataset] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        out = {"train": len(self.train)}  # type: ignore[arg-type]
        out.update({k: len(v) for k, v in {**self.val, **self.test}.items()})  # type: ignore[arg-type]
        return out


class IndexedDataset(Dataset):
    """``(x, y)`` items of ``base`` as ``(x, y, index)``: what :class:`~compresslab.data.DataModule` serves with
    ``return_indices`` (a model that looks up per-sample values, e.g. cached teacher outputs, by the index)."""

    def __init__(self, base: Dataset) -> None:
        self.base = base

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> tuple[Any, Any, int]:
        x, y = self.base[i][:2]
        return x, y, i


class DatasetSource(abc.ABC):
    """One dataset: what it is, where it lives, how to read and validate it."""

    #: short name used in logs and errors
    name: str = "dataset"
    #: how to obtain the data, shown when it is missing
    source_hint: str = ""

    @property
    @abc.abstractmethod
    def num_classes(self) -> int:
        """Number of target classes."""

    @property
    @abc.abstractmethod
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one model input without the batch dimension, e.g. ``(3, 224, 224)``."""

    def check(self) -> None:  # noqa: B027 - optional hook
        """Validate presence and format of the files on disk; raise :class:`DataError` naming path and fix."""

    @abc.abstractmethod
    def load(self) -> Splits:
        """Read (and validate) the data and return its splits."""

    #: batch collation; ``None`` means torch's default
    collate_fn: Callable[[list[Any]], Any] | None = None


def stratified_split(
    labels: Sequence[int] | np.ndarray, fractions: Sequence[float], seed: int
) -> list[np.ndarray]:
    """Split indices ``0..n-1`` into stratified parts of the given fractions (the remainder is the first part).

    The split seed is independent of the training seed, so every seed of a sweep sees the same test set.
    When a class is too rare to stratify (fewer than 2 members left, as in tiny fixtures), the split is a
    plain seeded random split.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    rest = np.arange(len(labels))
    parts: list[np.ndarray] = []
    remaining = 1.0
    for frac in fractions:
        if frac <= 0:
            parts.append(np.zeros(0, dtype=np.int64))
            continue
        strat = labels[rest] if np.unique(labels[rest], return_counts=True)[1].min() >= 2 else None
        rest, part = train_test_split(rest, test_size=frac / remaining, stratify=strat, random_state=seed)
        remaining -= frac
        parts.append(np.sort(part))
    return [np.sort(rest), *parts]


def check_fractions(val_fraction: float, test_fraction: float = 0.0) -> None:
    """``val_fraction`` and ``test_fraction`` in [0, 1) with a sum below 1, else a :class:`ConfigError`."""
    for key, v in (
        ("data.dataset.val_fraction", val_fraction),
        ("data.dataset.test_fraction", test_fraction),
    ):
        if not 0.0 <= v < 1.0:
            raise ConfigError(key, v, "a fraction in [0, 1)", f"set {key}=0.1.")
    if val_fraction + test_fraction >= 1.0:
        raise ConfigError(
            "data.dataset.val_fraction",
            val_fraction,
            f"val_fraction + test_fraction < 1 (test_fraction={test_fraction})",
            "lower one of them.",
        )

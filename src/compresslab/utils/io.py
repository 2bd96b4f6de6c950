"""Small file helpers: atomic writes, so that a crash never leaves a half-written result behind."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def _jsonable(obj: Any) -> Any:
    """Convert tensors, numpy scalars and paths to plain JSON values; NaN/inf become null."""
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 0) == 0:
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return obj


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``; on a clean exit ``fsync`` it and ``os.replace`` it onto ``path``.

    The one way this codebase writes a result: readers (tables, notebooks, a concurrent sweep job, a resumed run)
    see either the old file or the complete new one, also after a crash or a power loss; on an exception the
    temporary file is removed and ``path`` is untouched. For writers that want a file name (matplotlib's
    ``savefig``, ONNX's ``save``, a check that reads the file back before it counts); the others use
    :func:`atomic_write`. The temporary name is ``.<name>.<random>.tmp``.

    Example: ``with atomic_path(p) as tmp: fig.savefig(tmp, format="png")``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """:func:`atomic_path` as an open file: ``mode`` ``"wb"`` or ``"w"`` (UTF-8 text).

    Example: ``with atomic_write(p) as f: torch.save(obj, f)``.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode {mode!r}; expected 'wb' or 'w'")
    with atomic_path(path) as tmp, open(tmp, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as f:
        yield f


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write` of a UTF-8 text."""
    with atomic_write(path, "w") as f:
        f.write(text)
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """:func:`atomic_write` of bytes."""
    with atomic_write(path, "wb") as f:
        f.write(data)
    return Path(path)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` through :func:`atomic_write`."""
    import torch

    with atomic_write(path, "wb") as f:
        torch.save(obj, f)
    return Path(path)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as pretty JSON (tensors and numpy values converted, non-finite → null)."""
    return atomic_write_text(path, json.dumps(_jsonable(obj), indent=2, sort_keys=False) + "\n")

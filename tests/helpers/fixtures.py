"""Tiny dataset fixtures written in exactly the official on-disk formats (no network)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from PIL import Image

from compresslab.data import IMAGENET10_WNIDS


def _images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 3072), dtype=np.uint8), rng.integers(0, 10, size=n).astype(np.uint8)


def write_cifar10_binary(root: Path, per_batch: int = 20) -> Path:
    """cifar-10-batches-bin/: 5 train batches + test batch; records = 1 label byte + 3072 pixel bytes."""
    d = root / "cifar-10-batches-bin"
    d.mkdir(parents=True)
    for i, name in enumerate([*(f"data_batch_{k}.bin" for k in range(1, 6)), "test_batch.bin"]):
        x, y = _images(per_batch, i)
        np.concatenate([y[:, None], x], axis=1).tofile(d / name)
    return d


def write_cifar100_binary(root: Path, n: int = 50) -> Path:
    """cifar-100-binary/{train,test}.bin: records = coarse byte + fine byte + 3072 pixel bytes."""
    d = root / "cifar-100-binary"
    d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("train.bin", "test.bin"):
        x = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        fine = rng.integers(0, 100, size=n).astype(np.uint8)
        coarse = (fine // 5).astype(np.uint8)
        np.concatenate([coarse[:, None], fine[:, None], x], axis=1).tofile(d / name)
    return d


def write_cifar10_python(root: Path, per_batch: int = 20) -> Path:
    """cifar-10-batches-py/: pickled dicts with bytes keys (as the official python-2 pickles)."""
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    for i, name in enumerate([*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]):
        x, y = _images(per_batch, i)
        batch = {
            b"batch_label": b"batch",
            b"labels": [int(v) for v in y],
            b"data": x,
            b"filenames": [f"img_{j}.png".encode() for j in range(per_batch)],
        }
        with open(d / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
    return d


def write_imagenet10(
    root: Path,
    per_class: int = 2,
    wnids: tuple[str, ...] = IMAGENET10_WNIDS,
    extra_wnid: str | None = "n09999999",
) -> Path:
    """imagenet10/{train,val}/<wnid>/*.JPEG with small real JPEG files (plus one unrelated wnid folder)."""
    rng = np.random.default_rng(0)
    base = root / "imagenet10"
    for split in ("train", "val"):
        for w in (*wnids, *([extra_wnid] if extra_wnid else [])):
            d = base / split / w
            d.mkdir(parents=True)
            for j in range(per_class):
                arr = rng.integers(0, 256, size=(30 + j, 40, 3), dtype=np.uint8)
                Image.fromarray(arr).save(d / f"{w}_{j}.JPEG", format="JPEG")
    return base

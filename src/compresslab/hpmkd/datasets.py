"""Datasets as HPM-KD's inner runs and caches see them: sample indices for cached teacher logits
(:class:`IndexedDataset`), labels, and the identity / transform / determinism checks that key the SOM teacher
cache (a cached logit per training sample is valid only when the split yields the same tensor on every read)."""

from __future__ import annotations

import hashlib
from typing import Any

import torch
from torch.utils.data import Dataset, Subset, TensorDataset

from compresslab.data.base import IndexedDataset  # re-exported: the DataModule serves it (return_indices)


# ------------------------------------------------------------------------------------------------ datasets
def unwrap(ds: Dataset) -> Dataset:
    """The dataset inside :class:`IndexedDataset` wrappers."""
    while isinstance(ds, IndexedDataset):
        ds = ds.base
    return ds


def dataset_labels(ds: Dataset) -> torch.Tensor:
    """All labels of a dataset as a long tensor, without running its transforms where the layout allows."""
    ds = unwrap(ds)
    if isinstance(ds, TensorDataset):
        return ds.tensors[1].long()
    if isinstance(ds, Subset):
        return dataset_labels(ds.dataset)[torch.as_tensor(ds.indices, dtype=torch.long)]
    labels = getattr(ds, "labels", None)
    if isinstance(labels, torch.Tensor) and labels.ndim == 1 and len(labels) == len(ds):  # type: ignore[arg-type]
        return labels.long()
    return torch.as_tensor([int(ds[i][1]) for i in range(len(ds))], dtype=torch.long)  # type: ignore[arg-type]


def _transform_of(ds: Dataset) -> str:
    ds = unwrap(ds)
    if isinstance(ds, Subset):
        return _transform_of(ds.dataset)
    return repr(getattr(ds, "transform", None))


def _fingerprint(ds: Dataset, probes: int = 4) -> str:
    """SHA-256 over the first and last ``probes`` items (inputs and labels): cheap, catches another dataset."""
    n = len(ds)  # type: ignore[arg-type]
    h = hashlib.sha256(str(n).encode())
    for i in sorted({*range(min(probes, n)), *range(max(0, n - probes), n)}):
        x, y = ds[i][:2]
        for t in (x, y):
            t = torch.as_tensor(t).detach().cpu().contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:24]


def dataset_identity(ds: Dataset, split: str, source: object = None) -> dict[str, Any]:
    """What decides a split's samples and their order: the reader and its settings, the split name, the size and
    a content fingerprint (for the SOM teacher-cache key)."""
    settings = {}
    if source is not None:
        settings = {
            k: v
            for k, v in vars(source).items()
            if not k.startswith("_") and isinstance(v, str | int | float | bool | type(None) | list | tuple)
        }
        settings["class"] = type(source).__qualname__
    return {
        "source": settings,
        "split": split,
        "n": len(ds),  # type: ignore[arg-type]
        "fingerprint": _fingerprint(unwrap(ds)),
    }


def dataset_transform(ds: Dataset) -> str:
    """The ``repr`` of the transform a split applies (part of the teacher-cache key)."""
    return _transform_of(ds)


def is_deterministic(ds: Dataset, probes: int = 3) -> bool:
    """Whether reading an item twice gives the same input (False under random augmentation)."""
    ds = unwrap(ds)
    n = len(ds)  # type: ignore[arg-type]
    for i in sorted({0, n // 2, n - 1})[:probes] if n else []:
        a, b = ds[i][0], ds[i][0]
        if not torch.equal(torch.as_tensor(a), torch.as_tensor(b)):
            return False
    return True

"""Cache keys of the Shared Optimization Memory: a teacher's outputs on one split under one transform
(:func:`teacher_key`, hashed from the weights) and an intermediate chain model (:func:`model_key`)."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from compresslab.utils.io import _jsonable

_ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")


# --------------------------------------------------------------------------------------------- cache keys
def state_dict_digest(weights: nn.Module | Mapping[str, Any]) -> str:
    """SHA-256 over a module's (or a state dict's) tensors: names, dtypes, shapes and raw bytes.

    Buffers (BatchNorm running statistics) are included: they change the teacher's eval-mode outputs.
    """
    state = weights.state_dict() if hasattr(weights, "state_dict") else weights
    h = hashlib.sha256()
    for name in sorted(state):
        value = state[name]
        h.update(name.encode() + b"\0")
        if isinstance(value, torch.Tensor):
            t = value.detach().to("cpu").contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy())
        else:  # e.g. a module's ``_extra_state``
            h.update(repr(value).encode())
    return h.hexdigest()


def _transform_identity(transform: object) -> str:
    text = transform if isinstance(transform, str) else repr(transform)
    if _ADDRESS_RE.search(text):
        warnings.warn(
            f"transform repr {text!r} contains a memory address, so the teacher-cache key differs in every "
            "process and the cache will never hit across jobs. Fix: give the transform a stable __repr__ "
            "or pass a string that describes it.",
            stacklevel=3,
        )
    return text


def teacher_key(
    teacher: nn.Module | Mapping[str, Any],
    split: str | Mapping[str, Any],
    transform: object = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Cache key of a teacher's outputs on one dataset split under one transform.

    Args:
        teacher: the teacher module or its state dict (weights and buffers are hashed).
        split: identity of the data, e.g. ``"cifar10/train"`` or a mapping such as
            ``{"dataset": "cifar10", "split": "train", "indices": subset_indices}``; everything that decides
            which samples come in which order must be in it (tensors/arrays are hashed by value).
        transform: the evaluation transform (its ``repr``) or a string describing it.
        extra: anything else that changes the outputs (e.g. ``{"dtype": "bf16"}``).
    """
    parts = {
        "v": 1,
        "weights": state_dict_digest(teacher),
        "split": _jsonable(split),
        "transform": _transform_identity(transform),
        "extra": _jsonable(dict(extra or {})),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:40]


def model_key(arch: str, size: float, tag: str = "") -> str:
    """Cache key of an intermediate chain model: architecture name and size (width or parameter count).

    ``tag`` separates models of the same shape trained differently (dataset, teacher, seed).
    """
    parts = {"v": 1, "arch": str(arch), "size": float(size), "tag": str(tag)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:40]

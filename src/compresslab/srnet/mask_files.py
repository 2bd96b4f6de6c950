"""SRNet mask files: a mask is a plain state dict ``{"<linear name>.weight": bool tensor}`` — written by
:func:`save_masks` (atomically), read back and checked against a model by :func:`load_mask_file`. Split out of
:mod:`compresslab.srnet.masks` (which re-exports these names)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils import parametrize

from compresslab.srnet.masks import _CLASSIFIER_RE, _POOLER_RE, masks_of, target_linears
from compresslab.utils.checkpoint import load_file_setting
from compresslab.utils.errors import ConfigError
from compresslab.utils.io import atomic_torch_save


def mask_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """``{"<linear name>.weight": bool mask}`` of every masked Linear (CPU tensors): a standard state dict."""
    with torch.no_grad():
        return {
            f"{name}.weight": m.keep().detach().to("cpu", torch.bool).clone()
            for name, m in masks_of(model).items()
        }


def save_masks(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write :func:`mask_state_dict` to ``path`` with ``torch.save`` (atomically: :func:`compresslab.utils.io.atomic_write`)."""
    return atomic_torch_save(mask_state_dict(model), path)


def load_mask_file(
    path: str | os.PathLike,
    model: nn.Module,
    pooler: bool = True,
    classifier: bool = True,
    key: str = "model.mask_file",
) -> dict[str, torch.Tensor]:
    """Read a mask file written by :func:`save_masks` and check it fits ``model``'s target Linears.

    Entries for Linears excluded here (pooler / classifier when ``False``) are dropped; every remaining target
    must have a mask of its weight's shape.

    Raises:
        ConfigError: the file is missing or unreadable, not a mask state dict, or for another model (names the
            first missing / unexpected / mis-shaped entry).
    """
    path = Path(path)
    state = load_file_setting(
        path,
        key,
        "an existing mask file (best_mask.pt of a mask-training or IMP run)",
        "run that stage first.",
        "a torch state dict of bool masks",
        "the file cannot be read ({error}).",
    )
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) and v.dtype == torch.bool for v in state.values()
    ):
        raise ConfigError(
            key, str(path), "a state dict {'<linear>.weight': bool tensor}", "write it with save_masks()."
        )
    targets = target_linears(model, pooler=True, classifier=True)
    names = {f"{n}.weight": lin for n, lin in targets.items()}
    unexpected = [k for k in state if k not in names]
    if unexpected:
        raise ConfigError(
            key,
            str(path),
            f"masks for this model's Linear layers (e.g. {next(iter(names))})",
            f"the file is for another model: it has {unexpected[:3]}, which this model lacks.",
        )
    use = {
        n: lin
        for n, lin in names.items()
        if (pooler or not _POOLER_RE.search(n[: -len(".weight")]))
        and (classifier or not _CLASSIFIER_RE.search(n[: -len(".weight")]))
    }
    missing = [n for n in use if n not in state]
    if missing:
        raise ConfigError(
            key,
            str(path),
            f"a mask for each of the {len(use)} target Linear weights",
            f"the file is for another model: it lacks {missing[:3]}.",
        )
    for n, lin in use.items():
        w = lin.parametrizations.weight.original if parametrize.is_parametrized(lin, "weight") else lin.weight
        if tuple(state[n].shape) != tuple(w.shape):
            raise ConfigError(
                key,
                str(path),
                f"'{n}' of shape {list(w.shape)}",
                f"the file is for another model: its '{n}' has shape {list(state[n].shape)}.",
            )
    return {n: state[n] for n in use}


__all__ = ["load_mask_file", "mask_state_dict", "save_masks"]

"""Reading what a finished compresslab run left behind: its resolved config and its checkpoints.

Checkpoints load with ``weights_only=True`` on CPU: a file from elsewhere is never unpickled freely. Used by
every loader of a run (teachers, init-from, export, evaluation, resume), so a run directory is read one way.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from compresslab.utils.errors import ConfigError

#: the full resolved config a run writes into its directory (:func:`compresslab.utils.task.write_resolved_config`)
RUN_CONFIG = "config_resolved.yaml"


def load_checkpoint(path: str | os.PathLike) -> Any:
    """The object in a checkpoint file, on CPU, loaded with ``weights_only=True``."""
    return torch.load(path, map_location="cpu", weights_only=True)


def load_file_setting(
    path: Path, key: str, expected: str, fix_missing: str, readable_as: str, fix_unreadable: str
) -> Any:
    """The object in the file ``path`` that the setting ``key`` points at (:func:`load_checkpoint`).

    Raises:
        ConfigError: at ``key`` with the path: the file is missing (``expected``, ``fix_missing``) or cannot be
            read (``readable_as``; ``{error}`` in ``fix_unreadable`` becomes the error's type name).
    """
    if not path.is_file():
        raise ConfigError(key, str(path), expected, fix_missing)
    try:
        return load_checkpoint(path)
    except Exception as e:
        raise ConfigError(
            key, str(path), readable_as, fix_unreadable.replace("{error}", type(e).__name__)
        ) from None


def strip_prefix(state: Mapping[str, torch.Tensor], prefix: str = "net.") -> dict[str, torch.Tensor]:
    """The entries of ``state`` under ``prefix``, the prefix removed (a LightningModule's ``net.*`` weights)."""
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def read_state_dict(
    path: str | Path, prefix: str = "net.", key: str = "init_from"
) -> dict[str, torch.Tensor]:
    """A state dict from a Lightning checkpoint (keys under ``prefix``, prefix removed) or a plain state-dict file.

    ``key`` names the setting that pointed at ``path`` in the error for a missing file.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            key, str(path), "an existing checkpoint file", "pass <run dir>/checkpoints/last.ckpt."
        )
    obj = load_checkpoint(path)
    sd = obj.get("state_dict", obj) if isinstance(obj, Mapping) else obj
    if any(k.startswith(prefix) for k in sd):
        sd = strip_prefix(sd, prefix)
    return dict(sd)


def load_run_config(
    run_dir: str | os.PathLike,
    key: str = "run_dir",
    fix: str = "pass the output directory of a finished compresslab-train run.",
) -> DictConfig:
    """The resolved config of the compresslab run in ``run_dir``; a :class:`ConfigError` naming ``key`` and
    suggesting ``fix`` when the directory holds none."""
    cfg_file = Path(run_dir) / RUN_CONFIG
    if not cfg_file.is_file():
        raise ConfigError(
            key,
            str(run_dir),
            f"a finished compresslab-train run directory ({RUN_CONFIG} + checkpoints/)",
            fix,
        )
    return OmegaConf.load(cfg_file)

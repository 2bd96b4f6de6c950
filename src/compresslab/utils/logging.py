"""Rank-zero-aware logger and rich config printing."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf


def get_logger(name: str = __name__) -> logging.Logger:
    """A python logger whose info/warning/error calls run on global rank zero only (no duplicate lines under DDP)."""
    logger = logging.getLogger(name)
    for level in ("debug", "info", "warning", "error", "exception", "fatal", "critical"):
        setattr(logger, level, rank_zero_only(getattr(logger, level)))
    return logger


@rank_zero_only
def print_config_tree(
    cfg: DictConfig,
    order: Sequence[str] = ("data", "model", "trainer", "callbacks", "logger"),
    resolve: bool = False,
) -> None:
    """Print the composed config as a rich tree, main groups first."""
    import rich
    import rich.syntax
    import rich.tree

    tree = rich.tree.Tree("CONFIG", style="dim", guide_style="dim")
    keys = [k for k in order if k in cfg] + [k for k in cfg if k not in order]
    for key in keys:
        branch = tree.add(str(key), style="bold", guide_style="dim")
        node = cfg[key]
        text = OmegaConf.to_yaml(node, resolve=resolve) if isinstance(node, DictConfig) else str(node)
        branch.add(rich.syntax.Syntax(text, "yaml"))
    rich.print(tree)

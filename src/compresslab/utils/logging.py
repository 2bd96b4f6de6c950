"""Rank-zero-aware logger, the console filter of the job logging config, and config printing."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

#: ``log.info(text, extra=FILE_ONLY)``: into the run's log file, not onto the console (tracebacks of user errors)
FILE_ONLY = {"file_only": True}


def get_logger(name: str = __name__) -> logging.Logger:
    """A python logger whose info/warning/error calls run on global rank zero only (no duplicate lines under DDP)."""
    logger = logging.getLogger(name)
    for level in ("debug", "info", "warning", "error", "exception", "fatal", "critical"):
        setattr(logger, level, rank_zero_only(getattr(logger, level)))
    return logger


class ConsoleFilter(logging.Filter):
    """Drops records logged with ``extra=FILE_ONLY`` (``conf/hydra/default.yaml`` puts it on the console)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(record, "file_only", False)


@rank_zero_only
def print_config_tree(
    cfg: DictConfig,
    order: Sequence[str] = ("data", "model", "trainer", "callbacks", "logger"),
    resolve: bool = False,
) -> None:
    """Print the composed config as a rich tree, main groups first (``extras.print_config=true``)."""
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


def config_summary(cfg: DictConfig) -> str:
    """One line naming what runs: ``data=… model=… trainer=… seed=…`` (the full tree is in config_resolved.yaml)."""

    def target(group: str) -> str:
        node = cfg.get(group)
        name = str(node.get("_target_", "?")) if isinstance(node, DictConfig) else "none"
        return name.rsplit(".", 1)[-1]

    net = cfg.model.get("net") if isinstance(cfg.get("model"), DictConfig) else None
    parts = [f"data={target('data')}", f"model={target('model')}"]
    if isinstance(net, DictConfig) and "_target_" in net:
        parts.append(f"net={str(net._target_).rsplit('.', 1)[-1]}")
    parts += [f"seed={cfg.get('seed')}", f"max_epochs={OmegaConf.select(cfg, 'trainer.max_epochs')}"]
    return " ".join(parts)

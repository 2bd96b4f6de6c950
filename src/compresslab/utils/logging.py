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
    """One line naming what runs: ``experiment=… data=… model=… seed=… max_epochs=…`` (config group choices when
    Hydra made the config, the classes otherwise); the full tree is in ``config_resolved.yaml``."""
    from hydra.core.hydra_config import HydraConfig

    choices = dict(HydraConfig.get().runtime.choices) if HydraConfig.initialized() else {}
    parts = [f"{g}={choices[g]}" for g in ("experiment", "data", "model", "trainer") if choices.get(g)]
    if not parts:
        for group in ("data", "model"):
            node = cfg.get(group)
            target = str(node.get("_target_", "?")) if isinstance(node, DictConfig) else "none"
            parts.append(f"{group}={target.rsplit('.', 1)[-1]}")
    parts += [f"seed={cfg.get('seed')}", f"max_epochs={OmegaConf.select(cfg, 'trainer.max_epochs')}"]
    return " ".join(parts)

"""Evaluation entry point: ``compresslab-eval ckpt_path=/path/to.ckpt [overrides]``.

Given a checkpoint inside a compresslab run (``<run dir>/checkpoints/*.ckpt``), the data and model are rebuilt
from that run's own ``config_resolved.yaml`` — ``data=``/``model=`` need not be repeated (``data=…`` or
``model=…`` on the command line still win; ``data.batch_size=…``-style overrides apply on top of the run's
config). The checkpoint is loaded with ``weights_only=True`` and tested on every evaluation split; the results go
to ``metrics.json`` in the evaluation's own run directory (never the trained run's).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import hydra
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

from compresslab.train import build, measure_run
from compresslab.utils.checkpoint import RUN_CONFIG, load_run_config
from compresslab.utils.errors import ConfigError
from compresslab.utils.hydra_app import exits_on_error, prepare_hydra, run_entry_point
from compresslab.utils.logging import get_logger
from compresslab.utils.task import (
    apply_extras,
    print_test_accuracies,
    task_wrapper,
    write_resolved_config,
    write_run_summary,
)

log = get_logger(__name__)

#: the groups a run's saved config supplies to its evaluation
RUN_GROUPS = ("data", "model")


def run_dir_of(ckpt: Path) -> Path | None:
    """The compresslab run a checkpoint belongs to (``<run>/checkpoints/x.ckpt`` with ``<run>/config_resolved.yaml``)."""
    run = ckpt.resolve().parent.parent
    return run if ckpt.parent.name == "checkpoints" and (run / RUN_CONFIG).is_file() else None


def _command_line() -> list[str]:
    return list(HydraConfig.get().overrides.task) if HydraConfig.initialized() else []


def use_run_config(cfg: DictConfig, run_dir: Path, overrides: list[str]) -> list[str]:
    """Replace ``cfg.data``/``cfg.model`` with the run's saved ones, unless a group was chosen on the command
    line; re-apply ``data.…``/``model.…`` value overrides on top. Returns the groups taken from the run."""
    saved = load_run_config(run_dir)
    chosen = {o.lstrip("+~").split("=", 1)[0] for o in overrides}
    taken = [g for g in RUN_GROUPS if g not in chosen and saved.get(g) is not None]
    with open_dict(cfg):
        for group in taken:
            cfg[group] = saved[group]
        for o in overrides:
            key, _, value = o.lstrip("+").partition("=")
            if key.split(".", 1)[0] in taken and "." in key:
                OmegaConf.update(cfg, key, yaml.safe_load(value), force_add=True)
    return taken


@task_wrapper
def evaluate(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    ckpt = cfg.get("ckpt_path")
    if not ckpt or not Path(ckpt).is_file():
        raise ConfigError(
            "ckpt_path",
            ckpt,
            "the path of an existing checkpoint file",
            "pass ckpt_path=<run dir>/checkpoints/last.ckpt (or another .ckpt).",
        )
    run = run_dir_of(Path(ckpt))
    if run is not None:
        taken = use_run_config(cfg, run, _command_line())
        if taken:
            log.info(f"{' and '.join(taken)} from the run's own config: {run / RUN_CONFIG}")
    log.info(f"Evaluating {ckpt} | {cfg.paths.output_dir}")
    write_resolved_config(cfg.paths.output_dir, cfg)
    objs = build(cfg)
    trainer, model, datamodule = objs["trainer"], objs["model"], objs["datamodule"]
    measures = measure_run(cfg, model, datamodule) if trainer.is_global_zero else {}
    with warnings.catch_warnings():  # Lightning's advice for resuming training does not apply to a test
        warnings.filterwarnings("ignore", message=".*callbacks used to create the checkpoint.*")
        warnings.filterwarnings("ignore", message=".*The dirpath has changed from.*")
        trainer.test(model=model, datamodule=datamodule, ckpt_path=ckpt, weights_only=cfg.weights_only)
    metrics = dict(trainer.callback_metrics)
    if trainer.is_global_zero:
        extra = {"checkpoint": str(ckpt), "evaluated_run": str(run) if run else None}
        write_run_summary(cfg.paths.output_dir, metrics, measures, cfg, extra)
        print_test_accuracies(metrics)
    return metrics, objs


@hydra.main(version_base="1.3", config_path=prepare_hydra(), config_name="eval")
@exits_on_error
def _hydra_main(cfg: DictConfig) -> None:
    apply_extras(cfg)
    evaluate(cfg)


def main() -> None:
    """Console script ``compresslab-eval``."""
    run_entry_point(_hydra_main)


if __name__ == "__main__":
    main()

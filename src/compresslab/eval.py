"""Evaluation entry point: ``compresslab-eval ckpt_path=/path/to.ckpt [overrides]``.

Builds the same objects as training from the config, loads the checkpoint (``weights_only=True``) and tests
on every evaluation split; writes ``metrics.json`` in its own run directory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from compresslab.train import build, measure_run
from compresslab.utils.errors import ConfigError
from compresslab.utils.hydra_app import prepare_hydra
from compresslab.utils.logging import get_logger
from compresslab.utils.task import apply_extras, print_test_accuracies, task_wrapper, write_run_summary

log = get_logger(__name__)


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
    objs = build(cfg)
    trainer, model, datamodule = objs["trainer"], objs["model"], objs["datamodule"]
    measures = measure_run(cfg, model, datamodule) if trainer.is_global_zero else {}
    trainer.test(model=model, datamodule=datamodule, ckpt_path=ckpt, weights_only=cfg.weights_only)
    metrics = dict(trainer.callback_metrics)
    if trainer.is_global_zero:
        write_run_summary(cfg.paths.output_dir, metrics, measures, cfg, {"checkpoint": str(ckpt)})
        print_test_accuracies(metrics)
    return metrics, objs


@hydra.main(version_base="1.3", config_path=prepare_hydra(), config_name="eval")
def _hydra_main(cfg: DictConfig) -> None:
    apply_extras(cfg)
    evaluate(cfg)


def main() -> None:
    """Console script ``compresslab-eval``."""
    _hydra_main()


if __name__ == "__main__":
    main()

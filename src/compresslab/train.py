"""Training entry point: ``compresslab-train [overrides]`` (Hydra; ``-m`` for sweeps).

conf → validate → instantiate DataModule, LightningModule, callbacks, loggers, Trainer → check that the model
fits the data and that the training split holds a batch → measure the net → fit → test on every evaluation
split → ``metrics.json`` in the run directory (atomically). ``train=false`` evaluates only (``ckpt_path``, the
run's initial weights or a pre-trained net) and never demands ``optimized_metric``.
"""

from __future__ import annotations

import dataclasses
import difflib
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf, open_dict

from compresslab.measure import measure_model
from compresslab.paper_values import paper_reference
from compresslab.utils.checkpoint import load_checkpoint
from compresslab.utils.config import TrainConfig, validate_targets
from compresslab.utils.errors import ConfigError
from compresslab.utils.hydra_app import exits_on_error, prepare_hydra, run_entry_point
from compresslab.utils.loggers import wandb_review_fields
from compresslab.utils.logging import get_logger
from compresslab.utils.model_data import check_model_fits_data, example_input, gives_tokens
from compresslab.utils.run_dir import FinishedRun, check_run_dir
from compresslab.utils.task import (
    apply_extras,
    get_metric_value,
    instantiate_callbacks,
    instantiate_loggers,
    log_run_line,
    print_test_accuracies,
    task_wrapper,
    write_resolved_config,
    write_run_summary,
)

log = get_logger(__name__)


def validate(cfg: DictConfig) -> None:
    """Check the top-level keys and every ``_target_`` node of the run's groups (before any work).

    Unknown top-level keys in files already fail at compose time (schema); this also catches ``+key=`` adds.
    """
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    for key in cfg:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            raise ConfigError(
                str(key),
                cfg.get(key),
                f"one of the top-level keys {sorted(known)}",
                f"did you mean '{close[0]}'?" if close else "remove it.",
            )
    for group in ("data", "trainer", "model", "callbacks", "logger"):  # trainer first: model interpolates it
        if cfg.get(group) is not None:
            validate_targets(cfg[group], root=group)


def build(cfg: DictConfig) -> dict[str, Any]:
    """Instantiate the objects of a run; fails fast on config errors before any data is read."""
    validate(cfg)
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    log.info(f"Instantiating datamodule <{cfg.data._target_}>")
    datamodule: LightningDataModule = hydra.utils.instantiate(cfg.data)
    log.info(f"Instantiating model <{cfg.model._target_}>")
    model: LightningModule = hydra.utils.instantiate(cfg.model)
    callbacks = instantiate_callbacks(cfg.get("callbacks"))
    if cfg.get("logger") and cfg.logger.get("wandb"):
        with open_dict(cfg):
            cfg.logger.wandb.update(wandb_review_fields(cfg))
    loggers = instantiate_loggers(cfg.get("logger"))
    log.info(f"Instantiating trainer <{cfg.trainer._target_}>")
    trainer: Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    if hasattr(datamodule, "check"):  # batch divisible by the world size, data present and well-formed
        datamodule.check(trainer.world_size)
    check_fit(cfg, model, datamodule)
    if cfg.get("train") and hasattr(datamodule, "check_train_split"):  # at least one optimizer step per epoch
        datamodule.check_train_split(trainer.world_size)
    return {
        "cfg": cfg,
        "datamodule": datamodule,
        "model": model,
        "callbacks": callbacks,
        "loggers": loggers,
        "trainer": trainer,
    }


def check_fit(cfg: DictConfig, model: LightningModule, datamodule: LightningDataModule) -> None:
    """One dry forward pass of ``model.net`` on an input like the data's (shape and kind), pair named on failure."""
    net, shape = getattr(model, "net", None), getattr(datamodule, "input_shape", None)
    dataset = getattr(datamodule, "dataset", None)
    if not isinstance(net, torch.nn.Module) or shape is None or dataset is None:
        return
    model_name = str(OmegaConf.select(cfg, "model.net._target_") or cfg.model._target_).rsplit(".", 1)[-1]
    data_name = getattr(dataset, "name", type(dataset).__name__)
    check_model_fits_data(net, shape, gives_tokens(dataset), model_name, data_name)


def measure_run(cfg: DictConfig, model: LightningModule, datamodule: LightningDataModule) -> dict[str, Any]:
    """Params, MAdds, analytic peak RAM and latency of ``model.net`` at batch 1 (``measure.enabled``)."""
    m = cfg.get("measure")
    net = getattr(model, "net", model)
    shape = getattr(datamodule, "input_shape", None)
    if not m or not m.enabled or shape is None:
        return {}
    out = measure_model(
        net,
        shape,
        example=example_input(net, shape),
        bytes_per_value=m.bytes_per_value,
        latency=m.latency,
        latency_repeats=m.latency_repeats,
        latency_warmup=m.latency_warmup,
    )
    out.pop("madds_by_module", None)
    log.info(
        f"params {out['params']['total']:,} | MAdds {out['madds']:,} | peak RAM {out['peak_ram_mib']:.3f} MiB"
    )
    return out


def log_run_info(loggers: list, cfg: DictConfig, measures: dict[str, Any]) -> None:
    """Send the resolved config and the measurements to every logger (W&B: config + summary)."""
    hparams = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    flat = {
        "measure/params": measures.get("params", {}).get("total"),
        "measure/madds": measures.get("madds"),
        "measure/peak_ram_mib": measures.get("peak_ram_mib"),
    }
    paper = cfg.get("paper") or {}
    for key in ("name", "table", "row", "scale"):
        flat[f"paper/{key}"] = paper.get(key) or None
    for key, value in (paper_reference(paper.get("table", ""), paper.get("row", "")) or {}).items():
        flat[f"paper/reference/{key}"] = value
    for lg in loggers:
        lg.log_hyperparams(hparams)  # type: ignore[arg-type]
        if type(lg).__name__ == "WandbLogger":
            lg.experiment.summary.update({k: v for k, v in flat.items() if v is not None})


def training_progress(trainer: Trainer) -> dict[str, int]:
    """Optimizer steps and epochs done. Spawn-based strategies train in child processes and leave the parent's
    counters at 0; the last checkpoint holds the true values then."""
    step, epoch = trainer.global_step, trainer.current_epoch
    cb = trainer.checkpoint_callback
    last = Path(cb.dirpath) / "last.ckpt" if cb is not None and getattr(cb, "dirpath", None) else None
    if step == 0 and last is not None and last.is_file():
        state = load_checkpoint(last)
        step, epoch = state["global_step"], state["epoch"] + 1
    return {"global_step": int(step), "epochs": int(epoch)}


@task_wrapper
def train(cfg: DictConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit and test one configuration; returns (metrics, objects).

    A job whose folder holds a finished real run refuses (or, when it resumes that run, returns its metrics
    without writing anything): the single-run CLI checks this before Hydra creates the folder, this repeats it
    for the jobs of a multirun and for in-process callers.
    """
    try:
        check_run_dir(cfg, cfg.paths.output_dir)
    except FinishedRun as done:
        log.info(str(done))
        return dict(done.summary.get("metrics") or {}), {}
    log_run_line(cfg)
    if rank_zero_only.rank == 0:
        write_resolved_config(cfg.paths.output_dir, cfg)
    objs = build(cfg)
    datamodule, model, trainer = objs["datamodule"], objs["model"], objs["trainer"]
    measures = measure_run(cfg, model, datamodule) if trainer.is_global_zero else {}
    if trainer.is_global_zero:
        log_run_info(objs["loggers"], cfg, measures)

    if cfg.get("train"):
        log.info("Starting training")
        trainer.fit(
            model=model, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"), weights_only=cfg.weights_only
        )
    train_metrics = dict(trainer.callback_metrics)

    test_metrics: dict[str, Any] = {}
    if cfg.get("test"):
        if cfg.get("train"):
            ckpt = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
            if not ckpt:
                log.warning("No best checkpoint found; testing the current weights")
        else:  # evaluation only: the given checkpoint, else the weights the model was built with
            ckpt = cfg.get("ckpt_path") or ""
        weights = "the current weights" if cfg.get("train") else "the weights the model was built with"
        log.info(f"Testing {'checkpoint ' + ckpt if ckpt else weights}")
        trainer.test(
            model=model, datamodule=datamodule, ckpt_path=ckpt or None, weights_only=cfg.weights_only
        )
        test_metrics = dict(trainer.callback_metrics)

    metrics = {**train_metrics, **test_metrics}
    # a training run that did not log optimized_metric fails here, before metrics.json is written
    get_metric_value(metrics, cfg.get("optimized_metric"), trained=bool(cfg.get("train")))
    if trainer.is_global_zero:
        paper = cfg.get("paper") or {}
        extra = {
            "paper_reference": paper_reference(paper.get("table", ""), paper.get("row", "")),
            "best_checkpoint": trainer.checkpoint_callback.best_model_path
            if trainer.checkpoint_callback
            else None,
            **training_progress(trainer),
        }
        path = write_run_summary(cfg.paths.output_dir, metrics, measures, cfg, extra)
        print_test_accuracies(metrics)
        log.info(f"Wrote {path}")
    return metrics, objs


@hydra.main(version_base="1.3", config_path=prepare_hydra(), config_name="train")
@exits_on_error
def _hydra_main(cfg: DictConfig) -> float | None:
    apply_extras(cfg)
    metrics, _ = train(cfg)
    return get_metric_value(metrics, cfg.get("optimized_metric"), trained=bool(cfg.get("train")))


def main() -> None:
    """Console script ``compresslab-train``."""
    torch.set_float32_matmul_precision("high")
    run_entry_point(_hydra_main)


if __name__ == "__main__":
    main()

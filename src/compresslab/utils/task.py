"""Job plumbing shared by the entry points: the task wrapper, instantiators and the run-summary file."""

from __future__ import annotations

import functools
import json
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
from lightning.pytorch import Callback
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf

from compresslab.utils.errors import CompresslabError
from compresslab.utils.io import atomic_write_json, atomic_write_text
from compresslab.utils.logging import get_logger, print_config_tree

log = get_logger(__name__)

METRICS_FILE = "metrics.json"
FAILURE_FILE = "failed.json"


def task_wrapper(
    task: Callable[[DictConfig], tuple[dict, dict]],
) -> Callable[[DictConfig], tuple[dict, dict]]:
    """Run a job so that a failure is recorded and never leaks into the next job of a multirun.

    - W&B: ``wandb.finish()`` runs in ``finally``, so job N+1 of a sweep never logs into job N's run.
    - On an exception, ``failed.json`` (error and traceback) is written atomically to the run directory and
      the exception is re-raised; ``metrics.json`` is written only by a job that finished.
    """

    @functools.wraps(task)
    def wrapped(cfg: DictConfig) -> tuple[dict, dict]:
        output_dir = Path(cfg.paths.output_dir)
        try:
            return task(cfg)
        except BaseException as e:
            if isinstance(e, CompresslabError):
                log.error(f"Job failed: {e}")  # a user error: the message says what to fix, no traceback
            elif not isinstance(e, KeyboardInterrupt):
                log.exception("Job failed")
            atomic_write_json(
                output_dir / FAILURE_FILE,
                {
                    "error": f"{type(e).__name__}: {e}",
                    "traceback": traceback.format_exc(),
                },
            )
            raise
        finally:
            log.info(f"Output dir: {output_dir}")
            _finish_wandb()

    return wrapped


def _finish_wandb() -> None:
    import sys

    if "wandb" in sys.modules:
        import wandb

        if wandb.run is not None:
            log.info("Closing wandb run")
            wandb.finish()


def apply_extras(cfg: DictConfig) -> None:
    """Optional niceties before a job: silence known-noisy warnings, print the config tree."""
    extras = cfg.get("extras")
    if not extras:
        return
    if extras.get("ignore_warnings"):
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=".*set_vital.*")
        warnings.filterwarnings("ignore", message=".*LeafSpec.*")
    if extras.get("print_config"):
        print_config_tree(cfg, resolve=True)


def instantiate_group(group: DictConfig | None, kind: type) -> list[Any]:
    """Instantiate every entry of a config group (callbacks, loggers) that has a ``_target_``.

    An entry set to null (``callbacks.model_checkpoint=null``) simply drops out.
    """
    objs: list[Any] = []
    if not group:
        return objs
    if not isinstance(group, DictConfig):
        raise TypeError(
            f"expected a config group mapping names to {kind.__name__} configs, got {type(group)}"
        )
    for name, conf in group.items():
        if isinstance(conf, DictConfig) and "_target_" in conf:
            obj = hydra.utils.instantiate(conf)
            if not isinstance(obj, kind):
                raise TypeError(f"'{name}' built a {type(obj).__name__}, not a {kind.__name__}")
            objs.append(obj)
    return objs


def instantiate_callbacks(cfg: DictConfig | None) -> list[Callback]:
    return instantiate_group(cfg, Callback)


def instantiate_loggers(cfg: DictConfig | None) -> list[Logger]:
    return instantiate_group(cfg, Logger)


def write_run_summary(
    output_dir: str | Path,
    metrics: dict[str, Any],
    measures: dict[str, Any],
    cfg: DictConfig,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``metrics.json``: final metrics, measurements and the resolved config (atomically).

    This file is the only thing ``compresslab-table`` and the review notebook read.
    """
    summary = {
        "task_name": cfg.get("task_name"),
        "metrics": {k: _to_float(v) for k, v in sorted(metrics.items())},
        "measure": measures,
        "config": OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False),
        **(extra or {}),
    }
    path = atomic_write_json(Path(output_dir) / METRICS_FILE, summary)
    atomic_write_text(Path(output_dir) / "config_resolved.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    return path


def print_test_accuracies(metrics: dict[str, Any]) -> None:
    """Print ``test…/acc = x.xxxx`` lines (what `make train` shows and scripts grep)."""
    for key in sorted(k for k in metrics if k.startswith("test") and k.endswith("/acc")):
        print(f"{key} = {float(metrics[key]):.4f}")


def read_run_summary(run_dir: str | Path) -> dict[str, Any]:
    """Read a run's ``metrics.json``."""
    return json.loads((Path(run_dir) / METRICS_FILE).read_text())


def _to_float(v: Any) -> Any:
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def get_metric_value(metrics: dict[str, Any], name: str | None) -> float | None:
    """The value a Hydra sweeper optimises (``optimized_metric``), with a clear error when it is not logged."""
    if not name:
        return None
    if name not in metrics:
        raise KeyError(
            f"optimized_metric '{name}' was not logged; logged metrics: {sorted(metrics)}. "
            "Fix: set optimized_metric to one of them."
        )
    return float(metrics[name])

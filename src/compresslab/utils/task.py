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

from compresslab.utils.checkpoint import RUN_CONFIG
from compresslab.utils.errors import ConfigError, find_user_error
from compresslab.utils.io import atomic_write_json, atomic_write_text
from compresslab.utils.logging import FILE_ONLY, config_summary, get_logger, print_config_tree
from compresslab.utils.run_dir import RunDirError, job_id
from compresslab.utils.run_kind import debug_reasons

log = get_logger(__name__)

METRICS_FILE = "metrics.json"
FAILURE_FILE = "failed.json"


def task_wrapper(
    task: Callable[[DictConfig], tuple[dict, dict]],
) -> Callable[[DictConfig], tuple[dict, dict]]:
    """Run a job so that a failure is recorded once and never leaks into the next job of a multirun.

    - W&B: ``wandb.finish()`` runs in ``finally``, so job N+1 of a sweep never logs into job N's run.
    - On an exception, ``failed.json`` (error and traceback) is written atomically to the run directory, the
      error is logged once and the exception is re-raised marked as reported (the entry point then exits 1
      without printing it again). A user error (:class:`CompresslabError`, also when Hydra's ``instantiate``
      wrapped it) shows its message only; its traceback goes to the run's log file and ``failed.json``.
      ``metrics.json`` is written only by a job that finished. A refusal to overwrite a finished run
      (:class:`RunDirError`) writes nothing into that run's folder.
    """

    @functools.wraps(task)
    def wrapped(cfg: DictConfig) -> tuple[dict, dict]:
        output_dir = Path(cfg.paths.output_dir)
        try:
            return task(cfg)
        except BaseException as e:
            user = find_user_error(e)
            if isinstance(e, KeyboardInterrupt):
                log.error("Job interrupted")
            elif user is not None:
                log.error(f"{type(user).__name__}: {user}")
                log.info(f"Traceback:\n{traceback.format_exc()}", extra=FILE_ONLY)
            else:
                log.exception(f"Job failed: {type(e).__name__}: {e}")
            if not isinstance(user, RunDirError):
                atomic_write_json(
                    output_dir / FAILURE_FILE,
                    {
                        "error": f"{type(user or e).__name__}: {user or e}",
                        "traceback": traceback.format_exc(),
                    },
                )
            mark_reported(e)
            raise
        finally:
            log.info(f"Output dir: {output_dir}")
            _finish_wandb()

    return wrapped


def mark_reported(exc: BaseException) -> None:
    """Flag an exception whose message is already on the console (the entry point exits 1 quietly)."""
    exc.compresslab_reported = True  # type: ignore[attr-defined]


def was_reported(exc: BaseException) -> bool:
    return bool(getattr(exc, "compresslab_reported", False))


def _finish_wandb() -> None:
    import sys

    if "wandb" in sys.modules:
        import wandb

        if wandb.run is not None:
            log.info("Closing wandb run")
            wandb.finish()


def apply_extras(cfg: DictConfig) -> None:
    """Before a job: silence known noise (``extras.ignore_warnings``), print the config tree only when asked
    (``extras.print_config=true``; it is always in ``config_resolved.yaml``)."""
    extras = cfg.get("extras") or {}
    if extras.get("ignore_warnings"):
        silence_known_warnings()
    if extras.get("print_config"):
        print_config_tree(cfg, resolve=True)


def log_run_line(cfg: DictConfig) -> None:
    """One line saying what runs, whether tables will count it, and where it writes."""
    reasons = debug_reasons(cfg)
    kind = f"not a real run ({', '.join(reasons)}): tables skip it" if reasons else "real run"
    log.info(f"{config_summary(cfg)} | {kind} | {cfg.paths.output_dir}")


def silence_known_warnings() -> None:
    """Warnings that say nothing about the user's run: data-loader worker counts on small CPU runs, third-party
    deprecations, W&B settings we do not control, Lightning's hints about logging intervals."""
    for message in (
        ".*does not have many workers.*",
        ".*set_vital.*",
        ".*LeafSpec.*",
        ".*smaller than the logging interval.*",
        ".*anonymous setting has no effect.*",
        ".*Total length of .* across ranks is zero.*",
    ):
        warnings.filterwarnings("ignore", message=message)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)


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
    reasons = debug_reasons(cfg)
    summary = {
        "task_name": cfg.get("task_name"),
        "run": {"id": job_id(), "real": not reasons, "debug_reasons": reasons},
        "metrics": {k: _to_float(v) for k, v in sorted(metrics.items())},
        "measure": measures,
        "config": OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False),
        **(extra or {}),
    }
    write_resolved_config(output_dir, cfg)
    return atomic_write_json(Path(output_dir) / METRICS_FILE, summary)


def write_resolved_config(output_dir: str | Path, cfg: DictConfig) -> Path:
    """``config_resolved.yaml``: the full config of the run (written at start, and again with the summary)."""
    return atomic_write_text(Path(output_dir) / RUN_CONFIG, OmegaConf.to_yaml(cfg, resolve=True))


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


def get_metric_value(metrics: dict[str, Any], name: str | None, trained: bool = True) -> float | None:
    """The value a Hydra sweeper optimises (``optimized_metric``).

    Demanded only when the run trained something: an evaluation-only run (``train=false``) returns it when it
    was logged and None otherwise. Raises a :class:`ConfigError` naming the logged metrics when a training run
    did not log it.
    """
    if not name:
        return None
    if name not in metrics:
        if not trained:
            return None
        raise ConfigError(
            "optimized_metric",
            name,
            f"a metric the run logged: {', '.join(sorted(metrics)) or 'none'}",
            "set optimized_metric to one of them (or optimized_metric=null).",
        )
    return float(metrics[name])

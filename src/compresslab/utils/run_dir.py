"""Where a run writes: one folder per launch, fixed per-row folders for real runs only, finished runs protected.

Three rules, applied before Hydra creates the run directory (:class:`RunDirCallback`, registered in
``conf/hydra/default.yaml``) and again by the entry points for each job of a multirun:

1. **Unique per launch, or named.** A plain run's directory ends in :func:`run_id` — the launch time plus a
   random suffix (or the SLURM job and step of a multi-task ``srun``, so that its ranks share one folder) — so two
   launches in the same second never share a folder. An experiment whose runs later stages find by path names
   them (``paths.run_name``) and gets the same folder on every launch. One rule for both, in
   ``conf/hydra/default.yaml`` (``run_group`` defaults to ``task_name``; resolvers :func:`run_leaf`,
   :func:`sweep_root`)::

       plain run   <log_dir>/<run_group>/runs/<run id>     (multirun: …/multiruns/<run id>/<job number>)
       named run   <log_dir>/<run_group>/<run_name>/seed<seed>[/<run_step>]      (each multirun job alike)

2. **Non-real runs write elsewhere.** A run that :func:`~compresslab.utils.run_kind.debug_reasons` flags
   (``debug=…``, ``fast_dev_run``, ``limit_*_batches``, ``overfit_batches``) and that trains something gets
   ``paths.log_dir=<log_dir>/debug``: every folder it writes *and* every predecessor it looks up (teachers, ICT
   phases) moves under ``logs/debug/``, so a chain of smoke runs works end to end and never touches the fixed
   per-row folders (``logs/hpmkd/teachers/tabular_wine/seed0``) that tables read. An evaluation-only run
   (``train=false``) keeps looking up real runs but never writes into an experiment's fixed folder: it writes
   under ``<log_dir>/eval_only/<that folder>/<run id>``. A folder given on the command line
   (``hydra.run.dir=…``) is always honoured.
3. **Finished real runs are never overwritten.** A launch whose folder holds a finished real run refuses, naming
   the folder and the override to use; the same command with ``ckpt_path=<that folder>/checkpoints/…`` (a resume of
   a finished run) says the run is finished and exits 0 without writing anything.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from compresslab.utils.errors import CompresslabError
from compresslab.utils.run_kind import debug_reasons

METRICS_FILE = "metrics.json"
DEBUG_ROOT = "debug"
EVAL_ONLY_ROOT = "eval_only"

_RUN_ID: str | None = None


def run_id() -> str:
    """This launch's identity: ``<YYYY-mm-dd_HH-MM-SS>_<6 hex>``, or ``slurm<job>.<step>`` for the ranks of one
    multi-task SLURM step (they must share a folder). Fixed for the life of the process."""
    global _RUN_ID
    if _RUN_ID is None:
        job = os.environ.get("SLURM_JOB_ID")
        if job and int(os.environ.get("SLURM_NTASKS", "1") or 1) > 1:
            _RUN_ID = f"slurm{job}.{os.environ.get('SLURM_STEP_ID', '0')}"
        else:
            _RUN_ID = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{secrets.token_hex(3)}"
    return _RUN_ID


def run_leaf(name: str | None, seed: int | None, step: str | None, plain: Any) -> str:
    """``${run_leaf:<run_name>,<seed>,<run_step>,<plain>}``: a named run's folder inside its group,
    ``<run_name>/seed<seed>[/<run_step>]``, or ``plain`` (``runs/<run id>``, a sweep's job number) when
    ``run_name`` is null."""
    if name is None:
        return str(plain)
    return f"{name}/seed{seed}" + (f"/{step}" if step is not None else "")


def sweep_root(group_dir: str, name: str | None, launch: str) -> str:
    """``${sweep_root:<log_dir>/<run_group>,<run_name>,<run id>}``: a multirun's folder — the group itself for
    named runs (each job goes to its named folder), ``<group>/multiruns/<run id>`` for plain ones."""
    return group_dir if name is not None else f"{group_dir}/multiruns/{launch}"


def register_resolvers() -> None:
    """``${run_id:}``, ``${run_leaf:…}`` and ``${sweep_root:…}`` in configs (idempotent). ``run_id`` is cached in
    the config, as Hydra's ``${now:}``: the jobs of a multirun are composed from the master config's cache, so a
    job run in another process (joblib, submitit) still resolves the master's sweep folder."""
    if not OmegaConf.has_resolver("run_id"):
        OmegaConf.register_new_resolver("run_id", run_id, use_cache=True)
    for name, resolver in (("run_leaf", run_leaf), ("sweep_root", sweep_root)):
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)


class RunDirError(CompresslabError):
    """A launch would overwrite a finished real run."""


class FinishedRun(Exception):  # noqa: N818 - a signal, not an error
    """The launch resumes a run that already finished: nothing to do."""

    def __init__(self, run_dir: Path, summary: dict[str, Any]) -> None:
        self.run_dir, self.summary = run_dir, summary
        super().__init__(finished_message(run_dir, summary))


# ------------------------------------------------------------------------------------------------- the rules


def trains(cfg: Any) -> bool:
    """Whether the run fits anything (``train`` true); evaluation-only runs keep the real predecessors."""
    try:
        return bool(cfg.get("train", False))
    except AttributeError:
        return False


def redirected_log_dir(log_dir: str | Path) -> str:
    """``<log_dir>/debug`` (idempotent: a log dir already inside a debug tree stays)."""
    log_dir = Path(log_dir)
    return str(log_dir if DEBUG_ROOT in log_dir.parts else log_dir / DEBUG_ROOT)


def eval_only_dir(fixed: str | Path, log_dir: str | Path) -> str:
    """Where an evaluation-only run of a fixed-folder experiment writes: ``<log_dir>/eval_only/<rel>/<run id>``."""
    fixed, log_dir = Path(fixed).absolute(), Path(log_dir).absolute()
    try:
        rel = fixed.relative_to(log_dir)
    except ValueError:
        rel = Path(fixed.name)
    return str(log_dir / EVAL_ONLY_ROOT / rel / run_id())


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    """A run directory's ``metrics.json`` (None when absent or unreadable)."""
    try:
        return json.loads((run_dir / METRICS_FILE).read_text())
    except (OSError, ValueError):
        return None


def is_finished_real_run(summary: dict[str, Any] | None) -> bool:
    """A ``metrics.json`` that tables count: written by a finished real run."""
    if not summary:
        return False
    run = summary.get("run")
    if isinstance(run, dict) and "real" in run:
        return bool(run["real"])
    return not debug_reasons(
        summary.get("config") or {}
    )  # metrics.json written before runs recorded their kind


def _headline(summary: dict[str, Any]) -> str:
    metrics = summary.get("metrics") or {}
    shown = [
        f"{k}={v:.4f}" for k, v in sorted(metrics.items()) if k.endswith("/acc") and isinstance(v, float)
    ]
    return ", ".join(shown[:3]) or "no accuracy logged"


def finished_message(run_dir: Path, summary: dict[str, Any]) -> str:
    return (
        f"{run_dir} holds a finished run ({_headline(summary)}); nothing to do, nothing rewritten. "
        f"To test its checkpoint again: compresslab-eval ckpt_path={run_dir}/checkpoints/last.ckpt"
    )


def _inside(path: Any, folder: Path) -> bool:
    if not path:
        return False
    try:
        return Path(str(path)).absolute().is_relative_to(folder.absolute())
    except (OSError, ValueError):
        return False


def check_run_dir(cfg: Any, run_dir: str | Path) -> None:
    """Refuse to write into a folder that holds a finished real run.

    Raises:
        FinishedRun: the launch resumes that run (``ckpt_path`` inside it): nothing to do.
        RunDirError: any other launch; the message names the folder and the overrides to use instead.
    """
    run_dir = Path(run_dir)
    summary = read_summary(run_dir)
    if not is_finished_real_run(summary):
        return
    assert summary is not None
    if trains(cfg) and _inside(cfg.get("ckpt_path"), run_dir):
        raise FinishedRun(run_dir, summary)
    raise RunDirError(
        f"{run_dir} holds a finished real run ({_headline(summary)}); refusing to overwrite it. "
        f"Fix: run elsewhere with hydra.run.dir=<new folder> (multirun: hydra.sweep.dir=<new folder>), "
        f"or delete {run_dir} to redo it; to test it again: compresslab-eval "
        f"ckpt_path={run_dir}/checkpoints/last.ckpt"
    )


# ------------------------------------------------------------------------------------------- Hydra callback


def _given_on_command_line(config: DictConfig, key: str) -> bool:
    overrides = list(config.hydra.overrides.hydra) + list(config.hydra.overrides.task)
    return any(o.lstrip("+~").split("=", 1)[0] == key for o in overrides)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def plan(config: DictConfig, *, multirun: bool) -> None:
    """Apply rule 2 to a composed (master) config in place; rule 3 for a single run."""
    reasons = debug_reasons(config)
    dir_key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    with read_write(config), open_dict(config):
        if reasons and trains(config):
            new = redirected_log_dir(config.paths.log_dir)
            if new != config.paths.log_dir:
                config.paths.log_dir = new
                if multirun:  # each job is composed again from these overrides
                    task = [o for o in config.hydra.overrides.task if not o.startswith("paths.log_dir=")]
                    config.hydra.overrides.task = [*task, f"paths.log_dir={_quote(new)}"]
        elif reasons and not _given_on_command_line(config, dir_key):
            fixed = str(OmegaConf.select(config, dir_key))
            if run_id() not in fixed:
                OmegaConf.update(config, dir_key, eval_only_dir(fixed, config.paths.log_dir))
    if not multirun:
        check_run_dir(config, OmegaConf.select(config, "hydra.run.dir"))


class RunDirCallback(Callback):
    """Hydra callback: decides the run directory before Hydra creates it (see the module docstring).

    ``on_run_start`` sees the very config that ``run_job`` then uses; ``on_multirun_start`` runs before the
    sweeper reads the task overrides that every job is composed from. Hydra turns an exception raised by a
    callback into a warning, so the outcome leaves as ``SystemExit`` (0: finished run, 1: refused).
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        try:
            plan(config, multirun=False)
        except FinishedRun as done:
            print(done, file=sys.stderr)
            raise SystemExit(0) from None
        except RunDirError as refused:
            print(f"Error: {type(refused).__name__}: {refused}", file=sys.stderr)
            raise SystemExit(1) from None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        plan(config, multirun=True)


def job_run_dir() -> Path | None:
    """The output directory of the current Hydra job (None outside Hydra)."""
    if not HydraConfig.initialized():
        return None
    return Path(HydraConfig.get().runtime.output_dir)


def job_id() -> str:
    """``<run id>`` for a single run, ``<run id>/<job number>`` for a job of a multirun."""
    if HydraConfig.initialized():
        hc = HydraConfig.get()
        if str(hc.mode) == "RunMode.MULTIRUN":
            return f"{run_id()}/{hc.job.num}"
    return run_id()

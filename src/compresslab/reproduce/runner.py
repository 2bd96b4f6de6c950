"""Run what a reproduction is missing: skip done runs, resume partial ones from ``last.ckpt``, show progress.

Each run is its own process (output in ``<run dir>/reproduce.log``), so a killed reproduction loses at most the runs
in flight, and those resume from their last checkpoint. A stage's runs are launched up to ``jobs`` at a time; a
stage starts when the one before it has finished. Two launchers start that process:

- ``subprocess`` (default): ``python -m compresslab.train <overrides>``, a fresh interpreter per run;
- ``fork`` (default of ``--smoke``): this process imports :mod:`compresslab.train` once and forks a child per run
  that calls the console script's ``main()`` with the same argv. The child is the same CLI run (Hydra's run-dir
  callback, logging, exit codes), minus the ~10 s of importing torch and Lightning again: that dominates a
  two-step smoke run. The parent never runs torch code, so the child starts with nothing initialised.

A timed stage (its wall time is a table cell) is always a fresh ``--multirun`` subprocess.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from compresslab.reproduce.identity import (
    LAST_CKPT,
    LAUNCH_FILE,
    METRICS_FILE,
    Finding,
    FinishedRuns,
    RunState,
    count_states,
    find_state,
    read_json,
)
from compresslab.reproduce.plan import Plan, Stage
from compresslab.reproduce.runs import PlannedRun, Settings, quoted
from compresslab.utils.errors import CompresslabError
from compresslab.utils.io import atomic_write_json

LOG_FILE = "reproduce.log"
LAUNCHERS = ("subprocess", "fork")
NO_TABLE = "(no table: runs later stages start from)"


class ReproduceError(CompresslabError):
    """A reproduction cannot go on (a conflicting run dir, a failed run)."""


# ------------------------------------------------------------------------------------------------ assessment


def assess(runs: list[PlannedRun], log_dir: Path) -> None:
    """Set ``finding`` (done / partial / missing / conflict) on every run."""
    finished = FinishedRuns(log_dir)
    for run in runs:
        if run.stage.timed is not None:
            record = read_json(run.run_dir / METRICS_FILE) or {}
            done = (record.get("reproduce") or {}).get("identity") == run.identity
            run.finding = Finding(RunState.DONE if done else RunState.MISSING, run.run_dir)
        else:
            run.finding = find_state(run.run_dir, run.identity, run.config, run.fixed_dir, finished)


def _state(run: PlannedRun) -> RunState:
    assert run.finding is not None, "assess() first"
    return run.finding.state


def by_table(runs: list[PlannedRun]) -> dict[str, list[PlannedRun]]:
    """Runs grouped by ``paper.table`` in plan order; predecessors without a table last."""
    groups: dict[str, list[PlannedRun]] = {}
    for run in runs:
        groups.setdefault(run.table or NO_TABLE, []).append(run)
    if NO_TABLE in groups:
        groups[NO_TABLE] = groups.pop(NO_TABLE)
    return groups


def _rel(path: Path | None, log_dir: Path) -> str:
    if path is None:
        return "-"
    try:
        return str(path.relative_to(log_dir))
    except ValueError:
        return str(path)


def status_report(plan: Plan, runs: list[PlannedRun], log_dir: Path, limit: int = 8) -> str:
    """Per table: how many runs are done, partial, missing (and conflicting), naming the runs that are not done."""
    lines = [f"{plan.paper}: {len(runs)} runs under {log_dir}"]
    for table, group in by_table(runs).items():
        counts = count_states(map(_state, group))
        shown = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n or s is not RunState.CONFLICT)
        lines.append(f"  {table}: {shown}")
        todo = [r for r in group if _state(r) is not RunState.DONE]
        for run in todo[:limit]:
            assert run.finding is not None
            where = _rel(run.run_dir, log_dir)
            extra = f" ({run.finding.detail})" if run.finding.detail else ""
            lines.append(f"    {run.finding.state.value:8} {where}  [{run.label}]{extra}")
        if len(todo) > limit:
            lines.append(f"    … and {len(todo) - limit} more")
    total = count_states(map(_state, runs))
    lines.append("total: " + ", ".join(f"{n} {s.value}" for s, n in total.items()))
    return "\n".join(lines)


def check_conflicts(runs: list[PlannedRun], log_dir: Path) -> None:
    conflicts = [r for r in runs if _state(r) is RunState.CONFLICT]
    if conflicts:
        listed = "\n".join(f"  {r.run_dir}: {r.finding.detail if r.finding else ''}" for r in conflicts[:10])
        raise ReproduceError(
            f"{len(conflicts)} run dir(s) hold a finished run of another config (first differences shown):\n"
            f"{listed}\nFix: move these dirs out of {log_dir} (or delete them) to train them with the plan's "
            "config, or rerun with the overrides they were made with."
        )


# -------------------------------------------------------------------------------------------------- progress


def _fmt(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


@dataclass
class Progress:
    """Runs done out of the total, time elapsed, and an estimate of what is left from this session's pace."""

    total: int
    done: int
    started: float = field(default_factory=time.monotonic)
    finished_here: int = 0
    echo: Callable[[str], None] = print
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self, run: PlannedRun, seconds: float, ok: bool) -> None:
        with self._lock:
            self._tick(run, seconds, ok)

    def _tick(self, run: PlannedRun, seconds: float, ok: bool) -> None:
        if ok:
            self.done += 1
            self.finished_here += 1
        elapsed = time.monotonic() - self.started
        left = self.total - self.done
        pace = elapsed / self.finished_here if self.finished_here else None
        estimate = f"~{_fmt(pace * left)} left" if pace is not None and left else ("done" if not left else "")
        mark = "done" if ok else "FAILED"
        self.echo(
            f"[{self.done}/{self.total}] {mark} in {_fmt(seconds)}: {run.label} | elapsed {_fmt(elapsed)}"
            + (f" | {estimate}" if estimate else "")
        )


# ------------------------------------------------------------------------------------------------- execution


def train_args(run: PlannedRun, settings: Settings, resume: bool) -> list[str]:
    """The ``compresslab-train`` arguments of a run (after the program name)."""
    if run.stage.timed is not None:
        return ["--multirun", *settings.common, *run.overrides, *settings.extra,
                f"hydra.sweep.dir={quoted(run.run_dir / 'jobs')}", "hydra.sweep.subdir=${hydra.job.num}"]  # fmt: skip
    args = [*settings.common, *run.overrides, *settings.extra, f"hydra.run.dir={quoted(run.run_dir)}"]
    if resume:
        args.append(f"ckpt_path={quoted(run.run_dir / LAST_CKPT)}")
    return args


def train_command(run: PlannedRun, settings: Settings, resume: bool) -> list[str]:
    return [sys.executable, "-m", "compresslab.train", *train_args(run, settings, resume)]


def _stale_aside(run_dir: Path) -> Path:
    """Move an unfinished run's leftovers (checkpoints of another attempt) out of the way; returns the new path."""
    aside = run_dir.with_name(f"{run_dir.name}.unfinished-{datetime.now():%Y%m%d-%H%M%S}")
    run_dir.rename(aside)
    return aside


def _log_path(run: PlannedRun) -> Path:
    return run.run_dir / LOG_FILE if run.stage.timed is None else run.run_dir.parent / f"{run.stage.name}.log"


def _prepare(run: PlannedRun, echo: Callable[[str], None]) -> bool:
    """Make the run dir ready for a launch (leftovers moved aside, the launch identity written); whether the launch
    resumes from ``last.ckpt``."""
    resume = _state(run) is RunState.PARTIAL
    if run.stage.timed is not None and run.run_dir.exists():
        shutil.rmtree(run.run_dir)  # a timed sweep is redone whole: its time is one number
    elif not resume and run.run_dir.exists() and any(run.run_dir.iterdir()):
        echo(f"  {run.run_dir}: unfinished, not resumable; moved to {_stale_aside(run.run_dir).name}")
    run.run_dir.mkdir(parents=True, exist_ok=True)
    if run.stage.timed is None:
        atomic_write_json(
            run.run_dir / LAUNCH_FILE,
            {"config_hash": run.identity, "overrides": run.overrides, "started": datetime.now().isoformat()},
        )
    echo(f"  start {run.label}" + (" (resuming from last.ckpt)" if resume else "") + f" -> {run.run_dir}")
    return resume


def _conclude(run: PlannedRun, rc: int, seconds: float, echo: Callable[[str], None]) -> bool:
    """After the launch exited with ``rc``: a timed stage's ``metrics.json``; True when the run wrote its
    ``metrics.json``, else the log's tail is echoed."""
    if rc == 0 and run.stage.timed is not None:
        paper = {**run.config["paper"], "table": run.table, "row": run.row}
        atomic_write_json(
            run.run_dir / METRICS_FILE,
            {
                "metrics": {"time/sweep_s": seconds},
                "config": {"paper": {**paper, "scale": run.stage.timed.scale}},
                "reproduce": {"identity": run.identity, "overrides": run.overrides},
            },
        )
        echo(f"{run.row}: {seconds:.1f} s")
    ok = rc == 0 and (run.run_dir / METRICS_FILE).is_file()
    if not ok:
        log = _log_path(run)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.is_file() else ""
        echo(f"  FAILED (exit {rc}) {run.label}; log {log}:\n{tail}")
    return ok


def launch(run: PlannedRun, settings: Settings, echo: Callable[[str], None]) -> bool:
    """Run one planned run to its end in a ``compresslab-train`` subprocess; True when it wrote ``metrics.json``."""
    cmd = train_command(run, settings, _prepare(run, echo))
    start = time.monotonic()
    with open(_log_path(run), "a") as out:
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
    return _conclude(run, rc, time.monotonic() - start, echo)


# ------------------------------------------------------------------------------------------ forked launches


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)  # sys.exit("message"), as the interpreter would
    return 1


def _child(args: list[str], log: Path) -> None:
    """In a forked child: ``compresslab-train <args>`` with stdout and stderr appended to ``log``; never returns."""
    code = 1
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        # fresh text streams on the redirected descriptors (the parent's may be a pytest capture or a pipe)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        from compresslab.train import main
        from compresslab.utils import run_dir

        run_dir._RUN_ID = None  # a launch of its own, as in a fresh process
        # torch read its thread count when this process imported it, before the plan's env was applied
        threads = os.environ.get("OMP_NUM_THREADS", "")
        if threads.isdigit() and int(threads) > 0:
            import torch

            torch.set_num_threads(int(threads))
        sys.argv = ["compresslab-train", *args]
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
    except BaseException:  # noqa: BLE001 - the child reports and exits whatever happened
        traceback.print_exc()
        code = 1
    finally:
        try:
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def fork_launch(run: PlannedRun, settings: Settings, echo: Callable[[str], None]) -> int:
    """Start a run in a forked child (see the module docstring); returns the child's pid.

    Fork only from a process that has not run torch work yet (the ``compresslab-reproduce`` CLI): a child forked
    after torch's intra-op thread pool started can wait forever on a lock of a thread it did not inherit."""
    import compresslab.train  # noqa: F401 - imported once here, inherited by every child

    args = train_args(run, settings, _prepare(run, echo))
    log = _log_path(run)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _child(args, log)
    return pid


def _run_forked(
    runs: list[PlannedRun], settings: Settings, jobs: int, progress: Progress
) -> list[PlannedRun]:
    """``runs`` in forked children, ``jobs`` at a time, from this (single) thread; returns those that failed."""
    failed: list[PlannedRun] = []
    queue = list(runs)
    running: dict[int, tuple[PlannedRun, float]] = {}
    try:
        while queue or running:
            while queue and len(running) < max(jobs, 1):
                run = queue.pop(0)
                running[fork_launch(run, settings, progress.echo)] = (run, time.monotonic())
            pid, status = os.wait()
            if pid not in running:
                continue
            run, start = running.pop(pid)
            seconds = time.monotonic() - start
            ok = _conclude(run, os.waitstatus_to_exitcode(status), seconds, progress.echo)
            progress.tick(run, seconds, ok)
            if not ok:
                failed.append(run)
    finally:
        for pid in running:  # interrupted: the runs in flight go too (they resume from last.ckpt next time)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in running:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
    return failed


def run_stage(
    stage: Stage,
    runs: list[PlannedRun],
    settings: Settings,
    jobs: int,
    progress: Progress,
    launcher: str = "subprocess",
) -> list[PlannedRun]:
    """Launch ``runs`` (the stage's runs that are not done), ``jobs`` at a time; returns those that failed."""
    if launcher not in LAUNCHERS:
        raise ValueError(f"launcher {launcher!r}: expected one of {LAUNCHERS}")
    if launcher == "fork" and stage.timed is None:
        return _run_forked(runs, settings, jobs, progress)
    failed: list[PlannedRun] = []

    def one(run: PlannedRun) -> None:
        start = time.monotonic()
        ok = launch(run, settings, progress.echo)
        progress.tick(run, time.monotonic() - start, ok)
        if not ok:
            failed.append(run)

    if jobs <= 1:
        for run in runs:
            one(run)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, runs))
    return failed


def fresh_start(plan: Plan, runs: list[PlannedRun], log_dir: Path, echo: Callable[[str], None]) -> None:
    """The plan's ``fresh_start`` commands, only when no run of the reproduction is done or started."""
    if not plan.fresh_start or any(_state(r) is not RunState.MISSING or r.run_dir.exists() for r in runs):
        return
    bin_dir = Path(sys.executable).parent
    for command in plan.fresh_start:
        argv = [c.replace("<log_dir>", str(log_dir)) for c in command]
        if argv[0].startswith("compresslab-"):
            argv[0] = str(bin_dir / argv[0])
        echo(f"fresh start: {' '.join(argv)}")
        subprocess.run(argv, check=True)


def reproduce(
    plan: Plan,
    runs: list[PlannedRun],
    settings: Settings,
    jobs: int,
    echo: Callable[[str], None] = print,
    launcher: str = "subprocess",
) -> None:
    """Run every run that is not done, stage by stage. Raises :class:`ReproduceError` when a stage had failures
    (the stages after it depend on it)."""
    check_conflicts(runs, settings.log_dir)
    counts = count_states(map(_state, runs))
    echo(
        f"{plan.paper}: {len(runs)} runs, {counts[RunState.DONE]} done, {counts[RunState.PARTIAL]} partial "
        f"(resumed), {counts[RunState.MISSING]} to train; log dir {settings.log_dir}"
    )
    fresh_start(plan, runs, settings.log_dir, echo)
    progress = Progress(total=len(runs), done=counts[RunState.DONE], echo=echo)
    for stage in plan.stages:
        todo = [r for r in runs if r.stage is stage and _state(r) is not RunState.DONE]
        if not todo:
            continue
        echo(f"stage {stage.name}: {len(todo)} run(s)")
        failed = run_stage(stage, todo, settings, stage.jobs or jobs, progress, launcher)
        if failed:
            raise ReproduceError(
                f"stage {stage.name}: {len(failed)} run(s) failed ("
                + ", ".join(str(r.run_dir) for r in failed)
                + f"); the stages after it need them. Fix the cause (see {LOG_FILE} in each dir) and run the same "
                "command again: finished runs are skipped."
            )
    echo(f"{plan.paper}: all {len(runs)} runs done in {_fmt(time.monotonic() - progress.started)}")


def write_tables(plan: Plan, log_dir: Path, results_dir: Path | None, smoke: bool) -> int:
    """``compresslab-table <plan tables>`` over the log dir; for a smoke into ``<log_dir>/results`` (every
    table is built and written from the smoke's runs, results/ is not touched)."""
    from compresslab.tables.cli import main as table_main

    if not plan.tables:
        return 0
    args = [*plan.tables, "--log-dir", str(log_dir), "--quiet"]
    if smoke:
        args += ["--results-dir", str(results_dir or log_dir / "results"), "--overwrite"]
    elif results_dir is not None:
        args += ["--results-dir", str(results_dir)]
    rc = table_main(args)
    if smoke and rc == 0:
        print(f"smoke: {plan.paper} tables build ({', '.join(plan.tables)})")
    return rc


def summary_json(runs: list[PlannedRun]) -> str:
    """Machine-readable status: table -> state -> count."""
    return json.dumps(
        {t: {s.value: n for s, n in count_states(map(_state, g)).items()} for t, g in by_table(runs).items()}
    )

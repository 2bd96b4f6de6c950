"""compresslab-reproduce: plans expand as Hydra multiruns do, run identity ignores only volatile keys, --status
counts a half-finished log dir right, and a killed reproduction resumes to the tables of an uninterrupted one."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lightning.pytorch import Callback

from compresslab.reproduce import cli
from compresslab.reproduce.identity import LAST_CKPT, LAUNCH_FILE, config_hash, config_identity
from compresslab.reproduce.plan import expand, load_plan, select_stages, slug
from compresslab.reproduce.runs import plan_runs, settings_for
from compresslab.utils.errors import ConfigError
from compresslab.utils.hydra_app import PROJECT_ROOT

#: a two-stage plan of tiny digits runs, feeding hpmkd_main rows (a table that builds instantly)
TINY_PLAN = """
paper: tiny
description: two stages of tiny digits runs
tables: [hpmkd_main]
vars: {{seeds: "1,2"}}
overrides: [logger=csv, extras.print_config=false, callbacks.rich_progress_bar=null, callbacks.model_summary=null,
            measure.enabled=false, trainer.max_epochs={epochs}, paper.name=hpmkd, paper.table=hpmkd_main,
            paper.scale=reduced{extra}]
stages:
  - name: teacher
    run: [seed=0, paper.row=breast_cancer/teacher]
  - name: students
    run: [seed=<seeds>, paper.row=breast_cancer/kd]
"""
#: a callback that holds each epoch (after the first) for a moment: the slow test's kill window after last.ckpt
PACE = ",+callbacks.pace._target_=tests.test_reproduce.PaceEpochs"


class PaceEpochs(Callback):
    """Sleep at the start of every epoch but the first (the previous epoch's last.ckpt is on disk by then)."""

    def on_train_epoch_start(self, trainer, pl_module) -> None:  # noqa: ANN001
        if trainer.current_epoch > 0:
            time.sleep(1.5)


def write_plan(path: Path, epochs: int = 1, extra: str = "") -> Path:
    path.write_text(TINY_PLAN.format(epochs=epochs, extra=extra))
    return path


# --------------------------------------------------------------------------------------------------- fast


def test_expand_orders_runs_as_hydra_multirun():
    runs = expand(["experiment=x", "seed=1,2", "model.loss=ce,poe"])
    assert runs == [
        ["experiment=x", "seed=1", "model.loss=ce"],
        ["experiment=x", "seed=1", "model.loss=poe"],
        ["experiment=x", "seed=2", "model.loss=ce"],
        ["experiment=x", "seed=2", "model.loss=poe"],
    ]
    assert slug(["seed=1", "model.net.downsample=none"]) == "seed-1__downsample-none"


def test_identity_ignores_paths_and_logging_but_not_training_keys():
    base = {
        "paths": {"log_dir": "/a/logs", "output_dir": "/a/logs/x/seed1", "root_dir": "/a"},
        "trainer": {"max_epochs": 3, "default_root_dir": "/a/logs/x/seed1"},
        "model": {"net": {"run_dir": "/a/logs/teacher"}},
        "logger": {"csv": {"save_dir": "/a/logs/x/seed1"}},
        "ckpt_path": None,
    }
    moved = {
        "paths": {"log_dir": "/b/logs", "output_dir": "/b/logs/x/seed1", "root_dir": "/b"},
        "trainer": {"max_epochs": 3, "default_root_dir": "/b/logs/x/seed1"},
        "model": {"net": {"run_dir": "/b/logs/teacher"}},
        "logger": None,
        "ckpt_path": "/b/logs/x/seed1/checkpoints/last.ckpt",
    }
    assert config_hash(base) == config_hash(moved)
    assert config_hash(base) != config_hash({**base, "trainer": {**base["trainer"], "max_epochs": 4}})


def test_a_target_that_moved_behind_an_alias_keeps_its_runs_identity():
    """Runs written before compresslab.models.ConvNet moved to compresslab.nets.small stay done, not conflicts."""

    def cfg(target: str) -> dict:
        return {"trainer": {"max_epochs": 3}, "model": {"net": {"_target_": target, "width": 8}}}

    old, new = cfg("compresslab.models.ConvNet"), cfg("compresslab.nets.small.ConvNet")
    other, gone = cfg("compresslab.nets.small.MLP"), cfg("compresslab.removed.Net")
    assert config_hash(old) == config_hash(new)
    assert config_hash(new) != config_hash(other)
    assert config_identity(gone)["model"]["net"]["_target_"] == "compresslab.removed.Net"


def test_unknown_plan_and_variable_name_the_fix(tmp_path: Path):
    with pytest.raises(ConfigError, match="compresslab-reproduce --list"):
        load_plan("no_such_paper")
    bad = tmp_path / "bad.yaml"
    bad.write_text("paper: bad\nstages:\n  - name: a\n    run: [seed=<sedes>]\n")
    plan = load_plan(str(bad))
    with pytest.raises(ConfigError, match="add 'sedes' to the plan's vars"):
        plan_runs(plan, settings_for(plan, tmp_path, False, None, [], []))


def test_every_packaged_plan_loads():
    for name in ("learngene", "hpmkd", "srnet", "rnnpool_table2", "cross"):
        plan = load_plan(name)
        assert plan.paper == name and plan.stages and plan.tables, name
        assert (PROJECT_ROOT / "scripts" / f"reproduce_{name}.sh").is_file()


def test_stage_selection_keeps_matching_stages_and_drops_the_fresh_start():
    plan = load_plan("hpmkd")
    assert plan.fresh_start
    picked = select_stages(plan, "time_*, teachers")
    assert [s.name for s in picked.stages] == [
        "teachers",
        "time_kd",
        "time_hpmkd",
        "time_cold",
        "time_warm",
        "time_no_ppp",
        "time_sweep_sequential",
        "time_sweep_joblib",
    ]  # plan order, not pattern order
    assert picked.fresh_start == [] and len(plan.stages) == 19  # the packaged plan is left as it was
    with pytest.raises(ConfigError, match="'tme'.*time_kd.*Fix: tme matches no stage"):
        select_stages(plan, "tme")


def test_status_counts_a_half_finished_log_dir(tmp_path: Path, capsys):
    """Teacher done; student seed 1 partial (started, last.ckpt); student seed 2 missing; then the student seed 2 run
    found finished elsewhere in the log dir (an earlier launch) counts as done; a finished run of another config in
    the teacher's dir is a conflict that --status reports and a reproduction refuses to overwrite."""
    logs, plan_file = tmp_path / "logs", write_plan(tmp_path / "tiny.yaml")
    plan = load_plan(str(plan_file))
    teacher, seed1, seed2 = plan_runs(plan, settings_for(plan, logs, False, None, [], []))

    def finish(run_dir: Path, config: dict) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "metrics.json").write_text(json.dumps({"metrics": {"test/acc": 0.5}, "config": config}))

    finish(teacher.run_dir, teacher.config)
    (seed1.run_dir / LAST_CKPT).parent.mkdir(parents=True)
    (seed1.run_dir / LAST_CKPT).write_bytes(b"")
    (seed1.run_dir / LAUNCH_FILE).write_text(json.dumps({"config_hash": seed1.identity}))

    def status() -> str:
        assert cli.main([str(plan_file), "--status", "--log-dir", str(logs)]) == 0
        return capsys.readouterr().out

    out = status()
    assert "hpmkd_main: 1 done, 1 partial, 1 missing" in out
    assert "total: 1 done, 1 partial, 1 missing, 0 conflict" in out
    assert cli.main([str(plan_file), "--status", "--log-dir", str(logs), "--stages", "teacher"]) == 0
    assert "total: 1 done, 0 partial, 0 missing, 0 conflict" in capsys.readouterr().out

    elsewhere = logs / "train" / "multiruns" / "2026-01-01_00-00-00" / "0"
    moved = json.loads(json.dumps(seed2.config).replace(str(seed2.run_dir), str(elsewhere)))
    moved["paths"]["output_dir"] = str(elsewhere)
    finish(elsewhere, moved)
    assert "total: 2 done, 1 partial, 0 missing, 0 conflict" in status()

    other = json.loads(json.dumps(teacher.config))
    other["trainer"]["max_epochs"] = 7
    finish(teacher.run_dir, other)
    out = status()
    assert "1 conflict" in out and "trainer.max_epochs: 7 != 1" in out
    assert cli.main([str(plan_file), "--log-dir", str(logs)]) == 1  # refuses before running anything
    assert "move these dirs out of" in capsys.readouterr().err


def test_fork_launcher_reports_a_failed_run_and_its_log(tmp_path: Path):
    """``--launcher fork``: a run that fails (here before any work: a batch larger than the training split) exits
    non-zero in its child, its CLI error lands in its reproduce.log, and the stage fails naming the run dir.

    Run as the user runs it, from a fresh ``compresslab-reproduce`` process: forking this pytest process, whose
    earlier tests started torch's intra-op thread pool, can leave the child waiting on a lock no thread will free
    (it hung for 600 s in a full-suite run)."""
    plan_file = tmp_path / "bad_batch.yaml"
    plan_file.write_text(
        "paper: bad_batch\ntables: []\noverrides: [logger=csv, extras.print_config=false, measure.enabled=false]\n"
        "stages:\n  - name: one\n    run: [seed=0, data.batch_size=5000]\n"
    )
    logs = tmp_path / "logs"
    proc = subprocess.run(
        [sys.executable, "-m", "compresslab.reproduce.cli", str(plan_file), "--log-dir", str(logs),
         "--launcher", "fork"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 1, (out[-2000:], err[-2000:])
    run_dir = logs / "reproduce" / "bad_batch" / "one" / "default"
    log = (run_dir / "reproduce.log").read_text()
    assert "Error:" in log and "5000" in log, log[-2000:]  # the CLI's one message, in the run's own log
    assert "FAILED (exit 1) one: (one run)" in out and "5000" in out  # the tail of that log, echoed
    assert f"stage one: 1 run(s) failed ({run_dir})" in err
    assert not (run_dir / "metrics.json").exists()


# --------------------------------------------------------------------------------------------------- slow


def _reproduce(plan: Path, logs: Path, results: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "WANDB_MODE": "offline", "OMP_NUM_THREADS": "1"}
    args = [str(plan), "--log-dir", str(logs), "--results-dir", str(results), *extra]
    return subprocess.Popen(
        [sys.executable, "-m", "compresslab.reproduce.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill takes the training child too
    )


def _finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-4000:]
    return out


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_killed_reproduction_resumes_to_the_uninterrupted_tables(tmp_path: Path, capsys):
    """The uninterrupted reference runs with ``--launcher fork``, the killed and resumed one with the default
    (a subprocess per run): their tables must agree too."""
    plan = write_plan(tmp_path / "tiny.yaml", epochs=3, extra=PACE)
    ref_out = _finish(_reproduce(plan, tmp_path / "ref", tmp_path / "ref_results", "--launcher", "fork"))
    assert "[3/3] done" in ref_out

    logs = tmp_path / "logs"
    proc = _reproduce(plan, logs, tmp_path / "results")
    teacher = logs / "reproduce" / "tiny" / "teacher" / "default"  # no swept override: one run
    student = logs / "reproduce" / "tiny" / "students" / "seed-1"
    deadline = time.monotonic() + 600
    try:
        while not ((teacher / "metrics.json").is_file() and (student / LAST_CKPT).is_file()):
            assert proc.poll() is None and time.monotonic() < deadline, (
                "the reproduction ended before the kill"
            )
            time.sleep(0.05)
    finally:
        with contextlib.suppress(
            ProcessLookupError
        ):  # the machine goes away: runner and training child at once
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert not (student / "metrics.json").exists()
    teacher_mtime = (teacher / "metrics.json").stat().st_mtime_ns

    capsys.readouterr()
    assert cli.main([str(plan), "--status", "--log-dir", str(logs)]) == 0
    assert "total: 1 done, 1 partial, 1 missing, 0 conflict" in capsys.readouterr().out

    out = _finish(_reproduce(plan, logs, tmp_path / "results"))
    assert "3 runs, 1 done, 1 partial (resumed), 1 to train" in out
    assert out.count("  start ") == 2 and "students: seed=1 (resuming from last.ckpt)" in out
    assert (teacher / "metrics.json").stat().st_mtime_ns == teacher_mtime  # the finished run was not rerun
    resumed = json.loads((student / "metrics.json").read_text())
    assert resumed["global_step"] == 3 * (1257 // 64)  # 3 epochs in all, the first ones before the kill

    def table(results: Path, log_dir: Path) -> str:
        return (results / "hpmkd_main.md").read_text().replace(str(log_dir), "<logs>")

    assert table(tmp_path / "results", logs) == table(tmp_path / "ref_results", tmp_path / "ref")
    assert "breast_cancer" in table(tmp_path / "results", logs)

"""Hydra multiruns: a failing job neither stops nor pollutes the others; one W&B run per job; joblib runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.slow

FAST = [
    "measure.latency=false",
    "extras.print_config=false",
    "callbacks.rich_progress_bar=null",
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=3",
]


def _wandb_run_ids(job: Path) -> list[str]:
    return sorted(p.name.rsplit("-", 1)[-1] for p in (job / "wandb").glob("offline-run-*"))


def test_failing_job_does_not_stop_or_pollute_the_sweep(tmp_path: Path):
    sweep = tmp_path / "sweep"
    # job 1 fails halfway through training (after W&B started); jobs 0 and 2 never reach their step (3 steps)
    proc = run_cli(
        "train",
        "-m",
        "+callbacks.fail.step=98,2,99",
        "logger=many",
        f"hydra.sweep.dir={sweep}",
        "+callbacks.fail._target_=tests.helpers.callbacks.FailAtStep",
        *FAST,
        check=False,
    )
    assert proc.returncode != 0  # the sweep reports the failure...
    assert "injected failure at step 2" in proc.stderr + proc.stdout
    failed = [j for j in sorted(sweep.iterdir()) if (j / "failed.json").exists()]
    ok = [j for j in sorted(sweep.iterdir()) if (j / "metrics.json").exists()]
    assert len(failed) == 1 and len(ok) == 2  # ...but every other job ran to the end
    assert not (failed[0] / "metrics.json").exists()
    err = json.loads((failed[0] / "failed.json").read_text())
    assert "injected failure" in err["error"] and "Traceback" in err["traceback"]
    ids = [_wandb_run_ids(j) for j in ok]
    assert all(len(i) == 1 for i in ids) and ids[0] != ids[1]  # one W&B run per job, none shared
    for j in ok:  # each job's summary reflects its own config
        m = json.loads((j / "metrics.json").read_text())
        assert m["config"]["callbacks"]["fail"]["step"] in (98, 99) and m["global_step"] == 3


def test_seed_sweep_with_joblib_launcher(tmp_path: Path):
    sweep = tmp_path / "sweep"
    run_cli(
        "train", "-m", "hydra/launcher=joblib", "seed=1,2", "logger=csv", f"hydra.sweep.dir={sweep}", *FAST
    )
    seeds = sorted(
        json.loads((j / "metrics.json").read_text())["config"]["seed"] for j in sweep.iterdir() if j.is_dir()
    )
    assert seeds == [1, 2]

"""Hydra multiruns: a failing job neither stops nor pollutes the others; one W&B run per job; joblib runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import run_cli

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


def test_optuna_search_over_a_kd_baseline(tmp_path: Path):
    """hparams_search=kd_optuna on HPM-KD's tabular KD baseline: 3 trials, each its own run, the best recorded."""
    import yaml

    from tests.helpers.cli import QUIET_CLI
    from tests.helpers.compose import compose_cfg
    from tests.helpers.precision import write_fake_run

    logs, search = tmp_path / "logs", tmp_path / "search"
    for seed in range(
        3
    ):  # the three teachers the experiment loads (untrained: the search only needs a value)
        rel = f"hpmkd/teachers/tabular_breast_cancer/seed{seed}"
        teacher = compose_cfg(
            "train",
            ["experiment=hpmkd/tabular_teacher", f"seed={seed}", f"paths.log_dir={logs}"],
            tmp_path / "c",
        )
        write_fake_run(logs / rel, teacher)
    run_cli(
        "train",
        "experiment=hpmkd/tabular",
        "model=hpmkd/kd",
        "hparams_search=kd_optuna",
        "hydra.sweeper.n_trials=3",
        "hydra.sweeper.sampler.n_startup_trials=2",
        f"hydra.sweep.dir={search}",
        f"paths.log_dir={logs}",
        "trainer.max_epochs=2",
        *QUIET_CLI,
    )
    trials = sorted(p for p in search.iterdir() if p.name.startswith("trial"))
    assert [t.name for t in trials] == ["trial0", "trial1", "trial2"]
    summaries = [json.loads((t / "metrics.json").read_text()) for t in trials]
    points = {(s["config"]["model"]["temperature"], s["config"]["model"]["alpha"]) for s in summaries}
    assert len(points) == 3  # three different (T, α) draws, one run each
    for s in summaries:
        m = s["config"]["model"]
        assert 1.0 <= m["temperature"] <= 10.0 and 0.1 <= m["alpha"] <= 0.9
        assert 1e-4 <= m["optimizer"]["lr"] <= 1e-2
        assert s["config"]["paper"]["table"] == ""  # a trial never counts as a table cell
    best = yaml.safe_load((search / "optimization_results.yaml").read_text())
    values = [s["metrics"]["val/acc_best"] for s in summaries]
    assert best["best_value"] == pytest.approx(max(values))
    winner = summaries[values.index(max(values))]["config"]["model"]
    assert best["best_params"]["model.temperature"] == pytest.approx(winner["temperature"])
    assert best["best_params"]["model.alpha"] == pytest.approx(winner["alpha"])

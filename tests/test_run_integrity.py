"""Results integrity (issue 15) and eval-only / too-little-data runs (issue 14, items 5 and 6).

No run may clobber another's results: one folder per launch, non-real runs under ``logs/debug``, finished real
runs protected, resume of a finished run a no-op. Every user error prints one message; model and data that do
not fit fail before any work with both names.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

from compresslab.data import DataModule
from compresslab.data.base import DatasetSource, Splits
from compresslab.train import build, train
from compresslab.utils.errors import ConfigError
from compresslab.utils.run_dir import run_id
from compresslab.utils.run_kind import debug_reasons, is_real_run
from compresslab.utils.task import FAILURE_FILE, METRICS_FILE, get_metric_value
from tests.helpers.cli import QUIET_CLI, run_cli

#: a real run that takes seconds: the HPM-KD wine teacher (a fixed per-row folder) for one epoch
TEACHER = ["experiment=hpmkd/tabular_teacher", "data=tabular/wine", "seed=0", *QUIET_CLI]
ONE_EPOCH = ["trainer.max_epochs=1", "callbacks.model_summary=null"]


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path → sha256): a folder is untouched iff this is unchanged."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def console(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


# --------------------------------------------------------------------------------------------- run identity


def test_two_simultaneous_launches_get_separate_folders(tmp_path: Path):
    logs = tmp_path / "logs"
    cmd = [sys.executable, "-m", "compresslab.train", "experiment=wine_mlp", f"paths.log_dir={logs}"]
    cmd += [*QUIET_CLI, *ONE_EPOCH]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    procs = [subprocess.Popen([*cmd, f"seed={s}"], **pipes) for s in (11, 12)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
    runs = sorted((logs / "train" / "runs").iterdir())
    assert len(runs) == 2, runs
    seeds = {json.loads((r / METRICS_FILE).read_text())["config"]["seed"] for r in runs}
    assert seeds == {11, 12}
    for r in runs:
        summary = json.loads((r / METRICS_FILE).read_text())
        assert summary["run"]["real"] is True and summary["run"]["id"] == r.name
        rows = (r / "csv" / "metrics.csv").read_text().splitlines()
        assert len(rows) == len(set(rows))  # one run's CSV, not two interleaved


def test_run_id_is_fixed_per_process_and_unique_per_launch():
    assert run_id() == run_id()
    other = subprocess.run(
        [sys.executable, "-c", "from compresslab.utils.run_dir import run_id; print(run_id())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert other != run_id() and len(other.rsplit("_", 1)[-1]) == 6


def test_debug_run_leaves_the_real_fixed_folder_untouched_and_finished_runs_are_protected(tmp_path: Path):
    logs = tmp_path / "logs"
    common = [*TEACHER, f"paths.log_dir={logs}"]
    run_cli("train", *common, *ONE_EPOCH)
    real = logs / "hpmkd" / "teachers" / "tabular_wine" / "seed0"
    before = tree_digest(real)
    assert is_real_run(json.loads((real / METRICS_FILE).read_text())["config"])

    # a fast-dev-run of the same row goes under logs/debug and says what it was
    no_callbacks = [c for c in common if not c.startswith("callbacks.")]  # debug runs have none
    run_cli("train", *no_callbacks, "debug=fdr")
    debug = json.loads(
        (logs / "debug" / "hpmkd" / "teachers" / "tabular_wine" / "seed0" / METRICS_FILE).read_text()
    )
    assert debug["run"]["real"] is False and "trainer.fast_dev_run=True" in debug["run"]["debug_reasons"]
    assert not is_real_run(debug["config"])

    # a second real run refuses, with one message naming the folder and the override
    again = run_cli("train", *common, *ONE_EPOCH, check=False)
    assert again.returncode == 1
    errors = [line for line in console(again) if "RunDirError" in line]
    assert len(errors) == 1 and str(real) in errors[0] and "hydra.run.dir=" in errors[0]
    assert "Traceback" not in again.stdout + again.stderr

    # resuming the finished run says so and exits 0
    resume = run_cli("train", *common, *ONE_EPOCH, f"ckpt_path={real}/checkpoints/last.ckpt")
    assert "holds a finished run" in resume.stderr

    # a multirun job into the same folder refuses too (its metrics and checkpoints stay)
    sweep = run_cli("train", "-m", *common, *ONE_EPOCH, check=False)
    assert sweep.returncode != 0 and "refusing to overwrite" in sweep.stdout + sweep.stderr
    after = tree_digest(real)
    assert {k: v for k, v in after.items() if not k.startswith((".hydra", "hpmkd_teacher.log"))} == {
        k: v for k, v in before.items() if not k.startswith((".hydra", "hpmkd_teacher.log"))
    }
    assert not (real / FAILURE_FILE).exists()


def _composed(overrides: list[str], logs: Path):
    from hydra import compose, initialize_config_dir

    from compresslab.utils.hydra_app import prepare_hydra

    with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
        return compose("train", [*TEACHER[:3], f"paths.log_dir={logs}", *overrides], return_hydra_config=True)


def test_plan_moves_debug_trees_and_eval_only_runs_out_of_fixed_folders(tmp_path: Path):
    from omegaconf import OmegaConf

    from compresslab.utils.run_dir import plan

    fixed = tmp_path / "hpmkd" / "teachers" / "tabular_wine" / "seed0"
    real = _composed([], tmp_path)
    plan(real, multirun=False)
    assert Path(OmegaConf.select(real, "hydra.run.dir")) == fixed

    fdr = _composed(["+trainer.fast_dev_run=true"], tmp_path)
    plan(fdr, multirun=False)
    assert fdr.paths.log_dir == str(tmp_path / "debug")  # outputs and predecessor look-ups alike
    assert Path(OmegaConf.select(fdr, "hydra.run.dir")) == tmp_path / "debug" / fixed.relative_to(tmp_path)

    sweep = _composed(["+trainer.fast_dev_run=true"], tmp_path)
    plan(sweep, multirun=True)  # every job is composed from the task overrides: the redirect is one of them
    assert sweep.hydra.overrides.task[-1] == f"paths.log_dir='{tmp_path / 'debug'}'"

    evaluation = _composed(["train=false"], tmp_path)
    plan(evaluation, multirun=False)
    where = Path(OmegaConf.select(evaluation, "hydra.run.dir"))
    assert where.parent == tmp_path / "eval_only" / fixed.relative_to(tmp_path) and where.name == run_id()

    explicit = _composed(["train=false", f"hydra.run.dir={tmp_path / 'mine'}"], tmp_path)
    plan(explicit, multirun=False)
    assert Path(OmegaConf.select(explicit, "hydra.run.dir")) == tmp_path / "mine"  # the user's choice stands


def test_debug_reasons():
    assert debug_reasons({"task_name": "train", "train": True, "trainer": {"max_epochs": 3}}) == []
    assert debug_reasons({"trainer": {"limit_train_batches": 1}}) == ["trainer.limit_train_batches=1"]
    assert debug_reasons({"trainer": {"limit_train_batches": 1.0}}) == []
    assert debug_reasons({"train": False, "trainer": {}}) == ["train=false"]
    assert debug_reasons({"task_name": "debug", "trainer": {"overfit_batches": 3}}) == [
        "task_name=debug",
        "trainer.overfit_batches=3",
    ]


# ------------------------------------------------------------------------------------------- one message


def test_mistyped_override_key_prints_one_message_with_the_close_match(tmp_path: Path):
    proc = run_cli("train", "data.bath_size=32", f"paths.log_dir={tmp_path}", check=False)
    assert proc.returncode == 1
    lines = console(proc)
    assert len(lines) == 1, lines
    assert "data.bath_size" in lines[0] and "32" in lines[0] and "did you mean 'data.batch_size'?" in lines[0]
    assert not any(tmp_path.iterdir())  # nothing was created


def test_unknown_config_option_suggests_the_close_one(tmp_path: Path):
    proc = run_cli("train", "data=digitz", f"paths.log_dir={tmp_path}", check=False)
    assert proc.returncode == 1
    assert console(proc) == [line for line in console(proc) if "did you mean 'data=digits'?" in line]


def test_bad_value_prints_its_error_once_and_the_traceback_goes_to_the_run(tmp_path: Path):
    run = tmp_path / "run"
    proc = run_cli("train", "data.batch_size=abc", f"hydra.run.dir={run}", *QUIET_CLI, check=False)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert out.count("config key 'data.batch_size'") == 1 and "Traceback" not in out
    assert len(console(proc)) <= 4, console(proc)  # what runs, the error, the output dir
    failed = json.loads((run / FAILURE_FILE).read_text())
    assert "data.batch_size" in failed["error"] and "Traceback" in failed["traceback"]
    assert "Traceback" in (run / "train.log").read_text()
    assert not (run / METRICS_FILE).exists()


# -------------------------------------------------------------------------------------- model / data fit


def test_model_that_does_not_fit_the_data_fails_before_work_with_the_pair_named(train_cfg):
    with pytest.raises(ConfigError, match="(?i)PairClassifier and data digits do not fit"):
        build(train_cfg(["model=srnet/finetune"]))
    with pytest.raises(ConfigError, match="(?i)MLP and data digits do not fit.*mat1 and mat2"):
        build(train_cfg(["model=mlp"]))


def test_measure_cli_names_the_pair_and_measures_text_models():
    proc = run_cli("measure.cli", "model=mlp", check=False)
    assert proc.returncode == 1 and len(console(proc)) == 1
    assert "model MLP and data" in proc.stderr and "do not fit" in proc.stderr
    ok = run_cli("measure.cli", "model=srnet/finetune", "data=nlu/synthetic_nli", "measure.latency=false")
    result = json.loads(ok.stdout.strip().splitlines()[-1])
    assert result["input_shape"] == [32] and result["madds"] > 0 and result["model"] == "PairClassifier"


# ------------------------------------------------------------------------ eval-only runs, too little data


def test_eval_only_run_tests_every_split_and_exits_0(tmp_path: Path):
    run = tmp_path / "run"
    proc = run_cli("train", "train=false", f"hydra.run.dir={run}", *QUIET_CLI)
    assert "test/acc = " in proc.stdout
    summary = json.loads((run / METRICS_FILE).read_text())
    assert "test/acc" in summary["metrics"] and "val/acc_best" not in summary["metrics"]
    assert summary["run"]["real"] is False and summary["run"]["debug_reasons"] == ["train=false"]
    assert get_metric_value(summary["metrics"], "val/acc_best", trained=False) is None
    with pytest.raises(ConfigError, match="optimized_metric"):
        get_metric_value(summary["metrics"], "val/acc_best", trained=True)


def test_missing_optimized_metric_fails_with_failed_json_and_no_metrics(train_cfg):
    cfg = train_cfg(["trainer.max_epochs=1", "trainer.limit_train_batches=2", "optimized_metric=val/nope"])
    with pytest.raises(ConfigError, match="optimized_metric"):
        train(cfg)
    out = Path(cfg.paths.output_dir)
    assert (out / FAILURE_FILE).is_file() and not (out / METRICS_FILE).exists()


def test_training_split_smaller_than_a_batch_fails_before_any_work(train_cfg):
    cfg = train_cfg(["data=tabular/iris", "model=mlp", "data.batch_size=512"])
    with pytest.raises(ConfigError) as err:
        build(cfg)
    text = str(err.value)
    assert "data.batch_size" in text and "512" in text and "drop_last" in text
    size = int(text.split("has ")[1].split(" samples")[0])
    assert f"data.batch_size={size}" in text  # the fix: the largest batch the split fills


class _EmptyTrain(DatasetSource):
    name = "empty"
    num_classes = 2
    input_shape = (3,)

    def load(self) -> Splits:
        x, y = torch.zeros(4, 3), torch.zeros(4, dtype=torch.long)
        return Splits(train=TensorDataset(x[:0], y[:0]), val={"val": TensorDataset(x, y)})


def test_empty_training_split_fails_naming_it():
    dm = DataModule(_EmptyTrain(), num_classes=2, input_shape=[3], batch_size=2)
    with pytest.raises(ConfigError, match="training split of empty is empty.*train=false"):
        dm.check_train_split(world_size=1)


class _CountingLoads(_EmptyTrain):
    name = "counting"

    def __init__(self) -> None:
        self.loads = 0

    def load(self) -> Splits:
        self.loads += 1
        x, y = torch.zeros(4, 3), torch.zeros(4, dtype=torch.long)
        return Splits(train=TensorDataset(x, y), val={"val": TensorDataset(x, y)})


@pytest.mark.parametrize(("world_size", "loads"), [(1, 1), (2, 2)])
def test_the_train_split_check_loads_the_data_once_in_one_process(world_size: int, loads: int):
    """One process keeps the splits the check read for ``fit``; DDP leaves them for the ranks to load."""
    source = _CountingLoads()
    dm = DataModule(source, num_classes=2, input_shape=[3], batch_size=2)
    dm.check_train_split(world_size=world_size)
    dm.setup("fit")
    assert len(dm.train_dataloader().dataset) == 4
    assert source.loads == loads


# ------------------------------------------------------------------------------------- eval and the SOM


def test_eval_rebuilds_data_and_model_from_the_runs_own_config(tmp_path: Path):
    run = tmp_path / "run"
    run_cli("train", "experiment=wine_mlp", f"hydra.run.dir={run}", *QUIET_CLI, *ONE_EPOCH)
    trained = json.loads((run / METRICS_FILE).read_text())
    out = tmp_path / "eval"
    ckpt = trained["best_checkpoint"]
    proc = run_cli("eval", f"ckpt_path={ckpt}", f"hydra.run.dir={out}", "logger=csv", "measure.enabled=false")
    assert "from the run's own config" in proc.stdout
    evaluated = json.loads((out / METRICS_FILE).read_text())
    assert evaluated["metrics"]["test/acc"] == pytest.approx(trained["metrics"]["test/acc"], abs=1e-6)
    assert evaluated["config"]["data"]["dataset"]["name"] == "wine"


def test_som_cli_finds_the_store_the_runs_use(tmp_path: Path, monkeypatch):
    from compresslab.hpmkd.memory import SOM_ENV
    from compresslab.hpmkd.som_cli import runs_store

    monkeypatch.delenv(SOM_ENV, raising=False)
    monkeypatch.setenv("COMPRESSLAB_LOG_DIR", str(tmp_path))
    assert runs_store() == tmp_path / "hpmkd_som"
    monkeypatch.setenv(SOM_ENV, str(tmp_path / "elsewhere"))
    assert runs_store() == tmp_path / "elsewhere"

"""End-to-end runs on the embedded data: metrics.json contents, eval from a checkpoint, safe checkpoint loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from compresslab.eval import evaluate
from compresslab.train import train
from compresslab.utils.task import METRICS_FILE
from tests.helpers.compose import compose_cfg


def test_train_writes_metrics_json(train_cfg):
    cfg = train_cfg(["trainer.max_epochs=2", "trainer.limit_train_batches=4"])
    metrics, objs = train(cfg)
    out = Path(cfg.paths.output_dir)
    summary = json.loads((out / METRICS_FILE).read_text())
    assert set(summary) >= {"metrics", "measure", "config", "best_checkpoint"}
    assert {"val/acc", "val/acc_best", "test/acc", "test/loss", "train/loss_epoch"} <= set(summary["metrics"])
    assert summary["metrics"]["test/acc"] == pytest.approx(float(metrics["test/acc"]))
    # the default ConvNet (1→16→32→64, GroupNorm, 10-way head) counted in closed form
    convs = [(1, 16), (16, 32), (32, 64)]
    params = sum(9 * i * o for i, o in convs) + sum(2 * o for _, o in convs) + 64 * 10 + 10
    assert summary["measure"]["params"]["total"] == params
    madds = 9 * (1 * 16 * 32 * 32 + 16 * 32 * 16 * 16 + 32 * 64 * 8 * 8) + 64 * 10
    assert summary["measure"]["madds"] == madds
    assert summary["measure"]["peak_ram_bytes"] == 16 * 32 * 32 * 4  # first conv output
    assert summary["config"]["data"]["batch_size"] == 64
    assert (out / "csv" / "metrics.csv").is_file() and (out / "checkpoints" / "last.ckpt").is_file()
    assert not list(out.glob(".*.tmp"))  # atomic writes leave nothing behind


def test_checkpoints_load_with_weights_only(train_cfg):
    cfg = train_cfg(
        ["trainer.max_epochs=1", "trainer.limit_train_batches=2", "test=false", "measure.enabled=false"]
    )
    train(cfg)
    ckpt = torch.load(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True)
    assert "state_dict" in ckpt and "net.head.2.weight" in ckpt["state_dict"]


def test_eval_reproduces_test_metrics_from_checkpoint(train_cfg, tmp_path: Path):
    cfg = train_cfg(["trainer.max_epochs=2", "trainer.limit_train_batches=5", "measure.enabled=false"])
    metrics, _ = train(cfg)
    best = json.loads((Path(cfg.paths.output_dir) / METRICS_FILE).read_text())["best_checkpoint"]
    ecfg = compose_cfg(
        "eval", [f"ckpt_path={best}", "extras.print_config=false", "measure.enabled=false"], tmp_path / "eval"
    )
    emetrics, _ = evaluate(ecfg)
    assert float(emetrics["test/acc"]) == pytest.approx(float(metrics["test/acc"]), abs=1e-6)


def test_eval_requires_existing_checkpoint(tmp_path: Path):
    from compresslab.utils.errors import ConfigError

    ecfg = compose_cfg("eval", ["ckpt_path=/no/such.ckpt", "extras.print_config=false"], tmp_path / "eval")
    with pytest.raises(ConfigError, match="ckpt_path"):
        evaluate(ecfg)
    assert (tmp_path / "eval" / "failed.json").is_file()


def test_tabular_mlp_trains(train_cfg):
    metrics, _ = train(train_cfg(["experiment=wine_mlp", "logger=csv", "measure.latency=false"]))
    assert float(metrics["test/acc"]) >= 0.9  # wine is near-linearly separable

"""W&B review: an offline run carries grouping, paper tags, measurements and the paper's reference value."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compresslab.tables.cli import main as table_main
from tests.helpers.cli import run_cli
from tests.helpers.wandb_records import run_summary

pytestmark = pytest.mark.slow


def _run_file(root: Path) -> Path:
    files = sorted(root.glob("**/offline-run-*/run-*.wandb"))
    assert len(files) == 1, files
    return files[0]


def test_offline_run_has_paper_tags_measures_and_reference(tmp_path):
    out = tmp_path / "run"
    run_cli(
        "train",
        "experiment=rnnpool/table2_reduced",
        "model.net.downsample=rnnpool",
        f"hydra.run.dir={out}",
        "logger=many",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1",
        "extras.print_config=false",
        "callbacks.rich_progress_bar=null",
    )
    info = run_summary(_run_file(out))
    assert info["group"] == "rnnpool_table2_reduced" and info["job_type"] == "run"
    assert {
        "paper:rnnpool",
        "table:rnnpool_table2",
        "row:rnnpool+last_layer_rnnpool=False",
        "scale:reduced",
    } <= set(info["tags"])
    summary = info["summary"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert summary["measure/params"] == metrics["measure"]["params"]["total"] > 0
    assert summary["measure/madds"] == metrics["measure"]["madds"] > 0
    assert summary["measure/peak_ram_mib"] == pytest.approx(metrics["measure"]["peak_ram_mib"])
    assert (
        summary["paper/reference/acc"] == 94.4 == metrics["paper_reference"]["acc"]
    )  # paper Table 2, RNNPool row
    assert "test/acc" in summary


def test_tables_are_logged_as_wandb_tables_and_images(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    assert (
        table_main(
            [
                "learngene_cost",
                "learngene_heatmap",
                "--quiet",
                "--wandb",
                "--log-dir",
                str(tmp_path),
                "--results-dir",
                str(tmp_path / "results"),
            ]
        )
        == 0
    )
    info = run_summary(_run_file(tmp_path))
    assert info["job_type"] == "tables"
    assert {"table/learngene_cost/_type", "table/learngene_heatmap/nrows"} <= info["history_keys"]
    assert os.path.exists(tmp_path / "results" / "README.md")

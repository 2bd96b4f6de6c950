"""notebooks/review.ipynb executes headless against a log directory (so it never rots)."""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from nbclient import NotebookClient

from compresslab.tables.cli import main as table_main
from compresslab.utils.hydra_app import PROJECT_ROOT

pytestmark = pytest.mark.slow


def test_review_notebook_executes_and_shows_runs(tmp_path, monkeypatch):
    run = tmp_path / "logs" / "lg" / "0"
    run.mkdir(parents=True)
    cfg = {
        "paper": {"table": "learngene_ict", "scale": "reduced"},
        "model": {"net": {"active": 2, "basis": "c"}},
    }
    (run / "metrics.json").write_text(json.dumps({"metrics": {"test/acc": 0.875}, "config": cfg}))
    monkeypatch.setenv("COMPRESSLAB_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("COMPRESSLAB_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert (
        table_main(
            [
                "learngene_ict",
                "learngene_init",
                "--quiet",
                "--log-dir",
                str(tmp_path / "logs"),
                "--results-dir",
                str(tmp_path / "results"),
            ]
        )
        == 0
    )
    nb = nbformat.read(PROJECT_ROOT / "notebooks" / "review.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text = "\n".join(
        o.get("text", "") + json.dumps(o.get("data", {}), ensure_ascii=False)
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "1 metrics.json" in text
    assert "87.5 ± 0.0 (n=1)" in text  # the ICT table's 2-learngene cell, from the run above
    assert "not generated yet — `compresslab-table rnnpool_table1`" in text
    assert "image/png" in text  # the plot of that run
    assert "**learngene_init_pareto**" in text and "1 Pareto figure(s)" in text
    # the claims, in the index and in the table
    assert "ICT accuracy rises with the number of learngenes" in text
    assert not any(
        o.get("output_type") == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert os.environ["COMPRESSLAB_LOG_DIR"].startswith(str(tmp_path))

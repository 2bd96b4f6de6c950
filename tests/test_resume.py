"""A run killed mid-epoch and resumed from last.ckpt ends with the metrics of an uninterrupted run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import QUIET_CLI, run_cli

pytestmark = pytest.mark.slow

COMMON = [*QUIET_CLI, "trainer.max_epochs=3", "seed=3"]
KILL = ["+callbacks.kill._target_=tests.helpers.callbacks.KillAtStep", "+callbacks.kill.step=27"]


def test_kill_mid_epoch_and_resume_matches_uninterrupted(tmp_path: Path):
    ref, crashed, resumed = tmp_path / "ref", tmp_path / "crashed", tmp_path / "resumed"
    run_cli("train", f"hydra.run.dir={ref}", *COMMON)
    proc = run_cli("train", f"hydra.run.dir={crashed}", *COMMON, *KILL, check=False)
    assert proc.returncode == -9  # SIGKILL: nothing was cleaned up
    assert not (crashed / "metrics.json").exists()
    last = crashed / "checkpoints" / "last.ckpt"
    assert last.is_file()
    import torch

    state = torch.load(last, weights_only=True)
    steps_per_epoch = 1257 // 64
    # killed at step 27, mid-way through epoch 2; last.ckpt is the end of epoch 1
    assert (state["global_step"], state["epoch"]) == (steps_per_epoch, 0)
    run_cli("train", f"hydra.run.dir={resumed}", f"ckpt_path={last}", *COMMON)
    a = json.loads((ref / "metrics.json").read_text())
    b = json.loads((resumed / "metrics.json").read_text())
    assert b["global_step"] == a["global_step"] == 3 * steps_per_epoch
    for key in ("val/acc", "val/loss", "val/acc_best", "test/acc", "test/loss"):
        assert b["metrics"][key] == pytest.approx(a["metrics"][key], abs=1e-6), key

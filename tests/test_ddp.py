"""2-process DDP on CPU (ddp_spawn, gloo) equals a 1-process run with the same global batch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import QUIET_CLI, run_cli

pytestmark = pytest.mark.slow

COMMON = [*QUIET_CLI, "trainer.max_epochs=2", "data.batch_size=64", "seed=7"]


def test_ddp_cpu_two_processes_equals_single_process(tmp_path: Path):
    runs = {}
    for name, trainer in (("single", "default"), ("ddp", "ddp_cpu")):
        out = tmp_path / name
        run_cli("train", f"trainer={trainer}", f"hydra.run.dir={out}", *COMMON)
        runs[name] = json.loads((out / "metrics.json").read_text())
    single, ddp = runs["single"], runs["ddp"]
    assert ddp["config"]["trainer"]["devices"] == 2 and ddp["config"]["trainer"]["strategy"] == "ddp_spawn"
    assert ddp["global_step"] == single["global_step"] == 2 * (1257 // 64)
    for key in ("val/acc", "test/acc"):  # the same predictions on every example
        assert ddp["metrics"][key] == pytest.approx(single["metrics"][key], abs=1e-4), key
    for key in (
        "val/loss",
        "test/loss",
    ):  # all-reduced means vs one mean: float summation order, 38 Adam steps
        assert ddp["metrics"][key] == pytest.approx(single["metrics"][key], rel=2e-4), key
    assert single["metrics"]["val/acc"] > 0.2  # above chance (0.1): it learned, so equality is not trivial

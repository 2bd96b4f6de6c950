"""The main job (`make train`): default config on the embedded digits data reaches ≥ 0.9 test accuracy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers.cli import run_cli

pytestmark = pytest.mark.slow


def test_default_config_reaches_090(tmp_path: Path):
    proc = run_cli("train", f"hydra.run.dir={tmp_path / 'run'}")
    printed = float(re.search(r"^test/acc = ([0-9.]+)$", proc.stdout, re.M).group(1))
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert printed >= 0.9
    assert summary["metrics"]["test/acc"] == pytest.approx(printed, abs=1e-4)
    assert list((tmp_path / "run" / "wandb").glob("offline-run-*"))  # W&B offline by default

"""Shared fixtures: composed Hydra configs pointed at tmp dirs, CLI runner, dataset fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from compresslab.utils.hydra_app import PROJECT_ROOT, prepare_hydra

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

FAST = [
    "extras.print_config=false",
    "callbacks.rich_progress_bar=null",
    "callbacks.model_summary=null",
    "measure.latency_repeats=2",
    "measure.latency_warmup=0",
]

#: CLI overrides for quick, quiet subprocess runs (CSV logs only, no measurement, no progress bar)
QUIET_CLI = [
    "logger=csv",
    "measure.enabled=false",
    "extras.print_config=false",
    "callbacks.rich_progress_bar=null",
]


def compose_cfg(
    config_name: str, overrides: list[str], output_dir: Path, with_hydra: bool = True
) -> DictConfig:
    """Compose a top-level config as the CLI would, with the run dir at ``output_dir``."""
    GlobalHydra.instance().clear()
    where = [f"hydra.run.dir={output_dir}", f"paths.output_dir={output_dir}", f"paths.work_dir={output_dir}"]
    with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
        cfg = compose(config_name=config_name, overrides=[*where, *overrides], return_hydra_config=with_hydra)
    if with_hydra:
        HydraConfig.instance().set_config(cfg)
        with open_dict(cfg):
            del cfg.hydra
    output_dir.mkdir(parents=True, exist_ok=True)
    return cfg


@pytest.fixture
def train_cfg(tmp_path: Path):
    """Factory: ``train_cfg(["data=digits", ...])`` → composed train config writing into tmp_path."""

    def make(overrides: list[str] | None = None, name: str = "train") -> DictConfig:
        return compose_cfg(name, ["logger=csv", *FAST, *(overrides or [])], tmp_path / "run")

    yield make
    GlobalHydra.instance().clear()


def run_cli(
    script: str,
    *args: str,
    cwd: Path | None = None,
    timeout: int = 600,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run ``python -m compresslab.<script> args`` in a subprocess (real CLI, real argv)."""
    full_env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        # the repository first (tests.* imports), then whatever the caller had (a source tree, carried packages)
        "PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p),
        **(env or {}),
    }
    proc = subprocess.run(
        [sys.executable, "-m", f"compresslab.{script}", *args],
        cwd=cwd or PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{script} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
            f"{proc.stderr[-5000:]}"
        )
    return proc

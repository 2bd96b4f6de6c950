"""Run a compresslab entry point in a subprocess: the real CLI with a real argv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from compresslab.utils.hydra_app import PROJECT_ROOT

#: CLI overrides for quick, quiet subprocess runs (CSV logs only, no measurement, no progress bar)
QUIET_CLI = [
    "logger=csv",
    "measure.enabled=false",
    "extras.print_config=false",
    "callbacks.rich_progress_bar=null",
]


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

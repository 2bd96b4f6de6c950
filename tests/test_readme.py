"""The README's first-hour commands run as written, top to bottom (issue 15), so the README cannot drift again.

Every command of the ```bash blocks of the sections below runs in order in one scratch folder whose ``logs/`` is
the log dir (the README's relative ``logs/…`` paths then point at it). ``compresslab-train`` lines get
``trainer.max_epochs=1 logger=csv`` appended: one short *real* epoch, so that chained steps (teacher → ICT phases →
recomposition → fine-tuning) find their predecessors' fixed folders exactly as a full run would. Lines that need
data or hardware this machine lacks (CIFAR, ImageNet, MNLI, GPUs, SLURM) or that other tests run (the reproduce
scripts: ``tests/test_experiments.py``; sweeps: ``tests/test_sweeps.py``) are skipped, each for a stated reason.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compresslab.utils.hydra_app import PROJECT_ROOT
from tests.helpers.learngene import check_ict_chain_and_export

README = PROJECT_ROOT / "README.md"

#: the sections whose commands run here (the embedded-data paths of a new user's first hour)
SECTIONS = ("Running experiments", "Learngene ViT")

#: line prefix / content → why it does not run here
SKIP = {
    "make ": "installs and runs the whole suite (what CI does)",
    "bash scripts/": "tests/test_experiments.py runs every reproduce script's --smoke",
    "python benchmarks/": "a timing benchmark, not a first-hour command",
    "experiment=learngene/imagenet": "full scale: ImageNet-1K and 4 GPUs",
    "experiment=learngene/finetune": "full scale: the ImageNet learngenes",
}

APPEND = ["trainer.max_epochs=1", "logger=csv"]

#: the main job (`make train`), run exactly as written: the default config on the embedded digits data must reach
#: 0.9 test accuracy, and log to W&B offline by default
MAIN_JOB = "compresslab-train"


def readme_commands(text: str, sections: tuple[str, ...] = SECTIONS) -> list[str]:
    """The shell commands of the ```bash blocks under the given ``## `` sections, comments stripped, in order."""
    commands: list[str] = []
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        if not section.startswith(sections):
            continue
        for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S):
            for line in block.splitlines():
                command = line.split(" #", 1)[0].strip()
                if command and not command.startswith("#"):
                    commands.append(command)
    return commands


def skip_reason(command: str) -> str | None:
    return next((why for key, why in SKIP.items() if command.startswith(key) or key in command), None)


def as_run(command: str, logs: Path) -> str:
    """The command with the test's overrides appended and the README's placeholders filled."""
    if "<run>" in command:  # the newest run of the default task that left a checkpoint
        ckpts = sorted(
            (logs / "train" / "runs").glob("*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime
        )
        assert ckpts, f"{command}: no run with a checkpoint under {logs / 'train' / 'runs'}"
        command = command.replace("logs/train/runs/<run>", str(ckpts[-1].parent.parent))
    if command.startswith("compresslab-train") and command != MAIN_JOB:
        command = " ".join(
            [command, *(a for a in APPEND if not (a.startswith("logger") and "debug=" in command))]
        )
    return command


def test_readme_commands_are_found_and_every_skip_is_deliberate():
    commands = readme_commands(README.read_text())
    assert "compresslab-train experiment=learngene/reduced_teacher" in commands
    assert any(c.startswith("compresslab-eval ckpt_path=") for c in commands)
    unknown = [c for c in commands if not c.startswith(("compresslab-", *SKIP)) and skip_reason(c) is None]
    assert not unknown, f"README commands this test does not know how to run: {unknown}"


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_readme_first_hour_commands_run_as_written(tmp_path: Path):
    logs = tmp_path / "logs"
    env = {
        **os.environ,
        "COMPRESSLAB_LOG_DIR": str(logs),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "WANDB_MODE": "offline",
        "WANDB_SILENT": "true",
        "OMP_NUM_THREADS": "1",
    }
    ran = []
    for command in readme_commands(README.read_text()):
        if skip_reason(command):
            continue
        line = as_run(command, logs)
        proc = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, (
            f"README command failed: {line}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
        ran.append(command)
        if command == MAIN_JOB:
            check_main_job(proc.stdout, logs)
    assert len(ran) >= 10, ran
    assert MAIN_JOB in ran
    # the chain really chained: the fine-tuning recomposed from the ICT run the README names
    assert (tmp_path / "vit_4L_2LG.pt").is_file()
    chain = logs / "learngene_reduced" / "ict_chebyshev" / "seed1"
    assert (chain / "phase4" / "metrics.json").is_file()
    # ... through the real trainer: frozen genes bit-identical, recomposition as a module and as a timm checkpoint
    check_ict_chain_and_export(chain, tmp_path / "recomposed")
    assert list((logs / "learngene_reduced_finetune" / "runs").glob("*/metrics.json"))
    # ... and the debug run of the first block went under logs/debug, where tables never look
    assert list((logs / "debug").rglob("metrics.json"))


def check_main_job(stdout: str, logs: Path) -> None:
    """The default run reached 0.9 test accuracy, printed it as its last result and wrote it to metrics.json."""
    printed = float(re.search(r"^test/acc = ([0-9.]+)$", stdout, re.M).group(1))
    (run,) = (logs / "train" / "runs").iterdir()  # the first command of the README: the only run so far
    summary = json.loads((run / "metrics.json").read_text())
    assert printed >= 0.9
    assert summary["metrics"]["test/acc"] == pytest.approx(printed, abs=1e-4)
    assert list((run / "wandb").glob("offline-run-*"))  # W&B offline by default

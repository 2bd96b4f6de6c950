"""Shared fixtures: composed Hydra configs pointed at tmp dirs, a tiny BERT checkpoint. Helpers (the CLI runner,
config composition, data writers) live in ``tests/helpers/``."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from tests.helpers.compose import FAST, compose_cfg

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# a run a test starts without its own log dir lands in a scratch folder of this process, never in the repository's
# logs/ (where the tables look), and two xdist workers never share one
_SCRATCH_LOGS = tempfile.mkdtemp(prefix="compresslab-test-logs-")
atexit.register(shutil.rmtree, _SCRATCH_LOGS, ignore_errors=True)
os.environ.setdefault("COMPRESSLAB_LOG_DIR", _SCRATCH_LOGS)

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `make test` runs two xdist workers on the two cores: one intra-op thread per worker and per child process
    # (the CLI runs, DDP ranks) so the workers do not oversubscribe the cores. Set before torch is imported.
    os.environ["OMP_NUM_THREADS"] = os.environ.get("COMPRESSLAB_TEST_THREADS", "1")

#: the longest tests (minutes each), longest first: under xdist they open the two workers' queues
LONGEST = (
    "tests/test_experiments.py",  # every experiment and reproduce smoke: ~10 min
    "tests/test_tables.py::test_regenerating_every_table",  # every table rebuilt: ~4 min
    "tests/test_readme.py::test_readme_first_hour",
    "tests/test_reproduce.py::test_killed_reproduction",
    "tests/test_learngene.py::test_ict_phase_under_ddp",
    "tests/test_ddp.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``-n 2 --dist worksteal`` (``make test``): xdist hands the first half of the list to one worker and the
    second half to the other, and an idle worker steals from the *end* of the other's queue. The longest tests are
    dealt alternately to the head of each half, so each worker starts on its share of them and neither ends on one."""
    if not hasattr(
        config, "workerinput"
    ):  # set in xdist workers only (they collect; the controller does not)
        return

    def rank(item: pytest.Item) -> int:
        return next((i for i, p in enumerate(LONGEST) if item.nodeid.startswith(p)), len(LONGEST))

    longest = sorted((i for i in items if rank(i) < len(LONGEST)), key=rank)
    rest = [i for i in items if rank(i) == len(LONGEST)]
    first, second = longest[0::2], longest[1::2]
    cut = max(0, len(items) // 2 - len(first))
    items[:] = [*first, *rest[:cut], *second, *rest[cut:]]


@pytest.fixture
def train_cfg(tmp_path: Path):
    """Factory: ``train_cfg(["data=digits", ...])`` → composed train config writing into tmp_path."""

    def make(overrides: list[str] | None = None, name: str = "train") -> DictConfig:
        return compose_cfg(name, ["logger=csv", *FAST, *(overrides or [])], tmp_path / "run")

    yield make
    GlobalHydra.instance().clear()


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    """A tiny BERT checkpoint directory with the MiniLM tokenizer (the synthetic task's vocabulary)."""
    from tests.helpers.srnet import save_tiny_bert  # transformers: imported only by the tests that use it

    return save_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))

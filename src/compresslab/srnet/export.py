"""Export an SRNet subnetwork as a standard transformers model directory.

``compresslab-srnet export <run dir> --out <dir>`` rebuilds the run's LightningModule from its
``config_resolved.yaml``, loads its selected checkpoint (``metrics.json``'s ``best_checkpoint``; frozen weights of a
mask-training run come back from the run it started from, as when the run itself restores it), bakes every mask
into its weight (``W ← m ⊙ W``: pruned weights are zeros; ``torch.nn.utils.parametrize.remove_parametrizations``
with ``leave_parametrized=True``), and writes

* ``<dir>/config.json`` + weights (``save_pretrained``) and the tokenizer, loadable with
  ``AutoModelForSequenceClassification.from_pretrained(<dir>)`` without compresslab;
* ``<dir>/sparsity.json`` (written atomically): the realised sparsity of every masked weight matrix, the overall
  one, the run's target and where it all came from.

Works for every SRNet run that holds masks: mask training (paradigms a and c, OOD upper bound), IMP and the
re-trained subnetworks of paradigm b.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from compresslab.srnet.masks import mask_state_dict, masks_of, realised_sparsity, remove_masks
from compresslab.srnet.module import MASK_FILE
from compresslab.srnet.nets import run_checkpoint
from compresslab.utils.checkpoint import load_checkpoint, load_run_config
from compresslab.utils.errors import ConfigError
from compresslab.utils.io import atomic_write_text

SPARSITY_FILE = "sparsity.json"


def load_run_module(run_dir: str | os.PathLike) -> tuple[nn.Module, Path, Any]:
    """The LightningModule of an SRNet run with its selected checkpoint loaded (eval mode, CPU), that checkpoint's
    path and the run's config."""
    from hydra.utils import instantiate

    run_dir = Path(run_dir)
    cfg = load_run_config(
        run_dir, fix="pass the directory of an SRNet mask-training, IMP or re-training run."
    )
    ckpt = run_checkpoint(run_dir, key="run_dir")
    module = instantiate(cfg.model)
    checkpoint = load_checkpoint(ckpt)
    module.on_load_checkpoint(checkpoint)  # mask runs: put back the frozen weights the checkpoint leaves out
    module.load_state_dict(checkpoint["state_dict"])
    return module.eval(), ckpt, cfg


def _write_json_atomic(obj: dict, path: Path) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2) + "\n")


def _check_against_mask_file(hf: nn.Module, run_dir: Path, ckpt: Path) -> None:
    """The checkpoint's masks are the run's ``best_mask.pt`` (both are the same checkpoint choice)."""
    path = run_dir / MASK_FILE
    if not path.is_file():
        return
    saved = torch.load(path, map_location="cpu", weights_only=True)
    for name, keep in mask_state_dict(hf).items():
        if name in saved and not torch.equal(saved[name], keep):
            raise ConfigError(
                "run_dir",
                str(run_dir),
                f"a checkpoint ({ckpt.name}) whose masks equal {MASK_FILE}",
                f"'{name}' differs: the run's checkpoint and mask file come from different selections; "
                "re-run its test stage or export from a run that finished.",
            )


def _save_tokenizer(cfg: Any, hf: nn.Module, out: Path) -> bool:
    from transformers import AutoTokenizer

    from compresslab.srnet.nets import pretrained_dir

    source = cfg.get("data", {}).get("dataset", {}).get("tokenizer") or pretrained_dir(
        cfg.model.net.get("pretrained")
    )
    try:
        AutoTokenizer.from_pretrained(str(source), local_files_only=True).save_pretrained(out)
    except (OSError, ValueError):
        return False
    return True


def export_run(run_dir: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Write the masked model of ``run_dir`` to ``out`` (module docstring); returns the ``sparsity.json`` content.

    Raises:
        ConfigError: ``run_dir`` is not a finished run, has no checkpoint, holds no masks, or its checkpoint and
            ``best_mask.pt`` disagree.
    """
    run_dir, out = Path(run_dir), Path(out)
    module, ckpt, cfg = load_run_module(run_dir)
    hf = module.hf
    if not masks_of(hf):
        raise ConfigError(
            "run_dir",
            str(run_dir),
            "an SRNet run with masks (mask training, IMP, or re-training with model.mask_file)",
            "this run trained a dense model: its checkpoint is the model; there is no subnetwork to export.",
        )
    _check_against_mask_file(hf, run_dir, ckpt)
    sparsity = realised_sparsity(hf)
    overall = sparsity.pop("overall")
    with torch.no_grad():
        remove_masks(hf)  # W ← m ⊙ W, plain parameters again
    out.mkdir(parents=True, exist_ok=True)
    hf.save_pretrained(out)
    tokenizer = _save_tokenizer(cfg, hf, out)
    target = cfg.model.get("sparsity", cfg.model.get("mask_sparsity"))
    report = {
        "run": str(run_dir.resolve()),
        "checkpoint": str(ckpt.resolve()),
        "model_class": type(hf).__name__,
        "target_sparsity": target,
        "overall_sparsity": overall,
        "masked_weights": {f"{name}.weight": value for name, value in sparsity.items()},
        "tokenizer": tokenizer,
    }
    _write_json_atomic(report, out / SPARSITY_FILE)
    return report


__all__ = ["SPARSITY_FILE", "export_run", "load_run_module"]

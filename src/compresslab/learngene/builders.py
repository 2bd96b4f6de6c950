"""Config-facing builders around :mod:`compresslab.learngene.decomposition`.

* :func:`recomposed` — ``model.net`` of a fine-tuning run: a ViT recomposed from a learngene run (Eq. 9), or a
  randomly initialised ViT of the same shape (the baseline of "learngene vs random initialisation").
* :func:`pretrained_vit` — ``model.net`` of a Pre-Fin fine-tuning run: the plain ViT of a distillation run on the
  ancestry task (the paper's "Pre-Fin" rows: pre-train, then fine-tune), with the downstream head.
* :func:`save_recomposed` / :func:`load_recomposed` — a recomposed model as a standard state-dict file plus a JSON
  description (``compresslab-recompose`` writes them).
* :func:`export_timm` — leave compresslab: a learngene model (an ICT/SCT run, or a ``const`` fine-tune) as a plain
  timm checkpoint, ``timm.create_model(name, **kwargs).load_state_dict(state, strict=True)`` (the
  ``compresslab-recompose --format timm`` output).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import timm
import torch
from torch import nn

from compresslab.learngene.decomposition import MODES, LearngeneViT, _check_positive, recompose
from compresslab.models.distill import load_run_net
from compresslab.utils.checkpoint import load_checkpoint
from compresslab.utils.errors import ConfigError, check_type
from compresslab.utils.io import atomic_torch_save, atomic_write_text

INITS = ("learngene", "random")


def load_learngene_run(run_dir: str | Path, checkpoint: str = "last") -> LearngeneViT:
    """The trained :class:`LearngeneViT` of a learngene run directory."""
    net = load_run_net(run_dir, checkpoint)
    if not isinstance(net, LearngeneViT):
        raise ConfigError(
            "run_dir",
            str(run_dir),
            "a run of a learngene model (model=learngene/*)",
            "point to an ICT/SCT run.",
        )
    return net


def recomposed(
    run_dir: str | Path,
    depth: int,
    k: int | None = None,
    mode: str = "free",
    init: str = "learngene",
    num_classes: int | None = None,
    checkpoint: str = "last",
    drop_path_rate: float = 0.0,
) -> nn.Module:
    """A ViT of ``depth`` blocks for fine-tuning, from the learngenes of ``run_dir``.

    Args:
        run_dir: a learngene run (its ``config_resolved.yaml`` and ``checkpoints/``).
        depth: L', the number of blocks.
        k: learngenes used (default: all trained ones).
        mode: ``free`` (w/o const) or ``const`` (w/ const).
        init: ``learngene`` (Eq. 9) or ``random`` (timm's initialisation, same architecture; the baseline).
        num_classes: a new head for the downstream task (re-initialised when it differs from the source's).
        checkpoint: ``last`` or ``best`` checkpoint of the learngene run.
        drop_path_rate: stochastic depth for fine-tuning (``free``/``random`` only).
    """
    if init not in INITS:
        raise ConfigError("model.net.init", init, f"one of {list(INITS)}", "init=learngene or init=random.")
    if mode not in MODES:
        raise ConfigError("model.net.mode", mode, f"one of {list(MODES)}", "mode=free (w/o const) or const.")
    source = load_learngene_run(run_dir, checkpoint)
    if init == "random":
        kwargs = {**source.config["vit_kwargs"], "depth": depth, "drop_path_rate": drop_path_rate}
        if num_classes is not None:
            kwargs["num_classes"] = num_classes
        if mode == "const":
            return LearngeneViT(
                source.config["model_name"],
                num_learngenes=k or int(source.active),
                basis=source.config["basis"],
                index=source.config["index"],
                gene_init="normal",
                **kwargs,
            )
        return timm.create_model(source.config["model_name"], pretrained=False, **kwargs)
    model = recompose(source, depth, k, mode)
    host = model.host if isinstance(model, LearngeneViT) else model
    if num_classes is not None and num_classes != host.num_classes:
        host.reset_classifier(num_classes)
    if mode == "free":
        _set_drop_path(host, drop_path_rate)
    return model


def pretrained_vit(
    run_dir: str | Path,
    depth: int,
    num_classes: int | None = None,
    checkpoint: str = "last",
    drop_path_rate: float = 0.0,
) -> nn.Module:
    """Pre-Fin: the trained plain timm ViT of ``run_dir`` (e.g. ``experiment=learngene/reduced_prefin_pretrain``).

    Args:
        run_dir: a run whose ``model.net`` is a timm ``VisionTransformer``.
        depth: the expected number of blocks (checked against the run: the row's depth).
        num_classes: a new head for the downstream task (re-initialised when it differs from the source's, the
            same rule as :func:`recomposed`).
        checkpoint: ``last`` or ``best``.
        drop_path_rate: stochastic depth for fine-tuning (linear over the blocks, as timm).
    """
    net = load_run_net(run_dir, checkpoint, eval_mode=False)
    blocks = getattr(net, "blocks", None)
    if isinstance(net, LearngeneViT) or blocks is None or not hasattr(net, "reset_classifier"):
        raise ConfigError(
            "model.net.run_dir",
            str(run_dir),
            f"a run of a plain timm ViT, got a {type(net).__name__}",
            "point to a run of experiment=learngene/reduced_prefin_pretrain (a learngene run: use recomposed).",
        )
    if len(blocks) != depth:
        raise ConfigError(
            "model.net.depth",
            depth,
            f"the depth of the pre-trained ViT in {run_dir} ({len(blocks)} blocks)",
            f"set model.net.depth={len(blocks)}, or pre-train a {depth}-block ViT (model.net.depth={depth}).",
        )
    if num_classes is not None and num_classes != net.num_classes:
        net.reset_classifier(num_classes)
    _set_drop_path(net, drop_path_rate)
    return net


def _set_drop_path(vit: nn.Module, rate: float) -> None:
    """timm's stochastic-depth schedule: rate · l/(L − 1) on block l's two residual branches."""
    if not rate:
        return
    rates = torch.linspace(0, rate, len(vit.blocks)).tolist()
    for block, r in zip(vit.blocks, rates, strict=True):
        block.drop_path1 = block.drop_path2 = timm.layers.DropPath(r) if r > 0 else nn.Identity()


def save_recomposed(model: nn.Module, path: str | Path, description: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``<path>`` (state dict, loads with ``weights_only=True``) and ``<path>.json`` atomically."""
    path = atomic_torch_save({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, path)
    meta = path.with_name(path.name + ".json")
    atomic_write_text(meta, json.dumps(description, indent=2, sort_keys=True) + "\n")
    return path, meta


def load_recomposed(path: str | Path) -> nn.Module:
    """Rebuild a model written by :func:`save_recomposed` (``compresslab-recompose``)."""
    path = Path(path)
    meta_file = path.with_name(path.name + ".json")
    if not path.is_file() or not meta_file.is_file():
        raise ConfigError(
            "path", str(path), "a .pt file with its .json beside it", "run compresslab-recompose."
        )
    meta = json.loads(meta_file.read_text())
    kwargs = {**meta["vit_kwargs"], "depth": meta["depth"]}
    if meta["mode"] == "const":
        model: nn.Module = LearngeneViT(
            meta["model_name"], num_learngenes=meta["k"], basis=meta["basis"], index=meta["index"], **kwargs
        )
    else:
        model = timm.create_model(meta["model_name"], pretrained=False, **kwargs)
    model.load_state_dict(load_checkpoint(path))
    return model


def export_timm(
    model: LearngeneViT, depth: int | None = None, k: int | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """A standard timm checkpoint of ``model``: ``(state_dict, create_kwargs)``.

    The ``free`` recomposition (Eq. 9) of the first ``k`` genes (default: all trained) at ``depth`` blocks (default:
    the model's own depth, i.e. exactly the model). ``create_kwargs`` holds ``model_name`` and the
    ``VisionTransformer`` arguments, so that::

        net = timm.create_model(**create_kwargs)
        net.load_state_dict(state_dict, strict=True)

    rebuilds it with timm alone. A ``const`` model (w/ const fine-tuning) exports the same way: its composed
    blocks are ordinary per-layer tensors.
    """
    check_type(
        "model",
        model,
        LearngeneViT,
        "a LearngeneViT (a free recomposition is already a timm model: use its state_dict())",
        "load the run with compresslab.learngene.load_learngene_run(run_dir).",
    )
    depth = model.depth if depth is None else depth
    _check_positive("depth", depth, "the target number of blocks, e.g. depth=6")
    free = recompose(model, depth, k, "free")
    state = {name: v.detach().cpu().contiguous() for name, v in free.state_dict().items()}
    return state, timm_create_kwargs(model, depth)


def timm_create_kwargs(model: LearngeneViT, depth: int) -> dict[str, Any]:
    """``timm.create_model`` arguments of ``model``'s architecture at ``depth`` blocks (model_name included)."""
    return {"model_name": model.config["model_name"], **model.config["vit_kwargs"], "depth": depth}

"""Knowledge distillation around any student ``net``, and loading networks trained by earlier runs.

* :class:`DistillationModule` — loss = ce_weight·CE(student, y) + kd_weight·τ²·KL(p_teacher^τ ‖ p_student^τ)
  (Hinton et al. 2015; with τ = 1 and equal weights it is the Learngene paper's Eq. 6–8, "following MiniViT").
* :func:`load_run_net` — the ``model.net`` of a finished compresslab run (its resolved config + checkpoint), so a
  teacher "trained by this codebase" is one config line: ``teacher: {_target_: compresslab.models.load_run_net,
  run_dir: logs/...}``; :func:`load_table_run_net` finds the run by its ``paper.table``/``paper.row``/``seed``
  (for runs of multirun sweeps, whose directories carry a time stamp). Any ``nn.Module`` factory works the same (``timm.create_model`` with ``pretrained`` or
  ``checkpoint_path`` for full-scale teachers).

``kd_loss`` (:mod:`compresslab.models.kd`) and ``warmup_cosine`` (:mod:`compresslab.models.schedules`) are
re-exported here for existing imports.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
import torch
from torch import nn

from compresslab.models.classifier import ClassifierModule
from compresslab.models.kd import kd_loss
from compresslab.models.schedules import warmup_cosine
from compresslab.utils.checkpoint import load_checkpoint, load_run_config, strip_prefix
from compresslab.utils.errors import ConfigError


class DistillationModule(ClassifierModule):
    """A classifier trained with cross-entropy plus distillation from a frozen ``teacher``.

    The teacher is held outside the module tree: it is not saved in checkpoints, not optimised, and runs in
    eval mode under ``no_grad``; it follows the module to its device. Logs ``train/ce`` and ``train/kd``.

    Args:
        net, num_classes, optimizer, scheduler, scheduler_interval, label_smoothing, compile, mixup: as
            :class:`ClassifierModule`.
        teacher: the teacher network (logits over the same classes), or None for plain CE training.
        kd_weight: weight of the distillation term (Learngene: 1).
        ce_weight: weight of the cross-entropy term (Learngene: 1).
        temperature: τ > 0.
    """

    hparams_ignore = (*ClassifierModule.hparams_ignore, "teacher")

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        teacher: nn.Module | None = None,
        kd_weight: float = 1.0,
        ce_weight: float = 1.0,
        temperature: float = 1.0,
        scheduler_interval: str = "epoch",
        label_smoothing: float = 0.0,
        compile: bool = False,
        mixup: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None,
        param_groups: Callable[[nn.Module], list[dict[str, Any]]] | None = None,
    ) -> None:
        if temperature <= 0:
            raise ConfigError("model.temperature", temperature, "a number > 0", "set model.temperature=1.0.")
        if kd_weight < 0 or ce_weight < 0:
            raise ConfigError(
                "model.kd_weight/ce_weight",
                (kd_weight, ce_weight),
                "weights >= 0",
                "e.g. kd_weight=1 ce_weight=1.",
            )
        super().__init__(
            net,
            num_classes,
            optimizer,
            scheduler,
            scheduler_interval,
            label_smoothing,
            compile,
            mixup,
            param_groups=param_groups,
        )
        if teacher is not None:
            teacher.eval().requires_grad_(False)
        object.__setattr__(self, "teacher", teacher)  # not a submodule: no checkpoint, no optimiser, no DDP

    def setup(self, stage: str) -> None:
        super().setup(stage)
        if self.teacher is not None:
            self.teacher.to(self.device)

    def on_fit_start(self) -> None:
        if self.teacher is not None:
            self.teacher.to(self.device).eval()
            with torch.no_grad():  # fail before training when the class counts differ
                out = self.teacher(self._example_input())
            if out.shape[-1] != self.hparams.num_classes:
                raise ConfigError(
                    "model.teacher",
                    f"{type(self.teacher).__name__} with {out.shape[-1]} outputs",
                    f"{self.hparams.num_classes} classes (the student's num_classes)",
                    "train/choose a teacher on the same label set.",
                )

    def _example_input(self) -> torch.Tensor:
        dm = self.trainer.datamodule
        shape = tuple(dm.input_shape) if hasattr(dm, "input_shape") else None
        if shape is None:
            x, _ = next(iter(dm.train_dataloader()))
            return x[:1].to(self.device)
        return torch.zeros(1, *shape, device=self.device)

    def training_loss(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        ce = self.criterion(logits, y)
        self.log("train/ce", ce.detach(), on_step=False, on_epoch=True)
        if self.teacher is None or self.hparams.kd_weight == 0:
            return ce
        with torch.no_grad():
            teacher_logits = self.teacher(x)  # [B, C]
        kd = kd_loss(logits, teacher_logits, self.hparams.temperature)
        self.log("train/kd", kd.detach(), on_step=False, on_epoch=True)
        return self.hparams.ce_weight * ce + self.hparams.kd_weight * kd


def load_run_net(run_dir: str | Path, checkpoint: str = "best", eval_mode: bool = True) -> nn.Module:
    """The trained ``model.net`` of a compresslab run directory (``config_resolved.yaml`` + ``checkpoints/``).

    ``checkpoint``: ``best`` (the top-1 ``epoch_*.ckpt`` by the run's monitor), ``last``, or a file name.
    Loaded with ``weights_only=True``.
    """
    run_dir = Path(run_dir)
    cfg = load_run_config(run_dir)
    ckpt_dir = run_dir / "checkpoints"
    if checkpoint == "best":
        found = sorted(ckpt_dir.glob("epoch_*.ckpt"))
        ckpt = found[-1] if found else ckpt_dir / "last.ckpt"
    else:
        ckpt = ckpt_dir / (checkpoint if checkpoint.endswith(".ckpt") else f"{checkpoint}.ckpt")
    if not ckpt.is_file():
        raise ConfigError(
            "checkpoint",
            str(ckpt),
            "an existing checkpoint",
            f"choose one of {sorted(ckpt_dir.glob('*.ckpt'))}.",
        )
    if "init_from" in cfg.model.net:  # the checkpoint supersedes the weights the run started from
        cfg.model.net.init_from = None
    net = hydra.utils.instantiate(cfg.model.net)
    net.load_state_dict(strip_prefix(load_checkpoint(ckpt)["state_dict"], "net."))
    return net.eval() if eval_mode else net


def find_run_dir(log_dir: str | Path, table: str, row: str, seed: int) -> Path:
    """The directory of the finished run with ``paper.table == table``, ``paper.row == row`` and ``seed`` that
    holds a checkpoint (a fast-dev-run writes none).

    Several matches (a row run twice): the most recently written ``metrics.json`` wins.
    """
    from compresslab.tables.common import collect_runs  # tables import models: import here, not at the top

    matches = [r for r in collect_runs(log_dir, table) if r.get("paper.row") == row and r.get("seed") == seed]
    if not matches:
        rows = sorted({str(r.get("paper.row")) for r in collect_runs(log_dir, table)})
        raise ConfigError(
            "run (paper.table, paper.row, seed)",
            (table, row, seed),
            f"a finished run under {log_dir} (rows of {table} found there: {rows or 'none'})",
            "train that run first (its experiment's header comment names the command).",
        )
    with_ckpt = [r for r in matches if any((r.path / "checkpoints").glob("*.ckpt"))]
    if not with_ckpt:
        raise ConfigError(
            "run (paper.table, paper.row, seed)",
            (table, row, seed),
            f"a run with a checkpoint; {len(matches)} match(es) under {log_dir} hold none (fast_dev_run writes none)",
            "train that row for real (without +trainer.fast_dev_run).",
        )
    return max(with_ckpt, key=lambda r: (r.path / "metrics.json").stat().st_mtime).path


def load_table_run_net(
    log_dir: str | Path, table: str, row: str, seed: int, checkpoint: str = "best"
) -> nn.Module:
    """:func:`load_run_net` of the run that :func:`find_run_dir` finds (a teacher named by its table cell)."""
    return load_run_net(find_run_dir(log_dir, table, row, seed), checkpoint)


__all__ = [
    "DistillationModule",
    "find_run_dir",
    "kd_loss",
    "load_run_net",
    "load_table_run_net",
    "warmup_cosine",
]

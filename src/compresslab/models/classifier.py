"""LightningModule for supervised classification: loss, metrics and optimisers around any ``net``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from lightning.pytorch import LightningModule
from torch import nn
from torchmetrics import MaxMetric, MeanMetric, Metric, MetricCollection
from torchmetrics.classification import MulticlassAccuracy


class ClassifierModule(LightningModule):
    """Cross-entropy classification of any ``net`` (built from config, e.g. ``model.net``).

    Logs ``train/loss``, ``train/acc``, ``<split>/loss`` and ``<split>/acc`` for every evaluation split the
    DataModule serves (``val``, ``test``, ``test_<ood>``…), and ``val/acc_best``.

    Args:
        net: the network (``nn.Module`` mapping inputs to logits).
        num_classes: number of classes (for the metrics).
        optimizer: partial optimiser constructor (``_partial_: true`` in config), called with the parameters.
        scheduler: optional partial LR-scheduler constructor, called with the optimiser.
        scheduler_interval: ``epoch`` or ``step``.
        label_smoothing: cross-entropy label smoothing.
        compile: ``torch.compile`` the net at fit start (``model.compile=true``; in place, so checkpoint keys are
            unchanged). Pays a one-off compilation (tens of seconds for a ViT) for faster steps on GPU;
            ``benchmarks/gpu_throughput.py`` reports the effect.
        mixup: optional batch-level mixing ``(x, y) -> (x', soft targets)``, e.g. ``timm.data.Mixup`` (mixup
            0.8 / cutmix 1.0 of the DeiT recipe); the loss then takes soft targets, train/acc the original labels.
    """

    #: constructor arguments kept out of ``hparams`` (modules and callables; also in subclasses' ``__init__``)
    hparams_ignore: tuple[str, ...] = ("net", "optimizer", "scheduler", "mixup", "param_groups")

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "epoch",
        label_smoothing: float = 0.0,
        compile: bool = False,
        mixup: Callable[..., tuple[torch.Tensor, torch.Tensor]] | None = None,
        param_groups: Callable[[nn.Module], list[dict[str, Any]]] | None = None,
    ) -> None:
        super().__init__()
        # plain values only in checkpoints (weights_only=True loading): the net and callables are not hparams
        self.save_hyperparameters(ignore=list(self.hparams_ignore), logger=False)
        self.net = net
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.mixup = mixup
        self.param_groups = param_groups
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        # The training-step metrics never make the host wait for the device: argument validation (labels are
        # validated when the data is read) and the NaN check (a NaN loss then shows as NaN) each cost a GPU sync
        # per step; with them the step of a DeiT-S at batch 128 on an H200 was 16 % slower than a plain loop.
        self.train_metrics = MetricCollection(
            {"acc": MulticlassAccuracy(num_classes, average="micro", validate_args=False)}, prefix="train/"
        )
        self.train_loss = MeanMetric(nan_strategy="disable")
        self.eval_metrics = nn.ModuleDict()  # split name -> MetricCollection, built in setup()
        self.eval_losses = nn.ModuleDict()
        self.val_acc_best = MaxMetric()
        self.val_acc_best.persistent(True)  # saved in checkpoints, so a resumed run keeps its best-so-far

    # ------------------------------------------------------------------------------------------ setup
    def setup(self, stage: str) -> None:
        dm = self.trainer.datamodule if self.trainer is not None else None
        names = (
            (dm.val_names + dm.test_names) if dm is not None and hasattr(dm, "val_names") else ["val", "test"]
        )
        self.add_eval_splits(
            names, lambda _: {"acc": MulticlassAccuracy(self.hparams.num_classes, average="micro")}
        )
        if self.hparams.compile and stage == "fit":
            # in place (nn.Module.compile): the state dict keeps its keys, so checkpoints load uncompiled too
            self.net.compile()

    def add_eval_splits(self, names: Iterable[str], metrics: Callable[[str], dict[str, Metric]]) -> None:
        """The metrics ``metrics(name)`` (logged as ``<name>/<metric>``) and a mean loss of every evaluation split
        in ``names`` that has none yet."""
        for name in names:
            if name not in self.eval_metrics:
                self.eval_metrics[name] = MetricCollection(metrics(name), prefix=f"{name}/")
                self.eval_losses[name] = MeanMetric()

    def _split_name(self, stage: str, dataloader_idx: int) -> str:
        dm = self.trainer.datamodule
        names = getattr(dm, "val_names" if stage == "val" else "test_names", None) or [stage]
        return names[dataloader_idx]

    # ------------------------------------------------------------------------------------------ steps
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        x, target = self.mixup(x, y) if self.mixup is not None else (x, y)  # target: [B] or soft [B, C]
        logits = self(x)  # [B, num_classes]
        loss = self.training_loss(x, target, logits)
        self.log_train_step(loss, logits, y)
        return loss

    def log_train_step(self, loss: torch.Tensor, logits: torch.Tensor, y: torch.Tensor) -> None:
        """Update and log ``train/loss`` (step and epoch mean) and the training metrics (epoch) of one step;
        every subclass's ``training_step`` ends with it."""
        self.train_loss(loss.detach(), weight=len(y))
        self.train_metrics(logits.detach(), y)
        self.log("train/loss", self.train_loss, on_step=True, on_epoch=True, prog_bar=True)
        self.log_dict(self.train_metrics, on_step=False, on_epoch=True, prog_bar=True)

    def training_loss(self, x: torch.Tensor, y: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """The training objective (cross-entropy); subclasses add terms (e.g. distillation)."""
        return self.criterion(logits, y)

    def _eval_step(self, stage: str, batch: tuple[torch.Tensor, torch.Tensor], dataloader_idx: int) -> None:
        x, y = batch
        name = self._split_name(stage, dataloader_idx)
        logits = self(x)
        self.eval_losses[name](self.criterion(logits, y), weight=len(y))
        self.eval_metrics[name](logits, y)
        self.log(f"{name}/loss", self.eval_losses[name], on_epoch=True, add_dataloader_idx=False)
        self.log_dict(self.eval_metrics[name], on_epoch=True, prog_bar=True, add_dataloader_idx=False)

    def validation_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_step("val", batch, dataloader_idx)

    def test_step(self, batch: Any, batch_idx: int, dataloader_idx: int = 0) -> None:
        self._eval_step("test", batch, dataloader_idx)

    def on_validation_epoch_end(self) -> None:
        if self.trainer.sanity_checking or "val" not in self.eval_metrics:
            return
        acc = self.trainer.callback_metrics.get("val/acc")
        if acc is not None:
            self.val_acc_best(acc)
            self.log("val/acc_best", self.val_acc_best.compute(), prog_bar=True)

    # ------------------------------------------------------------------------------------------ optim
    def configure_gradient_clipping(
        self,
        optimizer: torch.optim.Optimizer,
        gradient_clip_val: float | None = None,
        gradient_clip_algorithm: str | None = None,
    ) -> None:
        """``trainer.gradient_clip_val`` also with fused optimisers under ``bf16-mixed``.

        Lightning's mixed-precision plugin refuses to clip for optimisers that unscale gradients themselves
        (``fused=True`` AdamW), because under ``16-mixed`` the gradients it would clip are still scaled.
        ``bf16-mixed`` has no gradient scaler: the gradients are already the true ones, so they are clipped
        here, exactly as ``32-true`` clips them. Every other case goes through Lightning unchanged.
        """
        fused = getattr(optimizer, "_step_supports_amp_scaling", False)
        if gradient_clip_val and fused and self.trainer.precision == "bf16-mixed":
            params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
            if gradient_clip_algorithm in (None, "norm"):
                torch.nn.utils.clip_grad_norm_(params, gradient_clip_val)
            else:
                torch.nn.utils.clip_grad_value_(params, gradient_clip_val)
            return
        super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def optimizer_groups(self) -> list[torch.nn.Parameter] | list[dict[str, Any]]:
        """The trainable parameters as the optimiser receives them (``param_groups`` applied to ``net``)."""
        trainable = [p for p in self.parameters() if p.requires_grad]
        if self.param_groups is None:
            return trainable
        groups = [g for g in self.param_groups(self.net) if g["params"]]
        grouped = {id(p) for g in groups for p in g["params"]}
        rest = [p for p in trainable if id(p) not in grouped]
        return groups + ([{"params": rest}] if rest else [])

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(params=self.optimizer_groups())
        if self.scheduler_factory is None:
            return optimizer
        return {
            "optimizer": optimizer,
            "lr_scheduler": {
                "scheduler": self.scheduler_factory(**self.scheduler_arguments(optimizer)),
                "interval": self.hparams.scheduler_interval,
                "frequency": 1,
            },
        }

    def scheduler_arguments(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        """The keyword arguments of the scheduler factory: the optimiser (subclasses add e.g. the step count)."""
        return {"optimizer": optimizer}

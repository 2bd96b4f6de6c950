"""LightningModules of SRNet (srnet.md §1, §3): fine-tuning, mask training, and their shared evaluation.

* :class:`NLUClassifier` — full fine-tuning of a :class:`~compresslab.srnet.nets.PairClassifier` with CE or a
  debiasing loss; with ``mask_file`` it re-trains a fixed subnetwork in isolation (paradigm b: mask from a
  mask-training/IMP run, weights rewound to the pre-trained ones, classifier unmasked).
* :class:`MaskTrainingModule` — SRNet mask training (:mod:`compresslab.srnet.masks`) on frozen weights: on a
  fine-tuned model (paradigm a, ``net.init_from`` = the fine-tuning run), on the pre-trained model (paradigm c,
  mask-only), or with OOD training data mixed in (the upper bound of §3.4, CE).
* IMP lives in :mod:`compresslab.srnet.imp` on the same base.

Batches are dicts (``input_ids``, ``attention_mask``, ``token_type_ids``, ``labels``, ``idx``). Evaluation runs
over the DataModule's list of loaders (``val``; ``test`` and every OOD ``test_<name>``) with each split's metrics
from the data source (:attr:`TextPairSource.metrics`: ``acc``, ``f1`` binary, ``f1_weighted``) after its prediction map
(HANS: neutral → non-entailment), logged as ``<split>/<metric>``.

Checkpoint choice (srnet.md §1.5): the best ID dev score (``select_metric``, e.g. ``val/acc``; QQP ``val/f1``)
among evaluations after ``select_start``·t_max steps (0.7 for mask training on a fine-tuned model, 0 otherwise)
and — for masks — at the final scheduled sparsity. It is logged as ``val/select`` (−1 when not eligible), which
the experiments monitor, so the checkpoint the test stage loads *is* that choice; the mask of each new best is
also written to ``<run dir>/best_mask.pt`` with the sparsity it had (never the initial one, srnet.md §6 pitfall 1).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics import MeanMetric
from torchmetrics.classification import BinaryF1Score, MulticlassAccuracy, MulticlassF1Score

from compresslab.models.classifier import ClassifierModule
from compresslab.models.schedules import linear_warmup_decay  # noqa: F401  (configs target compresslab.srnet.linear_warmup_decay)
from compresslab.srnet.bias import align_predictions, ensure_bias_file, teacher_prediction_file
from compresslab.srnet.losses import check_labels, get_loss
from compresslab.srnet.masks import (
    SparsitySchedule,
    attach_fixed_masks,
    attach_masks,
    check_sparsity,
    load_mask_file,
    masks_of,
    pruned_count,
    realised_sparsity,
    recalibrate,
    save_masks,
    set_sparsity,
)
from compresslab.utils.errors import ConfigError, check_type
from compresslab.utils.logging import get_logger

log = get_logger(__name__)

MASK_FILE = "best_mask.pt"


def check_mask_sparsity(masks: dict[str, torch.Tensor], sparsity: float, source: str) -> None:
    """Every mask prunes ⌊s·numel⌋ entries, to one element (a subnetwork of the intended sparsity)."""
    for name, keep in masks.items():
        pruned = keep.numel() - int(keep.sum())
        if abs(pruned - pruned_count(keep.numel(), sparsity)) > 1:
            raise ConfigError(
                "model.mask_sparsity",
                sparsity,
                f"the sparsity of the mask file ({source}: '{name}' has {pruned / keep.numel():.4f})",
                "set model.mask_sparsity to the sparsity of the run that wrote the file, or point mask_file at it.",
            )


def _metric(name: str, num_classes: int) -> nn.Module:
    if name == "acc":
        return MulticlassAccuracy(num_classes, average="micro")
    if name == "f1":  # binary F1, class 1 positive (QQP: duplicate)
        return BinaryF1Score()
    if name == "f1_weighted":  # support-weighted mean of per-class F1 (PAWS, srnet.md §4)
        return MulticlassF1Score(num_classes, average="weighted")
    raise ConfigError("data metrics", name, "one of acc, f1, f1_weighted", "fix the data source's metrics.")


class NLUClassifier(ClassifierModule):
    """Sentence-pair classification with a (debiasing) training loss, per-split ID/OOD metrics and the SRNet
    checkpoint choice.

    Args:
        net: a :class:`~compresslab.srnet.nets.PairClassifier` (any module taking ``input_ids``,
            ``attention_mask``, ``token_type_ids`` and holding the transformers model as ``.model``).
        num_classes: classes of the ID task.
        optimizer: partial optimiser (AdamW in the paper), called with the trainable parameters.
        scheduler: optional partial scheduler; :func:`linear_warmup_decay` receives ``num_training_steps``.
        scheduler_interval: ``step`` (the paper) or ``epoch``.
        loss: ``ce`` (= std), ``poe``, ``reweight`` or ``conf_reg`` (:mod:`compresslab.srnet.losses`).
        bias_file: prediction file of the bias-only model, keyed by training example id (debiasing losses).
        bias_features: ``overlap`` / ``claim``: build ``bias_file`` from the training split when it is missing.
        teacher_run: a CE fine-tuning run whose train-set predictions are conf-reg's teacher.
        reweight_normalise: normalise reweighting by Σ(1 − β) as the official code (False: Eq. 7's mean).
        select_metric: the ID dev metric of the checkpoint choice (``val/acc``; QQP ``val/f1``).
        select_start: evaluations before ``select_start``·t_max steps are not eligible (srnet.md §1.5).
        mask_file: a ``best_mask.pt`` to apply as a fixed mask (paradigm b); ``None``: no mask.
        mask_sparsity: the sparsity every matrix of ``mask_file`` must have (checked to one element; ``None``:
            not checked).
        mask_pooler, mask_classifier: which of the mask file's optional entries to apply (paradigm b: pooler yes,
            classifier no, as the official re-training scripts).
        compile: ``torch.compile`` the net at fit start.
    """

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "step",
        loss: str = "ce",
        bias_file: str | None = None,
        bias_features: str | None = None,
        teacher_run: str | None = None,
        reweight_normalise: bool = True,
        select_metric: str = "val/acc",
        select_start: float = 0.0,
        mask_file: str | None = None,
        mask_sparsity: float | None = None,
        mask_pooler: bool = True,
        mask_classifier: bool = False,
        compile: bool = False,
    ) -> None:
        loss_fn = get_loss(loss, reweight_normalise)  # unknown loss: fails before anything is built
        if loss_fn.needs_bias and bias_file is None:
            raise ConfigError(
                "model.bias_file",
                None,
                f"a bias-only prediction file (loss '{loss}' needs one)",
                "set model.bias_file=<path> (and model.bias_features=overlap to build it on first use).",
            )
        if loss_fn.needs_teacher and teacher_run is None:
            raise ConfigError(
                "model.teacher_run",
                None,
                "a CE fine-tuning run (conf_reg's teacher)",
                "set model.teacher_run.",
            )
        if (
            isinstance(select_start, bool)
            or not isinstance(select_start, int | float)
            or not 0 <= select_start <= 1
        ):
            raise ConfigError(
                "model.select_start",
                select_start,
                "a fraction of the training steps in [0, 1]",
                "set 0.7 or 0.",
            )
        if not isinstance(select_metric, str) or not select_metric.startswith("val/"):
            raise ConfigError("model.select_metric", select_metric, "a val/<metric> key", "set val/acc.")
        super().__init__(net, num_classes, optimizer, scheduler, scheduler_interval, 0.0, compile)
        self.loss_fn = loss_fn
        if mask_file is not None:
            masks = load_mask_file(mask_file, self.hf, mask_pooler, mask_classifier)
            if mask_sparsity is not None:
                check_mask_sparsity(masks, check_sparsity(mask_sparsity, "model.mask_sparsity"), mask_file)
            attach_fixed_masks(self.hf, masks, mask_pooler, mask_classifier)
            log.info(
                f"re-training the subnetwork of {mask_file}: sparsity {realised_sparsity(self.hf)['overall']:.4f}"
            )
        self.register_buffer("best_select", torch.tensor(-math.inf))
        self.evaluations: list[
            tuple[int, bool]
        ] = []  # (global step, eligible) of every validation of this fit
        self.bias_log_probs: torch.Tensor | None = None  # [N_train, C], set in setup
        self.teacher_probs: torch.Tensor | None = None  # [N_train, C]
        self.prediction_maps: dict[str, Callable] = {}

    # ------------------------------------------------------------------------------------------ helpers
    @property
    def hf(self) -> nn.Module:
        """The transformers model inside ``net`` (what masks attach to)."""
        net = getattr(self.net, "_orig_mod", self.net)
        return getattr(net, "model", net)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:  # type: ignore[override]
        return self.net(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"))

    # ------------------------------------------------------------------------------------------ setup
    def setup(self, stage: str) -> None:
        from compresslab.data.nlu import PREDICTION_MAPS, TextPairSource

        dm = self.trainer.datamodule
        source = getattr(dm, "dataset", None)
        check_type(
            "data.dataset",
            source,
            TextPairSource,
            "a sentence-pair dataset (compresslab.data.nlu.TextPairSource: MNLI, QQP, FEVER, synthetic_nli …)",
            "pick one of the conf/data/nlu/* datasets.",
        )
        self.prediction_maps = {
            split: PREDICTION_MAPS[name] for split, name in source.prediction_maps.items()
        }
        self.add_eval_splits(
            dm.val_names + dm.test_names,
            lambda name: {m: _metric(m, self.hparams.num_classes) for m in source.metrics.get(name, ["acc"])},
        )
        splits = dm.loaded_splits()
        self._setup_cell_metrics(source, splits)
        source_name = source.name
        for name, ds in [("train", splits.train), *splits.val.items(), *splits.test.items()]:
            labels = getattr(ds, "labels", None)
            if isinstance(labels, torch.Tensor):
                check_labels(labels, self.hparams.num_classes, f"{source_name} split '{name}'")
        if stage == "fit":
            self._load_train_tables(splits.train)
        if self.hparams.compile and stage == "fit":
            self.net = torch.compile(self.net)

    def _setup_cell_metrics(self, source: Any, splits: Any) -> None:
        """Accuracy per analysis cell (e.g. label × overlap level) of every test split whose examples carry
        cells: ``test_<split>/acc_cell_<cell>`` (cell names with ``/`` → ``_``), cells the split has only."""
        if not hasattr(self, "cell_metrics"):
            self.cell_metrics = nn.ModuleDict()
        self.cell_keys: dict[str, dict[int, str]] = {}
        for name, ds in splits.test.items():
            cells, names = getattr(ds, "cells", None), source.cell_names.get(name, ())
            if cells is None or not names:
                continue
            present = sorted(int(k) for k in torch.unique(cells))
            self.cell_keys[name] = {k: f"{name}/acc_cell_{names[k].replace('/', '_')}" for k in present}
            for k in present:
                key = f"{name}__{k}"
                if key not in self.cell_metrics:
                    self.cell_metrics[key] = MeanMetric()

    def _log_cells(self, name: str, batch: dict[str, torch.Tensor], correct: torch.Tensor) -> None:
        cells = batch.get("cell")
        if cells is None or name not in self.cell_keys:
            return
        for k, key in self.cell_keys[name].items():
            hit = cells == k
            if bool(hit.any()):
                metric = self.cell_metrics[f"{name}__{k}"]
                metric.update(correct[hit].float())
                self.log(key, metric, on_epoch=True, add_dataloader_idx=False)

    def _load_train_tables(self, train: Any) -> None:
        c = self.hparams.num_classes
        if self.loss_fn.needs_bias and self.bias_log_probs is None:
            path = self.hparams.bias_file
            table = ensure_bias_file(
                path, train, c, self.hparams.bias_features, getattr(self.net, "pretrained", None)
            )
            self.bias_log_probs = align_predictions(table, train, c, "bias-only log-probs", str(path))
        if self.loss_fn.needs_teacher and self.teacher_probs is None:
            run = self.hparams.teacher_run
            table = teacher_prediction_file(run, train, device=self.trainer.strategy.root_device)
            self.teacher_probs = align_predictions(table, train, c, "teacher log-probs", str(run)).exp()

    # ------------------------------------------------------------------------------------------ steps
    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:  # type: ignore[override]
        y = batch["labels"]
        logits = self(batch)  # [B, C]
        loss = self.training_loss(batch, y, logits)
        self.log_train_step(loss, logits, y)
        return loss

    def training_loss(
        self, x: dict[str, torch.Tensor], y: torch.Tensor, logits: torch.Tensor
    ) -> torch.Tensor:  # type: ignore[override]
        idx = x["idx"].cpu()  # the tables stay on the CPU (not buffers: DDP would broadcast them every step)
        bias = self.bias_log_probs[idx].to(logits.device) if self.bias_log_probs is not None else None
        teacher = self.teacher_probs[idx].to(logits.device) if self.teacher_probs is not None else None
        return self.loss_fn(logits, y, bias, teacher)

    def _eval_step(self, stage: str, batch: dict[str, torch.Tensor], dataloader_idx: int) -> None:  # type: ignore[override]
        name = self._split_name(stage, dataloader_idx)
        y = batch["labels"]
        logits = self(batch)  # [B, C]
        preds = logits.argmax(-1)  # [B]
        if name in self.prediction_maps:  # e.g. HANS: neutral (2) → non-entailment (0)
            preds = self.prediction_maps[name](preds)
        self.eval_losses[name](F.cross_entropy(logits.float(), y), weight=len(y))
        self.eval_metrics[name](preds, y)
        if stage == "test":
            self._log_cells(name, batch, preds == y)
        self.log(f"{name}/loss", self.eval_losses[name], on_epoch=True, add_dataloader_idx=False)
        self.log_dict(
            self.eval_metrics[name], on_epoch=True, prog_bar=name == "val", add_dataloader_idx=False
        )

    # ------------------------------------------------------------------------------------------ selection
    @property
    def total_steps(self) -> int:
        return max(1, int(self.trainer.estimated_stepping_batches))

    def selection_eligible(self) -> bool:
        """Whether the current evaluation may be chosen: after ``select_start``·t_max steps."""
        return self.global_step >= self.hparams.select_start * self.total_steps - 1e-9

    def on_validation_epoch_end(self) -> None:
        super().on_validation_epoch_end()  # val/acc_best
        if masks_of(self.hf):
            self.log("val/sparsity", realised_sparsity(self.hf)["overall"])
        if self.trainer.sanity_checking:
            return
        key = self.hparams.select_metric
        value = self.trainer.callback_metrics.get(key)
        if value is None:
            logged = sorted(k for k in self.trainer.callback_metrics if k.startswith("val/"))
            raise ConfigError(
                "model.select_metric", key, f"a logged validation metric, one of {logged}", "set val/acc."
            )
        value = float(value)
        eligible = self.selection_eligible()
        self.evaluations.append((self.global_step, eligible))
        self.log("val/select", value if eligible else -1.0)
        if eligible and value > float(self.best_select):
            self.best_select.fill_(value)
            self.on_new_best(value)

    def on_new_best(self, value: float) -> None:
        """Hook: a new eligible best ID dev score (mask modules write the mask file)."""

    def on_train_end(self) -> None:
        """Fail loudly when validations ran but none was eligible: no checkpoint was chosen (``val/select`` stayed
        −1) and, for masks, no ``best_mask.pt`` was written."""
        if self.evaluations and not math.isfinite(float(self.best_select)):
            if self.trainer.fast_dev_run:  # one step checks code paths; nothing is selected or saved anyway
                log.warning("fast_dev_run: %s", self.no_eligible_evaluation())
                return
            raise self.no_eligible_evaluation()

    def no_eligible_evaluation(self) -> ConfigError:
        """The error of :meth:`on_train_end`: the selection window and the evaluation steps that missed it."""
        steps = [s for s, _ in self.evaluations]
        start = math.ceil(self.hparams.select_start * self.total_steps - 1e-9)
        return ConfigError(
            "model.select_start",
            self.hparams.select_start,
            f"a selection window (steps >= {start} of {self.total_steps}) that holds an evaluation; "
            f"the {len(steps)} evaluations were at steps {steps[:3]}…{steps[-1:]} and none was eligible, so no "
            "checkpoint was chosen (val/select stayed -1)",
            "lower model.select_start, or evaluate more often (trainer.val_check_interval).",
        )

    def on_test_epoch_end(self) -> None:
        if masks_of(self.hf):
            self.log("test/sparsity", realised_sparsity(self.hf)["overall"])

    def _write_mask(self, value: float) -> None:
        if not self.trainer.is_global_zero:
            return
        path = Path(self.trainer.default_root_dir) / MASK_FILE
        save_masks(self.hf, path)
        s = realised_sparsity(self.hf)["overall"]
        log.info(
            f"new best {self.hparams.select_metric}={value:.4f} at step {self.global_step}: mask (sparsity {s:.4f}) -> {path}"
        )

    # ------------------------------------------------------------------------------------------ optim
    def optimizer_groups(self) -> list[torch.nn.Parameter] | list[dict[str, Any]]:
        params = super().optimizer_groups()  # the trainable parameters (no param_groups here)
        if not params:
            raise ConfigError(
                "model", type(self).__name__, "a module with trainable parameters", "check the mask options."
            )
        return params

    def scheduler_arguments(self, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
        kwargs = super().scheduler_arguments(optimizer)
        if "num_training_steps" in inspect.signature(self.scheduler_factory).parameters:
            kwargs["num_training_steps"] = self.total_steps
        return kwargs


#: the NLUClassifier arguments that a pruning module (mask training, IMP) takes, typed in its own signature (the
#: config validator reads it), and forwards unchanged
PRUNING_ARGUMENTS = (
    "net",
    "num_classes",
    "optimizer",
    "scheduler",
    "scheduler_interval",
    "loss",
    "bias_file",
    "bias_features",
    "teacher_run",
    "reweight_normalise",
    "select_metric",
    "select_start",
    "mask_pooler",
    "mask_classifier",
    "compile",
)


def pruning_arguments(local_vars: dict[str, Any]) -> dict[str, Any]:
    """The :data:`PRUNING_ARGUMENTS` out of a pruning module constructor's ``locals()``, for NLUClassifier."""
    return {name: local_vars[name] for name in PRUNING_ARGUMENTS}


class MaskTrainingModule(NLUClassifier):
    """SRNet mask training: binary masks with trainable scores on the frozen weights of ``net``.

    Args (beyond :class:`NLUClassifier`'s):
        sparsity: final sparsity s_f ∈ [0, 1) of every masked matrix.
        initial_sparsity: s_i of the cubic schedule (``None`` = ``sparsity``).
        schedule: ``fixed`` or ``cubic`` (gradual increase, srnet.md §3.5).
        schedule_end: T of the cubic schedule as a fraction of the training steps. The default 0.7 equals the
            default ``select_start``: the final sparsity is reached when the selection window opens, so every
            eligible evaluation is at it (T = t_max, the official gradual scripts, leaves at most the last one).
        init: ``hard`` (Eq. 5) or ``soft`` (Eq. 6).
        control: ``topk`` (exact sparsity every step, default) or ``threshold`` (the paper's rule: φ fixed during
            training and re-set to the k-th smallest score, at the scheduled sparsity, immediately before every
            validation — Δt_φ = the eval interval, 1000 steps MNLI/QQP, 500 FEVER — so every evaluated and saved
            mask is at the exact scheduled sparsity).
        alpha, phi: hard-init constants (2, 0.01).
        mask_pooler, mask_classifier: also mask the pooler / classifier (both true in the official scripts).
        train_classifier: keep the classifier trainable (official ``--train_classifier``, false in the scripts).
        select_at_final: only evaluations at the final scheduled sparsity are eligible for the checkpoint choice.
    """

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        scheduler_interval: str = "step",
        loss: str = "poe",
        bias_file: str | None = None,
        bias_features: str | None = None,
        teacher_run: str | None = None,
        reweight_normalise: bool = True,
        select_metric: str = "val/acc",
        select_start: float = 0.7,
        select_at_final: bool = True,
        sparsity: float = 0.5,
        initial_sparsity: float | None = None,
        schedule: str = "fixed",
        schedule_end: float = 0.7,
        init: str = "hard",
        control: str = "topk",
        alpha: float = 2.0,
        phi: float = 0.01,
        mask_pooler: bool = True,
        mask_classifier: bool = True,
        train_classifier: bool = False,
        compile: bool = False,
    ) -> None:
        sparsity = check_sparsity(sparsity)
        if schedule == "cubic":
            initial = check_sparsity(
                sparsity if initial_sparsity is None else initial_sparsity, "model.initial_sparsity"
            )
        else:
            initial = sparsity
        SparsitySchedule(sparsity, initial, schedule)  # validates the schedule before anything is built
        if (
            isinstance(schedule_end, bool)
            or not isinstance(schedule_end, int | float)
            or not 0 < schedule_end <= 1
        ):
            raise ConfigError(
                "model.schedule_end",
                schedule_end,
                "a fraction of the training steps in (0, 1]",
                "set 0.7 (the final sparsity is then reached when the selection window, select_start, opens).",
            )
        super().__init__(**pruning_arguments(locals()))
        masks = attach_masks(
            self.hf, initial, init, control, alpha, phi, mask_pooler, mask_classifier, train_classifier
        )  # type: ignore[arg-type]
        self.masks = masks  # plain dict: the mask modules are already submodules of net
        self.schedule = SparsitySchedule(sparsity, initial, schedule)  # type: ignore[arg-type]

    def on_fit_start(self) -> None:
        p = self.hparams
        end = max(1, round(p.schedule_end * self.total_steps))
        self.schedule = SparsitySchedule(p.sparsity, self.schedule.initial, p.schedule, 0, end)  # type: ignore[arg-type]

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        target = self.schedule(self.global_step)
        if self.hparams.control == "topk":  # exact top-k of the current scores before every step
            set_sparsity(self.masks, target)
            recalibrate(self.masks)
        # threshold: φ stays fixed between validations (the paper's rule)
        self.log("train/sparsity_target", target, on_step=True, on_epoch=False)

    def on_validation_start(self) -> None:
        """The scheduled sparsity of the current step, exactly, before every validation: top-k masks are
        recomputed, threshold masks re-set φ to the k-th smallest score (the official ``reset_threshold`` in the
        eval block; training continues with that φ). The evaluated — and, if best, saved — mask is therefore the
        one of the schedule's current step."""
        set_sparsity(self.masks, self.schedule(self.global_step))
        recalibrate(self.masks)

    def on_test_start(self) -> None:
        """Test the restored checkpoint's mask as it was saved (its sparsity and φ come with it)."""
        if self.hparams.control == "topk":
            recalibrate(self.masks)

    def at_final_sparsity(self) -> bool:
        """Every mask prunes ⌊s_f·numel⌋ entries (the final scheduled sparsity, counted per matrix)."""
        final = self.hparams.sparsity
        return all(m.n_pruned == pruned_count(m.scores.numel(), final) for m in self.masks.values())

    def selection_eligible(self) -> bool:
        return super().selection_eligible() and (self.at_final_sparsity() or not self.hparams.select_at_final)

    def no_eligible_evaluation(self) -> ConfigError:
        p = self.hparams
        if not (p.select_at_final and p.schedule == "cubic"):
            return super().no_eligible_evaluation()
        end = self.schedule.end
        steps = [s for s, _ in self.evaluations]
        return ConfigError(
            "model.schedule_end",
            p.schedule_end,
            f"a cubic schedule that reaches the final sparsity {p.sparsity} (at step {end} of {self.total_steps}) "
            f"before an evaluation in the selection window (select_start {p.select_start}); the {len(steps)} "
            f"evaluations were at steps {steps[:3]}…{steps[-1:]} and none was eligible, so no best_mask.pt was "
            "written and val/select stayed -1",
            f"set model.schedule_end <= model.select_start ({p.select_start}), e.g. 0.7, or evaluate more often "
            "(trainer.val_check_interval).",
        )

    def on_new_best(self, value: float) -> None:
        self._write_mask(value)

    # ------------------------------------------------------------------------------------------ checkpoints
    def _frozen_keys(self) -> set[str]:
        return {n for n, p in self.named_parameters() if not p.requires_grad}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Drop the frozen weights (they are rebuilt from ``net`` on load): a checkpoint holds scores + state."""
        frozen = self._frozen_keys()
        state = checkpoint["state_dict"]
        for k in [k for k in state if k in frozen]:
            del state[k]
        checkpoint["srnet_frozen_dropped"] = True

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if not checkpoint.get("srnet_frozen_dropped"):
            return
        state = checkpoint["state_dict"]
        own = self.state_dict()
        for k in self._frozen_keys():
            state.setdefault(k, own[k])


__all__ = ["MASK_FILE", "MaskTrainingModule", "NLUClassifier", "linear_warmup_decay"]

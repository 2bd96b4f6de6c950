"""HPM-KD as a LightningModule: the six components, each switchable, and the KD baselines on the same code path.

``method=hpmkd`` runs the draft's training loop (§4.1; ``shared/papers/hpmkd.md`` §3) in ``setup("fit")``, before
the optimiser exists, and then trains the student with Lightning:

1. **PPP** — every teacher's logits on the training and validation splits are computed once, in large batches
   under ``inference_mode`` (DDP-sharded when a process group is up, :func:`~compresslab.hpmkd.engine.batched_outputs`)
   and looked up per batch by sample index; with PPP off (or a randomly augmented training split, whose inputs
   differ on every read) the teachers run on every batch instead. Parallel *jobs* (seeds, datasets, ablation
   arms, independent chains) are Hydra multiruns on the joblib launcher locally or the submitit launcher on SLURM
   (``conf/hydra/launcher``) — no scheduler of our own.
2. **SOM** — the logits go through the Shared Optimization Memory's teacher cache (keyed by teacher weights,
   split identity and transform), so the next job on the same data reads them from disk; chain models go through
   its model cache; the finished run's (meta-features, configuration, result) row is added to its history.
3. **ACM** — meta-features of (data, teacher, student) and the SOM history give (T₀, α, lr); a quick validation run
   (``acm.refine``) can refine them. Epochs stay ``trainer.max_epochs`` (the suggestion is logged, not applied:
   the Trainer is built before the module sees the data).
4. **PDC** — the chain of the student's family at geometric capacities, each step distilled from the previous,
   stopped on a relative probe gain < ε (:mod:`compresslab.hpmkd.chain`); its best model becomes a teacher.
5. **AWMT** — per-sample attention over the teacher set (the chain's model, if any, plus the M teachers), trained
   jointly with the student, with the entropy bonus β·R_attn (:mod:`compresslab.hpmkd.multi_teacher`).
6. **MTS** — T follows the meta-temperature schedule in [T₀/2, 3T₀/2] (the draft's [2, 6] for T₀ = 4), updated
   from the student's CE every step and logged as ``train/temperature``.

Turning a component off (``model.components.<name>=false``) removes exactly that: ACM off → the configured T, α,
lr; PDC off → no chain; AWMT off → a single teacher (the chain's model, else the first teacher); MTS off → fixed
T₀; PPP off → teachers run on every batch; SOM off → nothing persists (no cache, no history: ACM falls back to
its default).

What the student trains on is the run's objective (:mod:`compresslab.hpmkd.objectives`, one class per method,
chosen by ``model.objective._target_``): HPM-KD's and the baselines' (``direct``, ``kd``, ``kd_ensemble``,
``fitnets``, ``takd``, ``dml``; losses in :mod:`compresslab.hpmkd.baselines`). This module holds the Lightning hooks
and the state the objectives read; the setup work is :class:`~compresslab.hpmkd.teacher_set.TeacherSetSetup`. Every
method uses the same teacher outputs (PPP/SOM apply to all, so wall times compare the losses, not the caching).

Logged besides ``ClassifierModule``'s metrics: ``train/temperature`` (epoch mean), ``train/ce``, ``train/kd``,
``train/attn_entropy``, ``awmt/w<m>``, ``teacher/val_acc``, ``hpmkd/{T0,alpha,lr,chain_steps}``,
``time/{fit_s,setup_s,teacher_s,acm_s,chain_s}``, ``som/{hits,misses}`` — all end up in ``metrics.json``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from compresslab.hpmkd.baselines import check_kd_values
from compresslab.hpmkd.chain import ChainOutcome
from compresslab.hpmkd.config_manager import MetaFeatures
from compresslab.hpmkd.engine import capture_penultimate, optimizer_setting
from compresslab.hpmkd.family import NetFamily
from compresslab.hpmkd.memory import SharedOptimizationMemory
from compresslab.hpmkd.multi_teacher import AttentionWeightedMultiTeacher
from compresslab.hpmkd.objectives import Batch, Objective, for_method
from compresslab.hpmkd.record import RunRecorder
from compresslab.hpmkd.settings import (  # noqa: F401  (re-exported: the names' old home)
    COMPONENTS,
    DEFAULTS,
    _plain,
    _section,
    _teacher_list,
    check_class_counts,
)
from compresslab.hpmkd.teacher_set import TeacherSetSetup
from compresslab.hpmkd.temperature import MetaTemperatureScheduler
from compresslab.models.classifier import ClassifierModule
from compresslab.utils.errors import ConfigError, check_type
from compresslab.utils.logging import get_logger

log = get_logger(__name__)


class HPMKDModule(TeacherSetSetup, RunRecorder, ClassifierModule):
    """Student training by HPM-KD or one of the KD baselines.

    Args:
        net: the student network.
        num_classes: classes of the student (and of every teacher).
        optimizer: partial optimiser constructor (the inner runs use it too, with their own ``lr``).
        scheduler: optional partial LR-scheduler constructor.
        teachers: teacher networks (frozen; held outside the module, never saved in checkpoints). The first is
            *the* teacher of the single-teacher methods and of the chain; all of them feed AWMT.
        objective: what the student trains on (:mod:`compresslab.hpmkd.objectives`, chosen by ``_target_``).
        method: the method's label (``hpmkd``, ``direct``, ``kd``, ``kd_ensemble``, ``fitnets``, ``takd``, ``dml``):
            checked against the objective; without an objective it picks one (:func:`for_method`).
        temperature, alpha: T₀ and α of α·KL_T + (1 − α)·CE (ACM may replace them for ``hpmkd``).
        t_squared: multiply the KL term by T² (Hinton; the draft's formula omits it — set false for that).
        components: ``{acm, pdc, awmt, mts, ppp, som}`` booleans (``hpmkd``; ``ppp``/``som`` apply to every method).
        input_shape: shape of one input (``${data.input_shape}``): AWMT's feature size and the class-count check.
        family: the student's family for the chain and TAKD's assistant (:class:`NetFamily`).
        peer: DML's second student.
        acm, mts, awmt, chain, fitnets, dml: settings sections (defaults in :data:`DEFAULTS`).
        som_dir: the SOM store (None: ``$COMPRESSLAB_SOM_DIR`` or ``./.som``).
        teacher_cache: ``auto`` (precompute when PPP is on and the training split is deterministic) or ``never``.
        teacher_batch_size: batch size of the teacher inference.
        scheduler_interval, label_smoothing, compile: as :class:`ClassifierModule`.
    """

    hparams_ignore = (*ClassifierModule.hparams_ignore, "teachers", "family", "peer", "objective")

    def __init__(
        self,
        net: nn.Module,
        num_classes: int,
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        teachers: Sequence[nn.Module] | None = None,
        objective: Objective | None = None,
        method: str | None = None,
        temperature: float = 4.0,
        alpha: float = 0.7,
        t_squared: bool = True,
        components: dict[str, bool] | None = None,
        input_shape: Sequence[int] | None = None,
        family: NetFamily | None = None,
        peer: nn.Module | None = None,
        acm: dict[str, Any] | None = None,
        mts: dict[str, Any] | None = None,
        awmt: dict[str, Any] | None = None,
        chain: dict[str, Any] | None = None,
        fitnets: dict[str, Any] | None = None,
        dml: dict[str, Any] | None = None,
        som_dir: str | None = None,
        teacher_cache: str = "auto",
        teacher_batch_size: int = 512,
        scheduler_interval: str = "epoch",
        label_smoothing: float = 0.0,
        compile: bool = False,
    ) -> None:
        if objective is None:
            objective = for_method(method or "hpmkd")
        else:
            check_type(
                "model.objective",
                objective,
                Objective,
                "an objective of compresslab.hpmkd.objectives",
                "set model.objective._target_=compresslab.hpmkd.objectives.KD (or use model=hpmkd/<method>).",
            )
            objective.check_method(method)
        method = objective.name  # the label saved in hparams (tables read model.method)
        check_kd_values(temperature, alpha)
        teacher_modules = _teacher_list(teachers)
        if objective.needs_teacher and not teacher_modules:
            raise ConfigError(
                "model.teachers",
                [],
                f"at least one teacher network for method={method}",
                "list teachers, e.g. model.teachers=[{_target_: compresslab.models.load_run_net, run_dir: <teacher "
                "run>}], or use method=direct / dml.",
            )
        if teacher_cache not in ("auto", "never"):
            raise ConfigError("model.teacher_cache", teacher_cache, "'auto' or 'never'", "use 'auto'.")
        # plain containers before save_hyperparameters (which reads these locals): checkpoints stay weights_only
        components = _section("components", components)
        acm, mts, awmt = _section("acm", acm), _section("mts", mts), _section("awmt", awmt)
        chain, fitnets, dml = _section("chain", chain), _section("fitnets", fitnets), _section("dml", dml)
        input_shape = list(_plain(input_shape)) if input_shape is not None else None
        for key, value in components.items():
            if not isinstance(value, bool):
                raise ConfigError(f"model.components.{key}", value, "true or false", f"set {key}: true.")
        super().__init__(net, num_classes, optimizer, scheduler, scheduler_interval, label_smoothing, compile)
        self.objective = objective
        self.method = method
        # components that are not HPM-KD's own do not apply to the baselines
        self.comp = {k: bool(v) and k in objective.components for k, v in components.items()}
        object.__setattr__(
            self, "teachers", teacher_modules
        )  # not submodules: no checkpoint, no optimiser, no DDP
        for t in teacher_modules:
            t.eval().requires_grad_(False)
        check_class_counts(self.net, teacher_modules, input_shape, num_classes)

        self.family = family if isinstance(family, NetFamily) or family is None else NetFamily(family)
        if objective.chain(self.comp, chain) is not None and self.family is None:
            raise ConfigError(
                "model.family",
                None,
                f"the student's NetFamily (needed by {objective.chain_label.upper()})",
                "set model.family={_target_: compresslab.hpmkd.family.NetFamily, _recursive_: false, spec: "
                "${model.net}} or model.components.pdc=false.",
            )
        self.awmt: AttentionWeightedMultiTeacher | None = None
        # the objective's trainable modules (FitNets' regressor, DML's peer, AWMT's attention): fixed attribute
        # names, so they are in the optimiser and the checkpoint keys do not depend on the objective's class
        for name, module in objective.build(self, input_shape, peer).items():
            setattr(self, name, module)
        self._run_id = uuid.uuid4().hex
        self._prepared = False
        # chosen at setup (ACM) or restored from a checkpoint
        self._t0, self._alpha, self._lr = float(temperature), float(alpha), optimizer_setting(optimizer, "lr")
        self._mts: MetaTemperatureScheduler | None = None
        self._mts_state: dict[str, Any] | None = None
        self._set_models: list[nn.Module | None] = []
        self._set_logits: torch.Tensor | None = None
        self._teacher_feats: torch.Tensor | None = None
        self._mask: torch.Tensor | None = None
        self._info: dict[str, float] = {}
        self._meta: MetaFeatures | None = None
        self._som: SharedOptimizationMemory | None = None
        self._last_ce: float | None = None
        self._sums: dict[str, tuple[torch.Tensor | None, int]] = {}
        self.chain_outcome: ChainOutcome | None = None
        #: what each component chose ("did it act"): written to hpmkd_choices.json, summarised in the metrics
        self.choices: dict[str, Any] = {}
        self._attn_total: torch.Tensor | None = None
        self._attn_total_n = 0
        self._attn_ent_total = 0.0
        self._t_traj: list[float] = []  # [first, last, min, max, sum, n]

    # ------------------------------------------------------------------------------------------- fit
    def on_fit_start(self) -> None:
        if self._set_logits is not None:
            self._set_logits = self._set_logits.to(self.device)
        if self._teacher_feats is not None:
            self._teacher_feats = self._teacher_feats.to(self.device)
        if self._mask is not None:
            self._mask = self._mask.to(self.device)
        if self.comp["mts"]:
            m = self.hparams.mts
            total = max(
                1, int(self.trainer.estimated_stepping_batches) * self.trainer.accumulate_grad_batches
            )
            self._mts = MetaTemperatureScheduler.from_t0(
                self._t0,
                total,
                spread=m["spread"],
                strategy=m["strategy"],
                probe_fraction=m["probe_fraction"],
                blend_fraction=m["blend_fraction"],
                update_every=m["update_every"],
            )
            if self._mts_state is not None:
                self._mts.load_state_dict(self._mts_state)

    def configure_optimizers(self) -> Any:
        if self._lr is not None and self.optimizer_factory is not None:
            base = self.optimizer_factory
            lr = float(self._lr)

            def with_lr(params: Any) -> torch.optim.Optimizer:
                return base(params=params, lr=lr)

            self.optimizer_factory = with_lr
            try:
                return super().configure_optimizers()
            finally:
                self.optimizer_factory = base
        return super().configure_optimizers()

    @property
    def temperature(self) -> float:
        """The KD temperature of the current step."""
        return self._mts.temperature if self._mts is not None else self._t0

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch[0], batch[1]
        idx = batch[2] if len(batch) > 2 else None
        feats: list[torch.Tensor] = []
        if self.objective.features:
            with capture_penultimate(self.net) as feats:
                logits = self(x)
        else:
            logits = self(x)  # [B, C]
        loss = self._loss(x, y, idx, logits, feats)
        self.log_train_step(loss, logits, y)
        return loss

    def _loss(
        self, x: torch.Tensor, y: torch.Tensor, idx: torch.Tensor | None, logits: torch.Tensor, feats: list
    ) -> torch.Tensor:
        """The objective's loss; the label CE is computed here (tracked, and MTS's input)."""
        ce = F.cross_entropy(logits, y, label_smoothing=self.hparams.label_smoothing)
        if self._mts is not None:
            self._last_ce = float(
                ce.detach()
            )  # the schedule's input: the label loss, which does not depend on T
        self._track("train/ce", ce)
        return self.objective.loss(self, Batch(x, y, idx, logits, feats, ce))

    def _track(self, name: str, value: torch.Tensor) -> None:
        """Accumulate a per-step training value (on its device, no sync); logged as its epoch mean. Cheaper than
        ``self.log`` per step, which costs about a millisecond per call: more than a small student's step."""
        total, n = self._sums.get(name, (None, 0))
        v = value.detach().float()
        self._sums[name] = (v if total is None else total + v, n + 1)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._mts is not None and self._last_ce is not None:
            self._mts.step(self._last_ce)
            t = float(self._mts.temperature)
            if not self._t_traj:
                self._t_traj = [t, t, t, t, 0.0, 0.0]
            tr = self._t_traj
            tr[1], tr[2], tr[3], tr[4], tr[5] = t, min(tr[2], t), max(tr[3], t), tr[4] + t, tr[5] + 1

    def on_train_epoch_end(self) -> None:
        now = time.perf_counter()
        values = {k: v for k, v in self._info.items() if math.isfinite(v)}
        values["time/fit_s"] = now - self._t_start
        values["hpmkd/T0"] = self._t0
        values["hpmkd/alpha"] = self._alpha
        if self._lr is not None:
            values["hpmkd/lr"] = float(self._lr)
        if self._som is not None:
            values["som/hits"] = float(self._som.stats["hits"])
            values["som/misses"] = float(self._som.stats["misses"])
        for name, (total, n) in self._sums.items():
            if n:
                values[name] = float(total) / n
        self._sums = {}
        if self._mts is None and self.objective.distils:
            values["train/temperature"] = self._t0
        values.update(self._did_it_act())
        self.log_dict(values, on_step=False, on_epoch=True)

    # ------------------------------------------------------------------------------------------- state
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["hpmkd"] = {
            "kd": {"T0": self._t0, "alpha": self._alpha, "lr": self._lr},
            "mts": self._mts.state_dict() if self._mts is not None else None,
            "run_id": self._run_id,
        }

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        state = checkpoint.get("hpmkd")
        if not state:
            return
        # runs after setup (Lightning restores after the setup hook) and before the optimiser is built: a resumed
        # run trains on with the configuration it started with (its chain was rebuilt in setup, from the SOM
        # model cache when the recipe is unchanged)
        self._t0, self._alpha, self._lr = (state["kd"][k] for k in ("T0", "alpha", "lr"))
        self._mts_state = state.get("mts")
        self._run_id = state.get("run_id", self._run_id)

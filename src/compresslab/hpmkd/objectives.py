"""The training objectives of :class:`~compresslab.hpmkd.module.HPMKDModule`: one class per method, chosen in the
model config by ``_target_`` (``conf/model/hpmkd/<method>.yaml`` sets ``model.objective._target_``).

An objective says, for its method,

* which teachers the student learns from — :meth:`Objective.teacher_set`, in AWMT slot order — and whether the
  setup trains a chain first (:meth:`Objective.chain`: HPM-KD's PDC, TAKD's assistant);
* which components of HPM-KD apply (:attr:`Objective.components`; the baselines keep only PPP and SOM);
* which trainable modules it adds besides the student (:meth:`Objective.build`: FitNets' regressor, DML's peer,
  AWMT's attention network); the module registers them under fixed names (``regressor``, ``peer``, ``awmt``), so
  they are in the optimiser and the checkpoint keys do not depend on the objective's class;
* the per-batch loss (:meth:`Objective.loss`) from the student's logits, the teacher set's logits and the labels.

The LightningModule holds the state the objectives read (the KD configuration T₀/α chosen by ACM, the MTS
temperature, the cached teacher outputs) and calls the objective; it never tests the method's name. The losses are
those of :mod:`compresslab.hpmkd.baselines` and :mod:`compresslab.hpmkd.multi_teacher`.

``method`` is the method's label (the table row, the SOM history): each class has one (:attr:`Objective.name`),
and a config whose ``model.method`` disagrees with its objective fails. Configs that choose the method by its
label (``model=hpmkd/_module`` with ``model.method=kd``, the cross experiments) use :func:`for_method`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from compresslab.hpmkd.baselines import HintRegressor, dml_losses, hint_loss
from compresslab.hpmkd.chain import ProgressiveDistillationChain
from compresslab.hpmkd.engine import classifier_of, kd_objective
from compresslab.hpmkd.multi_teacher import AttentionWeightedMultiTeacher, attention_regulariser, mix_teachers
from compresslab.hpmkd.settings import COMPONENTS
from compresslab.utils.errors import ConfigError

if TYPE_CHECKING:
    from compresslab.hpmkd.module import HPMKDModule

TeacherSet = tuple[list[nn.Module | None], list[str]]


@dataclass
class Batch:
    """One training batch as an objective sees it.

    Attributes:
        x: inputs ``[B, …]``; y: labels ``[B]``; idx: sample indices ``[B]`` (None without the logit cache).
        logits: the student's ``[B, C]``; feats: its penultimate features (``[B, D]`` tensors, FitNets only).
        ce: the student's cross-entropy (with the run's label smoothing).
    """

    x: torch.Tensor
    y: torch.Tensor
    idx: torch.Tensor | None
    logits: torch.Tensor
    feats: list[torch.Tensor]
    ce: torch.Tensor


class Objective:
    """What one method trains on (the base class: the student on labels alone, as :class:`Direct`).

    Args:
        method: the config's ``model.method`` label; must be this class's :attr:`name` (None: not checked).
    """

    #: the method's label: ``model.method``, the table row, the SOM history's ``method``
    name: ClassVar[str] = "direct"
    #: at least one teacher is needed
    needs_teacher: ClassVar[bool] = False
    #: a KD term with a temperature (``train/temperature`` is logged)
    distils: ClassVar[bool] = False
    #: finished runs enter the SOM history that ACM reads: distillation runs whose (T, α, lr) describe them. Not
    #: direct training: its "α = 0" row would win every tie on small validation sets and turn ACM into a switch
    #: that drops the teacher (ACM is there to configure distillation)
    recorded: ClassVar[bool] = False
    #: the student's and the first teacher's penultimate features are needed (FitNets)
    features: ClassVar[bool] = False
    #: HPM-KD components that apply (the others are forced off)
    components: ClassVar[tuple[str, ...]] = ("ppp", "som")

    def __init__(self, method: str | None = None) -> None:
        self.check_method(method)

    def check_method(self, method: str | None) -> None:
        """``model.method`` must be this objective's label (None: not given, nothing to check)."""
        if method is not None and method != self.name:
            raise ConfigError(
                "model.method",
                method,
                f"'{self.name}', the method of model.objective ({type(self).__module__}.{type(self).__qualname__})",
                f"choose the method by its config (model=hpmkd/{method}), or remove the model.method override.",
            )

    # ---------------------------------------------------------------------------------------------- setup
    def chain(self, comp: dict[str, bool], settings: dict[str, Any]) -> ProgressiveDistillationChain | None:
        """The chain the setup trains before the student (None: no chain)."""
        return None

    #: who needs the chain (error messages) and the key of its record in ``choices``
    chain_label: ClassVar[str] = ""

    def build(
        self, m: HPMKDModule, input_shape: Sequence[int] | None, peer: nn.Module | None
    ) -> dict[str, nn.Module | None]:
        """Trainable modules besides the student, by the attribute name the module registers them under."""
        return {}

    def teacher_set(self, teachers: Sequence[nn.Module], chain_model: nn.Module | None) -> TeacherSet:
        """The teachers the student learns from (slot order; None = an empty slot) and the slots' names."""
        return [], []

    # ----------------------------------------------------------------------------------------------- loss
    def loss(self, m: HPMKDModule, b: Batch) -> torch.Tensor:
        return b.ce


class Direct(Objective):
    """The student trained on labels alone (cross-entropy): the reference every distillation is compared with."""


class KD(Objective):
    """Hinton KD from the first teacher: α·T²·KL(p_T ‖ p_S) + (1 − α)·CE."""

    name = "kd"
    needs_teacher = distils = recorded = True

    def teacher_set(self, teachers: Sequence[nn.Module], chain_model: nn.Module | None) -> TeacherSet:
        return [teachers[0]], ["teacher0"]

    def soft_targets(self, m: HPMKDModule, b: Batch, z: torch.Tensor, t: float) -> torch.Tensor:
        """p_T ``[B, C]`` from the teacher set's logits ``z`` ``[K, B, C]``: the first slot's softmax."""
        return F.softmax(z[0] / t, -1)

    def loss(self, m: HPMKDModule, b: Batch) -> torch.Tensor:
        t = _temperature(m)
        z = m._teacher_logits(b.x, b.idx)  # [K, B, C]
        return _kd_term(m, b, self.soft_targets(m, b, z, t), t)


class KDEnsemble(KD):
    """KD from the equal-weight ensemble of all teachers, p_T = (1/M)·Σ_m softmax(z_m/T) (AWMT's fair control)."""

    name = "kd_ensemble"

    def teacher_set(self, teachers: Sequence[nn.Module], chain_model: nn.Module | None) -> TeacherSet:
        return list(teachers), [f"teacher{i}" for i in range(len(teachers))]

    def soft_targets(self, m: HPMKDModule, b: Batch, z: torch.Tensor, t: float) -> torch.Tensor:
        return F.softmax(z / t, -1).mean(0)


class FitNets(KD):
    """FitNets: the L2 hint of the regressed penultimate features, alone for ``fitnets.hint_epochs`` epochs, then
    KD (+ ``fitnets.hint_weight_kd`` × the hint)."""

    name = "fitnets"
    recorded = False
    features = True

    def build(
        self, m: HPMKDModule, input_shape: Sequence[int] | None, peer: nn.Module | None
    ) -> dict[str, nn.Module | None]:
        dims = classifier_of(m.net).in_features, classifier_of(m.teachers[0]).in_features
        return {"regressor": HintRegressor(*dims)}

    def loss(self, m: HPMKDModule, b: Batch) -> torch.Tensor:
        t = _temperature(m)
        z = m._teacher_logits(b.x, b.idx)
        hint = hint_loss(m.regressor(b.feats[-1]), m._teacher_feature_batch(b.x, b.idx))
        m._track("train/hint", hint)
        settings = m.hparams.fitnets
        if m.current_epoch < settings["hint_epochs"]:
            return hint
        loss = _kd_term(m, b, self.soft_targets(m, b, z, t), t)
        if settings["hint_weight_kd"]:
            loss = loss + settings["hint_weight_kd"] * hint
        return loss


class TAKD(KD):
    """TAKD: KD from a teacher assistant at the geometric midpoint (the chain with L = 2, no stopping test)."""

    name = "takd"
    recorded = False
    chain_label = "takd"

    def chain(self, comp: dict[str, bool], settings: dict[str, Any]) -> ProgressiveDistillationChain | None:
        return ProgressiveDistillationChain(steps=2, epsilon=None)

    def teacher_set(self, teachers: Sequence[nn.Module], chain_model: nn.Module | None) -> TeacherSet:
        return [chain_model or teachers[0]], ["chain" if chain_model is not None else "teacher0"]


class DML(Objective):
    """Deep mutual learning: the student and ``model.peer`` learn from each other's (detached) predictions."""

    name = "dml"

    def build(
        self, m: HPMKDModule, input_shape: Sequence[int] | None, peer: nn.Module | None
    ) -> dict[str, nn.Module | None]:
        if not isinstance(peer, nn.Module):
            raise ConfigError(
                "model.peer", peer, "DML's second student network", "set model.peer=${model.net}."
            )
        return {"peer": peer}

    def loss(self, m: HPMKDModule, b: Batch) -> torch.Tensor:
        peer_logits = m.peer(b.x)
        loss_a, loss_b = dml_losses(b.logits, peer_logits, b.y, m.hparams.dml["temperature"])
        m._track("train/peer_acc", (peer_logits.argmax(1) == b.y).float().mean())
        return loss_a + loss_b


class AWMT(KD):
    """Attention-weighted multi-teacher KD over all teachers: p_T = Σ_m a_m(x)·softmax(z_m/T), plus the entropy
    bonus β·R_attn (β × T² with ``t_squared``: the draft's balance between the KL and the bonus)."""

    name = "awmt"
    recorded = False
    #: the first slot is the chain's model (HPM-KD with PDC on)
    chain_slot = False

    def build(
        self, m: HPMKDModule, input_shape: Sequence[int] | None, peer: nn.Module | None
    ) -> dict[str, nn.Module | None]:
        if input_shape is None:
            raise ConfigError(
                "model.input_shape", None, "the input shape (AWMT's feature size)", "set ${data.input_shape}."
            )
        a = m.hparams.awmt
        slots = len(m.teachers) + int(self.chain_slot)
        attention = AttentionWeightedMultiTeacher(
            input_shape,
            slots,
            m.hparams.num_classes,
            hidden=a["hidden"],
            dropout=a["dropout"],
            embed_dim=a["embed_dim"],
            pool=a["pool"],
            use_teacher_outputs=a["use_teacher_outputs"],
        )
        return {"awmt": attention}

    def teacher_set(self, teachers: Sequence[nn.Module], chain_model: nn.Module | None) -> TeacherSet:
        head: list[nn.Module | None] = [chain_model] if self.chain_slot else []
        names = (["chain"] if self.chain_slot else []) + [f"teacher{i}" for i in range(len(teachers))]
        return head + list(teachers), names

    def loss(self, m: HPMKDModule, b: Batch) -> torch.Tensor:
        t = _temperature(m)
        z = m._teacher_logits(b.x, b.idx)
        probs = F.softmax(z / t, -1) if m.awmt.use_teacher_outputs else None
        weights = m.awmt(b.x, probs, m._mask)  # [B, K]
        # p_T before R_attn, as before the split: the autograd graph, and so its gradient sums, in the same order
        p_t = mix_teachers(weights, z, t)
        reg = attention_regulariser(weights)
        m._track("train/attn_entropy", -reg)
        w = weights.detach().sum(0)
        m._attn_total = w if m._attn_total is None else m._attn_total + w
        m._attn_total_n += len(b.y)
        m._attn_ent_total += float(-reg.detach()) * len(b.y)
        loss = _kd_term(m, b, p_t, t)
        beta = m.hparams.awmt["beta"] * (t**2 if m.hparams.t_squared else 1.0)
        return loss + beta * reg


class HPMKD(AWMT):
    """HPM-KD's student loss: AWMT over (the chain's model, the teachers) with PDC and AWMT on; with AWMT off, KD
    from the chain's model (else the first teacher). ACM, PDC, MTS, PPP and SOM act in the module's setup."""

    name = "hpmkd"
    recorded = True
    chain_label = "pdc"
    components = COMPONENTS

    def __init__(self, method: str | None = None) -> None:
        super().__init__(method)
        self.attention = True

    def chain(self, comp: dict[str, bool], settings: dict[str, Any]) -> ProgressiveDistillationChain | None:
        if not comp["pdc"]:
            return None
        c = settings
        return ProgressiveDistillationChain(c["steps"], c["epsilon"], c["mode"], c["depths"])

    def build(
        self, m: HPMKDModule, input_shape: Sequence[int] | None, peer: nn.Module | None
    ) -> dict[str, nn.Module | None]:
        self.chain_slot, self.attention = m.comp["pdc"], m.comp["awmt"]
        return super().build(m, input_shape, peer) if self.attention else {}

    def teacher_set(self, teachers: Sequence[nn.Module], chain_model: nn.Module | None) -> TeacherSet:
        if self.attention:
            return super().teacher_set(teachers, chain_model)
        return TAKD.teacher_set(self, teachers, chain_model)  # type: ignore[arg-type]

    def loss(self, m: HPMKDModule, b: Batch) -> torch.Tensor:
        return super().loss(m, b) if self.attention else KD.loss(self, m, b)


#: the objective of each method label (:func:`for_method`)
OBJECTIVES: dict[str, type[Objective]] = {
    cls.name: cls for cls in (Direct, KD, KDEnsemble, FitNets, TAKD, DML, AWMT, HPMKD)
}


def for_method(method: str) -> Objective:
    """The objective of a method label: for configs that choose the method by ``model.method`` (the cross
    experiments sweep ``model.method=hpmkd,kd``); the method configs choose by ``_target_``."""
    cls = OBJECTIVES.get(method)
    if cls is None:
        raise ConfigError(
            "model.method", method, f"one of {list(OBJECTIVES)}", "e.g. model=hpmkd/hpmkd or model=hpmkd/kd."
        )
    return cls(method)


# ----------------------------------------------------------------------------------------------- helpers
def _temperature(m: HPMKDModule) -> float:
    """T of this step. The schedule's T is tracked as its epoch mean (``train/temperature``; its first / last /
    min / max over the run are the ``mts/T_*`` record): a per-step ``self.log`` costs ~1 ms on CPU, which made an
    HPM-KD step of a small student measurably slower than a KD step. A fixed T is logged once per epoch."""
    t = m.temperature
    if m._mts is not None:
        m._track("train/temperature", torch.tensor(t))
    return t


def _kd_term(m: HPMKDModule, b: Batch, p_t: torch.Tensor, t: float) -> torch.Tensor:
    """α·KL_T(p_T ‖ p_S) + (1 − α)·CE (the CE with the run's label smoothing); logs the KL as ``train/kd``."""
    alpha = m._alpha
    loss, kl, _ = kd_objective(b.logits, p_t, b.y, t, alpha, bool(m.hparams.t_squared))
    if m.hparams.label_smoothing:
        loss = alpha * kl + (1 - alpha) * b.ce
    m._track("train/kd", kl)
    return loss

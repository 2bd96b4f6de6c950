"""Training losses of SRNet mask training and fine-tuning: CE and the three debiasing losses (srnet.md §2.1).

Notation: p_m = softmax(model logits), p_b = the bias-only model's probabilities (given as log-probs, one row per
example), β = p_b^c the bias probability of the gold class c, p_t = a CE-trained teacher's probabilities.

=============  =====================================================================  ==========================
name           loss per example (batch mean unless noted)                             needs
=============  =====================================================================  ==========================
``ce``         L_std = −log p_m^c                                                     –
``poe``        L_poe = −log softmax(log p_m + log p_b)^c   (product of experts)       bias
``reweight``   L_rw = Σ_i (1−β_i)·CE_i / Σ_i (1−β_i)       (Eq. 7; the official code  bias
               normalises by Σw, ``normalise=False`` gives Eq. 7's mean)
``conf_reg``   L_cr = −Σ_j S(p_t, β)_j · log p_m^j,  S_j = (p_t^j)^{1−β} / Σ_k (p_t^k)^{1−β}   (Eq. 8)  bias, teacher
=============  =====================================================================  ==========================

With a uniform bias (log p_b constant per row) PoE equals CE; with β = 0 reweighting equals CE; with β = 0 and a
one-hot teacher conf-reg equals CE. Logits are promoted to float32 first (as the official code does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from compresslab.utils.errors import ConfigError, DataError


def check_labels(labels: torch.Tensor, num_classes: int, where: str = "batch") -> None:
    """Raise :class:`DataError` naming the first label outside ``0..num_classes-1``."""
    if labels.numel() == 0:
        return
    bad = (labels < 0) | (labels >= num_classes)
    if bool(bad.any()):
        value = int(labels[bad][0])
        raise DataError(
            where,
            f"label {value} is outside the label set 0..{num_classes - 1} ({int(bad.sum())} such labels)",
            f"class indices in [0, {num_classes}) (the dataset's label order)",
        )


def ce_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """L_std = −log p_m^c, mean over the batch. logits [B, C], labels [B] → scalar."""
    return F.cross_entropy(logits.float(), labels)


def poe_loss(logits: torch.Tensor, labels: torch.Tensor, bias_log_probs: torch.Tensor) -> torch.Tensor:
    """L_poe = CE(log p_m + log p_b, y): the cross-entropy re-normalises the product of experts. → scalar."""
    combined = F.log_softmax(logits.float(), dim=-1) + bias_log_probs.float()  # [B, C]
    return F.cross_entropy(combined, labels)


def gold_bias_prob(bias_log_probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """β_i = p_b(gold) per example, [B]."""
    return bias_log_probs.float().gather(1, labels[:, None]).squeeze(1).exp()


def reweight_loss(
    logits: torch.Tensor, labels: torch.Tensor, bias_log_probs: torch.Tensor, normalise: bool = True
) -> torch.Tensor:
    """Eq. 7: per-example CE weighted by 1 − β; normalised by Σ(1 − β) (official) or averaged (Eq. 7)."""
    w = 1.0 - gold_bias_prob(bias_log_probs, labels)  # [B]
    ce = F.cross_entropy(logits.float(), labels, reduction="none")  # [B]
    if normalise:
        return (w * ce).sum() / w.sum().clamp_min(1e-12)
    return (w * ce).mean()


def conf_reg_loss(
    logits: torch.Tensor, labels: torch.Tensor, bias_log_probs: torch.Tensor, teacher_probs: torch.Tensor
) -> torch.Tensor:
    """Eq. 8: soft CE against the teacher's probabilities scaled by (1 − β) and renormalised. → scalar."""
    beta = gold_bias_prob(bias_log_probs, labels)  # [B]
    scaled = teacher_probs.float().clamp_min(0.0) ** (1.0 - beta)[:, None]  # [B, C]
    targets = scaled / scaled.sum(-1, keepdim=True).clamp_min(1e-12)  # S(p_t, β)
    return -(targets * F.log_softmax(logits.float(), dim=-1)).sum(-1).mean()


@dataclass(frozen=True)
class TrainingLoss:
    """A loss by name with what it needs: call ``loss(logits, labels, bias_log_probs, teacher_probs)``."""

    name: str
    needs_bias: bool
    needs_teacher: bool
    reweight_normalise: bool = True

    def __call__(
        self,
        logits: torch.Tensor,
        labels: torch.Tensor,
        bias_log_probs: torch.Tensor | None = None,
        teacher_probs: torch.Tensor | None = None,
    ) -> torch.Tensor:
        if self.needs_bias and bias_log_probs is None:
            raise ConfigError(
                "model.bias_file",
                None,
                f"bias-only log-probs (loss '{self.name}' needs them)",
                "set model.bias_file.",
            )
        if self.needs_teacher and teacher_probs is None:
            raise ConfigError(
                "model.teacher_run",
                None,
                "a CE fine-tuned teacher run (conf_reg needs it)",
                "set model.teacher_run.",
            )
        if self.name == "ce":
            return ce_loss(logits, labels)
        if self.name == "poe":
            return poe_loss(logits, labels, bias_log_probs)
        if self.name == "reweight":
            return reweight_loss(logits, labels, bias_log_probs, self.reweight_normalise)
        return conf_reg_loss(logits, labels, bias_log_probs, teacher_probs)


#: loss name → (needs bias, needs teacher)
LOSSES: dict[str, tuple[bool, bool]] = {
    "ce": (False, False),
    "poe": (True, False),
    "reweight": (True, False),
    "conf_reg": (True, True),
}
#: the paper's names for the same losses
ALIASES = {"std": "ce", "reweighting": "reweight", "regularization": "conf_reg", "confreg": "conf_reg"}


def get_loss(name: str, reweight_normalise: bool = True, key: str = "model.loss") -> TrainingLoss:
    """The :class:`TrainingLoss` called ``name`` (or one of its paper aliases).

    Raises:
        ConfigError: unknown name (names the value and the accepted ones).
    """
    canonical = ALIASES.get(name, name) if isinstance(name, str) else name
    if canonical not in LOSSES:
        raise ConfigError(
            key, name, f"one of {sorted(LOSSES)} (aliases {sorted(ALIASES)})", f"set {key}=poe or {key}=ce."
        )
    bias, teacher = LOSSES[canonical]
    return TrainingLoss(canonical, bias, teacher, reweight_normalise)


LossFn = Callable[..., torch.Tensor]

__all__ = [
    "ALIASES",
    "LOSSES",
    "TrainingLoss",
    "ce_loss",
    "check_labels",
    "conf_reg_loss",
    "get_loss",
    "gold_bias_prob",
    "poe_loss",
    "reweight_loss",
]

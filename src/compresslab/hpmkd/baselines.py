"""The knowledge-distillation baselines of the HPM-KD comparison, as losses and small modules.

All of them run inside :class:`compresslab.hpmkd.module.HPMKDModule`, one objective each
(:mod:`compresslab.hpmkd.objectives`), so they share its data, its optimiser, its cached teacher outputs and its
logging; the paper-table rows differ only in the loss.

* **direct** — cross-entropy only (the student trained without a teacher).
* **kd** — Hinton et al. (2015): α·T²·KL(softmax(z_T/T) ‖ softmax(z_S/T)) + (1 − α)·CE (draft's baseline: T = 4,
  α = 0.7), :func:`hinton_loss`.
* **kd_ensemble** — the fair control for HPM-KD's multi-teacher part: Hinton KD from the equal-weight ensemble
  of the same teachers, p_T = (1/M)·Σ_m softmax(z_m/T) (no attention, no chain).
* **fitnets** — Romero et al. (2015): a regressor maps the student's penultimate features to the teacher's and an
  L2 hint loss ½‖r(f_S) − f_T‖² pulls them together (draft: "L2 hint on the penultimate layer"); stage 1
  (``hint_epochs``) trains on the hint alone, stage 2 on KD (+ the hint with ``hint_weight_kd``),
  :class:`HintRegressor`, :func:`hint_loss`.
* **takd** — Mirzadeh et al. (2020): one teacher assistant halfway — the student's family at the geometric
  midpoint |θ_A| = √(|θ_T|·|θ_S|) (the chain of :mod:`compresslab.hpmkd.chain` with L = 2 and no stopping) —
  trained by KD from the teacher; the student then does KD from the assistant, :func:`takd_assistant_params`.
* **dml** — Zhang et al. (2018): two students trained together, each with CE + KL(p_peer ‖ p_self) against the
  other's (detached) prediction; no teacher, :func:`dml_losses`. Both are updated in the same step by one
  optimiser (the paper alternates the two updates; with detached targets the gradients are the same).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from compresslab.hpmkd.engine import soft_kl
from compresslab.utils.errors import ConfigError


def check_kd_values(temperature: float, alpha: float, where: str = "model") -> None:
    """T > 0 and α ∈ [0, 1], else a ConfigError naming the key."""
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
    ):
        raise ConfigError(f"{where}.temperature", temperature, "a finite number > 0", "the draft uses T = 4.")
    if temperature <= 0:
        raise ConfigError(
            f"{where}.temperature", temperature, "a temperature > 0 (softmax(z / T))", "the draft uses T = 4."
        )
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 <= alpha <= 1:
        raise ConfigError(
            f"{where}.alpha", alpha, "a weight in [0, 1] (α·KL + (1 − α)·CE)", "the draft's KD uses α = 0.7."
        )


def hinton_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    temperature: float,
    alpha: float,
    t_squared: bool = True,
) -> torch.Tensor:
    """α·T²·KL(softmax(z_T/T) ‖ softmax(z_S/T)) + (1 − α)·CE(z_S, y), batch means."""
    check_kd_values(temperature, alpha)
    kl = soft_kl(student_logits, F.softmax(teacher_logits.float() / temperature, -1), temperature, t_squared)
    return alpha * kl + (1 - alpha) * F.cross_entropy(student_logits, labels)


class HintRegressor(nn.Module):
    """FitNets' regressor from the student's penultimate features ``[B, D_S]`` to the teacher's ``[B, D_T]``."""

    def __init__(self, student_dim: int, teacher_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(student_dim, teacher_dim)

    def forward(self, f_s: torch.Tensor) -> torch.Tensor:
        return self.proj(f_s)  # [B, D_T]


def hint_loss(regressed: torch.Tensor, teacher_features: torch.Tensor) -> torch.Tensor:
    """½ ‖r(f_S) − f_T‖² per sample, mean over the batch (FitNets Eq. 3)."""
    return 0.5 * (regressed - teacher_features.to(regressed.dtype)).pow(2).sum(-1).mean()


def dml_losses(
    logits_a: torch.Tensor, logits_b: torch.Tensor, labels: torch.Tensor, temperature: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Deep mutual learning: (CE_a + KL(p_b ‖ p_a), CE_b + KL(p_a ‖ p_b)), each peer's target detached."""
    check_kd_values(temperature, 0.0, "model.dml")
    p_a = F.softmax(logits_a.detach().float() / temperature, -1)
    p_b = F.softmax(logits_b.detach().float() / temperature, -1)
    loss_a = F.cross_entropy(logits_a, labels) + soft_kl(logits_a, p_b, temperature, t_squared=False)
    loss_b = F.cross_entropy(logits_b, labels) + soft_kl(logits_b, p_a, temperature, t_squared=False)
    return loss_a, loss_b


def takd_assistant_params(teacher_params: int, student_params: int) -> float:
    """|θ_A| = √(|θ_T| · |θ_S|): halfway on the log scale (the geometric chain with L = 2)."""
    if teacher_params <= 0 or student_params <= 0:
        raise ConfigError("takd.params", (teacher_params, student_params), "counts > 0", "check the models.")
    return math.sqrt(teacher_params * student_params)

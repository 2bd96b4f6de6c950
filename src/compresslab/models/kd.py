"""Knowledge-distillation losses (Hinton et al. 2015), the one home of the soft-target KL every method uses.

* :func:`kd_loss` — τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) from the teacher's logits (Learngene's Eq. 6–8,
  :class:`compresslab.models.DistillationModule`).
* :func:`soft_kl` — the same KL from the teacher's (already softened) probabilities, so mixtures of teachers work
  too; ×τ² optional (HPM-KD's objective and baselines).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kd_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """τ²·KL(softmax(t/τ) ‖ softmax(s/τ)), mean over the batch: logits [B, C] each → scalar."""
    log_p_s = F.log_softmax(student_logits / temperature, dim=-1)  # [B, C]
    log_p_t = F.log_softmax(teacher_logits / temperature, dim=-1)  # [B, C]
    return F.kl_div(log_p_s, log_p_t, reduction="batchmean", log_target=True) * temperature**2


def soft_kl(
    student_logits: torch.Tensor, teacher_probs: torch.Tensor, temperature: float, t_squared: bool = True
) -> torch.Tensor:
    """KL(p_teacher ‖ softmax(s / T)), mean over the batch, × T² if ``t_squared`` (Hinton et al. 2015).

    ``teacher_probs`` ``[B, C]`` is a distribution (already softened), so mixtures of teachers work too.
    """
    log_p_s = F.log_softmax(student_logits / temperature, dim=-1)  # [B, C]
    p_t = teacher_probs.clamp_min(0)
    kl = (p_t * (torch.log(p_t.clamp_min(1e-12)) - log_p_s)).sum(-1).mean()
    return kl * temperature**2 if t_squared else kl

"""Learning-rate schedules shared by the method packages (epoch-wise and step-wise warm-up recipes).

* :func:`warmup_cosine` — linear warm-up then cosine decay, epoch-wise (DeiT / Learngene recipe).
* :func:`linear_warmup_decay` — linear warm-up then linear decay to 0, step-wise (HF
  ``get_linear_schedule_with_warmup``; SRNet's fine-tuning and mask training).
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)


def warmup_cosine(
    optimizer: torch.optim.Optimizer,
    max_epochs: int,
    warmup_epochs: int = 5,
    warmup_start_factor: float = 1e-3,
) -> torch.optim.lr_scheduler.LRScheduler:
    """Linear warm-up for ``warmup_epochs`` then cosine decay to 0 at ``max_epochs`` (DeiT / learngene recipe)."""
    if warmup_epochs <= 0:
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, max_epochs))
    if warmup_epochs >= max_epochs:  # e.g. a 1-epoch smoke run of a 100-epoch recipe: warm up, then decay
        log.warning("warmup_epochs=%d >= max_epochs=%d: using %d", warmup_epochs, max_epochs, max_epochs - 1)
        warmup_epochs = max_epochs - 1
        if warmup_epochs == 0:
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=1)
    warm = torch.optim.lr_scheduler.LinearLR(optimizer, warmup_start_factor, 1.0, total_iters=warmup_epochs)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max_epochs - warmup_epochs)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warm, cos], milestones=[warmup_epochs])


def linear_warmup_decay(
    optimizer: torch.optim.Optimizer,
    num_training_steps: int,
    warmup_steps: int = 0,
    warmup_ratio: float = 0.0,
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warm-up over ``warmup_steps`` (or ``warmup_ratio``·total) then linear decay to 0 at
    ``num_training_steps`` (HF ``get_linear_schedule_with_warmup``, the official scripts' schedule; step-wise)."""
    warm = max(int(warmup_steps), int(warmup_ratio * num_training_steps))
    total = max(1, int(num_training_steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / (warm + 1)
        return max(0.0, (total - step) / max(1, total - warm))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

"""DeiT's weight-decay groups for learngene models (paper App. A.3.3: AdamW, weight decay 0.05, "following DeiT").

DeiT builds its optimiser with timm's ``create_optimizer``: no weight decay on 1-D parameters (biases, LayerNorm
gains and biases) nor on the names the model lists in ``no_weight_decay()`` (``pos_embed``, ``cls_token`` …); all
other parameters decay. :func:`weight_decay_groups` applies exactly timm's rule
(``timm.optim.param_groups_weight_decay``) to any module that *contains* such models: a LightningModule around a
:class:`~compresslab.learngene.LearngeneViT`, the LearngeneViT itself, or a recomposed timm ViT. The
``no_weight_decay()`` names of every submodule are collected with their prefixes (``net.host.pos_embed``), which
timm's own helper, reading only the top module, would miss.

For the learngenes this means: the gene tensors of qkv/proj/fc1/fc2 weights decay; the genes' biases and
LayerNorm gains/biases (1-D per gene) do not, so the composed gain Σ a(l, n)·g_n is not pulled towards 0.

    optimizer = torch.optim.AdamW(weight_decay_groups(module, 0.05), lr=8e-4)
"""

from __future__ import annotations

from typing import Any

from timm.optim import param_groups_weight_decay
from torch import nn


def no_weight_decay_names(module: nn.Module) -> set[str]:
    """Full parameter names that some submodule's ``no_weight_decay()`` exempts from weight decay."""
    names: set[str] = set()
    for prefix, sub in module.named_modules():
        listed = getattr(sub, "no_weight_decay", None)
        if callable(listed):
            names |= {f"{prefix}.{name}" if prefix else name for name in listed()}
    return names


def weight_decay_groups(module: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """timm/DeiT parameter groups of ``module``'s trainable parameters.

    Returns ``[{"params": [...], "weight_decay": 0.0}, {"params": [...], "weight_decay": weight_decay}]``
    (a group is left out when empty), ready for any ``torch.optim`` optimiser. Frozen parameters (ICT's earlier
    genes, a teacher) are in no group.
    """
    return param_groups_weight_decay(
        module, weight_decay, weight_decay_exclude_1d=True, no_weight_decay_list=no_weight_decay_names(module)
    )

"""Small networks for CPU-scale experiments (image ConvNet, tabular MLP). Plain nn.Modules, typed arguments.

Argument names follow timm (``in_chans``, ``num_classes``) so any timm model can stand in for these in a
config (``model.net._target_: timm.create_model``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from torch import nn


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(min(8, channels), channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"model.net.norm: got {kind!r}, expected 'batch', 'group' or 'none'")


class ConvNet(nn.Module):
    """A VGG-style stack: per stage conv3×3 → norm → ReLU → max-pool 2, then global average pool and a linear head.

    Args:
        in_chans: input channels.
        num_classes: output classes.
        widths: output channels of each stage (one 2× down-sampling per stage).
        norm: ``batch``, ``group`` (batch-size independent, so DDP equals single-process exactly) or ``none``.
        dropout: dropout before the head.
    """

    def __init__(
        self,
        in_chans: int = 1,
        num_classes: int = 10,
        widths: Sequence[int] = (16, 32, 64),
        norm: Literal["batch", "group", "none"] = "group",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_chans
        for w in widths:
            layers += [
                nn.Conv2d(c, w, 3, padding=1, bias=norm == "none"),
                _norm(norm, w),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(2),
            ]
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c, num_classes))
        self.num_features = c

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.features(x))  # [B, C, 1, 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))  # [B, num_classes]


class MLP(nn.Module):
    """Fully connected classifier over the flattened input: (Linear → ReLU → Dropout)* → Linear.

    One class for the former ``compresslab.models.MLP`` and ``compresslab.hpmkd.nets.MLPNet``, which computed
    the same function with the same initialisation; this keeps MLPNet's layout (``features`` + ``head``, and
    ``num_features`` for feature-based distillation). State dicts saved by the old ``compresslab.models.MLP``
    (one ``net`` Sequential) still load: their ``net.*`` keys are renamed on load.

    Args:
        in_features: flattened input size.
        num_classes: output classes.
        hidden: hidden-layer widths.
        dropout: dropout after each hidden layer.
    """

    def __init__(
        self, in_features: int, num_classes: int, hidden: Sequence[int] = (64, 64), dropout: float = 0.0
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        d = in_features
        for h in hidden:
            layers += [nn.Linear(d, int(h)), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            d = int(h)
        self.features = nn.Sequential(*layers)
        self.num_features = d
        self.head = nn.Linear(d, num_classes)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object, **kwargs: object) -> None:
        n_hidden = len(self.features)  # the old single Sequential ended with the head at this index
        for key in [k for k in state_dict if k.startswith(prefix + "net.")]:
            index, _, rest = key[len(prefix) + 4 :].partition(".")
            new = f"head.{rest}" if int(index) == n_hidden else f"features.{index}.{rest}"
            state_dict[prefix + new] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x.flatten(1)))  # [B, num_classes]

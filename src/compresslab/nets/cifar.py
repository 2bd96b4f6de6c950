"""CIFAR-scale networks (32×32 inputs) behind one factory (:func:`build_net`) with one width knob; the HPM-KD
experiments' teachers and students.

The draft's architectures (hpmkd.md §4.2): CIFAR teachers ResNet-56 / WRN-28-10, students ResNet-20 /
MobileNetV2, tabular MLP teachers and students. torchvision's and timm's ResNets are the ImageNet variants (7×7
stem, 4 stages, 11M+ parameters), so the CIFAR ResNet of He et al. (2016, §4.2: 3 stages of n basic blocks,
16/32/64 channels, depth 6n + 2, parameter-free zero-padding shortcuts) and the Wide ResNet of Zagoruyko &
Komodakis (2016: pre-activation blocks, widths 16k/32k/64k, depth 6n + 4) are written here. MobileNetV2 is timm's
(:func:`cifar_mobilenetv2`, ``output_stride=8`` so that a 32×32 image keeps a 4×4 map before pooling; the
ImageNet-style MobileNetV2 of the RNNPool tables is :func:`compresslab.nets.rnnpool_backbones.mobilenetv2`). The
tabular MLP is :class:`compresslab.nets.small.MLP`.

:func:`build_net` gives every family the same signature, so that

* an experiment switches family by changing values, never keys (``arch: mlp`` vs ``arch: resnet``), and
* the Progressive Distillation Chain scales the student's family through one argument, ``width`` (a multiplier
  of the hidden sizes, of the base channel count, of the widen factor, or timm's channel multiplier).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from compresslab.nets.small import MLP
from compresslab.utils.errors import ConfigError

ARCHS = ("mlp", "resnet", "wrn", "mobilenetv2")


def _scaled(width: float, base: int) -> int:
    """``round(base · width)``, at least 1."""
    return max(1, int(round(base * width)))


# ------------------------------------------------------------------------------------------------ helpers
def _stages(
    block: Callable[[int, int, int], nn.Module], c: int, widths: Sequence[int], n: int
) -> tuple[nn.Sequential, int]:
    """``n`` blocks ``block(c_in, c_out, stride)`` per stage of ``widths``, from ``c`` input channels; the first
    block of every stage after the first has stride 2. Returns the blocks and their output channels."""
    blocks: list[nn.Module] = []
    for stage, w in enumerate(widths):
        for i in range(n):
            blocks.append(block(c, w, 2 if (stage > 0 and i == 0) else 1))
            c = w
    return nn.Sequential(*blocks), c


def _init_convs(model: nn.Module) -> None:
    """He (fan-out) initialisation of every Conv2d of ``model``, as the CIFAR ResNets."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


# ------------------------------------------------------------------------------------------ CIFAR ResNet
class _BasicBlock(nn.Module):
    """conv3×3 → BN → ReLU → conv3×3 → BN, + shortcut, → ReLU (He et al. 2016)."""

    def __init__(self, c_in: int, c_out: int, stride: int, shortcut: str) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.stride, self.pad = stride, c_out - c_in
        self.proj: nn.Module | None = None
        if (stride != 1 or c_in != c_out) and shortcut == "conv":  # option B
            self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        if self.proj is not None:
            return self.proj(x)
        if self.stride != 1:  # option A: subsample, zero-pad the new channels (no parameters)
            x = x[:, :, :: self.stride, :: self.stride]
        if self.pad > 0:
            x = F.pad(x, (0, 0, 0, 0, 0, self.pad))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + self._shortcut(x), inplace=True)


class CifarResNet(nn.Module):
    """ResNet for 32×32 inputs (He et al. 2016, §4.2): depth = 6n + 2, stages of ``base, 2·base, 4·base``
    channels. ResNet-20 (n=3) has 0.27M parameters and ResNet-56 (n=9) 0.85M at 10 classes, as the papers.

    Args:
        depth: 6n + 2 (8, 14, 20, 32, 44, 56, 110, …).
        num_classes: output classes.
        in_chans: input channels.
        base_width: channels of the first stage (16 in the paper).
        shortcut: ``pad`` (option A, parameter-free, the paper's CIFAR choice) or ``conv`` (option B).
    """

    def __init__(
        self,
        depth: int = 20,
        num_classes: int = 10,
        in_chans: int = 3,
        base_width: int = 16,
        shortcut: Literal["pad", "conv"] = "pad",
    ) -> None:
        super().__init__()
        if depth < 8 or (depth - 2) % 6:
            raise ConfigError(
                "model.net.depth", depth, "6n + 2 with n ≥ 1 (8, 14, 20, 32, 44, 56, …)", "e.g. 20 or 56."
            )
        if shortcut not in ("pad", "conv"):
            raise ConfigError("model.net.shortcut", shortcut, "'pad' or 'conv'", "the paper uses 'pad'.")
        n = (depth - 2) // 6
        widths = [base_width, 2 * base_width, 4 * base_width]
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, widths[0], 3, 1, 1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        self.blocks, c = _stages(partial(_BasicBlock, shortcut=shortcut), widths[0], widths, n)
        self.num_features = c
        self.head = nn.Linear(c, num_classes)
        _init_convs(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1).flatten(1)  # [B, 4·base]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))  # [B, num_classes]


# ---------------------------------------------------------------------------------------------- Wide ResNet
class _WideBlock(nn.Module):
    """Pre-activation block: BN → ReLU → conv3×3 → (dropout) → BN → ReLU → conv3×3, + shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int, dropout: float) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.proj = nn.Conv2d(c_in, c_out, 1, stride, bias=False) if (stride != 1 or c_in != c_out) else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        o = F.relu(self.bn1(x), inplace=False)
        shortcut = x if self.proj is None else self.proj(o)
        o = self.conv1(o)
        o = self.conv2(self.dropout(F.relu(self.bn2(o), inplace=True)))
        return o + shortcut


class WideResNet(nn.Module):
    """WRN-d-k (Zagoruyko & Komodakis 2016): depth = 6n + 4, stages of 16k, 32k, 64k channels.
    WRN-28-10 has 36.5M parameters at 10 classes.

    Args:
        depth: 6n + 4 (16, 22, 28, 40, …).
        widen_factor: k (may be fractional; channel counts are rounded).
        num_classes: output classes.
        in_chans: input channels.
        dropout: dropout between the two convolutions of a block (0.3 in the paper's CIFAR runs).
    """

    def __init__(
        self,
        depth: int = 28,
        widen_factor: float = 10.0,
        num_classes: int = 10,
        in_chans: int = 3,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ConfigError(
                "model.net.depth", depth, "6n + 4 with n ≥ 1 (10, 16, 22, 28, 40, …)", "e.g. 28."
            )
        n = (depth - 4) // 6
        widths = [_scaled(widen_factor, 16 * m) for m in (1, 2, 4)]
        self.stem = nn.Conv2d(in_chans, 16, 3, 1, 1, bias=False)
        self.blocks, c = _stages(partial(_WideBlock, dropout=dropout), 16, widths, n)
        self.bn = nn.BatchNorm2d(c)
        self.num_features = c
        self.head = nn.Linear(c, num_classes)
        _init_convs(self)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        o = F.relu(self.bn(self.blocks(self.stem(x))), inplace=True)
        return F.adaptive_avg_pool2d(o, 1).flatten(1)  # [B, 64k]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.forward_features(x))  # [B, num_classes]


# ------------------------------------------------------------------------------------------- MobileNetV2
def cifar_mobilenetv2(
    num_classes: int, in_chans: int = 3, width: float = 1.0, output_stride: int = 8, dropout: float = 0.0
) -> nn.Module:
    """timm's MobileNetV2 for 32×32 inputs, with channel multiplier ``width`` (1.0 = ``mobilenetv2_100``, 2.35M
    parameters at 100 classes). ``output_stride=8`` dilates the last stages instead of striding."""
    from timm.models import efficientnet

    gen = getattr(efficientnet, "_gen_mobilenet_v2", None)
    if gen is None:  # pragma: no cover - depends on the timm version
        raise ConfigError(
            "model.net.arch",
            "mobilenetv2",
            "a timm version with timm.models.efficientnet._gen_mobilenet_v2 (timm ≥ 0.9)",
            "upgrade timm, or use arch=resnet.",
        )
    return gen(
        "mobilenetv2_100",
        channel_multiplier=float(width),
        num_classes=num_classes,
        in_chans=in_chans,
        output_stride=output_stride,
        drop_rate=dropout,
    )


# ------------------------------------------------------------------------------------------------ factory
def build_net(
    arch: Literal["mlp", "resnet", "wrn", "mobilenetv2"],
    input_shape: Sequence[int],
    num_classes: int,
    width: float = 1.0,
    depth: int | None = None,
    hidden: Sequence[int] = (128, 128),
    dropout: float = 0.0,
    widen_factor: float = 10.0,
    base_width: int = 16,
    shortcut: Literal["pad", "conv"] = "pad",
    output_stride: int = 8,
) -> nn.Module:
    """One network of a family, scaled by ``width``.

    Args:
        arch: ``mlp`` (hidden sizes × width; ``depth`` hidden layers, default ``len(hidden)``, extra layers
            repeat the last size), ``resnet`` (:class:`CifarResNet`, base channels ``base_width`` × width,
            ``depth`` default 20), ``wrn`` (:class:`WideResNet`, widen factor ``widen_factor`` × width, ``depth``
            default 28) or ``mobilenetv2`` (timm, channel multiplier = width).
        input_shape: shape of one input, e.g. ``[30]`` or ``[3, 32, 32]`` (``${data.input_shape}``).
        num_classes: output classes.
        width: the family's width multiplier (1.0 = the named architecture).
        depth: see ``arch``.
        hidden, dropout, widen_factor, base_width, shortcut, output_stride: per-family settings.
    """
    if arch not in ARCHS:
        raise ConfigError("model.net.arch", arch, f"one of {list(ARCHS)}", "e.g. arch=mlp for tabular data.")
    if not (isinstance(width, int | float) and math.isfinite(width) and width > 0):
        raise ConfigError(
            "model.net.width", width, "a finite multiplier > 0", "1.0 is the named architecture."
        )
    shape = [int(s) for s in input_shape]
    if arch == "mlp":
        if not hidden:
            raise ConfigError(
                "model.net.hidden", list(hidden), "at least one hidden size", "e.g. [128, 128]."
            )
        sizes = list(hidden)
        if depth is not None:
            if depth < 1:
                raise ConfigError("model.net.depth", depth, "≥ 1 hidden layers for arch=mlp", "or null.")
            sizes = (sizes + [sizes[-1]] * depth)[:depth]
        return MLP(math.prod(shape), num_classes, [_scaled(width, h) for h in sizes], dropout)
    if len(shape) != 3:
        raise ConfigError(
            "model.net.input_shape", shape, f"[C, H, W] for arch={arch}", "use arch=mlp for tabular data."
        )
    if arch == "resnet":
        return CifarResNet(depth or 20, num_classes, shape[0], _scaled(width, base_width), shortcut)
    if arch == "wrn":
        return WideResNet(depth or 28, widen_factor * width, num_classes, shape[0], dropout)
    return cifar_mobilenetv2(num_classes, shape[0], width, output_stride, dropout)

"""Drop-in downsampling blocks of the RNNPool paper's Table 2 ("second block") and the last-layer RNNPool.

Every downsampler maps [B, C_in, H, W] → [B, C_out, ceil(H/s), ceil(W/s)] so that the rows of Table 2 differ
only in how the map is reduced (rnnpool.md §3): "the image is passed through a convolution layer followed by
various downsampling methods to reduce the size of image by a factor of 4 × 4".

* ``avgpool`` / ``maxpool``: a patch×patch pool with the given stride, then a 1×1 convolution to C_out
  (channel match, 28·28·C_in·C_out MAdds; the host network's norm layer follows every block);
* ``strided_conv``: one patch×patch convolution, stride s (patch 6, stride 4 reproduces the paper's
  +58M MAdds over pooling: 28²·32·64·6²);
* ``renet``: a ReNet layer with s×s non-overlapping patches and C_out/2 GRU units per direction;
* ``rnnpool``: an RNNPoolLayer with h2 = C_out/4 (h1 = h2 unless given).

Window-based outputs are replicate-padded to ceil(H/s) like the RNNPoolLayer (27 → 28).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from compresslab.measure.peak_ram import register_peak_ram_rule
from compresslab.rnnpool.operator import RNNPool, RNNPoolLayer, _pair
from compresslab.rnnpool.renet import ReNetLayer
from compresslab.utils.errors import ConfigError

DOWNSAMPLERS = ("avgpool", "maxpool", "strided_conv", "renet", "rnnpool")


class _PadTo(nn.Module):
    """Replicate-pad a window operator's output on the right/bottom to ceil(H/s) × ceil(W/s)."""

    def __init__(self, op: nn.Module, stride: tuple[int, int]) -> None:
        super().__init__()
        self.op, self.stride = op, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_h, out_w = math.ceil(x.shape[-2] / self.stride[0]), math.ceil(x.shape[-1] / self.stride[1])
        y = self.op(x)  # [B, C, floor((H - r)/s) + 1, ...]
        return F.pad(y, (0, out_w - y.shape[-1], 0, out_h - y.shape[-2]), mode="replicate")


def make_downsampler(
    kind: str,
    in_channels: int,
    out_channels: int,
    patch_size: int | tuple[int, int] = 6,
    stride: int = 4,
    hidden1: int | None = None,
    cell: str = "fastgrnn",
    renet_rnn: str = "gru",
) -> nn.Module:
    """One Table-2 downsampling block by name (see the module docstring)."""
    patch, strides = _pair("patch_size", patch_size), _pair("stride", stride)
    if kind in ("avgpool", "maxpool"):
        pool_cls = nn.AvgPool2d if kind == "avgpool" else nn.MaxPool2d
        layers: list[nn.Module] = [_PadTo(pool_cls(patch, strides), strides)]
        if in_channels != out_channels:
            layers.append(nn.Conv2d(in_channels, out_channels, 1, bias=False))  # channel match
        return nn.Sequential(*layers)
    if kind == "strided_conv":
        return _PadTo(nn.Conv2d(in_channels, out_channels, patch, strides), strides)
    if kind == "renet":
        if out_channels % 2:
            raise ConfigError(
                "out_channels", out_channels, "an even number (ReNet outputs 2·hidden)", "use an even width."
            )
        if strides[0] != strides[1]:
            raise ConfigError("stride", stride, "a square stride for ReNet", "set stride to one integer.")
        return ReNetLayer(in_channels, out_channels // 2, patch_size=strides[0], rnn=renet_rnn)
    if kind == "rnnpool":
        if out_channels % 4:
            raise ConfigError(
                "out_channels",
                out_channels,
                "a multiple of 4 (RNNPool outputs 4·h2 channels)",
                f"use {4 * max(1, round(out_channels / 4))} channels for the next block or change hidden2.",
            )
        hidden2 = out_channels // 4
        return RNNPoolLayer(
            in_channels, hidden1 or hidden2, hidden2, patch, strides, cell=cell, pad_output=True
        )
    raise ConfigError("downsample", kind, f"one of {list(DOWNSAMPLERS)} or 'none'", "pick a Table-2 row.")


class PatchwiseStem(nn.Sequential):
    """A stem convolution and the downsampler it feeds, computed patch by patch.

    Only the downsampler's output is held: the stem output is produced per receptive field as the downsampler
    consumes it (RNNPool App. E.2; Table 2: "Peak RAM usage … is the same for all methods in the second
    block"). The peak-RAM counter sees this module as one unit whose footprint is its output.
    """

    def __init__(self, stem: nn.Module, downsample: nn.Module) -> None:
        super().__init__()
        self.stem, self.downsample = stem, downsample


register_peak_ram_rule(PatchwiseStem, "output")


class WholeMapStem(nn.Sequential):
    """A stem convolution and a downsampler that needs the stem's whole output map (ReNet).

    ReNet's column sweep reads every row of a column, so the stem output cannot be produced window by window
    and freed; the peak-RAM counter looks inside (the stem's output map, then ReNet's own rule). Same child
    names as :class:`PatchwiseStem`, so checkpoints keep their keys.
    """

    def __init__(self, stem: nn.Module, downsample: nn.Module) -> None:
        super().__init__()
        self.stem, self.downsample = stem, downsample


def stem_with(stem: nn.Module, downsample: nn.Module) -> nn.Sequential:
    """The stem + downsampler unit of the RNNPool models: patch by patch, except for ReNet (whole map)."""
    if isinstance(downsample, ReNetLayer):
        return WholeMapStem(stem, downsample)
    return PatchwiseStem(stem, downsample)


def window_of(downsample: nn.Module) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """((r, c), (s_r, s_c)): the input window and stride of one output position of a downsampler, or None."""
    if isinstance(downsample, RNNPoolLayer):
        return downsample.patch_size, downsample.stride
    if isinstance(downsample, nn.Sequential) and len(downsample) > 0:
        downsample = downsample[0]  # pool, then the 1×1 channel match
    if isinstance(downsample, _PadTo):
        op = downsample.op
        return _pair("kernel_size", op.kernel_size), _pair("stride", op.stride)
    return None


class LastLayerRNNPool(nn.Module):
    """RNNPool over the whole final map in place of global average pooling: [B, C, h, w] → [B, 4·h2].

    The paper (F.1.2) uses h1 = h2 = C/4, so the pooled width stays C.
    """

    def __init__(
        self, channels: int, hidden: int | None = None, cell: str = "fastgrnn", **kwargs: Any
    ) -> None:
        super().__init__()
        hidden = hidden or channels // 4
        self.pool = RNNPool(channels, hidden, hidden, cell=cell, **kwargs)

    @property
    def out_channels(self) -> int:
        return self.pool.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x)  # the whole map is one patch: [B, C, h, w] → [B, 4·h2]


register_peak_ram_rule(LastLayerRNNPool, "output")

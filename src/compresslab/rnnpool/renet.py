"""ReNet (Visin et al. 2015, arXiv:1505.00393), the RNNPool paper's GRU baseline (rnnpool.md §3).

A ReNet layer splits the H×W×C map into I×J non-overlapping p×p patches, each flattened into one time step
(x_{i,j} ∈ R^{p²C}). A bidirectional RNN sweeps every column (top-down and bottom-up), the two hidden states
are concatenated (2d per location), then a bidirectional RNN sweeps every row of that map:

    v_{i,j} = [RNN_↓(x_{1..i, j}), RNN_↑(x_{I..i, j})]        (column sweep, every column at once)
    o_{i,j} = [RNN_→(v_{i, 1..j}), RNN_←(v_{i, J..j})]        (row sweep, every row at once)

so every output location sees the whole map. Unlike RNNPool, every time step's hidden state is kept
("pixel-wise mapping"). All columns (then all rows) of all images run as one batch of sequences through
``torch.nn.GRU`` (cuDNN on GPUs).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from compresslab.measure.peak_ram import register_peak_ram_rule
from compresslab.utils.errors import ConfigError

RNN_TYPES = {"gru": nn.GRU, "lstm": nn.LSTM, "tanh": nn.RNN}


class ReNetLayer(nn.Module):
    """One ReNet layer: [B, C, H, W] → [B, 2·hidden, H/p, W/p].

    Args:
        in_channels: C.
        hidden_size: d, units per direction (output 2·d channels).
        patch_size: p, side of the non-overlapping patches (H and W must be multiples of p).
        rnn: ``gru`` (the RNNPool paper's baseline), ``lstm`` or ``tanh``.
    """

    def __init__(self, in_channels: int, hidden_size: int, patch_size: int = 2, rnn: str = "gru") -> None:
        super().__init__()
        for key, value in (
            ("in_channels", in_channels),
            ("hidden_size", hidden_size),
            ("patch_size", patch_size),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(key, value, "a positive integer", f"set {key} to an integer >= 1.")
        if rnn not in RNN_TYPES:
            raise ConfigError("rnn", rnn, f"one of {list(RNN_TYPES)}", "set rnn=gru (the paper's baseline).")
        self.in_channels, self.hidden_size, self.patch_size, self.rnn = (
            in_channels,
            hidden_size,
            patch_size,
            rnn,
        )
        cls = RNN_TYPES[rnn]
        self.vertical = cls(in_channels * patch_size**2, hidden_size, batch_first=True, bidirectional=True)
        self.horizontal = cls(2 * hidden_size, hidden_size, batch_first=True, bidirectional=True)

    @property
    def out_channels(self) -> int:
        return 2 * self.hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(
                "ReNetLayer input",
                tuple(x.shape),
                f"a map [B, {self.in_channels}, H, W]",
                "check in_channels.",
            )
        b, _, height, width = x.shape
        p = self.patch_size
        if height % p or width % p:
            raise ConfigError(
                "patch_size",
                p,
                f"a divisor of the input map {height}×{width} (ReNet patches do not overlap)",
                "pick a patch_size that divides the map, or resize the input.",
            )
        patches = F.pixel_unshuffle(x, p)  # [B, C·p², I, J]: each p×p patch flattened
        _, d_in, i, j = patches.shape
        cols = patches.permute(0, 3, 2, 1).reshape(b * j, i, d_in)  # one sequence per column, time = row
        v, _ = self.vertical(cols)  # [B·J, I, 2d]
        rows = (
            v.view(b, j, i, -1).transpose(1, 2).reshape(b * i, j, -1)
        )  # one sequence per row, time = column
        o, _ = self.horizontal(rows)  # [B·I, J, 2d]
        return o.view(b, i, j, -1).permute(0, 3, 1, 2).contiguous()  # [B, 2d, I, J]

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.hidden_size}, patch_size={self.patch_size}, rnn={self.rnn}"


def _renet_peak(module: nn.Module, n_in: int, n_out: int) -> int:
    """The column sweep needs the whole input; the row sweep reads that map (size |out|) and writes |out|."""
    return max(n_in + n_out, 2 * n_out)


register_peak_ram_rule(ReNetLayer, _renet_peak)


class ReNetClassifier(nn.Module):
    """The ReNet classifier: stacked ReNet layers, fully connected layers, softmax (via the CE loss).

    Visin et al. report CIFAR-10 error 12.35 % with 3 ReNet layers of about 320/256 units and 2×2 patches
    (rnnpool.md §3, from secondary summaries: unverified), so every size is a config value.

    Args:
        in_chans: input channels.
        num_classes: classes.
        image_size: input side (square), to size the first fully connected layer.
        hidden_sizes: d of each ReNet layer.
        patch_size: patch side of every layer.
        fc_sizes: widths of the hidden fully connected layers.
        dropout: dropout before each fully connected layer.
        rnn: ``gru`` | ``lstm`` | ``tanh``.
    """

    def __init__(
        self,
        in_chans: int = 3,
        num_classes: int = 10,
        image_size: int = 32,
        hidden_sizes: tuple[int, ...] = (320, 320, 256),
        patch_size: int = 2,
        fc_sizes: tuple[int, ...] = (4096,),
        dropout: float = 0.2,
        rnn: str = "gru",
    ) -> None:
        super().__init__()
        if not hidden_sizes:
            raise ConfigError(
                "hidden_sizes", hidden_sizes, "at least one ReNet layer", "set hidden_sizes=[320]."
            )
        side = image_size // patch_size ** len(hidden_sizes)
        if side < 1 or image_size % patch_size ** len(hidden_sizes):
            raise ConfigError(
                "image_size",
                image_size,
                f"a multiple of patch_size^layers = {patch_size ** len(hidden_sizes)}",
                "use fewer ReNet layers, a smaller patch_size or a matching image size.",
            )
        layers, channels = [], in_chans
        for hidden in hidden_sizes:
            layers.append(ReNetLayer(channels, int(hidden), patch_size, rnn))
            channels = 2 * int(hidden)
        self.features = nn.Sequential(*layers)
        head: list[nn.Module] = [nn.Flatten()]
        width = channels * side * side
        for size in fc_sizes:
            head += [nn.Dropout(dropout), nn.Linear(width, int(size)), nn.ReLU(inplace=True)]
            width = int(size)
        head += [nn.Dropout(dropout), nn.Linear(width, num_classes)]
        self.head = nn.Sequential(*head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # [B, num_classes] logits

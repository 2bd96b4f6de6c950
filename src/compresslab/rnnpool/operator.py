"""RNNPool (Saha, Kusupati, Simhadri, Varma, Jain — NeurIPS 2020): cells, the operator and the RNNPoolLayer.

The math of rnnpool.md §1 (paper Sec. 3.1, Algorithm 1) in one file:

* **Cells** (paper: "FastGRNN … GRU or LSTM"), each split into an input projection and a recurrent step so
  that the projection of every time step of every sequence is one GEMM:
  - FastGRNN (Kusupati et al. 2018, as EdgeML's ``FastGRNNCell``; conformance layout in the trace file):
    pre = W x + U h;  z = σ(pre + b_g);  h̃ = tanh(pre + b_h);  h' = z ⊙ h + (σ(ζ)(1 − z) + σ(ν)) ⊙ h̃
  - GRU and LSTM with ``torch.nn.GRUCell`` / ``LSTMCell`` gate order and equations (tested equal to them).
* **RNNPool operator** on an r×c×k patch X (Algorithm 1, zero initial states, final states only):
    p^r_i = RNN1(X_{i,1..c})  (every row, over columns);   p^c_j = RNN1(X_{1..r,j})  (every column, over rows)
    q^{r1} = RNN2(p^r), q^{r2} = RNN2(reverse(p^r)), q^{c1} = RNN2(p^c), q^{c2} = RNN2(reverse(p^c))
    output = [q^{r1}, q^{r2}, q^{c1}, q^{c2}]  (4·h2 values; one RNN2 cell shared by all four sweeps)
* **RNNPoolLayer**: one RNNPool strided over a map; output floor((H − r)/s) + 1 per side, optionally
  replicate-padded on the right/bottom to ceil(H/s) (the paper's 27 → 28, rnnpool.md §1.3).

Vectorisation (the "whole-map schedule" of the MAdds counts): every patch of every image and every sweep that
shares weights runs in one batch; the only Python loop is over the r (or c) time steps. Nothing is computed
twice:
* RNN1's input projection W·x of a pixel is the same for the row and the column pipeline and for every
  overlapping patch that contains it, so the layer computes it once per pixel on the whole map (a 1×1
  convolution, H·W·k·h1 MAdds) before the patches are cut;
* with stride ≤ patch, vertically adjacent patches share whole rows (row i + s of patch P is row i of patch
  P + 1, the same pixels) and horizontally adjacent ones share columns, so RNN1 runs once per distinct
  row/column sequence of the map ((P − 1)s + r rows per column window: 110 instead of 162 for 112², patch 6,
  stride 4) and each patch gathers its summaries.
The per-patch schedule that the peak-RAM rule assumes (one patch at a time, nothing kept between patches)
recomputes all of this per patch; ``compresslab.rnnpool.counts`` gives both counts in closed form.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from compresslab.measure.peak_ram import register_peak_ram_rule
from compresslab.utils.errors import ConfigError, DataError

CELLS = ("fastgrnn", "gru", "lstm")


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(key, value, "a positive integer", f"set {key} to an integer >= 1.")
    return value


def _pair(key: str, value: Any) -> tuple[int, int]:
    """An int or a 2-sequence of ints, each >= 1, as (rows, cols)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ConfigError(key, value, "an integer or a pair [rows, cols]", f"set {key}=6 or {key}=[6,8].")
    return _positive_int(key, value[0]), _positive_int(key, value[1])


# ----------------------------------------------------------------------------------------------------------- cells
class RecurrentCell(nn.Module):
    """A cell as (``project``, ``step``): project all inputs at once, then step over time.

    The state is one tensor ``[batch, state_size]`` (LSTM: h and c side by side); ``hidden(state)`` is h.
    """

    gates: int = 1
    state_factor: int = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = _positive_int("input_size", input_size)
        self.hidden_size = _positive_int("hidden_size", hidden_size)

    @property
    def projected_size(self) -> int:
        return self.gates * self.hidden_size

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """[..., input_size] → [..., gates·hidden] (the W·x part of every gate)."""
        raise NotImplementedError

    def step(
        self, xp: torch.Tensor, state: torch.Tensor, constants: tuple[torch.Tensor, ...] | None = None
    ) -> torch.Tensor:
        """One time step from a projected input ``xp`` [B, gates·hidden] and ``state`` [B, state_size].

        ``constants`` is ``step_constants()`` (computed here when omitted).
        """
        raise NotImplementedError

    def init_state(self, batch: int, like: torch.Tensor) -> torch.Tensor:
        """Zero initial state (EdgeML code and C reference; Algorithm 1's randn is not used)."""
        return like.new_zeros(batch, self.state_factor * self.hidden_size)

    def hidden(self, state: torch.Tensor) -> torch.Tensor:
        return state[..., : self.hidden_size]

    def run(self, projected: torch.Tensor) -> torch.Tensor:
        """Final hidden state of every sequence: time-major projected [T, B, gates·hidden] → [B, hidden].

        Time-major so that each step reads a contiguous [B, G] slab and ``unbind`` hands out views (no
        per-step copies in forward, no per-step zero-filled gradient buffers in backward).
        """
        state = self.init_state(projected.shape[1], projected)
        constants = self.step_constants(projected.dtype)  # reused by every step, not recomputed
        for xp in projected.unbind(0):  # the only Python loop: over time steps
            state = self.step(xp, state, constants)
        return self.hidden(state)

    def step_constants(self, dtype: torch.dtype) -> tuple[torch.Tensor, ...] | None:
        """Values derived from parameters that every step of one ``run`` reuses, in the recurrence's ``dtype``
        (None: the cell has none)."""
        return None

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class FastGRNNCell(RecurrentCell):
    """FastGRNN: one W and one U shared by gate and update (hence its low cost), scalars ζ, ν.

    ``zeta_init``/``nu_init`` are the raw (pre-sigmoid) values; the RNNPool code uses 100 / −100, i.e.
    σ(ζ) = 1, σ(ν) = 0 ("We fix ζ as 1 and ν as 0", paper App. G); FastGRNN's own defaults are 1 / −4.
    Both stay learnable parameters, as in the paper.

    Computed as (the same values as the equations above, with fewer and cheaper CPU kernels per step):
        project:  a = W x + b_g                                    (once per input, outside the time loop)
        step:     pre = a + U h;  z = σ(pre)
                  h̃ = tanh(pre + b_h − b_g) = 2σ(2(pre + b_h − b_g)) − 1   (σ is ~3× cheaper than tanh on CPU)
                  h' = z⊙h + (σ(ζ)(1 − z) + σ(ν))⊙h̃ = lerp(σ(ζ)h̃, h, z) + σ(ν)h̃
    """

    def __init__(self, input_size: int, hidden_size: int, zeta_init: float = 100.0, nu_init: float = -100.0):
        super().__init__(input_size, hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))  # W [h, in] (C trace layout)
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))  # U [h, h]
        self.bias_gate = nn.Parameter(torch.ones(hidden_size))
        self.bias_update = nn.Parameter(torch.ones(hidden_size))
        self.zeta = nn.Parameter(torch.tensor(float(zeta_init)))
        self.nu = nn.Parameter(torch.tensor(float(nu_init)))
        nn.init.normal_(self.weight_ih, std=0.1)  # EdgeML init: 0.1·randn, biases 1
        nn.init.normal_(self.weight_hh, std=0.1)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight_ih, self.bias_gate)  # [..., in] → [..., h]: W x + b_g

    def step_constants(self, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
        """(σ(ζ), σ(ν), 2(b_h − b_g)) in ``dtype``: what every step reuses.

        Computed in the parameters' dtype, then cast: under bf16 autocast the GEMMs return bf16 and the whole
        recurrence stays in bf16 (as torch's ``gru_cell`` does under CPU autocast) instead of mixing dtypes.
        """
        constants = (
            torch.sigmoid(self.zeta),
            torch.sigmoid(self.nu),
            2.0 * (self.bias_update - self.bias_gate),
        )
        return tuple(t.to(dtype) for t in constants)

    def step(
        self, xp: torch.Tensor, state: torch.Tensor, constants: tuple[torch.Tensor, ...] | None = None
    ) -> torch.Tensor:
        pre = torch.addmm(xp, state, self.weight_hh.t())  # [B, h]: W x + b_g + U h in one GEMM
        zeta, nu, bias_diff2 = constants if constants is not None else self.step_constants(pre.dtype)
        z = torch.sigmoid(pre)
        # h̃ = tanh(pre + b_h − b_g) = 2σ(2(pre + b_h − b_g)) − 1
        h_tilde = torch.sigmoid(torch.add(bias_diff2, pre, alpha=2.0)).mul(2.0).sub_(1.0)
        return torch.addcmul(torch.lerp(zeta * h_tilde, state, z), h_tilde, nu)


class _TorchGatedCell(RecurrentCell):
    """Parameters, layout and initialisation of ``torch.nn.GRUCell`` / ``LSTMCell`` (``gates`` blocks)."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__(input_size, hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(self.gates * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(self.gates * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(self.gates * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(self.gates * hidden_size))
        bound = 1.0 / math.sqrt(hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)  # [..., in] → [..., gates·h]


class GRUCell(_TorchGatedCell):
    """GRU with ``torch.nn.GRUCell``'s parameters, gate order (r, z, n) and equations."""

    gates = 3

    def step(
        self, xp: torch.Tensor, state: torch.Tensor, constants: tuple[torch.Tensor, ...] | None = None
    ) -> torch.Tensor:
        xr, xz, xn = xp.chunk(3, dim=-1)  # each [B, h]
        hr, hz, hn = F.linear(state, self.weight_hh, self.bias_hh).chunk(3, dim=-1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1.0 - z) * n + z * state


class LSTMCell(_TorchGatedCell):
    """LSTM with ``torch.nn.LSTMCell``'s parameters and gate order (i, f, g, o); state = [h, c]."""

    gates = 4
    state_factor = 2

    def step(
        self, xp: torch.Tensor, state: torch.Tensor, constants: tuple[torch.Tensor, ...] | None = None
    ) -> torch.Tensor:
        h, c = state.chunk(2, dim=-1)  # each [B, h]
        i, f, g, o = (xp + F.linear(h, self.weight_hh, self.bias_hh)).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return torch.cat([h, c], dim=-1)


def make_cell(cell: str, input_size: int, hidden_size: int, **kwargs: Any) -> RecurrentCell:
    """Build a cell by name: ``fastgrnn`` (default of the paper), ``gru`` or ``lstm``."""
    classes = {"fastgrnn": FastGRNNCell, "gru": GRUCell, "lstm": LSTMCell}
    if cell not in classes:
        raise ConfigError("cell", cell, f"one of {list(classes)}", "set cell=fastgrnn (the paper's choice).")
    if kwargs and cell != "fastgrnn":
        raise ConfigError(
            "cell", cell, f"'fastgrnn' for the options {sorted(kwargs)}", "drop them or use fastgrnn."
        )
    return classes[cell](input_size, hidden_size, **kwargs)


# -------------------------------------------------------------------------------------------------------- operator
class RNNPool(nn.Module):
    """The RNNPool operator of size (r, c, k, h1, h2): a batch of patches [N, k, r, c] → [N, 4·h2].

    Any r, c (rectangular patches too). Parameters: RNN1 (k → h1) shared by the row and column pipelines,
    RNN2 (h1 → h2) shared by all four bidirectional sweeps (rnnpool.md §1.1).

    Args:
        in_channels: k, channels of the input patch.
        hidden1: h1, RNN1's hidden size.
        hidden2: h2, RNN2's hidden size (output 4·h2).
        cell: ``fastgrnn`` | ``gru`` | ``lstm``.
        cell_kwargs: extra FastGRNN options (``zeta_init``, ``nu_init``).
    """

    def __init__(
        self,
        in_channels: int,
        hidden1: int,
        hidden2: int,
        cell: str = "fastgrnn",
        cell_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.in_channels = _positive_int("in_channels", in_channels)
        _positive_int("hidden1", hidden1)
        _positive_int("hidden2", hidden2)
        self.cell = cell
        self.rnn1 = make_cell(cell, in_channels, hidden1, **(cell_kwargs or {}))
        self.rnn2 = make_cell(cell, hidden1, hidden2, **(cell_kwargs or {}))

    @property
    def out_channels(self) -> int:
        return 4 * self.rnn2.hidden_size

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        if patches.dim() != 4 or patches.shape[1] != self.in_channels:
            raise ConfigError(
                "RNNPool input",
                tuple(patches.shape),
                f"a patch batch [N, k={self.in_channels}, rows, cols]",
                "pass patches in NCHW layout with in_channels channels.",
            )
        projected = self.rnn1.project(patches.permute(0, 2, 3, 1))  # [N, r, c, k] → [N, r, c, G1]
        return self.pool_projected(projected)

    def pool_projected(self, projected: torch.Tensor) -> torch.Tensor:
        """Algorithm 1 from RNN1-projected patches [N, r, c, G1] → [N, 4·h2]."""
        rows = projected.permute(2, 0, 1, 3)  # [c, N, r, G1]: row i of patch n, time = column
        cols = projected.permute(1, 0, 2, 3)  # [r, N, c, G1]: column j of patch n, time = row
        return self.pool_sequences(rows, cols)

    def pool_sequences(self, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
        """Algorithm 1 from time-major RNN1 inputs: rows [c, N, r, G1], cols [r, N, c, G1] → [N, 4·h2].

        The inputs may be strided views (of an unfolded map); each is copied once, into the batch of sequences.
        """
        c, n, r, g = rows.shape
        # Steps 1 and 3: RNN1 along every row (time = column) and down every column (time = row).
        p_rows, p_cols = self.summarize(rows.reshape(c, n * r, g), cols.reshape(r, n * c, g))
        return self.pool_summaries(p_rows.view(n, r, -1), p_cols.view(n, c, -1))

    def summarize(self, rows: torch.Tensor, cols: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """RNN1's final state of every sequence: rows [T_r, S_r, G1], cols [T_c, S_c, G1] → [S_r, h1], [S_c, h1].

        Sequences of equal length run as one batch (one loop over time for rows and columns together).
        """
        if rows.shape[0] == cols.shape[0]:
            s_rows = rows.shape[1]
            summaries = self.rnn1.run(torch.cat([rows, cols], dim=1))  # [S_r + S_c, h1]
            return summaries[:s_rows], summaries[s_rows:]
        return self.rnn1.run(rows), self.rnn1.run(cols)

    def pool_summaries(self, p_rows: torch.Tensor, p_cols: torch.Tensor) -> torch.Tensor:
        """Steps 2, 4 and 5: row summaries [N, r, h1] and column summaries [N, c, h1] → [N, 4·h2]."""
        n, r = p_rows.shape[:2]
        c = p_cols.shape[1]
        q_rows = self.rnn2.project(p_rows).transpose(0, 1)  # [r, N, G2] (time-major)
        q_cols = self.rnn2.project(p_cols).transpose(0, 1)  # [c, N, G2]
        if r == c:
            seqs2 = torch.cat([q_rows, q_rows.flip(0), q_cols, q_cols.flip(0)], dim=1)  # [r, 4N, G2]
            final = self.rnn2.run(seqs2).view(4, n, -1)  # [4, N, h2]
        else:
            final = torch.cat(
                [
                    self.rnn2.run(torch.cat([q_rows, q_rows.flip(0)], dim=1)).view(2, n, -1),
                    self.rnn2.run(torch.cat([q_cols, q_cols.flip(0)], dim=1)).view(2, n, -1),
                ]
            )  # [4, N, h2]
        # Step 5: [q^{r1}, q^{r2}, q^{c1}, q^{c2}].
        return final.permute(1, 0, 2).reshape(n, -1)  # [N, 4·h2]

    def extra_repr(self) -> str:
        return (
            f"k={self.in_channels}, h1={self.rnn1.hidden_size}, h2={self.rnn2.hidden_size}, cell={self.cell}"
        )


class RNNPoolLayer(nn.Module):
    """One RNNPool strided over a feature map: [B, k, H, W] → [B, 4·h2, H', W'].

    H' = floor((H − r)/s) + 1 (likewise W'); with ``pad_output`` the map is replicate-padded on the right and
    bottom to ceil(H/s) × ceil(W/s), as the paper's models do (112 → 27 → 28 for patch 6, stride 4).

    Args:
        in_channels: k.
        hidden1: h1.
        hidden2: h2; the layer outputs 4·h2 channels.
        patch_size: r (int) or (r, c).
        stride: s (int) or (s_rows, s_cols).
        cell: ``fastgrnn`` | ``gru`` | ``lstm``.
        pad_output: replicate-pad to ceil(H/s).
        cell_kwargs: extra FastGRNN options.
    """

    def __init__(
        self,
        in_channels: int,
        hidden1: int,
        hidden2: int,
        patch_size: int | tuple[int, int] = 6,
        stride: int | tuple[int, int] = 4,
        cell: str = "fastgrnn",
        pad_output: bool = True,
        cell_kwargs: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.patch_size = _pair("patch_size", patch_size)
        self.stride = _pair("stride", stride)
        self.pad_output = pad_output
        self.pool = RNNPool(in_channels, hidden1, hidden2, cell=cell, cell_kwargs=cell_kwargs)

    @property
    def in_channels(self) -> int:
        return self.pool.in_channels

    @property
    def out_channels(self) -> int:
        return self.pool.out_channels

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """Output spatial size for an input map of ``height × width``."""
        (r, c), (sr, sc) = self.patch_size, self.stride
        if height < r or width < c:
            raise ConfigError(
                "patch_size",
                self.patch_size,
                f"a patch no larger than the input map {height}×{width}",
                "use a smaller patch_size or apply the layer to a larger map.",
            )
        if self.pad_output:
            return math.ceil(height / sr), math.ceil(width / sc)
        return (height - r) // sr + 1, (width - c) // sc + 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ConfigError(
                "RNNPoolLayer input",
                tuple(x.shape),
                f"a map [B, {self.in_channels}, H, W]",
                f"the previous block must output in_channels={self.in_channels} channels.",
            )
        b, _, height, width = x.shape
        out_h, out_w = self.output_size(height, width)
        (r, c), (sr, sc) = self.patch_size, self.stride
        projected = self.pool.rnn1.project(x.permute(0, 2, 3, 1))  # [B, H, W, G1]: W·x once per pixel
        p, q = (height - r) // sr + 1, (width - c) // sc + 1
        if sr <= r and sc <= c:
            pooled = self._pool_shared_sequences(projected, p, q)  # [B·P·Q, 4·h2]
        else:  # patches with gaps between them: nothing is shared, cut the patches
            patches = projected.unfold(1, r, sr).unfold(2, c, sc)  # [B, P, Q, G1, r, c] (a view)
            rows = patches.permute(5, 0, 1, 2, 4, 3).flatten(1, 3)  # [c, B·P·Q, r, G1] (time = column)
            cols = patches.permute(4, 0, 1, 2, 5, 3).flatten(1, 3)  # [r, B·P·Q, c, G1] (time = row)
            pooled = self.pool.pool_sequences(rows, cols)  # [B·P·Q, 4·h2]
        out = pooled.view(b, p, q, -1).permute(0, 3, 1, 2)  # [B, 4·h2, P, Q]
        if (out_h, out_w) != (p, q):
            out = F.pad(out, (0, out_w - q, 0, out_h - p), mode="replicate")  # [B, 4·h2, H', W']
        return out.contiguous()

    def _pool_shared_sequences(self, projected: torch.Tensor, p: int, q: int) -> torch.Tensor:
        """Algorithm 1 on every patch, running each distinct RNN1 sequence of the map once.

        With stride ≤ patch, vertically adjacent patches share rows: row i + s_r of patch (P, Q) is row i of
        patch (P + 1, Q), the same c pixels. So RNN1 runs along every map row y < H_u = (P − 1)s_r + r once per
        column window Q (H_u·Q sequences instead of P·r·Q: 110·27 vs 162·27 for 112², patch 6, stride 4), and
        down every map column once per row window; each patch then gathers its r row and c column summaries.

        projected: [B, H, W, G1] → [B·P·Q, 4·h2].
        """
        (r, c), (sr, sc) = self.patch_size, self.stride
        b, g = projected.shape[0], projected.shape[-1]
        rows_used, cols_used = (p - 1) * sr + r, (q - 1) * sc + c
        row_seqs = projected[:, :rows_used].unfold(2, c, sc)  # [B, H_u, Q, G1, c]: row y, window Q
        col_seqs = projected[:, :, :cols_used].unfold(1, r, sr)  # [B, P, W_u, G1, r]: window P, column x
        s_rows, s_cols = self.pool.summarize(
            row_seqs.permute(4, 0, 1, 2, 3).reshape(c, -1, g),  # [c, B·H_u·Q, G1] (time = column)
            col_seqs.permute(4, 0, 1, 2, 3).reshape(r, -1, g),  # [r, B·P·W_u, G1] (time = row)
        )
        h1 = s_rows.shape[-1]
        # patch (P, Q) takes rows P·s_r … P·s_r + r − 1 of window Q, and columns Q·s_c … Q·s_c + c − 1 of window P
        p_rows = s_rows.view(b, rows_used, q, h1).unfold(1, r, sr)  # [B, P, Q, h1, r]
        p_cols = s_cols.view(b, p, cols_used, h1).unfold(2, c, sc)  # [B, P, Q, h1, c]
        return self.pool.pool_summaries(
            p_rows.permute(0, 1, 2, 4, 3).reshape(-1, r, h1),  # [B·P·Q, r, h1]
            p_cols.permute(0, 1, 2, 4, 3).reshape(-1, c, h1),  # [B·P·Q, c, h1]
        )

    def extra_repr(self) -> str:
        return f"patch_size={self.patch_size}, stride={self.stride}, pad_output={self.pad_output}"


# RNNPool is computed patch by patch: only its output map is held (rnnpool.md §5, App. E.2).
register_peak_ram_rule(RNNPool, "output")
register_peak_ram_rule(RNNPoolLayer, "output")


# ------------------------------------------------------------------------------------------ EdgeML conformance
def load_edgeml_trace(path: str | Path) -> dict[str, Any]:
    """Read and validate ``rnnpool_edgeml_vww_trace.json`` (layouts described inside the file)."""
    path = Path(path)
    try:
        trace = json.loads(path.read_text())
    except FileNotFoundError:
        raise DataError(
            path, "file not found", source="../shared/conformance/ in the compresslab workspace"
        ) from None
    except json.JSONDecodeError as err:
        raise DataError(path, f"not valid JSON ({err})") from None
    _check_trace(trace, path)
    return trace


def _check_trace(trace: dict[str, Any], path: object) -> None:
    try:
        dims = trace["dims"]
        k, h1, h2, r = (int(dims[key]) for key in ("input_channels", "hidden1", "hidden2", "patch"))
    except (KeyError, TypeError, ValueError):
        raise DataError(path, "missing dims.{input_channels,hidden1,hidden2,patch}") from None
    expected = {
        "rnn1.W": (h1, k),
        "rnn1.U": (h1, h1),
        "rnn1.Bg": (h1,),
        "rnn1.Bh": (h1,),
        "rnn2.W": (h2, h1),
        "rnn2.U": (h2, h2),
        "rnn2.Bg": (h2,),
        "rnn2.Bh": (h2,),
        "patch_hwc": (r, r, k),
        "expected_output": (4 * h2,),
    }
    for key, shape in expected.items():
        node: Any = trace
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        try:
            got = tuple(torch.tensor(node, dtype=torch.float64).shape) if node is not None else None
        except (TypeError, ValueError):
            got = "ragged"
        if got != shape:
            raise DataError(path, f"field '{key}' has shape {got}, expected {shape} (from dims {dims})")
    for rnn in ("rnn1", "rnn2"):
        for key in ("sigmoid_zeta", "sigmoid_nu"):
            value = trace[rnn].get(key)
            if not isinstance(value, int | float) or not 0.0 < value < 1.0:
                raise DataError(path, f"field '{rnn}.{key}' = {value!r}, expected a number in (0, 1)")


def load_edgeml_rnnpool(trace: dict[str, Any] | str | Path, dtype: torch.dtype = torch.float32) -> RNNPool:
    """An :class:`RNNPool` (FastGRNN cells) carrying the trace's trained EdgeML weights.

    The C layout W[hidden][input] is ``weight_ih``'s layout; ζ, ν are stored as logit(σ(ζ)), logit(σ(ν)).
    """
    if not isinstance(trace, dict):
        trace = load_edgeml_trace(trace)
    else:
        _check_trace(trace, "<trace dict>")
    dims = trace["dims"]
    pool = RNNPool(int(dims["input_channels"]), int(dims["hidden1"]), int(dims["hidden2"]), cell="fastgrnn")
    pool = pool.to(dtype)  # before the copy: ζ, ν keep float64 precision in a float64 operator
    with torch.no_grad():
        for name, cell in (("rnn1", pool.rnn1), ("rnn2", pool.rnn2)):
            src = trace[name]
            cell.weight_ih.copy_(torch.tensor(src["W"], dtype=torch.float64))
            cell.weight_hh.copy_(torch.tensor(src["U"], dtype=torch.float64))
            cell.bias_gate.copy_(torch.tensor(src["Bg"], dtype=torch.float64))
            cell.bias_update.copy_(torch.tensor(src["Bh"], dtype=torch.float64))
            cell.zeta.copy_(torch.logit(torch.tensor(src["sigmoid_zeta"], dtype=torch.float64)))
            cell.nu.copy_(torch.logit(torch.tensor(src["sigmoid_nu"], dtype=torch.float64)))
    return pool


def edgeml_trace_patch(trace: dict[str, Any], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The trace's input patch, HWC in the file, as a batch of one [1, k, r, c]."""
    return torch.tensor(trace["patch_hwc"], dtype=dtype).permute(2, 0, 1).unsqueeze(0)

"""RNNPool operator, cells and RNNPoolLayer against the EdgeML trace, a naive Algorithm 1 and closed forms.

References: rnnpool.md §1 (Algorithm 1, RNNPoolLayer, cost formulas) and §5.2 (the EdgeML VWW conformance trace,
copied to ``tests/data/`` from ``shared/conformance/``; numeric data from microsoft/EdgeML, MIT, source named
inside the file).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
import torch
from torch import nn

from compresslab.measure.madds import count_madds
from compresslab.rnnpool.operator import (
    FastGRNNCell,
    GRUCell,
    LSTMCell,
    RNNPool,
    RNNPoolLayer,
    edgeml_trace_patch,
    load_edgeml_rnnpool,
    load_edgeml_trace,
)
from compresslab.utils.errors import ConfigError, DataError

TRACE_NAME = "rnnpool_edgeml_vww_trace.json"
TRACE_CANDIDATES = (
    Path(__file__).resolve().parent / "data" / TRACE_NAME,  # the copy kept in the repo
    Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / TRACE_NAME,  # workspace original
)
CELLS = ("fastgrnn", "gru", "lstm")


@pytest.fixture(scope="module")
def trace_path() -> Path:
    """The committed copy; the conformance test must never be skipped for want of its data."""
    path = TRACE_CANDIDATES[0]
    assert path.is_file(), f"EdgeML conformance trace missing: {path} is committed with the tests"
    return path


@pytest.fixture(scope="module")
def trace(trace_path: Path) -> dict:
    return load_edgeml_trace(trace_path)


def _seeded(module: nn.Module, seed: int = 0) -> nn.Module:
    """Re-draw every parameter of ``module`` from a seeded normal (scale 0.3), so outputs are not saturated."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


# ---------------------------------------------------------------------------------------- 1. EdgeML conformance
@pytest.mark.parametrize(("dtype", "atol"), [(torch.float32, 1e-5), (torch.float64, 1e-5)])
def test_edgeml_trace_conformance(trace, dtype, atol):
    pool = load_edgeml_rnnpool(trace, dtype=dtype)
    patch = edgeml_trace_patch(trace, dtype=dtype)
    assert patch.shape == (1, 8, 6, 6)
    with torch.no_grad():
        out = pool(patch)
    assert out.shape == (1, 32)
    assert out.dtype == dtype
    expected = torch.tensor(trace["expected_output"], dtype=dtype)
    err = (out[0] - expected).abs().max().item()
    assert err < atol, f"max |Δ| vs the EdgeML C reference = {err:.3g}"
    # the trace is not trivial: a pool with other weights is far from it
    other = _seeded(load_edgeml_rnnpool(trace, dtype=dtype))
    with torch.no_grad():
        assert (other(patch)[0] - expected).abs().max().item() > 1e-2


def test_edgeml_trace_from_path_equals_dict(trace, trace_path):
    patch = edgeml_trace_patch(trace)
    with torch.no_grad():
        assert torch.equal(load_edgeml_rnnpool(trace_path)(patch), load_edgeml_rnnpool(trace)(patch))


# -------------------------------------------------------------------------------------------- 2. symmetry
def test_transposed_patch_swaps_row_and_column_halves(trace):
    for dtype in (torch.float32, torch.float64):
        pool = load_edgeml_rnnpool(trace, dtype=dtype)
        patch = edgeml_trace_patch(trace, dtype=dtype)
        with torch.no_grad():
            out = pool(patch)[0]
            out_t = pool(patch.transpose(2, 3))[0]
        rows, cols = out[:16], out[16:]
        assert torch.equal(out_t[:16], cols)
        assert torch.equal(out_t[16:], rows)
        assert (rows - cols).abs().max() > 1e-2  # the halves differ, so the swap is a real check


# ----------------------------------------------------------------------------- 3. naive Algorithm 1 reference
def _reference_cell(cell: nn.Module):
    """(init_state, step(x [in], state) → state, hidden(state) → h) written independently of ``cell.step``.

    FastGRNN: the formulas of rnnpool.md §1.2 written out; GRU/LSTM: torch.nn.GRUCell/LSTMCell with copied weights.
    """
    hid = cell.hidden_size
    dtype = cell.weight_ih.dtype
    if isinstance(cell, FastGRNNCell):
        W, U = cell.weight_ih.detach(), cell.weight_hh.detach()
        bg, bh = cell.bias_gate.detach(), cell.bias_update.detach()
        zeta, nu = torch.sigmoid(cell.zeta.detach()), torch.sigmoid(cell.nu.detach())

        def step(x, h):
            pre = W @ x + U @ h
            z = torch.sigmoid(pre + bg)
            h_tilde = torch.tanh(pre + bh)
            return z * h + (zeta * (1 - z) + nu) * h_tilde

        return torch.zeros(hid, dtype=dtype), step, lambda h: h
    if isinstance(cell, GRUCell):
        ref = nn.GRUCell(cell.input_size, hid).to(dtype)
        ref.load_state_dict(cell.state_dict())
        return torch.zeros(hid, dtype=dtype), lambda x, h: ref(x[None], h[None])[0], lambda h: h
    assert isinstance(cell, LSTMCell)
    ref = nn.LSTMCell(cell.input_size, hid).to(dtype)
    ref.load_state_dict(cell.state_dict())

    def lstm_step(x, state):
        h, c = ref(x[None], (state[0][None], state[1][None]))
        return h[0], c[0]

    zero = torch.zeros(hid, dtype=dtype)
    return (zero, zero), lstm_step, lambda s: s[0]


def naive_rnnpool(pool: RNNPool, patch: torch.Tensor) -> torch.Tensor:
    """Algorithm 1 on one patch [k, r, c], literally: Python loops over rows, columns and time steps."""
    k, r, c = patch.shape
    init1, step1, hid1 = _reference_cell(pool.rnn1)
    init2, step2, hid2 = _reference_cell(pool.rnn2)

    def rnn(init, step, hidden, sequence):
        state = init
        for x in sequence:
            state = step(x, state)
        return hidden(state)

    p_rows = [rnn(init1, step1, hid1, [patch[:, i, j] for j in range(c)]) for i in range(r)]  # step 1
    p_cols = [rnn(init1, step1, hid1, [patch[:, i, j] for i in range(r)]) for j in range(c)]  # step 3
    q_r1 = rnn(init2, step2, hid2, p_rows)  # step 2
    q_r2 = rnn(init2, step2, hid2, p_rows[::-1])
    q_c1 = rnn(init2, step2, hid2, p_cols)  # step 4
    q_c2 = rnn(init2, step2, hid2, p_cols[::-1])
    return torch.cat([q_r1, q_r2, q_c1, q_c2])  # step 5


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("shape", [(5, 7), (7, 5), (4, 4), (1, 3)])
def test_rnnpool_equals_naive_algorithm_1(cell, shape):
    torch.manual_seed(0)
    pool = _seeded(RNNPool(3, 5, 4, cell=cell), seed=1).double()
    patches = torch.randn(2, 3, *shape, dtype=torch.float64)
    with torch.no_grad():
        out = pool(patches)
        expected = torch.stack([naive_rnnpool(pool, p) for p in patches])
    assert out.shape == (2, 16)
    torch.testing.assert_close(out, expected, rtol=0, atol=1e-10)


def test_naive_reference_matches_edgeml_trace(trace):
    """The test's own reference is itself checked against the C reference output."""
    pool = load_edgeml_rnnpool(trace, dtype=torch.float64)
    with torch.no_grad():
        out = naive_rnnpool(pool, edgeml_trace_patch(trace, dtype=torch.float64)[0])
    expected = torch.tensor(trace["expected_output"], dtype=torch.float64)
    assert (out - expected).abs().max().item() < 1e-5


# -------------------------------------------------------------------------------- 4. cells vs torch.nn
@pytest.mark.parametrize(
    ("ours", "theirs", "rnn"), [(GRUCell, nn.GRUCell, nn.GRU), (LSTMCell, nn.LSTMCell, nn.LSTM)]
)
def test_cell_step_equals_torch(ours, theirs, rnn):
    torch.manual_seed(0)
    cell = ours(6, 5).double()
    ref = theirs(6, 5).double()
    ref.load_state_dict(cell.state_dict())
    x = torch.randn(4, 6, dtype=torch.float64)
    is_lstm = ours is LSTMCell
    h = torch.randn(4, 5, dtype=torch.float64)
    c = torch.randn(4, 5, dtype=torch.float64)
    with torch.no_grad():
        got = cell.step(cell.project(x), torch.cat([h, c], -1) if is_lstm else h)
        want = torch.cat(ref(x, (h, c)), -1) if is_lstm else ref(x, h)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
        # a whole sequence through run() equals torch.nn.GRU/LSTM's final hidden state from zeros
        seq = rnn(6, 5, batch_first=True).double()
        seq.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
        xs = torch.randn(4, 7, 6, dtype=torch.float64)
        final = seq(xs)[1]
        final_h = (final[0] if is_lstm else final)[0]
        torch.testing.assert_close(cell.run(cell.project(xs).transpose(0, 1)), final_h, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------------------ 5. RNNPoolLayer
def _unfolded_reference(layer: RNNPoolLayer, x: torch.Tensor) -> torch.Tensor:
    """Cut every patch explicitly, run RNNPool on the batch of patches and put the outputs back on a grid."""
    (r, c), (sr, sc) = layer.patch_size, layer.stride
    b, _, height, width = x.shape
    rows, cols = range(0, height - r + 1, sr), range(0, width - c + 1, sc)
    patches = torch.stack(
        [x[:, :, i : i + r, j : j + c] for i in rows for j in cols], dim=1
    )  # [B, P·Q, k, r, c]
    out = layer.pool(patches.flatten(0, 1))  # [B·P·Q, 4·h2]
    return out.view(b, len(rows), len(cols), -1).permute(0, 3, 1, 2)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(
    ("size", "patch", "stride"),
    [
        ((11, 13), 4, 2),  # overlapping: stride < patch
        ((12, 9), 3, 3),  # stride == patch
        ((10, 13), (3, 5), (2, 3)),  # rectangular patch and stride
        ((9, 9), 2, 4),  # stride > patch: pixels skipped
        ((10, 13), (3, 2), (2, 3)),  # rows overlap, columns skip pixels (the per-patch path)
    ],
)
def test_layer_equals_rnnpool_on_unfolded_patches(cell, size, patch, stride):
    torch.manual_seed(0)
    layer = _seeded(RNNPoolLayer(3, 4, 2, patch, stride, cell=cell, pad_output=False)).double()
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    (r, c), (sr, sc) = layer.patch_size, layer.stride
    expected_hw = ((size[0] - r) // sr + 1, (size[1] - c) // sc + 1)  # floor((H − r)/s) + 1
    with torch.no_grad():
        out = layer(x)
        ref = _unfolded_reference(layer, x)
    assert out.shape == (2, 8, *expected_hw)
    assert layer.output_size(*size) == expected_hw
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("patch", "stride", "unpadded", "padded"),
    [(6, 4, 27, 28), (8, 4, 27, 28), (12, 8, 13, 14)],  # paper 112×112 cases (rnnpool.md §1.3, Table 16)
)
def test_layer_paper_output_sizes_and_replicate_padding(patch, stride, unpadded, padded):
    torch.manual_seed(0)
    padded_layer = _seeded(RNNPoolLayer(2, 2, 2, patch, stride, pad_output=True))
    plain_layer = RNNPoolLayer(2, 2, 2, patch, stride, pad_output=False)
    plain_layer.load_state_dict(padded_layer.state_dict())
    assert padded_layer.output_size(112, 112) == (padded, padded)
    assert plain_layer.output_size(112, 112) == (unpadded, unpadded)
    x = torch.randn(1, 2, 112, 112)
    with torch.no_grad():
        out, plain = padded_layer(x), plain_layer(x)
    assert out.shape == (1, 8, padded, padded)
    assert plain.shape == (1, 8, unpadded, unpadded)
    assert torch.equal(out[..., :unpadded, :unpadded], plain)
    # replicate padding on the right and bottom: the last row/column repeats the one before it
    assert torch.equal(out[..., -1, :], out[..., -2, :])
    assert torch.equal(out[..., :, -1], out[..., :, -2])
    assert not torch.equal(out[..., -2, :], out[..., -3, :])  # ... and only the padded one does


def test_layer_output_size_other_paper_examples():
    # Sec. 1: 640×640, patch 16, stride 8 → 80×80 (= ceil(640/8); the floor formula gives 79)
    assert RNNPoolLayer(3, 8, 8, 16, 8, pad_output=True).output_size(640, 640) == (80, 80)
    assert RNNPoolLayer(3, 8, 8, 16, 8, pad_output=False).output_size(640, 640) == (79, 79)
    # face models (§1.3): 640×480 (W×H), patch 8, stride 4 → 159×119, padded to 160×120
    assert RNNPoolLayer(3, 16, 16, 8, 4, pad_output=False).output_size(480, 640) == (119, 159)
    assert RNNPoolLayer(3, 16, 16, 8, 4, pad_output=True).output_size(480, 640) == (120, 160)
    # a rectangular map with rectangular patch/stride
    assert RNNPoolLayer(3, 4, 4, (3, 5), (2, 3), pad_output=False).output_size(10, 13) == (4, 3)
    assert RNNPoolLayer(3, 4, 4, (3, 5), (2, 3), pad_output=True).output_size(10, 13) == (5, 5)


# ------------------------------------------------------------------------------------ 6. dtypes, gradients
@pytest.mark.parametrize("cell", CELLS)
def test_dtypes_bf16_close_to_fp32_and_fp64(cell):
    torch.manual_seed(0)
    layer = RNNPoolLayer(4, 8, 8, 4, 2, cell=cell)
    x = torch.randn(2, 4, 12, 12)
    with torch.no_grad():
        ref = layer(x)
        out_bf16 = copy.deepcopy(layer).bfloat16()(x.bfloat16())
        out_fp64 = copy.deepcopy(layer).double()(x.double())
    assert out_bf16.dtype == torch.bfloat16 and out_bf16.shape == ref.shape == (2, 32, 6, 6)
    assert torch.isfinite(out_bf16).all()
    assert (out_bf16.float() - ref).abs().max().item() < 2e-2
    assert out_fp64.dtype == torch.float64
    assert (out_fp64 - ref.double()).abs().max().item() < 1e-5


@pytest.mark.parametrize("cell", CELLS)
def test_bf16_autocast_runs_close_to_fp32_with_gradients(cell):
    """Under CPU bf16 autocast (trainer.precision=bf16-mixed) the GEMMs return bf16 and the recurrence stays in
    bf16 (no mixed-dtype lerp); values close to fp32, gradients reach the fp32 master weights."""
    torch.manual_seed(0)
    layer = _seeded(RNNPoolLayer(8, 8, 8, 6, 4, cell=cell))
    x = torch.randn(2, 8, 28, 28)
    with torch.no_grad():
        ref = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    assert out.shape == ref.shape == (2, 32, 7, 7)
    assert (out.float() - ref).abs().max().item() < 5e-2
    out.float().square().sum().backward()
    for name, p in layer.named_parameters():
        assert p.dtype == torch.float32 and p.grad is not None and torch.isfinite(p.grad).all(), name
    assert sum(p.grad.abs().sum().item() for p in layer.parameters()) > 0


@pytest.mark.parametrize(
    ("cell", "cell_kwargs"),
    [("fastgrnn", None), ("fastgrnn", {"zeta_init": 1.0, "nu_init": -4.0}), ("gru", None), ("lstm", None)],
)
def test_gradients_reach_every_parameter(cell, cell_kwargs):
    torch.manual_seed(0)
    layer = RNNPoolLayer(3, 4, 3, 3, 2, cell=cell, cell_kwargs=cell_kwargs)
    x = torch.randn(2, 3, 7, 8, requires_grad=True)
    layer(x).square().sum().backward()
    names = dict(layer.named_parameters())
    if cell == "fastgrnn":
        for rnn in ("rnn1", "rnn2"):
            assert {f"pool.{rnn}.zeta", f"pool.{rnn}.nu"} <= set(names)
    for name, p in names.items():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        # with unsaturated ζ/ν (and for every weight/bias) the gradient is not zero either;
        # at the RNNPool default ζ=100, ν=−100 the ζ/ν gradients are ~e^-100 (effectively frozen, §1.2)
        if not (cell_kwargs is None and name.endswith(("zeta", "nu"))):
            assert p.grad.abs().max() > 0, name
    assert x.grad is not None and x.grad.abs().max() > 0


# --------------------------------------------------------------------------------- 7. parameter counts
def _n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(("k", "h1", "h2"), [(32, 16, 16), (8, 8, 8), (3, 5, 7), (64, 16, 32)])
def test_parameter_count_closed_forms(k, h1, h2):
    fast = (k * h1 + h1**2 + 2 * h1 + 2) + (h1 * h2 + h2**2 + 2 * h2 + 2)
    gru = 3 * (k * h1 + h1**2 + 2 * h1) + 3 * (h1 * h2 + h2**2 + 2 * h2)
    lstm = 4 * (k * h1 + h1**2 + 2 * h1) + 4 * (h1 * h2 + h2**2 + 2 * h2)
    assert _n_params(RNNPool(k, h1, h2, cell="fastgrnn")) == fast
    assert _n_params(RNNPool(k, h1, h2, cell="gru")) == gru
    assert _n_params(RNNPool(k, h1, h2, cell="lstm")) == lstm
    # the layer adds nothing to its operator
    assert _n_params(RNNPoolLayer(k, h1, h2, 6, 4)) == fast


def test_parameter_count_paper_value():
    assert _n_params(RNNPool(32, 16, 16)) == 1_348  # rnnpool.md §1.5


# --------------------------------------------------------------------------------------------- 8. MAdds
def _layer_madds(k: int, h1: int, h2: int, r: int, s: int, size: int) -> int:
    """Matmul MAdds of what the implementation computes on a [1, k, size, size] map (element-wise ops not counted).

    * RNN1 input projection W·x once per pixel of the map (shared by the row/column pipelines and by overlapping
      patches): H·W·k·h1.
    * RNN1 recurrence U·h once per distinct sequence (stride ≤ patch: vertically adjacent patches share rows):
      every map row y < H_u = (P − 1)s + r once per column window (H_u·P row sequences), likewise the columns;
      r steps each (the first step's U·h on the zero state is computed too): 2·H_u·P·r·h1².
    * Per patch: RNN2 projection of the r row and c column summaries, once each (the reversed sweeps reuse it):
      2·r·h1·h2; RNN2 recurrence over 4 sweeps of r steps: 4·r·h2².
    """
    p = (size - r) // s + 1
    rows_used = (p - 1) * s + r
    return size * size * k * h1 + 2 * rows_used * p * r * h1**2 + p * p * (2 * r * h1 * h2 + 4 * r * h2**2)


def test_madds_of_the_layer_closed_form():
    expected = _layer_madds(32, 16, 16, 6, 4, 112)  # 27·27 patches, padded to 28×28 (padding costs no MAdds)
    # projection 6.42M + RNN1 over 2·110·27 distinct sequences 9.12M + RNN2 27·27·9,216 = 6.72M
    assert expected == 112 * 112 * 32 * 16 + 2 * 110 * 27 * 6 * 256 + 27 * 27 * 9_216 == 22_264_832
    assert count_madds(RNNPoolLayer(32, 16, 16, 6, 4), torch.randn(1, 32, 112, 112)).total == expected
    # for comparison, rnnpool.md §1.5's per-patch count (W·x per patch and per pipeline, RNN2 projection per
    # sweep) is 2r²(k·h1 + h1²) + 4r(h1·h2 + h2²) = 67,584 per patch, 49.3M for this layer (§5.1)
    assert 2 * 36 * (32 * 16 + 16**2) + 4 * 6 * (16 * 16 + 16**2) == 67_584
    assert 27 * 27 * 67_584 == 49_268_736


@pytest.mark.parametrize(("cell", "gates"), [("fastgrnn", 1), ("gru", 3), ("lstm", 4)])
def test_madds_scale_with_gates(cell, gates):
    # GRU / LSTM: every matmul 3× / 4× as wide (their bias adds are not MAdds)
    expected = gates * _layer_madds(8, 6, 5, 4, 3, 22)
    assert count_madds(RNNPoolLayer(8, 6, 5, 4, 3, cell=cell), torch.randn(1, 8, 22, 22)).total == expected


def test_madds_of_the_operator_on_one_patch():
    # RNNPool alone on a rectangular patch: projection once per pixel r·c·k·h1; RNN2 projection of the r + c
    # summaries once each; RNN2 recurrence over 2 sweeps of r steps and 2 of c steps
    k, h1, h2, r, c = 8, 8, 8, 5, 7
    # rows: r sequences of c steps; cols: c sequences of r steps → 2·r·c recurrent steps of h1²
    expected = r * c * k * h1 + 2 * r * c * h1**2 + (r + c) * h1 * h2 + 2 * (r + c) * h2**2
    assert count_madds(RNNPool(k, h1, h2), torch.randn(1, k, r, c)).total == expected


# ---------------------------------------------------------------------------------------- 9. bad inputs
@pytest.mark.parametrize(
    ("build", "key"),
    [
        (lambda: RNNPoolLayer(2, 2, 2, patch_size=2, stride=0), "stride"),
        (lambda: RNNPoolLayer(2, 2, 2, patch_size=2, stride=(2, 0)), "stride"),
        (lambda: RNNPoolLayer(2, 2, 2, patch_size=(2, 2, 2), stride=2), "patch_size"),
        (lambda: RNNPoolLayer(2, 2, 2, patch_size=True, stride=2), "patch_size"),
        (lambda: RNNPool(2, 0, 2), "hidden1"),
        (lambda: RNNPool(2, 2, 0), "hidden2"),
        (lambda: RNNPool(0, 2, 2), "in_channels"),
        (lambda: RNNPool(2, 2, 2, cell="rnn"), "cell"),
        (lambda: RNNPool(2, 2, 2, cell="gru", cell_kwargs={"zeta_init": 1.0}), "cell"),
    ],
)
def test_bad_config_raises_config_error_naming_the_argument(build, key):
    with pytest.raises(ConfigError) as info:
        build()
    assert info.value.key == key
    assert f"'{key}'" in str(info.value)


def test_patch_larger_than_map_raises():
    layer = RNNPoolLayer(2, 2, 2, patch_size=6, stride=4)
    with pytest.raises(ConfigError, match="patch_size") as info:
        layer(torch.randn(1, 2, 5, 8))
    assert "5×8" in str(info.value)
    with pytest.raises(ConfigError, match="patch_size"):
        RNNPoolLayer(2, 2, 2, patch_size=(3, 9), stride=1)(torch.randn(1, 2, 8, 8))


def test_wrong_channel_count_raises():
    with pytest.raises(ConfigError, match="RNNPoolLayer input") as info:
        RNNPoolLayer(2, 2, 2, 2, 2)(torch.randn(1, 3, 8, 8))
    assert "in_channels=2" in str(info.value)
    with pytest.raises(ConfigError, match="RNNPool input"):
        RNNPool(2, 2, 2)(torch.randn(1, 3, 4, 4))
    with pytest.raises(ConfigError, match="RNNPool input"):
        RNNPool(2, 2, 2)(torch.randn(2, 4, 4))  # not a batch of patches


def _drop_row(t: dict) -> None:
    t["rnn1"]["W"] = t["rnn1"]["W"][:-1]


def _ragged(t: dict) -> None:
    t["rnn2"]["U"][3] = t["rnn2"]["U"][3][:-1]


def _short_output(t: dict) -> None:
    t["expected_output"] = t["expected_output"][:31]


def _no_patch(t: dict) -> None:
    del t["patch_hwc"]


def _bad_zeta(t: dict) -> None:
    t["rnn1"]["sigmoid_zeta"] = 1.5


def _wrong_dims(t: dict) -> None:
    t["dims"]["hidden2"] = 4  # rnn2 weights no longer fit


def _no_dims(t: dict) -> None:
    del t["dims"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (_drop_row, "'rnn1.W' has shape (7, 8), expected (8, 8)"),
        (_ragged, "'rnn2.U' has shape ragged"),
        (_short_output, "'expected_output' has shape (31,), expected (32,)"),
        (_no_patch, "'patch_hwc' has shape None"),
        (_bad_zeta, "'rnn1.sigmoid_zeta' = 1.5"),
        (_wrong_dims, "'rnn2.W' has shape (8, 8), expected (4, 8)"),
        (_no_dims, "dims"),
    ],
)
def test_malformed_trace_raises_data_error_naming_the_field(trace, mutate, field, tmp_path):
    bad = copy.deepcopy(trace)
    mutate(bad)
    with pytest.raises(DataError) as info:
        load_edgeml_rnnpool(bad)
    assert field in str(info.value)
    path = tmp_path / "bad_trace.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(DataError) as info:
        load_edgeml_trace(path)
    assert field in str(info.value) and str(path) in str(info.value)


def test_missing_or_invalid_trace_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        load_edgeml_trace(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_edgeml_trace(tmp_path / "broken.json")


def test_trace_copy_is_the_shared_original():
    """The repo copy (tests/data) must stay byte-identical to the workspace's conformance file when both exist."""
    copy_path, shared = TRACE_CANDIDATES
    assert "microsoft/EdgeML (MIT license)" in json.loads(copy_path.read_text())["source"]
    if not shared.is_file():  # a clone outside the workspace (CI) has only the committed copy
        pytest.skip(f"workspace original {shared} not present; the committed copy was checked above")
    assert copy_path.read_bytes() == shared.read_bytes()


def test_loader_sigmoid_logit_roundtrip(trace):
    # the loader stores ζ, ν as logits; σ(ζ) and σ(ν) come back as the trace's values (float32 precision)
    pool = load_edgeml_rnnpool(trace, dtype=torch.float32)
    for name in ("rnn1", "rnn2"):
        cell = getattr(pool, name)
        assert math.isclose(torch.sigmoid(cell.zeta).item(), trace[name]["sigmoid_zeta"], rel_tol=1e-6)
        assert math.isclose(torch.sigmoid(cell.nu).item(), trace[name]["sigmoid_nu"], rel_tol=1e-5)

"""Measurement core against closed-form counts and the RNNPool paper's worked values."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import timm
import torch
from timm.layers import Attention
from torch import nn

from compresslab.measure import analytic_peak_ram, count_madds, count_params, measure_latency, measure_model
from compresslab.measure.madds import _cudnn_rnn_flop, _mkldnn_rnn_layer_flop
from compresslab.measure.peak_ram import register_peak_ram_rule
from tests.helpers.cli import run_cli

# attention block d=64, 4 heads, 17 tokens: qkv 17·64·192 + proj 17·64·64 + QKᵀ 4·17·17·16 + AV 4·17·17·16
ATTN_MADDS = 17 * 64 * 192 + 17 * 64 * 64 + 2 * 4 * 17 * 17 * 16
GRU_MADDS = 3 * 10 * (32 * 16 + 32 * 32)  # 3 gates · T · (H·I + H²)
LSTM_MADDS = 4 * 10 * (32 * 16 + 32 * 32)


def test_closed_forms_are_the_issue_values():
    assert (ATTN_MADDS, GRU_MADDS, LSTM_MADDS) == (315_520, 46_080, 61_440)


def test_timm_attention_counts_sdpa_matmuls():
    assert count_madds(Attention(64, num_heads=4), torch.randn(1, 17, 64)).total == ATTN_MADDS


class _SelfAttention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(64, 4, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mha(x, x, x, need_weights=False)[0]


def test_multihead_attention_fast_path_is_counted():
    m = _SelfAttention()
    assert count_madds(m, torch.randn(1, 17, 64)).total == ATTN_MADDS
    assert torch.backends.mha.get_fastpath_enabled()  # switch restored afterwards


@pytest.mark.parametrize(("cls", "expected"), [(nn.GRU, GRU_MADDS), (nn.LSTM, LSTM_MADDS)])
def test_rnn_counts(cls, expected):
    assert count_madds(cls(16, 32), torch.randn(10, 1, 16)).total == expected
    # batch_first, batch 3: linear in the batch
    assert count_madds(cls(16, 32, batch_first=True), torch.randn(3, 10, 16)).total == 3 * expected


def test_stacked_bidirectional_lstm():
    # layer 1: 2 directions × 4·32·(16+32); layer 2 input is 64 wide: 2 × 4·32·(64+32); × T=10
    expected = 10 * (2 * 4 * 32 * (16 + 32) + 2 * 4 * 32 * (64 + 32))
    assert (
        count_madds(nn.LSTM(16, 32, num_layers=2, bidirectional=True), torch.randn(10, 1, 16)).total
        == expected
    )


def test_rnn_formulas_on_shapes():
    # mkldnn_rnn_layer(input [T,B,I], W_ih [4H,I], W_hh [4H,H], ...) returns FLOPs = 2·MAdds
    assert _mkldnn_rnn_layer_flop((10, 1, 16), (128, 16), (128, 32), (128,), (128,)) == 2 * LSTM_MADDS
    # cuDNN GRU, 2 layers, weight list [W_ih, W_hh, b_ih, b_hh] per layer
    w = [(96, 16), (96, 32), (96,), (96,), (96, 32), (96, 32), (96,), (96,)]
    assert _cudnn_rnn_flop((10, 4, 16), w) == 2 * 4 * 10 * (96 * 16 + 96 * 32 + 96 * 32 + 96 * 32)


def test_mobilenetv2_matches_rnnpool_table1():
    m = timm.create_model("mobilenetv2_100", num_classes=10)
    x = torch.randn(1, 3, 224, 224)
    madds = count_madds(m, x).total
    assert madds == pytest.approx(299.5e6, rel=0.01)
    params = count_params(m)
    assert round(params["total"] / 1e6, 1) == 2.2
    assert params["no_norm"] == pytest.approx(2.20e6, rel=0.005)  # rnnpool.md §5.1 recount (no BN)
    ram = analytic_peak_ram(m, x)
    assert ram.peak_bytes == (112 * 112 * 32 + 112 * 112 * 16) * 4
    assert round(ram.peak_mib, 2) == 2.30 and ram.peak_unit == "blocks.0.0"


def test_resnet18_peak_ram_is_first_conv_output():
    ram = analytic_peak_ram(timm.create_model("resnet18", num_classes=10), torch.randn(1, 3, 224, 224))
    assert ram.peak_bytes == 112 * 112 * 64 * 4  # 3.06 MB in RNNPool Table 1


def test_peak_ram_rules_on_a_handmade_net():
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(8, 4, 3, stride=2, padding=1)

        def forward(self, x):
            return self.conv(x)

    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 16, 1), nn.Conv2d(16, 8, 1), Block()
    )
    x = torch.randn(1, 3, 16, 16)
    # plain layers hold their output: conv3×3 → 8·16·16 = 2048 values; the 1×1 convs are computed on the fly;
    # Block without a rule is a container, its strided conv holds 4·8·8 = 256
    assert analytic_peak_ram(net, x).peak_values == 2048
    register_peak_ram_rule(Block, "mbconv")  # |in| + |out| = 8·16·16 + 4·8·8
    ram = analytic_peak_ram(net, x, bytes_per_value=1)
    assert (ram.peak_values, ram.peak_bytes, ram.peak_unit) == (2304, 2304, "4")
    register_peak_ram_rule(Block, "residual")  # max(|in|, |out|)
    assert analytic_peak_ram(net, x).peak_values == 2048
    register_peak_ram_rule(Block, lambda m, n_in, n_out: 3 * n_in)
    assert analytic_peak_ram(net, x).peak_values == 3 * 2048


def test_latency_median_is_positive_and_ordered():
    lat = measure_latency(nn.Linear(64, 64), torch.randn(1, 64), repeats=5, warmup=1)
    assert lat.repeats == 5 and 0 < lat.p10_ms <= lat.median_ms <= lat.p90_ms


def test_measure_model_keys():
    out = measure_model(nn.Sequential(nn.Flatten(), nn.Linear(12, 3)), [3, 4], latency=False)
    assert out["params"]["total"] == 12 * 3 + 3
    assert out["madds"] == 36 and out["peak_ram_bytes"] == 3 * 4


def test_measure_cli_prints_json_last_line():
    proc = run_cli(
        "measure.cli",
        "model=mobilenetv2",
        "data=imagenet10",
        "measure.latency_repeats=2",
        "measure.latency_warmup=0",
    )
    last = json.loads(proc.stdout.strip().splitlines()[-1])
    assert last["model"] == "mobilenetv2_100"
    assert last["madds"] == pytest.approx(299.5e6, rel=0.01)
    assert last["params"]["total"] == pytest.approx(2.24e6, rel=0.01)
    assert last["peak_ram_mib"] == pytest.approx(2.297, abs=1e-3)
    assert "MAdds" in proc.stdout  # the table


def test_compresslab_train_starts_without_importing_timm():
    """The peak-RAM rules of timm's blocks are registered on first use: a run that builds no timm model does not
    pay timm's import (~1 s per process)."""
    code = "import sys, compresslab.train; print([m for m in sys.modules if m.split('.')[0] == 'timm'])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

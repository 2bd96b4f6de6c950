"""GPU-only checks (``RunIf(min_gpus=1)``: skipped with the reason where no CUDA device exists).

``scripts/gpu_check.sh`` runs these with ``pytest -m gpu`` (the bf16 step of every family is in
``tests/test_precision.py``). Each compares the GPU path with a reference computed on the spot: the CPU path of the
same weights, a closed form, or a one-process run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from compresslab.measure.madds import count_madds
from compresslab.rnnpool.operator import RNNPoolLayer
from tests.helpers.cli import QUIET_CLI, run_cli
from tests.helpers.run_if import RunIf, cuda_device_count


@pytest.fixture(autouse=True)
def _no_tf32():
    """Exact fp32 on the GPU for the comparisons (TF32 would round matmul/conv inputs to 10 mantissa bits)."""
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


@RunIf(min_gpus=1)
@pytest.mark.parametrize("cell", ["fastgrnn", "gru", "lstm"])
def test_rnnpool_operator_on_gpu_equals_cpu(cell: str):
    torch.manual_seed(0)
    layer = RNNPoolLayer(in_channels=8, hidden1=16, hidden2=16, patch_size=6, stride=4, cell=cell).eval()
    x = torch.randn(2, 8, 30, 30)
    with torch.no_grad():
        ref = layer(x)
        out = layer.cuda()(x.cuda()).cpu()
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


@RunIf(min_gpus=1)
def test_cudnn_rnn_madds_closed_form():
    """``aten._cudnn_rnn`` (all layers and directions in one call) counted as Σ steps·batch·|W| per matrix."""
    steps, batch, i, h = 7, 3, 10, 16
    gru = nn.GRU(i, h, num_layers=2, bidirectional=True).cuda()
    x = torch.randn(steps, batch, i, device="cuda")
    # per direction: layer 0 reads I, layer 1 reads 2H (both directions); GRU has 3 gates
    closed = steps * batch * 2 * (3 * h * i + 3 * h * h + 3 * h * 2 * h + 3 * h * h)
    gpu = count_madds(gru, x)
    assert "_cudnn_rnn" in " ".join(map(str, gpu.by_op)), gpu.by_op  # the cuDNN kernel was what ran
    assert gpu.total == closed
    assert count_madds(gru.cpu(), x.cpu()).total == closed  # the CPU decomposition counts the same


@RunIf(min_gpus=1)
@pytest.mark.slow
def test_ddp_on_every_gpu_equals_one_process(tmp_path: Path):
    """DDP (NCCL) over all visible GPUs equals one process with the same global batch (fp32, deterministic)."""
    common = [*QUIET_CLI, "trainer.max_epochs=2", "data.batch_size=64", "seed=7", "trainer.precision=32-true"]
    common += ["trainer.deterministic=true", "data.num_workers=0"]
    runs = {}
    for name, trainer in (("single", ["trainer=gpu"]), ("ddp", ["trainer=ddp", "trainer.devices=-1"])):
        out = tmp_path / name
        run_cli(
            "train", *trainer, f"hydra.run.dir={out}", *common, env={"CUBLAS_WORKSPACE_CONFIG": ":4096:8"}
        )
        runs[name] = json.loads((out / "metrics.json").read_text())
    single, ddp = runs["single"], runs["ddp"]
    assert ddp["config"]["trainer"]["strategy"] == "ddp"
    assert ddp["global_step"] == single["global_step"] == 2 * (1257 // 64)
    for key in ("val/acc", "val/loss", "test/acc", "test/loss"):
        assert ddp["metrics"][key] == pytest.approx(single["metrics"][key], abs=2e-3), key
    assert single["metrics"]["val/acc"] > 0.2, "above chance (0.1): it learned, so equality is not trivial"
    print(f"DDP over {cuda_device_count()} GPU(s) == one process: test/acc {ddp['metrics']['test/acc']:.4f}")

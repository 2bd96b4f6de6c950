"""The precision matrix (GPU readiness): one experiment of every family trains under ``bf16-mixed``.

On CPU always (the ``bf16-mixed`` path the GPU configs use, run where CI runs); on CUDA where a device exists
(``RunIf``, skipped with the reason here). Each case: one fast-dev-run training step with a finite loss,
finite non-zero gradients and fp32 master weights, then one test batch.
"""

from __future__ import annotations

from pathlib import Path

import hydra
import pytest
import torch
from lightning.pytorch import Trainer

from tests.helpers.compose import compose_cfg
from tests.helpers.precision import FAMILIES, compose_family, fast_dev_run
from tests.helpers.run_if import RunIf

#: the families whose single step is minutes on 2 CPU cores are also in the slow set
SLOW_ON_CPU = {"srnet_mask", "srnet_imp", "hpmkd"}


@pytest.mark.parametrize(
    "family", [pytest.param(f, marks=pytest.mark.slow) if f in SLOW_ON_CPU else f for f in FAMILIES]
)
def test_bf16_mixed_on_cpu(family: str, tmp_path: Path):
    torch.manual_seed(0)
    cfg = compose_family(family, tmp_path / "logs", ["trainer.precision=bf16-mixed"])
    fast_dev_run(cfg, "cpu", "bf16-mixed").assert_finite(family)


@RunIf(min_gpus=1, bf16_cuda=True)
@pytest.mark.parametrize("family", list(FAMILIES))
def test_bf16_mixed_on_gpu(family: str, tmp_path: Path):
    torch.manual_seed(0)
    cfg = compose_family(family, tmp_path / "logs", ["trainer=gpu"])
    assert cfg.trainer.precision == "bf16-mixed"  # what trainer=gpu ships
    fast_dev_run(cfg, "gpu", "bf16-mixed").assert_finite(family)


def test_madds_do_not_depend_on_autocast():
    """Counting runs the forward: under bf16 autocast it counts the same multiply-adds as in fp32."""
    from compresslab.measure.madds import count_madds
    from compresslab.nets.small import ConvNet
    from compresslab.rnnpool.operator import RNNPoolLayer

    for net, x in (
        (ConvNet(in_chans=1, num_classes=10, widths=[8, 16], norm="group"), torch.randn(2, 1, 8, 8)),
        (
            RNNPoolLayer(in_channels=4, hidden1=8, hidden2=8, patch_size=4, stride=2),
            torch.randn(1, 4, 12, 12),
        ),
    ):
        fp32 = count_madds(net, x).total
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16 = count_madds(net, x).total
        assert fp32 > 0 and bf16 == fp32, (type(net).__name__, fp32, bf16)


def test_rnnpool_operator_under_bf16_autocast_follows_autocast():
    """The RNNPool layer runs under bf16 autocast, returns the autocast dtype and stays close to fp32."""
    from compresslab.rnnpool.operator import RNNPoolLayer

    torch.manual_seed(0)
    layer = RNNPoolLayer(in_channels=4, hidden1=8, hidden2=8, patch_size=4, stride=2, cell="gru").eval()
    x = torch.randn(1, 4, 12, 12)
    ref = layer(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    assert torch.isfinite(out).all() and out.shape == ref.shape
    torch.testing.assert_close(out.float(), ref, atol=5e-2, rtol=5e-2)  # bf16 keeps 8 mantissa bits


@pytest.mark.slow
def test_compile_switch_trains_and_keeps_checkpoint_keys(tmp_path: Path):
    """``model.compile=true`` on CPU: the net is compiled in place, trains, and its state dict keys are unchanged."""
    cfg = compose_cfg(
        "train",
        ["logger=none", "data=digits", "model.compile=true", "model.net.widths=[8,16]"],
        tmp_path / "run",
    )
    model, dm = hydra.utils.instantiate(cfg.model), hydra.utils.instantiate(cfg.data)
    keys = set(model.state_dict())
    trainer = Trainer(
        accelerator="cpu", max_steps=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
        limit_val_batches=1, num_sanity_val_steps=0, use_distributed_sampler=False,
    )  # fmt: skip
    trainer.fit(model, datamodule=dm)
    assert getattr(model.net, "_compiled_call_impl", None) is not None  # nn.Module.compile() ran
    assert set(model.state_dict()) == keys  # no "_orig_mod." prefix: checkpoints load into an uncompiled net
    assert trainer.global_step == 3

"""The precision matrix (GPU readiness): one experiment of every family trains under ``bf16-mixed``.

On CPU always (the ``bf16-mixed`` path the GPU configs use, run where CI runs); on CUDA where a device exists
(``RunIf``, skipped with the reason here). Each case: one fast-dev-run training step with a finite loss,
finite non-zero gradients and fp32 master weights, then one test batch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

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

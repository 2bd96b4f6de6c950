"""``RunIf``: skip a test, with the reason, where the hardware or package it needs is absent.

In the spirit of lightning-hydra-template's ``tests/helpers/run_if.py``. Every GPU test also carries the ``gpu``
marker, so ``pytest -m gpu`` (what ``scripts/gpu_check.sh`` runs) selects exactly them.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch


def cuda_device_count() -> int:
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def RunIf(min_gpus: int = 0, bf16_cuda: bool = False, packages: tuple[str, ...] = ()):  # noqa: N802, ANN201
    """A mark that skips the test unless every condition holds.

    Args:
        min_gpus: at least this many CUDA devices.
        bf16_cuda: the CUDA device supports bfloat16 (Ampere or newer).
        packages: importable Python packages.
    """
    reasons = []
    if min_gpus and cuda_device_count() < min_gpus:
        reasons.append(f"needs {min_gpus} CUDA device(s), found {cuda_device_count()}")
    if bf16_cuda and not (cuda_device_count() and torch.cuda.is_bf16_supported()):
        reasons.append("needs a CUDA device with bfloat16 support")
    reasons += [f"needs the package '{p}'" for p in packages if importlib.util.find_spec(p) is None]

    def mark(fn):  # noqa: ANN001, ANN202
        fn = pytest.mark.skipif(bool(reasons), reason="; ".join(reasons))(fn)
        return pytest.mark.gpu(fn) if (min_gpus or bf16_cuda) else fn

    return mark

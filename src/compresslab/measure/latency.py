"""Measured inference latency: median of timed repeats after warm-up (batch as given)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class LatencyResult:
    median_ms: float
    p10_ms: float
    p90_ms: float
    repeats: int
    device: str
    threads: int


def measure_latency(
    model: nn.Module, *inputs: torch.Tensor, repeats: int = 20, warmup: int = 5
) -> LatencyResult:
    """Time ``model(*inputs)`` under ``inference_mode``; warm-up iterations are excluded from the statistics."""
    if repeats < 1 or warmup < 0:
        raise ValueError(
            f"measure.latency_repeats must be >= 1 and latency_warmup >= 0 (got {repeats}, {warmup})"
        )
    device = inputs[0].device if inputs else torch.device("cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    was_training = model.training
    model.eval()
    times = []
    try:
        with torch.inference_mode():
            for i in range(warmup + repeats):
                sync()
                t0 = time.perf_counter()
                model(*inputs)
                sync()
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1e3)
    finally:
        model.train(was_training)
    q = statistics.quantiles(times, n=10) if len(times) > 1 else [times[0]] * 9
    return LatencyResult(statistics.median(times), q[0], q[-1], repeats, str(device), torch.get_num_threads())

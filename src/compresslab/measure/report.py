"""One call that measures a network the way every run and every table reports it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from compresslab.measure.latency import measure_latency
from compresslab.measure.madds import count_madds
from compresslab.measure.peak_ram import analytic_peak_ram

_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)


def count_params(model: nn.Module) -> dict[str, int]:
    """Parameter counts: ``total``, ``trainable`` and ``no_norm`` (without normalisation layers' affine params,
    the convention of hand counts that skip BN, e.g. rnnpool.md §5.1).

    Parameters shared between modules are counted once.
    """
    seen: set[int] = set()
    total = trainable = norm = 0
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            total += p.numel()
            trainable += p.numel() if p.requires_grad else 0
            norm += p.numel() if isinstance(module, _NORMS) else 0
    return {"total": total, "trainable": trainable, "no_norm": total - norm}


def num_params(model: nn.Module) -> int:
    """Number of parameters, trainable or not, shared ones once: :func:`count_params`'s ``total``."""
    return count_params(model)["total"]


def measure_model(
    model: nn.Module,
    input_shape: Sequence[int],
    batch_size: int = 1,
    bytes_per_value: int = 4,
    latency: bool = True,
    latency_repeats: int = 20,
    latency_warmup: int = 5,
    device: str | torch.device = "cpu",
    example: torch.Tensor | None = None,
) -> dict[str, Any]:
    """Params, MAdds, analytic peak RAM and (optionally) measured latency of ``model`` on one input shape.

    Args:
        model: the network (not a LightningModule wrapper: pass ``module.net``).
        input_shape: one input without batch dimension, e.g. ``[3, 224, 224]``.
        batch_size: batch for MAdds and latency (peak RAM is always counted at batch 1, as the papers do).
        example: the input to measure on (``[batch_size, *input_shape]``), e.g. integer token ids for a text
            model; default: standard-normal floats.
    """
    model = model.to(device)
    x = example.to(device) if example is not None else torch.randn(batch_size, *input_shape, device=device)
    madds = count_madds(model, x)
    ram = analytic_peak_ram(model, x[:1], bytes_per_value=bytes_per_value)
    out: dict[str, Any] = {
        "input_shape": list(input_shape),
        "batch_size": batch_size,
        "params": count_params(model),
        "madds": madds.total,
        "madds_by_module": madds.by_module,
        "peak_ram_mib": ram.peak_mib,
        "peak_ram_bytes": ram.peak_bytes,
        "peak_ram_unit": ram.peak_unit,
        "bytes_per_value": bytes_per_value,
    }
    if latency:
        lat = measure_latency(model, x, repeats=latency_repeats, warmup=latency_warmup)
        out["latency_ms"] = {
            "median": lat.median_ms,
            "p10": lat.p10_ms,
            "p90": lat.p90_ms,
            "repeats": lat.repeats,
            "device": lat.device,
            "threads": lat.threads,
        }
    return out


def format_measure_table(name: str, m: dict[str, Any]) -> Any:
    """A rich Table of a :func:`measure_model` result."""
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"{name}  input {m['batch_size']}×{'×'.join(map(str, m['input_shape']))}")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    p = m["params"]
    t.add_row("params (total)", f"{p['total']:,}  ({p['total'] / 1e6:.2f}M)")
    t.add_row("params (trainable)", f"{p['trainable']:,}")
    t.add_row("params (without norm layers)", f"{p['no_norm']:,}")
    t.add_row("MAdds", f"{m['madds']:,}  ({m['madds'] / 1e6:.1f}M)")
    t.add_row("FLOPs (2×MAdds)", f"{2 * m['madds']:,}")
    t.add_row(
        f"peak RAM ({m['bytes_per_value']} B/value)", f"{m['peak_ram_mib']:.3f} MiB  at {m['peak_ram_unit']}"
    )
    if "latency_ms" in m:
        lat = m["latency_ms"]
        t.add_row(
            "latency (median)", escape(f"{lat['median']:.2f} ms  [{lat['device']}, {lat['threads']} threads]")
        )
    return t

"""Analytic peak activation RAM under the RNNPool paper's "standard" (compute-optimised) convention.

rnnpool.md §5 / RNNPool App. E.2: the peak is the largest activation map that must be held, with per-block
rules —

* a plain layer holds its output map; the output of a 1×1 convolution is computed on the fly (not held);
  element-wise layers (norms, activations, dropout) work in place;
* MBConv / inverted residual (and depthwise-separable) block: |input| + |output| (the expansion is streamed
  one channel at a time);
* residual block: max(|input|, |output|);
* dense block: |block output|;
* inception block: |input| + the sum of its 3 smallest branch outputs (the largest branch streams into the
  concatenated output);
* RNNPool: |output| only (computed patch by patch).

Sizes come from forward hooks on one batch-1 forward pass; values × ``bytes_per_value`` (4 = fp32), in MiB.
Rules are looked up by module class; :func:`register_peak_ram_rule` adds classes (RNNPool registers itself).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

Rule = Literal["mbconv", "residual", "dense", "output", "skip"] | Callable[[nn.Module, int, int], int]

_RULES: dict[type, Rule] = {}
_ELEMENTWISE = (
    nn.modules.batchnorm._NormBase,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.Identity,
    nn.Dropout,
    nn.Dropout2d,
    nn.Flatten,
    nn.ReLU,
    nn.ReLU6,
    nn.SiLU,
    nn.GELU,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Sigmoid,
    nn.Tanh,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.Mish,
)


def register_peak_ram_rule(cls: type, rule: Rule) -> None:
    """Declare how a block class counts: one of the named rules, or ``f(module, in_values, out_values) -> values``."""
    _RULES[cls] = rule


def _inception_rule(module: nn.Module, n_in: int, n_out: int) -> int:
    """|in| + the 3 smallest of the 4 branch outputs; branch widths from each branch's last convolution."""
    widths = []
    for branch in (module.branch1, module.branch2, module.branch3, module.branch4):
        convs = [m for m in branch.modules() if isinstance(m, nn.Conv2d)]
        widths.append(convs[-1].out_channels)
    spatial = n_out // sum(widths)  # values per channel of the concatenated output
    return n_in + spatial * sum(sorted(widths)[:3])


@functools.cache
def _register_defaults() -> None:
    """Known block classes of timm and torchvision, registered on first use (importing timm costs ~1 s, which
    every ``compresslab-train`` start would pay); a rule registered before for the same class is kept."""

    try:
        from timm.models import _efficientnet_blocks as eb
        from timm.models import resnet as timm_resnet

        for cls in (eb.InvertedResidual, eb.DepthwiseSeparableConv, eb.EdgeResidual):
            _RULES.setdefault(cls, "mbconv")
        for cls in (timm_resnet.BasicBlock, timm_resnet.Bottleneck):
            _RULES.setdefault(cls, "residual")
    except ImportError:  # pragma: no cover - timm is a dependency
        pass
    try:
        from timm.models import densenet as timm_densenet

        _RULES.setdefault(timm_densenet.DenseBlock, "dense")
    except (ImportError, AttributeError):  # pragma: no cover
        pass
    from torchvision.models import densenet, mobilenetv2, resnet
    from torchvision.models.googlenet import Inception

    _RULES.setdefault(Inception, _inception_rule)

    _RULES.setdefault(mobilenetv2.InvertedResidual, "mbconv")
    _RULES.setdefault(resnet.BasicBlock, "residual")
    _RULES.setdefault(resnet.Bottleneck, "residual")
    _RULES.setdefault(densenet._DenseBlock, "dense")


def _rule_for(module: nn.Module) -> Rule | None:
    _register_defaults()
    for cls in type(module).__mro__:
        if cls in _RULES:
            return _RULES[cls]
    if next(module.children(), None) is not None:
        return None  # a container without a rule: look inside
    if isinstance(module, _ELEMENTWISE):
        return "skip"
    if isinstance(module, nn.Conv2d) and tuple(module.kernel_size) == (1, 1):
        return "skip"  # 1×1 conv output computed on the fly
    return "output"


@dataclass
class PeakRamUnit:
    name: str
    kind: str
    rule: str
    in_values: int
    out_values: int
    values: int


@dataclass
class PeakRamResult:
    """Peak RAM (values, bytes, MiB) and the unit that sets it; ``units`` lists every counted unit."""

    peak_values: int
    bytes_per_value: int
    peak_unit: str
    units: list[PeakRamUnit] = field(default_factory=list)

    @property
    def peak_bytes(self) -> int:
        return self.peak_values * self.bytes_per_value

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20


def _numel(obj: Any) -> int:
    if isinstance(obj, torch.Tensor):
        return obj.numel()
    if isinstance(obj, list | tuple):
        return sum(_numel(o) for o in obj)
    if isinstance(obj, dict):
        return sum(_numel(o) for o in obj.values())
    return 0


def _apply(rule: Rule, module: nn.Module, n_in: int, n_out: int) -> int:
    if callable(rule):
        return int(rule(module, n_in, n_out))
    return {"mbconv": n_in + n_out, "residual": max(n_in, n_out), "dense": n_out, "output": n_out, "skip": 0}[
        rule
    ]


def analytic_peak_ram(model: nn.Module, *inputs: torch.Tensor, bytes_per_value: int = 4) -> PeakRamResult:
    """Peak activation RAM of ``model(*inputs)`` by the paper's block rules (see module docstring).

    Use a batch of 1. Functional operations outside modules (``x + y`` in a forward) are not seen; the
    block rules are what account for residual additions.
    """
    units: dict[str, tuple[nn.Module, Rule]] = {}

    def walk(module: nn.Module, prefix: str) -> None:
        for name, child in module.named_children():
            path = f"{prefix}.{name}" if prefix else name
            rule = _rule_for(child)
            if rule is None:
                walk(child, path)
            elif rule != "skip":
                units[path] = (child, rule)

    walk(model, "")
    if not units and _rule_for(model) not in (None, "skip"):
        units[""] = (model, _rule_for(model))  # type: ignore[assignment]
    sizes: dict[str, tuple[int, int]] = {}

    def hook(path: str) -> Callable:
        def record(mod: nn.Module, args: tuple, output: Any) -> None:
            n_in, n_out = _numel(args), _numel(output)
            old = sizes.get(path, (0, 0))
            sizes[path] = (max(old[0], n_in), max(old[1], n_out))

        return record

    handles = [m.register_forward_hook(hook(p)) for p, (m, _) in units.items()]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    rows = []
    for path, (module, rule) in units.items():
        if path not in sizes:
            continue  # defined but not called in forward
        n_in, n_out = sizes[path]
        rows.append(
            PeakRamUnit(
                path,
                type(module).__name__,
                rule if isinstance(rule, str) else "custom",
                n_in,
                n_out,
                _apply(rule, module, n_in, n_out),
            )
        )
    peak = max(rows, key=lambda r: r.values) if rows else PeakRamUnit("", "", "", 0, 0, 0)
    return PeakRamResult(
        peak_values=peak.values, bytes_per_value=bytes_per_value, peak_unit=peak.name, units=rows
    )

"""Multiply-add (MAdds) counting with ``torch.utils.flop_counter.FlopCounterMode``, made right for attention and RNNs.

Convention (MobileNetV2, and every paper this codebase reproduces): one multiply-add = 1 MAdd, counting the
matrix products of convolutions, linear layers, attention (QKᵀ and AV) and recurrent cells; biases, norms
and activations are not counted. FLOPs = 2 × MAdds.

FlopCounterMode alone misses three cases (ecosystem.md §4.1), fixed here:

* CPU ``F.scaled_dot_product_attention`` dispatches to a fused kernel that has no formula → counted under
  ``sdpa_kernel(SDPBackend.MATH)``, which decomposes into ``bmm``;
* ``nn.MultiheadAttention`` in eval/no-grad takes a fused fast path → the fast path is switched off;
* CPU ``nn.LSTM`` runs ``aten.mkldnn_rnn_layer`` and cuDNN RNNs run ``aten._cudnn_rnn``, neither in the
  registry → formulas below. (CPU ``nn.GRU``/``nn.RNN`` decompose into ``addmm`` and are counted as is.)
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

aten = torch.ops.aten


def _numel(shape: Any) -> int:
    return math.prod(shape) if shape is not None else 0


def _rnn_flops_from_weights(input_shape: Any, weight_shapes: list[Any]) -> int:
    """2 × Σ over the cell's weight matrices of (time steps × batch) × |W|.

    Every 2-D weight (W_ih: [G·H, I], W_hh: [G·H, H], LSTM projection W_hr: [P, H]) is applied once per time
    step per sequence; ``input_shape[:-1]`` multiplies out to steps × batch for [T, B, I], [B, T, I] and packed
    [ΣT, I] inputs alike. G = 1 (RNN), 3 (GRU), 4 (LSTM) is already in the weight shapes.
    """
    steps_x_batch = _numel(input_shape[:-1])
    mats = sum(_numel(s) for s in weight_shapes if s is not None and len(s) == 2)
    return 2 * steps_x_batch * mats


def _mkldnn_rnn_layer_flop(
    input: Any, weight0: Any, weight1: Any, *args: Any, out_shape: Any = None, **kwargs: Any
) -> int:
    """``aten.mkldnn_rnn_layer``: one layer, one direction (CPU LSTM)."""
    return _rnn_flops_from_weights(input, [weight0, weight1])


def _cudnn_rnn_flop(input: Any, weight: list[Any], *args: Any, out_shape: Any = None, **kwargs: Any) -> int:
    """``aten._cudnn_rnn``: all layers and directions in one call; ``weight`` lists every layer's matrices.

    Layer l > 0 reads the previous layer's output, but its W_ih shape already encodes that width, so summing
    every 2-D weight × (steps × batch) is exact for stacked and bidirectional RNNs.
    """
    return _rnn_flops_from_weights(input, list(weight))


RNN_FLOP_FORMULAS: dict[Any, Any] = {
    aten.mkldnn_rnn_layer: _mkldnn_rnn_layer_flop,
    aten._cudnn_rnn: _cudnn_rnn_flop,
}


@contextlib.contextmanager
def countable_attention() -> Iterator[None]:
    """Math SDPA backend and MHA fast path off, so attention decomposes into counted matmuls."""
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


@dataclass
class MAddsResult:
    """Total multiply-adds of one forward pass and a per-module breakdown (module path → MAdds)."""

    total: int
    by_module: dict[str, int] = field(default_factory=dict)
    by_op: dict[str, int] = field(default_factory=dict)

    @property
    def flops(self) -> int:
        return 2 * self.total


def count_madds(model: nn.Module, *inputs: torch.Tensor, depth: int = 2, **kwargs: Any) -> MAddsResult:
    """Count the MAdds of ``model(*inputs, **kwargs)`` (eval mode, no grad; the model's mode is restored).

    Args:
        model: any nn.Module.
        inputs: example inputs, with the batch size the count should be for (usually 1).
        depth: module-path depth of the per-module breakdown.
    """
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False, depth=depth, custom_mapping=RNN_FLOP_FORMULAS)
        with torch.no_grad(), countable_attention(), counter:
            model(*inputs, **kwargs)
    finally:
        model.train(was_training)
    counts = counter.get_flop_counts()
    by_module = {name: sum(ops.values()) // 2 for name, ops in counts.items() if name != "Global"}
    by_op = {str(op): v // 2 for op, v in counts.get("Global", {}).items()}
    return MAddsResult(total=counter.get_total_flops() // 2, by_module=by_module, by_op=by_op)

"""MAdds of an RNNPool model under the two execution schedules that its counts assume (rnnpool.md §5, §5.1).

* **Whole map** — what the modules execute on a whole feature map, each computation once (the default
  :func:`compresslab.measure.count_madds` count): the stem convolution once per output pixel; RNNPoolLayer's
  W·x once per pixel and RNN1 once per distinct row/column sequence (``operator.py``). It needs the stem's
  whole output map (112²×32 = 1.53 MiB for MobileNetV2-RNNPool), not what the peak-RAM rule assumes.
* **Patch by patch** — the schedule of the peak-RAM rule (App. E.2: "RNNPool is computed patch by patch, so
  only its output is stored"): every output position of a downsampling block is computed from its own
  r×c window of the stem output, and nothing is kept between windows. Per window:

      stem:      r·c · (stem MAdds per output pixel)            (overlapping windows recompute the overlap)
      RNNPool:   r·c·k·h1 + 2·r·c·h1² + (r + c)·h1·h2 + 2·(r + c)·h2²
                 (W·x once per pixel of the patch, RNN1 over its r rows and c columns, RNN2's projection of
                  the r + c summaries, 4 sweeps of RNN2; = our :class:`RNNPool` on the cut patch)
      pooling / strided conv: as on the whole map (a window op computes each output from its window anyway)

  For MobileNetV2-RNNPool (112²×32 stem map, patch 6, stride 4, 27² windows) the stem costs
  729·36/12,544 = 2.09× its whole-map count. Algorithm 1 taken literally (W·x per pipeline, RNN2's
  projection per sweep: 2r²(k·h1 + h1²) + 4r(h1·h2 + h2²) per patch, 49.3M for that layer) is an upper bound
  that neither schedule needs.

ReNet cannot run window by window (its column sweep reads the whole column of the map), so a ReNet block is
not a :class:`PatchwiseStem` and both schedules count it on the whole map; its peak RAM follows ReNet's own
rule (``renet.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from compresslab.measure.madds import count_madds
from compresslab.rnnpool.blocks import PatchwiseStem, window_of
from compresslab.rnnpool.operator import RNNPoolLayer


@dataclass(frozen=True)
class ScheduleMAdds:
    """Total MAdds of one forward pass under each schedule (batch of the example input)."""

    whole_map: int
    patch_by_patch: int

    @property
    def ratio(self) -> float:
        return self.patch_by_patch / self.whole_map


def rnnpool_patch_madds(layer: RNNPoolLayer, height: int, width: int) -> int:
    """MAdds of ``layer`` on one [k, height, width] map, patch by patch (closed form, module docstring)."""
    (r, c), (sr, sc) = layer.patch_size, layer.stride
    p, q = (height - r) // sr + 1, (width - c) // sc + 1
    rnn1, rnn2 = layer.pool.rnn1, layer.pool.rnn2
    k, h1, h2 = layer.in_channels, rnn1.hidden_size, rnn2.hidden_size
    g1, g2 = rnn1.gates, rnn2.gates  # GRU / LSTM: every matmul gates× as wide
    per_patch = g1 * (r * c * k * h1 + 2 * r * c * h1 * h1) + g2 * ((r + c) * h1 * h2 + 2 * (r + c) * h2 * h2)
    return p * q * per_patch


def _inputs_of(model: nn.Module, x: torch.Tensor, classes: tuple[type, ...]) -> dict[nn.Module, torch.Tensor]:
    """The input of every submodule of the given classes in one forward pass (batch as given)."""
    seen: dict[nn.Module, torch.Tensor] = {}
    handles = [
        m.register_forward_pre_hook(lambda mod, args: seen.setdefault(mod, args[0]))
        for m in model.modules()
        if isinstance(m, classes)
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return seen


def schedule_madds(model: nn.Module, x: torch.Tensor) -> ScheduleMAdds:
    """Whole-map and patch-by-patch MAdds of ``model(x)`` (module docstring).

    The patch-by-patch count replaces, in the whole-map count, every :class:`PatchwiseStem`'s stem by its
    per-window recomputation and every RNNPoolLayer (inside a stem or not) by its per-patch closed form.
    """
    whole = count_madds(model, x).total
    inputs = _inputs_of(model, x, (PatchwiseStem, RNNPoolLayer))
    patchwise = whole
    for module, inp in inputs.items():
        if isinstance(module, PatchwiseStem):
            with torch.no_grad():
                stem_out = module.stem(inp)  # [B, C, H, W]
            window = window_of(module.downsample)
            if window is None:
                continue
            (r, c), (sr, sc) = window
            height, width = stem_out.shape[-2:]
            windows = ((height - r) // sr + 1) * ((width - c) // sc + 1)
            stem_madds = count_madds(module.stem, inp).total  # height·width output pixels, equal cost each
            patchwise += stem_madds * windows * r * c // (height * width) - stem_madds
        elif isinstance(module, RNNPoolLayer):
            height, width = inp.shape[-2:]
            per_map = rnnpool_patch_madds(module, height, width)
            patchwise += inp.shape[0] * per_map - count_madds(module, inp).total
    return ScheduleMAdds(whole_map=whole, patch_by_patch=patchwise)


__all__ = ["ScheduleMAdds", "rnnpool_patch_madds", "schedule_madds"]

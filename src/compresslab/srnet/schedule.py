"""The SRNet target-sparsity schedule (srnet.md §1.4, §3.5): fixed, or the cubic gradual increase of Zhu & Gupta.
Split out of :mod:`compresslab.srnet.masks` (which re-exports it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from compresslab.srnet.masks import check_sparsity
from compresslab.utils.errors import ConfigError


@dataclass(frozen=True)
class SparsitySchedule:
    """Target sparsity per optimizer step: ``fixed`` (s_f throughout) or ``cubic`` (Zhu & Gupta)

        s_t = s_f + (s_i − s_f)·(1 − (t − t_0)/(T − t_0))³   (t_0 ≤ t ≤ T; s_i before t_0, s_f after T).

    Args:
        final: s_f ∈ [0, 1).
        initial: s_i ∈ [0, 1) (cubic only; ``None`` = s_f).
        kind: ``fixed`` or ``cubic``.
        start, end: t_0 and T in optimizer steps (cubic only; T > t_0).
    """

    final: float
    initial: float | None = None
    kind: Literal["fixed", "cubic"] = "fixed"
    start: int = 0
    end: int = 1

    def __post_init__(self) -> None:
        check_sparsity(self.final, "model.sparsity")
        if self.initial is not None:
            check_sparsity(self.initial, "model.initial_sparsity")
        if self.kind not in ("fixed", "cubic"):
            raise ConfigError("model.schedule", self.kind, "'fixed' or 'cubic'", "set model.schedule=fixed.")
        if self.kind == "cubic" and not self.end > self.start:
            raise ConfigError(
                "model.schedule_end",
                (self.start, self.end),
                "an end step T after the start step t_0",
                "raise model.schedule_end or the number of training steps.",
            )

    def __call__(self, step: int) -> float:
        if self.kind == "fixed" or self.initial is None:
            return self.final
        t = min(max((step - self.start) / (self.end - self.start), 0.0), 1.0)
        return self.final + (self.initial - self.final) * (1.0 - t) ** 3


__all__ = ["SparsitySchedule"]

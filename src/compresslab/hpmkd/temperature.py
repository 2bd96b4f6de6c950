"""Meta-Temperature Scheduler (MTS): the distillation temperature as a function of training progress.

Equation numbers are those of the authors' LaTeX draft (guhaase/papers-deepbridge,
``01_HPM-KD_Framework/POR``, §4.5 "Meta-Temperature Scheduler"), numbered as the draft compiles; see
``shared/papers/hpmkd.md`` §2.4.

* Eq. (18): ``T(t) = T_min + (T_max − T_min) · s(t)`` with ``s(t) ∈ [0, 1]``.
* Eq. (19), cosine: ``s(t) = (1 + cos(π t / T_max)) / 2``. The draft divides by ``T_max`` (the temperature);
  we read it as the training length: ``s = (1 + cos(π p)) / 2`` with progress ``p = t / total_steps``, so
  ``T(0) = T_max`` and ``T(end) = T_min`` exactly.
* Eq. (20), loss-based: ``s = (L(t) − L_min) / (L_max − L_min)`` with "tracked minimum and maximum losses".
  With a tracked minimum, a falling loss *is* the minimum and ``s ≡ 0``; we therefore track only ``L_max``
  (the largest smoothed loss so far) and use a fixed floor ``L_min = loss_floor`` (default 0, the infimum of
  CE and KL): ``s = (L − L_min) / (L_max − L_min)``, the fraction of the loss still left.
* Eq. (21), convergence-based: ``s = exp(−λ |dL/dt|)``, but the draft's own sentence says "high loss gradients
  indicate early training (high T) and low gradients indicate convergence (low T)", which is the opposite. We
  follow the sentence (and the section's motivation: soft targets early, sharp late): ``s = 1 − exp(−λ r)``,
  where ``r = |dL/dt|`` is made scale-free — the smoothed loss's change over a short window, per unit of
  training progress, relative to ``L_max``; ``r = 1`` means "at this speed the loss would lose its initial
  value once over the whole run".

Strategy selection ("MTS selects the strategy based on loss dynamics during the first 10 % of training"; the
draft gives no rule, this one is ours, see :func:`select_strategy`): during the probe (first
``probe_fraction`` of the steps) ``T = T0``; then the strategy is chosen from the probe's loss curve and ``T``
moves linearly from ``T0`` to the strategy's value over ``blend_fraction`` of training (no jump). An explicit
``"loss"`` or ``"convergence"`` strategy blends in the same way from step 0; an explicit ``"cosine"`` follows
Eq. (19) from step 0.

Defaults follow the draft's experimental setup (§3): ``T0 = 4``, range ``[2, 6]``. The draft adjusts T "every
10 epochs"; we update every ``update_every`` steps (1 by default) from smoothed signals. Whatever the
strategy, ``T`` is clamped to ``[T_min, T_max]``.

Pass the student's training loss to :meth:`MetaTemperatureScheduler.step` — preferably its hard-label CE,
which does not itself depend on T (the KD term does, which would feed the schedule back into its own signal).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import numpy as np

from compresslab.utils.config import Range, check_arguments
from compresslab.utils.errors import ConfigError

#: ``"auto"`` (chosen after the probe) or one of the s(t) strategies
Strategy = Literal["auto", "cosine", "loss", "convergence"]


# ------------------------------------------------------------------------------------------- s(t) functions
def cosine_s(progress: float) -> float:
    """Eq. (19): ``(1 + cos(π p)) / 2`` for progress ``p`` clamped to [0, 1]: 1 at the start, 0 at the end."""
    p = min(max(float(progress), 0.0), 1.0)
    return (1.0 + math.cos(math.pi * p)) / 2.0


def loss_s(loss: float, loss_max: float, loss_floor: float = 0.0) -> float:
    """Eq. (20), floor form: ``(L − L_min) / (L_max − L_min)`` clamped to [0, 1]; 1 when ``L_max ≤ L_min``."""
    span = loss_max - loss_floor
    if span <= 0:
        return 1.0
    return min(max((loss - loss_floor) / span, 0.0), 1.0)


def convergence_s(rate: float, lam: float = 1.0) -> float:
    """Eq. (21) with the sign of the draft's text: ``1 − exp(−λ |rate|)``; 0 when converged, → 1 when fast."""
    return 1.0 - math.exp(-lam * abs(rate))


def temperature_from_s(s: float, t_min: float, t_max: float) -> float:
    """Eq. (18): ``T_min + (T_max − T_min)·s``, with ``s`` clamped to [0, 1] so that T stays in range."""
    s = min(max(float(s), 0.0), 1.0)
    return min(max(t_min + (t_max - t_min) * s, t_min), t_max)


# ------------------------------------------------------------------------------------- strategy selection
@dataclass(frozen=True)
class LossDynamics:
    """What :func:`select_strategy` measured on the probe's losses, and what it chose.

    The probe is cut into thirds with means ``m1, m2, m3``.

    Attributes:
        n: number of losses.
        drop: ``m1 − m3`` (> 0: the loss falls).
        noise_ratio: std of the residuals of a line fitted to each third, divided by ``drop`` (inf if
            ``drop ≤ 0``).
        end_rate: ``(m2 − m3) / (m1 − m2)``, the second drop relative to the first: 1 for a loss still falling
            linearly, ``e^{−k/3}`` for ``e^{−k·x}``, ≈ 0 once it has flattened; nan when not computed.
        strategy: the chosen strategy.
        reason: one sentence, for the run log.
    """

    n: int
    drop: float
    noise_ratio: float
    end_rate: float
    strategy: str
    reason: str


def select_strategy(
    losses: Sequence[float], noise_threshold: float = 1.0, plateau_threshold: float = 0.3
) -> LossDynamics:
    """Choose the s(t) strategy from the loss curve of the first part of training.

    Rules (ours; the draft only says the choice depends on "loss dynamics"):

    1. fewer than 6 finite losses, a loss that does not fall (``drop ≤ 0``) or residual noise larger than
       ``noise_threshold × drop`` → **cosine**: no usable trend, so a schedule that ignores the loss;
    2. the loss has flattened out within the probe (``end_rate < plateau_threshold``) → **convergence**: the
       loss level hardly moves any more, its rate of change is the informative signal;
    3. otherwise, still falling steadily → **loss**: the fraction of loss left is a smooth progress measure.

    Means of thirds rather than fitted slopes make the rule robust to minibatch noise.
    """
    y = np.asarray([float(v) for v in losses if math.isfinite(float(v))], dtype=np.float64)
    n = int(y.size)
    if n < 6:
        return LossDynamics(n, float("nan"), float("inf"), float("nan"), "cosine", f"only {n} losses (< 6)")
    x = np.arange(n) / (n - 1)
    thirds = np.array_split(np.arange(n), 3)
    residuals = []
    for idx in thirds:
        slope, intercept = np.polyfit(x[idx], y[idx], 1)
        residuals.append(y[idx] - (slope * x[idx] + intercept))
    m1, m2, m3 = (float(y[idx].mean()) for idx in thirds)
    drop = m1 - m3
    if drop <= 0:
        return LossDynamics(n, drop, float("inf"), float("nan"), "cosine", "the loss does not fall")
    noise_ratio = float(np.concatenate(residuals).std()) / drop
    if noise_ratio > noise_threshold:
        reason = f"noise {noise_ratio:.2f}× the drop (> {noise_threshold:g})"
        return LossDynamics(n, drop, noise_ratio, float("nan"), "cosine", reason)
    end_rate = (m2 - m3) / (m1 - m2) if m1 > m2 else math.inf
    if end_rate < plateau_threshold:
        reason = f"flattened: second drop {end_rate:.2f}× the first (< {plateau_threshold:g})"
        return LossDynamics(n, drop, noise_ratio, end_rate, "convergence", reason)
    reason = f"still falling: second drop {end_rate:.2f}× the first"
    return LossDynamics(n, drop, noise_ratio, end_rate, "loss", reason)


# ---------------------------------------------------------------------------------------------- scheduler
#: a temperature: finite and > 0 (the draft's range is [2, 6], T0 = 4)
Temperature = Annotated[float, Range(gt=0, hint="the draft uses [2, 6], T0 = 4")]
#: the training steps of a run
Steps = Annotated[int, Range(ge=1, hint="pass the number of optimizer steps of the run")]


class MetaTemperatureScheduler:
    """Temperature schedule for one distillation run (one chain step), updated once per training step.

    Args:
        total_steps: training steps of the run (the unit of ``t``; batches, usually).
        t_min, t_max: the temperature range (draft: [2, 6]); ``0 < t_min ≤ t_max``.
        t0: the temperature during the probe and before a loss-driven ``s`` is defined (draft: 4).
        strategy: ``"auto"`` (chosen after the probe), ``"cosine"``, ``"loss"`` or ``"convergence"``.
        probe_fraction: the share of training whose losses decide the strategy (draft: 10 %).
        blend_fraction: the share of training over which T moves from ``t0`` to a loss-driven or auto-chosen
            strategy's value.
        lam: λ of Eq. (21).
        loss_floor: ``L_min`` of Eq. (20).
        ema: smoothing factor of the loss average used by Eq. (20) and (21).
        window_fraction: the window of the finite difference ``dL/dt`` (share of training, at least 2 steps).
        update_every: recompute T every this many steps (the draft: every 10 epochs).
        noise_threshold, plateau_threshold: see :func:`select_strategy`.

    Usage::

        mts = MetaTemperatureScheduler(total_steps=trainer.estimated_stepping_batches)
        for batch in loader:
            T = mts.temperature           # use for this step's KD loss, log it
            ...
            mts.step(ce_loss.item())      # advance, record the step's loss
    """

    def __init__(
        self,
        total_steps: Steps,
        t_min: Temperature = 2.0,
        t_max: Temperature = 6.0,
        t0: Temperature = 4.0,
        strategy: Strategy = "auto",
        probe_fraction: Annotated[float, Range(gt=0, lt=1, hint="the draft uses 0.1")] = 0.1,
        blend_fraction: Annotated[float, Range(ge=0, lt=1, hint="e.g. 0.05")] = 0.05,
        lam: Annotated[float, Range(gt=0, hint="e.g. 1.0")] = 1.0,
        loss_floor: Annotated[float, Range(hint="0 for CE/KL")] = 0.0,
        ema: Annotated[float, Range(ge=0, lt=1, hint="e.g. 0.9; 0 = no smoothing")] = 0.9,
        window_fraction: Annotated[float, Range(gt=0, le=1, hint="e.g. 0.05")] = 0.05,
        update_every: Annotated[
            int, Range(ge=1, hint="1 = every step, or the steps of 10 epochs as in the draft")
        ] = 1,
        noise_threshold: float = 1.0,
        plateau_threshold: float = 0.3,
    ) -> None:
        # one-argument rules (types, choices, ranges) are the annotations', checked by the signature layer
        check_arguments(MetaTemperatureScheduler.__init__, locals(), prefix="mts")
        # rules across arguments
        if t_min > t_max:
            raise ConfigError("mts.t_min", t_min, f"t_min ≤ t_max = {t_max}", "swap or fix the range.")
        if not t_min <= t0 <= t_max:
            raise ConfigError(
                "mts.t0",
                t0,
                f"a value in [t_min, t_max] = [{t_min}, {t_max}]",
                "put t0 inside the range (or widen the range).",
            )
        self.total_steps = int(total_steps)
        self.t_min, self.t_max, self.t0 = float(t_min), float(t_max), float(t0)
        self.requested = strategy
        self.probe_steps = max(1, round(probe_fraction * total_steps))
        self.blend_steps = round(blend_fraction * total_steps)
        self.lam, self.loss_floor, self.ema = float(lam), float(loss_floor), float(ema)
        self.window = max(2, round(window_fraction * total_steps))
        self.update_every = int(update_every)
        self.noise_threshold, self.plateau_threshold = float(noise_threshold), float(plateau_threshold)

        self.step_count = 0
        self.dynamics: LossDynamics | None = None
        self._strategy: str | None = None if strategy == "auto" else strategy
        # loss-driven strategies start at t0 and blend in (no jump at step 1); cosine starts exactly at T_max
        self._blend_start: int | None = 0 if strategy in ("loss", "convergence") else None
        self._probe: list[float] = []
        self._smoothed: float | None = None
        self._loss_max: float | None = None
        self._recent: deque[float] = deque(maxlen=self.window + 1)  # smoothed losses, one per step
        self.last_s: float | None = None
        self._t = self.t0
        self._t = self._compute()

    @classmethod
    def from_t0(
        cls,
        t0: Temperature,
        total_steps: Steps,
        spread: Annotated[float, Range(ge=0, lt=1, hint="0.5 gives [2, 6] for t0 = 4")] = 0.5,
        **kwargs: Any,
    ) -> MetaTemperatureScheduler:
        """Range ``[t0·(1 − spread), t0·(1 + spread)]`` around ACM's ``t0`` (4 → the draft's [2, 6])."""
        check_arguments(MetaTemperatureScheduler.from_t0.__func__, locals(), prefix="mts")
        return cls(total_steps, t_min=t0 * (1 - spread), t_max=t0 * (1 + spread), t0=t0, **kwargs)

    # --------------------------------------------------------------------------------------------- state
    @property
    def temperature(self) -> float:
        """The temperature for the current step."""
        return self._t

    @property
    def strategy(self) -> str:
        """The strategy in use: ``"probe"`` while auto mode is still collecting losses."""
        return self._strategy or "probe"

    def step(self, loss: float | Any | None = None) -> float:
        """Record the finished step's loss (``None``/NaN are ignored), advance one step, return the new T."""
        if loss is not None:
            value = float(loss)
            if math.isfinite(value):
                self._observe(value)
        self.step_count += 1
        resolved = False
        if self._strategy is None and self.step_count >= self.probe_steps:
            self.dynamics = select_strategy(self._probe, self.noise_threshold, self.plateau_threshold)
            self._strategy, self._blend_start, resolved = self.dynamics.strategy, self.step_count, True
            self._probe = []
        if resolved or self.step_count % self.update_every == 0:
            self._t = self._compute()
        return self._t

    def _observe(self, value: float) -> None:
        if self._strategy is None:
            self._probe.append(value)
        self._smoothed = (
            value if self._smoothed is None else self.ema * self._smoothed + (1 - self.ema) * value
        )
        self._loss_max = self._smoothed if self._loss_max is None else max(self._loss_max, self._smoothed)
        self._recent.append(self._smoothed)

    def _s(self) -> float | None:
        """s(t) of the active strategy, or ``None`` when it is not defined yet (probe, too few losses)."""
        if self._strategy == "cosine":
            return cosine_s(self.step_count / self.total_steps)  # Eq. (19)
        if self._smoothed is None or self._loss_max is None:
            return None
        if self._strategy == "loss":
            return loss_s(self._smoothed, self._loss_max, self.loss_floor)  # Eq. (20)
        if self._strategy == "convergence":
            if len(self._recent) <= self.window:
                return None
            scale = max(abs(self._loss_max - self.loss_floor), 1e-12)
            # Eq. (21): |dL/dt| per unit of training progress, relative to the loss scale
            rate = (self._recent[0] - self._recent[-1]) / scale / (self.window / self.total_steps)
            return convergence_s(rate, self.lam)
        return None  # probing

    def _compute(self) -> float:
        s = self._s()
        self.last_s = s
        if s is None:
            return self._t
        target = temperature_from_s(s, self.t_min, self.t_max)  # Eq. (18)
        if self._blend_start is not None and self.blend_steps > 0:
            w = min((self.step_count - self._blend_start) / self.blend_steps, 1.0)
            target = (1 - w) * self.t0 + w * target
        return min(max(target, self.t_min), self.t_max)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume the schedule from a checkpoint."""
        return {
            "step_count": self.step_count,
            "strategy": self._strategy,
            "blend_start": self._blend_start,
            "probe": list(self._probe),
            "smoothed": self._smoothed,
            "loss_max": self._loss_max,
            "recent": list(self._recent),
            "t": self._t,
            "dynamics": None if self.dynamics is None else self.dynamics.__dict__.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (the constructor arguments must match the saved run's)."""
        self.step_count = int(state["step_count"])
        self._strategy = state["strategy"]
        self._blend_start = state["blend_start"]
        self._probe = list(state["probe"])
        self._smoothed = state["smoothed"]
        self._loss_max = state["loss_max"]
        self._recent = deque(state["recent"], maxlen=self.window + 1)
        self._t = float(state["t"])
        self.dynamics = None if state["dynamics"] is None else LossDynamics(**state["dynamics"])

    def __repr__(self) -> str:
        return (
            f"MetaTemperatureScheduler(T={self._t:.3f} in [{self.t_min:g}, {self.t_max:g}], "
            f"strategy={self.strategy!r}, step={self.step_count}/{self.total_steps})"
        )

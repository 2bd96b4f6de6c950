"""One rule for every table's paper claims: a 95 % t-interval over seeds, and a verdict from where it lies.

A claim is one line a reader can check ("RNNPoolLayer ≥ strided convolution at equal peak RAM"). Its test is
either

* :func:`paired` — arm A against arm B, runs paired by seed: the interval of the per-seed difference A − B;
  the claimed side is A − B > 0; or
* :func:`against` — one per-seed metric (e.g. a ratio) against a threshold: the interval of the metric; the
  claimed side is ``> threshold`` (``above=True``) or ``< threshold``.

``holds`` when the whole interval lies on the claimed side, ``contradicts`` when it lies wholly on the other side,
``inconclusive (n=…)`` otherwise — also whenever fewer than two seeds pair up (n=1 has no spread). The interval is
mean ± t_{0.975, n−1} · sd / √n (scipy.stats.t), sd the sample standard deviation (n − 1).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from scipy import stats

CONFIDENCE = 0.95
HOLDS, CONTRADICTS, INCONCLUSIVE = "holds", "contradicts", "inconclusive"
PAIRED = "A − B, paired by seed"


@dataclass(frozen=True)
class Claim:
    """A paper claim as a table tests it.

    ``cells`` names the table cells it compares, as (row labels, column header), so that a table whose cells were
    kept from the committed results (runs absent) can still say how many seeds those cells had.
    """

    text: str
    cells: tuple[tuple[tuple[str, ...], str], ...] = ()
    command: str = ""  # what produces the runs behind it


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    outcome: str  # holds | contradicts | inconclusive
    n: int | None  # seeds that entered the interval (None: unknown, values not recorded)
    mean: float = math.nan
    low: float = math.nan
    high: float = math.nan
    unit: str = "pp"
    #: what the interval is of: "A − B" (paired) or "metric vs 95.0" (against)
    measure: str = ""
    reason: str = ""  # why an inconclusive verdict has no interval (no runs, values not recorded)

    @property
    def label(self) -> str:
        """``holds``, ``contradicts`` or ``inconclusive (n=…)`` (with the reason when there is one)."""
        if self.outcome != INCONCLUSIVE:
            return self.outcome
        parts = ([] if self.n is None else [f"n={self.n}"]) + ([self.reason] if self.reason else [])
        return f"inconclusive ({'; '.join(parts)})"

    @property
    def interval(self) -> str:
        """``+1.20 pp [+0.31, +2.09]`` (the estimate and its 95 % interval), ``–`` without one."""
        f = "+.2f" if self.measure == PAIRED else ".2f"  # a difference carries its sign
        if math.isnan(self.low):
            return "–" if math.isnan(self.mean) else f"{self.mean:{f}} {self.unit} (no interval)"
        return f"{self.mean:{f}} {self.unit} [{self.low:{f}}, {self.high:{f}}]"

    def unrecorded(self, n: int | None, where: str) -> Verdict:
        """This verdict for cells kept from committed results without their per-seed values (n seeds each, None
        when the cells do not say)."""
        if n is not None and n < 2:
            return replace(self, n=n, reason="")
        command = f"; rerun `{self.claim.command}`" if self.claim.command else ""
        return replace(self, n=n, reason=f"per-seed values not recorded in {where}{command}")


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float, float]:
    """(mean, low, high): the two-sided Student-t interval of the mean of ``values`` (at least two)."""
    n = len(values)
    if n < 2:
        raise ValueError(f"a t-interval needs at least 2 values, got {n}: {list(values)}")
    mean = statistics.fmean(values)
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * statistics.stdev(values) / math.sqrt(n)
    return mean, mean - half, mean + half


def _decide(claim: Claim, values: list[float], threshold: float, above: bool, unit: str, measure: str,
            reason: str = "") -> Verdict:  # fmt: skip
    n = len(values)
    if n < 2:
        mean = values[0] if values else math.nan
        return Verdict(claim, INCONCLUSIVE, n, mean=mean, unit=unit, measure=measure, reason=reason)
    mean, low, high = t_interval(values)
    if above:
        outcome = HOLDS if low > threshold else CONTRADICTS if high < threshold else INCONCLUSIVE
    else:
        outcome = HOLDS if high < threshold else CONTRADICTS if low > threshold else INCONCLUSIVE
    return Verdict(claim, outcome, n, mean, low, high, unit, measure)


def paired(
    claim: Claim,
    a: Mapping[int, float],
    b: Mapping[int, float],
    *,
    scale: float = 100.0,
    unit: str = "pp",
) -> Verdict:
    """Claim "A > B" (or "A ≥ B"): the interval of (A − B) × ``scale`` over the seeds both arms have."""
    seeds = sorted(set(a) & set(b))
    diffs = [scale * (a[s] - b[s]) for s in seeds]
    reason = (
        ""
        if seeds
        else ("no runs" if not a and not b else f"no common seed (A: {sorted(a)}, B: {sorted(b)})")
    )
    return _decide(claim, diffs, 0.0, True, unit, PAIRED, reason)


def against(
    claim: Claim,
    values: Mapping[int, float],
    threshold: float,
    *,
    above: bool = True,
    scale: float = 100.0,
    unit: str = "%",
) -> Verdict:
    """Claim "metric > threshold" (``above``) or "< threshold": the interval of the per-seed metric × ``scale``
    against ``threshold`` (given in the scaled unit)."""
    vals = [scale * values[s] for s in sorted(values)]
    return _decide(claim, vals, threshold, above, unit, f"vs {threshold:g} {unit}", "" if vals else "no runs")


def ratio(a: Mapping[int, float], b: Mapping[int, float]) -> dict[int, float]:
    """Per-seed A / B over the seeds both have (B ≠ 0)."""
    return {s: a[s] / b[s] for s in sorted(set(a) & set(b)) if b[s]}


# ------------------------------------------------------------------------------------------- markdown
CLAIMS_HEADING = "## Claims and verdicts"
_CLAIM_LINE = re.compile(r"^- (?P<claim>.+?): \*\*(?P<verdict>[^*]+)\*\*", re.MULTILINE)


def markdown(verdicts: Sequence[Verdict]) -> list[str]:
    """The claims section of a table's markdown (one line per claim)."""
    return [
        CLAIMS_HEADING,
        "",
        f"Verdicts: {CONFIDENCE:.0%} t-interval over seeds (paired by seed where two arms are compared); *holds* when "
        "the interval lies wholly on the claimed side, *contradicts* when wholly on the other, else *inconclusive*.",
        "",
        *(f"- {v.claim.text}: **{v.label}**{_estimate(v)}" for v in verdicts),
    ]


def _estimate(verdict: Verdict) -> str:
    return "" if verdict.interval == "–" else f" — {verdict.interval} ({verdict.measure})"


def parse_claims(text: str) -> list[tuple[str, str]]:
    """(claim, verdict label) of every claim line in a table's markdown (what the results index lists)."""
    if CLAIMS_HEADING not in text:
        return []
    section = text.split(CLAIMS_HEADING, 1)[1]
    return [(m["claim"], m["verdict"].strip()) for m in _CLAIM_LINE.finditer(section)]

"""Accuracy against cost (MAdds, peak RAM) for the trained models of a table: one PNG per table.

Points come from the table's rendered cells (``mean ± std (n=k)``), so a figure drawn from runs and one drawn
from cells kept from committed results (:func:`compresslab.tables.common.keep_committed`) are the same figure.
The Pareto front (no other model is both more accurate and cheaper) is drawn as a dashed line per panel.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_MEAN_STD = re.compile(r"^(?P<mean>-?[\d.]+) ± (?P<std>[\d.]+) \(n=(?P<n>\d+)\)")


@dataclass(frozen=True)
class Point:
    """One trained model: its accuracy over seeds and its exact cost."""

    label: str
    acc: float  # mean, %
    std: float
    n: int
    madds_m: float  # MAdds, millions, batch 1
    peak_kib: float | None = None  # analytic peak RAM, KiB (None: no rule for this architecture)


def parse_mean_std(cell: str) -> tuple[float, float, int] | None:
    """(mean, std, n) of a ``mean ± std (n=k)`` cell (marks after it allowed), None for any other cell."""
    match = _MEAN_STD.match(cell)
    return None if match is None else (float(match["mean"]), float(match["std"]), int(match["n"]))


def front(points: Sequence[Point], cost: str) -> list[Point]:
    """The points no other point beats on both accuracy (higher) and ``cost`` (lower), cheapest first."""
    best, out = -math.inf, []
    for p in sorted(points, key=lambda p: (getattr(p, cost), -p.acc)):
        if p.acc > best:
            out.append(p)
            best = p.acc
    return out


def draw(points: Sequence[Point], path: Path, title: str) -> None:
    """Accuracy vs MAdds (and vs peak RAM where every point has one), error bars = std over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    costs = [("madds_m", "MAdds (M, batch 1)")]
    if points and all(p.peak_kib is not None for p in points):
        costs.append(("peak_kib", "analytic peak RAM (KiB, fp32)"))
    fig, axes = plt.subplots(1, len(costs), figsize=(5.2 * len(costs), 3.8), squeeze=False)
    for ax, (cost, xlabel) in zip(axes[0], costs, strict=True):
        for i, p in enumerate(points):
            ax.errorbar(getattr(p, cost), p.acc, yerr=p.std, fmt="o", color=f"C{i % 10}", capsize=3,
                        label=f"{p.label} (n={p.n})")  # fmt: skip
        edge = front(points, cost)
        ax.plot([getattr(p, cost) for p in edge], [p.acc for p in edge], "k--", lw=0.8, label="Pareto front")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("test accuracy % (mean ± std over seeds)")
        ax.grid(alpha=0.3)
    if points:
        axes[0][-1].legend(fontsize=6.5, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        axes[0][0].text(
            0.5, 0.5, "no trained cells yet", ha="center", va="center", transform=axes[0][0].transAxes
        )
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)

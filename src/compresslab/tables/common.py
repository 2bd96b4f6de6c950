"""What every paper table shares: run collection, mean ± std, cells that say where they come from, md/csv output.

A table is rows of cells. Exact cells are computed here (analytic counts); trained cells come from the
``metrics.json`` files of runs whose config has ``paper.table == <table name>``; a trained cell with no run
says ``missing`` and names the command that produces it. Files are written atomically.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compresslab.utils.io import atomic_write_text


@dataclass
class Table:
    """A rendered table: header, rows (lists of cell strings), notes printed under it."""

    name: str
    title: str
    source: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: draws the table's figure into the given .png path (written as ``<name>.png`` beside the md/csv)
    figure: Callable[[Path], None] | None = None

    def markdown(self) -> str:
        lines = [
            f"# {self.title}",
            "",
            f"Source: {self.source}. Regenerate: `compresslab-table {self.name}`.",
            "",
        ]
        lines.append("| " + " | ".join(self.header) + " |")
        lines.append("|" + "|".join("---" for _ in self.header) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        if self.figure is not None:
            lines += ["", f"![{self.title}]({self.name}.png)"]
        if self.notes:
            lines += ["", "Notes:", ""] + [f"- {note}" for note in self.notes]
        return "\n".join(lines) + "\n"

    def csv_text(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return buf.getvalue()

    def write(self, results_dir: str | Path) -> list[Path]:
        results_dir = Path(results_dir)
        md = atomic_write_text(results_dir / f"{self.name}.md", self.markdown())
        cs = atomic_write_text(results_dir / f"{self.name}.csv", self.csv_text())
        if self.figure is None:
            return [md, cs]
        png = results_dir / f"{self.name}.png"
        tmp = png.with_name(f".{png.stem}.tmp.png")
        self.figure(tmp)
        tmp.replace(png)  # atomic: a reader never sees a half-written figure
        return [md, cs, png]


@dataclass
class Run:
    """One finished run: its directory and its ``metrics.json`` content."""

    path: Path
    summary: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        return self.summary.get("config", {})

    def metric(self, key: str) -> float | None:
        value = self.summary.get("metrics", {}).get(key)
        return float(value) if isinstance(value, int | float) else None

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.config
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node


def collect_runs(log_dir: str | Path, table: str) -> list[Run]:
    """Every run under ``log_dir`` whose resolved config says ``paper.table == table`` (unreadable files skipped)."""
    runs = []
    for path in sorted(Path(log_dir).glob("**/metrics.json")):
        try:
            summary = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue  # a run being written or a broken file: never crash a table on it
        run = Run(path.parent, summary)
        if run.get("paper.table") == table:
            runs.append(run)
    return runs


def group_runs(runs: Iterable[Run], key: Callable[[Run], Any]) -> dict[Any, list[Run]]:
    groups: dict[Any, list[Run]] = {}
    for run in runs:
        groups.setdefault(key(run), []).append(run)
    return groups


def mean_std(values: list[float]) -> tuple[float, float]:
    if not values:
        return math.nan, math.nan
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt_mean_std(values: list[float], scale: float = 100.0, digits: int = 1) -> str:
    """``mean ± std (n=k)`` of ``values × scale``."""
    mean, std = mean_std([v * scale for v in values])
    return f"{mean:.{digits}f} ± {std:.{digits}f} (n={len(values)})"


def missing(command: str) -> str:
    return f"missing: `{command}`"


def fmt_delta(ours: float, paper: float | None, digits: int = 2, unit: str = "") -> str:
    if paper is None:
        return "–"
    delta = ours - paper
    rel = f" ({delta / paper:+.0%})" if paper else ""
    return f"{delta:+.{digits}f}{unit}{rel}"

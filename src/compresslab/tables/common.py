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
import re
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compresslab.utils.io import atomic_write_text

#: a header naming the paper's (or the draft's) own value: "Paper acc %", "Params M (paper)", "Draft Δ pp"
_PAPER_HEADER = re.compile(r"^(paper|draft)\b|\(paper\b", re.IGNORECASE)
_CELLS_LINE = re.compile(
    r"^Cells: (\d+) exact, (\d+) trained, (\d+) missing, (\d+) from the paper\.$", re.MULTILINE
)


def cell_kind(header: str, cell: str, trained_columns: Iterable[str] = ()) -> str | None:
    """What a cell holds: ``missing`` (a trained value without its run), ``paper`` (a value copied from the paper,
    under a "Paper …" / "… (paper)" header), ``trained`` (mean ± std over runs, or a column the table declares as
    derived from trained values), ``exact`` (computed: counts, closed forms); None for an empty cell."""
    if cell in ("", "–", "-") or (cell.startswith("*") and cell.endswith("*")):  # empty, or a sub-header
        return None
    if cell.startswith("missing"):
        return "missing"
    if _PAPER_HEADER.search(header):
        return "paper"
    if "±" in cell or header in trained_columns:
        return "trained"
    return "exact"


def parse_cell_counts(markdown: str) -> dict[str, int] | None:
    """The counts a table's markdown states on its ``Cells:`` line (None for a file written before it had one)."""
    match = _CELLS_LINE.search(markdown)
    return (
        None
        if match is None
        else dict(zip(("exact", "trained", "missing", "paper"), map(int, match.groups())))
    )


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
    #: headers of columns derived from trained values (Δ pp, retention, ratios) that carry no "±"
    trained_columns: tuple[str, ...] = ()
    #: the leading columns that name the row (task, method, sparsity …), not counted as cells
    label_columns: int = 1

    def cell_counts(self) -> dict[str, int]:
        """How many cells (the row labels excluded) are exact, trained, missing, or the paper's values."""
        counts = dict.fromkeys(("exact", "trained", "missing", "paper"), 0)
        n = self.label_columns
        for row in self.rows:
            for head, cell in zip(self.header[n:], row[n:], strict=True):
                kind = cell_kind(head, cell, self.trained_columns)
                if kind is not None:
                    counts[kind] += 1
        return counts

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
        counts = self.cell_counts()
        lines += [
            "",
            f"Cells: {counts['exact']} exact, {counts['trained']} trained, {counts['missing']} missing, "
            f"{counts['paper']} from the paper.",
        ]
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


def metric_values(runs: Iterable[Run], key: str = "test/acc") -> list[float]:
    """``key`` of every run that logged it (runs without it are skipped, not counted as 0)."""
    return [v for r in runs if (v := r.metric(key)) is not None]


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

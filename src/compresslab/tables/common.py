"""What every paper table shares: run collection, mean ± std, cells that say where they come from, md/csv output.

A table is rows of cells. Exact cells are computed here (analytic counts); trained cells come from the
``metrics.json`` files of runs whose config has ``paper.table == <table name>``; a trained cell with no run
says ``missing`` and names the command that produces it. Files are written atomically.

Results are never lost to a regeneration (:class:`RunSource`): tables count only real runs
(:func:`compresslab.utils.run_kind.is_real_run`; debug runs are skipped and counted), every run a table counted is
kept as a record in ``results/<paper.table>.runs.json`` (its seed, ``paper``/``model``/``data`` config and
metrics), and a later regeneration counts those records too unless a run under the log dir supersedes one (same
config and seed). Cells that neither runs nor records can fill keep their committed value (:func:`keep_committed`).
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

from compresslab.tables.verdict import CLAIMS_HEADING, Verdict
from compresslab.tables.verdict import markdown as claims_markdown
from compresslab.utils.io import atomic_path, atomic_write_text
from compresslab.utils.run_kind import debug_reasons, is_real_run

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
    #: the paper's claims this table tests, each with its verdict from the runs (:mod:`.verdict`)
    verdicts: list[Verdict] = field(default_factory=list)
    #: draws accuracy vs MAdds / peak RAM of the table's trained models into ``<name>_pareto.png``
    pareto: Callable[[Path], None] | None = None
    #: a figure kept from the committed results (its runs are absent): linked, not redrawn
    kept_figure: bool = False
    #: the command that produces the table's trained cells (named where cells are kept or missing)
    rerun: str = ""
    #: how the notes computed from runs begin: kept from the committed file with its cells when runs are absent
    run_note_prefixes: tuple[str, ...] = ()

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
        if self.figure is not None or self.kept_figure:
            lines += ["", f"![{self.title}]({self.name}.png)"]
        if self.pareto is not None:
            lines += ["", f"![{self.title}: accuracy vs cost]({self.name}_pareto.png)"]
        if self.notes:
            lines += ["", "Notes:", ""] + [f"- {note}" for note in self.notes]
        if self.verdicts:
            lines += ["", *claims_markdown(self.verdicts)]
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
        paths = [
            atomic_write_text(results_dir / f"{self.name}.md", self.markdown()),
            atomic_write_text(results_dir / f"{self.name}.csv", self.csv_text()),
        ]
        for draw, png in ((self.figure, f"{self.name}.png"), (self.pareto, f"{self.name}_pareto.png")):
            if draw is not None:
                with atomic_path(results_dir / png) as tmp:  # a reader never sees a half-written figure
                    draw(tmp)
                paths.append(results_dir / png)
        return paths


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
    """Every run under ``log_dir`` whose resolved config says ``paper.table == table`` (unreadable files skipped),
    debug runs included: tables count :func:`table_runs`, which skips them."""
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


#: the config groups a run record keeps: everything the tables group and label runs by
RECORD_CONFIG_KEYS = ("seed", "task_name", "paper", "model", "data")
RECORDS_SUFFIX = ".runs.json"


def _without_paths(node: Any) -> Any:
    """``node`` with absolute paths blanked: where a run ran is not what it was."""
    if isinstance(node, dict):
        return {k: _without_paths(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_without_paths(v) for v in node]
    return "<path>" if isinstance(node, str) and node.startswith("/") else node


def run_record(run: Run, log_dir: Path) -> dict[str, Any]:
    """What ``results/<paper.table>.runs.json`` keeps of a run (enough for every table and verdict)."""
    try:
        where = run.path.relative_to(log_dir).as_posix()
    except ValueError:
        where = run.path.as_posix()
    return {
        "run": where,
        "config": {k: run.config[k] for k in RECORD_CONFIG_KEYS if k in run.config},
        "metrics": run.summary.get("metrics", {}),
        "measure": run.summary.get("measure") or {},
    }


def record_identity(record: dict[str, Any]) -> str:
    """Two runs are the same cell's same seed when their recorded configs agree (absolute paths aside)."""
    return json.dumps(_without_paths(record["config"]), sort_keys=True)


@dataclass
class RunSource:
    """Where tables find runs: the real runs under ``log_dir`` plus, with ``results_dir``, the run records
    committed there (``<paper.table>.runs.json``) that no run under ``log_dir`` supersedes.

    It remembers, per ``paper.table``, the records of every run it handed out (:meth:`write_records`) and how
    many debug runs it skipped.
    """

    log_dir: Path
    results_dir: Path | None = None
    #: the paper.tables counted from the runs under ``log_dir`` only (``compresslab-table <name> --overwrite``;
    #: ``"*"``: every paper.table): their records are not read but rewritten from those runs, so a table and its
    #: ``.runs.json`` never disagree. Any other paper.table a table reads (a reference row of another table's
    #: runs) always counts its records too, so rebuilding one table never drops another table's runs.
    overwrite: frozenset[str] = frozenset()
    counted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    #: the paper.tables read since the caller last cleared it (one table's build)
    read: set[str] = field(default_factory=set)

    def records_path(self, table: str) -> Path | None:
        return None if self.results_dir is None else self.results_dir / f"{table}{RECORDS_SUFFIX}"

    def overwritten(self, table: str) -> bool:
        """Whether ``table`` is counted from the runs under ``log_dir`` only (its records neither read nor kept)."""
        return bool({"*", table} & self.overwrite)

    def runs(self, table: str, *, evaluations: bool = False) -> list[Run]:
        """The runs of ``table`` (real runs, plus records); ``evaluations``: also evaluation-only runs
        (``train=false`` and nothing else non-real), for tables of models that are evaluated without training."""
        fresh = collect_runs(self.log_dir, table)
        real = [r for r in fresh if is_real_run(r.config) or (evaluations and is_evaluation_run(r.config))]
        self.skipped[table] = len(fresh) - len(real)
        self.read.add(table)
        records = [run_record(r, self.log_dir) for r in real]
        path = self.records_path(table)
        if path is not None and not self.overwritten(table) and path.exists():
            present = {record_identity(rec) for rec in records}  # a run under log_dir supersedes its record
            records += [
                rec for rec in json.loads(path.read_text())["runs"] if record_identity(rec) not in present
            ]
        self.counted[table] = sorted(records, key=lambda rec: (rec["run"], record_identity(rec)))
        return [
            Run(
                Path(rec["run"]),
                {"metrics": rec["metrics"], "measure": rec["measure"], "config": rec["config"]},
            )
            for rec in self.counted[table]
        ]

    def write_records(self) -> list[Path]:
        """``<results_dir>/<paper.table>.runs.json`` for every table read that has runs (atomically)."""
        written = []
        for table, records in sorted(self.counted.items()):
            path = self.records_path(table)
            if path is None:
                continue
            if not records:
                # --overwrite without runs: stale records must not refill the table later
                if self.overwritten(table):
                    path.unlink(missing_ok=True)
                continue
            doc = {
                "table": table,
                "about": "The runs compresslab-table counted for this paper.table (real runs only): seed, "
                "paper/model/data config and final metrics. Tables count them when their runs are not under "
                "the log dir; a run there with the same config and seed supersedes its record.",
                "runs": records,
            }
            written.append(atomic_write_text(path, json.dumps(doc, indent=1, sort_keys=True) + "\n"))
        return written


def is_evaluation_run(config: dict[str, Any]) -> bool:
    """An evaluation-only run of real predecessors (``train=false``, no debug flag): it trained nothing, so it is
    not a trained cell, but a table of models evaluated as they are (no extra training) counts it."""
    return debug_reasons(config) == ["train=false"]


def table_runs(source: RunSource | str | Path, table: str, *, evaluations: bool = False) -> list[Run]:
    """The runs a table counts for ``paper.table == table``: real runs only (see :class:`RunSource`), plus
    evaluation-only runs with ``evaluations`` (:func:`is_evaluation_run`)."""
    if not isinstance(source, RunSource):
        source = RunSource(Path(source))
    return source.runs(table, evaluations=evaluations)


def skipped_note(source: RunSource) -> list[str]:
    """A note saying how many non-real runs the tables read since ``source.read`` was cleared skipped (none when
    they skipped none)."""
    n = sum(source.skipped.get(t, 0) for t in source.read)
    if not n:
        return []
    return [
        f"Skipped {n} non-real run(s) under {source.log_dir} (debug, fast-dev-run, overfit or limited-batch runs: "
        "compresslab.utils.run_kind); they are never counted."
    ]


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


def per_seed(runs: Iterable[Run], key: str = "test/acc") -> dict[int, float]:
    """``{seed: key}`` of the runs that logged ``key`` (a seed run twice: its mean), for :mod:`.verdict`."""
    by_seed: dict[int, list[float]] = {}
    for run in runs:
        value, seed = run.metric(key), run.get("seed")
        if value is not None and seed is not None:
            by_seed.setdefault(int(seed), []).append(value)
    return {s: statistics.fmean(v) for s, v in sorted(by_seed.items())}


def missing(command: str) -> str:
    return f"missing: `{command}`"


def fmt_delta(ours: float, paper: float | None, digits: int = 2, unit: str = "") -> str:
    if paper is None:
        return "–"
    delta = ours - paper
    rel = f" ({delta / paper:+.0%})" if paper else ""
    return f"{delta:+.{digits}f}{unit}{rel}"


# ------------------------------------------------------------------------------------ never destroy results
KEPT_MARK = " †"
_N_SEEDS = re.compile(r"\(n=(\d+)\)")


def read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a table's committed CSV."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    return (rows[0], rows[1:]) if rows else ([], [])


def keep_committed(table: Table, results_dir: Path) -> int:
    """Fill the cells of ``table`` that its runs could not fill from the committed ``<name>.csv``; returns how many.

    A cell is kept when the new one is empty / ``–`` / ``missing`` and the committed one (same row labels, same
    column header) holds a value; it gets the mark ``†`` and a note says where it came from. Columns of the paper's
    own values are never kept (they are computed). Verdicts of claims whose cells were kept and that found no runs
    say how many seeds those cells had and that their per-seed values are not recorded. A committed figure whose
    runs are absent stays linked.
    """
    path = results_dir / f"{table.name}.csv"
    if not path.exists():
        return 0
    header, old_rows = read_csv_rows(path)
    n = table.label_columns
    old = {tuple(r[:n]): dict(zip(header, r, strict=False)) for r in old_rows}
    kept = 0
    for row in table.rows:
        committed = old.get(tuple(row[:n]))
        if committed is None:
            continue
        for j, head in enumerate(table.header[n:], start=n):
            value = committed.get(head, "")
            if cell_kind(head, row[j], table.trained_columns) not in (None, "missing"):
                continue
            if cell_kind(head, value, table.trained_columns) in (None, "missing", "paper"):
                continue
            row[j] = value if value.endswith(KEPT_MARK) else value + KEPT_MARK
            kept += 1
    if not kept:
        return 0
    committed_md = results_dir / f"{table.name}.md"
    # the committed notes: the "- " lines above the claims section
    notes = committed_md.read_text().split(CLAIMS_HEADING, 1)[0] if committed_md.exists() else ""
    old_notes = [ln[2:] for ln in notes.splitlines() if ln.startswith("- ")]
    for prefix in table.run_note_prefixes:
        if not any(note.startswith(prefix) for note in table.notes):
            table.notes += [
                note if note.endswith(KEPT_MARK) else note + KEPT_MARK
                for note in old_notes
                if note.startswith(prefix)
            ]
    table.notes.append(
        f"† {kept} cell(s) kept from the committed results/{table.name}.csv: their runs are not under the log dir "
        "and their per-seed values were never recorded"
        + (f"; `{table.rerun}` rebuilds them." if table.rerun else ".")
    )
    if table.figure is None and (results_dir / f"{table.name}.png").exists():
        table.kept_figure = True
    cells = {(tuple(r[:n]), h): c for r in table.rows for h, c in zip(table.header[n:], r[n:], strict=True)}
    for i, verdict in enumerate(table.verdicts):
        if verdict.n or verdict.reason != "no runs":
            continue
        values = [cells.get(ref, "") for ref in verdict.claim.cells]
        if not values or not all(v.endswith(KEPT_MARK) for v in values):
            continue
        seeds = [int(m.group(1)) for v in values if (m := _N_SEEDS.search(v))]
        table.verdicts[i] = verdict.unrecorded(min(seeds, default=None), f"results/{table.name}.csv")
    return kept

"""``compresslab-table``: regenerate paper tables from analytic counts and the runs on disk.

    compresslab-table --list
    compresslab-table rnnpool_table1 [rnnpool_table2 ...] [--log-dir logs] [--results-dir results]
    compresslab-table all
    compresslab-table all --overwrite   # count only the runs under --log-dir, drop what is not there

Each table writes ``<results-dir>/<name>.md`` and ``.csv`` (and ``.png`` for figures) atomically and prints the
markdown; ``<results-dir>/README.md`` (the index of all tables and their claims' verdicts) is rewritten after every
call. Regenerating never loses results: tables count the real runs under the log dir plus the run records committed
in ``<results-dir>/<paper.table>.runs.json`` (rewritten with the union), and a trained cell that neither can fill
keeps its committed value (marked †). A table that would still end up with fewer trained cells than its committed
file is not written unless ``--overwrite`` is given.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from compresslab.tables import TABLES
from compresslab.tables.common import RunSource, keep_committed, parse_cell_counts, skipped_note
from compresslab.tables.verdict import parse_claims
from compresslab.utils.hydra_app import PROJECT_ROOT
from compresslab.utils.io import atomic_write_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compresslab-table", description=__doc__.split("\n\n")[0])
    parser.add_argument("tables", nargs="*", help="table names, or 'all'")
    parser.add_argument("--list", action="store_true", help="list the tables and their paper sources")
    parser.add_argument(
        "--log-dir",
        default=os.environ.get("COMPRESSLAB_LOG_DIR", str(PROJECT_ROOT / "logs")),
        help="where runs wrote metrics.json (default: logs/ or $COMPRESSLAB_LOG_DIR)",
    )
    parser.add_argument("--results-dir", default=str(PROJECT_ROOT / "results"), help="output folder")
    parser.add_argument("--quiet", action="store_true", help="do not print the tables")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="count only the runs under --log-dir for the named tables: their committed run records and cells "
        "are not kept (the records are rewritten from those runs; other tables' records a table reads are kept), "
        "and a table with fewer trained cells than its committed file is written anyway",
    )
    parser.add_argument(
        "--wandb",
        action="store_true",
        help="also log the tables (W&B tables) and figures (images) to one W&B run, offline unless WANDB_MODE=online",
    )
    args = parser.parse_args(argv)
    if args.list or not args.tables:
        width = max(map(len, TABLES))
        for name, (_, source) in TABLES.items():
            print(f"{name:<{width}}  {source}")
        return 0
    names = list(TABLES) if args.tables == ["all"] else args.tables
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        print(
            f"compresslab-table: unknown table(s) {unknown}; known: {sorted(TABLES)} (or 'all'). "
            "Fix: pick a name from `compresslab-table --list`.",
            file=sys.stderr,
        )
        return 2
    results_dir = Path(args.results_dir)
    # --overwrite drops the records of the named tables only; 'all --overwrite' those of every paper.table
    overwrite = frozenset(["*"] if args.tables == ["all"] else names) if args.overwrite else frozenset()
    source = RunSource(Path(args.log_dir), results_dir, overwrite=overwrite)
    written, refused = {}, []
    for name in names:
        source.read.clear()
        table = TABLES[name][0](source)
        table.notes += skipped_note(source)
        if not args.overwrite:
            keep_committed(table, results_dir)
            lost = _lost_trained_cells(table, results_dir)
            if lost:
                refused.append(f"{name} ({lost})")
                continue
        paths = table.write(results_dir)
        written[name] = (table, paths)
        if not args.quiet:
            print(table.markdown())
        print(f"wrote {', '.join(str(p) for p in paths)}")
    for path in source.write_records():
        print(f"wrote {path}")
    print(f"wrote {write_index(results_dir)}")
    if args.wandb:
        print(f"logged {len(written)} table(s) to W&B run {log_to_wandb(written, Path(args.log_dir))}")
    if refused:
        print(
            f"compresslab-table: not written, they would lose committed trained cells: {'; '.join(refused)}. "
            f"Fix: put their runs under --log-dir (now {args.log_dir}), or pass --overwrite to write what the "
            "logs give.",
            file=sys.stderr,
        )
        return 1
    return 0


def _lost_trained_cells(table, results_dir: Path) -> str:  # noqa: ANN001
    """'' when ``table`` keeps at least the committed file's trained cells, else what it would lose."""
    md = results_dir / f"{table.name}.md"
    committed = parse_cell_counts(md.read_text()) if md.exists() else None
    now = table.cell_counts()["trained"]
    if committed is None or now >= committed["trained"]:
        return ""
    return f"{committed['trained']} trained cells committed, {now} now"


def log_to_wandb(written: dict, log_dir: Path) -> str:
    """One W&B run (job_type ``tables``) with every table as a ``wandb.Table`` and every figure as an image."""
    import wandb

    mode = os.environ.get("WANDB_MODE", "offline")
    run = wandb.init(
        project="compresslab",
        group="tables",
        job_type="tables",
        dir=str(log_dir),
        mode=mode,
        tags=["tables"],
        config={"tables": sorted(written)},
    )
    try:
        for name, (table, paths) in written.items():
            run.log({f"table/{name}": wandb.Table(columns=table.header, data=table.rows)})
            for path in paths:
                if path.suffix == ".png":
                    run.log({f"figure/{name}": wandb.Image(str(path), caption=table.title)})
        return run.dir
    finally:
        wandb.finish()


def write_index(results_dir: str | Path) -> Path:
    """``<results_dir>/README.md``: every registered table, its source, its files and how many cells are missing.

    Built from the files on disk, so regenerating one table keeps the other tables' entries.
    """
    results_dir = Path(results_dir)
    lines = [
        "# Results index",
        "",
        "Every paper table and figure this codebase reproduces. Regenerate all with `compresslab-table all` "
        "(one table: `compresslab-table <name>`); a cell that needs a run that has not happened says `missing` "
        "and names the command.",
        "",
        "Cells (the row labels excluded): *exact* are computed (counts, closed forms), *trained* come from runs "
        "(mean ± std over seeds, at the scale the table names), *missing* name their command, *paper* are the "
        "paper's own values shown beside ours.",
        "",
        "| Table | Source | Files | Exact | Trained | Missing | Paper |",
        "|---|---|---|---|---|---|---|",
    ]
    claims = []
    for name, (_, source) in TABLES.items():
        files = [
            f"[{label}]({name}{suffix})"
            for label, suffix in (
                ("md", ".md"),
                ("csv", ".csv"),
                ("png", ".png"),
                ("pareto", "_pareto.png"),
                ("runs", ".runs.json"),
            )
            if (results_dir / f"{name}{suffix}").exists()
        ]
        md = results_dir / f"{name}.md"
        counts = parse_cell_counts(md.read_text()) if md.exists() else None
        if counts is None:
            cells = ["not generated", "–", "–", "–"]
        else:
            cells = [str(counts[k]) for k in ("exact", "trained", "missing", "paper")]
        lines.append(f"| `{name}` | {source} | {' '.join(files) or '–'} | {' | '.join(cells)} |")
        claims += [(name, c, v) for c, v in parse_claims(md.read_text())] if md.exists() else []
    lines += [
        "",
        "## Claims and verdicts",
        "",
        "Every paper claim a trained table tests, with its verdict from the seeds (tables/verdict.py: a 95 % "
        "t-interval, paired by seed; *holds* / *contradicts* when the interval lies wholly on one side, else "
        "*inconclusive (n=…)*). Each table's file gives the interval. Trained cells marked † were kept from "
        "earlier results whose per-seed values were not recorded: their verdicts wait for a rerun.",
        "",
        "| Table | Claim | Verdict |",
        "|---|---|---|",
        *(f"| `{name}` | {claim} | {verdict} |" for name, claim, verdict in claims),
    ]
    counts = {k: sum(v.startswith(k) for _, _, v in claims) for k in ("holds", "contradicts", "inconclusive")}
    lines += ["", f"Claims: {len(claims)} — {counts['holds']} hold, {counts['contradicts']} contradicted, "
              f"{counts['inconclusive']} inconclusive."]  # fmt: skip
    return atomic_write_text(results_dir / "README.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())

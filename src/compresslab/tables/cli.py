"""``compresslab-table``: regenerate paper tables from analytic counts and the runs on disk.

    compresslab-table --list
    compresslab-table rnnpool_table1 [rnnpool_table2 ...] [--log-dir logs] [--results-dir results]
    compresslab-table all

Each table writes ``<results-dir>/<name>.md`` and ``.csv`` (and ``.png`` for figures) atomically and prints the
markdown; ``<results-dir>/README.md`` (the index of all tables) is rewritten after every call.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from compresslab.tables import TABLES
from compresslab.tables.common import parse_cell_counts
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
    written = {}
    for name in names:
        table = TABLES[name][0](Path(args.log_dir))
        paths = table.write(args.results_dir)
        written[name] = (table, paths)
        if not args.quiet:
            print(table.markdown())
        print(f"wrote {', '.join(str(p) for p in paths)}")
    print(f"wrote {write_index(args.results_dir)}")
    if args.wandb:
        print(f"logged {len(written)} table(s) to W&B run {log_to_wandb(written, Path(args.log_dir))}")
    return 0


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
    for name, (_, source) in TABLES.items():
        files = [
            f"[{ext}]({name}.{ext})"
            for ext in ("md", "csv", "png")
            if (results_dir / f"{name}.{ext}").exists()
        ]
        md = results_dir / f"{name}.md"
        counts = parse_cell_counts(md.read_text()) if md.exists() else None
        if counts is None:
            cells = ["not generated", "–", "–", "–"]
        else:
            cells = [str(counts[k]) for k in ("exact", "trained", "missing", "paper")]
        lines.append(f"| `{name}` | {source} | {' '.join(files) or '–'} | {' | '.join(cells)} |")
    return atomic_write_text(results_dir / "README.md", "\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())

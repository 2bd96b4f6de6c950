"""``compresslab-table``: regenerate paper tables from analytic counts and the runs on disk.

    compresslab-table --list
    compresslab-table rnnpool_table1 [rnnpool_table2 ...] [--log-dir logs] [--results-dir results]
    compresslab-table all

Each table writes ``<results-dir>/<name>.md`` and ``.csv`` (atomically) and prints the markdown.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from compresslab.tables import TABLES
from compresslab.utils.hydra_app import PROJECT_ROOT


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
    for name in names:
        table = TABLES[name][0](Path(args.log_dir))
        paths = table.write(args.results_dir)
        if not args.quiet:
            print(table.markdown())
        print(f"wrote {', '.join(str(p) for p in paths)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

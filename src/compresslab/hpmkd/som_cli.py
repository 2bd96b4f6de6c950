"""``compresslab-som``: list or clear the Shared Optimization Memory (run history, teacher and model caches).

    compresslab-som [--root DIR] list [--limit N] [--json]
    compresslab-som [--root DIR] clear (--runs | --teacher-cache | --models | --all)

The store is ``--root``, else the one HPM-KD runs write (``conf/model/hpmkd/_module.yaml``):
``$COMPRESSLAB_SOM_DIR``, else ``<log dir>/hpmkd_som`` with the log dir ``$COMPRESSLAB_LOG_DIR`` or the repository's
``logs/``. Debug runs (``logs/debug/…``) keep their own store, ``<log dir>/debug/hpmkd_som``. ``list`` never creates
a store.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from compresslab.hpmkd.memory import (
    KIND_DIRS,
    MODEL,
    SOM_ENV,
    TEACHER,
    SharedOptimizationMemory,
    human_bytes,
    store_exists,
)

_CACHE_TITLES = {TEACHER: "teacher-output cache", MODEL: "intermediate-model cache"}


def _short(d: dict, width: int = 60) -> str:
    text = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in d.items())
    return text if len(text) <= width else text[: width - 1] + "…"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _list(som: SharedOptimizationMemory, limit: int, as_json: bool) -> None:
    runs = som.runs(limit=limit)
    n_runs = som.count_runs()
    entries = som.cache_entries()
    if as_json:
        print(
            json.dumps(
                {
                    "root": str(som.root),
                    "n_runs": n_runs,
                    "runs": [r.__dict__ for r in runs],
                    "cache": [e.__dict__ for e in entries],
                    "cache_bytes": {k: sum(e.size_bytes for e in entries if e.kind == k) for k in KIND_DIRS},
                },
                indent=2,
            )
        )
        return
    print(f"SOM store {som.root}")
    shown = f" (newest {len(runs)} shown)" if len(runs) < n_runs else ""
    print(f"runs: {n_runs}{shown}")
    for r in runs:
        print(f"  {r.run_id[:12]:<12}  {_when(r.timestamp)}  {_short(r.config, 44):<44}  {_short(r.result)}")
    for kind, title in _CACHE_TITLES.items():
        mine = [e for e in entries if e.kind == kind]
        total = sum(e.size_bytes for e in mine)
        print(f"{title}: {len(mine)} entries, {human_bytes(total)}")
        for e in mine:
            used = _when(e.last_access)
            print(f"  {e.key[:12]:<12}  {human_bytes(e.size_bytes):>10}  last used {used}  {e.label or '-'}")
    print(f"total cache: {human_bytes(sum(e.size_bytes for e in entries))}")


def runs_store() -> Path:
    """The store HPM-KD runs use by default (the CLI's default; mirrors ``som_dir`` in the model config)."""
    import os

    from compresslab.utils.hydra_app import PROJECT_ROOT

    if os.environ.get(SOM_ENV):
        return Path(os.environ[SOM_ENV])
    log_dir = Path(os.environ.get("COMPRESSLAB_LOG_DIR") or PROJECT_ROOT / "logs")
    return log_dir / "hpmkd_som"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compresslab-som", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--root",
        default=None,
        help=f"store folder (default: ${SOM_ENV}, else <log dir>/hpmkd_som as the runs use)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_list = sub.add_parser("list", help="runs, cache entries and their sizes")
    p_list.add_argument("--limit", type=int, default=20, help="newest runs to show (default 20)")
    p_list.add_argument("--json", action="store_true", help="machine-readable output")
    p_clear = sub.add_parser("clear", help="delete runs and/or cache entries")
    what = p_clear.add_mutually_exclusive_group(required=True)
    what.add_argument("--runs", action="store_true", help="the run history (what ACM learns from)")
    what.add_argument("--teacher-cache", action="store_true", help="cached teacher outputs")
    what.add_argument("--models", action="store_true", help="cached intermediate chain models")
    what.add_argument("--all", action="store_true", help="everything")
    for p in (p_list, p_clear):  # --root is accepted after the sub-command as well
        p.add_argument("--root", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    root = Path(args.root) if args.root else runs_store()
    if not store_exists(root):
        print(f"no SOM store at {root} (nothing to {args.command}); runs create it on first use")
        return 0
    som = SharedOptimizationMemory(root)
    if args.command == "list":
        if args.limit < 0:
            print(f"compresslab-som: --limit {args.limit}: expected a count ≥ 0.", file=sys.stderr)
            return 2
        _list(som, args.limit, args.json)
        return 0
    if args.runs or args.all:
        print(f"removed {som.clear_runs()} runs")
    if args.teacher_cache or args.all:
        print(f"removed {som.clear_cache(TEACHER)} teacher-cache entries")
    if args.models or args.all:
        print(f"removed {som.clear_cache(MODEL)} model-cache entries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

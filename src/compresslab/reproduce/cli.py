"""``compresslab-reproduce``: train what a paper's tables are missing, then write the tables.

    compresslab-reproduce --list                       # the papers and what each reproduces
    compresslab-reproduce learngene                    # everything missing, resumed where it stopped; the tables
    compresslab-reproduce learngene --status           # per table: runs done / partial / missing; runs nothing
    compresslab-reproduce hpmkd --seeds 1 --jobs 4     # one seed, four runs at a time
    compresslab-reproduce srnet --smoke                # every stage once, 2 steps per run, in a scratch log dir
    compresslab-reproduce rnnpool_table2 trainer=gpu   # extra overrides go to every run (and to its identity)
    compresslab-reproduce hpmkd --stages 'time_*'      # only the stages named (glob patterns, comma-separated)
    compresslab-reproduce hpmkd --launcher fork        # import torch once, fork a child per run (many short runs)

A finished run (its ``metrics.json`` has the same resolved config, paths and logging left out) is skipped; an
unfinished one started by this command resumes from ``checkpoints/last.ckpt``. Interrupt it at any time and run
the same command again. The log dir is ``--log-dir``, else ``$COMPRESSLAB_LOG_DIR``, else ``logs/``; a smoke uses
``$SMOKE_LOG_DIR`` (kept) or a temporary folder (removed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from compresslab.reproduce.plan import available_plans, load_plan, select_stages
from compresslab.reproduce.runner import LAUNCHERS, assess, reproduce, status_report, write_tables
from compresslab.reproduce.runs import apply_env, plan_runs, settings_for
from compresslab.utils.errors import CompresslabError
from compresslab.utils.hydra_app import PROJECT_ROOT

#: --smoke: one short *real* run per planned run (2 optimizer steps, one validation, the whole test split), so
#: that each stage writes the checkpoints the next one starts from and tables can read every run. limit_*_batches
#: and fast_dev_run would make them debug runs, which write elsewhere (compresslab.utils.run_dir).
SMOKE_OVERRIDES = [
    "trainer.max_epochs=1",
    "++trainer.max_steps=2",
    "trainer.val_check_interval=2",
    "trainer.check_val_every_n_epoch=1",
    "measure.enabled=false",
    "callbacks.rich_progress_bar=null",
]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="compresslab-reproduce",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    p.add_argument("paper", nargs="?", help="a paper (see --list) or a plan file (.yaml)")
    p.add_argument("overrides", nargs="*", help="Hydra overrides added to every run, e.g. trainer=gpu")
    p.add_argument("--list", action="store_true", help="list the papers")
    p.add_argument(
        "--status", action="store_true", help="print per table which runs are done/partial/missing"
    )
    p.add_argument("--smoke", action="store_true", help="every stage once, 2 steps per run, scratch log dir")
    p.add_argument("--seeds", help="comma-separated seeds for the seeded stages (default: the plan's)")
    p.add_argument(
        "--stages",
        help="comma-separated stage names or glob patterns (e.g. 'time_*'): run / report only these stages "
        "(default: all; a subset never runs the plan's fresh-start commands)",
    )
    p.add_argument("--jobs", type=int, help="runs of one stage at a time (default: the plan's)")
    p.add_argument(
        "--launcher",
        choices=LAUNCHERS,
        help="how each run is started: a fresh `python -m compresslab.train` (subprocess, the default) or a fork "
        "of this process with torch already imported (fork, the default of --smoke; saves ~10 s per run)",
    )
    p.add_argument("--log-dir", help="where runs are written and looked for")
    p.add_argument("--results-dir", help="where the tables are written (default: results/)")
    p.add_argument("--no-tables", action="store_true", help="train only; do not write the tables at the end")
    return p


def _log_dir(args: argparse.Namespace) -> tuple[Path, bool]:
    """(log dir, whether it is a temporary folder to remove at the end)."""
    if args.log_dir:
        return Path(args.log_dir).absolute(), False
    if args.smoke:
        if os.environ.get("SMOKE_LOG_DIR"):
            return Path(os.environ["SMOKE_LOG_DIR"]).absolute(), False
        return Path(tempfile.mkdtemp(prefix="compresslab-smoke-")), True
    return Path(os.environ.get("COMPRESSLAB_LOG_DIR", PROJECT_ROOT / "logs")).absolute(), False


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_intermixed_args(argv)
    if args.list or not args.paper:
        for name, path in available_plans().items():
            description = load_plan(str(path)).description
            print(f"{name:16} {description.splitlines()[0] if description else ''}")
        return 0
    log_dir, temporary = _log_dir(args)
    try:
        plan = load_plan(args.paper)
        if args.stages:
            plan = select_stages(plan, args.stages)
        log_dir.mkdir(parents=True, exist_ok=True)
        apply_env(plan, log_dir)
        settings = settings_for(plan, log_dir, args.smoke, args.seeds, args.overrides, SMOKE_OVERRIDES)
        runs = plan_runs(plan, settings)
        assess(runs, log_dir)
        if args.status:
            print(status_report(plan, runs, log_dir))
            return 0
        launcher = args.launcher or ("fork" if args.smoke and hasattr(os, "fork") else "subprocess")
        reproduce(plan, runs, settings, args.jobs or plan.jobs, launcher=launcher)
        if args.no_tables:
            return 0
        results = Path(args.results_dir).absolute() if args.results_dir else None
        return write_tables(plan, log_dir, results, args.smoke)
    except (CompresslabError, ValueError) as err:
        print(f"compresslab-reproduce: {err}", file=sys.stderr)
        return 1
    finally:
        if temporary:
            shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""What every entry point sets up around Hydra: the config folder, resolvers, and one message per error."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compresslab.utils.config import register_schemas
from compresslab.utils.errors import explain_config_exception, find_user_error
from compresslab.utils.run_dir import register_resolvers

#: repository root (this file is src/compresslab/utils/hydra_app.py)
PROJECT_ROOT = Path(__file__).resolve().parents[3]
CONF_DIR = PROJECT_ROOT / "conf"


def prepare_hydra() -> str:
    """Register schemas and resolvers, export ``COMPRESSLAB_ROOT`` for ``conf/paths``, return the config dir."""
    if not CONF_DIR.is_dir():
        raise FileNotFoundError(
            f"Hydra config folder not found at {CONF_DIR}. compresslab runs from a clone of the repository "
            "installed with `pip install -e .` (or `make install`); the configs are not packaged separately."
        )
    os.environ.setdefault("COMPRESSLAB_ROOT", str(PROJECT_ROOT))
    register_schemas()
    register_resolvers()
    return str(CONF_DIR)


def run_entry_point(hydra_main: Callable[[], Any]) -> None:
    """Call a ``@hydra.main`` function and report its failure exactly once.

    Hydra's own reporting is switched off (``HYDRA_FULL_ERROR=1``: exceptions reach us): a user error — a
    :class:`~compresslab.utils.errors.CompresslabError`, a mistyped override, an unknown config option — prints
    its one message (with the closest valid name) and exits 1; an error a job already logged exits 1 quietly;
    anything else is a bug and keeps its traceback.
    """
    os.environ["HYDRA_FULL_ERROR"] = "1"
    # W&B: no per-run history / summary / sync banner on the console (WANDB_QUIET=false brings it back)
    os.environ.setdefault("WANDB_QUIET", "true")
    try:
        hydra_main()
    except Exception as e:
        sys.exit(report_error(e))


def exits_on_error(task: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Decorate a ``@hydra.main`` task function: a failed single run leaves as ``SystemExit(1)`` right after its one
    message (Hydra would otherwise print "Error executing job with overrides" over it); a job of a multirun
    re-raises, so that the sweep runs its other jobs and exits non-zero at the end."""

    @functools.wraps(task)
    def wrapped(cfg: Any) -> Any:
        try:
            return task(cfg)
        except Exception as e:
            from hydra.core.hydra_config import HydraConfig

            if HydraConfig.initialized() and str(HydraConfig.get().mode) == "RunMode.MULTIRUN":
                raise
            sys.exit(report_error(e))

    return wrapped


def report_error(exc: BaseException) -> int:
    """Print the one message of a failed launch to stderr and return the exit code (re-raises bugs)."""
    from compresslab.utils.task import was_reported

    if was_reported(exc):
        return 1
    message = explain_config_exception(exc)
    if message is None:
        user = find_user_error(exc)
        message = f"{type(user).__name__}: {user}" if user is not None else None
    if message is None:
        raise exc
    print(f"Error: {message}", file=sys.stderr)
    return 1

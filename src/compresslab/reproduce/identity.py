"""Which runs of a plan are done: a run's identity is the hash of its resolved config, volatile keys excluded.

Two configs are the same run when they agree on everything that changes what is trained and measured. Left out:
where files go (``paths``, ``hydra``), how the run was launched or resumed (``ckpt_path``), and what is only shown
or logged (``extras``, ``logger``, ``tags``, progress bar, model summary). Paths inside the remaining values
(``model.net.run_dir``, ``trainer.default_root_dir`` …) are written relative to the config's own run, log, data
and root dirs, so a log dir that moved keeps its identities. A ``_target_`` is written as the dotted path where
its object is defined, so a class that moved (its old path kept as a re-export alias) keeps its runs' identities.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.json"
#: written by the runner into a run dir before it launches the run: the identity the run was started with
LAUNCH_FILE = "reproduce.json"
LAST_CKPT = Path("checkpoints") / "last.ckpt"

#: top-level keys, or dotted keys, that never change what a run trains or measures
VOLATILE_KEYS = (
    "paths",
    "hydra",
    "ckpt_path",
    "extras",
    "logger",
    "tags",
    "callbacks.rich_progress_bar",
    "callbacks.model_summary",
)
#: paths.<key> -> placeholder, longest first at substitution time (a run dir lies inside the log dir)
_PATH_PLACEHOLDERS = {
    "output_dir": "<run_dir>",
    "log_dir": "<log_dir>",
    "data_dir": "<data_dir>",
    "root_dir": "<root>",
}


def _drop(config: dict[str, Any], dotted: str) -> None:
    *parents, leaf = dotted.split(".")
    node: Any = config
    for key in parents:
        node = node.get(key) if isinstance(node, Mapping) else None
    if isinstance(node, dict):
        node.pop(leaf, None)


def _relativise(value: Any, subs: list[tuple[str, str]]) -> Any:
    if isinstance(value, str):
        for path, placeholder in subs:
            value = value.replace(path, placeholder)
        return value
    if isinstance(value, Mapping):
        return {k: _relativise(v, subs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_relativise(v, subs) for v in value]
    return value


@functools.cache
def canonical_target(target: str) -> str:
    """Where the object a ``_target_`` names is defined (``compresslab.models.ConvNet`` ->
    ``compresslab.nets.small.ConvNet``); ``target`` itself when it does not import (a run of removed code)."""
    from hydra.utils import get_object

    try:
        obj = get_object(target)
    except Exception:  # noqa: BLE001 - any import failure leaves the name as written
        return target
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str) else target


def _canonical_targets(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: canonical_target(v) if k == "_target_" and isinstance(v, str) else _canonical_targets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_canonical_targets(v) for v in value]
    return value


def config_identity(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` (a resolved run config, as in ``metrics.json["config"]``) without volatile keys, with its own
    paths replaced by placeholders."""
    paths = config.get("paths") or {}
    subs = sorted(
        ((str(paths[k]).rstrip("/"), ph) for k, ph in _PATH_PLACEHOLDERS.items() if paths.get(k)),
        key=lambda s: -len(s[0]),
    )
    out = json.loads(json.dumps(config, default=str))  # a deep, plain copy
    for key in VOLATILE_KEYS:
        _drop(out, key)
    return _canonical_targets(_relativise(out, subs))


def config_hash(config: Mapping[str, Any]) -> str:
    """12 hex digits identifying ``config`` up to :data:`VOLATILE_KEYS`."""
    text = json.dumps(config_identity(config), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def first_differences(a: Mapping[str, Any], b: Mapping[str, Any], limit: int = 3) -> list[str]:
    """Up to ``limit`` dotted keys where two config identities differ, as ``key: a != b``."""
    out: list[str] = []

    def walk(x: Any, y: Any, prefix: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(x, Mapping) and isinstance(y, Mapping):
            for key in sorted(set(x) | set(y), key=str):
                walk(x.get(key, "<absent>"), y.get(key, "<absent>"), f"{prefix}{key}.")
        elif x != y:
            out.append(f"{prefix.rstrip('.')}: {x!r} != {y!r}")

    walk(config_identity(a), config_identity(b), "")
    return out


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class RunState(str, enum.Enum):
    """Where a planned run stands."""

    DONE = "done"  # a metrics.json with the same identity exists
    PARTIAL = "partial"  # started by the runner with the same identity, last.ckpt present: resumed
    MISSING = "missing"  # not started, or started without a checkpoint to resume from: trained from scratch
    CONFLICT = "conflict"  # its fixed run dir holds a finished run of another config: never overwritten


@dataclass(frozen=True)
class Finding:
    """A run's state and the evidence: the dir that holds it, and for a conflict what differs."""

    state: RunState
    where: Path | None = None
    detail: str = ""


class FinishedRuns:
    """Every finished run under a log dir, by identity (read once, on first use)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self._by_hash: dict[str, Path] | None = None

    def _scan(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for path in sorted(self.log_dir.glob(f"**/{METRICS_FILE}")):
            summary = read_json(path)
            if summary and isinstance(summary.get("config"), dict) and "trainer" in summary["config"]:
                found.setdefault(config_hash(summary["config"]), path.parent)
        return found

    def find(self, identity: str) -> Path | None:
        if self._by_hash is None:
            self._by_hash = self._scan()
        return self._by_hash.get(identity)

    def add(self, identity: str, run_dir: Path) -> None:
        if self._by_hash is not None:
            self._by_hash.setdefault(identity, run_dir)


def find_state(
    run_dir: Path, identity: str, config: Mapping[str, Any], fixed_dir: bool, finished: FinishedRuns
) -> Finding:
    """The state of a planned run whose config (``config``, resolved) has hash ``identity``.

    A run with a fixed dir (its experiment names it; later stages read it there) is done only in that dir; a run
    in a runner-assigned dir is done wherever under the log dir a finished run has its identity (runs of earlier
    reproductions, or of another paper's plan that shares it).
    """
    summary = read_json(run_dir / METRICS_FILE)
    if summary is not None and isinstance(summary.get("config"), dict):
        if config_hash(summary["config"]) == identity:
            return Finding(RunState.DONE, run_dir)
        diff = "; ".join(first_differences(summary["config"], config))
        return Finding(RunState.CONFLICT, run_dir, diff)
    if not fixed_dir and (elsewhere := finished.find(identity)) is not None:
        return Finding(RunState.DONE, elsewhere)
    launch = read_json(run_dir / LAUNCH_FILE) or {}
    if launch.get("config_hash") == identity and (run_dir / LAST_CKPT).is_file():
        return Finding(RunState.PARTIAL, run_dir)
    return Finding(RunState.MISSING, run_dir if run_dir.exists() else None)


def count_states(states: Iterable[RunState]) -> dict[RunState, int]:
    counts = dict.fromkeys(RunState, 0)
    for s in states:
        counts[s] += 1
    return counts

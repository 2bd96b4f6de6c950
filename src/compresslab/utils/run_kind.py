"""What a run was: a real run that tables may count, or a debug / smoke run that they must skip.

One rule, used by the entry points (a non-real run never writes into a fixed per-row folder) and by the
tables (a non-real run is never counted as a trained cell). Works on a composed config or on a run's saved
``config_resolved.yaml`` / ``metrics.json["config"]`` (plain dicts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: trainer flags that make a run a debug run (value that means "off" for each)
_DEBUG_TRAINER_FLAGS: dict[str, Any] = {
    "fast_dev_run": False,
    "overfit_batches": 0.0,
    "limit_train_batches": None,
    "limit_val_batches": None,
    "limit_test_batches": None,
}


def _get(cfg: Mapping[str, Any] | Any, key: str, default: Any = None) -> Any:
    try:
        return cfg.get(key, default)
    except AttributeError:
        return default


def _is_off(flag: str, value: Any) -> bool:
    if value is None:
        return True
    if flag == "fast_dev_run":
        return value is False or value == 0
    if flag == "overfit_batches":
        return float(value) == 0.0
    # limit_*_batches: 1.0 (the whole split) is Lightning's default, i.e. off
    return isinstance(value, float) and value == 1.0


def debug_reasons(cfg: Mapping[str, Any] | Any) -> list[str]:
    """Why this config is *not* a real run (empty list: it is real).

    A run is not real when it was launched with ``debug=…`` (``task_name: debug``), when it trained nothing
    (``train=false``: an evaluation, never a trained cell), or with any trainer flag that trains or tests on less
    than the configured data: ``fast_dev_run``, ``overfit_batches``, ``limit_*_batches``.
    """
    reasons: list[str] = []
    if _get(cfg, "task_name") == "debug":
        reasons.append("task_name=debug")
    if _get(cfg, "train", True) is False:
        reasons.append("train=false")
    trainer = _get(cfg, "trainer") or {}
    for flag in _DEBUG_TRAINER_FLAGS:
        value = _get(trainer, flag)
        if not _is_off(flag, value):
            reasons.append(f"trainer.{flag}={value}")
    return reasons


def is_real_run(cfg: Mapping[str, Any] | Any) -> bool:
    """True when tables may count this run (see :func:`debug_reasons`)."""
    return not debug_reasons(cfg)

"""Config schemas and validation.

Two layers catch a bad config before any work starts:

1. The top-level keys of ``train.yaml`` / ``eval.yaml`` / ``measure.yaml`` are dataclass schemas registered in
   Hydra's ConfigStore, so an unknown top-level key or a wrongly typed value fails at compose time.
2. Every node with a ``_target_`` is checked against the signature of the callable it names: an unknown key
   (a typo in an experiment file, say), a value of the wrong type, a value outside a ``Literal`` or outside a
   declared :class:`Range` (``Annotated[float, Range(gt=0)]``) fails with the dotted key, the value, what was
   expected and the fix. The constructors' signatures are the schema, so there is one source of truth.

Objects built in code from a config section rather than from a ``_target_`` node (the HPM-KD temperature
schedule, say) apply the same checks to their arguments with :func:`check_arguments`. Constructors then keep
only the rules that span several arguments (``t_min ≤ t0 ≤ t_max``); a rule on one argument lives in its
annotation.
"""

from __future__ import annotations

import difflib
import inspect
import math
import numbers
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional, Union

from hydra.core.config_store import ConfigStore
from hydra.utils import get_object
from omegaconf import MISSING, DictConfig, OmegaConf

from compresslab.utils.errors import ConfigError

# --------------------------------------------------------------------------------------------------------------
# Schemas of the top-level configs
# --------------------------------------------------------------------------------------------------------------


@dataclass
class PathsConfig:
    root_dir: str = "."
    data_dir: str = "data"
    log_dir: str = "logs"
    output_dir: str = "."
    work_dir: str = "."
    run_group: str = "train"  # the run's folder: conf/hydra/default.yaml (one rule), conf/paths/default.yaml
    run_name: Optional[str] = None  # noqa: UP045 - null: a plain run (a new folder per launch)
    run_step: Optional[str] = None  # noqa: UP045


@dataclass
class PaperRowConfig:
    """Which paper table row a run feeds (read by compresslab-table and logged to W&B)."""

    name: str = ""  # paper: learngene | hpmkd | srnet | rnnpool
    table: str = ""  # compresslab-table name, e.g. rnnpool_table2
    row: str = ""  # row key inside that table
    scale: str = ""  # full | reduced


@dataclass
class MeasureConfig:
    """What every run measures about its network (written to metrics.json)."""

    enabled: bool = True
    bytes_per_value: int = 4
    latency: bool = True
    latency_repeats: int = 20
    latency_warmup: int = 5


@dataclass
class ExtrasConfig:
    print_config: bool = False
    ignore_warnings: bool = True


@dataclass
class TrainConfig:
    task_name: str = "train"
    tags: list[str] = field(default_factory=lambda: ["dev"])
    seed: Optional[int] = 42  # noqa: UP045 - OmegaConf needs typing.Optional
    train: bool = True
    test: bool = True
    ckpt_path: Optional[str] = None  # noqa: UP045
    monitor: str = "val/acc"
    monitor_mode: str = "max"
    optimized_metric: Optional[str] = None  # noqa: UP045 - returned to Hydra sweepers
    weights_only: bool = True
    data: Any = None
    model: Any = None
    trainer: Any = None
    callbacks: Any = None
    logger: Any = None
    paths: PathsConfig = field(default_factory=PathsConfig)
    paper: PaperRowConfig = field(default_factory=PaperRowConfig)
    measure: MeasureConfig = field(default_factory=MeasureConfig)
    extras: ExtrasConfig = field(default_factory=ExtrasConfig)


@dataclass
class EvalConfig(TrainConfig):
    task_name: str = "eval"
    train: bool = False
    ckpt_path: Optional[str] = MISSING  # noqa: UP045


@dataclass
class MeasureAppConfig:
    task_name: str = "measure"
    input_shape: Optional[list[int]] = None  # noqa: UP045 - None: taken from the data config
    batch_size: int = 1
    data: Any = None
    model: Any = None
    paths: PathsConfig = field(default_factory=PathsConfig)
    measure: MeasureConfig = field(default_factory=MeasureConfig)
    extras: ExtrasConfig = field(default_factory=ExtrasConfig)


def register_schemas() -> None:
    """Register the schemas under the names the top-level yaml files list first in their defaults."""
    cs = ConfigStore.instance()
    cs.store(name="train_schema", node=TrainConfig)
    cs.store(name="eval_schema", node=EvalConfig)
    cs.store(name="measure_schema", node=MeasureAppConfig)


# --------------------------------------------------------------------------------------------------------------
# _target_ signature validation
# --------------------------------------------------------------------------------------------------------------

_HYDRA_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}


@dataclass(frozen=True)
class Range:
    """Bounds of one numeric argument, declared in its annotation: ``Annotated[float, Range(gt=0, lt=1)]``.

    The signature layer rejects a value outside the bounds, and any NaN or ±inf, naming the key, the value and
    the accepted range. ``hint`` is added to the fix (a typical value, the paper's setting).
    """

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    hint: str = ""

    def holds(self, value: Any) -> bool:
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or not math.isfinite(value):
            return False
        return (
            (self.ge is None or value >= self.ge)
            and (self.gt is None or value > self.gt)
            and (self.le is None or value <= self.le)
            and (self.lt is None or value < self.lt)
        )

    def describe(self, type_name: str = "number") -> str:
        """``a float in (0, 1]``, ``an int ≥ 1``, ``a finite float > 0``, ``a finite float`` (unbounded)."""
        lo = (f"[{self.ge:g}", f"≥ {self.ge:g}") if self.ge is not None else None
        lo = (f"({self.gt:g}", f"> {self.gt:g}") if self.gt is not None else lo
        hi = (f"{self.le:g}]", f"≤ {self.le:g}") if self.le is not None else None
        hi = (f"{self.lt:g})", f"< {self.lt:g}") if self.lt is not None else hi
        if lo and hi:
            kind = type_name
        else:
            kind = type_name if type_name == "int" else f"finite {type_name}"
        article = "an" if kind[:1] in "aeiou" else "a"
        if lo and hi:
            return f"{article} {kind} in {lo[0]}, {hi[0]}"
        return f"{article} {kind} {(lo or hi)[1]}" if lo or hi else f"{article} {kind}"


def _type_name(tp: Any) -> str:
    if typing.get_origin(tp) is Annotated:
        return _type_name(typing.get_args(tp)[0])
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _matches(value: Any, tp: Any) -> bool | None:
    """True/False when ``value`` fits / does not fit the annotation ``tp``; None when we cannot tell."""
    if tp is Any or tp is inspect.Parameter.empty:
        return None
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _matches(value, typing.get_args(tp)[0])
    if origin in (Union, types.UnionType):
        results = [_matches(value, a) for a in typing.get_args(tp)]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    if origin is Literal:
        return value in typing.get_args(tp)
    if tp is type(None):
        return value is None
    if value is None:
        return False if tp in (int, float, bool, str) else None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if tp is str:
        return isinstance(value, str)
    if origin in (list, tuple, Sequence) or tp in (list, tuple):
        if isinstance(value, Mapping) or isinstance(value, str):
            return False
        if not isinstance(value, Sequence):
            return False
        args = typing.get_args(tp)
        if args and args[-1] is not Ellipsis and origin is not tuple:
            inner = [_matches(v, args[0]) for v in value]
            if any(r is False for r in inner):
                return False
        return True
    if origin in (dict, Mapping) or tp is dict:
        return isinstance(value, Mapping)
    return None


def _ranges(tp: Any) -> list[tuple[Any, Range]]:
    """The :class:`Range` bounds declared in ``tp`` (also inside ``Optional[...]``), with their base types."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        base, *meta = typing.get_args(tp)
        return [(base, m) for m in meta if isinstance(m, Range)]
    if origin in (Union, types.UnionType):
        return [r for a in typing.get_args(tp) for r in _ranges(a)]
    return []


def _choices(tp: Any) -> tuple[Any, ...] | None:
    """The allowed values when ``tp`` is a ``Literal`` (possibly ``Annotated`` or ``Optional``), else None."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _choices(typing.get_args(tp)[0])
    if origin is Literal:
        return typing.get_args(tp)
    if origin in (Union, types.UnionType):
        parts = [_choices(a) if a is not type(None) else (None,) for a in typing.get_args(tp)]
        return None if any(p is None for p in parts) else tuple(v for p in parts for v in p)
    return None


def check_value(key: str, value: Any, tp: Any, owner: str = "") -> None:
    """Check one value against its annotation: type, ``Literal`` choices, :class:`Range` bounds.

    Raises:
        ConfigError: naming ``key``, the value, what was expected and the fix.
    """
    where = f" (for {owner})" if owner else ""
    if _matches(value, tp) is False:
        choices = _choices(tp)
        if choices is not None:
            listed = ", ".join(repr(c) for c in choices)
            raise ConfigError(key, value, f"one of {listed}{where}", f"set {key} to one of {listed}.")
        raise ConfigError(
            key,
            value,
            f"a value of type {_type_name(tp)}{where}",
            f"set {key} to a value of type {_type_name(tp)}.",
        )
    if value is None:
        return
    for base, bounds in _ranges(tp):
        if _matches(value, base) is not False and not bounds.holds(value):
            wanted = bounds.describe(_type_name(base))
            hint = f" ({bounds.hint})" if bounds.hint else ""
            raise ConfigError(key, value, f"{wanted}{where}", f"set {key} to {wanted}{hint}.")


def _hints_of(fn: Callable) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # unresolved forward references in a third-party signature: check keys only
        return {}


def _signature_of(target: Callable) -> tuple[inspect.Signature, dict[str, Any]] | None:
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return None
    fn = target.__init__ if inspect.isclass(target) else target
    return sig, _hints_of(fn)


def check_arguments(fn: Callable, arguments: Mapping[str, Any], prefix: str) -> None:
    """Apply the signature layer to a call made in code: every argument of ``arguments`` (``locals()`` at the top
    of ``fn``, say) that ``fn`` annotates is checked with :func:`check_value`, keyed ``<prefix>.<name>``, in the
    order of ``fn``'s parameters.

    Raises:
        ConfigError: for the first argument whose type, choice or range is wrong.
    """
    hints = _hints_of(fn)
    owner = getattr(fn, "__qualname__", "")
    for name, param in inspect.signature(fn).parameters.items():
        if (
            name in arguments
            and name in hints
            and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
        ):
            check_value(f"{prefix}.{name}", arguments[name], hints[name], owner)


def validate_targets(cfg: DictConfig | Mapping, root: str = "") -> None:
    """Check every ``_target_`` node of ``cfg`` (recursively) against its callable's signature.

    Raises:
        ConfigError: naming the dotted key, the bad value, what was expected and the likely fix.
    """
    container = (
        OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
        if isinstance(cfg, DictConfig)
        else cfg
    )
    _validate_node(container, root)


def _validate_node(node: Any, path: str) -> None:
    if isinstance(node, Mapping):
        if "_target_" in node:
            _validate_target_node(node, path)
        for k, v in node.items():
            _validate_node(v, f"{path}.{k}" if path else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _validate_node(v, f"{path}[{i}]")


def _validate_target_node(node: Mapping, path: str) -> None:
    target_name = node["_target_"]
    key = f"{path}._target_" if path else "_target_"
    try:
        target = get_object(target_name)
    except Exception as e:
        raise ConfigError(
            key,
            target_name,
            "an importable class or function",
            f"check the spelling of the dotted path ({type(e).__name__}: {e}).",
        ) from None
    found = _signature_of(target)
    if found is None:
        return
    sig, hints = found
    params = {n: p for n, p in sig.parameters.items() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    for name, value in node.items():
        if name in _HYDRA_KEYS:
            continue
        dotted = f"{path}.{name}" if path else name
        if name not in params:
            if takes_kwargs:
                continue
            close = difflib.get_close_matches(name, params, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "remove it."
            raise ConfigError(
                dotted,
                value,
                f"one of the keys accepted by {target_name}: {', '.join(params)}",
                f"unknown key; {hint}",
            )
        if isinstance(value, Mapping) and "_target_" in value:
            continue  # an object built from config; its own node is validated on its own
        check_value(dotted, value, hints.get(name, params[name].annotation), target_name)
    if not node.get("_partial_", False):
        missing = [
            n
            for n, p in params.items()
            if p.default is p.empty and n not in node and p.kind is not p.POSITIONAL_ONLY
        ]
        if missing and not node.get("_args_"):
            dotted = f"{path}.{missing[0]}" if path else missing[0]
            raise ConfigError(dotted, None, f"a value (required by {target_name})", f"add {dotted}=<value>.")

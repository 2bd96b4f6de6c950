"""User-facing error types.

Every error a user can cause names the offending field (or file), the bad value and the fix, so that a failed
sweep job explains itself in its log without a debugger.
"""

from __future__ import annotations


class CompresslabError(Exception):
    """Base class of every error compresslab raises on purpose."""


class ConfigError(CompresslabError, ValueError):
    """A configuration value is unknown, mistyped or out of range.

    Args:
        key: dotted config path, e.g. ``data.batch_size``.
        value: the offending value.
        expected: what would have been accepted.
        fix: one sentence telling the user what to change.
    """

    def __init__(self, key: str, value: object, expected: str, fix: str = "") -> None:
        self.key, self.value, self.expected, self.fix = key, value, expected, fix
        msg = f"config key '{key}': got {value!r}, expected {expected}."
        if fix:
            msg += f" Fix: {fix}"
        super().__init__(msg)


def check_type(key: str, value: object, cls: type | tuple[type, ...], expected: str, fix: str = "") -> None:
    """Raise :class:`ConfigError` at ``key`` (its value shown as the type's name) unless ``value`` is a ``cls``.

    Args:
        key, expected, fix: as :class:`ConfigError`.
        value: the object built from config.
        cls: the accepted type(s), as for ``isinstance``.
    """
    if not isinstance(value, cls):
        raise ConfigError(key, type(value).__name__, expected, fix)


class DataError(CompresslabError, RuntimeError):
    """Data on disk is missing or malformed.

    Args:
        path: the file or folder that is wrong.
        problem: what is wrong with it (line numbers where they exist).
        expected: the format that was expected.
        source: where the data comes from (how to obtain it), shown when the data is missing.
    """

    def __init__(self, path: object, problem: str, expected: str = "", source: str = "") -> None:
        self.path, self.problem = str(path), problem
        parts = [f"{path}: {problem}"]
        if expected:
            parts.append(f"Expected: {expected}")
        if source:
            parts.append(f"Where to get it: {source}")
        super().__init__("\n  ".join(parts))


def find_user_error(exc: BaseException | None) -> CompresslabError | None:
    """The :class:`CompresslabError` behind ``exc`` (itself, or its cause/context: Hydra's ``instantiate`` wraps
    errors raised in constructors in an ``InstantiationException``); None for anything else."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, CompresslabError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def explain_config_exception(exc: BaseException) -> str | None:
    """One message for a Hydra / OmegaConf composition error (a mistyped override key, an unknown config option,
    a missing value), with the closest valid name; None when ``exc`` is not such an error."""
    import difflib
    import re

    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
    from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

    if isinstance(exc, MissingConfigException):
        found = re.search(r"Could not find '([^']+)/([^'/]+)'", str(exc))
        options = re.findall(r"^\t(\S+)$", str(exc), flags=re.M)
        if not found:
            return str(exc).split("\nConfig search path", 1)[0]
        group, name = found.groups()
        close = difflib.get_close_matches(name, options, n=1)
        fix = f"did you mean '{group}={close[0]}'?" if close else f"choose one of {', '.join(options)}."
        return str(ConfigError(group, name, f"one of the '{group}' configs: {', '.join(options)}", fix))
    if isinstance(exc, OverrideParseException):
        return f"{exc} Fix: write overrides as key=value (quote values with spaces or special characters)."
    cause = exc.__cause__ if isinstance(exc, ConfigCompositionException) else exc
    if isinstance(cause, MissingMandatoryValue):
        key = getattr(cause, "full_key", "") or "?"
        return str(ConfigError(key, "???", "a value (it has no default)", f"add {key}=<value>."))
    if isinstance(exc, ConfigCompositionException) and isinstance(cause, OmegaConfBaseException):
        key, full_key = getattr(cause, "key", None), getattr(cause, "full_key", None)
        parent = getattr(cause, "parent_node", None)
        written = re.search(r"use \+(\S+?)=(.*)$", str(exc), flags=re.M)
        value = written.group(2) if written else None
        if key is not None and full_key and parent is not None and hasattr(parent, "keys"):
            keys = [str(k) for k in parent.keys() if k != "hydra"]
            where, _, _ = full_key.rpartition(".")
            close = difflib.get_close_matches(str(key), keys, n=1)
            if close:
                fix = f"unknown key; did you mean '{where + '.' if where else ''}{close[0]}'?"
            else:
                fix = f"unknown key; to add a new key write +{full_key}=…"
            listed = f": {', '.join(keys)}" if 0 < len(keys) <= 15 else ""
            return str(ConfigError(full_key, value, f"a key of {where or 'the top level'}{listed}", fix))
        return f"{exc}\n{cause}"
    if isinstance(exc, ConfigCompositionException):
        return str(exc)
    return None

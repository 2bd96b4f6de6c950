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

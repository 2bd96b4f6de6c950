"""Shared Optimization Memory (SOM): the persistent store that every HPM-KD run and sweep job shares.

Draft §4.7 (component 6) describes three stores; all three live under one root folder::

    <root>/som.sqlite          run history (meta-features, config, result) + cache index (sizes, LRU times)
    <root>/teacher_cache/      teacher logits:   <key>.pt + <key>.pt.sha256
    <root>/model_cache/        chain models:     <key>.pt + <key>.pt.sha256

* **Run history** (draft Eq. (5), the ACM history H): one SQLite row per finished run — meta-features,
  configuration and result metrics as JSON, a timestamp and a run id. The Adaptive Configuration Manager
  (``config_manager.py``) reads it.
* **Teacher-output cache**, keyed by ``hash(teacher weights, dataset split, transform)`` (draft Eq. (24):
  "hash(f_T, D)"; the transform is in the key because the same split under another transform gives other
  logits).
* **Intermediate-model cache**, keyed by ``(architecture, size)`` (draft Eq. (25): "(arch, |θ|)"), holding the
  state dicts of the Progressive Distillation Chain's models.

Both caches share one byte budget with least-recently-used eviction on every put (the draft's "LRU eviction";
the access times live in SQLite so that eviction sees the accesses of all processes).

Concurrency (parallel sweep jobs on one machine or on a shared local disk):

* SQLite in WAL mode (readers never block the writer), a busy timeout, and every write in a
  ``BEGIN IMMEDIATE`` transaction, so concurrent writers queue instead of losing rows. ``database is locked``
  errors that outlast the busy timeout are retried with exponential back-off; after the last retry
  :class:`SOMLockedError` names the file and the fix.
* Cache files are written atomically (temporary file + ``os.replace``) with their SHA-256 in a sidecar file.
  Every read verifies the hash; a mismatch (a truncated write, bit rot, an edited file) is reported with a
  :class:`CacheCorruptionWarning`, the entry is deleted and the caller recomputes it — a corrupted entry is
  never used. Tensors are loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from compresslab.hpmkd.som_cache import (  # noqa: F401  (re-exported: the names' old home)
    _KEY_RE,
    KIND_DIRS,
    MODEL,
    TEACHER,
    CacheCorruptionWarning,
    CacheEntry,
    CacheFiles,
    _read_text,
    human_bytes,
)
from compresslab.hpmkd.som_keys import (  # noqa: F401  (re-exported: the names' old home)
    _transform_identity,
    model_key,
    state_dict_digest,
    teacher_key,
)
from compresslab.utils.errors import ConfigError, DataError
from compresslab.utils.io import _jsonable

T = TypeVar("T")

#: environment variable that points every run and the CLI at one shared store
SOM_ENV = "COMPRESSLAB_SOM_DIR"
#: default cache budget over both cache folders (the DeepBridge code's 2 GB cache size)
DEFAULT_MAX_BYTES = 2 * 1024**3
DB_NAME = "som.sqlite"
_SCHEMA_VERSION = "1"
# sqlite3 primary result codes that mean "someone else holds the lock"
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6


def default_root() -> Path:
    """The store used when none is given: ``$COMPRESSLAB_SOM_DIR``, else ``./.som``."""
    return Path(os.environ.get(SOM_ENV) or ".som")


class SOMLockedError(DataError):
    """The SQLite file stayed locked by another process through every retry."""

    def __init__(self, path: Path, what: str, attempts: int, busy_timeout: float, cause: Exception) -> None:
        problem = (
            f"'{what}' failed: the database is locked ({cause}); gave up after {attempts} attempts with a "
            f"{busy_timeout:g} s busy timeout each. Fix: another process holds a write transaction on this "
            "file — wait for that sweep job to finish, close any `sqlite3` shell or notebook open on it, "
            "or raise busy_timeout / retries (SharedOptimizationMemory(busy_timeout=..., retries=...)). On "
            f"NFS/Lustre, where SQLite locking is unreliable, point ${SOM_ENV} (or --root) at a local disk."
        )
        super().__init__(
            path, problem, expected="a SQLite file that a writer releases within the busy timeout"
        )


@dataclass(frozen=True)
class RunRecord:
    """One row of the run history."""

    run_id: str
    timestamp: float
    meta: dict[str, Any]
    config: dict[str, Any]
    result: dict[str, Any]


# ------------------------------------------------------------------------------------------------ helpers
def _to_json(field: str, value: object) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"som.add_run.{field}",
            value,
            "a mapping or a dataclass instance of JSON-serialisable values",
            f"pass {field} as a dict, e.g. {{'name': value}}.",
        )
    return json.dumps(_jsonable(dict(value)), sort_keys=True, allow_nan=False)


def _is_lock_error(err: sqlite3.OperationalError) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return True
    text = str(err).lower()
    return "locked" in text or "busy" in text


# ----------------------------------------------------------------------------------------------- the store
class SharedOptimizationMemory(CacheFiles):
    """Run history + teacher-output cache + intermediate-model cache under one root folder.

    Args:
        root: the store's folder (created if missing); default :func:`default_root`.
        max_bytes: byte budget over both caches; least-recently-used entries are evicted on put.
        busy_timeout: seconds SQLite waits for a lock before one attempt fails.
        retries: further attempts after a ``database is locked`` failure (exponential back-off from
            ``retry_wait`` seconds) before :class:`SOMLockedError`.
        retry_wait: first back-off in seconds.

    ``stats`` counts this instance's cache ``hits``, ``misses``, ``puts``, ``evicted`` and ``corrupt`` entries
    (draft Eq. (26): hit rate = hits / (hits + misses), for the time table).
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        busy_timeout: float = 10.0,
        retries: int = 8,
        retry_wait: float = 0.05,
    ) -> None:
        if max_bytes <= 0:
            raise ConfigError(
                "som.max_bytes", max_bytes, "a positive number of bytes", "e.g. 2147483648 (2 GiB)."
            )
        if busy_timeout < 0 or retries < 0 or retry_wait < 0:
            bad = {"busy_timeout": busy_timeout, "retries": retries, "retry_wait": retry_wait}
            key = next(k for k, v in bad.items() if v < 0)
            raise ConfigError(f"som.{key}", bad[key], "a value ≥ 0", f"set som.{key} to 0 or more.")
        self.root = Path(root) if root is not None else default_root()
        self.db_path = self.root / DB_NAME
        self.max_bytes = int(max_bytes)
        self.busy_timeout = float(busy_timeout)
        self.retries = int(retries)
        self.retry_wait = float(retry_wait)
        self.stats = {"hits": 0, "misses": 0, "puts": 0, "evicted": 0, "corrupt": 0}
        for sub in KIND_DIRS.values():
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._init_db()

    def __repr__(self) -> str:
        return f"SharedOptimizationMemory(root={str(self.root)!r}, max_bytes={self.max_bytes})"

    # ------------------------------------------------------------------------------------------ sqlite
    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; we issue BEGIN IMMEDIATE / COMMIT ourselves
        con = sqlite3.connect(self.db_path, timeout=self.busy_timeout, isolation_level=None)
        # WAL + NORMAL: consistent after any crash; a power loss may drop the last commits, never corrupts
        con.execute("PRAGMA synchronous=NORMAL")
        return con

    def _run(self, what: str, fn: Callable[[sqlite3.Connection], T], write: bool = False) -> T:
        """Run ``fn(connection)`` (one write transaction if ``write``), retrying while the file is locked."""
        last: sqlite3.OperationalError | None = None
        for attempt in range(self.retries + 1):
            con: sqlite3.Connection | None = None
            try:
                con = self._connect()
                if write:
                    con.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock on lock upgrade
                out = fn(con)
                if write:
                    con.execute("COMMIT")
                return out
            except sqlite3.OperationalError as err:
                if not _is_lock_error(err):
                    raise DataError(
                        self.db_path,
                        f"'{what}' failed: {err}. Fix: check that the folder exists, is writable and "
                        "its disk is not full.",
                        expected="a readable, writable SQLite file",
                    ) from err
                last = err
            except sqlite3.DatabaseError as err:  # e.g. "file is not a database"
                raise DataError(
                    self.db_path,
                    f"'{what}' failed: {err}. Fix: this is not an intact SOM database; move it away (the "
                    "caches re-index themselves, the run history would be lost) or use another --root.",
                    expected="the SQLite file that compresslab-som creates",
                ) from err
            finally:
                if con is not None:
                    if con.in_transaction:
                        try:
                            con.execute("ROLLBACK")
                        except sqlite3.Error:
                            pass
                    con.close()
            if attempt < self.retries:
                delay = min(self.retry_wait * 2**attempt, 2.0)
                # jitter, so that two waiting jobs do not retry in lockstep
                time.sleep(delay * (0.5 + random.random()))
        assert last is not None
        raise SOMLockedError(self.db_path, what, self.retries + 1, self.busy_timeout, last) from last

    def _init_db(self) -> None:
        def create(con: sqlite3.Connection) -> None:
            con.execute(
                "CREATE TABLE IF NOT EXISTS runs ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL UNIQUE, timestamp REAL NOT NULL,"
                " meta TEXT NOT NULL, config TEXT NOT NULL, result TEXT NOT NULL)"
            )
            con.execute(
                "CREATE TABLE IF NOT EXISTS cache ("
                " kind TEXT NOT NULL, key TEXT NOT NULL, label TEXT NOT NULL DEFAULT '',"
                " size_bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, created REAL NOT NULL,"
                " last_access REAL NOT NULL, PRIMARY KEY (kind, key))"
            )
            con.execute("CREATE INDEX IF NOT EXISTS cache_lru ON cache(last_access)")
            con.execute("CREATE TABLE IF NOT EXISTS som_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            con.execute(
                "INSERT OR IGNORE INTO som_meta(name, value) VALUES ('schema_version', ?)", (_SCHEMA_VERSION,)
            )

        # journal_mode is a property of the file and cannot change inside a transaction
        self._run("enable WAL", lambda con: con.execute("PRAGMA journal_mode=WAL").fetchone())
        self._run("create tables", create, write=True)

    # ------------------------------------------------------------------------------------------ runs
    def add_run(
        self,
        meta: Mapping[str, Any] | Any,
        config: Mapping[str, Any] | Any,
        result: Mapping[str, Any] | Any,
        run_id: str | None = None,
        timestamp: float | None = None,
    ) -> str:
        """Record one finished run; returns its run id.

        ``meta``, ``config`` and ``result`` are mappings or dataclass instances (tensors and numpy values are
        converted; NaN/inf become null). Adding an existing ``run_id`` again (a resumed run) replaces its row.
        """
        rid = str(run_id) if run_id is not None else uuid.uuid4().hex
        row = (
            rid,
            time.time() if timestamp is None else float(timestamp),
            _to_json("meta", meta),
            _to_json("config", config),
            _to_json("result", result),
        )
        self._run(
            "add_run",
            lambda con: con.execute(
                "INSERT INTO runs(run_id, timestamp, meta, config, result) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(run_id) DO UPDATE SET timestamp=excluded.timestamp, meta=excluded.meta,"
                " config=excluded.config, result=excluded.result",
                row,
            ),
            write=True,
        )
        return rid

    def runs(self, limit: int | None = None) -> list[RunRecord]:
        """All runs in insertion order (the newest ``limit`` if given)."""

        def read(con: sqlite3.Connection) -> list[tuple]:
            if limit is None:
                return con.execute(
                    "SELECT run_id, timestamp, meta, config, result FROM runs ORDER BY id"
                ).fetchall()
            rows = con.execute(
                "SELECT run_id, timestamp, meta, config, result FROM runs ORDER BY id DESC LIMIT ?",
                (int(limit),),
            ).fetchall()
            return rows[::-1]

        return [
            RunRecord(rid, ts, json.loads(m), json.loads(c), json.loads(r))
            for rid, ts, m, c, r in self._run("read runs", read)
        ]

    def count_runs(self) -> int:
        """Number of rows in the run history."""
        return int(
            self._run("count runs", lambda con: con.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
        )

    def clear_runs(self) -> int:
        """Delete the run history; returns the number of rows removed."""
        return int(self._run("clear runs", lambda con: con.execute("DELETE FROM runs").rowcount, write=True))

    def clear_all(self) -> tuple[int, int]:
        """Delete the run history and both caches; returns (runs removed, cache entries removed)."""
        return self.clear_runs(), self.clear_cache()


def store_exists(root: str | os.PathLike) -> bool:
    """Whether ``root`` holds a SOM database (lets read-only tools avoid creating an empty store)."""
    return (Path(root) / DB_NAME).is_file()

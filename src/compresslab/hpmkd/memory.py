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
import hashlib
import io
import json
import os
import random
import re
import sqlite3
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from compresslab.utils.errors import ConfigError, DataError
from compresslab.utils.io import _jsonable, atomic_write_bytes

T = TypeVar("T")

#: environment variable that points every run and the CLI at one shared store
SOM_ENV = "COMPRESSLAB_SOM_DIR"
#: default cache budget over both cache folders (the DeepBridge code's 2 GB cache size)
DEFAULT_MAX_BYTES = 2 * 1024**3
DB_NAME = "som.sqlite"
TEACHER = "teacher"
MODEL = "model"
KIND_DIRS = {TEACHER: "teacher_cache", MODEL: "model_cache"}
_SCHEMA_VERSION = "1"
_KEY_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")
_ADDRESS_RE = re.compile(r" at 0x[0-9a-fA-F]+")
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


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its hash check; it was deleted and will be recomputed."""


@dataclass(frozen=True)
class RunRecord:
    """One row of the run history."""

    run_id: str
    timestamp: float
    meta: dict[str, Any]
    config: dict[str, Any]
    result: dict[str, Any]


@dataclass(frozen=True)
class CacheEntry:
    """One entry of the cache index (``kind`` is ``"teacher"`` or ``"model"``)."""

    kind: str
    key: str
    label: str
    size_bytes: int
    sha256: str
    created: float
    last_access: float


# --------------------------------------------------------------------------------------------- cache keys
def state_dict_digest(weights: nn.Module | Mapping[str, Any]) -> str:
    """SHA-256 over a module's (or a state dict's) tensors: names, dtypes, shapes and raw bytes.

    Buffers (BatchNorm running statistics) are included: they change the teacher's eval-mode outputs.
    """
    state = weights.state_dict() if hasattr(weights, "state_dict") else weights
    h = hashlib.sha256()
    for name in sorted(state):
        value = state[name]
        h.update(name.encode() + b"\0")
        if isinstance(value, torch.Tensor):
            t = value.detach().to("cpu").contiguous()
            h.update(f"{t.dtype}{tuple(t.shape)}".encode())
            h.update(t.reshape(-1).view(torch.uint8).numpy())
        else:  # e.g. a module's ``_extra_state``
            h.update(repr(value).encode())
    return h.hexdigest()


def _transform_identity(transform: object) -> str:
    text = transform if isinstance(transform, str) else repr(transform)
    if _ADDRESS_RE.search(text):
        warnings.warn(
            f"transform repr {text!r} contains a memory address, so the teacher-cache key differs in every "
            "process and the cache will never hit across jobs. Fix: give the transform a stable __repr__ "
            "or pass a string that describes it.",
            stacklevel=3,
        )
    return text


def teacher_key(
    teacher: nn.Module | Mapping[str, Any],
    split: str | Mapping[str, Any],
    transform: object = None,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Cache key of a teacher's outputs on one dataset split under one transform.

    Args:
        teacher: the teacher module or its state dict (weights and buffers are hashed).
        split: identity of the data, e.g. ``"cifar10/train"`` or a mapping such as
            ``{"dataset": "cifar10", "split": "train", "indices": subset_indices}``; everything that decides
            which samples come in which order must be in it (tensors/arrays are hashed by value).
        transform: the evaluation transform (its ``repr``) or a string describing it.
        extra: anything else that changes the outputs (e.g. ``{"dtype": "bf16"}``).
    """
    parts = {
        "v": 1,
        "weights": state_dict_digest(teacher),
        "split": _jsonable(split),
        "transform": _transform_identity(transform),
        "extra": _jsonable(dict(extra or {})),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:40]


def model_key(arch: str, size: float, tag: str = "") -> str:
    """Cache key of an intermediate chain model: architecture name and size (width or parameter count).

    ``tag`` separates models of the same shape trained differently (dataset, teacher, seed).
    """
    parts = {"v": 1, "arch": str(arch), "size": float(size), "tag": str(tag)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:40]


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


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def _is_lock_error(err: sqlite3.OperationalError) -> bool:
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None and code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return True
    text = str(err).lower()
    return "locked" in text or "busy" in text


def human_bytes(n: float) -> str:
    """``1536`` → ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # unreachable; keeps type checkers quiet


# ----------------------------------------------------------------------------------------------- the store
class SharedOptimizationMemory:
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

    # ------------------------------------------------------------------------------------------ caches
    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in KIND_DIRS:
            raise ConfigError("som.kind", kind, f"one of {sorted(KIND_DIRS)}", "use 'teacher' or 'model'.")

    def _entry_path(self, kind: str, key: str) -> Path:
        self._check_kind(kind)
        if not _KEY_RE.match(key):
            raise ConfigError(
                "som.key",
                key,
                "1-128 characters from [A-Za-z0-9_.-], not starting with '.'",
                "build keys with teacher_key(...) or model_key(...).",
            )
        return self.root / KIND_DIRS[kind] / f"{key}.pt"

    @staticmethod
    def _hash_path(path: Path) -> Path:
        return path.with_name(path.name + ".sha256")

    def _put(self, kind: str, key: str, value: Any, label: str) -> bool:
        path = self._entry_path(kind, key)
        buf = io.BytesIO()
        torch.save(value, buf)
        data = buf.getvalue()
        if len(data) > self.max_bytes:
            warnings.warn(
                f"SOM {kind} entry {label or key} is {human_bytes(len(data))}, more than the whole cache "
                f"budget ({human_bytes(self.max_bytes)}); not cached. Fix: raise max_bytes.",
                stacklevel=3,
            )
            return False
        digest = hashlib.sha256(data).hexdigest()
        path.parent.mkdir(parents=True, exist_ok=True)
        # the hash goes first: a reader that sees the new data always finds its hash already in place
        atomic_write_bytes(self._hash_path(path), (digest + "\n").encode())
        atomic_write_bytes(path, data)

        def index_and_evict(con: sqlite3.Connection) -> list[tuple[str, str]]:
            now = self._now(con)
            con.execute(
                "INSERT INTO cache(kind, key, label, size_bytes, sha256, created, last_access)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, key) DO UPDATE SET label=excluded.label,"
                " size_bytes=excluded.size_bytes, sha256=excluded.sha256, last_access=excluded.last_access",
                (kind, key, label, len(data), digest, now, now),
            )
            return self._evict(con, keep=(kind, key))

        evicted = self._run(f"cache put {kind}/{key}", index_and_evict, write=True)
        for k, victim in evicted:
            self._unlink_entry(k, victim)
        self.stats["puts"] += 1
        self.stats["evicted"] += len(evicted)
        return True

    def _evict(self, con: sqlite3.Connection, keep: tuple[str, str]) -> list[tuple[str, str]]:
        """Delete least-recently-used index rows until the total fits ``max_bytes`` (inside the put's txn)."""
        total = con.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM cache").fetchone()[0]
        victims: list[tuple[str, str]] = []
        while total > self.max_bytes:
            row = con.execute(
                "SELECT kind, key, size_bytes FROM cache WHERE NOT (kind = ? AND key = ?)"
                " ORDER BY last_access, rowid LIMIT 1",
                keep,
            ).fetchone()
            if row is None:
                break
            con.execute("DELETE FROM cache WHERE kind = ? AND key = ?", row[:2])
            victims.append((row[0], row[1]))
            total -= row[2]
        return victims

    @staticmethod
    def _now(con: sqlite3.Connection) -> float:
        """Strictly increasing access time (ties would make the LRU order arbitrary)."""
        latest = con.execute("SELECT MAX(last_access) FROM cache").fetchone()[0]
        now = time.time()
        return now if latest is None or now > latest else latest + 1e-6

    def _unlink_entry(self, kind: str, key: str) -> None:
        path = self._entry_path(kind, key)
        path.unlink(missing_ok=True)
        self._hash_path(path).unlink(missing_ok=True)

    def _forget(self, kind: str, key: str) -> None:
        self._run(
            f"cache drop {kind}/{key}",
            lambda con: con.execute("DELETE FROM cache WHERE kind = ? AND key = ?", (kind, key)),
            write=True,
        )

    def _discard_corrupt(self, kind: str, key: str, why: str) -> None:
        path = self._entry_path(kind, key)
        self._unlink_entry(kind, key)
        self._forget(kind, key)
        self.stats["corrupt"] += 1
        warnings.warn(
            f"SOM cache entry {path} is corrupted ({why}); deleted it, the caller recomputes it.",
            CacheCorruptionWarning,
            stacklevel=4,
        )

    def _get(self, kind: str, key: str, checks: int = 3, settle: float = 0.02) -> Any | None:
        """Read and verify one entry; ``None`` on a miss or a corrupted (deleted) entry.

        A hash mismatch is confirmed ``checks`` times, ``settle`` seconds apart, before the entry is declared
        corrupted: a concurrent writer replaces the hash and the data in two steps microseconds apart.
        """
        path = self._entry_path(kind, key)
        why = ""
        for attempt in range(checks):
            expected = _read_text(self._hash_path(path))
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                self.stats["misses"] += 1
                self._forget(kind, key)  # evicted or never written; the index must not count it
                return None
            actual = hashlib.sha256(data).hexdigest()
            if expected == actual:
                break
            why = (
                "no hash file beside it"
                if expected is None
                else f"sha256 {actual[:12]}… ≠ stored {expected[:12]}…"
            )
            if attempt + 1 < checks:
                time.sleep(settle)
        else:
            self._discard_corrupt(kind, key, why)
            self.stats["misses"] += 1
            return None
        try:
            value = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as err:  # a valid hash but unreadable payload (e.g. written by another torch)
            self._discard_corrupt(kind, key, f"cannot be loaded: {err}")
            self.stats["misses"] += 1
            return None

        def touch(con: sqlite3.Connection) -> None:
            now = self._now(con)
            con.execute(
                "INSERT INTO cache(kind, key, label, size_bytes, sha256, created, last_access)"
                " VALUES (?, ?, '', ?, ?, ?, ?)"
                " ON CONFLICT(kind, key) DO UPDATE SET last_access=excluded.last_access",
                (kind, key, len(data), actual, now, now),
            )  # re-indexes a valid file whose row was lost (e.g. a crash between file write and commit)

        self._run(f"cache touch {kind}/{key}", touch, write=True)
        self.stats["hits"] += 1
        return value

    # teacher outputs --------------------------------------------------------------------------------
    def get_teacher_outputs(self, key: str) -> Any | None:
        """Cached teacher outputs (usually logits) for a :func:`teacher_key` ``key``, or ``None``."""
        return self._get(TEACHER, key)

    def put_teacher_outputs(self, key: str, outputs: Any, label: str = "") -> bool:
        """Store teacher outputs (tensors, or dicts/lists of them); False if larger than the whole budget."""
        return self._put(TEACHER, key, outputs, label)

    def get_or_compute(self, key: str, fn: Callable[[], Any], label: str = "", kind: str = TEACHER) -> Any:
        """The cached value for ``key`` if present and intact, else ``fn()``, stored before it is returned."""
        value = self._get(kind, key)
        if value is None:
            value = fn()
            self._put(kind, key, value, label)
        return value

    # intermediate models ----------------------------------------------------------------------------
    def get_model(self, arch: str, size: float, tag: str = "") -> dict[str, torch.Tensor] | None:
        """Cached state dict of the chain model ``(arch, size, tag)``, or ``None``."""
        return self._get(MODEL, model_key(arch, size, tag))

    def put_model(self, arch: str, size: float, state_dict: Mapping[str, Any], tag: str = "") -> bool:
        """Store a chain model's state dict (moved to CPU) under ``(arch, size, tag)``."""
        state = {k: v.detach().cpu() if hasattr(v, "detach") else v for k, v in state_dict.items()}
        label = f"{arch} size={size:g}" + (f" {tag}" if tag else "")
        return self._put(MODEL, model_key(arch, size, tag), state, label)

    # listing / clearing -----------------------------------------------------------------------------
    def cache_entries(self, kind: str | None = None) -> list[CacheEntry]:
        """Indexed cache entries, most recently used first."""
        query = "SELECT kind, key, label, size_bytes, sha256, created, last_access FROM cache"
        args: tuple = ()
        if kind is not None:
            self._check_kind(kind)
            query, args = query + " WHERE kind = ?", (kind,)
        rows = self._run(
            "list cache", lambda con: con.execute(query + " ORDER BY last_access DESC", args).fetchall()
        )
        return [CacheEntry(*row) for row in rows]

    def cache_bytes(self, kind: str | None = None) -> int:
        """Total indexed bytes (of one kind, or of both caches)."""
        return sum(e.size_bytes for e in self.cache_entries(kind))

    def clear_cache(self, kind: str | None = None) -> int:
        """Delete one cache (``"teacher"``/``"model"``) or both, leftovers included; returns rows removed."""
        kinds = [kind] if kind is not None else list(KIND_DIRS)
        for k in kinds:
            self._check_kind(k)
        removed = 0
        for k in kinds:
            removed += self._run(
                f"clear {k} cache",
                lambda con, k=k: con.execute("DELETE FROM cache WHERE kind = ?", (k,)).rowcount,
                write=True,
            )
            folder = self.root / KIND_DIRS[k]
            if folder.is_dir():
                for f in folder.iterdir():
                    if f.is_file():
                        f.unlink(missing_ok=True)
        return removed

    def clear_all(self) -> tuple[int, int]:
        """Delete the run history and both caches; returns (runs removed, cache entries removed)."""
        return self.clear_runs(), self.clear_cache()


def store_exists(root: str | os.PathLike) -> bool:
    """Whether ``root`` holds a SOM database (lets read-only tools avoid creating an empty store)."""
    return (Path(root) / DB_NAME).is_file()

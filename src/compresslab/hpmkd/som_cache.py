"""The Shared Optimization Memory's file caches (teacher outputs and chain models): content-addressed files
under ``<root>/teacher_cache`` and ``<root>/model_cache``, indexed in the store's SQLite file, written atomically
with a SHA-256 sidecar, verified on every read, evicted least-recently-used past the byte budget.
:class:`CacheFiles` is the part of :class:`~compresslab.hpmkd.memory.SharedOptimizationMemory` that handles them."""

from __future__ import annotations

import hashlib
import io
import re
import sqlite3
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from compresslab.hpmkd.som_keys import model_key
from compresslab.utils.errors import ConfigError
from compresslab.utils.io import atomic_write_bytes

TEACHER = "teacher"
MODEL = "model"
KIND_DIRS = {TEACHER: "teacher_cache", MODEL: "model_cache"}
_KEY_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")


class CacheCorruptionWarning(UserWarning):
    """A cache entry failed its hash check; it was deleted and will be recomputed."""


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


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def human_bytes(n: float) -> str:
    """``1536`` → ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # unreachable; keeps type checkers quiet


class CacheFiles:
    """Cache-file methods of the store (mixed into SharedOptimizationMemory)."""

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

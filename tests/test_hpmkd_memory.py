"""Shared Optimization Memory: concurrent writers, hashed caches, LRU eviction, locked files, the CLI."""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import sqlite3
import threading
import time
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from compresslab.hpmkd.memory import (
    SOM_ENV,
    CacheCorruptionWarning,
    SharedOptimizationMemory,
    SOMLockedError,
    model_key,
    teacher_key,
)
from compresslab.hpmkd.som_cli import main
from compresslab.utils.errors import ConfigError, DataError

N_ROWS = 100


def _writer(root: str, tag: str, n: int, barrier) -> None:
    """One sweep job: open the (maybe not yet existing) store at the same moment as the other, add n rows."""
    barrier.wait(timeout=30)
    som = SharedOptimizationMemory(root, busy_timeout=5.0, retries=20, retry_wait=0.01)
    for i in range(n):
        som.add_run({"task": tag}, {"temperature": 4.0, "i": i}, {"retention": i / n}, run_id=f"{tag}-{i}")


def _context() -> mp.context.BaseContext:
    # fork is fast (no re-import of torch); the children never use torch, so forking after importing it is ok
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def test_two_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    ctx = _context()
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), tag, N_ROWS, barrier)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0, 0]
    runs = SharedOptimizationMemory(tmp_path).runs()
    assert len(runs) == 2 * N_ROWS
    assert {r.run_id for r in runs} == {f"{t}-{i}" for t in "ab" for i in range(N_ROWS)}
    for tag in "ab":
        mine = sorted((r for r in runs if r.meta["task"] == tag), key=lambda r: r.config["i"])
        assert [r.config["i"] for r in mine] == list(range(N_ROWS))
        assert mine[-1].result == {"retention": (N_ROWS - 1) / N_ROWS}
    with sqlite3.connect(tmp_path / "som.sqlite") as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_add_run_round_trip_replace_and_bad_input(tmp_path: Path) -> None:
    som = SharedOptimizationMemory(tmp_path)
    rid = som.add_run({"n": 3}, {"alpha": 0.5}, {"acc": torch.tensor(0.75), "loss": math.nan}, timestamp=12.5)
    (run,) = som.runs()
    assert (run.run_id, run.timestamp, run.meta, run.config) == (rid, 12.5, {"n": 3}, {"alpha": 0.5})
    assert run.result == {"acc": 0.75, "loss": None}  # tensors converted, NaN stored as null
    som.add_run({"n": 3}, {"alpha": 0.7}, {"acc": 0.8}, run_id=rid)  # a resumed run replaces its row
    assert [(r.run_id, r.config["alpha"]) for r in som.runs()] == [(rid, 0.7)]
    with pytest.raises(ConfigError, match=r"som\.add_run\.config"):
        som.add_run({"n": 3}, [4.0, 0.5], {"acc": 0.8})


def test_locked_database_gives_a_clear_error(tmp_path: Path) -> None:
    som = SharedOptimizationMemory(tmp_path, busy_timeout=0.05, retries=2, retry_wait=0.01)
    blocker = sqlite3.connect(som.db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another job holding the write lock
    try:
        with pytest.raises(SOMLockedError) as info:
            som.add_run({"n": 1}, {"alpha": 0.5}, {"acc": 0.9})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    msg = str(info.value)
    assert isinstance(info.value, DataError)
    assert str(som.db_path) in msg and "3 attempts" in msg and "Fix:" in msg and "database is locked" in msg
    assert som.count_runs() == 0
    som.add_run({"n": 1}, {"alpha": 0.5}, {"acc": 0.9})  # released: the same call now works
    assert som.count_runs() == 1


def test_damaged_database_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "som.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DataError, match="not an intact SOM database") as info:
        SharedOptimizationMemory(tmp_path)
    assert str(tmp_path / "som.sqlite") in str(info.value)


def test_locked_database_is_retried_until_released(tmp_path: Path) -> None:
    som = SharedOptimizationMemory(tmp_path, busy_timeout=0.05, retries=40, retry_wait=0.01)
    blocker = sqlite3.connect(som.db_path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN EXCLUSIVE")

    def release() -> None:
        blocker.execute("ROLLBACK")
        blocker.close()

    timer = threading.Timer(0.3, release)
    start = time.perf_counter()
    timer.start()
    som.add_run({"n": 1}, {"alpha": 0.5}, {"acc": 0.9}, run_id="waited")
    elapsed = time.perf_counter() - start
    timer.join()
    assert elapsed >= 0.25
    assert [r.run_id for r in som.runs()] == ["waited"]


def _teacher(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Linear(16, 3))


def test_teacher_key_depends_on_weights_split_and_transform() -> None:
    a, b = _teacher(0), _teacher(0)
    key = teacher_key(a, "digits/train", "Normalize(0.5)")
    assert len(key) == 40 and key == teacher_key(b, "digits/train", "Normalize(0.5)")  # same weights
    assert key == teacher_key(a.state_dict(), "digits/train", "Normalize(0.5)")
    others = {
        teacher_key(a, "digits/val", "Normalize(0.5)"),
        teacher_key(a, "digits/train", "Normalize(0.25)"),
        teacher_key(a, {"name": "digits/train", "indices": torch.arange(10)}, "Normalize(0.5)"),
    }
    with torch.no_grad():
        b[1].running_mean[0] += 1e-3  # a buffer changes eval outputs, so it changes the key
    others.add(teacher_key(b, "digits/train", "Normalize(0.5)"))
    assert key not in others and len(others) == 4
    with pytest.warns(UserWarning, match="memory address"):
        teacher_key(a, "digits/train", lambda x: x)


def test_teacher_cache_round_trip_and_second_job_hits(tmp_path: Path) -> None:
    key = teacher_key(_teacher(), "digits/train", None)
    logits = torch.randn(50, 3)
    calls = []

    def compute() -> torch.Tensor:
        calls.append(1)
        return logits

    som = SharedOptimizationMemory(tmp_path)
    first = som.get_or_compute(key, compute, label="digits/train")
    second = som.get_or_compute(key, compute)
    assert len(calls) == 1 and torch.equal(first, logits) and torch.equal(second, logits)
    assert (som.stats["hits"], som.stats["misses"], som.stats["puts"]) == (1, 1, 1)
    (entry,) = som.cache_entries("teacher")
    assert (entry.key, entry.label) == (key, "digits/train")
    path = tmp_path / "teacher_cache" / f"{key}.pt"
    assert entry.size_bytes == path.stat().st_size
    assert (tmp_path / "teacher_cache" / f"{key}.pt.sha256").read_text().strip() == entry.sha256

    job2 = SharedOptimizationMemory(tmp_path)  # another sweep job, same store
    assert torch.equal(job2.get_or_compute(key, compute), logits) and len(calls) == 1
    assert job2.stats["hits"] == 1


@pytest.mark.parametrize("damage", ["flip", "truncate", "no_hash"])
def test_corrupted_entry_is_detected_deleted_and_recomputed(tmp_path: Path, damage: str) -> None:
    som = SharedOptimizationMemory(tmp_path)
    som.put_teacher_outputs("k1", torch.arange(100.0))
    path = tmp_path / "teacher_cache" / "k1.pt"
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    elif damage == "truncate":
        path.write_bytes(bytes(data[:-10]))
    else:
        path.with_name("k1.pt.sha256").unlink()
    fresh = torch.full((100,), 7.0)
    with pytest.warns(CacheCorruptionWarning, match="corrupted"):
        value = som.get_or_compute("k1", lambda: fresh)
    assert torch.equal(value, fresh)  # the recomputed value, never the damaged one
    assert som.stats["corrupt"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten entry is intact
        assert torch.equal(som.get_teacher_outputs("k1"), fresh)


def test_lru_eviction_keeps_the_most_recently_used(tmp_path: Path) -> None:
    som = SharedOptimizationMemory(tmp_path)
    som.put_teacher_outputs("a", torch.full((256,), 1.0))
    size = som.cache_bytes()
    som.max_bytes = int(2.5 * size)  # room for two entries
    som.put_teacher_outputs("b", torch.full((256,), 2.0))
    assert som.get_teacher_outputs("a") is not None  # a is now more recent than b
    som.put_teacher_outputs("c", torch.full((256,), 3.0))
    entries = som.cache_entries()
    assert [e.key for e in entries] == ["c", "a"]  # most recent first; b evicted
    assert all(e.size_bytes == size for e in entries) and som.stats["evicted"] == 1
    assert not (tmp_path / "teacher_cache" / "b.pt").exists()
    assert som.get_teacher_outputs("b") is None
    assert torch.equal(som.get_teacher_outputs("a"), torch.full((256,), 1.0))

    som.max_bytes = size // 2  # an entry larger than the whole budget is not cached
    with pytest.warns(UserWarning, match="not cached"):
        assert som.get_or_compute("huge", lambda: torch.zeros(256)).shape == (256,)
    assert "huge" not in {e.key for e in som.cache_entries()}


def test_model_cache_round_trip_shares_the_budget(tmp_path: Path) -> None:
    som = SharedOptimizationMemory(tmp_path)
    net = _teacher(1)
    assert som.get_model("mlp", 0.5, tag="digits") is None
    som.put_model("mlp", 0.5, net.state_dict(), tag="digits")
    state = som.get_model("mlp", 0.5, tag="digits")
    assert state.keys() == net.state_dict().keys()
    assert all(torch.equal(state[k], v) for k, v in net.state_dict().items())
    assert som.get_model("mlp", 0.25, tag="digits") is None and som.get_model("mlp", 0.5) is None
    assert model_key("mlp", 0.5) != model_key("mlp", 0.5, "digits") != model_key("cnn", 0.5, "digits")
    (entry,) = som.cache_entries("model")
    assert entry.label == "mlp size=0.5 digits" and som.cache_bytes() == entry.size_bytes
    with pytest.raises(ConfigError, match=r"som\.key"):
        som.get_teacher_outputs("../escape")


def test_cli_list_and_clear(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch) -> None:
    root = tmp_path / "som"
    som = SharedOptimizationMemory(root)
    som.add_run({"n": 1}, {"temperature": 4.0, "alpha": 0.7}, {"retention": 0.95}, run_id="run-one")
    som.add_run({"n": 2}, {"temperature": 6.0, "alpha": 0.3}, {"retention": 0.90}, run_id="run-two")
    som.put_teacher_outputs("t1", torch.zeros(64), label="digits/train")
    som.put_model("mlp", 0.5, {"w": torch.ones(8)})

    assert main(["--root", str(root), "list"]) == 0
    out = capsys.readouterr().out
    assert "runs: 2" in out and "run-one" in out and "retention=0.95" in out
    assert "teacher-output cache: 1 entries" in out and "digits/train" in out
    assert "intermediate-model cache: 1 entries" in out and "mlp size=0.5" in out

    assert main(["--root", str(root), "clear", "--teacher-cache"]) == 0
    assert "removed 1 teacher-cache entries" in capsys.readouterr().out
    assert som.cache_entries("teacher") == [] and not any((root / "teacher_cache").iterdir())
    assert som.count_runs() == 2 and len(som.cache_entries("model")) == 1

    assert main(["clear", "--runs", "--root", str(root)]) == 0  # --root also after the sub-command
    assert som.count_runs() == 0 and len(som.cache_entries("model")) == 1
    capsys.readouterr()

    monkeypatch.setenv(SOM_ENV, str(root))  # default root from the environment
    assert main(["list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["n_runs"] == 0 and [e["kind"] for e in listing["cache"]] == ["model"]
    assert listing["cache_bytes"]["model"] == som.cache_bytes("model") > 0

    assert main(["clear", "--all"]) == 0
    assert som.cache_entries() == [] and som.count_runs() == 0

    missing = tmp_path / "nowhere"
    assert main(["--root", str(missing), "list"]) == 0
    assert "no SOM store" in capsys.readouterr().out and not missing.exists()
    with pytest.raises(SystemExit) as info:
        main(["--root", str(root), "clear"])  # what to clear is required
    assert info.value.code == 2

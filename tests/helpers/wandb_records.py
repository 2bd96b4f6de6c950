"""Read an offline W&B run file (``run-<id>.wandb``) without the network: the records it holds.

The file is a LevelDB-style log (a 7-byte ``:W&B`` header, then 32 KiB blocks of chunks with a 7-byte header:
crc32, length, type FULL/FIRST/MIDDLE/LAST) of ``wandb_internal_pb2.Record`` protobufs.

Why a reader of our own: the installed wandb (0.31) has no Python reader of these files any more. Its old one,
``wandb.sdk.internal.datastore.DataStore`` (``open_for_scan`` + ``scan_data``), is gone: ``wandb/sdk/internal/``
now holds only ``job_builder``, ``profiler`` and ``incremental_table_util``. The files are read only by the Go
``wandb-core`` binary, whose one entry point for them, ``wandb beta sync``, uploads the run to a server and hands
no records back. Only the record protobufs (``wandb.proto.wandb_internal_pb2``) come from wandb; if a later
wandb offers a reader again, use it here and keep the three function names.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path
from typing import Any

from wandb.proto import wandb_internal_pb2 as pb

_BLOCK = 32 * 1024
_HEADER = 7


def read_records(path: str | Path) -> list[Any]:
    data = Path(path).read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path}: not a W&B run file")
    records, pending, off = [], b"", _HEADER
    while off + _HEADER <= len(data):
        if _BLOCK - off % _BLOCK < _HEADER:  # block trailer padding
            off += _BLOCK - off % _BLOCK
            continue
        _, length, kind = struct.unpack("<IHB", data[off : off + _HEADER])
        chunk = data[off + _HEADER : off + _HEADER + length]
        off += _HEADER + length
        if kind == 1:
            records.append(chunk)
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            records.append(pending + chunk)
            pending = b""
    out = []
    for raw in records:
        rec = pb.Record()
        rec.ParseFromString(raw)
        out.append(rec)
    return out


def complete_records(path: str | Path, timeout: float = 60.0) -> list[Any]:
    """The records of a finished run file: waits until its ``exit`` record is on disk (on a loaded machine the
    W&B service may still be flushing when ``wandb.finish()`` has returned in the writing process)."""
    deadline = time.monotonic() + timeout
    while True:
        records = read_records(path)
        if any(rec.WhichOneof("record_type") == "exit" for rec in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.5)


def run_summary(path: str | Path) -> dict[str, Any]:
    """The run record (tags, group, job type), the final summary and every history key of a finished run file."""
    info: dict[str, Any] = {"summary": {}, "history_keys": set(), "tags": [], "group": "", "job_type": ""}
    for rec in complete_records(path):
        kind = rec.WhichOneof("record_type")
        if kind == "run":
            info.update(tags=list(rec.run.tags), group=rec.run.run_group, job_type=rec.run.job_type)
        elif kind == "summary":
            for item in rec.summary.update:
                info["summary"][item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
        elif kind == "history":
            info["history_keys"] |= {item.key or "/".join(item.nested_key) for item in rec.history.item}
    return info

"""Write ``results/gpu_check.md`` from what ``scripts/gpu_check.sh`` collected in its work folder.

Reads ``pytest.xml`` (JUnit: every GPU test with its outcome and skip reason) and the last JSON line of each
benchmark's output (``throughput.txt``, ``learngene.txt``, ``rnnpool.txt``). Written atomically.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import torch

from compresslab.utils.io import atomic_write_text


def last_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    for line in reversed(path.read_text().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def test_rows(junit: Path) -> tuple[list[str], dict[str, int]]:
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    rows = []
    if not junit.is_file():
        return ["| (pytest wrote no report) | error | |"], {"passed": 0, "failed": 1, "skipped": 0}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        skipped, failed = case.find("skipped"), case.find("failure") or case.find("error")
        if failed is not None:
            outcome, note = "failed", (failed.get("message") or "")[:160]
        elif skipped is not None:
            outcome, note = "skipped", (skipped.get("message") or "")[:160]
        else:
            outcome, note = "passed", f"{float(case.get('time', 0)):.1f} s"
        counts[outcome] += 1
        rows.append(f"| `{name}` | {outcome} | {note.replace('|', '/')} |")
    return rows, counts


def fmt(d: dict | None, keys: list[str]) -> list[str]:
    if d is None:
        return ["(no result: see the script's output)"]
    return [f"- {k}: **{d[k]}**" for k in keys if k in d] or [f"- `{json.dumps(d)[:400]}`"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)

    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "none (CPU dry run)"
    rows, counts = test_rows(args.work / "pytest.xml")
    tp = last_json(args.work / "throughput.txt")
    lg = last_json(args.work / "learngene.txt")
    rp = last_json(args.work / "rnnpool.txt")
    lines = [
        "# GPU check" + (" — CPU dry run (code paths only, no GPU figures)" if args.dry_run else ""),
        "",
        f"Device: **{device}** · torch {torch.__version__} · CUDA {torch.version.cuda} · "
        f"Python {platform.python_version()} · `bash scripts/gpu_check.sh` took {args.seconds} s.",
        "",
        f"## GPU tests: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped",
        "",
        "| test | outcome | time / reason |",
        "|---|---|---|",
        *rows,
        "",
        "## Training throughput (`benchmarks/gpu_throughput.py`; goal compresslab / plain ≥ 0.95)",
        "",
        *fmt(
            tp,
            [
                "model",
                "batch",
                "img_size",
                "precision",
                "plain_images_per_s",
                "compresslab_images_per_s",
                "ratio_compresslab_vs_plain",
                "compresslab+compile_images_per_s",
                "ratio_compile_vs_eager",
                "compile_first_step_s",
            ],
        ),  # fmt: skip
        "",
        "## Learngene train step (`benchmarks/learngene.py`; goal ≤ 1.10× the dense ViT)",
        "",
        *fmt(lg, list(lg or {})),
        "",
        "## RNNPool operator (`benchmarks/rnnpool_operator.py`)",
        "",
        *fmt(rp, list(rp or {})),
        "",
    ]
    atomic_write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}: tests {counts}")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())

"""Batch-1 CPU latency of MobileNetV2 and MobileNetV2-RNNPool: onnxruntime vs torch (eager), same weights.

Usage::

    python benchmarks/onnx_latency.py --threads 2 --repeats 30

Each model (Table 1's MobileNetV2 and MobileNetV2-RNNPool at 3×224², 10 classes, random weights) is exported
with :func:`compresslab.export.export_onnx` (checked against torch within 1e-4), then one 1×3×224×224 input is
timed through ``torch.inference_mode`` and through an onnxruntime CPU session, both with ``--threads`` intra-op
threads, interleaved (torch, ort, torch, ort, …) so that a busy machine slows both alike. Prints a table
(model, torch ms, onnxruntime ms, torch/ort) and a JSON line with the same figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from compresslab.export.onnx import export_onnx
from compresslab.nets import rnnpool_backbones as backbones

MODELS = {
    "MobileNetV2": {"downsample": "none"},
    "MobileNetV2-RNNPool": {"downsample": "rnnpool"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--size", type=int, default=224)
    args = parser.parse_args(argv)

    import onnxruntime as ort

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(1, 3, args.size, args.size)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, kwargs in MODELS.items():
            net = backbones.mobilenetv2(num_classes=10, **kwargs).eval()
            export = export_onnx(net, (3, args.size, args.size), Path(tmp) / f"{name}.onnx")
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = args.threads, 1
            session = ort.InferenceSession(str(export.path), options, providers=["CPUExecutionProvider"])
            feed = {session.get_inputs()[0].name: x.numpy()}
            fns = {"torch": lambda net=net: net(x), "onnxruntime": lambda s=session, f=feed: s.run(None, f)}
            times: dict[str, list[float]] = {k: [] for k in fns}
            with torch.inference_mode():
                for _ in range(args.warmup):
                    for fn in fns.values():
                        fn()
                for _ in range(args.repeats):
                    for key, fn in fns.items():
                        start = time.perf_counter()
                        fn()
                        times[key].append(1e3 * (time.perf_counter() - start))
            results[name] = {
                "torch_ms": statistics.median(times["torch"]),
                "onnxruntime_ms": statistics.median(times["onnxruntime"]),
                "max_abs_diff": export.max_abs_diff,
            }
    print(
        f"batch 1, 3×{args.size}², {args.threads} threads, median of {args.repeats} after {args.warmup} warm-up; "
        f"torch {torch.__version__}, onnxruntime {ort.__version__}"
    )
    print(f"{'model':<22}{'torch ms':>10}{'ort ms':>10}{'torch/ort':>11}{'max |Δ|':>10}")
    for name, r in results.items():
        r["torch_over_ort"] = r["torch_ms"] / r["onnxruntime_ms"]
        print(
            f"{name:<22}{r['torch_ms']:>10.2f}{r['onnxruntime_ms']:>10.2f}{r['torch_over_ort']:>10.2f}x"
            f"{r['max_abs_diff']:>10.1e}"
        )
    print(json.dumps({"config": vars(args), **results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

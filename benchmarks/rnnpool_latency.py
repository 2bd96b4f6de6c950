"""CPU latency at batch 1, 224²: each RNNPool model against its base network, beside MAdds and peak RAM.

    python benchmarks/rnnpool_latency.py --threads 2 [--models mobilenetv2 resnet18] [--repeats 30]

Both models of a pair are timed in the same process, interleaved in rounds (base, RNNPool, base, …) so that
machine noise hits both; the ratio RNNPool/base is what to read. Last line: JSON with every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch

from compresslab.measure.latency import measure_latency
from compresslab.measure.madds import count_madds
from compresslab.measure.peak_ram import analytic_peak_ram
from compresslab.nets import rnnpool_backbones as backbones


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", nargs="+", default=["mobilenetv2"], help="builders in compresslab.nets.rnnpool_backbones"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x = torch.randn(1, 3, 224, 224)
    results = []
    print(f"{'model':<24}{'MAdds G':>9}{'peak MiB':>10}{'ms (median)':>13}{'ratio vs base':>15}")
    for name in args.models:
        nets = {kind: getattr(backbones, name)(downsample=kind).eval() for kind in ("none", "rnnpool")}
        times: dict[str, list[float]] = {kind: [] for kind in nets}
        for _ in range(args.rounds):
            for kind, net in nets.items():
                times[kind].append(measure_latency(net, x, repeats=args.repeats, warmup=3).median_ms)
        base_ms = statistics.median(times["none"])
        for kind, net in nets.items():
            ms = statistics.median(times[kind])
            row = {
                "model": f"{name}{'-rnnpool' if kind == 'rnnpool' else ''}",
                "madds_g": count_madds(net, x).total / 1e9,
                "peak_mib": analytic_peak_ram(net, x).peak_mib,
                "latency_ms": ms,
                "ratio_vs_base": ms / base_ms,
            }
            results.append(row)
            print(
                f"{row['model']:<24}{row['madds_g']:>9.3f}{row['peak_mib']:>10.3f}{ms:>13.2f}"
                f"{row['ratio_vs_base']:>15.2f}"
            )
    print(json.dumps({"threads": args.threads, "batch": 1, "input": [3, 224, 224], "results": results}))


if __name__ == "__main__":
    main()

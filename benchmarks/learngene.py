"""Benchmark the learngene ViT against the dense timm ViT of the same shape, and time recomposition.

Usage::

    python benchmarks/learngene.py --threads 2                       # CPU: DeiT-Ti shape, batch 8, 224²
    python benchmarks/learngene.py --device cuda --model deit_small_patch16_224 --batch 128 --amp

1. **Train step** (forward + backward + AdamW step): ``LearngeneViT`` (N learngenes, all trainable: the costliest
   phase) vs ``timm.create_model`` of the same architecture. The learngene model composes every block's weights
   once per step (an [L, N] × [N, P] product per parameter tensor) and runs the unmodified timm forward with them.
   Target: ratio ≤ 1.10. With ``--amp`` the composition itself runs in fp32 (autocast off) and the blocks in bf16.
2. **Recomposition** of DeiT-B (12 learngenes → 12 layers, ``free``), timed against building a DeiT-B with
   ``timm.create_model`` in the same run (the reference a user would otherwise pay). Target: ≤ 1 s on CPU.

Both are timed interleaved (median of ``--repeats``) so machine noise hits both alike. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import timm
import torch

from compresslab.learngene import LearngeneViT, recompose


def _median_ms(
    fns: dict[str, Callable[[], None]], repeats: int, warmup: int, sync: Callable[[], None]
) -> dict:
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():  # interleaved
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times[name].append((time.perf_counter() - start) * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def _train_step(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, amp: bool) -> Callable[[], None]:
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step() -> None:
        with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=amp):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deit_tiny_patch16_224", help="timm ViT architecture")
    parser.add_argument("--learngenes", type=int, default=12)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", action="store_true", help="bf16 autocast")
    parser.add_argument("--skip-recompose", action="store_true")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.manual_seed(0)
    kwargs = dict(img_size=args.img_size, num_classes=10, depth=12)
    dense = timm.create_model(args.model, pretrained=False, **kwargs).to(device)
    lg = LearngeneViT(args.model, num_learngenes=args.learngenes, gene_init="normal", **kwargs).to(device)
    x = torch.randn(args.batch, 3, args.img_size, args.img_size, device=device)
    y = torch.randint(0, 10, (args.batch,), device=device)
    step = _median_ms(
        {"dense": _train_step(dense, x, y, args.amp), "learngene": _train_step(lg, x, y, args.amp)},
        args.repeats,
        args.warmup,
        sync,
    )
    ratio = step["learngene"] / step["dense"]
    print(
        f"{args.model} batch={args.batch} {args.img_size}² N={args.learngenes} device={device} amp={args.amp} "
        f"threads={torch.get_num_threads()} torch={torch.__version__}"
    )
    print(
        f"train step  dense {step['dense']:8.1f} ms   learngene {step['learngene']:8.1f} ms   "
        f"learngene/dense {ratio:.3f}x (target <= 1.10)"
    )
    result = {"config": vars(args), "train_step_ms": step, "train_step_ratio": ratio}
    if not args.skip_recompose:
        base = LearngeneViT("deit_base_patch16_224", num_learngenes=12, gene_init="normal", depth=12)
        rec = _median_ms(
            {
                "timm_create_deit_b": lambda: timm.create_model("deit_base_patch16_224", pretrained=False),
                "recompose_free": lambda: recompose(base, 12, 12, "free"),
            },
            max(1, args.repeats // 2),
            1,
            lambda: None,
        )
        print(
            f"DeiT-B recompose (12 LG -> 12 layers, free) {rec['recompose_free']:.0f} ms (target <= 1000 ms); "
            f"timm.create_model(deit_base) {rec['timm_create_deit_b']:.0f} ms; "
            f"ratio {rec['recompose_free'] / rec['timm_create_deit_b']:.2f}x"
        )
        result["recompose_ms"] = rec
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

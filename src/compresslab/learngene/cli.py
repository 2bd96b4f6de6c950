"""``compresslab-recompose``: write a ViT of any depth recomposed from a learngene run (no training).

    compresslab-recompose logs/learngene_reduced/chebyshev/seed1/phase4 --depth 4 --k 2 --mode free \\
        --out models/vit_4L_2LG.pt

Writes ``<out>`` (a standard state dict; ``free``: a plain timm ViT, ``const``: the learngene form) and
``<out>.json`` (architecture, depth, k, mode, basis, parameter count); ``load_recomposed(<out>)`` rebuilds it.

``--format timm`` leaves compresslab: ``<out>`` is the ``free`` recomposition and ``<out>.json`` holds
``timm_create_kwargs``, so that timm alone loads it::

    meta = json.load(open("vit_4L_2LG.pt.json"))
    net = timm.create_model(**meta["timm_create_kwargs"])
    net.load_state_dict(torch.load("vit_4L_2LG.pt", weights_only=True), strict=True)

The run may also be a ``const`` fine-tuning run (its composed blocks export as ordinary layers).
"""

from __future__ import annotations

import argparse
import sys
import time

from compresslab.learngene.builders import load_learngene_run, save_recomposed, timm_create_kwargs
from compresslab.learngene.decomposition import MODES, recompose
from compresslab.utils.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="compresslab-recompose", description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", help="a learngene run directory (config_resolved.yaml + checkpoints/)")
    parser.add_argument("--depth", type=int, required=True, help="L', blocks of the recomposed ViT")
    parser.add_argument("--k", type=int, default=None, help="learngenes to use (default: all trained)")
    parser.add_argument("--mode", choices=MODES, default="free", help="free = w/o const, const = w/ const")
    parser.add_argument("--checkpoint", default="last", help="last | best | a file name in checkpoints/")
    parser.add_argument(
        "--format",
        choices=("compresslab", "timm"),
        default="compresslab",
        help="timm: a plain timm checkpoint (free recomposition) with timm.create_model arguments in the .json",
    )
    parser.add_argument(
        "--out", required=True, help="output .pt file (a .json description is written beside)"
    )
    args = parser.parse_args(argv)
    try:
        if args.format == "timm" and args.mode == "const":
            raise ConfigError(
                "--mode",
                "const",
                "free with --format timm (a timm ViT has one tensor per layer)",
                "drop --mode const: the free recomposition has the const model's outputs.",
            )
        source = load_learngene_run(args.run_dir, args.checkpoint)
        start = time.perf_counter()
        model = recompose(source, args.depth, args.k, args.mode)
        seconds = time.perf_counter() - start
        timm_kwargs = timm_create_kwargs(source, args.depth) if args.format == "timm" else None
    except ConfigError as err:
        print(f"compresslab-recompose: {err}", file=sys.stderr)
        return 2
    k = args.k or int(source.active)
    description = {
        "model_name": source.config["model_name"],
        "vit_kwargs": {key: v for key, v in source.config["vit_kwargs"].items() if key != "depth"},
        "depth": args.depth,
        "k": k,
        "mode": args.mode,
        "basis": source.config["basis"],
        "index": source.config["index"],
        "source": str(args.run_dir),
        "params": sum(p.numel() for p in model.parameters()),
        "format": args.format,
    }
    if timm_kwargs is not None:
        description["timm_create_kwargs"] = timm_kwargs
    path, meta = save_recomposed(model, args.out, description)
    print(
        f"{args.depth}-layer ViT from {k} learngenes ({args.mode}, {description['params']:,} params) in "
        f"{seconds:.2f} s -> {path} (+ {meta.name})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

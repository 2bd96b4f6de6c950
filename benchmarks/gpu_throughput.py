"""Training images/s of compresslab's module vs a plain timm + torch loop, same model, batch, precision, optimiser.

Usage::

    python benchmarks/gpu_throughput.py                        # GPU: DeiT-S, batch 128, 224², bf16-mixed
    python benchmarks/gpu_throughput.py --cpu-dry-run          # the same code path, tiny, on CPU (no timing value)

Arms, measured in one run on the same device:

* ``plain``: ``timm.create_model(model)``, ``torch.optim.AdamW``, ``torch.autocast(bfloat16)``, a hand loop;
* ``compresslab``: the same timm model inside ``compresslab.models.ClassifierModule`` (what ``compresslab-train``
  builds for ``model=classifier`` with a timm net), trained by a Lightning ``Trainer(precision="bf16-mixed")``;
* ``compresslab+compile``: the same with ``model.compile=true`` (``torch.compile`` of the net), steady state
  after compilation (the compile time is reported separately).

Both read the same in-memory batches through a ``DataLoader`` (pinned host memory, non-blocking copies), so the
ratio is the training-loop overhead, not data loading (``benchmarks/data_throughput.py`` measures that).
Throughput = images / wall time over the steps after ``--warmup``, with the device synchronised at both ends.
Goal: compresslab / plain ≥ 0.95. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import functools
import json
import time

import timm
import torch
from lightning.pytorch import Callback, Trainer
from torch.utils.data import DataLoader, Dataset

from compresslab.models import ClassifierModule


class _Batches(Dataset):
    """``steps`` batches cycling over a few pre-made random ones (already collated: batch_size=None)."""

    def __init__(self, pool: list[tuple[torch.Tensor, torch.Tensor]], steps: int) -> None:
        self.pool, self.steps = pool, steps

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.pool[i % len(self.pool)]


def _loader(pool: list, steps: int, device: str) -> DataLoader:
    return DataLoader(_Batches(pool, steps), batch_size=None, pin_memory=device == "cuda")


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class _StepTimer(Callback):
    """Wall time from the start of step ``warmup`` to the end of the last step (device synchronised)."""

    def __init__(self, warmup: int, device: str) -> None:
        self.warmup, self.device = warmup, device
        self.start = self.end = 0.0
        self.first_step_s = 0.0
        self._t0 = 0.0

    def on_train_start(self, trainer, pl_module) -> None:  # noqa: ANN001
        self._t0 = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:  # noqa: ANN001
        if batch_idx == self.warmup:
            _sync(self.device)
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
        # synchronise only where a clock is read (as the plain loop does): a sync after every step would stop
        # the host from queueing the next step while the device works, a cost the plain loop does not pay
        if batch_idx == 0:
            _sync(self.device)
            self.first_step_s = time.perf_counter() - self._t0  # includes compilation when compile=true
        if batch_idx == trainer.num_training_batches - 1:
            _sync(self.device)
            self.end = time.perf_counter()


def plain_loop(args: argparse.Namespace, pool: list, device: str) -> dict:
    torch.manual_seed(0)
    model = timm.create_model(args.model, num_classes=args.num_classes, img_size=args.img_size).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    model.train()
    start = 0.0
    for i, (x, y) in enumerate(_loader(pool, args.warmup + args.steps, device)):
        if i == args.warmup:
            _sync(device)
            start = time.perf_counter()
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        with torch.autocast(device, dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    _sync(device)
    seconds = time.perf_counter() - start
    return {"images_per_s": args.steps * args.batch / seconds, "seconds": seconds}


def compresslab_loop(args: argparse.Namespace, pool: list, device: str, compile: bool) -> dict:
    torch.manual_seed(0)
    net = timm.create_model(args.model, num_classes=args.num_classes, img_size=args.img_size)
    module = ClassifierModule(
        net=net,
        num_classes=args.num_classes,
        optimizer=functools.partial(torch.optim.AdamW, lr=args.lr, weight_decay=0.05),
        scheduler=None,
        compile=compile,
    )
    timer = _StepTimer(args.warmup, device)
    trainer = Trainer(
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        precision="bf16-mixed",
        max_epochs=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        callbacks=[timer],
    )
    trainer.fit(module, train_dataloaders=_loader(pool, args.warmup + args.steps, device))
    seconds = timer.end - timer.start
    return {
        "images_per_s": args.steps * args.batch / seconds,
        "seconds": seconds,
        "first_step_s": timer.first_step_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="deit_small_patch16_224")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--img-size", type=int, default=224)
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=40, help="timed steps per arm")
    parser.add_argument(
        "--warmup", type=int, default=10, help="untimed steps per arm (cuDNN autotune, compile)"
    )
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--no-compile", action="store_true", help="skip the model.compile=true arm")
    parser.add_argument(
        "--cpu-dry-run", action="store_true", help="tiny model, 2 steps, on CPU: checks the code path only"
    )
    args = parser.parse_args(argv)
    if args.cpu_dry_run:
        device = "cpu"
        args.model, args.batch, args.img_size, args.num_classes, args.steps, args.warmup = (
            "vit_tiny_patch16_224",
            4,
            32,
            10,
            2,
            1,
        )
    elif torch.cuda.is_available():
        device = "cuda"
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    else:
        parser.error("no CUDA device: run on a GPU machine, or pass --cpu-dry-run to check the code path")

    g = torch.Generator().manual_seed(0)
    pool = [
        (
            torch.randn(args.batch, 3, args.img_size, args.img_size, generator=g),
            torch.randint(0, args.num_classes, (args.batch,), generator=g),
        )
        for _ in range(4)
    ]
    pool = [(x.pin_memory(), y.pin_memory()) if device == "cuda" else (x, y) for x, y in pool]

    # interleave the arms twice (plain, ours, plain, ours) and keep each arm's best: clocks and caches warm alike
    res: dict[str, dict] = {}
    for _ in range(1 if args.cpu_dry_run else 2):
        for name, fn in (
            ("plain", lambda: plain_loop(args, pool, device)),
            ("compresslab", lambda: compresslab_loop(args, pool, device, compile=False)),
        ):
            out = fn()
            if name not in res or out["images_per_s"] > res[name]["images_per_s"]:
                res[name] = out
    if not args.no_compile:
        res["compresslab+compile"] = compresslab_loop(args, pool, device, compile=True)

    summary = {
        "device": torch.cuda.get_device_name() if device == "cuda" else "cpu (dry run)",
        "model": args.model,
        "batch": args.batch,
        "img_size": args.img_size,
        "precision": "bf16-mixed",
        "steps": args.steps,
        **{f"{k}_images_per_s": round(v["images_per_s"], 1) for k, v in res.items()},
        "ratio_compresslab_vs_plain": round(
            res["compresslab"]["images_per_s"] / res["plain"]["images_per_s"], 3
        ),
    }
    if "compresslab+compile" in res:
        summary["ratio_compile_vs_eager"] = round(
            res["compresslab+compile"]["images_per_s"] / res["compresslab"]["images_per_s"], 3
        )
        summary["compile_first_step_s"] = round(res["compresslab+compile"]["first_step_s"], 1)
    for k, v in summary.items():
        print(f"{k}: {v}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

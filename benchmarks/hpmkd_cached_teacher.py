"""Cost of distillation per training epoch: cached teacher logits (HPM-KD's PPP + SOM) vs the student alone.

Usage::

    python benchmarks/hpmkd_cached_teacher.py                       # CPU, digits 8×8, ResNet-20 → ResNet-8
    python benchmarks/hpmkd_cached_teacher.py --preset cifar --device cuda --epochs 3
    python benchmarks/hpmkd_cached_teacher.py --threads 2 --rounds 3 --json-out bench.json

Every variant is one real :class:`compresslab.hpmkd.module.HPMKDModule` fitted by a Lightning ``Trainer`` (no
validation, no logger, no checkpoints); the time of each training epoch is taken between
``on_train_epoch_start`` and ``on_train_epoch_end`` — the one-off teacher inference of the cached variants
happens in ``setup`` and is reported separately. Variants:

* ``student``            — ``method=direct``: cross-entropy only (the reference, 1.00×);
* ``kd_cached``          — ``method=kd``: Hinton KD, the teacher's logits looked up per batch (PPP + SOM);
* ``kd_uncached``        — the same with ``components.ppp=false``: the teacher runs on every batch;
* ``awmt4_cached``       — ``method=hpmkd`` with only AWMT on, M = 4 teachers, logits cached;
* ``awmt4_uncached``     — the same, the 4 teachers running on every batch.

Rounds interleave the variants (noise from other processes hits all alike); each reports the median over the
epochs after the first of every fit. The target is ``kd_cached / student ≤ 1.15``.

Cache persistence across processes: the teachers' weights are saved to the benchmark's folder and a *second
process* (this script with ``--child``) builds the same module on the same data with the same SOM folder; it
must find every teacher output in the cache (``misses == 0``) and report how long reading them took, against
the first process's inference time.

Prints a table and, as its last line, a JSON object with the figures. Exits 1 if the child process missed the
cache. CPU timings need a quiet machine (see benchmarks/rnnpool_operator.py's note).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch import Callback, Trainer
from torch.utils.data import TensorDataset

from compresslab.data import DataModule, DatasetSource, Digits, Splits
from compresslab.hpmkd.module import HPMKDModule
from compresslab.measure.report import num_params as count_params
from compresslab.nets.cifar import build_net

PRESETS: dict[str, dict[str, Any]] = {
    # real embedded data on CPU: the reduced image experiment's pair (14× compression)
    "digits": {
        "shape": [1, 8, 8],
        "teacher": {"arch": "resnet", "depth": 20, "width": 1.0},
        "student": {"arch": "resnet", "depth": 8, "width": 0.5},
        "batch": 64,
    },
    # CIFAR-shaped synthetic data (no download): the full-scale CIFAR-10 pair ResNet-56 → ResNet-20 (3.1×)
    "cifar": {
        "shape": [3, 32, 32],
        "teacher": {"arch": "resnet", "depth": 56, "width": 1.0},
        "student": {"arch": "resnet", "depth": 20, "width": 1.0},
        "batch": 128,
        "n": 4096,
    },
}


class _Synthetic(DatasetSource):
    """Random CIFAR-shaped tensors with random labels (timing only; fixed seed, deterministic)."""

    name = "synthetic"

    def __init__(self, n: int, shape: list[int], classes: int = 10) -> None:
        self.n, self.shape, self.classes = n, shape, classes

    @property
    def num_classes(self) -> int:
        return self.classes

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.shape)

    def load(self) -> Splits:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(self.n, *self.shape, generator=g)
        y = torch.randint(0, self.classes, (self.n,), generator=g)
        cut = self.n // 10
        return Splits(TensorDataset(x[cut:], y[cut:]), {"val": TensorDataset(x[:cut], y[:cut])})


class _EpochTimer(Callback):
    def __init__(self) -> None:
        self.times: list[float] = []

    def on_train_epoch_start(self, trainer: Trainer, pl_module: Any) -> None:
        if torch.cuda.is_available() and pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        self._t0 = time.perf_counter()

    def on_train_epoch_end(self, trainer: Trainer, pl_module: Any) -> None:
        if pl_module.device.type == "cuda":
            torch.cuda.synchronize()
        self.times.append(time.perf_counter() - self._t0)


def _datamodule(preset: dict[str, Any]) -> DataModule:
    shape = preset["shape"]
    source: DatasetSource = (
        _Synthetic(preset.get("n", 4096), shape) if shape[0] == 3 else Digits(image_size=shape[1])
    )
    return DataModule(source, 10, shape, batch_size=preset["batch"], seed=0)


def _teachers(preset: dict[str, Any], folder: Path, m: int) -> list[torch.nn.Module]:
    """M teachers (random weights: timing only), saved on first use so that a second process loads the same."""
    out = []
    for i in range(m):
        net = build_net(input_shape=preset["shape"], num_classes=10, **preset["teacher"])
        path = folder / f"teacher{i}.pt"
        if path.is_file():
            net.load_state_dict(torch.load(path, weights_only=True))
        else:
            torch.manual_seed(100 + i)
            net = build_net(input_shape=preset["shape"], num_classes=10, **preset["teacher"])
            torch.save(net.state_dict(), path)
        out.append(net.eval())
    return out


def _module(preset: dict[str, Any], method: str, teachers: list, ppp: bool, som_dir: Path) -> HPMKDModule:
    torch.manual_seed(0)
    student = build_net(input_shape=preset["shape"], num_classes=10, **preset["student"])
    comps = {"acm": False, "pdc": False, "awmt": method == "hpmkd", "mts": False, "ppp": ppp, "som": True}

    def adam(params: Any, lr: float = 1e-3) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=lr, weight_decay=1e-4)

    return HPMKDModule(
        student,
        10,
        adam,
        teachers=teachers,
        method=method,
        components=comps,
        input_shape=preset["shape"],
        som_dir=str(som_dir),
    )


def _fit(module: HPMKDModule, preset: dict[str, Any], epochs: int, device: str) -> tuple[list[float], dict]:
    timer = _EpochTimer()
    trainer = Trainer(
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        max_epochs=epochs,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
        use_distributed_sampler=False,
        precision="bf16-mixed" if device == "cuda" else "32-true",
    )
    trainer.fit(module, datamodule=_datamodule(preset))
    info = dict(module._info)
    if module._som is not None:
        info.update({f"som_{k}": float(v) for k, v in module._som.stats.items()})
    return timer.times, info


VARIANTS = {
    "student": ("direct", 1, True),
    "kd_cached": ("kd", 1, True),
    "kd_uncached": ("kd", 1, False),
    "awmt4_cached": ("hpmkd", 4, True),
    "awmt4_uncached": ("hpmkd", 4, False),
}


def child(args: argparse.Namespace) -> int:
    """Second process: same teachers, same data, same SOM folder → every teacher output must be a hit."""
    preset = PRESETS[args.preset]
    teachers = _teachers(preset, Path(args.folder), 4)
    module = _module(preset, "hpmkd", teachers, True, Path(args.folder) / "som")
    _, info = _fit(module, preset, 1, args.device)
    print(json.dumps({"hits": info.get("som_hits", 0), "misses": info.get("som_misses", 0), **info}))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", choices=sorted(PRESETS), default="digits")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--epochs", type=int, default=4, help="epochs per fit (the first is not counted)")
    p.add_argument("--rounds", type=int, default=2, help="interleaved rounds over the variants")
    p.add_argument("--json-out", default=None)
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--folder", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    L.seed_everything(0, verbose=False)
    if args.child:
        return child(args)

    preset = PRESETS[args.preset]
    with tempfile.TemporaryDirectory(prefix="hpmkd_bench_") as tmp:
        folder = Path(tmp)
        teachers = _teachers(preset, folder, 4)
        times: dict[str, list[float]] = {k: [] for k in VARIANTS}
        first_setup: dict[str, dict] = {}
        for r in range(args.rounds):
            for name, (method, m, ppp) in VARIANTS.items():
                # a fresh SOM per variant in round 0 measures the first inference; later rounds hit the cache
                som = folder / ("som" if name == "awmt4_cached" else f"som_{name}")
                module = _module(preset, method, teachers[:m], ppp, som)
                epoch_times, info = _fit(module, preset, args.epochs, args.device)
                times[name] += epoch_times[1:]
                if r == 0:
                    first_setup[name] = info
        med = {k: statistics.median(v) for k, v in times.items()}
        ratio = {k: med[k] / med["student"] for k in med}

        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                "--folder",
                str(folder),
                "--preset",
                args.preset,
                "--device",
                args.device,
                *(["--threads", str(args.threads)] if args.threads else []),
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-4000:], file=sys.stderr)
            return 1
        second = json.loads(proc.stdout.strip().splitlines()[-1])

    first = first_setup["awmt4_cached"]
    result = {
        "preset": args.preset,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "teacher_params": count_params(teachers[0]),
        "student_params": count_params(
            build_net(input_shape=preset["shape"], num_classes=10, **preset["student"])
        ),
        "epoch_s": med,
        "ratio_vs_student": ratio,
        "target_kd_cached": 1.15,
        "kd_cached_within_target": ratio["kd_cached"] <= 1.15,
        "first_process": {
            "teacher_inference_s": first.get("time/teacher_s"),
            "hits": first.get("som_hits"),
            "misses": first.get("som_misses"),
        },
        "second_process": {
            "teacher_outputs_s": second.get("time/teacher_s"),
            "hits": second["hits"],
            "misses": second["misses"],
        },
    }
    print(f"{'variant':<16} {'epoch s':>9} {'× student':>10}")
    for k in VARIANTS:
        print(f"{k:<16} {med[k]:>9.4f} {ratio[k]:>9.2f}×")
    f, s = result["first_process"], result["second_process"]
    print(
        f"SOM across processes: first process inferred 4 teachers in {f['teacher_inference_s']:.3f} s "
        f"(misses {f['misses']:.0f}); second process read them in {s['teacher_outputs_s']:.3f} s "
        f"(hits {s['hits']:.0f}, misses {s['misses']:.0f})"
    )
    print(json.dumps(result))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if s["misses"] == 0 and s["hits"] > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())

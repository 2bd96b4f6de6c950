"""Can the data pipelines feed a GPU? ImageNet-10 decoding and NLU tokenisation, on generated real-format files.

Usage::

    python benchmarks/data_throughput.py                      # both parts, full MNLI size (393K pairs)
    python benchmarks/data_throughput.py --mnli-pairs 20000 --images-per-class 20    # quicker

(a) **ImageNet-10 training pipeline**: JPEG files of 500×375 (ImageNet's typical size) in the real
    ``train/<wnid>/*.JPEG`` layout, read through ``compresslab.data.DataModule`` + ``ImageNet10`` (decode,
    RandomResizedCrop 224, flip, normalise; global batch 64) with 0 and 2 workers, against torchvision's
    ``ImageFolder`` + ``DataLoader`` with the same transforms, batch and workers, interleaved. Images/s over
    whole epochs after one warm-up batch.
(b) **NLU reading + tokenisation** at MNLI's training size: a generated ``train.tsv`` in the GLUE format
    (12 columns, 392,702 pairs by default), read by the ``data=nlu/mnli`` DataModule: first run (parse + tokenise
    + write the cache) and second run (cache hit), each in a fresh subprocess so its peak RSS is its own.

The machine's other load changes these figures: say what else was running. The last line printed is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader

MNLI_COLUMNS = (
    "index promptID pairID genre sentence1_binary_parse sentence2_binary_parse sentence1_parse "
    "sentence2_parse sentence1 sentence2 label1 gold_label"
).split()
MNLI_DEV_COLUMNS = MNLI_COLUMNS[:-1] + ["label2", "label3", "label4", "label5", "gold_label"]
LABELS = ("entailment", "neutral", "contradiction")
WORDS = (
    "the a man woman child dog city river market teacher doctor walked saw found played near under over "
    "quickly slowly red green old new small large house garden street morning evening because although"
).split()


# ------------------------------------------------------------------------------------------ ImageNet-10
def write_jpegs(root: Path, per_class: int, val_per_class: int = 2) -> None:
    """Smooth colour fields with noise, 500×375, quality 90 (decoding cost close to natural photographs)."""
    from compresslab.data import IMAGENET10_WNIDS

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:375, 0:500]
    for split, n in (("train", per_class), ("val", val_per_class)):
        for c, wnid in enumerate(IMAGENET10_WNIDS):
            d = root / split / wnid
            d.mkdir(parents=True, exist_ok=True)
            for i in range(n):
                phase = rng.uniform(0, 6.28, 3)
                base = np.stack([np.sin(xx / (40 + 7 * c) + p) + np.cos(yy / 53 + p) for p in phase], -1)
                img = (127 + 60 * base + rng.normal(0, 12, (375, 500, 3))).clip(0, 255).astype(np.uint8)
                Image.fromarray(img).save(d / f"{wnid}_{i}.JPEG", quality=90)


def _epoch_images_per_s(loader: DataLoader) -> float:
    it = iter(loader)
    next(it)  # warm-up: worker start, first decode
    n, start = 0, time.perf_counter()
    for x, _ in it:
        n += len(x)
    return n / (time.perf_counter() - start)


def imagenet_part(root: Path, workers: list[int], batch: int) -> dict:
    from torchvision.datasets import ImageFolder

    from compresslab.data import DataModule
    from compresslab.data.vision import ImageNet10

    source = ImageNet10(root=str(root))
    out = {}
    for w in workers:
        dm = DataModule(source, num_classes=10, input_shape=[3, 224, 224], batch_size=batch, num_workers=w)
        dm.setup("fit")
        ours_loader = dm.train_dataloader()
        ref = ImageFolder(str(root / "train"), transform=source.transforms(train=True))
        ref_loader = DataLoader(
            ref, batch_size=batch, shuffle=True, drop_last=True, num_workers=w, persistent_workers=w > 0
        )
        ours, theirs = [], []
        for _ in range(2):  # interleaved, best of two
            ours.append(_epoch_images_per_s(ours_loader))
            theirs.append(_epoch_images_per_s(ref_loader))
        out[f"workers{w}"] = {
            "compresslab_images_per_s": round(max(ours), 1),
            "imagefolder_images_per_s": round(max(theirs), 1),
            "ratio": round(max(ours) / max(theirs), 3),
        }
    return out


# ------------------------------------------------------------------------------------------ MNLI
def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + " ."


def _parse(s: str) -> str:
    return "( " + " ".join(s.split()) + " )"


def write_mnli(root: Path, pairs: int) -> None:
    """GLUE MNLI files: train.tsv (``pairs`` rows, 12 columns), dev_matched / dev_mismatched (16 columns)."""
    rng = random.Random(0)
    root.mkdir(parents=True, exist_ok=True)

    def row(i: int, dev: bool) -> str:
        p, h, g = _sentence(rng, rng.randint(8, 30)), _sentence(rng, rng.randint(4, 14)), rng.choice(LABELS)
        cols = [str(i), str(i), f"{i}e", "fiction", _parse(p), _parse(h), f"(ROOT {_parse(p)})",
                f"(ROOT {_parse(h)})", p, h, g]  # fmt: skip
        return "\t".join(cols + ([g, g, g, g, g] if dev else [g]))

    with open(root / "train.tsv", "w") as f:
        f.write("\t".join(MNLI_COLUMNS) + "\n")
        for i in range(pairs):
            f.write(row(i, dev=False) + "\n")
    for name, n in (("dev_matched.tsv", 200), ("dev_mismatched.tsv", 200)):
        with open(root / name, "w") as f:
            f.write("\t".join(MNLI_DEV_COLUMNS) + "\n")
            f.writelines(row(i, dev=True) + "\n" for i in range(n))


def nlu_child(data_dir: str) -> None:
    """One read of ``data=nlu/mnli`` (no OOD sets): seconds and this process's peak RSS, as JSON."""
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from compresslab.utils.hydra_app import prepare_hydra

    with initialize_config_dir(config_dir=prepare_hydra(), version_base="1.3"):
        cfg = compose("train", [f"paths.data_dir={data_dir}", "data=nlu/mnli", "~data.dataset.ood"])
    start = time.perf_counter()
    dm = instantiate(cfg.data)
    dm.setup("fit")
    n = len(dm.loaded_splits().train)
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"pairs": n, "seconds": round(seconds, 2), "peak_rss_mib": round(peak_mib, 1)}))


def nlu_part(data_dir: Path, pairs: int) -> dict:
    write_mnli(data_dir / "MNLI", pairs)
    runs = {}
    for name in ("first_run", "cache_hit"):
        proc = subprocess.run(
            [sys.executable, __file__, "--nlu-child", str(data_dir)],
            capture_output=True,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"NLU child failed:\n{proc.stderr[-3000:]}")
        runs[name] = json.loads(proc.stdout.strip().splitlines()[-1])
    runs["pairs_per_s_first_run"] = round(runs["first_run"]["pairs"] / runs["first_run"]["seconds"])
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images-per-class", type=int, default=64)
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--mnli-pairs", type=int, default=392_702, help="MNLI train size by default")
    parser.add_argument("--skip", choices=["imagenet", "nlu"], action="append", default=[])
    parser.add_argument("--nlu-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if "imagenet" not in args.skip and args.images_per_class * 10 < 3 * args.batch:
        parser.error(
            f"--images-per-class {args.images_per_class}: an epoch needs >= 3 batches of {args.batch} "
            f"(one warm-up, two timed); use --images-per-class >= {-(-3 * args.batch // 10)} or a smaller --batch"
        )
    if args.nlu_child:
        nlu_child(args.nlu_child)
        return 0
    torch.set_num_threads(max(1, torch.get_num_threads()))
    summary: dict = {"cpu_cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        if "imagenet" not in args.skip:
            write_jpegs(tmp_path / "imagenet10", args.images_per_class)
            summary["imagenet10_train_pipeline"] = imagenet_part(
                tmp_path / "imagenet10", args.workers, args.batch
            )
        if "nlu" not in args.skip:
            summary["mnli_tokenisation"] = nlu_part(tmp_path / "data", args.mnli_pairs)
    print(json.dumps(summary, indent=1))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

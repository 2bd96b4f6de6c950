"""Benchmark SRNet mask training against plain fine-tuning on the same model, and the exact re-calibration.

Usage::

    python benchmarks/srnet_mask_step.py --threads 2                        # BERT-base-sized, CPU
    python benchmarks/srnet_mask_step.py --model minilm --batch 32 --seq 24  # the reduced-scale model
    python benchmarks/srnet_mask_step.py --device cuda --batch 32 --seq 128 --repeats 20

Both arms run one training step of ``BertForSequenceClassification`` on the same random batch, AdamW
(``fused=True`` on both) and the same model instance:

* *fine-tuning*: every parameter trained (the "full bert" step);
* *mask training*: the weights frozen, a :class:`~compresslab.srnet.masks.BinaryMask` on all 6·L + 2 Linear
  weights (Q/K/V/AO/I/O, pooler, classifier), the exact per-matrix top-k re-calibration before the step (as the
  LightningModule does every step), forward with W ⊙ m, STE backward to the scores, AdamW on the scores.

Steps are timed interleaved (fine-tune, mask, fine-tune, mask, ...) so that load on a shared machine hits both
alike; the median of ``--repeats`` steps is reported. Then the re-calibration alone (top-k of every masked matrix
from scratch, the cache invalidated each time) on the BERT-base-sized model (85M masked weights), median of
``--recal-repeats``. Targets (issue 6): mask step ≤ 1.25× the fine-tuning step; re-calibration ≤ 2 s on CPU.

``--model bert-base`` builds BERT-base's architecture (12 × 768, random weights: no download needed); ``minilm`` is
the packaged pre-trained MiniLM. Prints a table and, as its last line, a JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForSequenceClassification

from compresslab.srnet.masks import attach_masks, masks_of, recalibrate


def build(model: str) -> BertForSequenceClassification:
    torch.manual_seed(0)
    if model == "bert-base":
        return BertForSequenceClassification(BertConfig(num_labels=3))  # 12 layers × 768, 110M parameters
    from compresslab.srnet.nets import PairClassifier

    return PairClassifier(num_labels=3).model


def _timed(fn, sync) -> float:
    sync()
    t = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - t


def time_steps(args: argparse.Namespace, dev: torch.device, sync) -> tuple[float, float]:
    """Median seconds of a fine-tuning step and of a mask-training step (interleaved)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randint(1000, 20000, (args.batch, args.seq), generator=g).to(dev)
    y = torch.randint(0, 3, (args.batch,), generator=g).to(dev)
    amask = torch.ones_like(x)

    ft_model = build(args.model).to(dev).train()
    ft_opt = torch.optim.AdamW(ft_model.parameters(), lr=1e-5, fused=True)
    mask_model = build(args.model).to(dev).train()
    masks = attach_masks(mask_model, args.sparsity)
    mask_opt = torch.optim.AdamW([q for q in mask_model.parameters() if q.requires_grad], lr=1e-5, fused=True)

    def ft_step() -> None:
        loss = F.cross_entropy(ft_model(input_ids=x, attention_mask=amask).logits, y)
        loss.backward()
        ft_opt.step()
        ft_opt.zero_grad(set_to_none=True)

    def mask_step() -> None:
        recalibrate(masks)  # exact top-k of the current scores (what MaskTrainingModule does every step)
        loss = F.cross_entropy(mask_model(input_ids=x, attention_mask=amask).logits, y)
        loss.backward()
        mask_opt.step()
        mask_opt.zero_grad(set_to_none=True)

    ft_step(), mask_step()  # warm-up
    ft_t, mask_t = [], []
    for _ in range(args.repeats):
        ft_t.append(_timed(ft_step, sync))
        mask_t.append(_timed(mask_step, sync))
    ft_med, mask_med = statistics.median(ft_t), statistics.median(mask_t)
    return ft_med, mask_med


def time_recalibration(args: argparse.Namespace, dev: torch.device, sync) -> tuple[float, int]:
    """Median seconds of a from-scratch top-k re-calibration of every mask of a BERT-base-sized model."""
    big = build("bert-base").to(dev)
    big_masks = attach_masks(big, args.sparsity)
    n_masked = sum(m.scores.numel() for m in big_masks.values())

    def recal() -> None:
        for m in masks_of(big).values():
            m._key = None  # force a full re-computation
        recalibrate(big_masks)

    recal()
    recal_t = [_timed(recal, sync) for _ in range(args.recal_repeats)]
    recal_med = statistics.median(recal_t)

    return recal_med, n_masked


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=("bert-base", "minilm"), default="bert-base")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--sparsity", type=float, default=0.5)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--recal-repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)

    ft_med, mask_med = time_steps(args, dev, sync)
    recal_med, n_masked = time_recalibration(args, dev, sync)
    ratio = mask_med / ft_med

    print(
        f"model {args.model}, batch {args.batch} × {args.seq}, sparsity {args.sparsity}, device {dev}, "
        f"threads {torch.get_num_threads()}"
    )
    print(f"{'case':<46} {'median s':>10}")
    print(f"{'fine-tuning step (all weights)':<46} {ft_med:>10.3f}")
    print(f"{'mask-training step (top-k + STE, scores only)':<46} {mask_med:>10.3f}")
    print(f"{'ratio mask / fine-tuning (target <= 1.25)':<46} {ratio:>10.2f}")
    print(f"{f're-calibration, BERT-base ({n_masked / 1e6:.1f}M masked)':<46} {recal_med:>10.3f}")
    print(
        json.dumps(
            {
                "model": args.model,
                "batch": args.batch,
                "seq": args.seq,
                "device": str(dev),
                "threads": torch.get_num_threads(),
                "finetune_step_s": ft_med,
                "mask_step_s": mask_med,
                "ratio": ratio,
                "recalibration_s": recal_med,
                "masked_weights": n_masked,
            }
        )
    )


if __name__ == "__main__":
    main()

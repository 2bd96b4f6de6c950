"""Cross-method experiments: combinations of this codebase's methods that none of the source papers ran.

* ``rnnpool_hpmkd`` — the RNNPool-downsampled MobileNetV2 of the reduced Table 2 distilled with HPM-KD from its
  base network (``conf/experiment/cross/rnnpool_hpmkd.yaml``);
* ``learngene_pdc`` — HPM-KD's progressive chain with learngene recompositions of decreasing depth as the
  intermediate models (``cross/learngene_pdc.yaml``);
* ``learngene_srnet`` — SRNet binary masks on the block Linears of a learngene-recomposed ViT
  (``cross/learngene_srnet.yaml``).

Exact cells: parameters and MAdds of each architecture (built here, random weights; masked matrices count their
kept entries). Trained cells: test accuracy (mean ± std over seeds) of the ``cross_methods`` runs and of the
reference rows that other tables already train (``rnnpool_table2``, ``learngene_heatmap``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

import timm
import torch
from torch import nn

from compresslab.measure.madds import count_madds
from compresslab.measure.peak_ram import analytic_peak_ram
from compresslab.measure.report import count_params
from compresslab.nets.rnnpool_backbones import mobilenetv2
from compresslab.srnet.masks import pruned_count, target_linears
from compresslab.tables.common import (
    Run,
    RunSource,
    Table,
    fmt_mean_std,
    mean_std,
    metric_values,
    missing,
    per_seed,
    table_runs,
)
from compresslab.tables.verdict import Claim, against, paired, ratio

SOURCE = "compresslab cross-method experiments (no paper has them)"
COMMAND = "bash scripts/reproduce_cross.sh"
SEEDS = "seed=1,2,3"

# the reduced-scale architectures of the experiments (their configs hold the same numbers)
RNNPOOL_KW = dict(num_classes=10, in_chans=1, width_mult=0.5, num_features=640, last_layer_rnnpool=False)
RNNPOOL_INPUT = (1, 1, 48, 48)  # [B, C, H, W]: cluttered digits
VIT_KW = dict(img_size=16, patch_size=4, in_chans=1, embed_dim=64, num_heads=4, num_classes=5)
VIT_INPUT = (1, 1, 16, 16)  # [B, C, H, W]: digits 5-9 at 16²
SRNET_SPARSITY = 0.5


# --------------------------------------------------------------------------------------- exact counts
def rnnpool_net(downsample: str) -> nn.Module:
    """The reduced Table-2 MobileNetV2 (width 0.5, 1 × 48² input) with the given downsampling row."""
    return mobilenetv2(downsample=downsample, **RNNPOOL_KW)


def vit(depth: int) -> nn.Module:
    """The plain timm ViT a learngene recomposition of ``depth`` blocks (mode=free) produces, 5-class head."""
    return timm.create_model("vit_tiny_patch16_224", pretrained=False, depth=depth, **VIT_KW)


def masked_nonzero(model: nn.Module, sparsity: float) -> int:
    """Parameters left after SRNet masks of ``sparsity`` on every block Linear (head unmasked): each masked
    matrix loses exactly ⌊s·numel⌋ entries (top-k control)."""
    pruned = sum(
        pruned_count(lin.weight.numel(), sparsity) for lin in target_linears(model, classifier=False).values()
    )
    return count_params(model)["total"] - pruned


@cache
def _counts(kind: str, arg: str | int) -> tuple[int, int, str]:
    """(params, MAdds at batch 1, analytic peak RAM cell) of ``rnnpool_net(arg)`` or ``vit(arg)``."""
    torch.manual_seed(0)
    if kind == "rnnpool":
        model, x = rnnpool_net(str(arg)), torch.zeros(RNNPOOL_INPUT)
        ram = analytic_peak_ram(model, x)  # rnnpool.md §5 rules, 4 bytes per value
        ram_cell = f"{ram.peak_values * ram.bytes_per_value / 1024:.1f} KiB"
    else:  # the RNNPool peak-RAM rules have no transformer counterpart
        model, x, ram_cell = vit(int(arg)), torch.zeros(VIT_INPUT), "–"
    return count_params(model)["total"], count_madds(model, x).total, ram_cell


# --------------------------------------------------------------------------------------- the table
def _fmt_count(value: int) -> str:
    return f"{value / 1e6:.3f}M" if value >= 1e6 else f"{value / 1e3:.1f}K"


def _reduced(log_dir: str | Path | RunSource, table: str) -> Callable[[str], list[Run]]:
    """row -> the reduced-scale runs of ``table`` with ``paper.row == row``."""
    runs = [r for r in table_runs(log_dir, table) if r.get("paper.scale") == "reduced"]
    return lambda row: [r for r in runs if r.get("paper.row") == row]


ACC = "Test acc % (mean ± std)"


def cross_table(log_dir: str | Path | RunSource) -> Table:
    cross = _reduced(log_dir, "cross_methods")
    table2 = _reduced(log_dir, "rnnpool_table2")
    heatmap = _reduced(log_dir, "learngene_heatmap")
    table = Table(
        "cross_methods",
        "Cross-method experiments: RNNPool × HPM-KD, learngene × PDC, learngene × SRNet (reduced scale)",
        SOURCE,
        ["Experiment", "Model", "Training", "Params", "MAdds", "Peak RAM", ACC],
        label_columns=3,
        rerun=COMMAND,
        run_note_prefixes=("rnnpool_hpmkd:", "learngene_pdc:"),
    )
    arms: dict[tuple[str, str, str], dict[int, float]] = {}  # row labels -> per-seed test accuracy

    def add(
        exp: str, model: str, training: str, params: str, counts: tuple, runs: list[Run], cmd: str
    ) -> float:
        accs = metric_values(runs)
        arms[(exp, model, training)] = per_seed(runs)
        table.rows.append(
            [
                exp,
                model,
                training,
                params,
                _fmt_count(counts[1]),
                counts[2],
                fmt_mean_std(accs) if accs else missing(cmd),
            ]
        )
        return mean_std(accs)[0] if accs else math.nan

    # ---- rnnpool_hpmkd
    base, rnn = _counts("rnnpool", "none"), _counts("rnnpool", "rnnpool")
    t2 = "compresslab-train -m experiment=rnnpool/table2_reduced model.net.downsample={} " + SEEDS
    rh = "compresslab-train -m experiment=cross/rnnpool_hpmkd model.method={} " + SEEDS
    student = "MobileNetV2-0.5-RNNPool"
    teacher = add(
        "rnnpool_hpmkd",
        "MobileNetV2-0.5 base (teacher)",
        "CE, SGD 0.05, 30 ep",
        _fmt_count(base[0]),
        base,
        table2("none+last_layer_rnnpool=False"),
        t2.format("none"),
    )
    add(
        "rnnpool_hpmkd",
        student,
        "CE from scratch, SGD 0.05, 30 ep",
        _fmt_count(rnn[0]),
        rnn,
        table2("rnnpool+last_layer_rnnpool=False"),
        t2.format("rnnpool"),
    )
    add(
        "rnnpool_hpmkd",
        student,
        "Hinton KD from the base, Adam, 30 ep",
        _fmt_count(rnn[0]),
        rnn,
        cross("rnnpool_hpmkd/kd"),
        rh.format("kd"),
    )
    acc = add(
        "rnnpool_hpmkd",
        student,
        "HPM-KD (PDC off) from the base, Adam, 30 ep",
        _fmt_count(rnn[0]),
        rnn,
        cross("rnnpool_hpmkd/hpmkd"),
        rh.format("hpmkd"),
    )
    if not math.isnan(acc) and not math.isnan(teacher):
        table.notes.append(
            f"rnnpool_hpmkd: the HPM-KD student keeps {100 * acc / teacher:.1f} % of the base network's accuracy; "
            f"at 48² RNNPool costs {rnn[1] / base[1]:.2f}× the base's MAdds and {rnn[0] / base[0]:.2f}× its "
            "parameters: its saving is peak RAM (the Peak RAM column, rnnpool.md §5 rules, 4 bytes per value)."
        )

    # ---- learngene_pdc
    lg_cmd = f"{COMMAND} (or bash scripts/reproduce_learngene.sh)"
    lp = "compresslab-train -m experiment=cross/learngene_pdc model.method={} " + SEEDS
    l6, l2 = _counts("vit", 6), _counts("vit", 2)
    student = "ViT L=2 from 6 learngenes"
    ce = "compresslab-train -m experiment=cross/learngene_ce model.net.depth={} " + SEEDS
    add(
        "learngene_pdc",
        "ViT L=6 from 6 learngenes (teacher)",
        "CE fine-tune, 50 ep (learngene_heatmap)",
        _fmt_count(l6[0]),
        l6,
        heatmap("learngene/free/L6/k6"),
        lg_cmd,
    )
    add(
        "learngene_pdc",
        student,
        "CE fine-tune, 8 ep",
        _fmt_count(l2[0]),
        l2,
        cross("learngene_ce/L2"),
        ce.format(2),
    )
    add(
        "learngene_pdc",
        student,
        "Hinton KD from L=6, 8 ep",
        _fmt_count(l2[0]),
        l2,
        cross("learngene_pdc/kd"),
        lp.format("kd"),
    )
    pdc_runs = cross("learngene_pdc/hpmkd")
    add(
        "learngene_pdc",
        student,
        "HPM-KD, learngene chain 6→4→3→2, 8 ep",
        _fmt_count(l2[0]),
        l2,
        pdc_runs,
        lp.format("hpmkd"),
    )
    steps = [int(s) for r in pdc_runs if (s := r.metric("hpmkd/chain_steps")) is not None]
    best = [int(b) for r in pdc_runs if (b := r.metric("hpmkd/chain_best")) is not None]
    if steps:
        table.notes.append(
            f"learngene_pdc: chain models trained per run {steps}; the student's teacher per run "
            f"{['L=6 teacher' if b == 0 else f'f_{b}' for b in best]} (f_1 = the L=4 recomposition, f_2 = L=3, "
            "planned by |θ_i| = |θ_T|·r^{i/3}; the chain stops when the student's probe gains < ε = 1 % relative)."
        )

    # ---- learngene_srnet
    ls = "compresslab-train -m experiment=cross/learngene_srnet " + SEEDS
    kept = masked_nonzero(vit(6), SRNET_SPARSITY)
    add(
        "learngene_srnet",
        "ViT L=6 from 6 learngenes, dense",
        "CE fine-tune (all weights), 8 ep",
        _fmt_count(l6[0]),
        l6,
        cross("learngene_ce/L6"),
        ce.format(6),
    )
    add(
        "learngene_srnet",
        f"same ViT, SRNet masks s={SRNET_SPARSITY}",
        "CE mask training (scores + head), 8 ep",
        f"{_fmt_count(kept)} non-zero of {_fmt_count(l6[0])}",
        l6,
        cross(f"learngene_srnet/s{SRNET_SPARSITY}"),
        ls,
    )

    # hypotheses of these experiments (no paper states them): distillation helps the compressed student
    tests = [
        ("rnnpool_hpmkd", "MobileNetV2-0.5-RNNPool", "HPM-KD (PDC off) from the base, Adam, 30 ep",
         "CE from scratch, SGD 0.05, 30 ep", "HPM-KD student > the same RNNPool net trained from scratch"),
        ("rnnpool_hpmkd", "MobileNetV2-0.5-RNNPool", "HPM-KD (PDC off) from the base, Adam, 30 ep",
         "Hinton KD from the base, Adam, 30 ep", "HPM-KD student > Hinton-KD student (RNNPool net)"),
        ("learngene_pdc", "ViT L=2 from 6 learngenes", "HPM-KD, learngene chain 6→4→3→2, 8 ep",
         "Hinton KD from L=6, 8 ep", "HPM-KD with a learngene chain > Hinton KD (L=2 ViT)"),
        ("learngene_pdc", "ViT L=2 from 6 learngenes", "HPM-KD, learngene chain 6→4→3→2, 8 ep",
         "CE fine-tune, 8 ep", "HPM-KD with a learngene chain > plain fine-tuning (L=2 ViT)"),
    ]  # fmt: skip
    for exp, model, a, b, text in tests:
        claim = Claim(f"{exp}: {text}", (((exp, model, a), ACC), ((exp, model, b), ACC)), COMMAND)
        table.verdicts.append(paired(claim, arms[(exp, model, a)], arms[(exp, model, b)]))
    dense = ("learngene_srnet", "ViT L=6 from 6 learngenes, dense", "CE fine-tune (all weights), 8 ep")
    masked = (
        "learngene_srnet",
        f"same ViT, SRNet masks s={SRNET_SPARSITY}",
        "CE mask training (scores + head), 8 ep",
    )
    claim = Claim(
        f"learngene_srnet: SRNet masks at {SRNET_SPARSITY:.0%} sparsity keep ≥ 95 % of the dense ViT's accuracy "
        "(SRNet's ≥ 95 % ID claim on a learngene ViT)",
        ((masked, ACC), (dense, ACC)),
        COMMAND,
    )
    table.verdicts.append(against(claim, ratio(arms[masked], arms[dense]), 95.0))
    table.notes += [
        "Data: rnnpool_hpmkd on cluttered digits 48² (10 classes, conf/data/cluttered_digits.yaml); the learngene "
        "rows on the mapped digits 5-9 at 16² (conf/data/digits_downstream.yaml), learngenes from the ICT chain on the mapped digits 0-4 "
        "(scripts/reproduce_learngene.sh). Test accuracy %, mean ± std over seeds 1-3 (n = runs found).",
        "Params and MAdds are exact (built here at batch 1); MAdds of the masked ViT are the dense count (unstructured "
        "masks save no dense compute). Reference rows are the rnnpool_table2 runs and, for the learngene rows, "
        "experiment=cross/learngene_ce (the same recompositions CE-fine-tuned at the cross arms' 8 epochs); the KD "
        "teacher is the learngene_heatmap L=6 run (50 epochs) of the same seed.",
        "HPM-KD rows: all six components unless stated; teachers are runs of this codebase of the same seed.",
    ]
    return table


TABLES = {
    "cross_methods": (cross_table, f"{SOURCE}: RNNPool×HPM-KD, learngene×PDC, learngene×SRNet (reduced)")
}

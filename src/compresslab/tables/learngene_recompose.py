"""Learngene tables over recomposed models, depth L × number of learngenes k (reduced scale): Fig. 5's heatmap
(each recomposition fine-tuned on the downstream digits 5-9, with its PNG and 95 %-of-max contour) and the
sub-models with no extra training (each recomposition evaluated as is on the ancestry task). The fine-tuning runs
grouped here (:func:`_finetune_runs`) also feed :mod:`.learngene_finetune`.
"""

from __future__ import annotations

import math
from pathlib import Path

from compresslab.tables.common import (
    Run,
    Table,
    fmt_mean_std,
    group_runs,
    mean_std,
    metric_values,
    missing,
    per_seed,
    table_runs,
)
from compresslab.tables.learngene_exact import PAPER
from compresslab.tables.learngene_ict import REDUCED_COMMAND, REDUCED_DATA, _reduced, std_check
from compresslab.tables.verdict import (
    Claim,
    against,
    ratio,
)

HEATMAP_DEPTHS = (2, 4, 6)
HEATMAP_KS = (1, 2, 4, 6)


def _finetune_runs(log_dir: str | Path) -> dict[tuple[str, str, int, int], list[Run]]:
    return group_runs(
        _reduced("learngene_heatmap", log_dir),
        key=lambda r: (
            r.get("model.net.init"),
            r.get("model.net.mode"),
            int(r.get("model.net.depth") or 0),
            int(r.get("model.net.k") or 0),
        ),
    )


def heatmap_table(log_dir: str | Path) -> Table:
    runs = _finetune_runs(log_dir)
    grid = [
        [mean_std(metric_values(runs.get(("learngene", "free", d, k), [])))[0] for k in HEATMAP_KS]
        for d in HEATMAP_DEPTHS
    ]  # [depth, k] mean test acc (nan = missing)
    table = Table(
        "learngene_heatmap",
        "Learngene Fig. 5: downstream accuracy after fine-tuning, depth × number of learngenes (w/o const)",
        f"{PAPER}, Fig. 5 (95 %-of-max contour)",
        ["Depth \\ learngenes", *(f"k={k}" for k in HEATMAP_KS)],
        rerun=REDUCED_COMMAND,
        run_note_prefixes=("Max ",),
    )
    for d in HEATMAP_DEPTHS:
        cells = []
        for k in HEATMAP_KS:
            accs = metric_values(runs.get(("learngene", "free", d, k), []))
            cmd = f"{REDUCED_COMMAND} (model.net.depth={d} model.net.k={k})"
            cells.append(fmt_mean_std(accs) if accs else missing(cmd))
        table.rows.append([f"L={d}", *cells])
    filled = [v for row in grid for v in row if not math.isnan(v)]
    if filled:
        best = max(filled)
        reach = [
            f"L={d}, k={k}"
            for d, row in zip(HEATMAP_DEPTHS, grid, strict=True)
            for k, v in zip(HEATMAP_KS, row, strict=True)
            if not math.isnan(v) and v >= 0.95 * best
        ]
        table.notes.append(f"Max {100 * best:.1f} %; cells at ≥ 95 % of it: {'; '.join(reach)}.")
        table.figure = lambda path: _draw_heatmap(grid, path)
    means = {
        (d, k): v
        for d, row in zip(HEATMAP_DEPTHS, grid, strict=True)
        for k, v in zip(HEATMAP_KS, row, strict=True)
    }
    best_cell = max(
        (dk for dk, v in means.items() if not math.isnan(v)), key=means.__getitem__, default=(6, 6)
    )
    one = per_seed(runs.get(("learngene", "free", 6, 1), []))
    claim = Claim(
        "A 6-layer ViT from only 1 learngene reaches ≥ 95 % of the best cell's accuracy (paper Fig. 5, CIFAR-10)",
        cells=((("L=6",), "k=1"),),
        command=REDUCED_COMMAND,
    )
    table.verdicts.append(
        against(claim, ratio(one, per_seed(runs.get(("learngene", "free", *best_cell), []))), 95.0)
    )
    std_check(
        table,
        [
            ((f"L={d}",), f"k={k}", runs.get(("learngene", "free", d, k), []))
            for d in HEATMAP_DEPTHS
            for k in HEATMAP_KS
        ],
    )
    table.notes += [
        REDUCED_DATA,
        "Each cell: recompose a ViT of L blocks from the first k learngenes of the ICT chain (Eq. 9, x = (l-1)/L), "
        "new 5-class head, fine-tune 50 epochs on the mapped digits 5-9 (AdamW 1e-3, 1 warm-up epoch, cosine). Beside it: "
        "learngene_subnets (the same recompositions with no fine-tuning) and learngene_const (w/ const vs these w/o "
        "const cells).",
    ]
    return table


def _draw_heatmap(grid: list[list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    values = np.array(grid, dtype=float) * 100  # [depths, ks]
    fig, ax = plt.subplots(figsize=(5, 3.6))
    im = ax.imshow(values, origin="lower", cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(HEATMAP_KS)), [str(k) for k in HEATMAP_KS])
    ax.set_yticks(range(len(HEATMAP_DEPTHS)), [str(d) for d in HEATMAP_DEPTHS])
    ax.set_xlabel("learngenes k")
    ax.set_ylabel("depth L")
    for (i, j), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.1f}", ha="center", va="center", color="w", fontsize=8)
    if np.isfinite(values).sum() >= 4 and min(values.shape) >= 2:
        level = 0.95 * np.nanmax(values)
        ax.contour(np.nan_to_num(values, nan=0.0), levels=[level], colors="red", linewidths=1.5)
        ax.set_title(f"test acc % (red: 95 % of max = {level:.1f})", fontsize=9)
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------------ sub-models, no extra training
SUBNETS_COMMAND = "compresslab-train -m experiment=learngene/reduced_subnets model.net.depth={d} model.net.k={k} seed=1,2,3,4,5"
CHANCE_5 = 20.0  # 5 classes


def _subnet_runs(log_dir: str | Path) -> dict[tuple[bool, int, int], list[Run]]:
    """Evaluation-only runs (train=false) by (frozen-shared chain?, depth, k)."""
    return group_runs(
        [
            r
            for r in table_runs(log_dir, "learngene_subnets", evaluations=True)
            if r.get("paper.scale") == "reduced"
        ],
        key=lambda r: (
            "frozen_shared" in str(r.get("model.net.run_dir", "")),
            int(r.get("model.net.depth") or 0),
            int(r.get("model.net.k") or 0),
        ),
    )


def subnets_table(log_dir: str | Path) -> Table:
    runs = _subnet_runs(log_dir)
    table = Table(
        "learngene_subnets",
        "Learngene: diverse-scale models with no extra training — depth × number of learngenes, evaluated as "
        "recomposed (ancestry task)",
        f"{PAPER}, Sec. 3.3 (recomposition 'does not require' training); beside learngene_heatmap (fine-tuned)",
        ["Depth \\ learngenes", *(f"k={k}" for k in HEATMAP_KS)],
        rerun=REDUCED_COMMAND,
    )
    chains = [False] + ([True] if any(frozen for frozen, _, _ in runs) else [])
    for frozen in chains:
        for d in HEATMAP_DEPTHS:
            cells = [
                fmt_mean_std(v)
                if (v := metric_values(runs.get((frozen, d, k), [])))
                else missing(SUBNETS_COMMAND.format(d=d, k=k))
                for k in HEATMAP_KS
            ]
            table.rows.append([f"L={d}" + (" (frozen-shared chain)" if frozen else ""), *cells])
    grid = [
        [mean_std(metric_values(runs.get((False, d, k), [])))[0] for k in HEATMAP_KS] for d in HEATMAP_DEPTHS
    ]
    if any(not math.isnan(v) for row in grid for v in row):
        table.figure = lambda path: _draw_heatmap(grid, path)
    k_all = HEATMAP_KS[-1]
    for d in HEATMAP_DEPTHS:
        claim = Claim(
            f"Diverse-scale models with no extra training: a ViT of L={d} recomposed from all {k_all} learngenes is "
            f"usable as is (ancestry test acc > 2× chance = {2 * CHANCE_5:g} %, 5 classes)",
            cells=(((f"L={d}",), f"k={k_all}"),),
            command=REDUCED_COMMAND,
        )
        table.verdicts.append(against(claim, per_seed(runs.get((False, d, k_all), [])), 2 * CHANCE_5))
    table.notes += [
        REDUCED_DATA,
        "Each cell: recompose a ViT of L blocks from the first k learngenes of the ICT chain's last phase (Eq. 9, "
        "x = (l-1)/L) and evaluate it on the ancestry task's test split (the mapped digits 0-4, the task the learngenes were "
        "trained on, with the chain's own head) without any training (experiment=learngene/reduced_subnets, "
        "train=false: evaluation-only runs, counted here and nowhere else). L=6, k=6 is the trained model itself at "
        "the chain's last epoch (model.net.checkpoint=last, as for every recomposition here), while the ICT table tests "
        "the best-validation checkpoint: the two cells can differ by a few tenths. "
        "The fine-tuned heatmap (downstream: the mapped digits 5-9) is results/learngene_heatmap.md.",
        "In the default chain the shared parameters trained in every phase, so k < 6 learngenes meet a rest trained "
        "for 6; rows '(frozen-shared chain)' appear when the chain of reduced_ict_frozen_shared_* is evaluated "
        "(model.net.run_dir=<log dir>/learngene_reduced/ict_chebyshev_frozen_shared/seed<s>/phase4).",
    ]
    return table

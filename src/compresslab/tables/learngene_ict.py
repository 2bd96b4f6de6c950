"""Learngene trained tables on the ancestry task: Fig. 4a (accuracy vs number of learngenes after incremental
component training, both shared-parameter settings) and Table 1 (decomposition bases), plus what every reduced-scale
learngene table shares — the rerun command, the data note, the filter for ``paper.scale=reduced`` runs and the
precondition "every trained cell's std ≤ 3 pp at n = 5" (:func:`std_check`). Runs come from
``scripts/reproduce_learngene.sh`` (a 6-block × 64 ViT on scikit-learn digits).
"""

from __future__ import annotations

import math
from pathlib import Path

from compresslab.paper_values import PAPER_BASES, PAPER_ICT, PAPER_SCT
from compresslab.tables.common import (
    Run,
    RunSource,
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
from compresslab.tables.rnnpool_table2_claims import std_precondition
from compresslab.tables.verdict import (
    Claim,
    paired,
)

REDUCED_COMMAND = "bash scripts/reproduce_learngene.sh"
REDUCED_DATA = (
    "Reduced scale (ours): ImageNet-1K and the downstream sets are not available offline. Ancestry task = "
    "scikit-learn digits 0-4 at 16² under random affine maps (rotation ±25°, shift ±15 %, scale 0.75-1.1; 4 fresh "
    "maps of each training image per epoch, test = 4 fixed maps of each test image; conf/data/digits_ancestry.yaml), "
    "downstream = the disjoint digits 5-9 under the same maps (digits_downstream.yaml); a timm ViT of 6 blocks × 64 "
    "(4 heads, 4×4 patches) with 6 learngenes, distilled from a ConvNet teacher trained by this codebase on the "
    "mapped digits 0-4 (99.7 % test); test accuracy %, mean ± std over seeds (n per cell; the seeds are in "
    "results/<paper.table>.runs.json)."
)


# ------------------------------------------------------------------------------------------ trained tables
def _reduced(table: str, log_dir: str | Path | RunSource) -> list[Run]:
    return [r for r in table_runs(log_dir, table) if r.get("paper.scale") == "reduced"]


CELL_STD_PP, CELL_SEEDS = 3.0, 5  # issue 19: per-cell std ≤ 3 pp over 5 seeds


def std_check(table: Table, entries: list[tuple[tuple[str, ...], str, list[Run]]]) -> None:
    """Put the precondition "every trained cell's std ≤ 3 pp at n = 5" first among ``table``'s verdicts; entries:
    (row labels, column header, the cell's runs)."""
    several = len({header for _, header, _ in entries}) > 1
    values = {
        " ".join(labels) + (f" · {header}" if several else ""): metric_values(runs)
        for labels, header, runs in entries
    }
    claim = Claim(
        f"Precondition: every trained cell's std ≤ {CELL_STD_PP:g} pp at n = {CELL_SEEDS}",
        cells=tuple((labels, header) for labels, header, _ in entries),
        command=REDUCED_COMMAND,
    )
    table.verdicts.insert(0, std_precondition(claim, values, CELL_STD_PP, CELL_SEEDS))


OURS_FROZEN = "Ours, shared params frozen after phase 1 (test acc %)"
ICT_PAIRS = [(1, 1), (2, 2), (4, 4), (6, 12)]  # (our learngenes, the paper's)


OURS = "Ours test acc % (reduced)"


def ict_table(log_dir: str | Path) -> Table:
    ict = group_runs(_reduced("learngene_ict", log_dir), key=lambda r: int(r.get("model.net.active") or 0))
    frozen = group_runs(
        _reduced("learngene_ict_frozen_shared", log_dir), key=lambda r: int(r.get("model.net.active") or 0)
    )
    frozen.setdefault(1, ict.get(1, []))  # phase 1 is the same run in both arms
    sct = [
        r
        for r in _reduced("learngene_bases", log_dir)
        if (r.get("model.net.basis"), r.get("model.net.index")) == ("chebyshev", "shifted")
    ]
    table = Table(
        "learngene_ict",
        "Learngene Fig. 4a: accuracy vs number of learngenes after incremental component training (ICT)",
        f"{PAPER}, Fig. 4a (ImageNet-1K, DeiT-B, 1/2/4/8/12 learngenes)",
        ["Learngenes (ours / paper)", "Paper top-1 %", OURS_FROZEN, OURS],
        rerun=REDUCED_COMMAND,
        run_note_prefixes=("Direction:",),
    )
    labels = [f"ICT {k} / {pk}" for k, pk in ICT_PAIRS]
    means = []
    for label, (ours_k, paper_k) in zip(labels, ICT_PAIRS, strict=True):
        accs = metric_values(ict.get(ours_k, []))
        means.append(mean_std(accs)[0] if accs else math.nan)
        cells = [
            fmt_mean_std(v) if (v := metric_values(arm.get(ours_k, []))) else missing(REDUCED_COMMAND)
            for arm in (frozen, ict)
        ]
        table.rows.append([label, f"{PAPER_ICT[paper_k]:.2f}", *cells])
    accs = metric_values(sct)
    sct_label = "SCT 6 / 12 (all at once)"
    table.rows.append(
        [sct_label, f"{PAPER_SCT:.2f}", "–", fmt_mean_std(accs) if accs else missing(REDUCED_COMMAND)]
    )
    for arm, column, what in (
        (ict, OURS, ""),
        (frozen, OURS_FROZEN, ", shared parameters frozen after phase 1"),
    ):
        for (fewer, k0), (more, k1) in zip(
            zip(labels, ICT_PAIRS), zip(labels[1:], ICT_PAIRS[1:]), strict=False
        ):
            claim = Claim(
                f"ICT accuracy rises with the number of learngenes{what}: {k1[0]} > {k0[0]} "
                f"(paper: {k1[1]} > {k0[1]})",
                cells=(((more,), column), ((fewer,), column)),
                command=REDUCED_COMMAND,
            )
            table.verdicts.append(paired(claim, per_seed(arm.get(k1[0], [])), per_seed(arm.get(k0[0], []))))
        claim = Claim(
            f"ICT (learngenes trained incrementally{what}) ≥ SCT (all at once, same 75 epochs) with every "
            "learngene (paper: 83.70 vs 81.85)",
            cells=(((labels[-1],), column), ((sct_label,), OURS)),
            command=REDUCED_COMMAND,
        )
        table.verdicts.append(paired(claim, per_seed(arm.get(6, [])), per_seed(sct)))
    std_check(
        table,
        [
            ((lb,), col, arm.get(k, []))
            for lb, (k, _) in zip(labels, ICT_PAIRS, strict=True)
            for col, arm in ((OURS_FROZEN, frozen), (OURS, ict))
        ]  # fmt: skip
        + [((sct_label,), OURS, sct)],
    )
    if all(not math.isnan(m) for m in means):
        rising = all(b > a for a, b in zip(means, means[1:], strict=False))
        table.notes.append(
            f"Direction: our mean accuracy {'rises monotonically' if rising else 'does NOT rise monotonically'} "
            "with the number of learngenes, as in the paper's Fig. 4a."
        )
    table.notes += [
        REDUCED_DATA,
        "ICT phases {1, 2, 4, 6}: 30 epochs for phase 1 (one learngene from scratch), 15 for each later one, 75 in "
        "all (each phase trains only its new learngenes, earlier ones frozen); SCT trains all 6 for the same 75 "
        "epochs (both: AdamW 2e-3, wd 0.05, 2 warm-up epochs, cosine, gradient clipping 1.0). The paper's 8-learngene phase has no counterpart at depth 6.",
        f"Two ICT arms (the paper does not say which it used, learngene.md §2). '{OURS}' (the default, "
        "model.net.freeze_shared_after_phase1=false): the shared single-copy parameters (patch and position "
        "embedding, cls token, final norm, head) keep training in every phase, so k learngenes of the last phase are "
        f"not phase k's model. '{OURS_FROZEN}' (experiment=learngene/reduced_ict_frozen_shared_phase2..4, "
        "paper.table=learngene_ict_frozen_shared): they train in phase 1 only, so each phase adds genes to a fixed "
        "rest. Phase 1 is the same run in both arms (its row repeats the default arm's cell).",
    ]
    return table


def bases_table(log_dir: str | Path) -> Table:
    runs = group_runs(
        _reduced("learngene_bases", log_dir),
        key=lambda r: (r.get("model.net.basis"), r.get("model.net.index")),
    )
    table = Table(
        "learngene_bases",
        "Learngene Table 1: decomposition bases (all learngenes trained simultaneously)",
        f"{PAPER}, Table 1 (12 learngenes, 100 epochs, ImageNet-1K)",
        ["Basis", "Index", "Paper top-1 %", OURS],
        label_columns=2,
        rerun=REDUCED_COMMAND,
    )
    for basis, index in [(b, "shifted") for b in PAPER_BASES] + [("chebyshev", "text")]:
        accs = metric_values(runs.get((basis, index), []))
        paper = f"{PAPER_BASES[basis]:.2f}" if index == "shifted" else "–"
        cmd = f"compresslab-train -m experiment=learngene/reduced_sct model.net.basis={basis} model.net.index={index}"
        table.rows.append(
            [basis, index, paper, fmt_mean_std(accs) if accs else missing(cmd + " seed=1,2,3,4,5")]
        )
    cheb = per_seed(runs.get(("chebyshev", "shifted"), []))
    for other in ("taylor", "fourier", "legendre"):
        claim = Claim(
            f"Chebyshev basis ≥ {other.capitalize()} basis (SCT; paper: {PAPER_BASES['chebyshev']:.2f} vs "
            f"{PAPER_BASES[other]:.2f})",
            cells=((("chebyshev", "shifted"), OURS), ((other, "shifted"), OURS)),
            command=REDUCED_COMMAND,
        )
        table.verdicts.append(paired(claim, cheb, per_seed(runs.get((other, "shifted"), []))))
    std_check(
        table,
        [
            ((b, i), OURS, runs.get((b, i), []))
            for b, i in [(b, "shifted") for b in PAPER_BASES] + [("chebyshev", "text")]
        ],
    )
    table.notes += [
        REDUCED_DATA,
        "SCT: 6 learngenes trained jointly for 75 epochs (the ICT chain's total). Fourier = 1, cos 2πx, sin 2πx, cos 4πx, sin 4πx, … (cosine "
        "first in each frequency: full rank N for every N ≤ L, compresslab.learngene.decomposition.basis_functions; "
        "with sine first the last gene of N = L had an all-zero coefficient column); Taylor = xⁿ; Legendre "
        "P_n(x); all at x = (l-1)/L. index=text pairs learngene n with T_n (the paper's text), shifted with T_{n-1}.",
    ]
    return table

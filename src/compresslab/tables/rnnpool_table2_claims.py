"""RNNPool Table 2's specification and claims: its rows (downsampling method in the second block; they and the
paper's values are in :mod:`compresslab.paper_values`), the two reduced-scale regimes the trained rows run in (224² headline, 48² secondary) with the reduced
model's counts, and the claim tests per regime — preconditions (base network above chance and below the ceiling,
every row's std ≤ 2 pp at n = 5, :func:`std_precondition`, which the learngene tables use too) and the paper's
comparisons. The table itself is built in :mod:`.rnnpool`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import torch

from compresslab.measure.madds import count_madds
from compresslab.measure.peak_ram import analytic_peak_ram
from compresslab.nets import rnnpool_backbones as backbones
from compresslab.paper_values import TABLE2_ROWS
from compresslab.tables.common import (
    Run,
    RunSource,
    fmt_mean_std,
    group_runs,
    mean_std,
    metric_values,
    per_seed,
    table_runs,
)
from compresslab.tables.rnnpool_counts import Counts
from compresslab.tables.verdict import CONTRADICTS, HOLDS, INCONCLUSIVE, Claim, Verdict, against, paired

# ------------------------------------------------------------------------------------------------- Table 2
#: the 48² runs (secondary regime) and what rebuilds them
REDUCED_COMMAND = "bash scripts/reproduce_rnnpool_table2.sh"
#: the 224² runs (headline regime): the plan's table2_224 stage (experiment=rnnpool/table2_224), 5 seeds
COMMAND_224 = "bash scripts/reproduce_rnnpool_table2.sh --seeds 1,2,3,4,5"


def _table2_row_key(run: Run) -> tuple[str, bool]:
    return run.get("model.net.downsample"), bool(run.get("model.net.last_layer_rnnpool"))


#: the reduced Table-2 family (width 0.5, 1-channel stem, 10 classes) at its cluttered-digits input
REDUCED_KW = dict(num_classes=10, in_chans=1, width_mult=0.5, num_features=640)
REDUCED_INPUT = (1, 1, 48, 48)  # [B, C, H, W] of the 48² regime
ACC_HEADER = "MBv2 Acc % (ours, reduced: cluttered digits 48², test)"  # the secondary regime's column
ACC_224 = "MBv2 Acc % (ours, reduced 224² — headline: cluttered digits, test)"


@dataclass(frozen=True)
class Regime:
    """One reduced-scale setting of the trained Table-2 rows: its runs, column and claims."""

    scale: str  # paper.scale of its runs
    header: str  # its accuracy column
    tag: str  # how its claims are labelled
    size: int  # input side (1-channel square canvas)
    block: str  # what the second block maps there
    command: str  # what produces its runs


REGIME_224 = Regime("reduced_224", ACC_224, "224², headline", 224, "112² → 28²", COMMAND_224)
REGIME_48 = Regime("reduced", ACC_HEADER, "48², secondary", 48, "24² → 6²", REDUCED_COMMAND)
REGIMES = (REGIME_224, REGIME_48)

CHANCE_PCT = 10.0  # 10 classes
ABOVE_CHANCE_PCT = 3 * CHANCE_PCT  # "well above chance": the base network's interval above 3× chance
HEADROOM_PCT = 95.0  # the base network must stay below this (room for the arms to differ)
STD_LIMIT_PP, STD_SEEDS = 2.0, 5  # per-row std at n = 5
WITHIN_PP = 1.0  # "RNNPool model within 1 pp of the base"


@cache
def reduced_counts(downsample: str, last_layer_rnnpool: bool, size: int = 48) -> tuple[float, float]:
    """(MAdds in millions, analytic peak RAM in KiB) of the reduced Table-2 model of a row at ``size``², batch 1."""
    net = backbones.mobilenetv2(
        downsample=downsample, last_layer_rnnpool=last_layer_rnnpool, **REDUCED_KW
    ).eval()
    x = torch.zeros(1, REDUCED_INPUT[1], size, size)
    ram = analytic_peak_ram(net, x)
    return count_madds(net, x).total / 1e6, ram.peak_values * ram.bytes_per_value / 1024


def _noninferior(claim: Claim, a: dict[int, float], b: dict[int, float], margin_pp: float) -> Verdict:
    """Claim "A is within ``margin_pp`` of B or better": the interval of the per-seed A − B against −margin."""
    diffs = {s: a[s] - b[s] for s in sorted(set(a) & set(b))}
    if not diffs:
        return paired(claim, a, b)  # inconclusive, with why (no runs / no common seed)
    return against(claim, diffs, -margin_pp, unit="pp")


def std_precondition(
    claim: Claim, values: dict[str, list[float]], limit_pp: float = STD_LIMIT_PP, seeds: int = STD_SEEDS
) -> Verdict:
    """Every row's std over seeds ≤ ``limit_pp`` at ``seeds`` seeds (values: row -> per-seed accuracies,
    fractions). Holds when every row has ≥ ``seeds`` seeds within the limit; contradicts when a row with ≥ ``seeds``
    seeds exceeds it; else inconclusive (n = the fewest seeds of a row). The learngene tables use it too."""
    filled = {label: v for label, v in values.items() if v}
    if not filled:
        return Verdict(claim, INCONCLUSIVE, 0, reason="no runs")
    stds = {label: 100 * mean_std(v)[1] for label, v in filled.items()}
    n = min(len(v) for v in values.values())
    worst = max(stds, key=stds.__getitem__)
    over = [label for label, v in filled.items() if len(v) >= seeds and stds[label] > limit_pp]
    reason = ""
    if over:
        outcome = CONTRADICTS
    elif n >= seeds:
        outcome = HOLDS
    else:
        outcome = INCONCLUSIVE
        short = [k for k, v in values.items() if len(v) < seeds]
        more = f" and {len(short) - 3} more" if len(short) > 4 else ""
        reason = f"fewer than {seeds} seeds: " + ", ".join(short[:3] if more else short) + more
    measure = f"largest per-row std, {worst}, vs {limit_pp:g} pp"
    return Verdict(claim, outcome, n, mean=stds[worst], unit="pp", measure=measure, reason=reason)


def table2_verdicts(
    regime: Regime, by_row: dict[tuple[str, bool], list[Run]], mb: dict[str, Counts]
) -> list[Verdict]:
    """The preconditions and the paper's Table-2 claims for one regime (``mb``: the MobileNetV2 counts at 224² of
    each row, which the claims quote)."""
    keys = {label: (ds, last) for label, ds, last in TABLE2_ROWS}
    arms = {label: per_seed(by_row.get(key, [])) for label, key in keys.items()}
    tag = f" ({regime.tag})"

    def claim(text: str, *labels: str) -> Claim:
        return Claim(text + tag, cells=tuple(((lb,), regime.header) for lb in labels), command=regime.command)

    base, rnn = arms["Base Network"], arms["RNNPoolLayer"]
    out = [
        against(
            claim(
                f"Precondition: the base network is well above chance (10 classes, chance {CHANCE_PCT:g} %): "
                f"test acc > {ABOVE_CHANCE_PCT:g} %",
                "Base Network",
            ),
            base,
            ABOVE_CHANCE_PCT,
        ),
        against(
            claim(
                f"Precondition: the base network leaves headroom: test acc < {HEADROOM_PCT:g} %",
                "Base Network",
            ),
            base,
            HEADROOM_PCT,
            above=False,
        ),
        std_precondition(
            claim(f"Precondition: every row's std ≤ {STD_LIMIT_PP:g} pp at n = {STD_SEEDS}", *keys),
            {label: metric_values(by_row.get(key, [])) for label, key in keys.items()},
        ),
    ]
    r = mb["RNNPoolLayer"]
    for other in ("Average Pooling", "Max Pooling", "Strided Convolution"):
        text = (
            f"RNNPoolLayer ≥ {other.lower()} at equal peak RAM (MobileNetV2 224²: {r.peak_mib:.3f} vs "
            f"{mb[other].peak_mib:.3f} MiB)"
        )
        out.append(paired(claim(text, "RNNPoolLayer", other), rnn, arms[other]))
    renet = mb["ReNet"]
    text = (
        f"RNNPoolLayer ≥ ReNet at fewer MAdds (MobileNetV2 224²: {r.madds_g:.3f} vs {renet.madds_g:.3f} G whole map, "
        f"{r.madds_patch_g:.3f} vs {renet.madds_patch_g:.3f} G patch by patch)"
    )
    out.append(paired(claim(text, "RNNPoolLayer", "ReNet"), rnn, arms["ReNet"]))
    b = mb["Base Network"]
    ratio_ram = b.peak_mib / r.peak_mib if r.peak_mib else float("nan")
    text = (
        f"RNNPool model (RNNPoolLayer) within {WITHIN_PP:g} pp of the base network or better (A − B > "
        f"−{WITHIN_PP:g} pp) at ~10× lower peak RAM (MobileNetV2 224²: {r.peak_mib:.3f} vs {b.peak_mib:.3f} MiB, "
        f"{ratio_ram:.1f}×)"
    )
    out.append(_noninferior(claim(text, "RNNPoolLayer", "Base Network"), rnn, base, WITHIN_PP))
    out.append(
        paired(
            claim(
                "RNNPoolLayer + last-layer RNNPool ≥ the base network",
                "RNNPoolLayer + Last layer RNNPool",
                "Base Network",
            ),
            arms["RNNPoolLayer + Last layer RNNPool"],
            base,
        )
    )
    return out


def _seeds(runs: list[Run]) -> str:
    seeds = sorted({int(s) for r in runs if (s := r.get("seed")) is not None})
    return ",".join(map(str, seeds)) or "none"


def renet_cifar10_note(log_dir: str | Path | RunSource) -> str:
    """What this reproduction has for ReNet as a classifier on CIFAR-10 (issue 17, item 5), and why."""
    runs = table_runs(log_dir, "renet")
    head = (
        "ReNet as a classifier (Visin et al. 2015, CIFAR-10 12.35 % test error by secondary summaries, rnnpool.md §3; "
        "experiment=rnnpool/renet_cifar10): "
    )
    if runs:
        groups = group_runs(
            runs,
            key=lambda r: (
                r.get("paper.scale"),
                r.get("data.dataset._target_"),
                r.get("data.dataset.variant"),
            ),
        )
        cells = [
            f"{fmt_mean_std(accs)} test acc % at scale={scale}, data={str(target).rsplit('.', 1)[-1]}"
            + (f"/{variant}" if variant else "")
            for (scale, target, variant), group in sorted(groups.items(), key=str)
            if (accs := metric_values(group))
        ]
        if cells:
            return head + "; ".join(cells) + " (paper: 87.65 % on CIFAR-10)."
    return head + (
        "no result, and none at reduced scale: CIFAR-10 is not on this machine (no network; the reader wants "
        "cifar-10-batches-bin/ under paths.data_dir), and a ReNet classifier on the embedded digits would test ReNet's "
        "own paper, not a claim of RNNPool's — RNNPool uses ReNet only as the second-block baseline, which the "
        "ReNet row above trains in both regimes. No reproduction plan has a ReNet-classifier stage; on CIFAR-10: "
        "`compresslab-train experiment=rnnpool/renet_cifar10 trainer=gpu` (runs paper.table=renet, read here)."
    )

"""HPM-KD component studies (Haase & da Silva, arXiv 2512.09886; hpmkd.md §4.2): ``hpmkd_ablation`` removes one
component at a time (Δ test accuracy, with what ACM, PDC, AWMT and MTS chose in each run) and ``hpmkd_time`` times
the Shared Optimization Memory's cache and the parallel sweep (PPP). Registered in :mod:`.hpmkd`.
"""

from __future__ import annotations

from pathlib import Path

from compresslab.tables.common import (
    Run,
    RunSource,
    Table,
    group_runs,
    mean_std,
    missing,
    per_seed,
    table_runs,
)
from compresslab.tables.hpmkd_runs import (
    ACC,
    COMMAND,
    COMPONENT_NAMES,
    COMPONENTS,
    HEADROOM,
    PAPER,
    _acc,
    _pct,
    _secs,
    dataset_of,
    method_of,
    off_components,
)
from compresslab.tables.verdict import Claim, against, paired, ratio

# draft ablation on CIFAR-10, Δ accuracy (pp) when the component is removed (hpmkd.md §4.2)
DRAFT_ABLATION = {"acm": -1.52, "pdc": -2.86, "awmt": -1.22, "mts": -0.78, "ppp": 0.0, "som": -0.13}
DRAFT_ABLATION_NOTE = {"ppp": "0 (+2.4 h)"}
ABLATION_DATASET = HEADROOM


def ablation_table(log_dir: str | Path | RunSource) -> Table:
    runs = [r for r in table_runs(log_dir, "hpmkd_main") if method_of(r) == "hpmkd"]
    runs = [r for r in runs if len(off_components(r)) <= 1]
    by_data = group_runs(runs, key=dataset_of)
    # only datasets with at least one ablation arm
    datasets = sorted(d for d, rs in by_data.items() if any(off_components(r) for r in rs))
    table = Table(
        "hpmkd_ablation",
        "HPM-KD ablation: remove one component at a time (Δ test accuracy vs all six, pp)",
        f"{PAPER}: draft ablation table (CIFAR-10); arXiv abstract '0.10-0.98 pp per component'",
        [
            "Dataset",
            "Removed",
            "Ours acc %",
            "Ours Δ pp",
            "Ours wall s",
            "Δ wall %",
            *ACTED,
            "Draft Δ pp (CIFAR-10)",
        ],
        trained_columns=("Ours Δ pp", "Δ wall %", *ACTED),
        label_columns=2,
        rerun=COMMAND,
    )
    for dataset in datasets or [ABLATION_DATASET]:
        groups = group_runs(by_data.get(dataset, []), key=lambda r: (off_components(r) or ("none",))[0])
        full = [a for r in groups.get("none", []) if (a := _acc(r)) is not None]
        full_wall = [w for r in groups.get("none", []) if (w := r.metric("time/fit_s")) is not None]
        for comp in ("none", *COMPONENTS):
            mine = groups.get(comp, [])
            accs = [a for r in mine if (a := _acc(r)) is not None]
            wall = [w for r in mine if (w := r.metric("time/fit_s")) is not None]
            delta = (
                f"{100 * (mean_std(accs)[0] - mean_std(full)[0]):+.2f}"
                if accs and full and comp != "none"
                else "–"
            )
            dwall = (
                f"{100 * (mean_std(wall)[0] / mean_std(full_wall)[0] - 1):+.0f}"
                if wall and full_wall and comp != "none"
                else "–"
            )
            name = "none (all six)" if comp == "none" else COMPONENT_NAMES[comp]
            draft = "0" if comp == "none" else DRAFT_ABLATION_NOTE.get(comp, f"{DRAFT_ABLATION[comp]:+.2f}")
            cmd = (
                f"compresslab-train -m experiment=hpmkd/headroom model=hpmkd/hpmkd "
                f"model.components.{comp}=false seed=1,2,3,4,5"
                if comp != "none"
                else COMMAND
            )
            table.rows.append(
                [dataset, name, _pct(accs) if accs else missing(cmd), delta, _secs(wall), dwall,
                 *acted_cells(mine), draft]
            )  # fmt: skip
            if comp not in ("none", "ppp"):  # PPP changes time only, by design
                claim = Claim(
                    f"{dataset}: removing {name} lowers accuracy (draft, CIFAR-10: {DRAFT_ABLATION[comp]:+.2f} pp)",
                    (((dataset, "none (all six)"), ACC), ((dataset, name), ACC)),
                    cmd,
                )
                table.verdicts.append(paired(claim, per_seed(groups.get("none", [])), per_seed(mine)))
    table.notes += [
        "Ours: HPM-KD with every component on vs the same run with one component off (model.components.<name>="
        "false), seeds 1-5, test accuracy at the best validation epoch. ACM off: the configured T = 4, α = 0.7, lr; "
        "PDC off: no chain; AWMT off: one teacher (the chain's model, else the seed-0 teacher); MTS off: fixed T0; "
        "PPP off: teachers run on every batch instead of cached logits (accuracy unchanged by design, time only); "
        "SOM off: no persistent caches and no run history (ACM then starts from its default).",
        "With SOM on, runs read and extend one shared history, so an arm's ACM sees the rows of the runs that "
        "finished before it (the order of a parallel sweep); SOM off isolates a run.",
        "Did it act (per-run choices, from metrics.json; every run also writes hpmkd_choices.json): ACM = where its "
        "(T0, α, lr) came from (default / kNN over the SOM history / regressor), how many runs chose a setting "
        "other than the default, and the mean T0, α; PDC = chain models trained (mean) and how many runs distilled "
        "from a chain model instead of the teacher; AWMT = mean attention weight per slot ([chain, teacher0, "
        "teacher1, teacher2]; the chain slot is 0 when no chain model taught) and H/Hmax, the attention entropy "
        "over its maximum (1 = uniform mixing, 0 = one teacher); MTS = the temperature's first → last value "
        "[min, max] over training. '–' = the component was off. A component that never acted (ACM at the default, "
        "no chain model teaching, uniform attention, T constant) explains a Δ of 0 without contradicting it.",
        "The draft's numbers are older than every experiment in the authors' repository and no result file backs "
        "them; its ablation experiment (exp 2) is marked 'pending, not run' (hpmkd.md §0, §4.3).",
    ]
    return table


ACTED = ("ACM: source · changed · T0/α", "PDC: trained · chain taught", "AWMT: weights · H/Hmax",
         "MTS: T first→last [min, max]")  # fmt: skip
ACM_SOURCES = {0: "default", 1: "kNN", 2: "regressor"}


def _mean_metric(runs: list[Run], key: str) -> float | None:
    vals = [v for r in runs if (v := r.metric(key)) is not None]
    return sum(vals) / len(vals) if vals else None


def acted_cells(runs: list[Run]) -> list[str]:
    """What ACM, PDC, AWMT and MTS chose in these runs (the "did it act" columns; '–' where off or no runs)."""
    n = len(runs)
    out = []
    sources = sorted({int(v) for r in runs if (v := r.metric("acm/method")) is not None})
    if sources:
        changed = sum(1 for r in runs if (r.metric("acm/changed") or 0) > 0)
        t0, alpha = _mean_metric(runs, "hpmkd/T0"), _mean_metric(runs, "hpmkd/alpha")
        out.append(
            f"{'/'.join(ACM_SOURCES.get(s, '?') for s in sources)} · {changed}/{n} · {t0:.2f}/{alpha:.2f}"
        )
    else:
        out.append("–")
    steps = _mean_metric(runs, "hpmkd/chain_steps")
    if steps is not None:
        taught = sum(1 for r in runs if (r.metric("hpmkd/chain_best") or 0) > 0)
        out.append(f"{steps:.1f} · {taught}/{n}")
    else:
        out.append("–")
    weights = []
    for m in range(8):
        w = _mean_metric(runs, f"awmt/w{m}")
        if w is None:
            break
        weights.append(w)
    h = _mean_metric(runs, "awmt/entropy_norm")
    out.append(f"[{', '.join(f'{w:.2f}' for w in weights)}] · {h:.2f}" if weights and h is not None else "–")
    t = [_mean_metric(runs, f"mts/T_{k}") for k in ("first", "last", "min", "max")]
    out.append("–" if None in t else f"{t[0]:.2f}→{t[1]:.2f} [{t[2]:.2f}, {t[3]:.2f}]")
    return out


TIME_ROWS = {
    "kd": "KD job (its own SOM: teacher logits cached)",
    "hpmkd": "HPM-KD job, all six on (one SOM for the seeds: the chain trained once, then reused)",
    "cold": "cold: empty SOM (teacher inference, chain trained)",
    "warm": "warm: the same job again (teacher logits + chain models from SOM)",
    "no_ppp": "PPP off: teachers run on every batch (cold SOM)",
    "no_som": "SOM off: nothing cached or recorded",
    "sweep_n1": "5 HPM-KD jobs, basic launcher (sequential)",
    "sweep_n2": "5 HPM-KD jobs, joblib launcher n_jobs=2",
}


def time_table(log_dir: str | Path | RunSource) -> Table:
    runs = table_runs(log_dir, "hpmkd_time")
    groups = group_runs(runs, key=lambda r: r.get("paper.row"))
    table = Table(
        "hpmkd_time",
        "HPM-KD wall time: the Shared Optimization Memory's cache and the parallel sweep (PPP)",
        f"{PAPER}: abstract '30-40 % less training time via parallelization'; draft: SOM '40-60 % hit rates, "
        "30-40 % time reduction', PPP '4 workers, 3.2× speed-up', ablation 'Parallel +2.4 h'",
        ["Setting", "Wall s (mean ± std)", "vs cold / sequential", "SOM hits (mean)", "Paper claim"],
        trained_columns=("vs cold / sequential", "SOM hits (mean)"),
        rerun=COMMAND,
    )
    claims = {
        "kd": "–",
        "hpmkd": "≤ 1.5× a KD job (issue 18)",
        "cold": "–",
        "warm": "30-40 % less time (SOM)",
        "no_ppp": "+2.4 h without PPP (draft ablation)",
        "no_som": "–",
        "sweep_n1": "–",
        "sweep_n2": "30-40 % less (abstract); 3.2× with 4 workers (draft)",
    }

    def wall(rows: list[Run]) -> list[float]:
        out = []
        for r in rows:
            w = r.metric("time/sweep_s")
            w = r.metric("time/fit_s") if w is None else w
            if w is not None:
                out.append(w)
        return out

    base = {"hpmkd": "kd", "warm": "cold", "no_ppp": "cold", "no_som": "cold", "sweep_n2": "sweep_n1"}
    for row, name in TIME_ROWS.items():
        mine = groups.get(row, [])
        w = wall(mine)
        ref = wall(groups.get(base.get(row, ""), []))
        rel = f"{100 * (mean_std(w)[0] / mean_std(ref)[0] - 1):+.0f} %" if w and ref else "–"
        hits = [h for r in mine if (h := r.metric("som/hits")) is not None]
        table.rows.append(
            [
                name,
                _secs(w) if w else missing(COMMAND),
                rel,
                f"{mean_std(hits)[0]:.1f}" if hits else "–",
                claims[row],
            ]
        )
    cell = "Wall s (mean ± std)"
    claim = Claim(
        "An HPM-KD job takes ≤ 1.5× the wall time of a KD job at equal epochs (issue 18)",
        (((TIME_ROWS["kd"],), cell), ((TIME_ROWS["hpmkd"],), cell)),
        COMMAND,
    )
    fit = {row: per_seed(groups.get(row, []), "time/fit_s") for row in ("kd", "hpmkd")}
    table.verdicts.append(
        against(claim, ratio(fit["hpmkd"], fit["kd"]), 1.5, above=False, scale=1.0, unit="×")
    )

    claim = Claim(
        "A warm SOM run (the same job again) takes less wall time than its cold run (draft: 30-40 % less)",
        (((TIME_ROWS["cold"],), cell), ((TIME_ROWS["warm"],), cell)),
        COMMAND,
    )
    table.verdicts.append(
        paired(
            claim, *(per_seed(groups.get(r, []), "time/fit_s") for r in ("cold", "warm")), scale=1.0, unit="s"
        )
    )
    # one sweep per row: n counts sweeps, not the seeds inside them
    sweeps = {row: dict(enumerate(wall(groups.get(row, [])))) for row in ("sweep_n1", "sweep_n2")}
    claim = Claim(
        "Two parallel workers finish the 5-job sweep in less wall time than one (abstract: 30-40 % less)",
        (((TIME_ROWS["sweep_n1"],), cell), ((TIME_ROWS["sweep_n2"],), cell)),
        COMMAND,
    )
    table.verdicts.append(paired(claim, sweeps["sweep_n1"], sweeps["sweep_n2"], scale=1.0, unit="s"))
    table.notes += [
        f"Per-run rows: the headroom benchmark ({HEADROOM}), seeds 1-5, one job at a time, 40 epochs each, ACM's "
        "quick validation off (as in the main table). KD vs HPM-KD: each method with its own SOM folder shared by "
        "its seeds (HPM-KD's chain models are trained by the first seed and read from the SOM by the others; its "
        "probes are 10 epochs); ratio = HPM-KD / KD wall time per seed. Cold: each seed its own empty SOM "
        "folder; warm reruns the same job on the folder its cold run filled. Wall s = setup (teacher inference, "
        "ACM, chain) + training, from the run's metrics.",
        "Sweep rows: the wall time of a whole 5-job multirun (SOM off in both), written by the runner as "
        "time/sweep_s; PPP's parallelism is the launcher's (joblib, 2 workers). Meaningful only on an otherwise "
        "idle machine with ≥ 2 free cores.",
    ]
    return table

"""HPM-KD paper tables (Haase & da Silva, arXiv 2512.09886; values from hpmkd.md §4).

Every cell is trained: the runs of ``scripts/reproduce_hpmkd.sh`` (reduced scale, CPU) and of the full-scale
CIFAR configs (``conf/experiment/hpmkd/cifar*``, GPU) write ``metrics.json`` with ``paper.table`` set to
``hpmkd_main`` (teachers, baselines, HPM-KD and its ablation arms) or ``hpmkd_time`` (the cache / parallelism
runs). Beside ours: the draft's Table 2 (CIFAR-10 3.1×, CIFAR-100 10.4×; older than every experiment in the
authors' repository and backed by no result file, hpmkd.md §0) and the one CIFAR-10 run the authors actually
made (LeNet-5 teacher → smaller LeNet-5, ≈11.5×, where "HPM-KD" is Hinton KD with T = 4, α = 0.5; hpmkd.md §4.3).
"""

from __future__ import annotations

from pathlib import Path

from compresslab.tables.common import (
    Run,
    RunSource,
    Table,
    fmt_mean_std,
    group_runs,
    mean_std,
    missing,
    per_seed,
    table_runs,
)
from compresslab.tables.verdict import Claim, Verdict, against, paired, ratio

PAPER = "HPM-KD (Haase & da Silva, arXiv 2512.09886)"
COMMAND = "bash scripts/reproduce_hpmkd.sh"
METHODS = ("teacher", "direct", "kd", "kd_ensemble", "fitnets", "dml", "takd", "hpmkd")
METHOD_NAMES = {
    "teacher": "Teacher",
    "direct": "Direct",
    "kd": "KD (Hinton)",
    "kd_ensemble": "KD (ensemble of the 3 teachers)",
    "fitnets": "FitNets",
    "dml": "DML",
    "takd": "TAKD",
    "hpmkd": "HPM-KD",
}
COMPONENTS = ("acm", "pdc", "awmt", "mts", "ppp", "som")
COMPONENT_NAMES = {
    "acm": "AdaptConf (ACM)",
    "pdc": "ProgChain (PDC)",
    "awmt": "MultiTeach (AWMT)",
    "mts": "MetaTemp (MTS)",
    "ppp": "Parallel (PPP)",
    "som": "Memory (SOM)",
}

# draft Table 2: method -> (accuracy %, retention % or None); draft § "4.2", hpmkd.md §4.2
DRAFT_CIFAR10 = {
    "teacher": (93.52, None),
    "direct": (88.74, None),
    "kd": (91.37, 97.70),
    "fitnets": (91.68, None),
    "dml": (91.42, None),
    "takd": (91.85, 98.21),
    "hpmkd": (92.34, 98.74),
}
DRAFT_CIFAR100 = {
    "teacher": (73.84, None),
    "direct": (64.21, None),
    "kd": (68.92, 93.34),
    "fitnets": (69.47, None),
    "dml": (68.76, None),
    "takd": (69.85, 94.60),
    "hpmkd": (70.98, 96.13),
}
DRAFT_HOURS = {"cifar10": 4.7, "cifar100": 5.3}  # HPM-KD wall time, hours
# the run the authors made: CIFAR-10, LeNet-5 657k → 57k (≈11.5×), exp 1 (hpmkd.md §4.3): acc, retention, seconds
EXP1 = {
    "teacher": (79.28, None, None),
    "direct": (68.10, 85.89, 594),
    "kd": (67.12, 84.66, 578),
    "fitnets": (62.66, 79.04, None),
    "takd": (67.44, 85.07, 656),
    "hpmkd": (67.74, 85.44, 603),
}
#: the headroom benchmark (issue 18): experiment=hpmkd/headroom, rows ``digits_headroom/<method>``
HEADROOM = "digits headroom (tabular, 6-unit student)"
HEADROOM_ROW = "digits_headroom"
#: the precondition of a benchmark row: trained directly, the student stays this many pp below its teacher
GAP_PP = 5.0
GAP_METHOD = "precondition: teacher − direct (pp)"
#: a benchmark whose teachers are another dataset's teacher runs
TEACHERS_OF = {HEADROOM: "digits (tabular)"}
# draft ablation on CIFAR-10, Δ accuracy (pp) when the component is removed (hpmkd.md §4.2)
DRAFT_ABLATION = {"acm": -1.52, "pdc": -2.86, "awmt": -1.22, "mts": -0.78, "ppp": 0.0, "som": -0.13}
DRAFT_ABLATION_NOTE = {"ppp": "0 (+2.4 h)"}
#: the datasets of scripts/reproduce_hpmkd.sh (rows shown, missing, before any run exists)
REDUCED_DATASETS = (HEADROOM, "wine (tabular)", "breast_cancer (tabular)")
ABLATION_DATASET = HEADROOM
ACC = "Ours acc %"


# ----------------------------------------------------------------------------------------------- helpers
def dataset_of(run: Run) -> str:
    """A readable dataset name from the run's data config (the headroom benchmark by its ``paper.row``)."""
    if str(run.get("paper.row", "")).split("/", 1)[0] == HEADROOM_ROW:
        return HEADROOM
    ds = run.get("data.dataset", {}) or {}
    target = str(ds.get("_target_", ""))
    if target.endswith("SklearnTabular"):
        return f"{ds.get('name')} (tabular)"
    if target.endswith("Cifar"):
        return str(ds.get("variant", "cifar"))
    if target.endswith("Digits"):
        size = ds.get("image_size", "?")
        return f"digits {size}×{size} (image)"
    return target.rsplit(".", 1)[-1] or "?"


def method_of(run: Run) -> str:
    """``teacher`` for the teacher runs (``paper.row`` = ``<dataset>/teacher``), else ``model.method``."""
    if str(run.get("paper.row", "")).rsplit("/", 1)[-1] == "teacher":
        return "teacher"
    return str(run.get("model.method", "?"))


def off_components(run: Run) -> tuple[str, ...]:
    comps = run.get("model.components", {}) or {}
    return tuple(c for c in COMPONENTS if comps.get(c) is False)


def _acc(run: Run) -> float | None:
    return run.metric("test/acc")


def _params(run: Run) -> float | None:
    value = (run.summary.get("measure") or {}).get("params", {}).get("total")
    return float(value) if isinstance(value, int | float) else None


def _pct(values: list[float]) -> str:
    return fmt_mean_std(values) if values else "–"


def _secs(values: list[float]) -> str:
    if not values:
        return "–"
    mean, std = mean_std(values)
    return f"{mean:.1f} ± {std:.1f}"


def _scale_of(runs: list[Run]) -> str:
    return str(runs[0].get("paper.scale", "")) if runs else ""


def _teacher_acc(teachers: list[Run]) -> float | None:
    """Test accuracy of *the* teacher (seed 0: the single-teacher methods distil from it), else the mean."""
    seed0 = [a for r in teachers if r.get("seed") == 0 and (a := _acc(r)) is not None]
    if seed0:
        return seed0[0]
    accs = [a for r in teachers if (a := _acc(r)) is not None]
    return mean_std(accs)[0] if accs else None


def _paper_cells(dataset: str, method: str) -> tuple[str, str, str]:
    """(accuracy %, retention %, source) of the paper/draft row that corresponds to ours."""
    if dataset in ("cifar10", "cifar100"):
        table = DRAFT_CIFAR10 if dataset == "cifar10" else DRAFT_CIFAR100
        acc, ret = table[method]
        if ret is None and method != "teacher":
            ret_s = f"≈{100 * acc / table['teacher'][0]:.2f}"
        else:
            ret_s = f"{ret:.2f}" if ret is not None else "–"
        return f"{acc:.2f}", ret_s, f"draft Table 2 ({'3.1' if dataset == 'cifar10' else '10.4'}×)"
    row = EXP1.get(method)
    if row is None:
        return "–", "–", "exp 1 (no such arm)"
    acc, ret, _ = row
    return f"{acc:.2f}", f"{ret:.2f}" if ret is not None else "–", "exp 1 (CIFAR-10 LeNet 11.5×)"


# ------------------------------------------------------------------------------------------------ tables
def main_table(log_dir: str | Path | RunSource) -> Table:
    runs = table_runs(log_dir, "hpmkd_main")
    # the main rows: teachers, baselines, and HPM-KD with every component on (ablation arms go to hpmkd_ablation)
    runs = [r for r in runs if not (method_of(r) == "hpmkd" and off_components(r))]
    by_data = group_runs(runs, key=dataset_of)
    table = Table(
        "hpmkd_main",
        "HPM-KD main comparison: teacher, direct, KD, ensemble KD, FitNets, DML, TAKD, HPM-KD (test accuracy)",
        f"{PAPER}: arXiv abstract claims; draft Table 2; the authors' CIFAR-10 run (hpmkd.md §4)",
        [
            "Dataset",
            "Method",
            "Params (compression)",
            "Ours acc %",
            "Ours retention %",
            "Ours wall s",
            "Paper acc %",
            "Paper retention %",
            "Paper source",
        ],
        label_columns=2,
        rerun=COMMAND,
        run_note_prefixes=tuple(f"{d}: HPM-KD" for d in REDUCED_DATASETS),
    )
    order = sorted(
        by_data or REDUCED_DATASETS,
        key=lambda d: (d != HEADROOM, d.startswith("cifar"), d not in REDUCED_DATASETS, d),
    )
    for dataset in order:
        groups = group_runs(by_data.get(dataset, []), key=method_of)
        if set(groups) == {"teacher"}:
            continue  # teachers without students of their own (the headroom benchmark's, the image family's)
        teachers = groups.get("teacher", []) or [
            r for r in by_data.get(TEACHERS_OF.get(dataset, ""), []) if method_of(r) == "teacher"
        ]
        groups["teacher"] = teachers
        t_acc = _teacher_acc(teachers)
        t_params = next((p for r in teachers if (p := _params(r)) is not None), None)
        scale = _scale_of(by_data.get(dataset, [])) or "reduced"
        for method in METHODS:
            if method == "direct":
                table.rows.append(_gap_row(f"{dataset}, {scale}" if scale else dataset, teachers, groups))
            mine = groups.get(method, [])
            if not mine and method not in ("teacher", "direct", "kd", "kd_ensemble", "hpmkd"):
                continue  # the sanity rows run the core arms only
            accs = [a for r in mine if (a := _acc(r)) is not None]
            params = next((p for r in mine if (p := _params(r)) is not None), None)
            if params is None:
                p_cell = "–"
            elif method == "teacher" or t_params is None:
                p_cell = f"{params / 1e3:,.1f}k"
            else:
                p_cell = f"{params / 1e3:,.1f}k ({t_params / params:.1f}×)"
            if method == "teacher" or not accs or not t_acc:
                ret = "–"
            else:
                ret = fmt_mean_std([a / t_acc for a in accs])
            wall = [w for r in mine if (w := r.metric("time/fit_s")) is not None]
            cmd = (
                COMMAND
                if scale != "full"
                else f"compresslab-train -m experiment=hpmkd/{dataset} seed=1,2,3,4,5"
            )
            p_acc, p_ret, src = _paper_cells(dataset, method)
            table.rows.append(
                [
                    f"{dataset}, {scale}" if scale else dataset,
                    METHOD_NAMES[method],
                    p_cell,
                    _pct(accs) if accs else missing(cmd),
                    ret,
                    _secs(wall),
                    p_acc,
                    p_ret,
                    src,
                ]
            )
        table.verdicts += _main_claims(f"{dataset}, {scale}", groups, teachers, t_acc)
        hp = [a for r in groups.get("hpmkd", []) if (a := _acc(r)) is not None]
        direct = [a for r in groups.get("direct", []) if (a := _acc(r)) is not None]
        kd = [a for r in groups.get("kd", []) if (a := _acc(r)) is not None]
        if hp and direct and kd:
            table.notes.append(
                f"{dataset}: HPM-KD {100 * mean_std(hp)[0]:.2f} % vs direct {100 * mean_std(direct)[0]:.2f} % "
                f"({100 * (mean_std(hp)[0] - mean_std(direct)[0]):+.2f} pp) and KD {100 * mean_std(kd)[0]:.2f} % "
                f"({100 * (mean_std(hp)[0] - mean_std(kd)[0]):+.2f} pp)."
            )
    table.notes += [
        "Ours: mean ± std over seeds 1-5 of the test accuracy at the best validation epoch; teacher rows: the "
        "three teachers (seeds 0-2) that AWMT and the ensemble control mix; retention = student acc / acc of the "
        "seed-0 teacher (the single-teacher methods' teacher); compression = teacher params / student params; "
        "wall s = seconds from the module's setup to the end of training (teacher inference, ACM, chain and the "
        "student's epochs; parallel jobs share the machine's cores, see hpmkd_time for sequential timings).",
        f"Headroom benchmark ({HEADROOM}, experiment=hpmkd/headroom): scikit-learn digits as 64 features, the "
        "(256, 512, 256) MLP teachers (282k) → an MLP with one hidden layer of 6 units (460 parameters, 613×), "
        f"40 epochs. Its precondition row checks that the student trained directly is ≥ {GAP_PP:g} pp below its "
        "teacher (seed-0 teacher minus direct, per seed), so distillation has a gap to close. wine (a gap on a "
        "45-sample test set) and breast_cancer (saturated: no gap) are sanity rows: MLP (256, 512, 256) → "
        "(128, 128), 13-14×.",
        "Fair controls: every arm sees the same data, teachers, epochs and optimiser; no arm is tuned (T = 4, "
        "α = 0.7, Adam 1e-3 + cosine for all; HPM-KD's ACM picks from its SOM history only, model.acm.refine="
        "false). 'KD (ensemble of the 3 teachers)' distils from the equal-weight mean of the same teachers' "
        "softened outputs: the control for AWMT's attention.",
        "Full scale: CIFAR-10 ResNet-56 → ResNet-20, CIFAR-100 WRN-28-10 → MobileNetV2 "
        "(conf/experiment/hpmkd/cifar*.yaml, GPU).",
        "Paper columns: draft Table 2 for CIFAR (≈ = derived as acc / teacher acc; the draft reports HPM-KD at "
        f"{DRAFT_HOURS['cifar10']} h / {DRAFT_HOURS['cifar100']} h); for the reduced rows the authors' only CIFAR-10 "
        "run (exp 1: teacher 79.28 %; HPM-KD there is Hinton KD, T = 4, α = 0.5; 603 s vs 594 s direct), the source "
        "of the arXiv abstract's '10×-15× compression, 85 % retention'.",
    ]
    return table


def _gap_row(label: str, teachers: list[Run], groups: dict[str, list[Run]]) -> list[str]:
    """The precondition row: (teacher − direct) in pp per seed, mean ± std; and whether it passes ≥ GAP_PP."""
    gap = _gaps(teachers, groups)
    cell = fmt_mean_std(list(gap.values()), scale=1.0).replace(" (n=", " pp (n=") if gap else missing(COMMAND)
    return [label, GAP_METHOD, "–", cell, "–", "–", "–", "–", f"needs ≥ {GAP_PP:g} pp (issue 18)"]


def _gaps(teachers: list[Run], groups: dict[str, list[Run]]) -> dict[int, float]:
    """{seed: 100·(acc of the seed-0 teacher − acc of the directly trained student)}."""
    t_acc = _teacher_acc(teachers)
    if t_acc is None:
        return {}
    return {s: 100 * (t_acc - a) for s, a in per_seed(groups.get("direct", [])).items()}


def _main_claims(
    label: str, groups: dict[str, list[Run]], teachers: list[Run], teacher_acc: float | None
) -> list[Verdict]:
    """The headroom precondition; HPM-KD > KD > direct (draft Table 2); HPM-KD > the ensemble-KD control; the
    abstract's ≥ 85 % retention — on one dataset's rows."""
    acc = {m: per_seed(groups.get(m, [])) for m in ("direct", "kd", "kd_ensemble", "hpmkd")}

    def claim(text: str, *methods: str) -> Claim:
        return Claim(f"{label}: {text}", tuple(((label, METHOD_NAMES[m]), ACC) for m in methods), COMMAND)

    retention = {s: a / teacher_acc for s, a in acc["hpmkd"].items()} if teacher_acc else {}
    precondition = Claim(
        f"{label}: precondition — trained directly, the student is ≥ {GAP_PP:g} pp below its teacher (headroom)",
        (((label, GAP_METHOD), ACC),),
        COMMAND,
    )
    return [
        against(precondition, _gaps(teachers, groups), GAP_PP, scale=1.0, unit="pp"),
        paired(
            claim(
                "HPM-KD > KD from the equal-weight ensemble of the same teachers (fair control)",
                "hpmkd",
                "kd_ensemble",
            ),
            acc["hpmkd"],
            acc["kd_ensemble"],
        ),  # fmt: skip
        paired(
            claim("HPM-KD > KD (Hinton) (draft Table 2: 92.34 vs 91.37 on CIFAR-10)", "hpmkd", "kd"),
            acc["hpmkd"],
            acc["kd"],
        ),  # fmt: skip
        paired(
            claim("KD (Hinton) > direct training (draft Table 2: 91.37 vs 88.74)", "kd", "direct"),
            acc["kd"],
            acc["direct"],
        ),  # fmt: skip
        against(
            claim("HPM-KD keeps ≥ 85 % of the teacher's accuracy at 10-15× compression (abstract)", "hpmkd"),
            retention,
            85.0,
        ),  # fmt: skip
    ]


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


TABLES = {
    "hpmkd_main": (main_table, f"{PAPER}, main comparison (reduced + full scale)"),
    "hpmkd_ablation": (ablation_table, f"{PAPER}, one-component-off ablation"),
    "hpmkd_time": (time_table, f"{PAPER}, SOM cache and PPP parallelism wall time"),
}


def reference_main(row: str) -> dict[str, float] | None:
    """The paper's values for a ``hpmkd_main`` row ``<dataset>/<method>`` (W&B summary and metrics.json): draft
    Table 2 for CIFAR-10/100, the authors' CIFAR-10 run (exp 1) for the reduced-scale rows."""
    dataset, _, method = row.rpartition("/")
    if dataset in ("cifar10", "cifar100"):
        acc, ret = (DRAFT_CIFAR10 if dataset == "cifar10" else DRAFT_CIFAR100)[method]
        return {"acc": acc} | ({"retention": ret} if ret is not None else {})
    if method not in EXP1:
        return None
    acc, ret, secs = EXP1[method]
    out = {"acc": acc}
    if ret is not None:
        out["retention"] = ret
    if secs is not None:
        out["time_s"] = float(secs)
    return out


REFERENCES = {"hpmkd_main": reference_main}

"""HPM-KD paper tables (Haase & da Silva, arXiv 2512.09886; values from hpmkd.md §4).

Every cell is trained: the runs of ``scripts/reproduce_hpmkd.sh`` (reduced scale, CPU) and of the full-scale
CIFAR configs (``conf/experiment/hpmkd/cifar*``, GPU) write ``metrics.json`` with ``paper.table`` set to
``hpmkd_main`` (teachers, baselines, HPM-KD and its ablation arms) or ``hpmkd_time`` (the cache / parallelism
runs). Beside ours: the draft's Table 2 (CIFAR-10 3.1×, CIFAR-100 10.4×; older than every experiment in the
authors' repository and backed by no result file, hpmkd.md §0) and the one CIFAR-10 run the authors actually
made (LeNet-5 teacher → smaller LeNet-5, ≈11.5×, where "HPM-KD" is Hinton KD with T = 4, α = 0.5; hpmkd.md §4.3).

This module builds the main comparison and is the registry (``TABLES``); it re-exports every public name of
:mod:`.hpmkd_runs` (how a run is read) and :mod:`.hpmkd_components` (the ablation and wall-time tables). The paper's
values that runs look up (draft Table 2, exp 1) are in :mod:`compresslab.paper_values`.
"""

from __future__ import annotations

from pathlib import Path

from compresslab.paper_values import DRAFT_CIFAR10, DRAFT_CIFAR100, EXP1
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
from compresslab.tables.hpmkd_components import (
    ABLATION_DATASET,
    ACM_SOURCES,
    ACTED,
    DRAFT_ABLATION,
    DRAFT_ABLATION_NOTE,
    TIME_ROWS,
    ablation_table,
    acted_cells,
    time_table,
)
from compresslab.tables.hpmkd_runs import (
    ACC,
    COMMAND,
    COMPONENT_NAMES,
    COMPONENTS,
    HEADROOM,
    HEADROOM_ROW,
    PAPER,
    _acc,
    _pct,
    _secs,
    dataset_of,
    method_of,
    off_components,
)
from compresslab.tables.verdict import Claim, Verdict, against, paired

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
DRAFT_HOURS = {"cifar10": 4.7, "cifar100": 5.3}  # HPM-KD wall time, hours
#: the precondition of a benchmark row: trained directly, the student stays this many pp below its teacher
GAP_PP = 5.0
GAP_METHOD = "precondition: teacher − direct (pp)"
#: a benchmark whose teachers are another dataset's teacher runs
TEACHERS_OF = {HEADROOM: "digits (tabular)"}
#: the datasets of scripts/reproduce_hpmkd.sh (rows shown, missing, before any run exists)
REDUCED_DATASETS = (HEADROOM, "wine (tabular)", "breast_cancer (tabular)")


# ----------------------------------------------------------------------------------------------- helpers
def _params(run: Run) -> float | None:
    value = (run.summary.get("measure") or {}).get("params", {}).get("total")
    return float(value) if isinstance(value, int | float) else None


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


TABLES = {
    "hpmkd_main": (main_table, f"{PAPER}, main comparison (reduced + full scale)"),
    "hpmkd_ablation": (ablation_table, f"{PAPER}, one-component-off ablation"),
    "hpmkd_time": (time_table, f"{PAPER}, SOM cache and PPP parallelism wall time"),
}

__all__ = [
    "ABLATION_DATASET",
    "ACC",
    "ACM_SOURCES",
    "ACTED",
    "COMMAND",
    "COMPONENTS",
    "COMPONENT_NAMES",
    "DRAFT_ABLATION",
    "DRAFT_ABLATION_NOTE",
    "DRAFT_HOURS",
    "GAP_METHOD",
    "GAP_PP",
    "HEADROOM",
    "HEADROOM_ROW",
    "METHODS",
    "METHOD_NAMES",
    "PAPER",
    "REDUCED_DATASETS",
    "TABLES",
    "TEACHERS_OF",
    "TIME_ROWS",
    "ablation_table",
    "acted_cells",
    "dataset_of",
    "main_table",
    "method_of",
    "off_components",
    "time_table",
]

"""How the HPM-KD tables read a run (Haase & da Silva, arXiv 2512.09886): its dataset, method and the components
it switched off (``model.components``), its metrics, and the cell formats the three tables share. The tables are
built in :mod:`.hpmkd` (main comparison) and :mod:`.hpmkd_components` (ablation, wall time).
"""

from __future__ import annotations

from compresslab.tables.common import Run, fmt_mean_std, mean_std

PAPER = "HPM-KD (Haase & da Silva, arXiv 2512.09886)"
COMMAND = "bash scripts/reproduce_hpmkd.sh"
COMPONENTS = ("acm", "pdc", "awmt", "mts", "ppp", "som")
COMPONENT_NAMES = {
    "acm": "AdaptConf (ACM)",
    "pdc": "ProgChain (PDC)",
    "awmt": "MultiTeach (AWMT)",
    "mts": "MetaTemp (MTS)",
    "ppp": "Parallel (PPP)",
    "som": "Memory (SOM)",
}
#: the headroom benchmark (issue 18): experiment=hpmkd/headroom, rows ``digits_headroom/<method>``
HEADROOM = "digits headroom (tabular, 6-unit student)"
HEADROOM_ROW = "digits_headroom"
ACC = "Ours acc %"


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


def _pct(values: list[float]) -> str:
    return fmt_mean_std(values) if values else "–"


def _secs(values: list[float]) -> str:
    if not values:
        return "–"
    mean, std = mean_std(values)
    return f"{mean:.1f} ± {std:.1f}"

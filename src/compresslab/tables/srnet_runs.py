"""How the SRNet tables read a run (Liu et al., NeurIPS 2022): its task (``data.dataset``) and how the task is
scored, its row ``<method>/<loss>/<sparsity>`` (``paper.row``), the command that reruns a cell, and the reduced
scale's description. The tables are built in :mod:`.srnet` (Figs. 2-6, Table 5) and :mod:`.srnet_task_check`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from compresslab.tables.common import (
    Run,
    fmt_mean_std,
    group_runs,
    mean_std,
    metric_values,
    missing,
    table_runs,
)

PAPER = "SRNet (Liu et al., NeurIPS 2022)"
REDUCED_COMMAND = "bash scripts/reproduce_srnet.sh"
SPARSITIES = (0.2, 0.5, 0.7, 0.9)
LOSS_NAMES = {"ce": "std", "std": "std", "poe": "poe", "reweight": "reweight", "conf_reg": "conf-reg"}
REDUCED_DATA = (
    "Reduced scale (ours): MNLI/QQP/FEVER and BERT-base are not available offline. Task = the embedded synthetic "
    "NLI set (conf/data/nlu/synthetic_nli.yaml, compresslab.data.nlu.synthetic): premise 'the N1 who INT' OP' it OP "
    "that the N2 INT V the N3', hypothesis = the embedded clause; factive OP + positive INT → entailment, factive + "
    "negative INT → contradiction, non-factive OP → neutral, with a distractor clause of the other operator class "
    "and polarity in every premise. 1,000 training pairs in which high word overlap (the clause's own words, vs "
    "synonyms) goes with entailment for 97 % of each label, ID dev/test with the same bias, a 600-pair HANS-like OOD "
    "test (every pair high overlap; half entailment, half neutral with a positive interrupter, so only the operator "
    "class separates them; scored 3→2 as HANS) and a 300-pair anti-aligned test "
    "(entailment at low overlap, the others at high); model = the packaged pre-trained MiniLM (6 × 384, BERT "
    "architecture); test accuracy %, mean ± std over seeds. Whether the task can show the claim: srnet_task_check."
)


@dataclass(frozen=True)
class Task:
    """How a task is scored in the tables: (column label, metric key) for the ID and OOD columns."""

    name: str
    scale: str
    id_metrics: tuple[tuple[str, str], ...]
    ood_metrics: tuple[tuple[str, str], ...]
    command: str  # the experiment prefix that produces its runs


TASKS: dict[str, Task] = {
    "SyntheticNLI": Task(
        "synthetic NLI",
        "reduced",
        (("ID acc", "test/acc"),),
        (("HANS-like acc", "test_hans_like/acc"), ("anti-aligned acc", "test_anti_aligned/acc")),
        "srnet/reduced",
    ),
    "MNLI": Task(
        "MNLI", "full", (("MNLI acc", "test/acc"),), (("HANS acc", "test_hans/acc"),), "srnet/full/mnli"
    ),
    "QQP": Task(
        "QQP",
        "full",
        (("QQP F1", "test/f1"),),
        (("PAWS-qqp F1w", "test_paws_qqp/f1_weighted"), ("PAWS-wiki F1w", "test_paws_wiki/f1_weighted")),
        "srnet/full/qqp",
    ),
    "FEVER": Task(
        "FEVER",
        "full",
        (("FEVER acc", "test/acc"),),
        (("Symm1 acc", "test_symm1/acc"), ("Symm2 acc", "test_symm2/acc")),
        "srnet/full/fever",
    ),
}


def task_of(run: Run) -> str | None:
    target = str(run.get("data.dataset._target_", ""))
    name = target.rsplit(".", 1)[-1]
    return name if name in TASKS else None


def row_key(run: Run) -> tuple[str, str, float] | None:
    """(method, loss, sparsity) from ``paper.row`` = ``<method>/<loss>/<sparsity>``."""
    parts = str(run.get("paper.row", "")).split("/")
    if len(parts) != 3:
        return None
    method, loss, s = parts
    try:
        sparsity = round(float(s), 4)
    except ValueError:
        return None
    return method, LOSS_NAMES.get(loss, loss), sparsity


def _cell(runs: list[Run], key: str, command: str) -> str:
    vals = metric_values(runs, key)
    return fmt_mean_std(vals) if vals else missing(command)


def _mean(runs: list[Run], key: str) -> float:
    return mean_std(metric_values(runs, key))[0] if runs else math.nan


def _command(task: Task, method: str, loss: str, sparsity: float) -> str:
    if task.scale == "reduced":
        exp = {"full": "reduced_finetune"}.get(method, f"reduced_{method}")
    else:
        exp = f"full/{task.command.rsplit('/', 1)[-1]}_{'finetune' if method == 'full' else method}"
    loss_arg = "ce" if loss == "std" else loss.replace("-", "_")
    extra = "" if method == "full" else f" model.sparsity={sparsity}"
    if method == "retrain":
        extra = f" model.mask_sparsity={sparsity}"
    return f"compresslab-train -m experiment=srnet/{exp} model.loss={loss_arg}{extra} seed=1,2,3"


def _tasks_with_runs(groups: dict, always: str = "SyntheticNLI") -> list[str]:
    present = {k[0] for k in groups}
    return [t for t in TASKS if t == always or t in present]


METHOD_LABEL = {
    "full": "full model",
    "mask": "mask train",
    "imp": "IMP",
    "imp_rw": "IMP-rw",
    "retrain": "subnet + ft",
    "mask_pt": "mask train on PLM",
    "ood": "mask train + OOD data",
}


def _grouped(tables: str | tuple[str, ...], log_dir: str | Path) -> dict[tuple, list[Run]]:
    names = (tables,) if isinstance(tables, str) else tables
    runs = [r for t in names for r in table_runs(log_dir, t) if task_of(r) and row_key(r)]
    return group_runs(runs, key=lambda r: (task_of(r), *row_key(r)))  # type: ignore[misc]

"""Every ``experiment=`` config and every ``scripts/reproduce_*.sh`` runs (issue 7).

One slow test, in three steps that share one log dir:

1. every reproduce script with ``--smoke --jobs 2`` (``SMOKE_LOG_DIR``): each stage once, two steps per run, then
   the paper's tables built from them. A smoke forks its runs from one process that imported torch once
   (``--launcher fork``, the smoke's default), two at a time (one intra-op thread each). Besides checking the
   scripts, this leaves every run that a reduced-scale experiment builds on (teachers, ICT phases, fine-tuned PLMs,
   masks, bias files, RNNPool base networks). The smoke runs are real runs (2 optimizer steps, no
   ``limit_*_batches``) written into ``<logs>/debug``: where the debug runs of steps 2 and 3
   (``limit_*_batches``, ``fast_dev_run``) look their predecessors up
   (:func:`compresslab.utils.run_dir.redirected_log_dir`);
2. the full-scale experiments' own predecessors, one short real epoch each (a fast-dev-run writes no checkpoint):
   HPM-KD's CIFAR teachers, the ImageNet learngene ICT phases, SRNet's fine-tuned and mask runs per task;
3. ``compresslab-train -m experiment=<every experiment file not run in step 1> +trainer.fast_dev_run=true`` on
   real-format fixture data, the underscore-prefixed partials excluded (the list comes from ``conf/experiment/**``:
   Hydra's ``glob(*)`` sees one folder level, and the experiments live in per-paper folders). The full-scale
   learngene ViTs run as one more multirun with a CPU-sized width (a DeiT-B step with a RegNetY-16GF teacher is
   minutes on 2 cores); all the others run as written, with ``trainer=cpu``, a batch of 2 and a 2-layer BERT
   with MiniLM's tokenizer standing in for ``bert-base-uncased`` (the SRNet smoke of step 1 uses one too).

An experiment file that a smoke already ran to its ``metrics.json`` (a real two-step run: every reduced-scale
experiment of a plan) is not run again in step 3. The test then checks that every experiment file ran: in a smoke,
or exactly once in step 3 (never both), each writing its ``metrics.json``.
"""

from __future__ import annotations

import fnmatch
import os
import resource
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from compresslab.tables import cross as cross_tables
from compresslab.utils.hydra_app import PROJECT_ROOT
from compresslab.utils.run_dir import redirected_log_dir
from tests.helpers.cli import QUIET_CLI, run_cli
from tests.helpers.fixtures import write_cifar10_binary, write_cifar100_binary, write_imagenet10
from tests.helpers.nlu import write_fever, write_hans, write_mnli, write_paws, write_qqp, write_symm

EXPERIMENTS = PROJECT_ROOT / "conf" / "experiment"
SCRIPTS = sorted((PROJECT_ROOT / "scripts").glob("reproduce_*.sh"))

#: the learngene full-scale ViTs at a CPU width (12 blocks kept); their RegNetY-16GF teacher without weights
#: (learngene/finetune takes its shape from the phase-5 run, so it is CPU-sized through step 2)
LEARNGENE_FULL = ["learngene/imagenet_*"]
SMALL_VIT = ["++model.net.embed_dim=32", "++model.net.num_heads=2", "++model.teacher.pretrained=false"]
TINY_EPOCH = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=1",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
    "trainer.val_check_interval=1.0",
    "trainer.check_val_every_n_epoch=1",
]


def experiment_names() -> list[str]:
    """Every runnable experiment config: ``conf/experiment/**/*.yaml`` without the ``_partial`` files."""
    paths = (p.relative_to(EXPERIMENTS).with_suffix("") for p in EXPERIMENTS.rglob("*.yaml"))
    return sorted(str(p) for p in paths if not p.name.startswith("_"))


def write_fixture_data(root: Path) -> Path:
    """Every on-disk dataset the full-scale configs read, in its real format (tiny), under one data dir."""
    write_cifar10_binary(root)
    write_cifar100_binary(root)
    write_imagenet10(root)
    wnids = tuple(f"n{i:08d}" for i in range(1000))  # ImageNet-1K: the reader wants the 1,000 train/ folders
    imagenet = write_imagenet10(root / "in1k", per_class=1, wnids=wnids, extra_wnid=None)
    imagenet.rename(root / "imagenet")
    write_hans(write_mnli(root / "MNLI") / "hans")
    qqp = write_qqp(root / "QQP")
    write_paws(qqp / "paws_qqp", "qqp")
    write_paws(qqp / "paws_wiki", "wiki")
    fever = write_fever(root / "fever")
    write_symm(fever / "sym1", 1)
    write_symm(fever / "sym2", 2)
    write_tiny_bert(root / "bert-base-uncased")  # a BERT checkpoint dir in the place the configs name
    return root


def write_tiny_bert(path: Path) -> Path:
    """A 2-layer BERT encoder checkpoint with MiniLM's tokenizer and the full-scale configs' 128 positions: the
    stand-in for ``bert-base-uncased`` here and in SRNet's smoke (the packaged MiniLM itself trains in
    tests/test_precision.py, in bf16, and evaluates in the eval-only and measure tests)."""
    from tests.helpers.srnet import save_tiny_bert

    return save_tiny_bert(path, max_positions=128, encoder_only=True)


def child_cpu_s() -> float:
    """CPU seconds (user + system) of this process's finished child processes so far (their children included)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def multirun(*overrides: str, common: list[str]) -> None:
    run_cli("train", "--multirun", *overrides, *common, timeout=1800)


def common_overrides(logs: Path, data: Path) -> list[str]:
    return [
        *QUIET_CLI,
        "callbacks.model_summary=null",
        f"paths.log_dir={logs}",
        f"paths.data_dir={data}",
        "trainer=cpu",
        "data.batch_size=2",
        "data.num_workers=0",
    ]


def run_smokes(logs: Path, tiny_bert: Path) -> dict[str, str]:
    """Step 1: every reproduce script's ``--smoke``, all into ``logs``; their standard outputs by script. SRNet's
    smoke runs on the fixture data's 2-layer BERT (its 18 runs check the plan and the tables; see
    :func:`write_tiny_bert` for where MiniLM itself runs)."""
    env = {**os.environ, "SMOKE_LOG_DIR": str(logs), "OMP_NUM_THREADS": "1"}
    extra = {"reproduce_srnet": [f"model.net.pretrained={tiny_bert}"]}
    out = {}
    for script in SCRIPTS:
        start, cpu = time.monotonic(), child_cpu_s()
        proc = subprocess.run(
            ["bash", str(script), "--smoke", "--jobs", "2", *extra.get(script.stem, [])],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            env=env,
            timeout=1800,
        )
        assert proc.returncode == 0, f"{script.name} --smoke:\n{proc.stdout[-3000:]}\n{proc.stderr[-4000:]}"
        out[script.stem.removeprefix("reproduce_")] = proc.stdout
        print(f"{script.name} --smoke: {time.monotonic() - start:.0f} s, CPU {child_cpu_s() - cpu:.0f} s")
    return out


def check_smoke_outputs(stdout: dict[str, str], logs: Path) -> None:
    """What each smoke must have produced beyond exit code 0."""
    assert set(stdout) == {"cross", "hpmkd", "learngene", "rnnpool_table2", "srnet"}
    assert "sweep_n2:" in stdout["hpmkd"]  # the PPP timing sweep ran with two workers
    for paper, out in stdout.items():  # every paper's tables were built from its smoke runs
        assert f"smoke: {paper} tables build" in out, out[-2000:]
    # each cross experiment wrote its table cell (one seed)
    cells = {(r[0], r[2]): r[-1] for r in cross_tables.cross_table(logs).rows}
    for key in [
        ("rnnpool_hpmkd", "HPM-KD (PDC off) from the base, Adam, 30 ep"),
        ("rnnpool_hpmkd", "Hinton KD from the base, Adam, 30 ep"),
        ("learngene_pdc", "HPM-KD, learngene chain 6→4→3→2, 8 ep"),
        ("learngene_pdc", "Hinton KD from L=6, 8 ep"),
        ("learngene_srnet", "CE mask training (scores + head), 8 ep"),
    ]:
        assert cells[key].endswith("(n=1)"), (key, cells[key])
    # ... and the ICT chain its four phases
    assert all(
        (logs / f"learngene_reduced/ict_chebyshev/seed1/phase{n}/metrics.json").is_file() for n in range(1, 5)
    )


def run_full_scale_predecessors(common: list[str]) -> None:
    """Step 2: the runs full-scale experiments load, one short real epoch each, seed 1 as the smokes (the HPM-KD
    teachers' seeds 1 and 2 are the seed-0 run, to keep this short)."""
    # debug runs (TINY_EPOCH limits batches) write and look up under the redirected log dir
    logs = Path(
        redirected_log_dir(next(o.split("=", 1)[1] for o in common if o.startswith("paths.log_dir=")))
    )
    multirun("experiment=hpmkd/cifar10_teacher,hpmkd/cifar100_teacher", "seed=0", *TINY_EPOCH, common=common)
    teachers = logs / "hpmkd" / "teachers"
    for name in ("cifar10", "cifar100"):
        for seed in (1, 2):
            os.symlink(teachers / name / "seed0", teachers / name / f"seed{seed}")
    phases = ",".join(
        f"learngene/imagenet_ict_phase{n}" for n in range(1, 6)
    )  # in order: each loads the last
    multirun(f"experiment={phases}", "seed=1", *SMALL_VIT, *TINY_EPOCH, common=common)
    for stage, args in (
        ("finetune", ["++model.loss=ce"]),
        ("mask", ["++model.loss=poe", "++model.sparsity=0.5"]),
    ):
        tasks = ",".join(f"srnet/full/{task}_{stage}" for task in ("mnli", "qqp", "fever"))
        multirun(f"experiment={tasks}", "seed=1", *args, *TINY_EPOCH, common=common)


def smoke_experiments(logs: Path) -> set[str]:
    """The experiment files that the smokes ran to a ``metrics.json`` (from each run's ``.hydra/overrides.yaml``)."""
    ran = set()
    for overrides in logs.glob("**/.hydra/overrides.yaml"):
        if (overrides.parent.parent / "metrics.json").is_file():
            ran.update(
                o.split("=", 1)[1]
                for o in yaml.safe_load(overrides.read_text())
                if o.startswith("experiment=")
            )
    return ran


def fast_dev_run_every_experiment(common: list[str], out: Path, skip: set[str]) -> dict[str, int]:
    """Step 3: every experiment but ``skip`` (those the smokes ran) under ``+trainer.fast_dev_run=true``; how
    often each experiment ran."""
    # seed 1: the seed the smokes ran, which seed-keyed predecessor paths (…/seed${seed}/…) name
    fdr = [*common, "seed=1", "+trainer.fast_dev_run=true", "hydra.sweep.subdir=${hydra.job.num}"]
    names = [n for n in experiment_names() if n not in skip]
    full_vit = [n for n in names if any(fnmatch.fnmatch(n, p) for p in LEARNGENE_FULL)]
    others = [n for n in names if n not in full_vit]
    ran: dict[str, int] = {}
    for names, extra, sweep in ((others, [], out / "fdr"), (full_vit, SMALL_VIT, out / "fdr_vit")):
        if not names:
            continue
        multirun(f"experiment={','.join(names)}", *extra, f"hydra.sweep.dir={sweep}", common=fdr)
        for job in sorted(sweep.iterdir()):
            if not (job / ".hydra").is_dir():
                continue
            overrides = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
            name = next(o.split("=", 1)[1] for o in overrides if o.startswith("experiment="))
            assert (job / "metrics.json").is_file(), f"experiment={name} ({job}) wrote no metrics.json"
            ran[name] = ran.get(name, 0) + 1
    return ran


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_every_experiment_and_reproduce_script_runs(tmp_path: Path):
    clock, cpu = time.monotonic(), child_cpu_s()

    def lap(step: str) -> None:  # shown with -s, or in the report of a failure
        nonlocal clock, cpu
        print(f"{step}: {time.monotonic() - clock:.0f} s, CPU {child_cpu_s() - cpu:.0f} s")
        clock, cpu = time.monotonic(), child_cpu_s()

    logs, data = tmp_path / "logs", write_fixture_data(tmp_path / "data")
    smoke_logs = Path(redirected_log_dir(logs))
    check_smoke_outputs(run_smokes(smoke_logs, data / "bert-base-uncased"), smoke_logs)
    smoked = smoke_experiments(smoke_logs)  # before step 2, which writes its (debug) runs there too
    assert smoked, "the smokes ran no experiment file"
    lap("step 1 (smokes)")
    common = common_overrides(logs, data)
    run_full_scale_predecessors(common)
    lap("step 2 (full-scale predecessors)")
    ran = fast_dev_run_every_experiment(common, tmp_path, skip=smoked)
    assert ran == dict.fromkeys(sorted(set(experiment_names()) - smoked), 1)
    assert smoked <= set(experiment_names()), sorted(smoked - set(experiment_names()))
    lap("step 3 (fast_dev_run of every experiment)")

"""Learngene tables on fake run directories with real-looking numbers (5 seeds): every plan stage's runs land in
their cells, the claims get their verdicts, records keep per-seed values, eval-only sub-model runs count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compresslab.tables import TABLES
from compresslab.tables import learngene as lg
from compresslab.tables.cli import main as table_main
from compresslab.tables.verdict import Claim

SEEDS = (1, 2, 3, 4, 5)
#: per-seed offsets (fractions): spread ~1.6 pp, shared by the arms of a seed (what pairing removes)
JITTER = {1: -0.02, 2: -0.01, 3: 0.0, 4: 0.01, 5: 0.02}


def fake_run(
    root: Path, name: str, table: str, row: str, seed: int, acc: float, net: dict, **cfg: object
) -> Path:
    """A finished run as ``train.py`` writes it: ``metrics.json`` with the final metrics and the resolved config."""
    run = root / name / f"seed{seed}"
    run.mkdir(parents=True)
    config = {
        "seed": seed,
        "task_name": name,
        "paper": {"name": "learngene", "table": table, "row": row, "scale": "reduced"},
        "model": {"net": net},
        "trainer": {"max_epochs": 8},
        **cfg,
    }
    (run / "metrics.json").write_text(json.dumps({"metrics": {"test/acc": acc}, "config": config}))
    return run


def write_plan_runs(logs: Path) -> None:
    """The runs of src/compresslab/reproduce/papers/learngene.yaml's stages (5 seeds), as their configs tag them."""
    for s in SEEDS:
        j = JITTER[s]
        for k, acc in ((1, 0.70), (2, 0.78), (4, 0.84), (6, 0.88)):  # ICT chain: rises with k
            fake_run(logs, f"ict/phase{k}", "learngene_ict", f"ict/chebyshev/{k}", s, acc + j, {"active": k})
        for k, acc in ((2, 0.77), (4, 0.80), (6, 0.81)):  # frozen shared: rises, ends below SCT
            net = {"active": k, "freeze_shared_after_phase1": True}
            fake_run(
                logs,
                f"icf/phase{k}",
                "learngene_ict_frozen_shared",
                f"ict_frozen_shared/chebyshev/{k}",
                s,
                acc + j,
                net,
            )
        for basis, acc in (("chebyshev", 0.85), ("taylor", 0.80), ("fourier", 0.845), ("legendre", 0.84)):
            net = {"basis": basis, "index": "shifted", "active": 6}
            fake_run(
                logs,
                f"sct_{basis}",
                "learngene_bases",
                f"sct/{basis}/shifted",
                s,
                acc + j * (basis != "fourier"),
                net,
            )
        text = {"basis": "chebyshev", "index": "text", "active": 6}  # stage sct_text_index
        fake_run(logs, "sct_text", "learngene_bases", "sct/chebyshev/text", s, 0.83 + j, text)
        for d in lg.HEATMAP_DEPTHS:
            for k in lg.HEATMAP_KS:
                free = 0.6 + 0.05 * d + 0.01 * k
                for mode, acc in (("free", free), ("const", free - 0.005 + 0.002 * (s % 2))):
                    net = {"init": "learngene", "mode": mode, "depth": d, "k": k}
                    fake_run(
                        logs,
                        f"ft_{mode}_L{d}k{k}",
                        "learngene_heatmap",
                        f"learngene/{mode}/L{d}/k{k}",
                        s,
                        acc + j,
                        net,
                    )
                sub = {
                    "init": "learngene",
                    "mode": "free",
                    "depth": d,
                    "k": k,
                    "run_dir": "/x/ict_chebyshev/seed1/phase4",
                }
                fake_run(
                    logs,
                    f"sub_L{d}k{k}",
                    "learngene_subnets",
                    f"nofinetune/L{d}/k{k}",
                    s,
                    0.3 + 0.1 * d + j,
                    sub,
                    train=False,
                )
            rnd = {"init": "random", "mode": "free", "depth": d, "k": 6}
            fake_run(logs, f"rnd_L{d}", "learngene_heatmap", f"random/free/L{d}/k6", s, 0.55 + j, rnd)
            fake_run(logs, f"pre_L{d}", "learngene_init", f"prefin_pretrain/L{d}", s, 0.9 + j, {"depth": d})
            fake_run(logs, f"pft_L{d}", "learngene_init", f"prefin/free/L{d}", s, 0.7 + j, {"depth": d})


def _verdicts(table) -> dict[str, str]:  # noqa: ANN001
    return {v.claim.text: v.label for v in table.verdicts}


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("logs")
    write_plan_runs(root)
    return root


def test_new_tables_are_registered():
    assert {"learngene_subnets", "learngene_const"} <= set(TABLES)


def test_ict_table_shows_both_shared_parameter_arms_with_verdicts(logs):
    table = lg.ict_table(logs)
    rows = {r[0]: r for r in table.rows}
    assert rows["ICT 2 / 2"][2:] == ["77.0 ± 1.6 (n=5)", "78.0 ± 1.6 (n=5)"]  # frozen arm, default arm
    assert rows["ICT 1 / 1"][2] == rows["ICT 1 / 1"][3] == "70.0 ± 1.6 (n=5)"  # phase 1 is shared
    assert rows["SCT 6 / 12 (all at once)"][2:] == ["–", "85.0 ± 1.6 (n=5)"]
    v = _verdicts(table)
    assert v["ICT accuracy rises with the number of learngenes: 2 > 1 (paper: 2 > 1)"] == "holds"
    assert (
        v[
            "ICT accuracy rises with the number of learngenes, shared parameters frozen after phase 1: 6 > 4 (paper: 12 > 4)"
        ]
        == "holds"
    )
    default_vs_sct, frozen_vs_sct = (x for t, x in v.items() if "≥ SCT" in t)
    assert (default_vs_sct, frozen_vs_sct) == ("holds", "contradicts")  # 88 vs 85; 81 vs 85


def test_bases_table_note_gives_the_codes_fourier_order_and_verdicts(logs):
    table = lg.bases_table(logs)
    note = next(n for n in table.notes if n.startswith("SCT:"))
    assert "Fourier = 1, cos 2πx, sin 2πx, cos 4πx, sin 4πx" in note and "1, sin" not in note
    labels = [v.label for v in table.verdicts]
    # chebyshev vs taylor: +5 pp every seed; vs fourier: +0.5 pp ± jitter (not paired away): straddles; vs legendre +1
    assert labels == ["holds", "holds", "inconclusive (n=5)", "holds"]  # the std precondition first


def test_init_table_has_pre_fin_between_learngene_and_random(logs):
    table = lg.init_table(logs)
    cell = dict(zip(table.header, table.rows[1], strict=True))  # L=4
    assert cell["Depth"] == "L=4"
    assert cell[lg.INIT_LG] == "86.0 ± 1.6 (n=5)" and cell[lg.INIT_PREFIN] == "70.0 ± 1.6 (n=5)"
    assert cell[lg.INIT_RANDOM] == "55.0 ± 1.6 (n=5)" and cell[lg.PREFIN_PRETRAIN] == "90.0 ± 1.6 (n=5)"
    assert cell["Δ pp"] == "31.0 ± 0.0 (n=5)" and cell[lg.DELTA_LG_PREFIN] == "16.0 ± 0.0 (n=5)"
    assert cell[lg.DELTA_PREFIN_RANDOM] == "15.0 ± 0.0 (n=5)"
    assert table.cell_counts() == {"exact": 0, "trained": 21, "missing": 0, "paper": 0}
    # the std precondition, a headroom precondition per depth (random init ≤ 90 %: here 55 %), then 3 claims per depth
    assert {v.label for v in table.verdicts} == {"holds"} and len(table.verdicts) == 1 + 3 + 9
    headroom = [v for v in table.verdicts if v.claim.text.startswith("Precondition (headroom)")]
    assert [v.claim.text[-5:] for v in headroom] == ["(L=2)", "(L=4)", "(L=6)"]
    assert headroom[1].mean == pytest.approx(55.0)
    texts = [v.claim.text for v in table.verdicts]
    assert "Learngene initialisation > random initialisation at an equal fine-tuning budget (L=4)" in texts
    assert any(t.startswith("Learngene initialisation > Pre-Fin") for t in texts)
    assert "Pre-Fin > random initialisation at an equal fine-tuning budget (L=6)" in texts


def test_const_table_pairs_w_and_wo_const_per_cell_and_tests_equivalence(logs):
    table = lg.const_table(logs)
    assert len(table.rows) == len(lg.HEATMAP_DEPTHS) * len(lg.HEATMAP_KS)
    row = next(r for r in table.rows if r[:2] == ["L=4", "k=2"])
    assert row[2] == "82.0 ± 1.6 (n=5)"  # w/o const: 0.6 + 0.2 + 0.02
    assert row[4] == "-0.4 ± 0.1 (n=5)"  # w/ − w/o: −0.5 pp, +0.2 on odd seeds
    free, const = lg.trainable_params(4, 2)
    assert row[5] == f"{free / 1e3:.1f} / {const / 1e3:.1f}" and const < free
    assert lg.trainable_params(2, 2)[0] == lg.trainable_params(2, 2)[1]  # k = L: the same count
    assert [v.label for v in table.verdicts] == ["holds"] * 5  # std ≤ 3 pp; −0.38 pp, tight: inside ±2 pp
    assert table.verdicts[0].claim.text == "Precondition: every trained cell's std ≤ 3 pp at n = 5"
    assert table.verdicts[1].measure == "A − B, paired by seed, vs ±2 pp"


def test_equivalence_verdict_sides():
    claim = Claim("A ≈ B")
    assert lg.equivalent(claim, {1: 0.03, 2: 0.031, 3: 0.032}, 2.0).outcome == "contradicts"  # ~+3 pp
    assert lg.equivalent(claim, {1: -0.03, 2: -0.031, 3: -0.032}, 2.0).outcome == "contradicts"
    assert lg.equivalent(claim, {1: 0.0, 2: 0.001, 3: -0.001}, 2.0).outcome == "holds"
    assert lg.equivalent(claim, {1: -0.02, 2: 0.02, 3: 0.0}, 2.0).label == "inconclusive (n=3)"
    assert lg.equivalent(claim, {}, 2.0).label == "inconclusive (n=0; no runs)"


def test_subnets_table_counts_evaluation_only_runs_and_records_them(logs, tmp_path):
    table = lg.subnets_table(logs)
    assert [r[0] for r in table.rows] == ["L=2", "L=4", "L=6"]  # no frozen-shared chain evaluated
    assert table.rows[1][1:] == ["70.0 ± 1.6 (n=5)"] * 4
    assert table.figure is not None
    assert [v.label for v in table.verdicts] == ["holds"] * 3  # 50, 70, 90 % > 40 %
    results = tmp_path / "results"
    assert (
        table_main(["learngene_subnets", "--quiet", "--log-dir", str(logs), "--results-dir", str(results)])
        == 0
    )
    records = json.loads((results / "learngene_subnets.runs.json").read_text())["runs"]
    assert len(records) == 5 * len(lg.HEATMAP_DEPTHS) * len(lg.HEATMAP_KS)
    assert (results / "learngene_subnets.png").read_bytes()[:4] == b"\x89PNG"
    md = (results / "learngene_subnets.md").read_text()
    assert "Skipped" not in md and "Cells: 0 exact, 12 trained, 0 missing" in md


def test_subnets_table_separates_the_frozen_shared_chain_and_skips_debug_evaluations(tmp_path):
    sub = {"depth": 2, "k": 1, "run_dir": "/logs/learngene_reduced/ict_chebyshev_frozen_shared/seed1/phase4"}
    for s in (1, 2):
        fake_run(tmp_path, "frozen", "learngene_subnets", "nofinetune/L2/k1", s, 0.6, sub, train=False)
    # an evaluation under fast_dev_run is a debug run: never counted
    fake_run(
        tmp_path,
        "fdr",
        "learngene_subnets",
        "nofinetune/L2/k1",
        3,
        0.1,
        sub,
        train=False,
        trainer={"fast_dev_run": True},
    )
    table = lg.subnets_table(tmp_path)
    rows = {r[0]: r for r in table.rows}
    assert rows["L=2 (frozen-shared chain)"][1] == "60.0 ± 0.0 (n=2)"
    assert rows["L=2"][1].startswith("missing: `compresslab-train -m experiment=learngene/reduced_subnets")
    assert table.figure is None  # the default chain's grid is empty
    assert all(v.label == "inconclusive (n=0; no runs)" for v in table.verdicts)


def test_every_learngene_table_builds_without_runs(tmp_path):
    for name in ("learngene_ict", "learngene_init", "learngene_const", "learngene_subnets"):
        table = TABLES[name][0](tmp_path / "none")
        assert table.cell_counts()["trained"] == 0 and table.cell_counts()["missing"] > 0, name
        assert all(v.label == "inconclusive (n=0; no runs)" for v in table.verdicts), name


def test_the_std_precondition_flags_a_noisy_cell(tmp_path):
    for s, acc in zip(SEEDS, (0.60, 0.70, 0.80, 0.65, 0.75), strict=True):  # ICT 2: std 7.9 pp
        fake_run(tmp_path, "ict/phase2", "learngene_ict", "ict/chebyshev/2", s, acc, {"active": 2})
    pre = lg.ict_table(tmp_path).verdicts[0]
    assert pre.claim.text == "Precondition: every trained cell's std ≤ 3 pp at n = 5"
    assert (
        pre.label == "contradicts"
        and pre.measure == "largest per-row std, ICT 2 / 2 · Ours test acc % (reduced), vs 3 pp"
    )

"""RNNPool Table 2 on fake run directories with real-looking numbers: the 224² runs are the headline column, the 48²
runs a secondary one; preconditions and claims get verdicts per regime; missing runs never crash it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compresslab.tables import rnnpool as rp
from compresslab.tables.cli import main as table_main
from compresslab.tables.verdict import Claim

#: MobileNetV2 at 224² per downsampling row (the committed Table 2's values): (peak MiB, MAdds G whole, patch)
FAKE_MB = {
    "none": (2.297, 0.300, 0.300),
    "avgpool": (0.239, 0.216, 0.228),
    "maxpool": (0.239, 0.216, 0.228),
    "strided_conv": (0.239, 0.268, 0.280),
    "renet": (1.723, 0.311, 0.311),
    "rnnpool": (0.239, 0.237, 0.260),
}
#: 224² test accuracy per row (fractions) and the per-seed offsets shared by a seed's rows
ACC_224 = {
    ("none", False): 0.800,
    ("none", True): 0.805,
    ("avgpool", False): 0.720,
    ("maxpool", False): 0.700,
    ("strided_conv", False): 0.760,
    ("renet", False): 0.740,
    ("rnnpool", False): 0.795,
    ("rnnpool", True): 0.810,
}
JITTER = {1: -0.01, 2: -0.005, 3: 0.0, 4: 0.005, 5: 0.01}  # std 0.79 pp


@pytest.fixture(autouse=True)
def cheap_counts(monkeypatch):
    """No model is built: the counts are the committed table's (the real ones are tested in test_rnnpool_models)."""

    def measure(builder: str, num_classes: int = 10, **kw: object) -> rp.Counts:
        peak, whole, patch = FAKE_MB[str(kw.get("downsample", "none"))]
        extra = 0.034 if kw.get("last_layer_rnnpool") else 0.0
        return rp.Counts(2.2, whole + extra, peak, "blocks.0.0", patch + extra)

    monkeypatch.setattr(rp, "measure", measure)
    monkeypatch.setattr(
        rp, "reduced_counts", lambda ds, last, size=48: (FAKE_MB[ds][1] * 300, FAKE_MB[ds][0] * 100)
    )


def fake_run(root: Path, scale: str, downsample: str, last: bool, seed: int, acc: float) -> None:
    run = root / scale / f"{downsample}_{last}" / f"seed{seed}"
    run.mkdir(parents=True)
    config = {
        "seed": seed,
        "task_name": "rnnpool_table2_224" if scale == "reduced_224" else "rnnpool_table2_reduced",
        "paper": {
            "name": "rnnpool",
            "table": "rnnpool_table2",
            "row": f"{downsample}+last_layer_rnnpool={last}",
            "scale": scale,
        },
        "model": {"net": {"downsample": downsample, "last_layer_rnnpool": last, "width_mult": 0.5}},
        "trainer": {"max_epochs": 60},
    }
    metrics = {"test/acc": acc, "val/acc_best": acc + 0.01}
    (run / "metrics.json").write_text(json.dumps({"metrics": metrics, "config": config}))


def write_224(root: Path, skip: tuple[tuple[str, bool], ...] = ()) -> None:
    for (ds, last), acc in ACC_224.items():
        if (ds, last) not in skip:
            for seed, j in JITTER.items():
                fake_run(root, "reduced_224", ds, last, seed, acc + j)


def _verdicts(table) -> dict[str, str]:  # noqa: ANN001
    return {v.claim.text: v.label for v in table.verdicts}


def test_224_runs_fill_the_headline_column_and_48_runs_the_secondary_one(tmp_path):
    write_224(tmp_path)
    for seed, acc in ((1, 0.60), (2, 0.55), (3, 0.50)):  # the old 48² regime: noisy, 3 seeds, base only
        fake_run(tmp_path, "reduced", "none", False, seed, acc)
    table = rp.table2(tmp_path)
    assert len(table.rows) == len(rp.TABLE2_ROWS)  # one row per method: no extra rows
    assert table.header[-2:] == [rp.ACC_224, rp.ACC_HEADER]  # headline, then secondary (last)
    rows = {r[0]: dict(zip(table.header, r, strict=True)) for r in table.rows}
    assert rows["RNNPoolLayer"][rp.ACC_224] == "79.5 ± 0.8 (n=5)"
    assert rows["Base Network"][rp.ACC_HEADER] == "55.0 ± 5.0 (n=3)"
    assert rows["RNNPoolLayer"][rp.ACC_HEADER] == f"missing: `{rp.REDUCED_COMMAND}`"
    # both MAdds schedules for every family
    assert rows["RNNPoolLayer"]["DN121 MAdds G patch by patch (ours)"] == "0.26"
    assert rows["RNNPoolLayer"]["VWW MAdds M patch by patch (ours)"] == "260.0"
    v = _verdicts(table)
    head = {t: x for t, x in v.items() if t.endswith("(224², headline)")}
    assert len(head) == 9 and len(v) == 18
    assert (
        head[
            "Precondition: the base network is well above chance (10 classes, chance 10 %): test acc > 30 % (224², headline)"
        ]
        == "holds"
    )
    assert head["Precondition: the base network leaves headroom: test acc < 95 % (224², headline)"] == "holds"
    assert head["Precondition: every row's std ≤ 2 pp at n = 5 (224², headline)"] == "holds"
    wins = [t for t in head if t.startswith("RNNPoolLayer ≥")]
    assert [head[t] for t in wins] == ["holds"] * 4  # avg, max, strided (equal peak RAM), ReNet (fewer MAdds)
    assert (
        "RNNPoolLayer ≥ average pooling at equal peak RAM (MobileNetV2 224²: 0.239 vs 0.239 MiB)" in wins[0]
    )
    assert "0.237 vs 0.311 G whole map, 0.260 vs 0.311 G patch by patch" in wins[3]
    within = next(t for t in head if t.startswith("RNNPool model (RNNPoolLayer) within 1 pp"))
    assert "0.239 vs 2.297 MiB, 9.6×" in within and head[within] == "holds"  # −0.5 pp every seed
    # the 48² block: preconditions from 3 noisy seeds, claims without their arms
    sec = {t: x for t, x in v.items() if t.endswith("(48², secondary)")}
    assert sec["Precondition: every row's std ≤ 2 pp at n = 5 (48², secondary)"].startswith(
        "inconclusive (n=0; fewer than 5 seeds: Base Network, Last layer RNNPool"
    )
    assert (
        sec[
            "RNNPoolLayer ≥ ReNet at fewer MAdds (MobileNetV2 224²: 0.237 vs 0.311 G whole map, 0.260 vs 0.311 G patch by patch) (48², secondary)"
        ]
        == "inconclusive (n=0; no runs)"
    )


def test_claims_that_fail_contradict_and_missing_rows_are_inconclusive(tmp_path):
    write_224(tmp_path, skip=(("maxpool", False), ("renet", False)))
    for seed, j in JITTER.items():  # ReNet beats RNNPoolLayer by 3 pp every seed
        fake_run(tmp_path, "reduced_224", "renet", False, seed, 0.825 + j)
    table = rp.table2(tmp_path)
    rows = {r[0]: r for r in table.rows}
    assert rows["Max Pooling"][-2] == f"missing: `{rp.COMMAND_224}`"
    v = {t.split(" (")[0]: x for t, x in _verdicts(table).items() if t.endswith("(224², headline)")}
    assert (
        v["RNNPoolLayer ≥ max pooling at equal peak RAM"]
        == "inconclusive (n=0; no common seed (A: [1, 2, 3, 4, 5], B: []))"
    )
    assert v["RNNPoolLayer ≥ ReNet at fewer MAdds"] == "contradicts"
    assert v["Precondition: every row's std ≤ 2 pp at n = 5"].startswith(
        "inconclusive (n=0; fewer than 5 seeds: Max Pooling"
    )


def test_preconditions_catch_a_task_without_headroom_or_too_noisy(tmp_path):
    for seed, j in JITTER.items():
        fake_run(tmp_path, "reduced_224", "none", False, seed, 0.985 + j / 5)  # saturated
        fake_run(tmp_path, "reduced_224", "rnnpool", False, seed, 0.6 + 6 * j)  # std 4.7 pp
    v = {t.split(" (224")[0]: x for t, x in _verdicts(rp.table2(tmp_path)).items() if "224², headline" in t}
    assert v["Precondition: the base network leaves headroom: test acc < 95 %"] == "contradicts"
    assert (
        v["Precondition: the base network is well above chance (10 classes, chance 10 %): test acc > 30 %"]
        == "holds"
    )
    assert v["Precondition: every row's std ≤ 2 pp at n = 5"] == "contradicts"


def test_std_precondition_rule():
    claim = Claim("std")
    five = [0.80, 0.81, 0.82, 0.79, 0.80]  # std 1.14 pp
    assert rp.std_precondition(claim, {"a": five, "b": five}).outcome == "holds"
    noisy = [0.70, 0.80, 0.75, 0.85, 0.60]
    v = rp.std_precondition(claim, {"a": five, "b": noisy})
    assert v.outcome == "contradicts" and v.measure == "largest per-row std, b, vs 2 pp"
    assert v.interval == "9.62 pp (no interval)"
    assert (
        rp.std_precondition(claim, {"a": five, "b": noisy[:3]}).label
        == "inconclusive (n=3; fewer than 5 seeds: b)"
    )
    assert rp.std_precondition(claim, {"a": [], "b": []}).label == "inconclusive (n=0; no runs)"


def test_implied_schedule():
    assert rp.implied_schedule(0.226, 0.237, 0.260, 5e-4) == "below both"
    assert rp.implied_schedule(0.2372, 0.237, 0.260, 5e-4) == "= whole map"
    assert rp.implied_schedule(0.25, 0.237, 0.260, 5e-4) == "between the two"
    assert rp.implied_schedule(0.26, 0.237, 0.260, 5e-4) == "= patch by patch"
    assert rp.implied_schedule(0.30, 0.237, 0.260, 5e-4) == "above both"


def test_notes_name_the_schedule_the_paper_implies_and_why_renet_cifar10_is_missing(tmp_path):
    table = rp.table2(tmp_path)
    implied = next(n for n in table.notes if n.startswith("Which schedule the paper's MAdds imply"))
    assert "RNNPoolLayer: MBv2 below both" in implied and "Last layer RNNPool:" in implied
    renet = table.notes[-1]
    assert renet.startswith("ReNet as a classifier") and "no result, and none at reduced scale" in renet
    # a ReNet-classifier run (paper.table=renet) is reported instead
    run = tmp_path / "renet_digits"
    run.mkdir()
    cfg = {
        "seed": 1,
        "paper": {"table": "renet", "row": "cifar10", "scale": "full"},
        "data": {"dataset": {"_target_": "compresslab.data.Digits"}},
    }
    (run / "metrics.json").write_text(json.dumps({"metrics": {"test/acc": 0.93}, "config": cfg}))
    note = rp.table2(tmp_path).notes[-1]
    assert "93.0 ± 0.0 (n=1) test acc % at scale=full, data=Digits" in note


def test_cli_writes_table2_with_per_seed_records_of_both_regimes(tmp_path):
    logs, results = tmp_path / "logs", tmp_path / "results"
    write_224(logs)
    fake_run(logs, "reduced", "rnnpool", False, 1, 0.57)
    assert (
        table_main(["rnnpool_table2", "--quiet", "--log-dir", str(logs), "--results-dir", str(results)]) == 0
    )
    records = json.loads((results / "rnnpool_table2.runs.json").read_text())["runs"]
    scales = [r["config"]["paper"]["scale"] for r in records]
    assert scales.count("reduced_224") == 40 and scales.count("reduced") == 1
    assert all("seed" in r["config"] and "test/acc" in r["metrics"] for r in records)
    md = (results / "rnnpool_table2.md").read_text()
    assert "Cells: " in md and "(224², headline): **holds**" in md
    assert (results / "rnnpool_table2_pareto.png").read_bytes()[:4] == b"\x89PNG"
    # the logs are gone: the records rebuild the same table
    again = tmp_path / "again"
    again.mkdir()
    (again / "rnnpool_table2.runs.json").write_text((results / "rnnpool_table2.runs.json").read_text())
    assert (
        table_main(
            ["rnnpool_table2", "--quiet", "--log-dir", str(tmp_path / "none"), "--results-dir", str(again)]
        )
        == 0
    )
    assert (again / "rnnpool_table2.md").read_text() == md

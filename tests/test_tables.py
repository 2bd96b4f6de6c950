"""The cell bookkeeping every table shares: which cells are exact, trained, missing or the paper's, and the index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from compresslab.tables import TABLES, cli
from compresslab.tables.cli import main as table_main
from compresslab.tables.cli import write_index
from compresslab.tables.common import RunSource, Table, cell_kind, keep_committed, parse_cell_counts
from compresslab.tables.verdict import Claim, against, paired, parse_claims, ratio, t_interval
from compresslab.tables.verdict import markdown as verdict_markdown
from compresslab.utils.hydra_app import PROJECT_ROOT


def test_cell_kinds_follow_header_and_content():
    assert cell_kind("Paper acc %", "79.28") == "paper"
    assert cell_kind("Params M (paper)", "2.20") == "paper"
    assert cell_kind("MBv2 MAdds G paper / ours", "0.300 / 0.300") == "exact"  # ours beside the paper's
    assert cell_kind("matches paper", "yes") == "exact"
    assert cell_kind("Ours acc %", "96.9 ± 0.4 (n=3)") == "trained"
    assert cell_kind("Δ pp", "+23.7", trained_columns=("Δ pp",)) == "trained"
    assert cell_kind("Ours acc %", "missing: `bash scripts/reproduce_hpmkd.sh`") == "missing"
    assert cell_kind("Paper acc %", "missing: `x`") == "missing"
    assert cell_kind("Ours acc %", "–") is None and cell_kind("ID", "*acc*") is None


def test_counts_skip_label_columns_and_round_trip_through_the_markdown(tmp_path):
    table = Table(
        "t",
        "a table",
        "somewhere",
        ["Task", "Loss", "Params M", "Ours acc %", "Δ pp", "Paper acc %"],
        rows=[
            ["a", "ce", "1.5", "90.0 ± 1.0 (n=3)", "+1.0", "91.0"],
            ["a", "poe", "1.5", "missing: `cmd`", "–", "92.0"],
        ],
        trained_columns=("Δ pp",),
        label_columns=2,
    )
    counts = table.cell_counts()
    assert counts == {"exact": 2, "trained": 2, "missing": 1, "paper": 2}
    assert parse_cell_counts(table.markdown()) == counts
    assert parse_cell_counts("# an old file without the line\n") is None


def test_index_lists_every_registered_table_with_its_counts(tmp_path):
    name = next(iter(TABLES))
    build, _ = TABLES[name]
    table = build(tmp_path / "no_runs")
    table.write(tmp_path)
    index = write_index(tmp_path).read_text()
    assert all(f"| `{n}` |" in index for n in TABLES)
    counts = table.cell_counts()
    row = next(line for line in index.splitlines() if line.startswith(f"| `{name}` |"))
    assert row.endswith(" | ".join(str(counts[k]) for k in ("exact", "trained", "missing", "paper")) + " |")
    assert index.count("not generated") == len(TABLES) - 1


# ------------------------------------------------------------------------------------------------ verdicts
def test_t_interval_matches_the_closed_form():
    # diffs 1, 2, 3: mean 2, sd 1, n 3 -> 2 ± t(0.975, 2)·1/√3 = 2 ± 4.302653·0.577350 = 2 ± 2.484138
    mean, low, high = t_interval([1.0, 2.0, 3.0])
    assert (
        mean == 2.0
        and low == pytest.approx(-0.484138, abs=1e-6)
        and high == pytest.approx(4.484138, abs=1e-6)
    )
    # n = 2: 2 ± t(0.975, 1)·√2/√2 = 2 ± 12.706205
    assert t_interval([1.0, 3.0])[1:] == pytest.approx((-10.706205, 14.706205), abs=1e-6)
    with pytest.raises(ValueError, match="at least 2 values, got 1"):
        t_interval([1.0])


def test_paired_verdict_pairs_by_seed_and_decides_by_the_interval():
    claim = Claim("A ≥ B")
    b = {1: 0.50, 2: 0.60, 3: 0.70}
    # A − B = +2, +3, +4 pp: 3 ± 2.484 -> [+0.52, +5.48], wholly above 0
    holds = paired(claim, {1: 0.52, 2: 0.63, 3: 0.74, 9: 0.0}, b)  # seed 9 has no partner: not counted
    assert (holds.outcome, holds.n) == ("holds", 3)
    assert (holds.mean, holds.low, holds.high) == pytest.approx((3.0, 0.515862, 5.484138), abs=1e-6)
    assert holds.label == "holds" and holds.interval == "+3.00 pp [+0.52, +5.48]"
    # −2, −3, −4 pp: wholly below 0
    assert paired(claim, {1: 0.48, 2: 0.57, 3: 0.66}, b).outcome == "contradicts"
    # +1, +2, +3 pp: [−0.48, +4.48] straddles 0
    straddles = paired(claim, {1: 0.51, 2: 0.62, 3: 0.73}, b)
    assert straddles.label == "inconclusive (n=3)"
    one = paired(claim, {1: 0.9}, b)
    assert one.label == "inconclusive (n=1)" and one.interval == "+40.00 pp (no interval)"
    assert paired(claim, {}, {}).label == "inconclusive (n=0; no runs)"
    assert paired(claim, {4: 0.9}, b).label == "inconclusive (n=0; no common seed (A: [4], B: [1, 2, 3]))"


def test_threshold_verdict_on_a_per_seed_ratio():
    claim = Claim("ID ≥ 95 % of full")
    full = {1: 0.80, 2: 0.80, 3: 0.80}
    # ratios 96, 97, 98 %: 97 ± 2.484 -> [94.52, 99.48] straddles 95
    assert against(claim, ratio({1: 0.768, 2: 0.776, 3: 0.784}, full), 95.0).label == "inconclusive (n=3)"
    # 97, 98, 99 %: [95.52, 100.48] wholly above
    v = against(claim, ratio({1: 0.776, 2: 0.784, 3: 0.792}, full), 95.0)
    assert v.outcome == "holds" and v.interval == "98.00 % [95.52, 100.48]"
    # 80, 81, 82 %: wholly below
    assert against(claim, ratio({1: 0.64, 2: 0.648, 3: 0.656}, full), 95.0).outcome == "contradicts"
    # "below" claims flip the sides
    assert against(claim, {1: 0.1, 2: 0.2, 3: 0.3}, 50.0, above=False).outcome == "holds"


def test_claims_round_trip_through_the_markdown_and_unrecorded_cells():
    claim = Claim("RNNPoolLayer ≥ strided convolution", command="bash x.sh")
    verdicts = [
        paired(claim, {1: 0.52, 2: 0.63, 3: 0.74}, {1: 0.50, 2: 0.60, 3: 0.70}),
        paired(claim, {}, {}),
    ]
    text = "\n".join(verdict_markdown(verdicts))
    assert parse_claims(text) == [
        ("RNNPoolLayer ≥ strided convolution", "holds"),
        ("RNNPoolLayer ≥ strided convolution", "inconclusive (n=0; no runs)"),
    ]
    assert verdicts[1].unrecorded(3, "results/t.csv").label == (
        "inconclusive (n=3; per-seed values not recorded in results/t.csv; rerun `bash x.sh`)"
    )
    assert verdicts[1].unrecorded(1, "results/t.csv").label == "inconclusive (n=1)"


# --------------------------------------------------------------------------- results are never destroyed
def _run(root: Path, name: str, seed: int, acc: float, **extra: object) -> None:
    """A fake ICT run with 2 learngenes (reduced scale) under ``root/name``."""
    run = root / name
    run.mkdir(parents=True)
    cfg = {
        "seed": seed,
        "paper": {"table": "learngene_ict", "scale": "reduced", "row": "ict/chebyshev/2"},
        "model": {"net": {"active": 2}},
        **extra,
    }
    (run / "metrics.json").write_text(json.dumps({"metrics": {"test/acc": acc}, "config": cfg}))


def _ict_cell(results: Path) -> str:
    line = next(
        ln for ln in (results / "learngene_ict.md").read_text().splitlines() if ln.startswith("| ICT 2 /")
    )
    return line.split(" | ")[-1].rstrip(" |")


def test_debug_runs_are_skipped_and_records_keep_real_runs_when_logs_are_gone(tmp_path, capsys):
    logs, results = tmp_path / "logs", tmp_path / "results"
    _run(logs, "real1", 1, 0.90)
    _run(logs, "real2", 2, 0.80)
    _run(logs, "fdr", 1, 0.10, trainer={"fast_dev_run": True})  # a fast-dev-run beside the real runs
    _run(logs, "dbg", 3, 0.20, task_name="debug")
    assert (
        table_main(["learngene_ict", "--quiet", "--log-dir", str(logs), "--results-dir", str(results)]) == 0
    )
    assert _ict_cell(results) == "85.0 ± 7.1 (n=2)"  # the two real runs only
    md = (results / "learngene_ict.md").read_text()
    assert "Skipped 2 non-real run(s)" in md
    records = json.loads((results / "learngene_ict.runs.json").read_text())["runs"]
    assert sorted((r["run"], r["config"]["seed"], r["metrics"]["test/acc"]) for r in records) == [
        ("real1", 1, 0.90),
        ("real2", 2, 0.80),
    ]
    # the logs are gone: the records rebuild the same cell (and the skipped-run note goes with the debug runs)
    assert (
        table_main(
            ["learngene_ict", "--quiet", "--log-dir", str(tmp_path / "none"), "--results-dir", str(results)]
        )
        == 0
    )
    assert _ict_cell(results) == "85.0 ± 7.1 (n=2)"
    # a rerun of seed 2 supersedes its record instead of adding a third value
    shutil.rmtree(logs)
    _run(logs, "rerun2", 2, 0.70)
    assert (
        table_main(["learngene_ict", "--quiet", "--log-dir", str(logs), "--results-dir", str(results)]) == 0
    )
    assert _ict_cell(results) == "80.0 ± 14.1 (n=2)"
    # --overwrite counts the log dir's runs only, and rewrites the records from them (table and records agree)
    args = ["learngene_ict", "--quiet", "--log-dir", str(logs), "--results-dir", str(results), "--overwrite"]
    assert table_main(args) == 0
    assert _ict_cell(results) == "70.0 ± 0.0 (n=1)"
    records = json.loads((results / "learngene_ict.runs.json").read_text())["runs"]
    assert [(r["run"], r["metrics"]["test/acc"]) for r in records] == [("rerun2", 0.70)]
    # --overwrite from a log dir without runs of the table (a task redesigned, not rerun yet): the stale records
    # are removed, so a later regeneration cannot refill the cell from them
    args[args.index(str(logs))] = str(tmp_path / "none")
    assert table_main(args) == 0
    assert not (results / "learngene_ict.runs.json").exists()
    assert _ict_cell(results).startswith("missing")


def test_overwriting_one_table_keeps_the_records_of_another_table_it_reads(tmp_path):
    """cross_methods reads rnnpool_table2's runs as reference rows: ``compresslab-table cross_methods --overwrite``
    recounts cross_methods from the logs only, but rnnpool_table2's committed records (5 seeds) stay counted and
    are rewritten as their union with the logs (seed 1 rerun: superseded, not added), never cut to the logs' runs."""
    logs, results = tmp_path / "logs", tmp_path / "results"
    for seed in (1, 2, 3, 4, 5):  # rnnpool_table2's committed records
        _run(
            logs, f"t2_{seed}", seed, 0.60 + seed / 100, paper={"table": "rnnpool_table2", "scale": "reduced"}
        )
    _run(logs, "cross_old", 1, 0.50, paper={"table": "cross_methods", "scale": "reduced"})
    first = RunSource(logs, results)
    assert len(first.runs("rnnpool_table2")) == 5 and len(first.runs("cross_methods")) == 1
    first.write_records()
    shutil.rmtree(logs)
    _run(logs, "t2_rerun1", 1, 0.70, paper={"table": "rnnpool_table2", "scale": "reduced"})
    _run(logs, "cross_new", 2, 0.40, paper={"table": "cross_methods", "scale": "reduced"})
    source = RunSource(logs, results, overwrite=frozenset({"cross_methods"}))
    t2 = sorted((r.get("seed"), r.metric("test/acc")) for r in source.runs("rnnpool_table2"))
    assert t2 == [(1, 0.70), (2, 0.62), (3, 0.63), (4, 0.64), (5, 0.65)]
    assert [(r.get("seed"), r.metric("test/acc")) for r in source.runs("cross_methods")] == [(2, 0.40)]
    source.write_records()
    written = json.loads((results / "rnnpool_table2.runs.json").read_text())["runs"]
    assert sorted((r["config"]["seed"], r["metrics"]["test/acc"]) for r in written) == t2
    # 'all --overwrite' drops every paper.table's records
    everything = RunSource(logs, results, overwrite=frozenset({"*"}))
    assert [r.get("seed") for r in everything.runs("rnnpool_table2")] == [1]


def test_cells_without_runs_keep_their_committed_value_and_say_so(tmp_path):
    claim = Claim("A ≥ B", cells=((("a",), "Ours"), (("b",), "Ours")), command="bash run.sh")

    def build() -> Table:
        # a run-note prefix that a claim line also starts with: only the Notes section is kept from
        table = Table(
            "t", "t", "s", ["Row", "Paper", "Ours", "Params"], rerun="bash run.sh", run_note_prefixes=("A ≥",)
        )
        table.rows = [
            ["a", "1.0", "missing: `bash run.sh`", "–"],
            ["b", "2.0", "missing: `bash run.sh`", "7"],
        ]
        table.verdicts = [paired(claim, {}, {})]
        return table

    committed = Table("t", "t", "s", ["Row", "Paper", "Ours", "Params"])
    committed.rows = [["a", "9.9", "50.0 ± 1.0 (n=3)", "12"], ["b", "9.9", "40.0 ± 2.0 (n=3)", "8"]]
    committed.write(tmp_path)
    table = build()
    assert keep_committed(table, tmp_path) == 3
    assert table.rows == [
        ["a", "1.0", "50.0 ± 1.0 (n=3) †", "12 †"],  # the paper's column is computed, never kept
        ["b", "2.0", "40.0 ± 2.0 (n=3) †", "7"],  # a value the build computed stays
    ]
    assert table.verdicts[0].label == (
        "inconclusive (n=3; per-seed values not recorded in results/t.csv; rerun `bash run.sh`)"
    )
    assert any(note.startswith("† 3 cell(s) kept from the committed results/t.csv") for note in table.notes)
    table.write(tmp_path)
    again = build()  # a second regeneration keeps the same cells, marked once
    keep_committed(again, tmp_path)
    assert again.markdown() == table.markdown()


def test_a_table_that_would_lose_trained_cells_is_not_written_without_overwrite(
    tmp_path, monkeypatch, capsys
):
    def build(source: object) -> Table:
        return Table("t", "t", "s", ["Row", "Renamed ours"], rows=[["a", "missing: `bash run.sh`"]])

    monkeypatch.setattr(cli, "TABLES", {"t": (build, "somewhere")})
    committed = Table("t", "t", "s", ["Row", "Ours"], rows=[["a", "50.0 ± 1.0 (n=3)"]])
    committed.write(tmp_path)
    before = (tmp_path / "t.md").read_text()
    args = ["t", "--quiet", "--log-dir", str(tmp_path / "none"), "--results-dir", str(tmp_path)]
    assert table_main(args) == 1
    assert "t (1 trained cells committed, 0 now)" in capsys.readouterr().err
    assert (tmp_path / "t.md").read_text() == before
    assert table_main([*args, "--overwrite"]) == 0
    assert "missing: `bash run.sh`" in (tmp_path / "t.md").read_text()


@pytest.mark.slow
def test_regenerating_every_table_without_logs_leaves_the_committed_results_byte_identical(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(PROJECT_ROOT / "results", results)
    before = {p.name: p.read_bytes() for p in results.iterdir()}
    assert (
        table_main(["all", "--quiet", "--log-dir", str(tmp_path / "empty"), "--results-dir", str(results)])
        == 0
    )
    after = {p.name: p.read_bytes() for p in results.iterdir()}
    assert sorted(after) == sorted(before)
    assert [name for name in before if after[name] != before[name]] == []

"""The cell bookkeeping every table shares: which cells are exact, trained, missing or the paper's, and the index."""

from __future__ import annotations

from compresslab.tables import TABLES
from compresslab.tables.cli import write_index
from compresslab.tables.common import Table, cell_kind, parse_cell_counts


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

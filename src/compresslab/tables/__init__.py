"""Paper tables: one module per paper, each a registry ``name -> (builder, source)``; see :mod:`.cli`."""

from typing import Any

from compresslab.tables import cross, hpmkd, learngene, rnnpool, srnet
from compresslab.tables.common import Table, collect_runs

TABLES = {**learngene.TABLES, **hpmkd.TABLES, **rnnpool.TABLES, **srnet.TABLES, **cross.TABLES}
#: table name -> (paper.row -> the paper's values for that row, or None)
REFERENCES = {
    **learngene.REFERENCES,
    **hpmkd.REFERENCES,
    **rnnpool.REFERENCES,
    **getattr(srnet, "REFERENCES", {}),
    **cross.REFERENCES,
}


def paper_reference(table: str, row: str) -> dict[str, Any] | None:
    """The paper's values for a run's ``paper.table``/``paper.row`` (None when the paper has no such cell)."""
    lookup = REFERENCES.get(table)
    try:
        return lookup(row) if lookup and row else None
    except (KeyError, ValueError, IndexError):
        return None


__all__ = ["REFERENCES", "TABLES", "Table", "collect_runs", "paper_reference"]

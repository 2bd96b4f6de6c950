"""Paper tables: one module per paper, each a registry ``name -> (builder, source)``; see :mod:`.cli`."""

from compresslab.tables.common import Table, collect_runs
from compresslab.tables.learngene import TABLES as LEARNGENE_TABLES
from compresslab.tables.rnnpool import TABLES as RNNPOOL_TABLES

TABLES = {**LEARNGENE_TABLES, **RNNPOOL_TABLES}

__all__ = ["TABLES", "Table", "collect_runs"]

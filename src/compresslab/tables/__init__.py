"""Paper tables: one module per paper, each a registry ``name -> (builder, source)``; see :mod:`.cli`.

The papers' values that a run looks up by ``paper.table``/``paper.row`` are in :mod:`compresslab.paper_values`
(no network code), which the table modules read too.
"""

from compresslab.tables import cross, hpmkd, learngene, rnnpool, srnet
from compresslab.tables.common import Table, collect_runs

TABLES = {**learngene.TABLES, **hpmkd.TABLES, **rnnpool.TABLES, **srnet.TABLES, **cross.TABLES}

__all__ = ["TABLES", "Table", "collect_runs"]

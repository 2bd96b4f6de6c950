"""Learngene paper tables (Lin et al., NeurIPS 2024; values from learngene.md §1–§4).

Exact cells: the coefficient table a(l, n) for L = 12 (Eq. 3), parameter counts of DeiT-B recompositions (built on
the meta device, head excluded) and the training-cost count. Reduced-scale cells read the runs of
``scripts/reproduce_learngene.sh`` (a 6-block × 64 ViT on scikit-learn digits; configs in
``conf/experiment/learngene/reduced_*``).

This module is the registry (``TABLES``) and re-exports every public name of the four modules that hold the
tables: :mod:`.learngene_exact` (printed values, exact tables), :mod:`.learngene_ict` (ICT and bases, the shared
reduced-scale helpers), :mod:`.learngene_recompose` (heatmap, sub-models) and :mod:`.learngene_finetune`
(initialisation and w/ vs w/o const comparisons). The paper's accuracies that runs look up (Fig. 4a, Table 1) are in
:mod:`compresslab.paper_values`.
"""

from __future__ import annotations

from compresslab.tables.learngene_exact import (
    PAPER,
    PAPER_COEFFICIENTS,
    PAPER_CONST_PARAMS,
    PAPER_FREE_PARAMS,
    coefficient_table,
    cost_table,
    deit_b_params,
    params_table,
)
from compresslab.tables.learngene_finetune import (
    CONST_COMMAND,
    CONST_CONST,
    CONST_DELTA,
    CONST_FREE,
    CONST_MARGIN_PP,
    CONST_PARAMS,
    DELTA_LG_PREFIN,
    DELTA_LG_RANDOM,
    DELTA_PREFIN_RANDOM,
    INIT_LG,
    INIT_PREFIN,
    INIT_RANDOM,
    PREFIN_COMMAND,
    PREFIN_PRETRAIN,
    const_table,
    equivalent,
    init_table,
    trainable_params,
    vit_madds_m,
)
from compresslab.tables.learngene_ict import (
    CELL_SEEDS,
    CELL_STD_PP,
    ICT_PAIRS,
    OURS,
    OURS_FROZEN,
    REDUCED_COMMAND,
    REDUCED_DATA,
    bases_table,
    ict_table,
    std_check,
)
from compresslab.tables.learngene_recompose import (
    CHANCE_5,
    HEATMAP_DEPTHS,
    HEATMAP_KS,
    SUBNETS_COMMAND,
    heatmap_table,
    subnets_table,
)
from compresslab.tables.rnnpool_table2_claims import std_precondition

TABLES = {
    "learngene_coefficients": (coefficient_table, f"{PAPER}, Eq. 3 coefficient table (exact)"),
    "learngene_params": (params_table, f"{PAPER}, DeiT-B recomposition parameter counts (exact)"),
    "learngene_cost": (cost_table, f"{PAPER}, training-cost count (exact)"),
    "learngene_ict": (ict_table, f"{PAPER}, Fig. 4a (reduced scale; both shared-parameter settings)"),
    "learngene_bases": (bases_table, f"{PAPER}, Table 1 (reduced scale)"),
    "learngene_heatmap": (heatmap_table, f"{PAPER}, Fig. 5 heatmap + PNG (reduced scale)"),
    "learngene_subnets": (subnets_table, f"{PAPER}, sub-models with no extra training + PNG (reduced scale)"),
    "learngene_const": (const_table, f"{PAPER}, w/ const vs w/o const fine-tuning (reduced scale)"),
    "learngene_init": (init_table, f"{PAPER}, learngene vs Pre-Fin vs random init (reduced scale)"),
}

__all__ = [
    "CELL_SEEDS",
    "CELL_STD_PP",
    "CHANCE_5",
    "CONST_COMMAND",
    "CONST_CONST",
    "CONST_DELTA",
    "CONST_FREE",
    "CONST_MARGIN_PP",
    "CONST_PARAMS",
    "DELTA_LG_PREFIN",
    "DELTA_LG_RANDOM",
    "DELTA_PREFIN_RANDOM",
    "HEATMAP_DEPTHS",
    "HEATMAP_KS",
    "ICT_PAIRS",
    "INIT_LG",
    "INIT_PREFIN",
    "INIT_RANDOM",
    "OURS",
    "OURS_FROZEN",
    "PAPER",
    "PAPER_COEFFICIENTS",
    "PAPER_CONST_PARAMS",
    "PAPER_FREE_PARAMS",
    "PREFIN_COMMAND",
    "PREFIN_PRETRAIN",
    "REDUCED_COMMAND",
    "REDUCED_DATA",
    "SUBNETS_COMMAND",
    "TABLES",
    "bases_table",
    "coefficient_table",
    "const_table",
    "cost_table",
    "deit_b_params",
    "equivalent",
    "heatmap_table",
    "ict_table",
    "init_table",
    "params_table",
    "std_check",
    "std_precondition",
    "subnets_table",
    "trainable_params",
    "vit_madds_m",
]

#!/usr/bin/env bash
# RNNPool Table 2, reduced: 224² (8 rows × 5 seeds, one GPU) and the 48² block (8 rows × 5 seeds, ~70 min on 2 CPU cores).
# A thin wrapper around `compresslab-reproduce rnnpool_table2` (stages: src/compresslab/reproduce/papers/rnnpool_table2.yaml): runs what the
# tables are missing, skips finished runs, resumes interrupted ones from last.ckpt, then writes the tables.
#   bash scripts/reproduce_rnnpool_table2.sh                # everything missing, then the tables
#   bash scripts/reproduce_rnnpool_table2.sh --status       # per table: runs done / partial / missing
#   bash scripts/reproduce_rnnpool_table2.sh --smoke        # every stage once, 2 steps per run, scratch log dir ($SMOKE_LOG_DIR if set)
#   bash scripts/reproduce_rnnpool_table2.sh --seeds 1 --jobs 2 trainer=gpu   # other seeds, parallel runs, overrides for every run
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${COMPRESSLAB_BIN:-.venv/bin}/compresslab-reproduce" rnnpool_table2 "$@"

#!/usr/bin/env bash
# SRNet tables, reduced (task check, fig 2 sparsity sweep, Table 5 inits, paradigms b/c; seeds 1-3): ~1.5 CPU-hours per seed.
# A thin wrapper around `compresslab-reproduce srnet` (stages: src/compresslab/reproduce/papers/srnet.yaml): runs what the
# tables are missing, skips finished runs, resumes interrupted ones from last.ckpt, then writes the tables.
#   bash scripts/reproduce_srnet.sh                # everything missing, then the tables
#   bash scripts/reproduce_srnet.sh --status       # per table: runs done / partial / missing
#   bash scripts/reproduce_srnet.sh --smoke        # every stage once, 2 steps per run, scratch log dir ($SMOKE_LOG_DIR if set)
#   bash scripts/reproduce_srnet.sh --seeds 1 --jobs 2 trainer=gpu   # other seeds, parallel runs, overrides for every run
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${COMPRESSLAB_BIN:-.venv/bin}/compresslab-reproduce" srnet "$@"

#!/usr/bin/env bash
# Cross-method table (RNNPool+HPM-KD, learngene+PDC, learngene+SRNet; 3 seeds), with any missing predecessor runs.
# A thin wrapper around `compresslab-reproduce cross` (stages: src/compresslab/reproduce/papers/cross.yaml): runs what the
# tables are missing, skips finished runs, resumes interrupted ones from last.ckpt, then writes the tables.
#   bash scripts/reproduce_cross.sh                # everything missing, then the tables
#   bash scripts/reproduce_cross.sh --status       # per table: runs done / partial / missing
#   bash scripts/reproduce_cross.sh --smoke        # every stage once, 2 steps per run, scratch log dir ($SMOKE_LOG_DIR if set)
#   bash scripts/reproduce_cross.sh --seeds 1 --jobs 2 trainer=gpu   # other seeds, parallel runs, overrides for every run
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${COMPRESSLAB_BIN:-.venv/bin}/compresslab-reproduce" cross "$@"

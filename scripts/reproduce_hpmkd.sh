#!/usr/bin/env bash
# HPM-KD tables, reduced (main, ablation, time; teachers seeds 0-2, students seeds 1-3): ~20 min on 2 CPU cores.
# A thin wrapper around `compresslab-reproduce hpmkd` (stages: src/compresslab/reproduce/papers/hpmkd.yaml): runs what the
# tables are missing, skips finished runs, resumes interrupted ones from last.ckpt, then writes the tables.
#   bash scripts/reproduce_hpmkd.sh                # everything missing, then the tables
#   bash scripts/reproduce_hpmkd.sh --status       # per table: runs done / partial / missing
#   bash scripts/reproduce_hpmkd.sh --smoke        # every stage once, 2 steps per run, scratch log dir ($SMOKE_LOG_DIR if set)
#   bash scripts/reproduce_hpmkd.sh --seeds 1 --jobs 2 trainer=gpu   # other seeds, parallel runs, overrides for every run
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${COMPRESSLAB_BIN:-.venv/bin}/compresslab-reproduce" hpmkd "$@"

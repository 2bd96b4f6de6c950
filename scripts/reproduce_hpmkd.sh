#!/usr/bin/env bash
# HPM-KD tables on the headroom benchmark (main, ablation, time; teachers seeds 0-2, students seeds 1-5): ~150 runs,
# ~75 CPU-minutes on idle cores; ~25 min wall with --jobs 16 on 16 cores (the time stages run one job at a time).
# A thin wrapper around `compresslab-reproduce hpmkd` (stages: src/compresslab/reproduce/papers/hpmkd.yaml): runs what the
# tables are missing, skips finished runs, resumes interrupted ones from last.ckpt, then writes the tables.
#   bash scripts/reproduce_hpmkd.sh                # everything missing, then the tables
#   bash scripts/reproduce_hpmkd.sh --status       # per table: runs done / partial / missing
#   bash scripts/reproduce_hpmkd.sh --smoke        # every stage once, 2 steps per run, scratch log dir ($SMOKE_LOG_DIR if set)
#   bash scripts/reproduce_hpmkd.sh --seeds 1 --jobs 2 trainer=gpu   # other seeds, parallel runs, overrides for every run
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${COMPRESSLAB_BIN:-.venv/bin}/compresslab-reproduce" hpmkd "$@"

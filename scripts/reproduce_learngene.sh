#!/usr/bin/env bash
# Learngene tables, reduced (ICT chain, SCT bases, fine-tuning heatmap, random init, issue 19 arms; 5 seeds): ~4 h on 2 CPU cores.
# A thin wrapper around `compresslab-reproduce learngene` (stages: src/compresslab/reproduce/papers/learngene.yaml): runs what the
# tables are missing, skips finished runs, resumes interrupted ones from last.ckpt, then writes the tables.
#   bash scripts/reproduce_learngene.sh                # everything missing, then the tables
#   bash scripts/reproduce_learngene.sh --status       # per table: runs done / partial / missing
#   bash scripts/reproduce_learngene.sh --smoke        # every stage once, 2 steps per run, scratch log dir ($SMOKE_LOG_DIR if set)
#   bash scripts/reproduce_learngene.sh --seeds 1 --jobs 2 trainer=gpu   # other seeds, parallel runs, overrides for every run
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${COMPRESSLAB_BIN:-.venv/bin}/compresslab-reproduce" learngene "$@"

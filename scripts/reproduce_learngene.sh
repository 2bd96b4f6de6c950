#!/usr/bin/env bash
# Reduced-scale Learngene tables on CPU (~20 min on 2 cores): teacher -> ICT chain (4 phases) -> SCT per basis
# -> fine-tuning heatmap (depth × learngenes) and random-init baseline, 3 seeds; then the tables.
#   bash scripts/reproduce_learngene.sh            # everything, then compresslab-table learngene_*
#   bash scripts/reproduce_learngene.sh --smoke    # every stage once, 2 batches, in a temporary log dir ($SMOKE_LOG_DIR if set)
# Extra arguments go to every compresslab-train call (e.g. trainer=gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_smoke.sh
BIN="${COMPRESSLAB_BIN:-.venv/bin}"
SEEDS="1,2,3"
DEPTHS="2,4,6"
KS="1,2,4,6"
BASES="chebyshev,taylor,fourier,legendre"
EXTRA=(logger=csv extras.print_config=false)
SMOKE=0
if [[ "${1:-}" == "--smoke" ]]; then
  shift
  SMOKE=1
  SEEDS="1"; DEPTHS="2"; KS="1"; BASES="chebyshev"
  smoke_log_dir
  # real (tiny) epochs, not fast_dev_run: each phase must write the checkpoint the next one starts from
  EXTRA+=(paths.log_dir="$LOG_DIR" trainer.max_epochs=1 trainer.limit_train_batches=2 trainer.limit_val_batches=1
          trainer.limit_test_batches=1 measure.enabled=false)
fi
train() { "$BIN/compresslab-train" "$@" "${EXTRA[@]}"; }

train experiment=learngene/reduced_teacher "$@"
for phase in 1 2 3 4; do
  train --multirun experiment=learngene/reduced_ict_phase$phase seed="$SEEDS" "$@"
done
train --multirun experiment=learngene/reduced_sct seed="$SEEDS" model.net.basis="$BASES" "$@"
train --multirun experiment=learngene/reduced_sct seed="$SEEDS" model.net.index=text "$@"
train --multirun experiment=learngene/reduced_finetune seed="$SEEDS" model.net.depth="$DEPTHS" model.net.k="$KS" "$@"
train --multirun experiment=learngene/reduced_finetune seed="$SEEDS" model.net.depth="$DEPTHS" model.net.init=random "$@"
if [[ $SMOKE -eq 0 ]]; then
  "$BIN/compresslab-table" learngene_coefficients learngene_params learngene_cost learngene_ict learngene_bases \
    learngene_heatmap learngene_init --quiet
fi

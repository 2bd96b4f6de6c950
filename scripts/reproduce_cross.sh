#!/usr/bin/env bash
# Cross-method experiments at reduced scale on CPU (conf/experiment/cross/*), 3 seeds, then the cross_methods table:
#   rnnpool_hpmkd (HPM-KD + Hinton KD, ~3 + 2 min per seed), learngene_pdc (HPM-KD + KD, < 1 min per seed),
#   learngene_srnet (< 1 min per seed). Dependency and reference runs that are missing from the log dir are trained
#   first, with the configs of their own tables: the rnnpool_table2 base (teacher) and RNNPool rows, the learngene
#   ConvNet teacher + ICT chain (phases 1-4) and the learngene_heatmap L=6 (teacher) and L=2 fine-tunings.
#   bash scripts/reproduce_cross.sh            # everything missing, the three experiments, compresslab-table
#   bash scripts/reproduce_cross.sh --smoke    # every stage once, 2 batches, in a temporary log dir ($SMOKE_LOG_DIR if set)
# Extra arguments go to every compresslab-train call (e.g. trainer=gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_smoke.sh
BIN="${COMPRESSLAB_BIN:-.venv/bin}"
SEEDS="1,2,3"
EXTRA=(logger=csv extras.print_config=false)
LOG_DIR="${COMPRESSLAB_LOG_DIR:-logs}"
SMOKE=0
if [[ "${1:-}" == "--smoke" ]]; then
  shift
  SMOKE=1
  SEEDS="1"
  smoke_log_dir
  # real (tiny) epochs, not fast_dev_run: dependency runs must write the checkpoints the experiments load
  EXTRA+=(paths.log_dir="$LOG_DIR" trainer.max_epochs=1 trainer.limit_train_batches=2 trainer.limit_val_batches=1
          trainer.limit_test_batches=1 measure.enabled=false)
fi
train() { "$BIN/compresslab-train" "$@" "${EXTRA[@]}"; }

# Seeds of $SEEDS without a finished run of (table, row) under $LOG_DIR, comma-separated ("" when none).
missing_seeds() {
  "$BIN/python" - "$LOG_DIR" "$1" "$2" "$SEEDS" <<'EOF'
import sys
from compresslab.tables.common import collect_runs
log_dir, table, row, seeds = sys.argv[1:]
have = {r.get("seed") for r in collect_runs(log_dir, table) if r.get("paper.row") == row}
print(",".join(s for s in seeds.split(",") if int(s) not in have))
EOF
}

if [[ $SMOKE -eq 1 ]]; then
  # dependencies, one short run each: all 6 learngenes trained at once (SCT, no teacher) stand in for the ICT chain
  train experiment=learngene/reduced_sct seed=1 model.teacher=null \
    hydra.run.dir="$LOG_DIR/learngene_reduced/ict_chebyshev/seed1/phase4" "$@"
  train --multirun experiment=learngene/reduced_finetune seed=1 model.net.depth=6 model.net.k=6 "$@"
  train --multirun experiment=rnnpool/table2_reduced seed=1 model.net.downsample=none "$@"
else
  seeds=$(missing_seeds rnnpool_table2 "none+last_layer_rnnpool=False")
  if [[ -n "$seeds" ]]; then
    train --multirun experiment=rnnpool/table2_reduced model.net.downsample=none seed="$seeds" "$@"
  fi
  seeds=$(missing_seeds rnnpool_table2 "rnnpool+last_layer_rnnpool=False")
  if [[ -n "$seeds" ]]; then
    train --multirun experiment=rnnpool/table2_reduced model.net.downsample=rnnpool seed="$seeds" "$@"
  fi
  ict=()
  for s in ${SEEDS//,/ }; do
    if [[ ! -f "$LOG_DIR/learngene_reduced/ict_chebyshev/seed$s/phase4/checkpoints/last.ckpt" ]]; then
      ict+=("$s")
    fi
  done
  if [[ ${#ict[@]} -gt 0 ]]; then
    ict_seeds=$(IFS=,; echo "${ict[*]}")
    if [[ ! -f "$LOG_DIR/learngene_reduced/teacher/config_resolved.yaml" ]]; then
      train experiment=learngene/reduced_teacher "$@"
    fi
    for phase in 1 2 3 4; do
      train --multirun experiment=learngene/reduced_ict_phase$phase seed="$ict_seeds" "$@"
    done
  fi
  for depth in 6 2; do
    seeds=$(missing_seeds learngene_heatmap "learngene/free/L$depth/k6")
    if [[ -n "$seeds" ]]; then
      train --multirun experiment=learngene/reduced_finetune model.net.depth=$depth model.net.k=6 seed="$seeds" "$@"
    fi
  done
fi

# the three experiments (HPM-KD and its plain-KD reference where a teacher is involved)
train --multirun experiment=cross/rnnpool_hpmkd model.method=hpmkd,kd seed="$SEEDS" "$@"
train --multirun experiment=cross/learngene_pdc model.method=hpmkd,kd seed="$SEEDS" "$@"
train --multirun experiment=cross/learngene_srnet seed="$SEEDS" "$@"
if [[ $SMOKE -eq 0 ]]; then
  "$BIN/compresslab-table" cross_methods --log-dir "$LOG_DIR" --quiet
fi

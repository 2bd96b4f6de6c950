#!/usr/bin/env bash
# Reduced-scale SRNet tables on CPU (synthetic NLI + the packaged MiniLM; conf/experiment/srnet/reduced_*):
#   1. full fine-tuning, std (ce) and poe                              -> the sparsity-0 rows, the paradigm-a start
#   2. paradigm a: mask training and IMP, std and poe, at 20/50/70/90 % -> srnet_fig2 (table + PNG)
#   3. Table 5: 90 % with hard / soft init and gradual 0.2|0.5|0.7 -> 0.9 (poe)   -> srnet_table5
#   4. paradigm b (re-train the poe masks from the pre-trained weights, IMP-rw), paradigm c (mask-only on the
#      pre-trained model), the OOD-data upper bound, at 50/70 %        -> srnet_paradigms
#   then compresslab-table srnet_fig2 srnet_table5 srnet_paradigms.
# Seeds 1-3. Runtime: about 3 CPU-hours per seed on an idle 2-core machine (≈ 60 runs of 2-4 min); SEEDS=1 for a
# first look. The bias-only model is fitted once (logs/srnet_reduced/bias_word_overlap.pt) by the first run needing it.
#   bash scripts/reproduce_srnet.sh            # everything, then the tables
#   bash scripts/reproduce_srnet.sh --smoke    # every stage once, a few batches, in a temporary log dir ($SMOKE_LOG_DIR if set)
# Extra arguments go to every compresslab-train call (e.g. trainer=gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_smoke.sh
BIN="${COMPRESSLAB_BIN:-.venv/bin}"
SEEDS="${SEEDS:-1,2,3}"
SPARSITIES="0.2,0.5,0.7,0.9"
PARADIGM_S="0.5,0.7"
EXTRA=(logger=csv extras.print_config=false)
SMOKE=0
if [[ "${1:-}" == "--smoke" ]]; then
  shift
  SMOKE=1
  SEEDS="1"; SPARSITIES="0.5"; PARADIGM_S="0.5"
  smoke_log_dir
  # real (tiny) epochs, not fast_dev_run: later stages start from the checkpoints and masks earlier ones write
  EXTRA+=(paths.log_dir="$LOG_DIR" trainer.max_epochs=1 trainer.limit_train_batches=4 trainer.limit_val_batches=1
          trainer.limit_test_batches=1 callbacks.rich_progress_bar=null)
fi
train() { "$BIN/compresslab-train" --multirun "$@" "${EXTRA[@]}"; }

# 1. full models
train experiment=srnet/reduced_finetune seed="$SEEDS" model.loss=ce,poe "$@"
# 2. paradigm a
train experiment=srnet/reduced_mask seed="$SEEDS" model.loss=ce,poe model.sparsity="$SPARSITIES" "$@"
train experiment=srnet/reduced_imp seed="$SEEDS" model.loss=ce,poe model.sparsity="$SPARSITIES" "$@"
# 3. Table 5 (90 %)
train experiment=srnet/reduced_table5 seed="$SEEDS" model.init=hard,soft "$@"
train experiment=srnet/reduced_table5 seed="$SEEDS" model.schedule=cubic model.init=soft \
  model.initial_sparsity=0.2,0.5,0.7 "$@"
# 4. paradigms b, c and the OOD-data upper bound
train experiment=srnet/reduced_retrain seed="$SEEDS" model.loss=ce,poe model.mask_sparsity="$PARADIGM_S" "$@"
train experiment=srnet/reduced_imp_rw seed="$SEEDS" model.sparsity="$PARADIGM_S" "$@"
train experiment=srnet/reduced_mask_pt seed="$SEEDS" model.loss=ce,poe model.sparsity="$PARADIGM_S" "$@"
train experiment=srnet/reduced_ood seed="$SEEDS" model.sparsity="$PARADIGM_S" "$@"

if [[ $SMOKE -eq 0 ]]; then
  "$BIN/compresslab-table" srnet_fig2 srnet_table5 srnet_paradigms --quiet
else
  # the tables build from the smoke runs (no files written into results/)
  "$BIN/python" -c "
import sys
from compresslab.tables import srnet
for name, (build, _) in srnet.TABLES.items():
    t = build(sys.argv[1])
    assert t.rows, name
print('smoke: srnet tables build')" "$LOG_DIR"
fi

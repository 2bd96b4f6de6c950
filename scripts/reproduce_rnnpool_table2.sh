#!/usr/bin/env bash
# Reduced-scale RNNPool Table 2 (MobileNetV2 family, every downsampling row × 3 seeds) on CPU, then the table.
#   bash scripts/reproduce_rnnpool_table2.sh            # 21 runs, ~35 min on 2 CPU cores
#   bash scripts/reproduce_rnnpool_table2.sh --smoke    # every row once, 1 batch, temporary log dir ($SMOKE_LOG_DIR if set)
# Extra arguments are passed to compresslab-train (e.g. hydra/launcher=joblib hydra.launcher.n_jobs=4).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_smoke.sh
BIN="${COMPRESSLAB_BIN:-.venv/bin}"
SEEDS="1,2,3"
EXTRA=()
if [[ "${1:-}" == "--smoke" ]]; then
  shift
  SEEDS="1"
  smoke_log_dir
  EXTRA=(+trainer.fast_dev_run=true measure.enabled=false paths.log_dir="$LOG_DIR")
fi
ROWS=(
  "model.net.downsample=none model.net.last_layer_rnnpool=false,true"
  "model.net.downsample=avgpool,maxpool,strided_conv,renet model.net.last_layer_rnnpool=false"
  "model.net.downsample=rnnpool model.net.last_layer_rnnpool=false,true"
)
for row in "${ROWS[@]}"; do
  # shellcheck disable=SC2086
  "$BIN/compresslab-train" --multirun experiment=rnnpool/table2_reduced seed="$SEEDS" $row \
    logger=csv extras.print_config=false "${EXTRA[@]}" "$@"
done
if [[ ${#EXTRA[@]} -eq 0 ]]; then
  "$BIN/compresslab-table" rnnpool_table2
fi

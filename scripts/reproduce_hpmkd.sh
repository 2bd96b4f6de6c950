#!/usr/bin/env bash
# HPM-KD reduced-scale tables on CPU (budget: ~20 min on 2 idle cores):
#   1. teachers: 3 seeds × {breast_cancer, wine, digits-as-features} MLPs and 8×8-digits ResNet-20s
#   2. main: direct, KD, FitNets, TAKD, DML, then HPM-KD (last, so ACM finds the baselines' history),
#      3 seeds, on the three tables and the 8×8 digits images
#   3. ablation: HPM-KD with one component off at a time (digits as 64 features: the largest table, 3 seeds)
#   4. time: cold vs warm SOM, PPP off, SOM off, and a 3-job sweep sequential vs joblib n_jobs=2
#   then compresslab-table hpmkd_main hpmkd_ablation hpmkd_time
#
#   bash scripts/reproduce_hpmkd.sh            # everything (a fresh SOM store under the log dir), then the tables
#   bash scripts/reproduce_hpmkd.sh --smoke    # every stage once: 1 seed, 1 epoch of 2 batches, temporary log dir ($SMOKE_LOG_DIR if set)
# Sweeps run on the joblib launcher (HPMKD_JOBS parallel jobs, default 2); on SLURM use the experiment files with
# hydra/launcher=submitit_slurm instead (see conf/experiment/hpmkd/cifar*.yaml). Extra arguments go to every
# compresslab-train call (e.g. trainer=gpu). The log dir is $COMPRESSLAB_LOG_DIR or logs/; move earlier HPM-KD
# runs away first, or the tables count them as extra seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_smoke.sh
BIN="${COMPRESSLAB_BIN:-.venv/bin}"
SEEDS="1,2,3"
TEACHER_SEEDS="0,1,2"   # always three: AWMT mixes three teachers
TABLES="tabular/breast_cancer,tabular/wine,tabular/digits"
BASELINES="hpmkd/direct,hpmkd/kd,hpmkd/fitnets,hpmkd/takd,hpmkd/dml"
ABLATE="acm pdc awmt mts ppp som"
ABLATE_DATA="tabular/digits"
JOBS="${HPMKD_JOBS:-2}"
LOG_DIR="${COMPRESSLAB_LOG_DIR:-logs}"
EXTRA=(logger=csv extras.print_config=false callbacks.rich_progress_bar=null callbacks.model_summary=null)
SMOKE=0
if [[ "${1:-}" == "--smoke" ]]; then
  shift
  SMOKE=1
  SEEDS="1"; TABLES="tabular/breast_cancer"; ABLATE="pdc"; ABLATE_DATA="tabular/breast_cancer"
  smoke_log_dir
  # real (tiny) epochs, not fast_dev_run: the teacher runs must write the checkpoints the students load
  EXTRA+=(trainer.max_epochs=1 trainer.limit_train_batches=2 trainer.limit_val_batches=1 trainer.limit_test_batches=1
          measure.enabled=false)
fi
EXTRA+=(paths.log_dir="$LOG_DIR")
export COMPRESSLAB_SOM_DIR="$LOG_DIR/hpmkd_som"
# one intra-op thread per job: the models are small, and two jobs share the two cores (joblib does the same
# inside its workers); two threads per tiny model spin against each other on a busy machine
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
PAR=(hydra/launcher=joblib hydra.launcher.n_jobs="$JOBS")
train() { "$BIN/compresslab-train" "$@" "${EXTRA[@]}"; }
now() { date +%s.%N; }
# record_sweep <row> <start> <end>: the wall time of a whole multirun, as a metrics.json the time table reads
record_sweep() {
  "$BIN/python" - "$LOG_DIR/hpmkd_time_sweeps/$1/metrics.json" "$1" "$2" "$3" <<'PY'
import sys
from compresslab.utils.io import atomic_write_json
path, row, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
paper = {"name": "hpmkd", "table": "hpmkd_time", "row": row, "scale": "reduced"}
atomic_write_json(path, {"metrics": {"time/sweep_s": end - start}, "config": {"paper": paper}})
print(f"{row}: {end - start:.1f} s")
PY
}

mkdir -p "$LOG_DIR"
"$BIN/compresslab-som" --root "$COMPRESSLAB_SOM_DIR" clear --all   # a reproduction starts from an empty memory
rm -rf "$LOG_DIR/hpmkd_time_som"

# 1. teachers (fixed run dirs: logs/hpmkd/teachers/<data>/seed<k>)
train -m experiment=hpmkd/tabular_teacher seed="$TEACHER_SEEDS" data="$TABLES" "${PAR[@]}" "$@"
train -m experiment=hpmkd/digits_teacher seed="$TEACHER_SEEDS" "${PAR[@]}" "$@"

# 2. main table: baselines first, HPM-KD last in each sweep
train -m experiment=hpmkd/tabular model="$BASELINES,hpmkd/hpmkd" seed="$SEEDS" data="$TABLES" "${PAR[@]}" "$@"
train -m experiment=hpmkd/digits model="$BASELINES,hpmkd/hpmkd" seed="$SEEDS" "${PAR[@]}" "$@"

# 3. ablation: one component off at a time
for c in $ABLATE; do
  train -m experiment=hpmkd/tabular data="$ABLATE_DATA" model.components."$c"=false seed="$SEEDS" \
    "${PAR[@]}" "$@"
done

# 4. time table (sequential, so that the per-run times are comparable): each cold run gets its own empty SOM
TIME=(experiment=hpmkd/tabular data=tabular/breast_cancer paper.table=hpmkd_time model.acm.refine=false)
train -m "${TIME[@]}" seed="$SEEDS" paper.row=cold 'model.som_dir=${paths.log_dir}/hpmkd_time_som/seed${seed}' "$@"
train -m "${TIME[@]}" seed="$SEEDS" paper.row=warm 'model.som_dir=${paths.log_dir}/hpmkd_time_som/seed${seed}' "$@"
train -m "${TIME[@]}" seed="$SEEDS" paper.row=no_ppp model.components.ppp=false \
  'model.som_dir=${paths.log_dir}/hpmkd_time_som/noppp_seed${seed}' "$@"
start=$(now)
train -m "${TIME[@]}" seed="$SEEDS" paper.row=no_som model.components.som=false "$@"
record_sweep sweep_n1 "$start" "$(now)"
start=$(now)
train -m "${TIME[@]}" seed="$SEEDS" paper.row=sweep_job model.components.som=false "${PAR[@]}" "$@"
record_sweep sweep_n2 "$start" "$(now)"

if [[ $SMOKE -eq 0 ]]; then
  "$BIN/compresslab-som" --root "$COMPRESSLAB_SOM_DIR" list --limit 5
  "$BIN/compresslab-table" hpmkd_main hpmkd_ablation hpmkd_time --log-dir "$LOG_DIR" --quiet
fi

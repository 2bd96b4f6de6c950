#!/usr/bin/env bash
# One check a GPU user runs (issue: GPU readiness). Under 8 minutes on one GPU:
#   1. the GPU tests: `pytest -m gpu` (bf16 step of every family, RNNPool operator GPU = CPU, the _cudnn_rnn MAdds
#      closed form, DDP over every visible GPU = one process);
#   2. benchmarks/gpu_throughput.py (DeiT-S images/s through compresslab's module vs a plain timm loop, + compile);
#   3. benchmarks/learngene.py and benchmarks/rnnpool_operator.py on the GPU;
# then writes results/gpu_check.md with the device name (scripts/gpu_check_report.py).
#
#   bash scripts/gpu_check.sh                 # on a GPU machine
#   bash scripts/gpu_check.sh --cpu-dry-run   # here: the same steps at toy size on CPU, report to logs/ (never results/)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
DRY=0
OUT=results/gpu_check.md
for arg in "$@"; do
  case $arg in
    --cpu-dry-run) DRY=1; OUT=logs/gpu_check/gpu_check_dry_run.md ;;
    --out=*) OUT=${arg#--out=} ;;
    *) echo "gpu_check.sh: unknown argument '$arg' (use --cpu-dry-run or --out=FILE)" >&2; exit 2 ;;
  esac
done
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 WANDB_MODE=offline
start=$(date +%s)
status=0
step() { echo "== $1 ($(( $(date +%s) - start )) s)"; }

step "GPU tests"
if [ $DRY = 1 ]; then SEL=(-m gpu -k "not ddp"); else SEL=(-m gpu); fi
$PY -m pytest tests/test_gpu.py tests/test_precision.py "${SEL[@]}" -rs -q -p no:cacheprovider \
  --junitxml="$WORK/pytest.xml" 2>&1 | tee "$WORK/pytest.txt" || status=1

step "training throughput"
if [ $DRY = 1 ]; then TP=(--cpu-dry-run --no-compile); else TP=(); fi
$PY benchmarks/gpu_throughput.py "${TP[@]}" 2>&1 | tee "$WORK/throughput.txt" || status=1

step "learngene train step"
if [ $DRY = 1 ]; then LG=(--batch 2 --img-size 32 --repeats 1 --warmup 0 --skip-recompose);
else LG=(--device cuda --model deit_small_patch16_224 --batch 128 --amp --repeats 10 --warmup 3 --skip-recompose); fi
$PY benchmarks/learngene.py "${LG[@]}" 2>&1 | tee "$WORK/learngene.txt" || status=1

step "RNNPool operator"
if [ $DRY = 1 ]; then RP=(--batch 1 --size 32 --repeats 1 --warmup 0 --no-backward);
else RP=(--device cuda --repeats 20 --warmup 5); fi
$PY benchmarks/rnnpool_operator.py "${RP[@]}" 2>&1 | tee "$WORK/rnnpool.txt" || status=1

step "report"
$PY scripts/gpu_check_report.py "$WORK" --out "$OUT" --seconds $(( $(date +%s) - start )) $([ $DRY = 1 ] && echo --dry-run) || status=1
echo "gpu_check: wrote $OUT in $(( $(date +%s) - start )) s (status $status)"
exit $status

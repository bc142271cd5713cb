#!/usr/bin/env bash
# The GPU-machine check of issue 19: fits 8 minutes on 16 cores and one NVIDIA GPU (the
# parts' time limits add up to 480 s).
#
#   make install && bash benchmarks/device_check.sh            # the full check
#   bash benchmarks/device_check.sh --cpu-only                 # every part tiny, no GPU
#   bash benchmarks/device_check.sh --only hpo8,ablation       # some parts
#   bash benchmarks/device_check.sh --out DIR                  # logs (default a temp dir)
#
# Parts (each its own process and Ray, with its own time limit):
#   hpo8, hpo16  the paper's HPO (Fashion-MNIST CNN, Maggy's space, N = 100 random trials,
#                async + the paper's median rule vs synchronous) on 8 and 16 real workers
#   ablation     Titanic LOCO ablation at 1, 2, 4 and 8 workers (benchmarks/ablation_scaling.py)
#   allreduce    all-reduce training on the GPU (torch DDP, NCCL; benchmarks/training_scaling.py)
#   serving      serving with dynamic batching (benchmarks/serving.py); eo.serving.deploy
#                reserves no GPU, so its replicas run on CPU: the summary says so
#   mapping      eo.mapping.predict with num_gpus=1 against the hand-written loop
#                (benchmarks/mapping.py --num-gpus 1)
# GPU parts are skipped with a message when there is no GPU or torch has no CUDA. While a
# GPU part runs, nvidia-smi is sampled every second: the summary shows the GPU's peak
# utilisation and memory, which says whether the work really ran on it.
# Needs: the project installed (`make install`: .venv with eo-ray and torch; on a GPU
# machine torch must be a CUDA build: `.venv/bin/pip install torch==2.13.0` from PyPI is)
# and the datasets under EO_RAY_DATA (default ../shared/data). Installs nothing itself.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
export EO_RAY_DATA=${EO_RAY_DATA:-$(cd .. && pwd)/shared/data}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-3}

CPU_ONLY=0
ONLY="hpo8,hpo16,ablation,allreduce,serving,mapping"
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu-only) CPU_ONLY=1 ;;
    --only) ONLY="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "device_check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$(mktemp -d -t eo-ray-device-check-XXXX)}
mkdir -p "$OUT"

GPU=0
GPU_NOTE="no GPU"
if [ "$CPU_ONLY" = 1 ]; then
  GPU_NOTE="--cpu-only"
elif command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  if "$PY" -c "import sys, torch; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    GPU=1
    GPU_NOTE=$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)
  else
    GPU_NOTE="nvidia-smi sees a GPU but torch has no CUDA (install a CUDA torch build)"
  fi
fi
NCCL=$("$PY" -c "import torch.distributed as d; print(d.is_nccl_available())" 2>/dev/null)

echo "eo-ray device check · $(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) CPUs · GPU: $GPU_NOTE · NCCL: ${NCCL:-?} · logs: $OUT"

SUMMARY=()
SAMPLER=""

start_gpu_sampler() {  # $1: csv file
  [ "$GPU" = 1 ] || return 0
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -l 1 \
    > "$1" 2>/dev/null &
  SAMPLER=$!
}

stop_gpu_sampler() {  # $1: csv file; prints "peak util %, peak MiB"
  [ -n "$SAMPLER" ] || { echo "-"; return 0; }
  kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; SAMPLER=""
  awk -F', *' '{ if ($1 > u) u = $1; if ($2 > m) m = $2 } END { printf "GPU peak %d %%, %d MiB", u, m }' "$1"
}

# part NAME NEEDS_GPU TIMEOUT_S RESULT_REGEX -- COMMAND...
part() {
  local name=$1 needs_gpu=$2 limit=$3 pattern=$4
  shift 5
  case ",$ONLY," in *",$name,"*) ;; *) return 0 ;; esac
  if [ "$needs_gpu" = 1 ] && [ "$GPU" = 0 ]; then
    SUMMARY+=("$(printf '%-10s SKIP   %5s  %s' "$name" "-" "needs a GPU ($GPU_NOTE)")")
    echo "== $name: skipped, needs a GPU ($GPU_NOTE)"
    return 0
  fi
  echo "== $name: $*"
  local log="$OUT/$name.log" began rc status result gpu
  began=$(date +%s)
  [ "$needs_gpu" = 1 ] && start_gpu_sampler "$OUT/$name.gpu.csv"
  timeout "$limit" "$@" > "$log" 2>&1
  rc=$?
  gpu=$(stop_gpu_sampler "$OUT/$name.gpu.csv")
  case $rc in 0) status=ok ;; 124) status=TIMEOUT ;; *) status="FAIL($rc)" ;; esac
  result=$(grep -E "$pattern" "$log" | tail -3 | tr -s ' ' | paste -sd ';' -)
  [ "$status" = ok ] || tail -5 "$log" | sed 's/^/    /'
  SUMMARY+=("$(printf '%-10s %-6s %4ss  %s%s' "$name" "$status" "$(( $(date +%s) - began ))" \
    "${result:-see $log}" "$([ "$gpu" = - ] || echo " · $gpu")")")
}

HPO_RUN=(--grace 1 --reports-per-epoch 1 --cpus-per-worker 1)
if [ "$CPU_ONLY" = 1 ]; then
  HPO=(--trials 4 --epochs 1 --train-size 256 --test-size 128)
  part hpo8 0 240 "ratio async/sync|best-accuracy" -- \
    "$PY" benchmarks/hpo_async_vs_sync.py --workers 2 "${HPO[@]}" "${HPO_RUN[@]}" --min-trials 1 --min-finished 1
  part ablation 0 240 "^\| [0-9]" -- \
    "$PY" benchmarks/ablation_scaling.py --workers 1 2 --repeats 1 --epochs 1 --rounds 1 --no-reference
  part allreduce 0 240 "^\| allreduce" -- \
    "$PY" benchmarks/training_scaling.py --quick --workers 1 --skip-tf --allreduce-only
  part serving 0 300 "Batching gain|Logging cost" -- \
    "$PY" benchmarks/serving.py --requests 40 --rounds 1 --epochs 1 --workers 1 --results ''
  part mapping 0 240 "^chip " -- \
    "$PY" benchmarks/mapping.py --sides 1024 --models chip
else
  # the paper's rule: in effect once four trials have finished
  HPO=(--trials 100 --epochs 4 --train-size 3000 --test-size 1000 --min-trials 4 --min-finished 4)
  part hpo8 0 120 "ratio async/sync|best-accuracy" -- \
    "$PY" benchmarks/hpo_async_vs_sync.py --workers 8 "${HPO[@]}" "${HPO_RUN[@]}"
  part hpo16 0 80 "ratio async/sync|best-accuracy" -- \
    "$PY" benchmarks/hpo_async_vs_sync.py --workers 16 "${HPO[@]}" "${HPO_RUN[@]}"
  part ablation 0 80 "efficiency per round" -- \
    "$PY" benchmarks/ablation_scaling.py --workers 1 2 4 8 --repeats 2 --rounds 1 --no-reference
  part allreduce 1 60 "^\| (reference|allreduce)" -- \
    "$PY" benchmarks/training_scaling.py --gpu --workers 1 --skip-tf --allreduce-only --samples 60000 --epochs 3
  part serving 1 90 "Batching gain|Logging cost" -- \
    "$PY" benchmarks/serving.py --requests 200 --rounds 1 --epochs 2 --results ''
  part mapping 1 50 "^chip " -- \
    "$PY" benchmarks/mapping.py --sides 5490 --models chip --num-gpus 1
fi

echo
echo "== summary (part, status, seconds, result)"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
case " ${SUMMARY[*]} " in *FAIL*|*TIMEOUT*) exit 1 ;; esac
exit 0

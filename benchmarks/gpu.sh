#!/usr/bin/env bash
# The CUDA path, measured in one go: wheels, environment, the cuda-flagged notebook cells, bench_evaluate.py and a
# search with the `large` budget; every figure lands in OUT/results.json and OUT/results.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bash benchmarks/gpu.sh [OUT] [--out DIR] [--device DEV] [--tiny] [--work DIR] [--time-limit S]

Measures the CUDA path of modulenas in one run (about 10 minutes on a GPU), step by step:
  wheels          install pymoo, fastcore, ... from .whl/ when they do not import (see ../shared/tools/device-wheels.sh)
  environment     Python, torch, CUDA, the GPU (nvidia-smi), the packages and the data it will use
  cuda_cells      the notebooks' `#| cuda` cells (nbdev-test --flags cuda); skipped without nbdev or a GPU
  bench_evaluate  benchmarks/bench_evaluate.py: candidates/s, evaluator vs plain forward images/s, peak memory
  knowledge_base  a knowledge base cut from the zoo
  search          modulenas-search with the `large` budget's sizes (population 40 x 25 generations, 5,000
                  validation images) and its random baseline, timed
A failed step is recorded with its exit status and the next one runs; the exit status is 1 if any step failed.

options:
  OUT, --out DIR   output folder for results.json, results.md, bench_evaluate.json, pareto.json, steps.log
                   (default: $OUT if set, else runs/gpu)
  --device DEV     cuda (default) or cpu
  --tiny           a tiny budget that checks the script end to end on a CPU in a minute or two: two zoo ResNets,
                   3 candidates, 64 validation and 32 calibration images, a search of population 4 x 2
                   generations without the random baseline
  --work DIR       where the knowledge bases and the search run go (default: a temporary folder, removed at the end)
  --time-limit S   stop the steps S seconds after the start, the search included, and record what they did by then
                   (a search stopped in a --work folder continues with modulenas-resume DIR/search);
                   default 540 on cuda without --tiny, else none
  -h, --help       this text

On a CPU:  bash benchmarks/gpu.sh --device cpu --tiny
On a GPU:  bash benchmarks/gpu.sh --out "$OUT"
EOF
}

out="${OUT:-runs/gpu}" device=cuda budget=large work='' time_limit=''
while (($#)); do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --out) out="${2:?--out needs a folder}"; shift 2 ;;
    --device) device="${2:?--device needs a value}"; shift 2 ;;
    --tiny) budget=tiny; shift ;;
    --work) work="${2:?--work needs a folder}"; shift 2 ;;
    --time-limit) time_limit="${2:?--time-limit needs seconds}"; shift 2 ;;
    -*) echo "error: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) out="$1"; shift ;;
  esac
done
case "$device" in cpu|cuda|cuda:*) ;; *) echo "error: --device must be cpu or cuda, not $device" >&2; exit 2 ;; esac
[[ -z "$time_limit" && "$device" != cpu && "$budget" == large ]] && time_limit=540

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PYTHON:-python3}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
[[ -n "$work" ]] || work="$tmp/work"
mkdir -p "$out" "$work"
out="$(cd "$out" && pwd)" work="$(cd "$work" && pwd)"
cd "$root"
rm -f "$out"/{steps.jsonl,steps.log,env.json,bench_evaluate.json,search.json,pareto.json,results.json,results.md}
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
steps="$root/benchmarks/gpu_steps.py"
start=$SECONDS
failed=0

left() {  # seconds left to the next step under --time-limit, keeping 15 s for the summary
  if [[ -n "$time_limit" ]]; then echo "--limit $((time_limit - (SECONDS - start) - 15))"; fi
}
step() {  # step NAME COMMAND...: run and record it; a failure is counted, not fatal
  local name="$1"; shift
  # shellcheck disable=SC2046
  "$py" "$steps" run "$out" "$name" $(left) -- "$@" || failed=1
}
skip() { "$py" "$steps" skip "$out" "$1" "$2"; }

if [[ "$budget" == tiny ]]; then
  models='resnet[23][02]'
  bench_args=(--models "$models" --n-cands 3 --n-val 64 --n-calib 32)
else
  models='*'
  bench_args=(--n-val 5000 --n-calib 1000)
fi

# 1. what the machine lacks, from wheels carried along in .whl/
if "$py" -c 'import pymoo, fastcore' 2>/dev/null; then
  skip wheels 'pymoo and fastcore import already'
elif ! compgen -G '.whl/*.whl' >/dev/null; then
  skip wheels 'pymoo or fastcore missing and no .whl/ folder: run bash ../shared/tools/device-wheels.sh first'
else
  step wheels "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$tmp/site" .whl/*.whl
  export PYTHONPATH="$tmp/site:$PYTHONPATH"
fi
step environment "$py" "$steps" env "$out" "$device"

# 2. the notebook cells that need a GPU
if [[ "$device" == cpu ]]; then
  skip cuda_cells 'no CUDA device (--device cpu)'
elif ! "$py" -c 'import nbdev' 2>/dev/null; then
  skip cuda_cells 'skipped: nbdev not installed'
else
  step cuda_cells "$py" "$steps" cells
fi

# 3. the evaluator's throughput
step bench_evaluate "$py" benchmarks/bench_evaluate.py --device "$device" --kb "$work/kb-bench" "${bench_args[@]}" \
  --out "$out/bench_evaluate.json"

# 4. a search with the large budget (or the tiny one)
step knowledge_base "$py" -c 'import sys; from modulenas.cli import build_kb; build_kb(sys.argv[1], sys.argv[2])' \
  "$work/kb" "$models"
step search "$py" "$steps" search "$work/kb" "$work/search" "$out/search.json" "$budget" "$device"

# 5. every figure in one file
"$py" "$steps" summary "$out" "$work/search" "$device" "$budget" "$work" || failed=1
echo "results: $out/results.json, $out/results.md"
exit "$failed"

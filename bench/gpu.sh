#!/usr/bin/env bash
# The GPU benchmarks in one run, for a GPU node that has its own torch (python3 imports it) and no network
# (docs/install.md: with LATFLOW_DEPS_PREFIX pointing at unpacked Debian packages, nothing is installed):
#
#   1. builds latflow and the benchmarks in BUILD_DIR against python3's torch;
#   2. runs the [cuda] tests (ctest label cuda);
#   3. bench_operator and bench_training_step on the device (step time and peak memory per L);
#   4. time to ESS 0.9 with the quickstart card at lcp-L16 and gerdes-L32 (each capped at TTE_SECONDS of
#      training), then `latflow eval --n 8192` of each run, which prints the solver-error check beside the ESS.
#
#   bench/gpu.sh [BUILD_DIR]        default build-gpu
#   env: DEVICE=cuda (cpu checks the script itself), TTE_SECONDS=90, SIZES="8 16 32 64 128", JOBS=$(nproc)
#        LATFLOW_DEPS_PREFIX as in docs/install.md
#
# Everything printed goes to bench/results/gpu-<UTC time>.txt as well. Budgeted for under 8 minutes on a
# 16-core GPU node (a build from scratch, the two time-to-ESS runs capped at TTE_SECONDS each); not yet run
# on one: no GPU was lent to this work, and DEVICE=cpu is how the script itself was checked. Record the
# numbers in bench/RESULTS.md with the machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${1:-build-gpu}"
device="${DEVICE:-cuda}"; tte="${TTE_SECONDS:-90}"; sizes="${SIZES:-8 16 32 64 128}"; jobs="${JOBS:-$(nproc)}"
mkdir -p bench/results
log="bench/results/gpu-$(date -u +%Y%m%dT%H%M%SZ).txt"
exec > >(tee "$log") 2>&1
runs="$(mktemp -d)"; trap 'rm -rf "$runs"' EXIT
section() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

section "machine"
echo "host $(hostname), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch; print("python3 torch", torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null ||
  echo "python3 has no torch (the build uses what scripts/setup.sh found)"
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"

section "build"
make --no-print-directory BUILD="$build" JOBS="$jobs" build
cmake --build "$build" --target bench_operator bench_training_step -j "$jobs"

section "[cuda] tests"
if [[ "$device" == cuda* ]]; then
  (cd "$build" && ctest -L cuda --output-on-failure)
else
  echo "skipped: DEVICE=$device"
fi

section "bench_operator"
"$build/bench/bench_operator" --device "$device"

section "bench_training_step"
# shellcheck disable=SC2086
"$build/bench/bench_training_step" --device "$device" --L $sizes

section "time to ESS 0.9 (quickstart card, at most ${tte} s of training each)"
for preset in lcp-L16 gerdes-L32; do
  run="$runs/$preset"
  "$build/latflow" train experiments/runcards/quickstart.toml --device "$device" --out "$run" \
    --set "lattice.preset=$preset" train.target=0.9 train.steps=100000 train.eval_every=50 \
          "train.max_seconds=$tte" eval.transfer_L=0 eval.hmc=false >/dev/null
  python3 - "$run/results.json" "$preset" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))["train"]
reached = t["steps_to_target"] >= 0
print(f"{sys.argv[2]}: {'reached ESS 0.9 at step ' + str(t['steps_to_target']) + ' after ' + format(t['seconds_to_target'], '.1f') + ' s' if reached else 'ESS 0.9 not reached'}"
      f"; {t['steps']} steps, {t['seconds_per_step'] * 1e3:.1f} ms/step")
EOF
  "$build/latflow" eval "$run" --n 8192 --device "$device"
done

section "done"
echo "written to $log"

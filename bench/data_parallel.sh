#!/usr/bin/env bash
# Training throughput of data parallelism on this machine: samples per second of `latflow train` for
# 1 process x T threads against P processes x T/P threads (`--nproc P`, c10d/Gloo on loopback), and 1 x 1
# for scale, per lattice size, with the quickstart card's operator CNF (the same global batch and steps in
# every configuration).
#
#   bench/data_parallel.sh [BUILD_DIR] [STEPS]      defaults: build, 40
#   env: PRESETS="albergo-L8 gerdes-L12 gerdes-L20 gerdes-L32"  BATCH=64  PROCS=2  THREADS=2 (the cores shared)
#        REPEATS=3 (the median and range over repeats are printed)
#        CARD=experiments/runcards/quickstart.toml
#
# One row per (lattice, configuration): samples/s = batch / (training seconds per step) from results.json,
# median [min, max] over REPEATS runs.
# Each measured run is preceded by a discarded 5-step run of the same configuration (page cache, allocator).
set -euo pipefail
build="${1:-build}"; steps="${2:-40}"
presets="${PRESETS:-albergo-L8 gerdes-L12 gerdes-L20 gerdes-L32}"; repeats="${REPEATS:-3}"; batch="${BATCH:-64}"; procs="${PROCS:-2}"; threads="${THREADS:-2}"
card="${CARD:-experiments/runcards/quickstart.toml}"
latflow="$build/latflow"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
common=(--set "train.steps=$steps" "train.batch=$batch" train.eval_every=0 "train.checkpoint_every=$steps" eval.hmc=false)
rate() {  # samples per second of the run in $1
  python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['train']; print(f\"{$batch / t['seconds_per_step']:.1f}\")" "$1/results.json"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "card: $card, batch $batch, $steps steps, eval off"
printf "%-12s %-16s %s\n" lattice configuration "samples/s: median [min, max]"
for preset in $presets; do
  for config in "1:$threads" "1:1" "$procs:$(( threads / procs > 0 ? threads / procs : 1 ))"; do
    p=${config%%:*}; t=${config##*:}
    name="$p x $t thread$([[ $t == 1 ]] || echo s)"
    args=("${common[@]}" "lattice.preset=$preset")
    [[ $p == 1 ]] || args=(--nproc "$p" "${args[@]}")
    "$latflow" train "$card" --threads "$t" --out "$out/warm" --force "${args[@]}" "train.steps=5" "train.checkpoint_every=5" >/dev/null 2>&1
    rates=()
    for ((i = 0; i < repeats; ++i)); do
      "$latflow" train "$card" --threads "$t" --out "$out/run" --force "${args[@]}" >/dev/null 2>&1
      rates+=("$(rate "$out/run")")
    done
    printf "%-12s %-16s %s\n" "$preset" "$name" "$(printf '%s\n' "${rates[@]}" | sort -g | awk '{v[NR]=$1} END {printf "%.0f [%.0f, %.0f]", v[int((NR+1)/2)], v[1], v[NR]}')"
  done
done

#!/usr/bin/env bash
# Idempotent setup of everything latflow needs to build, run and plot.
#
#   scripts/setup.sh [BUILD_DIR]   install what is missing; write BUILD_DIR/deps.env (default build/)
#
# 1. Debian packages (Ninja, Boost.Odeint, FFTW, Eigen, GSL, gloo headers, Catch2, CLI11, toml++, nlohmann-json):
#    installed with apt-get only when one is missing, so this does nothing on a prepared host.
# 2. LibTorch 2.11, taken from the first of:
#      a. Torch_DIR or a CMAKE_PREFIX_PATH that holds a TorchConfig.cmake (install nothing);
#      b. a torch 2.x importable by python3 (GPU nodes ship one and have no network);
#      c. the PyPI wheel torch==2.11.0 in a virtual environment cached per user in
#         ${LATFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/latflow}, shared by every clone.
# 3. matplotlib for the plots, in that same cached environment (or python3's own if it has one).
#
# The result is written to BUILD_DIR/deps.env (sourced by the Makefile): TORCH_PREFIX and LATFLOW_PYTHON.
# Hosts without root or network: see docs/install.md (scripts/offline-deps.sh unpacks Debian packages
# into a prefix).
set -euo pipefail

TORCH_VERSION=2.11.0
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${LATFLOW_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/latflow}"
venv="$cache/venv-torch-$TORCH_VERSION"
say() { echo "[setup] $*" >&2; }

# ---- 1. Debian packages --------------------------------------------------------------------------
debs=(build-essential cmake ninja-build pkg-config libboost-dev libfftw3-dev libeigen3-dev libgsl-dev libgloo-dev catch2 libcli11-dev
      libtomlplusplus-dev nlohmann-json3-dev python3-venv)
have_headers() {
  # A prefix given through LATFLOW_DEPS_PREFIX (offline hosts) counts as installed.
  local p="${LATFLOW_DEPS_PREFIX:-}"
  for h in boost/numeric/odeint.hpp fftw3.h eigen3/Eigen/Core gsl/gsl_monte_vegas.h gloo/algorithm.h catch2/catch.hpp CLI/CLI.hpp \
           toml++/toml.h nlohmann/json.hpp; do
    [[ -e "/usr/include/$h" || ( -n "$p" && -e "$p/usr/include/$h" ) ]] || return 1
  done
}
if have_headers && command -v cmake >/dev/null && command -v g++ >/dev/null && command -v ninja >/dev/null; then
  say "C++ dependencies present"
elif [[ -n "${LATFLOW_DEPS_PREFIX:-}" ]]; then
  say "error: LATFLOW_DEPS_PREFIX=$LATFLOW_DEPS_PREFIX lacks some headers (see scripts/offline-deps.sh)"; exit 1
else
  missing=()
  for d in "${debs[@]}"; do dpkg -s "$d" >/dev/null 2>&1 || missing+=("$d"); done
  if ((${#missing[@]})); then
    say "installing Debian packages: ${missing[*]}"
    sudo_=""; [[ $(id -u) -ne 0 ]] && sudo_="sudo"
    if ! $sudo_ apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
      $sudo_ apt-get update -qq
      $sudo_ apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
    fi
  fi
fi

# ---- 2. LibTorch ---------------------------------------------------------------------------------
torch_prefix=""
python=""
find_torch_config() {  # $1: a ';' or ':' separated list of prefixes
  local IFS=';:'
  for p in $1; do
    [[ -z "$p" ]] && continue
    for c in "$p" "$p/share/cmake/Torch" "$p/lib/cmake/Torch"; do
      [[ -f "$c/TorchConfig.cmake" ]] && { echo "$p"; return 0; }
    done
  done
  return 1
}
torch_ok() {  # $1: python; prints the cmake prefix of a torch 2.x it imports
  "$1" - <<'PY' 2>/dev/null
import torch, torch.utils
assert torch.__version__.split('.')[0] == '2'
print(torch.utils.cmake_prefix_path)
PY
}
if [[ -n "${Torch_DIR:-}" ]]; then
  torch_prefix="$Torch_DIR"; say "LibTorch from Torch_DIR=$Torch_DIR"
elif p=$(find_torch_config "${CMAKE_PREFIX_PATH:-}"); then
  torch_prefix="$p"; say "LibTorch from CMAKE_PREFIX_PATH ($p)"
elif command -v python3 >/dev/null && p=$(torch_ok python3); then
  torch_prefix="$p"; python=python3; say "LibTorch from python3's torch ($p)"
else
  # The marker is written last, so an interrupted install is redone rather than half-used.
  if [[ ! -f "$venv/.latflow-complete" ]] || ! p=$(torch_ok "$venv/bin/python"); then
    say "installing torch==$TORCH_VERSION from PyPI into $venv (once per user; ~5 GB, a few minutes)"
    rm -rf "$venv"
    mkdir -p "$cache"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION" numpy matplotlib
    touch "$venv/.latflow-complete"
    p=$(torch_ok "$venv/bin/python")
  fi
  torch_prefix="$p"; python="$venv/bin/python"; say "LibTorch from $venv"
fi

# ---- 3. matplotlib for plots ---------------------------------------------------------------------
plot_python=""
for cand in "$python" "$venv/bin/python" python3; do
  [[ -z "$cand" ]] && continue
  if "$cand" -c 'import matplotlib, numpy' 2>/dev/null; then plot_python="$cand"; break; fi
done
if [[ -z "$plot_python" && -x "$venv/bin/python" ]]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check numpy matplotlib && plot_python="$venv/bin/python"
fi
[[ -z "$plot_python" ]] && say "warning: no python with matplotlib found; plots will be skipped"

out_dir="${1:-$root/build}"
mkdir -p "$out_dir"
prefix="${LATFLOW_DEPS_PREFIX:-}"
{
  echo "TORCH_PREFIX=$torch_prefix"
  echo "LATFLOW_PYTHON=${plot_python:-}"
  if [[ -n "$prefix" ]]; then
    # Packages unpacked with scripts/offline-deps.sh: CMake configs and pkg-config files live there.
    echo "DEPS_CMAKE_PREFIX=$prefix/usr"
    echo "PKG_CONFIG_PATH=$prefix/usr/lib/x86_64-linux-gnu/pkgconfig:$prefix/usr/share/pkgconfig"
    echo "PKG_CONFIG_SYSROOT_DIR=$prefix"
  fi
} > "$out_dir/deps.env"
say "wrote $out_dir/deps.env"

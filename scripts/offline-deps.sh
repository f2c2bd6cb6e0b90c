#!/usr/bin/env bash
# C/C++ dependencies for hosts without root or network (GPU cluster nodes), as Debian 12 packages
# unpacked into a prefix. LibTorch there comes from the node's own python3 torch (or Torch_DIR).
#
#   on a Debian 12 machine with network:   scripts/offline-deps.sh download DEBS_DIR
#   copy DEBS_DIR to the node, then:       scripts/offline-deps.sh unpack DEBS_DIR PREFIX
#   and build with:                        LATFLOW_DEPS_PREFIX=PREFIX make test
#
# scripts/setup.sh reads LATFLOW_DEPS_PREFIX and points CMake and pkg-config into the prefix.
set -euo pipefail
pkgs=(libboost1.74-dev libfftw3-dev libfftw3-double3 libfftw3-single3 libfftw3-long3 libfftw3-bin
      libeigen3-dev libgsl-dev libgsl27 libgslcblas0 libgloo-dev catch2 libcli11-dev libtomlplusplus-dev libtomlplusplus3 nlohmann-json3-dev)
case "${1:-}" in
  download)
    dir="${2:?usage: $0 download DEBS_DIR}"
    mkdir -p "$dir" && cd "$dir"
    apt-get download "${pkgs[@]}"
    echo "downloaded $(ls ./*.deb | wc -l) packages into $dir" ;;
  unpack)
    dir="${2:?usage: $0 unpack DEBS_DIR PREFIX}"; prefix="${3:?usage: $0 unpack DEBS_DIR PREFIX}"
    mkdir -p "$prefix"
    for f in "$dir"/*.deb; do dpkg -x "$f" "$prefix"; done
    echo "unpacked into $prefix; now: LATFLOW_DEPS_PREFIX=$prefix make test" ;;
  *)
    sed -n '2,10p' "$0"; exit 2 ;;
esac

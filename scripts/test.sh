#!/usr/bin/env bash
# Installs the system packages, builds reftune and runs every test suite with CTest.
# Tests that need PostgreSQL start their own throwaway server; nothing must be running beforehand.
# Environment: BUILD_DIR (default build), JOBS (default: the number of cores),
# REFTUNE_DATA_DIR (default ../shared/data next to the checkout), REFTUNE_GOLDEN_DIR (default: the
# golden folder beside the data folder). Extra arguments go to ctest, e.g. -L store.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
jobs=${JOBS:-$(nproc)}

if [ "$(id -u)" -eq 0 ]; then
  bash "$root/scripts/install-deps.sh"
else
  echo "test: not root, skipping the package install (run scripts/install-deps.sh as root once)"
fi

if [ -z "${REFTUNE_DATA_DIR:-}" ] && [ -d "$root/../shared/data" ]; then
  export REFTUNE_DATA_DIR=$(cd "$root/../shared/data" && pwd)
fi
if [ ! -f "${REFTUNE_DATA_DIR:-}/stories260K/stories260K.bin" ]; then
  echo "test: the data folder '${REFTUNE_DATA_DIR:-../shared/data}' has no stories260K/stories260K.bin;" \
    "set REFTUNE_DATA_DIR to the folder with the public data sets and the stories260K model" >&2
  exit 2
fi
if [ -z "${REFTUNE_GOLDEN_DIR:-}" ] && [ -d "$REFTUNE_DATA_DIR/../golden" ]; then
  export REFTUNE_GOLDEN_DIR=$(cd "$REFTUNE_DATA_DIR/../golden" && pwd)
fi

# ccache keys on paths relative to the checkout, so a fresh clone reuses an earlier clone's objects.
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}

start=$(date +%s)
cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$jobs"
built=$(date +%s)
echo "test: build took $((built - start)) s"

cd "$build_dir"
ctest --output-on-failure -j "${CTEST_JOBS:-1}" "$@"
echo "test: tests took $(( $(date +%s) - built )) s"

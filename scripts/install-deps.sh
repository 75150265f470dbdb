#!/usr/bin/env bash
# Installs every Debian 12 package reftune needs to build, test and run.
# Idempotent: apt-get skips what is already installed. Run as root.
set -euo pipefail

packages=(
  # Toolchain.
  build-essential cmake ninja-build pkg-config ccache git
  # gRPC and Protobuf, with the standard health proto for clients and probes.
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  # Core libraries.
  libabsl-dev libgoogle-glog-dev libgflags-dev libssl-dev openssl
  nlohmann-json3-dev libcli11-dev
  # Model: LibTorch (CPU) with an optimised BLAS, and sentencepiece tokenizers.
  libtorch-dev libopenblas0-openmp libsentencepiece-dev sentencepiece
  # Store and metrics.
  libpqxx-dev postgresql prometheus-cpp-dev
  # Tests.
  libgtest-dev libgmock-dev
  # Python clients and the eager PyTorch reference benchmark (run with /usr/bin/python3).
  python3-grpcio python3-grpc-tools python3-torch python3-numpy
  # Offline checks of the deployment files: docker-compose config, promtool, YAML parsing.
  docker-compose prometheus python3-yaml
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# The openmp flavour of OpenBLAS must back libblas.so.3, else LibTorch falls back to reference BLAS.
blas=$(ls /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3 2>/dev/null || true)
if [ -n "$blas" ]; then
  update-alternatives --set libblas.so.3-x86_64-linux-gnu "$blas" >/dev/null
fi
echo "install-deps: done"

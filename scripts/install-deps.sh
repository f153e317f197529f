#!/usr/bin/env bash
# Installs every Debian package Skald's build, tests, benchmarks and fuzzers need.
# Idempotent and non-interactive; run as root (or with sudo available) on Debian 12.
set -euo pipefail

PKGS=(
  build-essential g++ cmake ninja-build pkg-config make git curl ca-certificates
  python3 python3-yaml
  clang libclang-rt-14-dev clang-format
  libboost-dev libsnappy-dev libzstd-dev liblz4-dev libdeflate-dev zlib1g-dev
  libre2-dev libsimdjson-dev libxxhash-dev libyaml-cpp-dev libabsl-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libssl-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  prometheus prometheus-alertmanager
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || true
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

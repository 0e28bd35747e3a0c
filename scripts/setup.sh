#!/usr/bin/env bash
# Install the Debian packages trunc-dist needs, then configure and build it
# into build/ (Release).  The apt step is skipped when every package is
# already installed (dpkg -s), so this also works offline, e.g. in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin
          libhdf5-openmpi-dev hdf5-tools libscalapack-openmpi-dev
          libcunit1-dev libtomlplusplus-dev libzip-dev zlib1g-dev liblapacke-dev libopenblas-dev
          python3-numpy python3-h5py python3-matplotlib python3-scipy python3-sklearn
          python3-torch python3-onnx
          slurmctld slurmd slurm-client munge)

missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || {
            echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
        sudo=(sudo)
    fi
    echo "setup: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
else
    echo "setup: all ${#packages[@]} packages present, skipping apt"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j2

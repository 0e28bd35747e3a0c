#!/usr/bin/env bash
# Build trunc-dist, write the embedded example into build/example, run it on
# 2 ranks and summarise the result (scripts/analyze.py).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
rm -rf build/example
build/trunc-dist --example build/example
mpirun --oversubscribe -n 2 build/trunc-dist build/example/example.toml
/usr/bin/python3 scripts/analyze.py build/example/example_network.h5 \
    --plot build/example/example_network.png

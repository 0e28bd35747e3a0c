#!/usr/bin/env bash
# Build trunc-dist and run the whole test suite (unit, MPI, end-to-end);
# exits with ctest's status.  MPI tests oversubscribe, so -j2 is safe on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
rc=0
ctest --test-dir build --output-on-failure -j2 || rc=$?
exit "$rc"

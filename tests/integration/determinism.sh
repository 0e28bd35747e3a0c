#!/usr/bin/env bash
# Determinism: the same data and config must give a byte-identical /network
# at 1, 2, 3 and 4 ranks (OMP_NUM_THREADS=1) and at 2 ranks x 2 threads,
# with block_rows = 64 so every rank reduces several blocks: N = 3001 is 47
# blocks (the last partial), 11 or 12 per rank at 4 ranks; row_spread.py
# checks the split and each output's /run layout.  The same block_rows at
# every rank count: the bytes depend on it by design (it fixes the
# summation order).  /construction and /verification (datasets and
# attributes) must match too; /run differs by design (nranks, nthreads).
#
#   determinism.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
# (VAR=VALUE arguments or environment variables).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args determinism "$@"

BLOCK_ROWS=64
"$PYTHON" "$here/gen_data.py" "$WORK/train.h5" --kind clusters --q 5 --m 7 \
    --n 3001 --seed 11 --dtype float32

outputs=()
spread_runs=()
run() {  # run NP THREADS
    local np=$1 omp=$2 tag="np$1_omp$2"
    local cfg="$WORK/$tag.toml"
    cat > "$cfg" <<EOF
[data]
path = "train.h5"
[output]
path = "net_$tag.h5"
[parallel]
block_rows = $BLOCK_ROWS
EOF
    echo "determinism: $np ranks x $omp threads"
    if ! OMP_NUM_THREADS=$omp "${mpiexec_cmd[@]}" --oversubscribe -n "$np" \
            "$BIN" "$cfg" > "$WORK/$tag.out" 2> "$WORK/$tag.err"; then
        echo "determinism: FAIL: run $tag exited nonzero"
        cat "$WORK/$tag.out" "$WORK/$tag.err"
        exit 1
    fi
    outputs+=("$WORK/net_$tag.h5")
    spread_runs+=(--run "$np:$WORK/net_$tag.h5")
}

run 1 1
run 2 1
run 3 1
run 4 1
run 2 2

# Every multi-rank run gave each rank at least 2 blocks of rows, and every
# output's /run records the layout it was run with ...
"$PYTHON" "$here/row_spread.py" "$WORK/train.h5" --block-rows "$BLOCK_ROWS" \
    "${spread_runs[@]}" || { echo "determinism: FAIL: rows not spread as intended"; exit 1; }
# ... the network itself must be byte-identical ...
"$PYTHON" "$here/compare_networks.py" "${outputs[@]}"
# ... and so must the construction record and the verification report (the
# reductions are exact, so even the cost does not depend on the partition).
"$PYTHON" "$here/compare_networks.py" --group /construction \
    --group /verification --all-attrs "${outputs[@]}"
"$PYTHON" "$here/check_network.py" "${outputs[0]}" "$WORK/train.h5"
echo "determinism: PASS (${#outputs[@]} runs identical)"

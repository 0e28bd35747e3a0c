#!/usr/bin/env bash
# Determinism: the same data and config must give a byte-identical /network
# at 1, 2, 3 and 4 ranks (OMP_NUM_THREADS=1) and at 2 ranks x 2 threads,
# with block_rows = 64 so every rank reduces several blocks.  /construction
# and /verification (datasets and attributes) must match too; /run differs
# by design (nranks, nthreads).
#
#   determinism.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
# (VAR=VALUE arguments or environment variables).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for arg in "$@"; do
    case "$arg" in
        *=*) name="${arg%%=*}"
             [[ "$name" =~ ^[A-Z_][A-Z0-9_]*$ ]] || { echo "determinism: bad argument '$arg'" >&2; exit 2; }
             printf -v "$name" '%s' "${arg#*=}"; export "${name?}" ;;
        *)   echo "determinism: unexpected argument '$arg'" >&2; exit 2 ;;
    esac
done
: "${BIN:?determinism: BIN is required}"
: "${WORK:?determinism: WORK is required}"
MPIEXEC="${MPIEXEC:-mpiexec}"
PYTHON="${PYTHON:-/usr/bin/python3}"
export OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-1}"
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}"
read -r -a mpiexec_cmd <<< "$MPIEXEC"

rm -rf "$WORK"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"

"$PYTHON" "$here/gen_data.py" "$WORK/train.h5" --kind clusters --q 5 --m 7 \
    --n 3001 --seed 11 --dtype float32

outputs=()
run() {  # run NP THREADS
    local np=$1 omp=$2 tag="np$1_omp$2"
    local cfg="$WORK/$tag.toml"
    cat > "$cfg" <<EOF
[data]
path = "train.h5"
[output]
path = "net_$tag.h5"
[parallel]
block_rows = 64
EOF
    echo "determinism: $np ranks x $omp threads"
    if ! OMP_NUM_THREADS=$omp "${mpiexec_cmd[@]}" --oversubscribe -n "$np" \
            "$BIN" "$cfg" > "$WORK/$tag.out" 2> "$WORK/$tag.err"; then
        echo "determinism: FAIL: run $tag exited nonzero"
        cat "$WORK/$tag.out" "$WORK/$tag.err"
        exit 1
    fi
    outputs+=("$WORK/net_$tag.h5")
}

run 1 1
run 2 1
run 3 1
run 4 1
run 2 2

# The network itself must be byte-identical ...
"$PYTHON" "$here/compare_networks.py" "${outputs[@]}"
# ... and so must the construction record and the verification report (the
# reductions are exact, so even the cost does not depend on the partition).
"$PYTHON" "$here/compare_networks.py" --group /construction \
    --group /verification --all-attrs "${outputs[@]}"
"$PYTHON" "$here/check_network.py" "${outputs[0]}" "$WORK/train.h5"
echo "determinism: PASS (${#outputs[@]} runs identical)"

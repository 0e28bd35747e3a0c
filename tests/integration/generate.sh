#!/usr/bin/env bash
# trunc-dist generate (issue 10): synthetic data written in parallel.
#  - every kind at 1 rank, at 3 ranks in blocks of 7 rows (each rank writes
#    several blocks, the last ones partial or empty) and at 2 ranks x 2
#    threads: the same file bytes (cmp) and the same X, y and attributes
#    (h5py); the input contract with float32, non-contiguous labels and
#    N not a multiple of Q;
#  - blobs build to zero loss with Theorem 6 (the independent forward pass),
#    and their noise passes a Kolmogorov-Smirnov test for N(0, sigma^2 I);
#  - sls_not_ovr: an LP (SciPy's HiGHS) proves class 1 is not separable from
#    the others, and trunc-dist still finds an order: Theorem 6, zero loss;
#  - clustered: Proposition 3's delta, means, (18) and (20) computed from
#    the data hold at the default (delta half the critical radius) and fail
#    by exactly the fraction asked with --violate, on a simplex ((18)
#    binds) and on a hexagon in the plane ((20) binds); auto builds the
#    default as clustered data (Corollary 4);
#  - overlap and random: the LP finds no class separable from the rest (not
#    SLS), and auto builds pieces to zero loss;
#  - bad arguments exit 2 with one line naming the option, on every rank;
#    an existing OUT only with --force; a missing directory exits 5; a stop
#    signal between blocks exits 6; nothing is left behind.
#
#   generate.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args generate "$@"
fail() { echo "generate: FAIL: $*" >&2; exit 1; }
# shared memory only: MPI_Init probing every transport costs a second
export OMPI_MCA_pml="${OMPI_MCA_pml:-ob1}" OMPI_MCA_btl="${OMPI_MCA_btl:-self,vader}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
check() { "$PYTHON" "$here/generate_check.py" "$@"; }
# one rank: the binary alone (an MPI singleton starts in a fraction of
# mpiexec's time)
mpi() {
    local np=$1
    shift
    if [ "$np" = 1 ]; then "$BIN" "$@"
    else "${mpiexec_cmd[@]}" --oversubscribe -n "$np" "$BIN" "$@"; fi
}

"$BIN" generate --help | grep -q "usage: mpirun -np P trunc-dist generate KIND" ||
    fail "generate --help"

# --- the same bytes at any rank and thread count ---------------------------
# KIND|options; N = 601 is not a multiple of Q, so the last group is partial
cases=(
    "blobs|--n 601 --m 5 --q 4 --seed 7"
    "sls_not_ovr|--n 601 --m 4 --q 5 --seed 8 --dtype float32"
    "clustered|--n 601 --m 5 --q 4 --seed 9 --labels-offset -3 --labels-step 5"
    "overlap|--n 601 --m 3 --q 3 --seed 10 --dtype float32"
    "random|--n 601 --m 3 --q 2 --seed 11 --labels-offset 100 --labels-step -7"
)
for c in "${cases[@]}"; do
    kind=${c%%|*}
    read -r -a opts <<< "${c#*|}"
    for lay in np1 np3 np2omp2; do
        mkdir -p "$WORK/$lay"
        case $lay in
            np1) (cd "$WORK/$lay" && mpi 1 generate "$kind" "$kind.h5" "${opts[@]}") ;;
            np3) (cd "$WORK/$lay" && TD_GEN_BLOCK_ROWS=7 mpi 3 generate "$kind" "$kind.h5" "${opts[@]}") ;;
            np2omp2) (cd "$WORK/$lay" && OMP_NUM_THREADS=2 mpi 2 generate "$kind" "$kind.h5" "${opts[@]}") ;;
        esac > "$WORK/$lay/$kind.out" || fail "$kind at $lay: exit $?"
    done
    grep -q "generated $kind.h5 ($kind" "$WORK/np1/$kind.out" ||
        fail "$kind: $(cat "$WORK/np1/$kind.out")"
    cmp "$WORK/np1/$kind.h5" "$WORK/np3/$kind.h5" || fail "$kind: 1 vs 3 ranks"
    cmp "$WORK/np1/$kind.h5" "$WORK/np2omp2/$kind.h5" || fail "$kind: 1 vs 2x2"
    check same "$WORK/np1/$kind.h5" "$WORK/np3/$kind.h5"
    check contract "$WORK/np3/$kind.h5" --kind "$kind" "${opts[@]}"
done

# --- the kinds' properties -------------------------------------------------
build() {  # build NAME DATA.h5 CONSTRUCTION: zero loss, which one
    local name=$1 data=$2 cons=$3
    printf '[data]\npath = "%s"\n[output]\npath = "%s_net.h5"\n' \
        "$(basename "$data")" "$name" > "$WORK/$name.toml"
    mpi 1 --quiet "$WORK/$name.toml" > "$WORK/$name.build.out" ||
        fail "$name: trunc-dist exited $?: $(cat "$WORK/$name.build.out")"
    "$PYTHON" "$here/check_network.py" "$WORK/${name}_net.h5" "$data"
    check construction "$WORK/${name}_net.h5" "$cons"
}
g() { (cd "$WORK" && mpi 1 generate "$@" > /dev/null) || fail "generate $*"; }

g blobs blobs.h5 --n 800 --m 6 --q 4 --seed 1 --dtype float32
build blobs "$WORK/blobs.h5" theorem6
g blobs blobs_stats.h5 --n 20000 --m 8 --q 3 --seed 12
check gaussian "$WORK/blobs_stats.h5"

g sls_not_ovr sls.h5 --n 800 --m 6 --q 5 --seed 2
check sls_not_ovr "$WORK/sls.h5"
build sls "$WORK/sls.h5" theorem6

g clustered clustered.h5 --n 800 --m 6 --q 4 --seed 3
check clustered "$WORK/clustered.h5" --ratio 0.5
build clustered "$WORK/clustered.h5" clustered   # auto prefers Corollary 4
g clustered clustered_v.h5 --n 800 --m 6 --q 4 --seed 3 --violate 0.05
check clustered "$WORK/clustered_v.h5" --ratio 1.05
g clustered hexagon.h5 --n 600 --m 2 --q 6 --seed 4
check clustered "$WORK/hexagon.h5" --ratio 0.5
g clustered hexagon_v.h5 --n 600 --m 2 --q 6 --seed 4 --violate 0.02
check clustered "$WORK/hexagon_v.h5" --ratio 1.02

g overlap overlap.h5 --n 300 --m 3 --q 3 --seed 5
check not_sls "$WORK/overlap.h5"
build overlap "$WORK/overlap.h5" pieces
g random random.h5 --n 300 --m 3 --q 2 --seed 6
check not_sls "$WORK/random.h5"
build random "$WORK/random.h5" pieces

# --- errors: exit 2 with one line naming the option, nothing written -------
err_case() {  # err_case NP CODE MESSAGE ARGS...
    local np=$1 code=$2 msg=$3 rc=0
    shift 3
    (cd "$WORK/err" && mpi "$np" generate "$@") > "$WORK/err.out" 2> "$WORK/err.err" ||
        rc=$?
    [ "$rc" = "$code" ] || fail "generate $*: exit $rc, expected $code: $(cat "$WORK/err.err")"
    [ "$(grep -c "trunc-dist: error: " "$WORK/err.err")" = 1 ] ||
        fail "generate $*: not one error line: $(cat "$WORK/err.err")"
    grep -qF -- "$msg" "$WORK/err.err" ||
        fail "generate $*: '$(cat "$WORK/err.err")' does not say '$msg'"
    [ -z "$(find "$WORK/err" -name 'o.h5*' -newer "$WORK/err/stamp")" ] ||
        fail "generate $*: left $(ls "$WORK/err")"
}
mkdir -p "$WORK/err"
touch "$WORK/err/stamp"
sleep 1
err_case 1 2 "--n needs a number of rows >= 1, got 'abc'" blobs o.h5 --n abc --m 2 --q 2
err_case 3 2 "--dtype needs float32 or float64, got 'float16'" blobs o.h5 --n 9 --m 2 --q 2 --dtype float16
err_case 1 2 "unknown kind 'moons'" moons o.h5 --n 9 --m 2 --q 2
err_case 1 2 "--q is required" blobs o.h5 --n 9 --m 2
err_case 1 2 "--m needs a number of features in [1, 1048576], got '0'" blobs o.h5 --n 9 --m 0 --q 2
err_case 1 2 "--n must be at least --q = 5" blobs o.h5 --n 4 --m 2 --q 5
err_case 1 2 "--violate is for clustered, not blobs" blobs o.h5 --n 9 --m 2 --q 2 --violate 0.1
err_case 1 2 "--sep is for blobs and overlap, not random" random o.h5 --n 9 --m 2 --q 2 --sep 3
err_case 1 2 "--violate needs a fraction in (0, 10], got '-1'" clustered o.h5 --n 9 --m 2 --q 2 --violate -1
err_case 3 2 "--q must be at least 3 for sls_not_ovr" sls_not_ovr o.h5 --n 9 --m 2 --q 2
err_case 1 2 "--m must be at least 2 for sls_not_ovr" sls_not_ovr o.h5 --n 9 --m 1 --q 3
err_case 1 2 "--labels-step needs a non-zero int64, got '0'" blobs o.h5 --n 9 --m 2 --q 2 --labels-step 0
err_case 1 2 "beyond the int64 range" blobs o.h5 --n 9 --m 2 --q 3 --labels-offset 9223372036854775807
err_case 1 2 "unknown option '--rows'" blobs o.h5 --rows 9 --m 2 --q 2
err_case 1 5 "directory 'nodir' does not exist" blobs nodir/o.h5 --n 9 --m 2 --q 2
# an existing OUT: refused (untouched), replaced with --force
echo keep > "$WORK/err/o.h5"
rc=0
(cd "$WORK/err" && mpi 1 generate blobs o.h5 --n 9 --m 2 --q 2) 2> "$WORK/err.err" > /dev/null || rc=$?
[ "$rc" = 2 ] && grep -q "o.h5 exists: run with --force to replace it" "$WORK/err.err" &&
    [ "$(cat "$WORK/err/o.h5")" = keep ] || fail "existing OUT: exit $rc, $(cat "$WORK/err.err")"
(cd "$WORK/err" && mpi 1 generate blobs o.h5 --n 9 --m 2 --q 2 --force > /dev/null) ||
    fail "--force"
check contract "$WORK/err/o.h5" --kind blobs --n 9 --m 2 --q 2
# a stop signal on rank 0 after its second block: every rank stops, exit 6
rm -f "$WORK/err/o.h5"
rc=0
(cd "$WORK/err" && TD_GEN_BLOCK_ROWS=50 TD_FAULT_SIGNAL=0:2:15 \
    mpi 2 generate blobs o.h5 --n 1000 --m 3 --q 2) 2> "$WORK/err.err" > /dev/null || rc=$?
[ "$rc" = 6 ] && grep -q "stopped by SIGTERM while generating o.h5: nothing written" \
    "$WORK/err.err" || fail "stop: exit $rc, $(cat "$WORK/err.err")"
[ -z "$(ls "$WORK/err" | grep -v stamp)" ] || fail "stop left $(ls "$WORK/err")"
echo "generate: all checks passed"

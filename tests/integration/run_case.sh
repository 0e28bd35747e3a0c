#!/usr/bin/env bash
# One end-to-end case: generate data, write a config, run trunc-dist under
# MPI, check the exit code, then either verify the network independently
# (check_network.py) or check the error report and that no output is left.
#
# Parameters come from the environment and/or the command line, as
# VAR=VALUE arguments or --var value flags (the command line wins):
#   BIN        trunc-dist path (required)
#   WORK       scratch directory (required; wiped at the start)
#   MPIEXEC    mpiexec path, may include options (default: mpiexec)
#   MPI_ARGS   extra mpiexec options for this case (e.g. "--bind-to none")
#   NP         ranks (default 1)              OMP   OMP_NUM_THREADS (default 1)
#   BLOCK_ROWS parallel.block_rows written to the config; default 16 when
#              NP > 1 (so every rank owns several blocks of rows: with the
#              program's default of 1024 a data set of a few thousand rows
#              sits on one or two ranks), none (no [parallel] table, i.e.
#              1024) when NP = 1.  "none" leaves the table out at any NP.
#   MIN_BLOCKS with NP > 1 and generated data, every rank must own at least
#              this many blocks (row_spread.py; default 2, 0 = no check); the
#              /run record of a written network must show NP and BLOCK_ROWS
#   REF_NP     after a successful run, run the same config at REF_NP ranks
#              too and require a byte-identical /network, /construction and
#              /verification, attributes included (compare_networks.py)
#   Data, either
#     KIND Q M N SEED DTYPE YDTYPE   gen_data.py --kind/--q/--m/--n/--seed/
#                                    --dtype/--ydtype (defaults clusters 3 5
#                                    1000 1 float64, label type per kind), or
#     GEN        the gen_data.py options verbatim (e.g. "--q 4 --m 4 --n 2000");
#     with none of KIND Q M N GEN set, no data file is written.
#   EXPECT     expected exit code (default 0)
#   EXPECT_MSG (alias MSG) text the single "trunc-dist: error:" line must
#              contain (fixed string); for EXPECT=3 the line must also contain
#              "not sequentially separable", "not polytope-separable"
#              (construction.mode = "polytope") or, for the check that runs
#              right after loading (identical rows with different labels),
#              "identical"
#   STDOUT_MSG text stdout must contain (fixed string)
#   DATA_PATH  data.path in the config (default train.h5, the generated file)
#   OUT        output.path in the config (default network.h5); OUT=train.h5
#              (the data itself) must be refused with the data unchanged
#   DATA_TOML  (alias DATA_EXTRA) extra lines for the [data] table
#   EXTRA_TOML lines appended after the [output] table ([construction] ...)
#   KEEP_OUTPUT=1  a failing run (EXPECT != 0) must still leave the output
#              file (best_effort mode writes its network and exits 3); it is
#              checked to hold a network and an honest /verification report
#   CONFIG_DIR put the config in this subdirectory of WORK (paths in it are
#              then relative to that subdirectory: tests the path rule)
#   TOL        check_network.py tolerance (default 1e-8)
#   PYTHON     interpreter (default /usr/bin/python3)
# In DATA_TOML / EXTRA_TOML a literal "\n" separates lines; neither may open a
# [parallel] table (set BLOCK_ROWS instead).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

while [ $# -gt 0 ]; do
    case "$1" in
        *=*)
            name="${1%%=*}"; value="${1#*=}"
            [[ "$name" =~ ^[A-Z_][A-Z0-9_]*$ ]] || { echo "run_case: bad argument '$1'" >&2; exit 2; }
            printf -v "$name" '%s' "$value"; export "${name?}"; shift ;;
        --*)
            [ $# -ge 2 ] || { echo "run_case: $1 needs a value" >&2; exit 2; }
            name="$(printf '%s' "${1#--}" | tr 'a-z-' 'A-Z_')"
            printf -v "$name" '%s' "$2"; export "${name?}"; shift 2 ;;
        *)
            echo "run_case: unexpected argument '$1'" >&2; exit 2 ;;
    esac
done

: "${BIN:?run_case: BIN (trunc-dist binary) is required}"
: "${WORK:?run_case: WORK (scratch directory) is required}"
MPIEXEC="${MPIEXEC:-mpiexec}"
NP="${NP:-1}"
OMP="${OMP:-1}"
EXPECT="${EXPECT:-0}"
EXPECT_MSG="${EXPECT_MSG:-${MSG:-}}"
STDOUT_MSG="${STDOUT_MSG:-}"
DATA_TOML="${DATA_TOML:-${DATA_EXTRA:-}}"
EXTRA_TOML="${EXTRA_TOML:-}"
CONFIG_DIR="${CONFIG_DIR:-}"
TOL="${TOL:-1e-8}"
PYTHON="${PYTHON:-/usr/bin/python3}"
MPI_ARGS="${MPI_ARGS:-}"
REF_NP="${REF_NP:-}"
if [ -z "${BLOCK_ROWS:-}" ]; then
    if [ "$NP" -gt 1 ]; then BLOCK_ROWS=16; else BLOCK_ROWS=none; fi
fi
MIN_BLOCKS="${MIN_BLOCKS:-2}"
case "$BLOCK_ROWS" in
    none) block_rows_eff=1024 ;;      # the program's default (README)
    *[!0-9]*|"") echo "run_case: BLOCK_ROWS must be a number or none" >&2; exit 2 ;;
    *) block_rows_eff=$BLOCK_ROWS ;;
esac

gen=()
if [ -n "${GEN:-}" ]; then
    read -r -a gen <<< "$GEN"
elif [ -n "${KIND:-}${Q:-}${M:-}${N:-}" ]; then
    gen=(--kind "${KIND:-clusters}" --q "${Q:-3}" --m "${M:-5}" --n "${N:-1000}"
         --seed "${SEED:-1}" --dtype "${DTYPE:-float64}")
    [ -n "${YDTYPE:-}" ] && gen+=(--ydtype "$YDTYPE")
fi

export OMP_NUM_THREADS="$OMP"
export OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-1}"
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}"

rm -rf "$WORK"
mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
cfgdir="$WORK${CONFIG_DIR:+/$CONFIG_DIR}"
mkdir -p "$cfgdir"

fail() { echo "run_case: FAIL: $*"; exit 1; }

echo "run_case: np=$NP omp=$OMP block_rows=$BLOCK_ROWS expect=$EXPECT work=$WORK"

# --- data -------------------------------------------------------------------
train="$WORK/train.h5"
# A multi-rank case must really spread the rows: gen_data.py --spread prints
# the split (the partition rule is mirrored in row_spread.py) and fails unless
# every rank owns MIN_BLOCKS blocks; check_network.py --run-layout (and the
# KEEP_OUTPUT check) then require the output's /run to record NP and
# block_rows, i.e. that the run used that layout.
spread=0
if [ "$NP" -gt 1 ] && [ "$MIN_BLOCKS" -gt 0 ] && [ ${#gen[@]} -gt 0 ]; then
    spread=1
    gen+=(--spread "$NP,$block_rows_eff,$MIN_BLOCKS")
fi
if [ ${#gen[@]} -gt 0 ]; then
    "$PYTHON" "$here/gen_data.py" "$train" "${gen[@]}" \
        || fail "gen_data.py failed (with NP > 1: rows not spread over the ranks? lower BLOCK_ROWS or raise N)"
else
    echo "run_case: no data generated"
fi

# --- config -----------------------------------------------------------------
# Relative paths in the config are relative to the config's directory.
up=""
[ -n "$CONFIG_DIR" ] && up="$(printf '%s' "$CONFIG_DIR" | sed -E 's#[^/]+#..#g')/"
data_path="${DATA_PATH:-${up}train.h5}"
out_rel="${OUT:-${up}network.h5}"
case "$out_rel" in
    /*) out="$out_rel" ;;
    *)  out="$cfgdir/$out_rel" ;;
esac
# write_config FILE OUTPUT_PATH: [parallel] goes between [data] and
# [output], so DATA_TOML and EXTRA_TOML keep their tables.
write_config() {
    {
        echo "# written by tests/integration/run_case.sh"
        echo "[data]"
        echo "path = \"$data_path\""
        [ -z "$DATA_TOML" ] || printf '%b\n' "$DATA_TOML"
        if [ "$BLOCK_ROWS" != none ]; then
            echo "[parallel]"
            echo "block_rows = $BLOCK_ROWS"
        fi
        echo "[output]"
        echo "path = \"$2\""
        [ -z "$EXTRA_TOML" ] || printf '%b\n' "$EXTRA_TOML"
    } > "$1"
}
config="$cfgdir/config.toml"
write_config "$config" "$out_rel"
echo "run_case: config $config:"
sed 's/^/    /' "$config"

# --- run --------------------------------------------------------------------
read -r -a mpiexec_cmd <<< "$MPIEXEC $MPI_ARGS"
# Each rank's exit code is recorded by a wrapper that itself exits 0, so
# mpiexec never kills slower ranks: every rank must leave with the same code.
rm -f "$WORK"/rc.*
data_sum_before="$(md5sum < "$WORK/train.h5" 2>/dev/null || true)"
wrap='"$0" "$1"; echo $? > "$2/rc.${OMPI_COMM_WORLD_RANK:-0}"; exit 0'
cmd=("${mpiexec_cmd[@]}" --oversubscribe -n "$NP" sh -c "$wrap" "$BIN" "$config" "$WORK")
echo "run_case: ${cmd[*]}"
set +e
t0=$(date +%s.%N)
"${cmd[@]}" > "$WORK/stdout.txt" 2> "$WORK/stderr.txt"
launcher_rc=$?
t1=$(date +%s.%N)
set -e
echo "run_case: mpiexec took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
[ "$launcher_rc" -eq 0 ] || fail "mpiexec itself failed ($launcher_rc)"
rc=""
for r in $(seq 0 $((NP - 1))); do
    [ -f "$WORK/rc.$r" ] || fail "rank $r recorded no exit code"
    rr=$(cat "$WORK/rc.$r")
    [ -z "$rc" ] || [ "$rr" = "$rc" ] || fail "rank $r exited $rr but rank 0 exited $rc"
    rc=$rr
done
echo "run_case: exit code $rc (expected $EXPECT)"
echo "---- stdout"; cat "$WORK/stdout.txt"
echo "---- stderr"; cat "$WORK/stderr.txt"
echo "----"

[ "$rc" -eq "$EXPECT" ] || fail "exit code $rc, expected $EXPECT"

# The writer renames OUT.tmp.<pid> into place; nothing of it may survive.
leftovers="$(find "$WORK" -name "$(basename "$out").tmp*")"
[ -z "$leftovers" ] || fail "temporary output left behind: $leftovers"

if [ -n "$STDOUT_MSG" ]; then
    grep -qF -- "$STDOUT_MSG" "$WORK/stdout.txt" \
        || fail "stdout does not contain '$STDOUT_MSG'"
fi

if [ "$EXPECT" -eq 0 ]; then
    [ -f "$out" ] || fail "exit 0 but no output file $out"
    if grep -q '^trunc-dist: error:' "$WORK/stderr.txt"; then
        fail "exit 0 but an error line on stderr"
    fi
    [ -f "$train" ] || fail "no generated data to check the network against"
    layout=()
    [ "$spread" = 0 ] || layout=(--run-layout "$NP,$block_rows_eff")
    "$PYTHON" "$here/check_network.py" "$out" "$train" --tol "$TOL" \
        ${layout[@]+"${layout[@]}"} || fail "check_network.py rejected $out"
    if [ -n "$REF_NP" ]; then
        # Same data, same config (block_rows included) at REF_NP ranks: the
        # exact block reductions make the result independent of the ranks.
        ref_rel="network_np$REF_NP.h5"
        ref_cfg="$cfgdir/config_np$REF_NP.toml"
        write_config "$ref_cfg" "$ref_rel"
        echo "run_case: reference run at $REF_NP ranks"
        "${mpiexec_cmd[@]}" --oversubscribe -n "$REF_NP" "$BIN" "$ref_cfg" \
            > "$WORK/stdout_np$REF_NP.txt" 2> "$WORK/stderr_np$REF_NP.txt" \
            || { cat "$WORK/stdout_np$REF_NP.txt" "$WORK/stderr_np$REF_NP.txt"
                 fail "reference run at $REF_NP ranks failed"; }
        "$PYTHON" "$here/compare_networks.py" --group /network \
            --group /construction --group /verification --all-attrs \
            "$cfgdir/$ref_rel" "$out" \
            || fail "the output at $NP ranks differs from $REF_NP ranks"
    fi
else
    if [ "${KEEP_OUTPUT:-0}" = 1 ]; then
        [ -f "$out" ] || fail "exit $rc with KEEP_OUTPUT=1 but no output file $out"
        "$PYTHON" - "$out" "$here" "$spread" "$NP" "$block_rows_eff" <<'EOF' \
            || fail "kept output $out is not a sound best-effort result"
import sys, h5py
sys.path.insert(0, sys.argv[2])
import row_spread
with h5py.File(sys.argv[1], "r") as f:
    if sys.argv[3] == "1":
        bad = row_spread.run_layout(f, int(sys.argv[4]), int(sys.argv[5]))
        for p in bad:
            print(f"run_case: kept output: {p}")
        if bad:
            sys.exit(1)
    L = int(f["network"].attrs["num_layers"])
    for l in range(1, L + 1):
        f[f"network/layer_{l}/weight"], f[f"network/layer_{l}/bias"]
    v = f["verification"].attrs
    n, c = int(v["n_points"]), int(v["n_correct"])
    print(f"run_case: kept output: {L} layers, {c} / {n} correct, cost {float(v['cost']):.4g}")
    sys.exit(0 if c < n or float(v["max_error"]) > 1e-8 else 1)
EOF
    elif [ "$out" -ef "$WORK/train.h5" ]; then
        [ "$(md5sum < "$WORK/train.h5")" = "$data_sum_before" ] \
            || fail "exit $rc but the data file (the output path) was changed"
    else
        [ ! -e "$out" ] || fail "exit $rc but the output file $out exists"
    fi
    nerr=$(grep -c '^trunc-dist: error:' "$WORK/stderr.txt" || true)
    [ "$nerr" -eq 1 ] || fail "expected exactly one 'trunc-dist: error:' line on stderr (rank 0 only), found $nerr"
    line="$(grep '^trunc-dist: error:' "$WORK/stderr.txt")"
    if [ "$EXPECT" -eq 3 ]; then
        printf '%s\n' "$line" | grep -qF -e "not sequentially separable" \
            -e "not polytope-separable" -e "identical" \
            || fail "exit 3 but the error line lacks 'not sequentially separable', 'not polytope-separable' or 'identical': $line"
    fi
    if [ -n "$EXPECT_MSG" ]; then
        printf '%s\n' "$line" | grep -qF -- "$EXPECT_MSG" \
            || fail "error line does not contain '$EXPECT_MSG': $line"
    fi
    if grep -q '^trunc-dist: error:' "$WORK/stdout.txt"; then
        fail "error line printed on stdout"
    fi
fi
echo "run_case: PASS"

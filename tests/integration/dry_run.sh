#!/usr/bin/env bash
# trunc-dist --dry-run at 3 ranks: on good data exit 0 on every rank, the
# shape, classes and memory estimate printed, no file created (the output
# directory is listed before and after); on bad input (a missing file, a
# missing dataset, NaN, a bad key, an order naming an unknown label, the
# output being the data, an existing result) exactly the exit code and
# error line of a real run, with nothing written or changed; --quiet
# leaves only its last line; identical points with different labels give
# the real run's exit 3 too.
#
#   dry_run.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args dry_run "$@"
fail() { echo "dry_run: FAIL: $*" >&2; exit 1; }
NP=3

# run NAME ARGS...: NP ranks, every rank's exit code, stdout and stderr
# recorded (log/NAME.rc.R, .out.R, .err.R); $rc is the common code
run() {
    local name=log/$1 r
    shift
    mkdir -p "$WORK/log"
    rm -f "$WORK/$name".*
    (cd "$WORK" && "${mpiexec_cmd[@]}" --oversubscribe -n "$NP" sh -c \
        '"$0" "$@" > "'"$WORK/$name"'.out.$OMPI_COMM_WORLD_RANK" 2> "'"$WORK/$name"'.err.$OMPI_COMM_WORLD_RANK"; echo $? > "'"$WORK/$name"'.rc.$OMPI_COMM_WORLD_RANK"; exit 0' \
        "$BIN" "$@") || true
    rc=$(cat "$WORK/$name.rc.0")
    for r in $(seq 1 $((NP - 1))); do
        [ "$(cat "$WORK/$name.rc.$r")" = "$rc" ] ||
            fail "$name: rank $r exit $(cat "$WORK/$name.rc.$r"), rank 0 $rc"
    done
}
listing() { (cd "$WORK" && find . -mindepth 1 -newer "$WORK/stamp" \
                  ! -path './log*' ! -name stamp | sort); }

"$PYTHON" "$here/gen_data.py" "$WORK/train.h5" --q 4 --m 6 --n 1200 --seed 71 \
    --dtype float32
"$PYTHON" "$here/gen_data.py" "$WORK/nan.h5" --kind nan --q 2 --m 3 --n 200
"$PYTHON" "$here/gen_data.py" "$WORK/dup.h5" --kind duplicates --q 3 --m 3 \
    --n 900 --seed 22
cfg() {  # cfg NAME DATA [LINES...]: a config writing out_NAME.h5
    local name=$1 data=$2
    shift 2
    { printf '[data]\npath = "%s"\n[parallel]\nblock_rows = 64\n' "$data"
      printf '[output]\npath = "out_%s.h5"\n' "$name"
      for l in "$@"; do printf '%s\n' "$l"; done; } > "$WORK/$name.toml"
}

# --- good data: exit 0, the report, no file ------------------------------
cfg good train.h5
touch "$WORK/stamp"
sleep 1
run good --dry-run "$WORK/good.toml"
[ "$rc" = 0 ] || fail "good: exit $rc: $(cat "$WORK/log/good.err.0")"
out="$WORK/log/good.out.0"
cat "$out"
grep -q "X 'X': float32, 1200 x 6 (N x M)" "$out" || fail "good: no shape line"
grep -q "classes (label: rows): 7: [0-9]*, 10: [0-9]*, 13: [0-9]*, 16: [0-9]*$" \
    "$out" || fail "good: no class counts"
# the row split, independently (row_spread.py mirrors partition.c)
read -r lo hi < <("$PYTHON" -c "import sys; sys.path.insert(0, '$here')
import row_spread as r
n = [r.partition(1200, 64, k, $NP)[1] for k in range($NP)]
print(min(n), max(n))")
grep -q "rows per rank: $lo to $hi ($NP ranks, blocks of 64 rows)" "$out" ||
    fail "good: rows per rank, expected $lo to $hi"
grep -q "memory per rank" "$out" && grep -q "^    shard  .* $hi rows of float32" \
    "$out" && grep -q "^    peak  " "$out" || fail "good: no memory estimate"
grep -q "^dry run: ok: 1200 points x 6 features, 4 classes, 3 ranks; a run needs about .* MiB per rank" \
    "$out" || fail "good: no final line"
for r in 1 2; do [ ! -s "$WORK/log/good.out.$r" ] || fail "rank $r printed"; done
[ -z "$(listing)" ] || fail "good: files created: $(listing)"
grep -q "search:\|verify\|wrote" "$out" && fail "good: the dry run built something"

# --quiet: the last line only
run quiet --dry-run --quiet "$WORK/good.toml"
[ "$rc" = 0 ] || fail "quiet: exit $rc"
[ "$(wc -l < "$WORK/log/quiet.out.0")" = 1 ] &&
    grep -q "^dry run: ok: " "$WORK/log/quiet.out.0" ||
    fail "quiet: $(cat "$WORK/log/quiet.out.0")"
[ -z "$(listing)" ] || fail "quiet: files created: $(listing)"

# --- bad input: the real run's code and error line ------------------------
# same NAME EXPECT: the dry run and the real run of NAME.toml exit EXPECT
# with the same error line; the dry run creates nothing
same() {
    local name=$1 expect=$2 dry real
    touch "$WORK/stamp"
    sleep 1
    run "dry_$name" --dry-run "$WORK/$name.toml"
    [ "$rc" = "$expect" ] || fail "$name: dry run exit $rc, expected $expect"
    [ -z "$(listing)" ] || fail "$name: the dry run created $(listing)"
    run "real_$name" "$WORK/$name.toml"
    [ "$rc" = "$expect" ] || fail "$name: real run exit $rc, expected $expect"
    dry=$(grep '^trunc-dist: error:' "$WORK/log/dry_$name.err.0" || true)
    real=$(grep '^trunc-dist: error:' "$WORK/log/real_$name.err.0" || true)
    [ -n "$dry" ] && [ "$dry" = "$real" ] ||
        fail "$name: dry run said '$dry', the run '$real'"
    echo "dry_run: $name: exit $expect, $dry"
}
cfg missing missing.h5
same missing 2
cfg nodataset train.h5
sed -i 's/^path = "train.h5"$/path = "train.h5"\nx_dataset = "Z"/' "$WORK/nodataset.toml"
same nodataset 2
cfg nan nan.h5
same nan 2
cfg badkey train.h5 "[construction]" "kapa = 0.3"
same badkey 2
cfg order train.h5 "[construction]" "order = [7, 10, 13, 99]"
same order 2
cfg intodata train.h5
sed -i 's/out_intodata.h5/train.h5/' "$WORK/intodata.toml"
same intodata 2
cfg dup dup.h5
same dup 3
# an existing result: refused alike, its bytes unchanged; --force passes
cfg exists train.h5
echo "not a result" > "$WORK/out_exists.h5"
sum=$(cksum < "$WORK/out_exists.h5")
same exists 2
[ "$(cksum < "$WORK/out_exists.h5")" = "$sum" ] || fail "exists: file changed"
run force --dry-run --force "$WORK/exists.toml"
[ "$rc" = 0 ] && grep -q "output: .*out_exists.h5 (exists: a run replaces it)" \
    "$WORK/log/force.out.0" || fail "force: exit $rc: $(cat "$WORK/log/force.out.0")"
[ "$(cksum < "$WORK/out_exists.h5")" = "$sum" ] || fail "force: file changed"
echo "dry_run: PASS"

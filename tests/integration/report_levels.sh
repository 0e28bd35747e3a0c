#!/usr/bin/env bash
# What a run prints, at 2 ranks, on random labels built as pieces (a few
# dozen layers): by default no per-layer piece lines but progress, the
# summary line and the phase times; --verbose a line per layer (as many
# as /construction has rows); --quiet only the summary line (and on an
# error only the error line); --progress=bar redraws a bar in place (\r,
# erased before every line), while under mpirun the default writes no \r;
# the result's /run holds the phase times (non-negative, summing to
# time_total, started_utc in UTC) and the outputs of all these runs have
# the same /network, /construction and /verification bytes.
#
#   report_levels.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args report_levels "$@"
fail() { echo "report_levels: FAIL: $*" >&2; exit 1; }

# run NAME EXPECT ARGS...: 2 ranks; NAME.out / NAME.err are rank 0's
run() {
    local name=$1 expect=$2
    shift 2
    td_run_ranks "$name" 2 "$expect" "$BIN" "$@"
    [ ! -s "$WORK/$name.out.1" ] || fail "$name: rank 1 printed"
    mv "$WORK/$name.out.0" "$WORK/$name.out"
    mv "$WORK/$name.err.0" "$WORK/$name.err"
}

"$PYTHON" "$here/gen_data.py" "$WORK/train.h5" --kind random_labels --q 2 \
    --m 3 --n 600 --seed 81
for name in normal verbose quiet bar; do
    printf '[data]\npath = "train.h5"\n[parallel]\nblock_rows = 64\n[output]\npath = "%s.h5"\n[construction]\nmode = "pieces"\n' \
        "$name" > "$WORK/$name.toml"
done

# --- default: summarised layers, the summary and the times ----------------
run normal 0 "$WORK/normal.toml"
cat "$WORK/normal.out"
grep -q "^search: pieces construction at width 5" "$WORK/normal.out" ||
    fail "normal: no search line"
grep -q "^  layer  *[0-9]*: class" "$WORK/normal.out" &&
    fail "normal: piece layer lines without --verbose"
grep -q "^summary: pieces construction, [0-9]* layers ([0-9]* hidden + 1 output), [0-9]* parameters, zero loss: yes (max error .*), .* s, .*normal.h5$" \
    "$WORK/normal.out" || fail "normal: no summary line"
grep -q "^  time: load [0-9.]* s, search [0-9.]* s, verify [0-9.]* s, write [0-9.]* s, total [0-9.]* s (wall clock, 2 ranks x 1 threads)$" \
    "$WORK/normal.out" || fail "normal: no time line"
[ "$(tail -n 2 "$WORK/normal.out" | head -n 1 | cut -c1-8)" = "summary:" ] ||
    fail "normal: the summary is not the closing block"
grep -q $'\r' "$WORK/normal.out" && fail "normal: a bar under mpirun by default"
[ ! -s "$WORK/normal.err" ] || fail "normal: stderr: $(cat "$WORK/normal.err")"

# --- --verbose: a line per layer -------------------------------------------
run verbose 0 --verbose "$WORK/verbose.toml"
lines=$(grep -c "^  layer  *[0-9]*: class .* piece .* lift " "$WORK/verbose.out" || true)
rows=$("$PYTHON" -c "import h5py, sys
print(h5py.File(sys.argv[1], 'r')['construction/offset'].shape[0])" "$WORK/verbose.h5")
[ "$lines" -gt 0 ] && [ "$lines" = "$rows" ] ||
    fail "verbose: $lines layer lines, /construction has $rows rows"

# --- --quiet: the summary line only ----------------------------------------
run quiet 0 --quiet "$WORK/quiet.toml"
cat "$WORK/quiet.out"
[ "$(wc -l < "$WORK/quiet.out")" = 1 ] &&
    grep -q "^summary: pieces construction, .*zero loss: yes .*quiet.h5$" \
        "$WORK/quiet.out" || fail "quiet: stdout is not just the summary"
[ ! -s "$WORK/quiet.err" ] || fail "quiet: stderr: $(cat "$WORK/quiet.err")"
# an error: the error line alone
printf '[data]\npath = "missing.h5"\n[output]\npath = "never.h5"\n' > "$WORK/missing.toml"
run quiet_error 2 --quiet "$WORK/missing.toml"
[ ! -s "$WORK/quiet_error.out" ] || fail "quiet error: stdout $(cat "$WORK/quiet_error.out")"
[ "$(wc -l < "$WORK/quiet_error.err")" = 1 ] &&
    grep -q "^trunc-dist: error: .*missing.h5: cannot open" "$WORK/quiet_error.err" ||
    fail "quiet error: stderr $(cat "$WORK/quiet_error.err")"

# --- --progress=bar: redrawn in place, erased before each line -------------
run bar 0 --progress=bar "$WORK/bar.toml"
grep -q $'\r  build  \[[#-]*\] *[0-9]*%  layer [0-9]*, [0-9]* rows left' \
    "$WORK/bar.out" || fail "bar: no build bar"
# without the bar's redraws the text is the default run's, line for line
# (numbers aside: times differ)
strip() { sed -e $'s/\r[^\r]*\033\\[K//g' -e 's/[0-9][0-9.e+-]*//g' "$1"; }
diff <(strip "$WORK/bar.out") <(strip "$WORK/normal.out" | sed 's/normal/bar/g') ||
    fail "bar: the text around the bar differs from a run without it"
run badflag 2 --progress=sometimes "$WORK/bar.toml"
grep -q "bad arguments" "$WORK/badflag.err" || fail "badflag: $(cat "$WORK/badflag.err")"

# --- the phase times in /run; the rest identical across the runs -----------
"$PYTHON" - "$WORK/normal.h5" <<'EOF' || fail "no phase times in /run"
import re, sys, h5py
run = h5py.File(sys.argv[1], "r")["run"].attrs
t = {k: float(run[f"time_{k}"]) for k in ("load", "build", "verify", "write", "total")}
print("report_levels: /run", t, run["started_utc"])
assert all(v >= 0 for v in t.values()) and t["build"] > 0, t
assert abs(t["load"] + t["build"] + t["verify"] + t["write"] - t["total"]) <= 1e-9 * t["total"], t
utc = run["started_utc"]
utc = utc.decode() if isinstance(utc, bytes) else utc
assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ", utc), utc
assert int(run["nranks"]) == 2 and int(run["nthreads"]) == 1
EOF
"$PYTHON" "$here/compare_networks.py" --group /network --group /construction \
    --group /verification --all-attrs "$WORK"/{normal,verbose,quiet,bar}.h5 ||
    fail "the flags changed the result"
"$PYTHON" "$here/check_network.py" "$WORK/quiet.h5" "$WORK/train.h5"
echo "report_levels: PASS"

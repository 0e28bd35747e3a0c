#!/usr/bin/env bash
# Stop and resume: a run stopped by SIGTERM (or SIGUSR1) at a layer exits
# 6 on every rank, keeps <output>.checkpoint and writes no result; a run
# killed by SIGKILL keeps the last checkpoint whole; --resume at another
# rank count then gives the /network and /construction bytes of a run
# that was never stopped, and removes the checkpoint.  Covers the pieces
# loop, the Theorem 6 search, auto's phase ends (binary data: Theorem 6
# ruled out, polytope ruled out) and a stop while the result is written.
# Also: a run without --resume refuses to start over a checkpoint, a
# resume with another config is refused, --force starts afresh, and stale
# temporaries of the output are removed.  Stops are placed exactly with
# TD_FAULT_SIGNAL=RANK:K:SIG (td_stop.h).  block_rows 16: rows spread.
#
#   resume.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args resume "$@"
fail() { echo "resume: FAIL: $*" >&2; exit 1; }
cd "$WORK"

# config NAME DATA [EXTRA]: output NAME.h5, a checkpoint after every layer
config() {
    printf '[data]\npath = "%s"\n[output]\npath = "%s.h5"\n[checkpoint]\ninterval = 0\n[parallel]\nblock_rows = 16\n%s' \
        "$2" "$1" "${3:-}" > "$1.toml"
}

# run TAG NP EXPECT ARGS...: every rank's exit code must be EXPECT
run() {
    local tag=$1 np=$2 expect=$3
    shift 3
    td_run_ranks "$tag" "$np" "$expect" "$BIN" "$@"
}

same() {    # same REF OUT: the bytes that must not depend on the stop
    "$PYTHON" "$here/compare_networks.py" "$1" "$2" --group /network \
        --group /construction --all-attrs > /dev/null ||
        fail "$2 differs from $1"
}

# stop NAME TAG NP SPEC: stopped run, exit 6 everywhere, checkpoint kept
stop() {
    TD_FAULT_SIGNAL=$4 run "$2" "$3" 6 "$1.toml"
    grep -q "stopped by SIG" "$2.err.0" || fail "$2: $(cat "$2.err.0")"
    grep -q -- "--resume $1.toml" "$2.err.0" || fail "$2: no resume hint"
    [ -f "$1.h5.checkpoint" ] || fail "$2: no checkpoint"
    [ ! -e "$1.h5" ] || fail "$2: a result was written"
}

# resumed NAME TAG NP REF: resume, compare, checkpoint gone
resumed() {
    run "$2" "$3" 0 --resume "$1.toml"
    grep -q "^resume: " "$2.out.0" || fail "$2: did not resume"
    same "$4" "$1.h5"
    [ ! -e "$1.h5.checkpoint" ] || fail "$2: checkpoint left behind"
    ls "$1".h5.* 2>/dev/null && fail "$2: temporaries left behind"
    rm -f "$1.h5"
}

TERM=15 KILL=9 USR1=10

# --- pieces: random labels, several hundred layers -------------------------
"$PYTHON" "$here/gen_data.py" d_rl.h5 --kind random_labels --q 3 --m 3 --n 400 --seed 5
config rl d_rl.h5
run rl_ref 1 0 rl.toml
mv rl.h5 ref_rl.h5
"$PYTHON" "$here/check_network.py" ref_rl.h5 d_rl.h5 > /dev/null
stop rl rl_term 3 "1:7:$TERM"
# safe point 1 is the end of the Theorem 6 attempt, then one per layer
grep -q "after layer 6;" rl_term.err.0 || fail "rl_term: $(cat rl_term.err.0)"
resumed rl rl_res1 2 ref_rl.h5
stop rl rl_usr1 2 "0:30:$USR1"
resumed rl rl_res2 1 ref_rl.h5
# SIGKILL leaves what the last safe point saved
"${mpiexec_cmd[@]}" --oversubscribe -n 2 env TD_FAULT_SIGNAL="0:25:$KILL" \
    "$BIN" rl.toml > rl_kill.out 2>&1 && fail "rl_kill: exit 0"
[ -f rl.h5.checkpoint ] || fail "rl_kill: no checkpoint"
resumed rl rl_res3 3 ref_rl.h5
# a stop while the result is written: the build is saved whole (safe
# points: the end of the Theorem 6 attempt, n layers, the build's end)
n=$("$PYTHON" -c 'import h5py; print(len(h5py.File("ref_rl.h5")["construction/lambda"]))')
stop rl rl_write 2 "0:$((n + 4)):$TERM"
grep -q "while writing" rl_write.err.0 || fail "rl_write: $(cat rl_write.err.0)"
resumed rl rl_res4 2 ref_rl.h5

# --- refusals -------------------------------------------------------------
stop rl rl_again 2 "0:5:$TERM"
sum=$(cksum < rl.h5.checkpoint)
run rl_norun 2 2 rl.toml
grep -q "checkpoint of an unfinished run.*--resume" rl_norun.err.0 ||
    fail "rl_norun: $(cat rl_norun.err.0)"
[ "$(cksum < rl.h5.checkpoint)" = "$sum" ] || fail "rl_norun changed the checkpoint"
sed 's/interval = 0/interval = 0\nenabled = true/' rl.toml > rl_other.toml
cp rl.h5.checkpoint rl_other.h5.checkpoint
sed -i 's/path = "rl.h5"$/path = "rl_other.h5"/' rl_other.toml
run rl_otherconf 2 2 --resume rl_other.toml
grep -q "another config" rl_otherconf.err.0 || fail "rl_otherconf: $(cat rl_otherconf.err.0)"
: > rl.h5.tmp.999999999
: > rl.h5.checkpoint.tmp
run rl_force 2 0 --force rl.toml
grep -q "removed rl.h5.checkpoint (--force" rl_force.out.0 || fail "rl_force: $(cat rl_force.out.0)"
grep -q "removed .*rl.h5.tmp.999999999" rl_force.out.0 || fail "stale result temporary kept"
grep -q "removed .*rl.h5.checkpoint.tmp" rl_force.out.0 || fail "stale checkpoint temporary kept"
same ref_rl.h5 rl.h5
rm -f rl.h5
run rl_nockpt 2 0 --resume rl.toml
grep -q "no checkpoint" rl_nockpt.out.0 || fail "rl_nockpt: $(cat rl_nockpt.out.0)"
same ref_rl.h5 rl.h5

# --- Theorem 6: the order search ------------------------------------------
"$PYTHON" "$here/gen_data.py" d_t6.h5 --kind tight --q 6 --m 6 --n 600 --seed 9
config t6 d_t6.h5
run t6_ref 2 0 t6.toml
mv t6.h5 ref_t6.h5
grep -q "construction theorem6\|theorem6 construction" t6_ref.out.0 ||
    fail "t6: not Theorem 6: $(grep wrote t6_ref.out.0)"
stop t6 t6_term 3 "2:3:$TERM"
resumed t6 t6_res 1 ref_t6.h5

# --- auto's phase ends: binary overlap, Theorem 6 and polytope ruled out --
"$PYTHON" "$here/gen_data.py" d_ov.h5 --kind overlap --q 2 --m 3 --n 300 --seed 4
config ov d_ov.h5
run ov_ref 1 0 ov.toml
mv ov.h5 ref_ov.h5
for k in 1 2 3; do
    stop ov "ov_term$k" 3 "1:$k:$TERM"
    resumed ov "ov_res$k" 2 ref_ov.h5
done
echo "resume: ok"

#!/usr/bin/env bash
# jobs/trunc-dist-requeue.slurm on a single-node Slurm started here: a build
# longer than a job's time limit finishes through requeues.
#   1. scancel while it builds on 2 ranks: trunc-dist stops with SIGTERM on
#      every rank, keeps <output>.checkpoint, writes no result, and the job
#      is not requeued.
#   2. The same config submitted again, on 1 rank, with --time=1 and
#      --signal=B:USR1@30: the job resumes the cancelled run's checkpoint,
#      its batch shell gets the time-limit signal and stops trunc-dist
#      (SIGUSR1, exit 6, a newer checkpoint), requeues itself, and the next
#      run (SLURM_RESTART_COUNT 1) resumes and completes: sbatch --wait
#      returns 0, the checkpoint is gone and the network passes the
#      independent NumPy check.  At most TD_MAX_REQUEUES=5 requeues.
# Timing: Slurm checks time limits every 30 s and sends the signal at the
# first check after end - offset - 30 s, so with --time=1 and an offset of
# 30 it comes 0-30 s into a run; TD_STOP_BEFORE_END=30 holds it back to
# 30 s before the end: every run builds for about 30 s.  The data (random
# labels, pieces: thousands of layers, work growing as N^2) are sized so
# that the build takes about 45 s here and now: a first build of N0 = 3000
# rows on 1 rank is timed and N = N0 sqrt(45 s / its search time), at most
# 14000 (N=... skips this).  So on an idle machine or a busy one there is
# usually one requeue (about 90 s in all), sometimes two.  The time-limited
# job runs on 1 rank: with 2 ranks on 2 busy cores, the build's many small
# collectives made it 10 to 20 times slower than on 1, and unpredictable.
#
#   slurm_requeue.sh BIN=... WORK=... [PYTHON=/usr/bin/python3] [N=rows]
#                    [REF=1: also build without Slurm and require identical
#                    /network bytes, about 45 s more]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=slurm_lib.sh
. "$here/slurm_lib.sh"
slurm_setup slurm_requeue "$@"

# config NAME ROWS [OUTPUT]: NAME.h5 (random labels, Q = 10 in 3 dimensions)
# and NAME.toml (pieces, a checkpoint every 5 s) writing OUTPUT (network.h5)
config() {
    "$PYTHON" "$here/gen_data.py" "$WORK/$1.h5" --kind random_labels --q 10 --m 3 \
        --n "$2" --seed 5 >/dev/null
    printf '[data]\npath = "%s.h5"\n[output]\npath = "%s"\n[construction]\nmode = "pieces"\n[checkpoint]\ninterval = 5\n' \
        "$1" "${3:-network.h5}" > "$WORK/$1.toml"
}
if [ -z "${N:-}" ]; then
    config calib 3000 calib_network.h5
    "${mpiexec_cmd[@]}" -n 1 "$BIN" "$WORK/calib.toml" > "$WORK/calib.out"
    t0=$(sed -n 's/^ *time: .*search \([0-9.]*\) s.*/\1/p' "$WORK/calib.out")
    N=$("$PYTHON" -c "import math; print(max(3000, min(14000, int(3000 * math.sqrt(45 / max($t0, 0.01))) // 100 * 100)))")
    echo "slurm_requeue: 3000 rows built in $t0 s here: N = $N"
fi
config rl "$N"
ckpt="$WORK/network.h5.checkpoint"
job=(--time=1 --signal=B:USR1@30 "$root/jobs/trunc-dist-requeue.slurm" "$WORK/rl.toml")
export TD_STOP_BEFORE_END=30 TD_MAX_REQUEUES=5

# --- 1. cancelled while it builds -----------------------------------------
id=$(sbatch --parsable --chdir="$root" --output="$WORK/cancel.out" \
     --export="ALL,TRUNC_DIST=$BIN" --ntasks=2 "${job[@]}")
for _ in $(seq 120); do
    grep -q "^search: pieces construction" "$WORK/cancel.out" 2>/dev/null && break
    sleep 0.5
done
grep -q "^search: pieces construction" "$WORK/cancel.out" || fail "the first job did not start building"
sleep 2
scancel "$id"
for _ in $(seq 120); do
    [ -z "$(squeue -h -j "$id" -o %T 2>/dev/null)" ] && break
    sleep 0.5
done
cat "$WORK/cancel.out"
[ -z "$(squeue -h -j "$id" -o %T 2>/dev/null)" ] || fail "the cancelled job is still queued (requeued?)"
grep -q "trunc-dist 0.1.0: 2 ranks" "$WORK/cancel.out" || fail "scancel: the job did not run on 2 ranks"
grep -q "trunc-dist: error: stopped by SIGTERM after layer" "$WORK/cancel.out" ||
    fail "scancel: trunc-dist did not stop by SIGTERM at a layer"
grep -q "tasks 0-1: Exited with exit code 6" "$WORK/cancel.out" || fail "scancel: not every rank exited with 6"
[ -f "$ckpt" ] || fail "scancel: no checkpoint kept"
[ ! -e "$WORK/network.h5" ] || fail "scancel: a result was written"
! grep -q "requeueing" "$WORK/cancel.out" || fail "scancel: the job requeued itself"
cancelled_at=$(sed -n 's/.*stopped by SIGTERM after layer \([0-9]*\).*/\1/p' "$WORK/cancel.out")

# --- 2. resubmitted: time limit, requeue, completion --------------------------
start=$(date +%s)
submit 540 "$WORK/requeue.out" --ntasks=1 "${job[@]}"
log="$WORK/requeue.out"
[ "$rc" -eq 0 ] || fail "sbatch --wait returned $rc"
runs=$(grep -c "restart count [0-9]*):" "$log")
echo "slurm_requeue: $runs runs in $(( $(date +%s) - start )) s (cancelled at layer $cancelled_at)"
grep -q "\[run 1 .*(restart count 0): 1 ranks" "$log" || fail "no first run on 1 rank"
grep -q "^resume: .*: $cancelled_at layers built when it was saved" "$log" ||
    fail "the first run did not continue the cancelled run's checkpoint (layer $cancelled_at)"
if [ "$runs" -lt 2 ]; then
    fail "the build finished within one run, before the time-limit signal:" \
         "the machine became faster than it was when N was chosen; N=... sets it"
fi
grep -q "\[run 1 .*\] time-limit signal" "$log" || fail "run 1 got no time-limit signal"
grep -q "trunc-dist: error: stopped by SIGUSR1 after layer" "$log" || fail "trunc-dist was not stopped by SIGUSR1"
grep -q "\[run 1 .*\] trunc-dist exit code 6" "$log" || fail "run 1 did not end with exit code 6"
grep -q "\[run 1 .*\] checkpoint .* kept: requeueing job" "$log" || fail "run 1 did not requeue"
grep -q "\[run 2 .*(restart count 1):" "$log" || fail "no second run with SLURM_RESTART_COUNT=1"
tail -n 1 "$log" | grep -q "\[run $runs .*\] trunc-dist exit code 0" || fail "the last run did not end with 0"
[ "$runs" -le 6 ] || fail "more than TD_MAX_REQUEUES + 1 runs"
[ ! -e "$ckpt" ] || fail "the checkpoint was not removed at the end"
"$PYTHON" "$here/check_network.py" "$WORK/network.h5" "$WORK/rl.h5" >/dev/null ||
    fail "check_network.py: the result is not a zero-loss network"

if [ "${REF:-0}" = 1 ]; then
    sed 's/network\.h5/ref.h5/' "$WORK/rl.toml" > "$WORK/ref.toml"
    "${mpiexec_cmd[@]}" -n 1 "$BIN" "$WORK/ref.toml" > "$WORK/ref.out"
    "$PYTHON" "$here/compare_networks.py" "$WORK/ref.h5" "$WORK/network.h5" ||
        fail "the requeued build differs from one that was never stopped"
fi
echo "slurm_requeue: PASS"

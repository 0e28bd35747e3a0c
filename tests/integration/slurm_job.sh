#!/usr/bin/env bash
# The batch scripts in jobs/, run for real through a single-node Slurm
# started here (scripts/slurm_local.sh); every result is checked by the
# independent NumPy pass (check_network.py).
#   trunc-dist.slurm          `sbatch --wait` returns 0 and a zero-loss
#                             network on 2 ranks for the example, and the
#                             job's own exit code 2 for a config whose data
#                             file is missing (no output left behind)
#   trunc-dist-hybrid.slurm   2 ranks per node x 1 thread: each rank bound to
#                             a core of its own; 1 rank x 2 threads: the rank
#                             holds both cores and runs 2 OpenMP threads;
#                             outside Slurm: exit 2
#   trunc-dist-array.slurm    --count and --list (a duplicate output path is
#                             warned about) on a list file and a directory;
#                             an array of 4 tasks over a list (comments,
#                             blank lines, relative and absolute paths, one
#                             missing config): tasks 1-3 write their own
#                             network and log, task 4's log names the missing
#                             config, and `sbatch --wait` returns 2, the
#                             largest exit code
#   slurm_job.sh BIN=... WORK=... [PYTHON=/usr/bin/python3]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=slurm_lib.sh
. "$here/slurm_lib.sh"
slurm_setup slurm_job "$@"
check() { "$PYTHON" "$here/check_network.py" "$@" >/dev/null || fail "check_network.py $*"; }

# --- the single-node job ----------------------------------------------------
"$BIN" --example "$WORK/ex" >/dev/null
submit 120 "$WORK/ok.out" --time=2 --ntasks=2 "$root/jobs/trunc-dist.slurm" "$WORK/ex/example.toml"
[ "$rc" -eq 0 ] || fail "sbatch --wait returned $rc for the example"
grep -q "verify (.*): .*accuracy 100.0000%" "$WORK/ok.out" || fail "no zero-loss verify line"
grep -q "trunc-dist 0.1.0: 2 ranks" "$WORK/ok.out" || fail "the job did not run on 2 ranks"
check "$WORK/ex/example_network.h5" "$WORK/ex/example.h5"

printf '[data]\npath = "missing.h5"\n[output]\npath = "net.h5"\n' > "$WORK/bad.toml"
submit 120 "$WORK/bad.out" --time=2 --ntasks=2 "$root/jobs/trunc-dist.slurm" "$WORK/bad.toml"
[ "$rc" -eq 2 ] || fail "sbatch --wait returned $rc for a missing data file, expected 2"
grep -q "trunc-dist: error: .*missing.h5" "$WORK/bad.out" || fail "no error line naming the file"
[ ! -e "$WORK/net.h5" ] || fail "output left behind"

# --- the hybrid job on the one node -------------------------------------------
# 2 ranks x 1 thread: rank 0 on one core, rank 1 on the other
TD_SHOW_BINDING=1 TD_ARGS=--force submit 120 "$WORK/hyb2x1.out" --time=2 --nodes=1 \
    --ntasks-per-node=2 --cpus-per-task=1 "$root/jobs/trunc-dist-hybrid.slurm" "$WORK/ex/example.toml"
[ "$rc" -eq 0 ] || fail "hybrid 2 x 1: sbatch --wait returned $rc"
grep -q "trunc-dist 0.1.0: 2 ranks x 1 threads" "$WORK/hyb2x1.out" || fail "hybrid 2 x 1: not 2 ranks x 1 thread"
grep -q "OMP_PLACES=cores OMP_PROC_BIND=close, --cpu-bind=cores" "$WORK/hyb2x1.out" ||
    fail "hybrid: binding settings not reported"
c0=$(sed -n 's/^binding: rank 0 on .*: cpus //p' "$WORK/hyb2x1.out")
c1=$(sed -n 's/^binding: rank 1 on .*: cpus //p' "$WORK/hyb2x1.out")
[[ "$c0" =~ ^[0-9]+$ && "$c1" =~ ^[0-9]+$ && "$c0" != "$c1" ]] ||
    fail "hybrid 2 x 1: ranks not bound to one core each (rank 0: '$c0', rank 1: '$c1')"
check "$WORK/ex/example_network.h5" "$WORK/ex/example.h5"
# 1 rank x 2 threads: OMP_NUM_THREADS from SLURM_CPUS_PER_TASK, both cores
TD_SHOW_BINDING=1 TD_ARGS=--force submit 120 "$WORK/hyb1x2.out" --time=2 --nodes=1 \
    --ntasks-per-node=1 --cpus-per-task=2 "$root/jobs/trunc-dist-hybrid.slurm" "$WORK/ex/example.toml"
[ "$rc" -eq 0 ] || fail "hybrid 1 x 2: sbatch --wait returned $rc"
grep -q "trunc-dist 0.1.0: 1 ranks x 2 threads" "$WORK/hyb1x2.out" || fail "hybrid 1 x 2: not 1 rank x 2 threads"
c0=$(sed -n 's/^binding: rank 0 on .*: cpus //p' "$WORK/hyb1x2.out")
[[ "$c0" =~ ^[0-9]+-[0-9]+$|^[0-9]+,[0-9]+$ ]] || fail "hybrid 1 x 2: rank 0 not on 2 cores ('$c0')"
check "$WORK/ex/example_network.h5" "$WORK/ex/example.h5"
set +e
env -u SLURM_JOB_ID bash "$root/jobs/trunc-dist-hybrid.slurm" "$WORK/ex/example.toml" 2>"$WORK/hyb_nojob.err"
rc=$?
set -e
if [ "$rc" -ne 2 ] || ! grep -q "submit it with sbatch" "$WORK/hyb_nojob.err"; then
    fail "hybrid outside Slurm: exit $rc, expected 2 with a message"
fi

# --- the array job: a sweep over configs -------------------------------------
sweep="$WORK/sweep"
mkdir -p "$sweep/more"
cp "$WORK/ex/example.h5" "$sweep/"
for k in 1 2 3; do
    printf '# sweep entry %d\n[data]\npath = "example.h5"\n[output]\npath = "net%d.h5"  # own result\n[construction]\nkappa = 0.%d\n' \
        "$k" "$k" "$((k + 2))" > "$sweep/c$k.toml"
done
printf 'output.path = "../net1.h5"\n[data]\npath = "../example.h5"\n' > "$sweep/more/dup.toml"
printf '# the sweep\nc1.toml\n\n   c2.toml   # kappa 0.4\n%s\nnot-there.toml\n' "$sweep/c3.toml" > "$sweep/list.txt"
array="$root/jobs/trunc-dist-array.slurm"
[ "$("$array" --count "$sweep/list.txt")" -eq 4 ] || fail "array --count of the list is not 4"
[ "$("$array" --count "$sweep")" -eq 3 ] || fail "array --count of the directory is not 3"
"$array" --list "$sweep/list.txt" > "$WORK/list.out" 2>&1
grep -q "^   2  $sweep/c2.toml  ->  $sweep/net2.h5$" "$WORK/list.out" || fail "array --list: entry 2"
grep -q "^   4  $sweep/not-there.toml  (no such file)$" "$WORK/list.out" || fail "array --list: the missing entry"
printf 'more/dup.toml\n' >> "$sweep/list.txt"
"$array" --list "$sweep/list.txt" 2>&1 | grep -q "warning: entries 1 and 5 both write $sweep/net1.h5" ||
    fail "array --list: no warning about a shared output path"
sed -i '$d' "$sweep/list.txt"

submit 120 "$WORK/array-%A_%a.out" --time=2 --ntasks=1 --array=1-4 "$array" "$sweep/list.txt"
[ "$rc" -eq 2 ] || fail "array: sbatch --wait returned $rc, expected 2 (task 4's)"
for k in 1 2 3; do
    log=$(ls "$WORK"/array-*_"$k".out 2>/dev/null) || fail "array: no log of task $k"
    grep -q "task $k of 4: $sweep/c$k.toml" "$log" || fail "array: task $k ran another config"
    grep -q "task $k: exit code 0" "$log" || fail "array: task $k did not succeed"
    check "$sweep/net$k.h5" "$sweep/example.h5"
done
log=$(ls "$WORK"/array-*_4.out 2>/dev/null) || fail "array: no log of task 4"
grep -q "task 4: config $sweep/not-there.toml not found" "$log" || fail "array: task 4 did not name the missing config"
echo "slurm_job: PASS"

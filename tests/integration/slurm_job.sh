#!/usr/bin/env bash
# Runs jobs/trunc-dist.slurm for real through a single-node Slurm started
# here (scripts/slurm_local.sh): `sbatch --wait` must return 0 and a
# zero-loss network for the example, and the job's own exit code 2 for a
# config whose data file is missing.  Env: BIN (trunc-dist), WORK.
set -euo pipefail
: "${BIN:?}" "${WORK:?}"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
slurm="$WORK/slurm"
[ -d "$slurm" ] && "$root/scripts/slurm_local.sh" stop "$slurm"
rm -rf "$WORK"
mkdir -p "$WORK"
trap '"$root/scripts/slurm_local.sh" stop "$slurm"' EXIT
"$root/scripts/slurm_local.sh" start "$slurm"
export SLURM_CONF="$slurm/slurm.conf"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

fail() { echo "slurm_job: FAIL: $*"; squeue -o '%i %T %r' 2>/dev/null || true; exit 1; }

# submit CONFIG OUT: run the job script on 2 ranks and wait; sets $rc to
# what sbatch --wait returned (the job's exit code)
submit() {
    set +e
    timeout 120 sbatch --wait --time=2 --ntasks=2 --chdir="$root" \
        --output="$2" --export="ALL,TRUNC_DIST=$BIN" jobs/trunc-dist.slurm "$1"
    rc=$?
    set -e
    cat "$2" 2>/dev/null || true
}

"$BIN" --example "$WORK/ex"
submit "$WORK/ex/example.toml" "$WORK/ok.out"
[ "$rc" -eq 0 ] || fail "sbatch --wait returned $rc for the example"
grep -q "verify (.*): .*accuracy 100.0000%" "$WORK/ok.out" || fail "no zero-loss verify line"
grep -q "trunc-dist 0.1.0: 2 ranks" "$WORK/ok.out" || fail "the job did not run on 2 ranks"
/usr/bin/python3 "$here/check_network.py" "$WORK/ex/example_network.h5" "$WORK/ex/example.h5"

printf '[data]\npath = "missing.h5"\n[output]\npath = "net.h5"\n' > "$WORK/bad.toml"
submit "$WORK/bad.toml" "$WORK/bad.out"
[ "$rc" -eq 2 ] || fail "sbatch --wait returned $rc for a missing data file, expected 2"
grep -q "trunc-dist: error: .*missing.h5" "$WORK/bad.out" || fail "no error line naming the file"
[ ! -e "$WORK/net.h5" ] || fail "output left behind"
echo "slurm_job: PASS"

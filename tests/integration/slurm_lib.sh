# shellcheck shell=bash
# slurm_lib.sh - sourced by the Slurm tests (slurm_job.sh, slurm_requeue.sh).
#   slurm_setup NAME ARGS...  parse VAR=VALUE arguments (script_args.sh: BIN
#                             and WORK required), stop a Slurm that an
#                             aborted run left in WORK, empty WORK, start a
#                             single-node Slurm in WORK/slurm
#                             (scripts/slurm_local.sh), stopped on exit
#   submit TIMEOUT LOG SBATCH-ARGS...
#                             sbatch --wait from the repository root with
#                             TRUNC_DIST=$BIN; sets $rc to the job's exit
#                             code (what sbatch --wait returns) and prints LOG
#   fail MESSAGE              print the queue and the message, exit 1
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"

slurm_setup() {
    local me=$1 arg w=${WORK:-}
    shift
    for arg in "$@"; do
        case "$arg" in WORK=*) w=${arg#WORK=} ;; esac
    done
    if [ -n "$w" ] && [ -f "$w/slurm/slurm.conf" ]; then
        "$root/scripts/slurm_local.sh" stop "$w/slurm"
    fi
    td_script_args "$me" "$@"
    test_name=$me
    slurm="$WORK/slurm"
    trap '"$root/scripts/slurm_local.sh" stop "$slurm"' EXIT
    "$root/scripts/slurm_local.sh" start "$slurm"
    export SLURM_CONF="$slurm/slurm.conf"
}

fail() {
    echo "$test_name: FAIL: $*"
    squeue -o '%i %T %r %M' 2>/dev/null || true
    exit 1
}

submit() {
    local limit=$1 log=$2
    shift 2
    set +e
    timeout "$limit" sbatch --wait --chdir="$root" --output="$log" \
        --export="ALL,TRUNC_DIST=$BIN" "$@"
    rc=$?
    set -e
    [ "$rc" -ne 124 ] || fail "sbatch --wait did not return within $limit s: $*"
    cat "$log" 2>/dev/null || true
}

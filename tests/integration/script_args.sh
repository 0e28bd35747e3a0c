# script_args.sh - sourced by the whole-run test scripts (determinism.sh,
# precision.sh): VAR=VALUE arguments become exported variables, BIN and
# WORK are required, the MPI launcher may run as root, and WORK is made
# empty and absolute.  $1: the script's name for messages; then its args.
td_script_args() {
    local me="$1" arg name
    shift
    for arg in "$@"; do
        case "$arg" in
            *=*) name="${arg%%=*}"
                 [[ "$name" =~ ^[A-Z_][A-Z0-9_]*$ ]] || { echo "$me: bad argument '$arg'" >&2; exit 2; }
                 printf -v "$name" '%s' "${arg#*=}"; export "${name?}" ;;
            *)   echo "$me: unexpected argument '$arg'" >&2; exit 2 ;;
        esac
    done
    : "${BIN:?$me: BIN is required}"
    : "${WORK:?$me: WORK is required}"
    MPIEXEC="${MPIEXEC:-mpiexec}"
    PYTHON="${PYTHON:-/usr/bin/python3}"
    export OMPI_ALLOW_RUN_AS_ROOT="${OMPI_ALLOW_RUN_AS_ROOT:-1}"
    export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}"
    read -r -a mpiexec_cmd <<< "$MPIEXEC"
    rm -rf "$WORK"
    mkdir -p "$WORK"
    WORK="$(cd "$WORK" && pwd)"
}

# td_run_ranks TAG NP EXPECT CMD...: CMD on NP ranks (oversubscribed), each
# rank's stdout, stderr and exit code in $WORK/TAG.{out,err,rc}.RANK; the
# script fails, quoting rank 0's stderr, unless every rank exited EXPECT.
td_run_ranks() {
    local tag=$1 np=$2 expect=$3 r
    shift 3
    rm -f "$WORK/$tag".rc.*
    "${mpiexec_cmd[@]}" --oversubscribe -n "$np" sh -c \
        'out=$1; shift; "$@" > "$out.out.$OMPI_COMM_WORLD_RANK" 2> "$out.err.$OMPI_COMM_WORLD_RANK"; echo $? > "$out.rc.$OMPI_COMM_WORLD_RANK"; exit 0' \
        sh "$WORK/$tag" "$@" || true
    for ((r = 0; r < np; r++)); do
        [ "$(cat "$WORK/$tag.rc.$r" 2>/dev/null)" = "$expect" ] || {
            echo "FAIL: $tag: rank $r exit $(cat "$WORK/$tag.rc.$r" 2>/dev/null), expected $expect: $(head -c 600 "$WORK/$tag.err.0" 2>/dev/null)" >&2
            exit 1
        }
    done
}

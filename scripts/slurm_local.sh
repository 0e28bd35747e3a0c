#!/usr/bin/env bash
# A throw-away single-node Slurm for tests: `slurm_local.sh start DIR`
# writes DIR/slurm.conf and starts a munged, slurmctld and slurmd of its own
# as root, without systemd; `slurm_local.sh stop DIR` cancels its jobs and
# stops what start started.  Clients need SLURM_CONF=DIR/slurm.conf.
#
# Several instances (test suites of different build trees) can run at the
# same time: everything is private to DIR -- the munge socket, the ports and
# the first job id (both derived from DIR), the spool, state and TmpFS
# directories (PMIx puts its per-job directories there).
#
# Tuned so that tests do not sit idle:
#   AuthInfo cred_expire=8      a requeued job may start again 9 s after the
#                               requeue (default 121 s)
#   sched_interval=2            a job whose begin time has passed is started
#                               within 2 s (default 60 s)
#   MinJobAge=4                 `sbatch --wait` polls every 2 s instead of
#                               2, 8, 32, 32 ... s
#   TaskPlugin=task/affinity    srun --cpu-bind really binds (tested)
set -euo pipefail
cmd=${1:?usage: slurm_local.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: slurm_local.sh start|stop DIR}" && cd "$2" && pwd)
host=$(hostname -s)
export SLURM_CONF="$dir/slurm.conf"
# a unix socket path must fit in 108 bytes
sock="$dir/munge.sock"
hash=$(printf '%s' "$dir" | cksum | cut -d' ' -f1)
[ ${#sock} -le 100 ] || sock="/tmp/td-slurm-$hash.munge.sock"

stop() {
    # this instance's jobs first: slurmd leaves running steps behind
    if [ -f "$dir/slurmctld.pid" ] && kill -0 "$(cat "$dir/slurmctld.pid")" 2>/dev/null; then
        local jobs
        jobs=$(squeue -h -o %A 2>/dev/null || true)
        if [ -n "$jobs" ]; then
            # shellcheck disable=SC2086
            scancel --full $jobs 2>/dev/null || true
            for _ in $(seq 20); do
                [ -z "$(squeue -h -t R,CG -o %A 2>/dev/null || true)" ] && break
                sleep 0.5
            done
        fi
    fi
    # the pid files, then anything still running with this config
    local pids=""
    for d in slurmd slurmctld munged; do
        [ -f "$dir/$d.pid" ] && pids="$pids $(cat "$dir/$d.pid")"
        rm -f "$dir/$d.pid"
    done
    pids="$pids $(pgrep -f -- "-f $SLURM_CONF" || true)"
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do                       # slurmctld takes a moment
        for _ in $(seq 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$p" 2>/dev/null || true
    done
    rm -f "$sock" "$sock.lock"
}

port_free() {
    ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

write_conf() {
    # nproc alone honours OMP_NUM_THREADS; the node needs room for 2 ranks
    local cpus port first
    cpus=$(nproc --all)
    [ "$cpus" -ge 2 ] || cpus=2
    port=$(( 20000 + (hash % 5000) * 2 ))
    for _ in $(seq 50); do
        port_free "$port" && port_free $((port + 1)) && break
        port=$((port + 2))
    done
    first=$(( 1000 + (hash % 60000) * 1000 ))    # MaxJobId is 67043328
    mkdir -p "$dir/state" "$dir/spool" "$dir/tmp"
    cat > "$SLURM_CONF" <<CONF
ClusterName=tdtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
FirstJobId=$first
AuthType=auth/munge
AuthInfo=cred_expire=8,socket=$sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
TmpFS=$dir/tmp
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
MinJobAge=4
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
CONF
}

start_munge() {
    mkdir -p /etc/munge
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
    munged --force --socket="$sock" --pid-file="$dir/munged.pid" \
        --log-file="$dir/munged.log" --seed-file="$dir/munged.seed"
    for _ in $(seq 20); do
        munge -n --socket="$sock" </dev/null >/dev/null 2>&1 && return 0
        sleep 0.25
    done
    echo "slurm_local: munged on $sock does not answer; see $dir/munged.log" >&2
    return 1
}

wait_idle() {
    for _ in $(seq 60); do
        if sinfo -h -N -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
            return 0
        fi
        sleep 0.5
    done
    echo "slurm_local: node $host did not become idle; see $dir/*.log" >&2
    sinfo -N >&2 || true
    return 1
}

case "$cmd" in
start)
    stop                                     # leftovers of an aborted run
    write_conf
    start_munge
    rm -rf "${dir:?}/state"/* "${dir:?}/spool"/* "${dir:?}/tmp"/*
    slurmctld -i -f "$SLURM_CONF"
    slurmd -f "$SLURM_CONF" -N "$host"
    wait_idle
    ;;
stop)
    stop
    ;;
*)
    echo "usage: slurm_local.sh start|stop DIR" >&2
    exit 2
    ;;
esac

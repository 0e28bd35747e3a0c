#!/usr/bin/env bash
# A throw-away single-node Slurm for tests: `slurm_local.sh start DIR`
# writes DIR/slurm.conf and starts munged (if none runs), slurmctld and
# slurmd as root, without systemd; `slurm_local.sh stop DIR` stops what
# start started.  Clients need SLURM_CONF=DIR/slurm.conf.
set -euo pipefail
cmd=${1:?usage: slurm_local.sh start|stop DIR}
dir=$(mkdir -p "${2:?usage: slurm_local.sh start|stop DIR}" && cd "$2" && pwd)
host=$(hostname -s)
export SLURM_CONF="$dir/slurm.conf"

stop() {
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
}

write_conf() {
    # nproc alone honours OMP_NUM_THREADS; the node needs room for 2 ranks
    local cpus
    cpus=$(nproc --all)
    [ "$cpus" -ge 2 ] || cpus=2
    mkdir -p "$dir/state" "$dir/spool"
    cat > "$SLURM_CONF" <<CONF
ClusterName=tdtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=26817
SlurmdPort=26818
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE
CONF
}

start_munge() {
    if munge -n </dev/null >/dev/null 2>&1; then
        return                               # a munged already answers
    fi
    mkdir -p /run/munge /var/lib/munge /var/log/munge /etc/munge
    [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key
    munged --force --pid-file="$dir/munged.pid" --log-file="$dir/munged.log"
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
    rm -rf "$dir/state"/* "$dir/spool"/*
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

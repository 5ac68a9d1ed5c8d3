#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for the tests of the SLURM path (tests/test_slurm.py)
# and for trying the recipe of docs/scale-out.md: munged, slurmctld and slurmd from Debian's
# packages (slurm-wlm, munge), run as root, with a configuration in a directory of its own and no
# cgroups (proctrack/linuxproc, task/none), no accounting database.
#
#     scripts/slurm_node.sh install        # apt-get install slurm-wlm munge, if missing (root)
#     scripts/slurm_node.sh start DIR      # configuration, state and logs in DIR; prints SLURM_CONF=DIR/slurm.conf
#     scripts/slurm_node.sh stop DIR       # cancels its jobs, stops the daemons started with DIR (munged stays)
#
# Every command exits 1 with its reason on stderr when it cannot do its part (not root, no
# packages, a daemon that does not come up within START_SECONDS); the tests then skip, saying it.
set -euo pipefail
START_SECONDS=30

fail() { echo "slurm_node.sh: $*" >&2; exit 1; }

install() {
  command -v slurmctld >/dev/null && command -v munged >/dev/null && return 0
  [ "$(id -u)" = 0 ] || fail "SLURM is not installed and installing it needs root"
  command -v apt-get >/dev/null || fail "SLURM is not installed and there is no apt-get to install it"
  apt-get update -qq >/dev/null || fail "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null \
    || fail "apt-get install slurm-wlm munge failed"
}

start() {
  local dir host cpus memory
  dir=$(realpath -m "$1")
  [ "$(id -u)" = 0 ] || fail "starting slurmctld and slurmd here needs root"
  command -v slurmctld >/dev/null || fail "slurmctld not found: run '$0 install' first"
  mkdir -p "$dir/state" "$dir/spool"
  host=$(hostname -s)
  cpus=$(getconf _NPROCESSORS_ONLN)  # not nproc: it says OMP_NUM_THREADS where that is set
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))
  # KillWait 5: a job ended by its time limit or by a requeue gets SIGTERM, then SIGKILL 5 s later.
  # MinJobAge 600: a finished job stays visible to `scontrol show job` for 10 minutes.
  # bf_interval 1: a pending job whose start time has come starts within a second, not at the next
  # of the backfill scheduler's passes (every 30 s by default).
  cat > "$dir/slurm.conf" <<EOF
ClusterName=ibkeras
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=bf_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ReturnToService=2
KillWait=5
MinJobAge=600
JobRequeue=1
NodeName=$host CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  if ! pgrep -x munged >/dev/null; then
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged || fail "munged did not start"
  fi
  export SLURM_CONF=$dir/slurm.conf
  slurmctld -f "$SLURM_CONF" || fail "slurmctld did not start (see $dir/slurmctld.log)"
  slurmd -f "$SLURM_CONF" || fail "slurmd did not start (see $dir/slurmd.log)"
  for _ in $(seq "$START_SECONDS"); do
    if [ "$(sinfo -h -N -o %t 2>/dev/null)" = idle ]; then
      echo "SLURM_CONF=$SLURM_CONF"
      return 0
    fi
    sleep 1
  done
  stop "$dir"
  fail "the node did not become idle within $START_SECONDS s (see $dir/slurmctld.log, $dir/slurmd.log)"
}

stop() {
  local dir
  dir=$(realpath -m "$1")
  # its jobs first (a test that failed half-way leaves them running), then the daemons
  SLURM_CONF=$dir/slurm.conf scancel --full --user "$(id -un)" 2>/dev/null || true
  for daemon in slurmd slurmctld; do
    if [ -f "$dir/$daemon.pid" ]; then
      kill "$(cat "$dir/$daemon.pid")" 2>/dev/null || true
    fi
  done
  for _ in $(seq 40); do  # slurmd takes some seconds once its controller is gone
    pgrep -x slurmd >/dev/null || pgrep -x slurmctld >/dev/null || return 0
    sleep 0.5
  done
}

case "${1:-}" in
  install) install ;;
  start) [ $# = 2 ] || fail "usage: $0 start DIR"; start "$2" ;;
  stop) [ $# = 2 ] || fail "usage: $0 stop DIR"; stop "$2" ;;
  *) fail "usage: $0 install | start DIR | stop DIR" ;;
esac

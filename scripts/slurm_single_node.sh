#!/usr/bin/env bash
# A real single-node Slurm on this machine (Debian 12, root, no systemd), for the Slurm test and the
# README's "Scale-out on Slurm" session: installs slurmctld, slurmd, slurm-client and munge when
# missing, writes /etc/slurm/slurm.conf (this host as controller and only node, its CPUs and memory
# from `slurmd -C`, job requeue on, no accounting), starts munged, slurmctld and slurmd unless they
# already run, and waits until the node is idle. Idempotent: a second call changes nothing.
# `--check` only reports whether the cluster answers (exit 0) or not (exit 1).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
log() { echo "slurm_single_node: $*" >&2; }

if [ "${1:-}" = "--check" ]; then
  sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && exit 0 || exit 1
fi

need=()
command -v slurmctld >/dev/null 2>&1 || need+=(slurmctld)
command -v slurmd >/dev/null 2>&1 || need+=(slurmd)
command -v sbatch >/dev/null 2>&1 || need+=(slurm-client)
command -v munged >/dev/null 2>&1 || need+=(munge)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

host="$(hostname -s)"
conf=/etc/slurm/slurm.conf
# `slurmd -C` prints the node line this machine can offer: CPUs, sockets, cores, threads, memory.
node="$(slurmd -C | head -1)"
cpus="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")"
mem="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node")"
want="$(cat <<EOF
# written by matchlab scripts/slurm_single_node.sh: one machine as controller and only node
ClusterName=matchlab
SlurmctldHost=${host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# a requeued job waits cred_expire seconds before it may start again (default 120)
AuthInfo=cred_expire=20
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
JobRequeue=1
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerParameters=bf_interval=5,sched_interval=5
MinJobAge=600
KillWait=10
DefMemPerCPU=$((mem / cpus))
NodeName=${host} CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=main Nodes=${host} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
)"
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
changed=0
if [ ! -f "$conf" ] || [ "$(cat "$conf")" != "$want" ]; then
  printf '%s\n' "$want" >"$conf"
  changed=1
  log "wrote $conf (node ${host}: ${cpus} CPUs, ${mem} MB)"
fi

# Whether a daemon runs, from its pid file (pgrep's procps may be absent on a fresh machine).
running() {
  local f="/run/$1.pid"
  [ "$1" = munged ] && f=/run/munge/munged.pid
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}
if ! running munged; then
  [ -f /etc/munge/munge.key ] || { /usr/sbin/mungekey --create --force 2>/dev/null || /usr/sbin/create-munge-key -f; }
  chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null || true
  chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
  log "starting munged"
  if [ -z "$SUDO" ]; then runuser -u munge -- /usr/sbin/munged; else sudo -u munge /usr/sbin/munged; fi
fi
if [ "$changed" = 1 ] && { running slurmctld || running slurmd; }; then
  # AuthInfo and node lines are read at start only: restart both daemons on the new config.
  log "config changed: restarting slurmctld and slurmd"
  for d in slurmctld slurmd; do
    if [ -f "/run/$d.pid" ]; then kill "$(cat "/run/$d.pid")" 2>/dev/null || true; fi
  done
  for i in $(seq 1 30); do running slurmctld || running slurmd || break; sleep 1; done
fi
if ! running slurmctld; then log "starting slurmctld"; /usr/sbin/slurmctld; fi
if ! running slurmd; then log "starting slurmd"; /usr/sbin/slurmd; fi

# Wait for the node to come up idle (a node that was down is resumed).
for i in $(seq 1 60); do
  state="$(sinfo -h -n "$host" -o '%T' 2>/dev/null || true)"
  case "$state" in
    idle|mixed|allocated) log "node ${host} is ${state}"; exit 0 ;;
    down*|drain*) scontrol update NodeName="$host" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 1
done
log "node ${host} did not become idle (state: ${state:-none}); see /var/log/slurm/slurmctld.log and slurmd.log"
exit 1

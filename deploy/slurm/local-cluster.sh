#!/usr/bin/env bash
# Brings up a one-node Slurm cluster on this machine (Debian's slurm-wlm daemons and munge), for the sharded-run
# test and for trying deploy/slurm/ without a real cluster. Idempotent: installs what is missing, writes the
# configuration, (re)starts munged, slurmctld and slurmd, and waits until the node accepts jobs.
#   deploy/slurm/local-cluster.sh          # up
#   deploy/slurm/local-cluster.sh stop     # stop the daemons
# Needs root (apt-get, /etc/slurm). Not for production clusters: one node, no accounting, processes not confined.
set -euo pipefail

daemons="slurmd slurmctld slurmstepd munged"
running() {
  for d in $daemons; do pgrep -x "$d" >/dev/null && return 0; done
  return 1
}
stop() {
  for d in $daemons; do pkill -x "$d" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    running || return 0
    sleep 0.5
  done
  for d in $daemons; do pkill -9 -x "$d" 2>/dev/null || true; done
}
if [ "${1:-}" = stop ]; then stop; exit 0; fi

if [ "$(id -u)" -ne 0 ]; then echo "local-cluster.sh: run as root (it installs packages and writes /etc/slurm)" >&2; exit 2; fi

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  echo "local-cluster.sh: installing slurmctld, slurmd, slurm-client and munge" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

stop
node=$(hostname -s)
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))

# munge: a key shared by the daemons and the clients of this one machine.
install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
install -d -o munge -g munge -m 0755 /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
runuser -u munge -- /usr/sbin/munged

install -d -m 0755 /etc/slurm /var/spool/slurmd /var/spool/slurmctld /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
# Written by ballast deploy/slurm/local-cluster.sh: one node, this machine.
ClusterName=ballast-local
SlurmctldHost=${node}
AuthType=auth/munge
SlurmUser=root
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=3600
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmdSpoolDir=/var/spool/slurmd
StateSaveLocation=/var/spool/slurmctld
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${node} CPUs=${cpus} RealMemory=${memory} State=UNKNOWN
PartitionName=ballast Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
rm -f /etc/slurm/cgroup.conf

/usr/sbin/slurmctld -i
/usr/sbin/slurmd
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "local-cluster.sh: node ${node} up (${cpus} CPUs, partition ballast)" >&2
    exit 0
  fi
  sleep 1
done
echo "local-cluster.sh: the node did not come up; see /var/log/slurm/slurmctld.log and slurmd.log" >&2
sinfo >&2 || true
exit 1

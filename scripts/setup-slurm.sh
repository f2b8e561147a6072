#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests of `numforge compare --executor slurm`:
# Debian's slurmctld, slurmd, slurm-client and munge; a configuration for localhost written
# from the machine's own CPUs and memory (`slurmd -C`); munged started as the munge user, then
# slurmctld and slurmd.
#
# No cgroups or systemd needed (containers and CI runners have neither):
# ProctrackType=proctrack/linuxproc tracks a job's processes by parent pid, TaskPlugin=task/none
# binds nothing, and no accounting daemon runs (numforge reads task states from squeue and its
# own results, so sacct is not needed).
#
# Run as root (CI does). Idempotent: exits at once when the cluster already answers (`sinfo`).
set -euo pipefail

PKGS=(munge slurmctld slurmd slurm-client)
CONF=/etc/slurm/slurm.conf
log() { echo "setup-slurm: $*" >&2; }

# The one node answers and is usable (idle, mixed or allocated; not down or drained).
cluster_ok() {
  command -v sinfo >/dev/null 2>&1 || return 1
  local state
  state="$(timeout 10 sinfo -h -o %T 2>/dev/null | head -n1)" || return 1
  [[ "$state" =~ ^(idle|mixed|allocated|completing)$ ]]
}

if cluster_ok; then
  log "slurm answers (node $(sinfo -h -o '%N %T' | head -n1)); nothing to do"
  exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
  log "must run as root (it installs Debian packages and starts daemons): sudo bash scripts/setup-slurm.sh"
  exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  export DEBIAN_FRONTEND=noninteractive
  log "installing ${missing[*]}"
  apt-get update -qq
  # The packages' own start-up hooks may fail where there is no init system; the daemons are started below.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

HOST="$(hostname -s)"
# "NodeName=… CPUs=… Boards=… SocketsPerBoard=… CoresPerSocket=… ThreadsPerCore=… RealMemory=…" as slurmd sees this machine.
NODE_LINE="$(slurmd -C | head -n1)"
NODE_LINE="${NODE_LINE/NodeName=$HOST/NodeName=$HOST NodeAddr=127.0.0.1}"

mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
chown slurm:slurm /var/lib/slurm/slurmctld /var/log/slurm 2>/dev/null || true
chown munge:munge /run/munge
chmod 0755 /run/munge

wanted="$(cat <<CONF
# Written by numforge scripts/setup-slurm.sh: a one-node cluster on this machine.
ClusterName=numforge
SlurmctldHost=${HOST}(127.0.0.1)
AuthType=auth/munge
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MaxArraySize=100001
MaxJobCount=200000
MinJobAge=300
KillWait=5
${NODE_LINE} State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
)"
if [[ ! -f "$CONF" ]] || [[ "$(cat "$CONF")" != "$wanted" ]]; then
  [[ -f "$CONF" ]] && ! grep -q "^# Written by numforge" "$CONF" && cp "$CONF" "$CONF.before-numforge"
  log "writing $CONF"
  printf '%s\n' "$wanted" >"$CONF"
  restart=1
else
  restart=0
fi

if [[ ! -s /etc/munge/munge.key ]]; then
  log "creating /etc/munge/munge.key"
  (command -v mungekey >/dev/null && mungekey --create --keyfile /etc/munge/munge.key) \
    || dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  chown munge:munge /etc/munge/munge.key
  chmod 0400 /etc/munge/munge.key
fi

running() { pgrep -x "$1" >/dev/null 2>&1; }
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "starting munged"
  running munged && pkill -x munged && sleep 1
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
fi

if ((restart)); then
  for d in slurmd slurmctld; do
    if running "$d"; then log "stopping $d (configuration changed)"; pkill -x "$d"; fi
  done
  for _ in $(seq 20); do running slurmd || running slurmctld || break; sleep 0.5; done
fi
running slurmctld || { log "starting slurmctld"; slurmctld; }
running slurmd || { log "starting slurmd"; slurmd; }

# The node registers within seconds; one left down or drained by an earlier run is resumed.
for i in $(seq 60); do
  cluster_ok && break
  if ((i % 10 == 0)); then scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true; fi
  sleep 1
done
if ! cluster_ok; then
  log "slurm did not come up: sinfo says '$(sinfo -h -o '%N %T %E' 2>&1 | head -n1)'; see /var/log/slurm/slurmctld.log and slurmd.log"
  exit 1
fi
log "ok: node $(sinfo -h -o '%N %T %c CPUs %m MB' | head -n1)"

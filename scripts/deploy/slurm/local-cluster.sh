#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine (Debian's slurm-wlm and munge), for tests and for trying the
# launcher: munged, slurmctld and slurmd as root, ProctrackType=proctrack/linuxproc and TaskPlugin=task/none so that
# no cgroups are needed. Idempotent: an answering cluster is left as it is; a slurm.conf not written by this script
# is never overwritten. Installs the packages with apt-get when they are missing and it runs as root.
# Exit status 0: `srun` works. Otherwise the last line on stderr says why (tests then skip with that reason).
set -uo pipefail
MARKER='# written by omniglot-ddp scripts/deploy/slurm/local-cluster.sh'
CONF=/etc/slurm/slurm.conf
say() { echo "local-cluster: $*" >&2; }

cluster_answers() { timeout 10 srun -N1 -n1 --immediate=10 true >/dev/null 2>&1; }

if command -v srun >/dev/null 2>&1 && cluster_answers; then exit 0; fi
if [ "$(id -u)" != 0 ]; then say "not root: cannot install or start slurm and munge"; exit 1; fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge) >/dev/null 2>&1 \
    || { say "apt-get could not install slurm-wlm and munge"; exit 1; }
fi

node=$(hostname -s)
cpus=$(nproc)
[ "$cpus" -lt 8 ] && cpus=8   # srun -n 3 on a 2-core machine: slurmd takes the configured count (config_overrides)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge /var/lib/munge /var/log/munge
if [ ! -f "$CONF" ] || grep -qF "$MARKER" "$CONF"; then
  cat > "$CONF" <<CONF
$MARKER
ClusterName=omniglot
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN
PartitionName=main Nodes=${node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
fi

# munge: a key readable by the munge user only, then the daemon (as munge, or as root with --force).
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null 2>&1; then mungekey --create --keyfile=/etc/munge/munge.key >/dev/null 2>&1
  else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none; fi
fi
if id munge >/dev/null 2>&1; then
  chown munge:munge /etc/munge /etc/munge/munge.key /run/munge /var/lib/munge /var/log/munge 2>/dev/null
fi
chmod 0700 /etc/munge; chmod 0400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  if id munge >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1; then runuser -u munge -- /usr/sbin/munged 2>/dev/null || /usr/sbin/munged --force
  else /usr/sbin/munged --force; fi
  sleep 1
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || { say "munged does not answer"; exit 1; }
fi

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld || { say "slurmctld did not start (see /var/log/slurm/slurmctld.log)"; exit 1; }
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd || { say "slurmd did not start (see /var/log/slurm/slurmd.log)"; exit 1; }
for _ in $(seq 1 30); do
  if cluster_answers; then exit 0; fi
  scontrol update nodename="$node" state=resume >/dev/null 2>&1
  sleep 1
done
say "slurm does not run jobs: $(sinfo -h -o '%N %T %E' 2>&1 | head -1); see /var/log/slurm/"
exit 1

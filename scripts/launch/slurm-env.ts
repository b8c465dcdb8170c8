import { DdpError } from '../../shared/common/errors.js';
import { DEFAULT_PORT, envInt, type Env, type LaunchPlan } from './launch-plan.js';
import { expandHostlist } from './slurm-hostlist.js';

/** True inside a Slurm step (srun, or the batch step of sbatch). */
export function inSlurm(env: Env): boolean {
  return env['SLURM_PROCID'] !== undefined && (env['SLURM_NTASKS'] ?? env['SLURM_NPROCS']) !== undefined;
}

/**
 * A port per job, so that two jobs that share a node do not collide: 20000 + job id mod 20000 (a requeued job keeps
 * its id, so its port). Outside a job, undefined.
 */
export function slurmJobPort(env: Env): number | undefined {
  const job = envInt(env, 'SLURM_JOB_ID', 0);
  return job === undefined ? undefined : 20000 + (job % 20000);
}

/**
 * The role of one task of `srun -n N omniglot-ddp launch`: task 0 is the coordinator and waits for N-1 workers; the
 * others are workers 1..N-1 and connect to the first host of the step's node list, where Slurm's default (block)
 * distribution places task 0. With one host in the list the run stays on loopback.
 * @throws DdpError ERR_BAD_CONFIG for a step of one task, or missing or malformed SLURM_* variables.
 */
export function slurmPlan(env: Env, port: number | undefined): LaunchPlan {
  const rank = envInt(env, 'SLURM_PROCID', 0);
  const tasks = envInt(env, 'SLURM_NTASKS', 1) ?? envInt(env, 'SLURM_NPROCS', 1);
  const nodeVar = env['SLURM_STEP_NODELIST'] !== undefined ? 'SLURM_STEP_NODELIST' : 'SLURM_JOB_NODELIST';
  const nodelist = env[nodeVar];
  if (rank === undefined || tasks === undefined || nodelist === undefined) {
    throw new DdpError('ERR_BAD_CONFIG', 'Slurm: SLURM_PROCID, SLURM_NTASKS and SLURM_STEP_NODELIST (or SLURM_JOB_NODELIST) must be set; start launch with srun');
  }
  if (tasks < 2) throw new DdpError('ERR_BAD_CONFIG', `Slurm: the step has ${tasks} task; launch needs a coordinator and at least one worker (srun -n 2 or more)`);
  if (rank >= tasks) throw new DdpError('ERR_BAD_CONFIG', `Slurm: SLURM_PROCID=${rank} is not below SLURM_NTASKS=${tasks}`);
  const hosts = expandHostlist(nodelist, nodeVar);
  const acrossHosts = new Set(hosts).size > 1;
  const chosenPort = port ?? slurmJobPort(env) ?? DEFAULT_PORT;
  if (rank === 0) return { cluster: 'slurm', role: 'coordinator', port: chosenPort, workers: tasks - 1, acrossHosts };
  const job = env['SLURM_JOB_ID'] ?? 'job';
  const node = env['SLURMD_NODENAME'] ?? env['HOSTNAME'] ?? 'node';
  return { cluster: 'slurm', role: 'worker', coordinatorHost: acrossHosts ? hosts[0]! : '127.0.0.1', port: chosenPort,
    workerIndex: rank, workerName: `slurm-${job}.${rank}@${node}`, acrossHosts };
}

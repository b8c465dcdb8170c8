import { hostname } from 'node:os';
import { CheckpointStore } from '../../coordinator/checkpoint-store.js';
import { keyFlags } from '../launch/launch-keys.js';
import { planLaunch, type LaunchFlags } from '../launch/detect-cluster.js';
import { roleArgv } from '../launch/role-argv.js';
import { defineCommand } from './command.js';
import { coordinatorCommand, TABLE as COORDINATOR_TABLE } from './coordinator-command.js';
import { COMMON_OPTIONS, COMPUTE_OPTIONS, COORDINATOR_OPTIONS, DATA_OPTIONS, LAUNCH_OPTIONS, WORKER_OPTIONS } from './option-tables.js';
import { workerCommand, TABLE as WORKER_TABLE } from './worker-command.js';

/** Every flag launch takes: its own and those of the coordinator and the worker it may become. */
export const LAUNCH_TABLE = { ...COMMON_OPTIONS, ...DATA_OPTIONS, ...COMPUTE_OPTIONS, ...COORDINATOR_OPTIONS, ...WORKER_OPTIONS, ...LAUNCH_OPTIONS };
const TABLE = LAUNCH_TABLE;
const SUMMARY = 'Take a role from the cluster: under srun task 0 coordinates and the others work; under Kubernetes an indexed Job\'s pods work; elsewhere OMNIGLOT_DDP_ROLE says.';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export const launchCommand = defineCommand({
  name: 'launch',
  summary: SUMMARY,
  options: TABLE,
  async run({ values, sources, log }) {
    const flags: LaunchFlags = { cluster: values.cluster, hostname: hostname(), pid: process.pid, role: values.role,
      coordinator: text(values.coordinator), port: values.port, workerIndex: values['worker-index'] };
    const plan = planLaunch(flags, process.env);
    const keysDir = text(values['keys-dir']);
    const checkpointDir = text(values['checkpoint-dir']);
    // A rescheduled or requeued coordinator finds the checkpoints of its earlier life and continues from them.
    const hasCheckpoint = plan.role === 'coordinator' && checkpointDir !== undefined
      && (await new CheckpointStore({ dir: checkpointDir, keep: 1, log }).list()).length > 0;
    const argv = roleArgv({ plan, values, sources, target: plan.role === 'coordinator' ? COORDINATOR_TABLE : WORKER_TABLE,
      ...(keysDir ? { keys: keyFlags(plan, keysDir) } : {}), hasCheckpoint });
    log.info({ cluster: plan.cluster, role: plan.role, port: plan.port, acrossHosts: plan.acrossHosts,
      curve: argv.some((a) => a.startsWith('--curve-secret-key-file=')), resume: hasCheckpoint,
      ...(plan.role === 'worker' ? { coordinator: plan.coordinatorHost, workerIndex: plan.workerIndex } : { workers: plan.workers }) },
    `launch: ${plan.cluster} says this process is the ${plan.role}`);
    return plan.role === 'coordinator' ? coordinatorCommand.execute(argv) : workerCommand.execute(argv);
  },
});

import test from 'ava';
import { LAUNCH_TABLE } from '../scripts/cli/launch-command.js';
import { TABLE as WORKER_TABLE } from '../scripts/cli/worker-command.js';
import { TABLE as COORDINATOR_TABLE } from '../scripts/cli/coordinator-command.js';
import { detectCluster, planLaunch } from '../scripts/launch/detect-cluster.js';
import { kubernetesPlan } from '../scripts/launch/kubernetes-env.js';
import { keyFlags } from '../scripts/launch/launch-keys.js';
import { parseCoordinatorAddress } from '../scripts/launch/launch-plan.js';
import { plainPlan } from '../scripts/launch/plain-env.js';
import { roleArgv } from '../scripts/launch/role-argv.js';
import { slurmJobPort, slurmPlan } from '../scripts/launch/slurm-env.js';
import { expandHostlist } from '../scripts/launch/slurm-hostlist.js';
import { parseOptions } from '../scripts/cli/options.js';

/** The variables srun sets for task `rank` of a 4-task step over four nodes (as printed by `srun env` on Slurm 22). */
const slurmStep = (rank: number) => ({ SLURM_PROCID: String(rank), SLURM_NTASKS: '4', SLURM_JOB_ID: '123456',
  SLURM_STEP_NODELIST: 'gpu-n[07-09],cpu12', SLURM_JOB_NODELIST: 'gpu-n[07-09],cpu12,cpu13', SLURMD_NODENAME: `gpu-n0${7 + rank}` });
const HOST = { hostname: 'box', pid: 42 };

test('hostlists expand as scontrol show hostnames does', (t) => {
  t.deepEqual(expandHostlist('node[01-03,07]'), ['node01', 'node02', 'node03', 'node07']);
  t.deepEqual(expandHostlist('login1,node[8-10],gpu-a[1-2]'), ['login1', 'node8', 'node9', 'node10', 'gpu-a1', 'gpu-a2']);
  t.deepEqual(expandHostlist('r[1-2]n[01-02]'), ['r1n01', 'r1n02', 'r2n01', 'r2n02']);
  t.deepEqual(expandHostlist('n[098-101].cluster'), ['n098.cluster', 'n099.cluster', 'n100.cluster', 'n101.cluster']);
  t.deepEqual(expandHostlist('vm'), ['vm']);
  for (const bad of ['node[1-3', 'node]1[', 'node[3-1]', 'node[a-b]', '', 'a,,b', 'n[[1]]', 'n[1-9999999]']) {
    t.throws(() => expandHostlist(bad, 'SLURM_STEP_NODELIST'), { code: 'ERR_BAD_CONFIG', message: /^SLURM_STEP_NODELIST: .* is not a Slurm hostlist/ }, bad);
  }
});

test('under Slurm task 0 coordinates and waits for ntasks-1 workers, who connect to the first node', (t) => {
  t.deepEqual(slurmPlan(slurmStep(0), undefined), { cluster: 'slurm', role: 'coordinator', port: 20000 + (123456 % 20000), workers: 3, acrossHosts: true });
  t.deepEqual(slurmPlan(slurmStep(2), 7000), { cluster: 'slurm', role: 'worker', coordinatorHost: 'gpu-n07', port: 7000, workerIndex: 2,
    workerName: 'slurm-123456.2@gpu-n09', acrossHosts: true });
  // The step's list wins over the job's; one host: loopback, no CURVE needed.
  const oneNode = { ...slurmStep(1), SLURM_STEP_NODELIST: 'vm', SLURM_JOB_NODELIST: 'vm,other' };
  t.like(slurmPlan(oneNode, 5000), { role: 'worker', coordinatorHost: '127.0.0.1', acrossHosts: false });
  const { SLURM_STEP_NODELIST: _, ...jobOnly } = slurmStep(1);
  t.like(slurmPlan(jobOnly, 5000), { coordinatorHost: 'gpu-n07' });
  t.is(slurmJobPort({ SLURM_JOB_ID: '40001' }), 20001);
  t.throws(() => slurmPlan({ ...slurmStep(0), SLURM_NTASKS: '1' }, 1), { message: /needs a coordinator and at least one worker/ });
  t.throws(() => slurmPlan({ ...slurmStep(0), SLURM_PROCID: 'x' }, 1), { message: /SLURM_PROCID='x' is not a whole number/ });
  t.throws(() => slurmPlan({ SLURM_PROCID: '0', SLURM_NTASKS: '2' }, 1), { message: /SLURM_STEP_NODELIST .* must be set/ });
});

test('under Kubernetes an indexed Job pod is worker index+1 and reaches the headless Service', (t) => {
  const pod = { KUBERNETES_SERVICE_HOST: '10.0.0.1', JOB_COMPLETION_INDEX: '2', HOSTNAME: 'omniglot-ddp-workers-2-x7k' };
  t.is(detectCluster('auto', pod), 'kubernetes');
  t.deepEqual(kubernetesPlan(pod, { coordinator: 'omniglot-ddp-coordinator.ml.svc.cluster.local:6000' }), { cluster: 'kubernetes', role: 'worker',
    coordinatorHost: 'omniglot-ddp-coordinator.ml.svc.cluster.local', port: 6000, workerIndex: 3,
    workerName: 'k8s-worker-3@omniglot-ddp-workers-2-x7k', acrossHosts: true });
  t.deepEqual(kubernetesPlan({ KUBERNETES_SERVICE_HOST: 'x' }, { role: 'coordinator' }), { cluster: 'kubernetes', role: 'coordinator', port: 5555, acrossHosts: true });
  t.throws(() => kubernetesPlan({ KUBERNETES_SERVICE_HOST: 'x' }, {}), { message: /set OMNIGLOT_DDP_ROLE=coordinator/ });
  t.throws(() => kubernetesPlan(pod, {}), { message: /needs --coordinator \/ OMNIGLOT_DDP_COORDINATOR/ });
});

test('elsewhere OMNIGLOT_DDP_ROLE and OMNIGLOT_DDP_COORDINATOR say, read through the flag table', (t) => {
  const env = { OMNIGLOT_DDP_ROLE: 'worker', OMNIGLOT_DDP_COORDINATOR: '10.1.2.3:7000', OMNIGLOT_DDP_WORKER_INDEX: '5' };
  const { values } = parseOptions(LAUNCH_TABLE, [], { env });
  t.is(detectCluster(values.cluster as 'auto', env), 'env');
  t.deepEqual(planLaunch({ cluster: 'auto', role: values.role as string, coordinator: values.coordinator as string,
    workerIndex: values['worker-index'] as number, ...HOST }, env), { cluster: 'env', role: 'worker', coordinatorHost: '10.1.2.3', port: 7000,
    workerIndex: 5, workerName: 'worker-5@box:42', acrossHosts: true });
  t.like(plainPlan({ role: 'coordinator', ...HOST }), { role: 'coordinator', port: 5555, acrossHosts: false });
  t.throws(() => plainPlan(HOST), { message: /give --role \/ OMNIGLOT_DDP_ROLE/ });
  t.throws(() => parseOptions(LAUNCH_TABLE, [], { env: { OMNIGLOT_DDP_ROLE: 'boss' } }), { message: /--role \(environment OMNIGLOT_DDP_ROLE\): 'boss' is not one of/ });
  t.throws(() => planLaunch({ cluster: 'auto', role: 'worker', ...HOST }, slurmStep(1)), { message: /SLURM_PROCID\) decides the role/ });
  t.deepEqual(parseCoordinatorAddress('tcp://[::1]:9', 'x'), { host: '[::1]', port: 9 });
  t.throws(() => parseCoordinatorAddress('a b', 'x'), { code: 'ERR_BAD_CONFIG' });
  t.throws(() => parseCoordinatorAddress('h:70000', 'x'), { message: /port 70000/ });
});

test('keys come from the folder `keys` writes; a missing one is named', (t) => {
  const files = new Set(['/k/coordinator.key', '/k/coordinator.pub', '/k/allow-list.txt', '/k/worker-2.key', '/k/worker.key']);
  const exists = (f: string) => files.has(f);
  const worker = (workerIndex: number) => ({ cluster: 'slurm', role: 'worker', coordinatorHost: 'h', port: 1, workerIndex, workerName: 'w', acrossHosts: true } as const);
  t.deepEqual(keyFlags({ cluster: 'slurm', role: 'coordinator', port: 1, acrossHosts: true }, '/k', exists),
    { 'curve-secret-key-file': '/k/coordinator.key', 'curve-public-key-file': '/k/coordinator.pub', 'allow-list': '/k/allow-list.txt' });
  t.deepEqual(keyFlags(worker(2), '/k', exists), { 'curve-secret-key-file': '/k/worker-2.key', 'coordinator-key': '/k/coordinator.pub' });
  t.deepEqual(keyFlags(worker(3), '/k', exists), { 'curve-secret-key-file': '/k/worker.key', 'coordinator-key': '/k/coordinator.pub' });
  files.delete('/k/worker.key');
  t.throws(() => keyFlags(worker(3), '/k', exists), { message: /no \/k\/worker-3.key/ });
});

test('the role\'s command line: what the plan decides, unless the user said otherwise; CURVE across hosts', (t) => {
  const coordinator = { cluster: 'slurm', role: 'coordinator', port: 6000, workers: 3, acrossHosts: true } as const;
  const parsed = parseOptions(LAUNCH_TABLE, ['--epochs=2', '--connect=tcp://ignored:1', '--keys-dir=/k'], { env: { OMNIGLOT_DDP_SEED: '9' } });
  const keys = { 'curve-secret-key-file': '/k/coordinator.key', 'allow-list': '/k/allow-list.txt' };
  const argv = roleArgv({ plan: coordinator, values: parsed.values, sources: parsed.sources, target: COORDINATOR_TABLE, keys, hasCheckpoint: true });
  t.deepEqual([...argv].sort(), ['--epochs=2', '--min-workers=3', '--resume', '--bind=tcp://0.0.0.0:6000',
    '--curve-secret-key-file=/k/coordinator.key', '--allow-list=/k/allow-list.txt'].sort());
  // The coordinator's own parse accepts it all (the seed comes from its environment there).
  t.like(parseOptions(COORDINATOR_TABLE, argv, { env: { OMNIGLOT_DDP_SEED: '9' } }).values, { seed: 9, bind: 'tcp://0.0.0.0:6000', resume: true });
  t.throws(() => roleArgv({ plan: coordinator, values: parsed.values, sources: parsed.sources, target: COORDINATOR_TABLE, hasCheckpoint: false }),
    { message: /spans hosts, so CURVE is on by default: give --keys-dir/ });
  const insecure = parseOptions(LAUNCH_TABLE, ['--insecure', '--min-workers=1', '--no-resume', '--checkpoint-dir=/c'], { env: {} });
  t.deepEqual(roleArgv({ plan: coordinator, values: insecure.values, sources: insecure.sources, target: COORDINATOR_TABLE, hasCheckpoint: true }).sort(),
    ['--min-workers=1', '--insecure', '--checkpoint-dir=/c', '--no-resume', '--bind=tcp://0.0.0.0:6000'].sort());
  const local = parseOptions(LAUNCH_TABLE, ['--micro-batch=16'], { env: {} });
  const worker = { cluster: 'slurm', role: 'worker', coordinatorHost: '127.0.0.1', port: 6000, workerIndex: 1, workerName: 'w1', acrossHosts: false } as const;
  t.deepEqual(roleArgv({ plan: worker, values: local.values, sources: local.sources, target: WORKER_TABLE, hasCheckpoint: false }).sort(),
    ['--micro-batch=16', '--connect=tcp://127.0.0.1:6000', '--name=w1'].sort());
});

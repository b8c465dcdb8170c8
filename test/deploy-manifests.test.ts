import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { parseAllDocuments } from 'yaml';
import { TABLE as COORDINATOR_TABLE } from '../scripts/cli/coordinator-command.js';
import { TABLE as KEYS_TABLE } from '../scripts/cli/keys-command.js';
import { LAUNCH_TABLE, launchCommand } from '../scripts/cli/launch-command.js';
import { TABLE as WORKER_TABLE } from '../scripts/cli/worker-command.js';
import { planLaunch } from '../scripts/launch/detect-cluster.js';
import { keyFlags } from '../scripts/launch/launch-keys.js';
import type { Env, LaunchPlan } from '../scripts/launch/launch-plan.js';
import { roleArgv } from '../scripts/launch/role-argv.js';
import { envName, parseOptions, type OptionTable } from '../scripts/cli/options.js';
import { repoRoot } from './helpers/fixtures.js';

/**
 * The deployment files use the CLI's flags and variables; these tests read them as the cluster would and put them
 * through the real flag table and launcher, so a renamed or removed flag, a bad value, or a port, Service name or
 * key file that no longer matches fails here instead of on a cluster.
 */
const DEPLOY = path.join(repoRoot, 'scripts', 'deploy');

/** Every OMNIGLOT_DDP_* variable must be some flag's; returns the unknown ones. */
function unknownVariables(names: readonly string[], table: OptionTable): string[] {
  const known = new Set(Object.entries(table).flatMap(([flag, def]) => [envName(flag), ...(def.env ? [def.env] : [])]));
  return names.filter((n) => n.startsWith('OMNIGLOT') && !known.has(n));
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? v as Json : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function kubernetesDocuments(): Json[] {
  const dir = path.join(DEPLOY, 'kubernetes');
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).flatMap((f) => parseAllDocuments(readFileSync(path.join(dir, f), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${f}: ${d.errors.map((e) => e.message).join('; ')}`);
    return obj(d.toJS());
  }));
}

test('Kubernetes manifests: flags and variables parse with launch\'s table, and each pod gets the intended role', (t) => {
  const docs = kubernetesDocuments();
  const byKind = (kind: string) => docs.filter((d) => d['kind'] === kind);
  const service = byKind('Service')[0]!;
  const serviceName = String(obj(service['metadata'])['name']);
  const servicePort = Number(obj(list(obj(service['spec'])['ports'])[0])['port']);
  t.is(obj(service['spec'])['clusterIP'], 'None', 'the coordinator Service is headless');
  const secret = byKind('Secret')[0]!;
  const secretFiles = new Set(Object.keys(obj(secret['stringData'])));
  const jobs = byKind('Job');
  t.is(jobs.length, 2);
  const workersJob = jobs.find((j) => obj(j['spec'])['completionMode'] === 'Indexed');
  t.truthy(workersJob, 'the workers are an indexed Job');
  const workerCount = Number(obj(workersJob!['spec'])['completions']);

  const plans: LaunchPlan[] = [];
  for (const job of jobs) {
    const pod = obj(obj(obj(job['spec'])['template'])['spec']);
    t.true(obj(pod['securityContext'])['runAsNonRoot'] === true, 'pods run as a non-root user');
    const container = obj(list(pod['containers'])[0]);
    const args = list(container['args']).map(String);
    t.is(args[0], launchCommand.name);
    const env: Record<string, string> = Object.fromEntries(list(container['env']).map((e) => [String(obj(e)['name']), String(obj(e)['value'])]));
    t.deepEqual(unknownVariables(Object.keys(env), LAUNCH_TABLE), [], `${String(obj(job['metadata'])['name'])}: unknown variables`);
    const parsed = parseOptions(LAUNCH_TABLE, args.slice(1), { env, checkPaths: false });
    const indexed = job === workersJob;
    const podEnv: Env = { ...env, KUBERNETES_SERVICE_HOST: '10.96.0.1', ...(indexed ? { JOB_COMPLETION_INDEX: String(workerCount - 1) } : {}) };
    const v = parsed.values;
    const plan = planLaunch({ cluster: v.cluster as 'auto', role: v.role as string | undefined, coordinator: v.coordinator as string | undefined,
      port: v.port as number | undefined, workerIndex: v['worker-index'] as number | undefined, hostname: 'pod', pid: 1 }, podEnv);
    plans.push(plan);
    // The keys folder is the Secret's mount, and holds every file this role needs.
    const keysDir = String(v['keys-dir']);
    const mount = list(container['volumeMounts']).map(obj).find((m) => m['mountPath'] === keysDir);
    const volume = list(pod['volumes']).map(obj).find((vol) => vol['name'] === mount?.['name']);
    t.is(obj(volume?.['secret'])['secretName'], obj(secret['metadata'])['name']);
    const keys = keyFlags(plan, keysDir, (f) => path.dirname(f) === keysDir && secretFiles.has(path.basename(f)));
    const argv = roleArgv({ plan, values: v, sources: parsed.sources, target: plan.role === 'coordinator' ? COORDINATOR_TABLE : WORKER_TABLE, keys, hasCheckpoint: false });
    const role: Readonly<Record<string, unknown>> = parseOptions(plan.role === 'coordinator' ? COORDINATOR_TABLE : WORKER_TABLE, argv, { env, checkPaths: false }).values;
    if (plan.role === 'coordinator') {
      t.is(role['bind'], `tcp://0.0.0.0:${servicePort}`);
      t.is(role['min-workers'], workerCount, 'the coordinator waits for as many workers as the indexed Job runs');
      t.is(Number(obj(list(container['ports'])[0])['containerPort']), servicePort);
      t.truthy(role['checkpoint-dir'], 'a rescheduled coordinator resumes from its checkpoint folder');
    } else {
      t.is(role['connect'], `tcp://${serviceName}:${servicePort}`);
      t.is(role['curve-secret-key-file'], path.join(keysDir, `worker-${workerCount}.key`));
      t.is(role['data-dir'], undefined, 'workers receive the dataset from the coordinator');
    }
  }
  t.deepEqual(plans.map((p) => p.role).sort(), ['coordinator', 'worker']);
});

/**
 * `${NAME:-default}` gives its default, a variable the script sets by arithmetic `$(( ))` a number, any other
 * `$NAME` / `${NAME}` a placeholder path: enough to parse flag values.
 */
function expandShell(text: string, numeric: ReadonlySet<string> = new Set()): string {
  return text.replace(/\$\{(\w+):-([^}]*)\}/g, (_, _name: string, fallback: string) => expandShell(fallback, numeric))
    .replace(/\$\{?(\w+)\}?/g, (_, name: string) => (numeric.has(name) ? '3' : `/${name.toLowerCase()}`)).replace(/["']/g, '');
}

/** The arguments after `<cli> <command>` on the (continuation-joined) line that runs it. */
function commandArgs(script: string, command: string): string[] {
  const line = script.replace(/\\\n\s*/g, ' ').split('\n').find((l) => new RegExp(`\\$CLI ${command}\\b`).test(l) && !l.trim().startsWith('#'));
  if (!line) throw new Error(`no \`$CLI ${command}\` line`);
  const numeric = new Set([...script.matchAll(/^(\w+)=\$\(\(/gm)].map((m) => m[1]!));
  return expandShell(line.slice(line.indexOf(`$CLI ${command}`) + `$CLI ${command}`.length), numeric).trim().split(/\s+/);
}

test('Slurm batch script: N nodes, one task each, requeue; its flags and variables parse with the CLI\'s tables', (t) => {
  const script = readFileSync(path.join(DEPLOY, 'slurm', 'train.sbatch'), 'utf8');
  const sbatch = [...script.matchAll(/^#SBATCH\s+(\S+)/gm)].map((m) => m[1]!);
  t.true(sbatch.includes('--requeue'));
  t.true(sbatch.includes('--ntasks-per-node=1'));
  t.truthy(sbatch.find((o) => o.startsWith('--nodes=')));
  const variables = [...new Set([...script.matchAll(/\b(OMNIGLOT_[A-Z0-9_]+)/g)].map((m) => m[1]!))];
  t.deepEqual(unknownVariables(variables, LAUNCH_TABLE), []);
  const env = Object.fromEntries([...script.matchAll(/^export (OMNIGLOT_DDP_\w+)=(.*)$/gm)].map((m) => [m[1]!, expandShell(m[2]!)]));
  t.true(Object.keys(env).length > 0);
  parseOptions(KEYS_TABLE, commandArgs(script, 'keys'), { env: {}, checkPaths: false });
  const parsed = parseOptions(LAUNCH_TABLE, commandArgs(script, 'launch'), { env, checkPaths: false });
  t.truthy(parsed.values['checkpoint-dir'], 'checkpoints go to the shared folder');
  // Task 0 of a 4-node job, and task 3: CURVE keys from the shared folder, the coordinator on the first node.
  for (const rank of [0, 3]) {
    const slurm = { SLURM_PROCID: String(rank), SLURM_NTASKS: '4', SLURM_JOB_ID: '77', SLURM_STEP_NODELIST: 'n[1-4]', SLURMD_NODENAME: `n${rank + 1}` };
    const plan = planLaunch({ cluster: parsed.values.cluster as 'auto', hostname: 'n', pid: 1 }, slurm);
    const keys = keyFlags(plan, String(parsed.values['keys-dir']), () => true);
    const target = plan.role === 'coordinator' ? COORDINATOR_TABLE : WORKER_TABLE;
    const role = parseOptions(target, roleArgv({ plan, values: parsed.values, sources: parsed.sources, target, keys, hasCheckpoint: true }), { env, checkPaths: false }).values;
    if (rank === 0) t.like(role, { bind: 'tcp://0.0.0.0:20077', 'min-workers': 3, resume: true, epochs: Number(env['OMNIGLOT_DDP_EPOCHS']) });
    else t.like(role, { connect: 'tcp://n1:20077', 'curve-secret-key-file': `${String(parsed.values['keys-dir'])}/worker-3.key` });
  }
});

test('Containerfile: Debian Node base, npm ci from the lockfile, a non-root user, the CLI as entry point', (t) => {
  const file = readFileSync(path.join(DEPLOY, 'Containerfile'), 'utf8');
  t.regex(file, /^FROM node:20-(bookworm|bullseye|trixie)/m);
  t.regex(file, /^RUN npm ci\b/m);
  const user = /^USER (\S+)/m.exec(file)?.[1] ?? 'root';
  t.false(['root', '0', '0:0'].includes(user));
  const entry = /^ENTRYPOINT \["node", "\/app\/(\S+)"\]/m.exec(file)?.[1];
  t.is(entry, 'dist/scripts/cli.js');
  for (const folder of [...file.matchAll(/^COPY (\w+) \w+$/gm)].map((m) => m[1]!)) t.true(readdirSync(path.join(repoRoot, folder)).length > 0, folder);
});

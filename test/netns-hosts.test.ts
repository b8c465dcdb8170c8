import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { initialParams } from '../shared/model/initial-params.js';
import { readWeightsFile } from '../coordinator/weights-file.js';
import { maxRelativeDifference } from './helpers/cluster.js';
import { omniglotDir, omniglotSubset, testCacheDir } from './helpers/fixtures.js';
import { runCli, type CliExit } from './helpers/processes.js';
import { createHosts, netnsUnavailable, type NetnsHosts } from './helpers/netns.js';

// Real hosts on one machine: the coordinator in one network namespace, workers in others, linked by veth pairs and
// talking CURVE over 10.231.x.x. The result must match the same run on loopback; a worker with a key that is not
// on the allow-list must not get in. Skipped (as a real skip) where namespaces cannot be made.
const unavailable = process.platform === 'linux' ? netnsUnavailable() : 'not Linux';
const netnsTest = unavailable === undefined ? test.serial : test.skip;
const DATA = ['--data-dir', omniglotDir, '--cache-dir', testCacheDir, '--alphabets', '2', '--no-download'];
const RUN = ['--epochs', '1', '--batch-size', '128', '--seed', '11', '--log-level', 'info'];

let hosts: NetnsHosts | undefined;
const children: ChildProcess[] = [];

/** Runs the CLI, inside namespace `ns` when given; resolves when it exits, killing it after 90 s. */
function cli(ns: string | undefined, args: readonly string[]): Promise<CliExit> {
  return runCli(args, { timeoutMs: 90_000, onSpawn: (child) => children.push(child), ...(ns ? { netns: ns } : {}) });
}

test.after.always(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  hosts?.remove();
});

netnsTest(`across hosts (network namespaces) over CURVE: same weights as loopback; a stranger's key is refused${unavailable ? ` [skipped: ${unavailable}]` : ''}`, async (t) => {
  await omniglotSubset(2); // the decoded cache, warm before the processes start
  const dir = mkdtempSync(path.join(tmpdir(), 'ddp-netns-'));
  const keys = path.join(dir, 'keys');
  t.is((await cli(undefined, ['keys', '--out', keys, '--workers', '2'])).code, 0);
  t.is((await cli(undefined, ['keys', '--out', path.join(dir, 'stranger'), '--workers', '1', '--workers-only'])).code, 0);
  hosts = createHosts(String(process.pid % 100000), 3);
  const [w1, w2, intruder] = hosts.spokes as [NetnsHosts['spokes'][0], NetnsHosts['spokes'][0], NetnsHosts['spokes'][0]];
  const port = 5555;
  const coordinator = cli(hosts.hub, ['coordinator', ...DATA, ...RUN, '--bind', `tcp://0.0.0.0:${port}`, '--min-workers', '2',
    '--curve-secret-key-file', path.join(keys, 'coordinator.key'), '--allow-list', path.join(keys, 'allow-list.txt'),
    '--save-weights', path.join(dir, 'netns.bin')]);
  const worker = (host: typeof w1, key: string, name: string) => cli(host.ns, ['worker', ...DATA, '--connect',
    `tcp://${host.hubAddress}:${port}`, '--name', name, '--log-level', 'warn', '--curve-secret-key-file', key,
    '--coordinator-key', path.join(keys, 'coordinator.pub')]);
  const refused = await worker(intruder, path.join(dir, 'stranger', 'worker-1.key'), 'intruder');
  t.is(refused.code, 3, refused.stderr);
  t.regex(refused.stderr, /coordinator refused this worker's CURVE key \(not in the allow-list/);
  const [c, a, b] = await Promise.all([coordinator, worker(w1, path.join(keys, 'worker-1.key'), 'w1'),
    worker(w2, path.join(keys, 'worker-2.key'), 'w2')]);
  t.is(c.code, 0, c.stderr.slice(-2000));
  t.is(a.code, 0, a.stderr.slice(-2000));
  t.is(b.code, 0, b.stderr.slice(-2000));
  const refusal = c.stderr.split('\n').filter((l) => l.includes('ERR_NOT_AUTHORIZED')).map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(refusal.some((l) => l['address'] === intruder.address && typeof l['key'] === 'string'), 'the coordinator logged the stranger\'s address and key');
  t.is(c.stderr.split('\n').filter((l) => l.includes('"worker joined"')).length, 2);

  const loopback = await cli(undefined, ['train', ...DATA, ...RUN, '--workers', '2', '--save-weights', path.join(dir, 'loopback.bin')]);
  t.is(loopback.code, 0, loopback.stderr.slice(-2000));
  const diff = maxRelativeDifference(await readWeightsFile(path.join(dir, 'netns.bin')), await readWeightsFile(path.join(dir, 'loopback.bin')));
  t.true(diff < 1e-4, `max relative difference ${diff}`);
  t.true(maxRelativeDifference(await readWeightsFile(path.join(dir, 'netns.bin')), initialParams('two-output', 11)) > 1e-3, 'training moved the weights');
  t.regex(c.stdout, /epoch 1\/1/);
});

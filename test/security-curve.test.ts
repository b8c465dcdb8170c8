import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { curveKeyPair } from 'zeromq';
import { Coordinator } from '../coordinator/coordinator.js';
import type { ServerSecurity } from '../coordinator/server-security.js';
import { DdpError } from '../shared/common/errors.js';
import { isZ85Key, parseAllowList, publicKeyOf, readAllowList, readKeyPair } from '../shared/security/curve-keys.js';
import { z85Decode, z85Encode } from '../shared/security/z85.js';
import { TrainingWorker } from '../worker/training-worker.js';
import type { ClientSecurity } from '../worker/client-security.js';
import { coordinatorOptions } from './helpers/cluster.js';
import { omniglotSubset } from './helpers/fixtures.js';
import { captureLog } from './helpers/log-capture.js';
import { runCli } from './helpers/processes.js';

test('Z85 round-trips CURVE keys, and public keys derive from secret keys', (t) => {
  for (let i = 0; i < 20; i++) {
    const pair = curveKeyPair();
    t.is(z85Encode(z85Decode(pair.publicKey)!), pair.publicKey);
    t.is(z85Decode(pair.secretKey)!.length, 32);
    t.is(publicKeyOf(pair.secretKey, 'test'), pair.publicKey);
  }
  t.is(z85Encode(new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b])), 'HelloWorld', 'RFC 32 test vector');
  t.is(z85Decode('Hello World'), undefined);
  t.false(isZ85Key('short'));
});

test('allow-lists take comments, and keys that contain #; a bad line is named', (t) => {
  let a = curveKeyPair().publicKey;
  while (!a.includes('#')) a = curveKeyPair().publicKey;
  const b = curveKeyPair().publicKey;
  const keys = parseAllowList(`# workers\n\n${a}   # worker-1, its key holds a #\n  ${b}\n`, 'allow.txt');
  t.deepEqual([...keys], [a, b]);
  const error = t.throws(() => parseAllowList(`${b}\nnot-a-key\n`, 'allow.txt'), { instanceOf: DdpError });
  t.is(error?.code, 'ERR_BAD_CONFIG');
  t.regex(error?.message ?? '', /allow\.txt:2: 'not-a-key' is not a 40-character Z85 public key/);
});

test('`keys` writes key pairs (secrets 0600) and an allow-list that read back', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ddp-keys-'));
  const { code, stdout, stderr } = await runCli(['keys', '--out', dir, '--workers', '2']);
  t.is(code, 0, stderr);
  t.regex(stdout, /allow-list: .*allow-list\.txt/);
  for (const name of ['coordinator', 'worker-1', 'worker-2']) {
    t.is(statSync(path.join(dir, `${name}.key`)).mode & 0o777, 0o600, `${name}.key is private`);
  }
  const coordinator = readKeyPair(path.join(dir, 'coordinator.key'), path.join(dir, 'coordinator.pub'));
  const allow = readAllowList(path.join(dir, 'allow-list.txt'));
  t.is(allow.size, 2);
  t.true(allow.has(readKeyPair(path.join(dir, 'worker-1.key')).publicKey));
  t.false(allow.has(coordinator.publicKey));
  const again = await runCli(['keys', '--out', dir]);
  t.is(again.code, 2, 'refuses to overwrite');
  t.regex(again.stderr, /coordinator\.key exists; pass --force/);
});

test('a non-loopback bind without CURVE is refused unless --insecure', async (t) => {
  const data = await omniglotSubset(2);
  const error = await t.throwsAsync(Coordinator.start(coordinatorOptions({ data, workers: 1, overrides: { bind: 'tcp://0.0.0.0:*' } })));
  t.is((error as DdpError).code, 'ERR_INSECURE_BIND');
  const insecure = await Coordinator.start(coordinatorOptions({ data, workers: 1, overrides: { bind: 'tcp://0.0.0.0:*',
    security: { kind: 'plain', insecure: true } } }));
  await insecure.close();
  t.pass();
});

test('over CURVE, an allow-listed worker trains; others are refused, told why, and logged with address and key', async (t) => {
  const data = await omniglotSubset(2);
  const server = curveKeyPair();
  const allowed = curveKeyPair();
  const stranger = curveKeyPair();
  const log = captureLog();
  const security: ServerSecurity = { kind: 'curve', ...server, allowList: new Set([allowed.publicKey]) };
  const coordinator = await Coordinator.start({ ...coordinatorOptions({ data, workers: 1, globalBatch: 16, log: log.logger,
    overrides: { security } }), onStep: () => coordinator.stop('one step is enough') });
  const backend = 'auto';
  const start = (name: string, s: ClientSecurity) => TrainingWorker.start({ connect: coordinator.endpoint, data, backend,
    modelKind: 'two-output', name, log: log.logger, security: s, microBatch: 32 });
  const intruder = await start('intruder', { kind: 'curve', ...stranger, serverKey: server.publicKey });
  const plain = await start('plain', { kind: 'plain' });
  const wrongServer = await start('wrong-server-key', { kind: 'curve', ...allowed, serverKey: curveKeyPair().publicKey });
  const good = await start('good', { kind: 'curve', ...allowed, serverKey: server.publicKey });
  try {
    const refused = await intruder.finished;
    t.like(refused, { kind: 'refused', code: 'ERR_NOT_AUTHORIZED' });
    t.regex((refused as { reason: string }).reason, /refused this worker's CURVE key \(not in the allow-list/);
    const line = await log.waitFor((l) => l.code === 'ERR_NOT_AUTHORIZED' && l['key'] === stranger.publicKey);
    t.is(line['address'], '127.0.0.1');
    t.is(line.reason, 'key not in the allow-list');

    const result = await coordinator.train();
    t.is(result.state.globalStep, 1, 'the allow-listed worker computed a step over CURVE');

    t.like(await plain.finished, { kind: 'refused', code: 'ERR_NOT_AUTHORIZED' });
    await log.waitFor((l) => l.code === 'ERR_NOT_AUTHORIZED' && String(l.msg).includes('handshake failed'));
    const wrong = await wrongServer.finished;
    t.like(wrong, { kind: 'refused' });
    t.regex((wrong as { reason: string }).reason, /is --coordinator-key the coordinator's public key/);
    t.false(log.lines.some((l) => l['msg'] === 'worker joined' && l['workerName'] !== 'good'), 'only the allow-listed worker joined');
  } finally {
    await coordinator.close();
    await good.finished;
  }
});

import test from 'ava';
import { Writable } from 'node:stream';
import { BACKEND_CHOICES, initBackend, pickBackend, type ActiveBackend, type BackendAttempt } from '../shared/compute/backend.js';
import { createLogger, silentLogger, type Logger } from '../shared/common/logger.js';

function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination: sink }), lines };
}

type Candidate = ActiveBackend['name'];

/** A machine described by what starts on it: the choice logic sees only these answers, and which it asked. */
function machine(available: Partial<Record<Candidate, string>>, missing: Partial<Record<Candidate, string>> = {}) {
  const asked: Candidate[] = [];
  const tryBackend = (candidate: Candidate): Promise<BackendAttempt> => {
    asked.push(candidate);
    const reason = available[candidate];
    return Promise.resolve(reason !== undefined ? { ok: true, reason } : { ok: false, why: missing[candidate] ?? `${candidate} absent` });
  };
  return { asked, tryBackend };
}

const noNodePackages = { 'tensorflow-gpu': '@tensorflow/tfjs-node-gpu is not installed', tensorflow: '@tensorflow/tfjs-node is not installed' };

test("forcing 'tensorflow-gpu' or 'tensorflow' without the package throws a clear error", async (t) => {
  const m = machine({ wasm: 'WebAssembly, SIMD', cpu: 'js' }, noNodePackages);
  await t.throwsAsync(pickBackend('tensorflow-gpu', m.tryBackend, silentLogger()), {
    message: /^backend 'tensorflow-gpu' unavailable: .*tfjs-node-gpu.*\(npm install @tensorflow\/tfjs-node-gpu on a machine with CUDA\)$/,
  });
  await t.throwsAsync(pickBackend('tensorflow', m.tryBackend, silentLogger()), {
    message: /^backend 'tensorflow' unavailable: @tensorflow\/tfjs-node is not installed/,
  });
  t.deepEqual(m.asked, ['tensorflow-gpu', 'tensorflow'], 'a forced backend is the only one tried');
});

test("'auto' takes the first that starts, in the order gpu, node, wasm, cpu, and says why it passed over the others", async (t) => {
  const { logger, lines } = capturingLogger();
  const bare = machine({ wasm: 'WebAssembly, SIMD', cpu: 'js' }, { ...noNodePackages, 'tensorflow-gpu': 'no NVIDIA GPU visible' });
  const picked = await pickBackend('auto', bare.tryBackend, logger);
  t.is(picked.name, 'wasm');
  t.deepEqual(bare.asked, ['tensorflow-gpu', 'tensorflow', 'wasm']);
  t.regex(picked.reason, /^WebAssembly, SIMD \(tensorflow-gpu: no NVIDIA GPU visible; tensorflow: @tensorflow\/tfjs-node is not installed\)$/);
  const passed = lines.map((l) => JSON.parse(l) as { msg?: string; backend?: string }).filter((l) => l.msg === 'compute backend passed over');
  t.deepEqual(passed.map((l) => l.backend), ['tensorflow-gpu', 'tensorflow']);

  const withNode = machine({ tensorflow: '@tensorflow/tfjs-node loaded', wasm: 'w', cpu: 'c' });
  t.like(await pickBackend('auto', withNode.tryBackend, silentLogger()), { name: 'tensorflow' });
  const withGpu = machine({ 'tensorflow-gpu': 'gpu', tensorflow: 'n', wasm: 'w', cpu: 'c' });
  t.deepEqual(await pickBackend('auto', withGpu.tryBackend, silentLogger()), { name: 'tensorflow-gpu', reason: 'gpu' }, 'nothing skipped, nothing added');
  t.deepEqual(withGpu.asked, ['tensorflow-gpu']);
  const nothing = machine({});
  await t.throwsAsync(pickBackend('auto', nothing.tryBackend, silentLogger()), { message: /even cpu failed/ });
});

// The real backends: whatever this machine has, 'auto' starts one, and wasm and cpu (dependencies) always start.
test.serial("'auto' starts a backend, says so, and is idempotent", async (t) => {
  const { logger, lines } = capturingLogger();
  const first = await initBackend('auto', logger);
  t.true(BACKEND_CHOICES.includes(first.name) && first.name !== 'cpu', `auto chose ${first.name}: ${first.reason}`);
  t.is(first.tf.getBackend(), first.name === 'tensorflow-gpu' ? 'tensorflow' : first.name);
  const ready = lines.map((l) => JSON.parse(l) as { msg?: string; backend?: string }).find((l) => l.msg === 'compute backend ready');
  t.is(ready?.backend, first.name);
  t.is(await initBackend('auto', logger), first);
});

test.serial('cpu can be forced and switched back to wasm', async (t) => {
  t.deepEqual(BACKEND_CHOICES, ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
  const cpu = await initBackend('cpu', silentLogger());
  t.is(cpu.tf.getBackend(), 'cpu');
  const wasm = await initBackend('wasm', silentLogger());
  t.is(wasm.name, 'wasm');
  t.is(wasm.tf.getBackend(), 'wasm');
  t.regex(wasm.reason, /SIMD/);
});

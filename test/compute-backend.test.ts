import test from 'ava';
import { Writable } from 'node:stream';
import { BACKEND_CHOICES, initBackend } from '../shared/compute/backend.js';
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

// These tests describe this machine: no tfjs-node packages installed, no GPU, wasm available.
test.serial("forcing 'tensorflow-gpu' without the package throws a clear error", async (t) => {
  await t.throwsAsync(initBackend('tensorflow-gpu', silentLogger()), {
    message: /^backend 'tensorflow-gpu' unavailable: .*tfjs-node-gpu.*\(npm install @tensorflow\/tfjs-node-gpu on a machine with CUDA\)$/,
  });
  await t.throwsAsync(initBackend('tensorflow', silentLogger()), {
    message: /^backend 'tensorflow' unavailable: @tensorflow\/tfjs-node is not installed/,
  });
});

test.serial("'auto' picks wasm here, says why, and is idempotent", async (t) => {
  const { logger, lines } = capturingLogger();
  const first = await initBackend('auto', logger);
  t.is(first.name, 'wasm');
  t.is(first.tf.getBackend(), 'wasm');
  t.regex(first.reason, /SIMD/);
  t.regex(first.reason, /tfjs-node-gpu is not installed|no NVIDIA GPU/);
  const ready = lines.map((l) => JSON.parse(l) as { msg?: string; backend?: string }).find((l) => l.msg === 'compute backend ready');
  t.is(ready?.backend, 'wasm');
  t.is(await initBackend('auto', logger), first);
});

test.serial('cpu can be forced and switched back to wasm', async (t) => {
  t.deepEqual(BACKEND_CHOICES, ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
  const cpu = await initBackend('cpu', silentLogger());
  t.is(cpu.tf.getBackend(), 'cpu');
  const wasm = await initBackend('wasm', silentLogger());
  t.is(wasm.name, 'wasm');
  t.is(wasm.tf.getBackend(), 'wasm');
});

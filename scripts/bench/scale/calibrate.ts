import { initBackend } from '../../../shared/compute/backend.js';
import { silentLogger } from '../../../shared/common/logger.js';
import { initialParams } from '../../../shared/model/initial-params.js';
import { ModelRunner } from '../../../shared/model/model-runner.js';
import { modelSpec, type ModelKind } from '../../../shared/model/model-spec.js';
import { syntheticBatch } from '../synthetic-batch.js';

/**
 * The wasm time of one worker's shard: the median CPU time (user + system, this thread's work) of a few real
 * forward+backward passes (gradients read back) of the model on a synthetic batch of `samples`, after warmup. CPU
 * time rather than wall time, so that other users of this shared machine do not inflate it.
 */
export async function measureWasmShardMs(modelKind: ModelKind, samples: number, repeats = 5): Promise<number> {
  const { tf } = await initBackend('wasm', silentLogger());
  const runner = ModelRunner.create(modelKind, tf);
  try {
    runner.setParams(initialParams(modelKind, 1));
    const batch = syntheticBatch(samples, 7);
    const weights = new Map(modelSpec(modelKind).heads.map((h) => [h, 1] as const));
    const times: number[] = [];
    for (let i = 0; i < repeats + 2; i++) {
      const started = process.cpuUsage();
      runner.gradients(batch, weights);
      const used = process.cpuUsage(started);
      if (i >= 2) times.push((used.user + used.system) / 1000);
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  } finally {
    runner.dispose();
  }
}

/**
 * The cores this process can get now: a busy loop for `ms` of wall time, and the CPU time it was given. On a machine
 * others load, this is well under the core count, and the clock must slow by as much more.
 */
export function availableCoreShare(ms = 300): number {
  const started = process.cpuUsage();
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Spin: the CPU time this gets, over the wall time, is the share of one core the scheduler gives us.
  }
  const used = process.cpuUsage(started);
  return Math.min(1, (used.user + used.system) / 1000 / ms);
}

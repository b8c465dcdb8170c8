/**
 * What the worker's compute thread costs per step: one shard's gradients with fresh weights, computed on this thread
 * (as the worker did before it had a compute thread) and through the worker's ComputeThread (weights moved in,
 * task cloned in, gradients moved back), alternating step by step so that a shared CPU weighs on both alike.
 *
 *   OMNIGLOT_DIR=... node dist/scripts/bench-worker-thread.js [--batch 64] [--micro-batch 64] [--steps 10] [--alphabets 2]
 */
import { initBackend } from '../../shared/compute/backend.js';
import { loadOmniglot } from '../../shared/dataset/omniglot.js';
import { stepId, taskId } from '../../shared/protocol/ids.js';
import { createLogger } from '../../shared/common/logger.js';
import { initialParams } from '../../shared/model/initial-params.js';
import { ModelRunner } from '../../shared/model/model-runner.js';
import type { StepAssignment } from '../../shared/protocol/messages.js';
import type { NamedTensor } from '../../shared/common/named-tensor.js';
import type { ComputeAnswer } from '../../worker/compute-messages.js';
import { ComputeThread } from '../../worker/compute-thread-client.js';
import { shardGradients } from '../../worker/shard-compute.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const n = Number(i >= 0 ? process.argv[i + 1] : fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** Weights as the worker gets them from the wire: fresh buffers it may hand over. */
function freshCopy(params: readonly NamedTensor[]): NamedTensor[] {
  return params.map((p) => ({ ...p, data: p.data.slice() }));
}

async function main(): Promise<void> {
  const batch = flag('batch', 64);
  const microBatch = flag('micro-batch', 64);
  const steps = flag('steps', 10);
  const log = createLogger({ name: 'bench-worker-thread', level: 'warn' });
  const data = await loadOmniglot({ alphabets: flag('alphabets', 2), download: false, log });
  const params = initialParams('two-output', 1);
  const task = (i: number): StepAssignment => ({ type: 'step', taskId: taskId(i + 1), stepId: stepId(i), epoch: 0, weightsVersion: i,
    sampleIndices: Uint32Array.from({ length: batch }, (_, k) => (i * batch + k) % data.train.size),
    lossWeights: new Map([['alphabet', 1], ['character', 1]]), augment: false, augmentSeed: 0 });

  const backend = await initBackend('auto', log);
  const runner = ModelRunner.create('two-output', backend.tf, { characterAlphabet: data.characterAlphabet });
  let answered: ((a: ComputeAnswer) => void) | undefined;
  const thread = await ComputeThread.start({ modelKind: 'two-output', backend: 'auto', data, microBatch },
    { onAnswer: (a) => answered?.(a), onCrash: (e) => { throw e; } });
  const viaThread = async (i: number): Promise<{ ms: number; computeMs: number }> => {
    const weights = freshCopy(params);
    const answer = new Promise<ComputeAnswer>((resolve) => { answered = resolve; });
    const t0 = performance.now();
    thread.setWeights(weights);
    thread.step(task(i));
    const a = await answer;
    if (a.kind !== 'gradients') throw new Error(`compute thread answered ${a.kind}`);
    return { ms: performance.now() - t0, computeMs: a.computeMs };
  };
  const onThisThread = (i: number): number => {
    const weights = freshCopy(params);
    const t0 = performance.now();
    runner.setParams(weights);
    shardGradients(runner, data.train, task(i), microBatch);
    return performance.now() - t0;
  };

  for (let w = 0; w < 2; w++) {
    onThisThread(w);
    await viaThread(w);
  }
  const direct: number[] = [];
  const threaded: number[] = [];
  const inThread: number[] = [];
  for (let i = 0; i < steps; i++) {
    direct.push(onThisThread(i));
    const r = await viaThread(i);
    threaded.push(r.ms);
    inThread.push(r.computeMs);
  }
  await thread.terminate();
  runner.dispose();
  // The minimum is what a step costs when nothing else wants the CPU; the median, what it cost here.
  const line = (label: string, xs: readonly number[]): string => `  ${label} median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)} ms`;
  console.log(`backend ${backend.name}, two-output, shard ${batch} samples, micro-batch ${microBatch}, ${steps} steps:`);
  console.log(line('on the calling thread (setParams + gradients):          ', direct));
  console.log(line('via the compute thread (hand-over, setParams, gradients, answer back):', threaded));
  console.log(line('  of which gradients, timed inside the thread:          ', inThread));
  const d = Math.min(...direct);
  const t = Math.min(...threaded);
  console.log(`  difference of the minima: ${(t - d).toFixed(1)} ms (${((100 * (t - d)) / d).toFixed(1)}%)`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});

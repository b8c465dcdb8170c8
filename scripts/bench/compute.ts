/**
 * Forward+backward throughput of the course models per compute backend, the kernels that take the time, and the
 * PyTorch anchor measured in the same invocation, as a ratio.
 *
 *   node dist/scripts/bench/compute.js [--backends wasm,cpu] [--models two-output,two-input] [--batches 32,64]
 *                                      [--steps 10] [--warmup 3] [--no-pytorch]
 */
import { BACKEND_CHOICES, initBackend, type BackendChoice } from '../../shared/compute/backend.js';
import type { TfModule } from '../../shared/compute/tf-module.js';
import type { HeadName } from '../../shared/model/heads.js';
import { createLogger } from '../../shared/common/logger.js';
import type { Batch } from '../../shared/model/batch.js';
import { initialParams } from '../../shared/model/initial-params.js';
import { ModelRunner } from '../../shared/model/model-runner.js';
import { isModelKind, MODEL_KINDS, type ModelKind } from '../../shared/model/model-spec.js';
import { runAnchor as runAnchorScript } from './pytorch-anchor.js';
import { syntheticBatch } from './synthetic-batch.js';

type Concrete = Exclude<BackendChoice, 'auto'>;

interface Options {
  readonly backends: readonly Concrete[];
  readonly models: readonly ModelKind[];
  readonly batches: readonly number[];
  readonly steps: number;
  readonly warmup: number;
  readonly pytorch: boolean;
}

interface Row {
  readonly backend: Concrete;
  readonly model: ModelKind;
  readonly batch: number;
  readonly samplesPerS: number;
  readonly stepMs: number;
  readonly topKernels: string;
}

// The loss weights of the anchor: 0.33 CE(alphabet) + 0.67 CE(character).
const WEIGHTS = new Map<HeadName, number>([['alphabet', 0.33], ['character', 0.67]]);
// The pure-JS backend takes seconds per step: a couple of steps say enough.
const CPU_MAX_STEPS = 2;

function parseArgs(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (flag: string, fallback: string): string[] => (value(flag) ?? fallback).split(',').filter((s) => s !== '');
  const count = (flag: string, fallback: number): number => {
    const n = Number(value(flag) ?? fallback);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
    return n;
  };
  const backends = list('--backends', 'tensorflow-gpu,tensorflow,wasm,cpu').map((b) => {
    if (b === 'auto' || !(BACKEND_CHOICES as readonly string[]).includes(b)) throw new Error(`--backends: unknown backend ${b}`);
    return b as Concrete;
  });
  const models = list('--models', MODEL_KINDS.join(',')).map((m) => {
    if (!isModelKind(m)) throw new Error(`--models: unknown model ${m}`);
    return m;
  });
  const batches = list('--batches', '32,64').map(Number);
  if (!batches.every((b) => Number.isInteger(b) && b > 0)) throw new Error('--batches must be positive integers');
  return { backends, models, batches, steps: count('--steps', 10), warmup: count('--warmup', 3), pytorch: !argv.includes('--no-pytorch') };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Kernel time shares of one step, from tf.profile, top five. */
async function topKernels(tf: TfModule, step: () => void): Promise<string> {
  const profile = await tf.profile(step);
  const byKernel = new Map<string, number>();
  for (const k of profile.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms);
  }
  const total = [...byKernel.values()].reduce((a, b) => a + b, 0);
  return [...byKernel]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, ms]) => `${name} ${((100 * ms) / total).toFixed(0)}%`)
    .join(', ');
}

async function measure(backend: Concrete, tf: TfModule, model: ModelKind, batchSize: number, options: Options): Promise<Row> {
  const runner = ModelRunner.create(model, tf);
  try {
    const batches = [0, 1, 2, 3].map((i) => syntheticBatch(batchSize, 1000 + i));
    // New parameter tensors before every step, as a worker gets each step: otherwise wasm's XNNPACK would reuse
    // weights packed on an earlier step and flatter the figure. Uploading them is not timed.
    const paramSets = [initialParams(model, 0), initialParams(model, 1)];
    let i = 0;
    const step = (): void => {
      runner.gradients(batches[i++ % batches.length] as Batch, WEIGHTS);
    };
    const timedStep = (): number => {
      runner.setParams(paramSets[i % paramSets.length] ?? []);
      const t0 = performance.now();
      step();
      return performance.now() - t0;
    };
    const slow = backend === 'cpu';
    for (let w = 0; w < (slow ? 1 : options.warmup); w++) timedStep();
    const times: number[] = [];
    for (let s = 0; s < (slow ? Math.min(options.steps, CPU_MAX_STEPS) : options.steps); s++) times.push(timedStep());
    const stepMs = median(times);
    runner.setParams(paramSets[i % paramSets.length] ?? []);
    return { backend, model, batch: batchSize, stepMs, samplesPerS: (1000 * batchSize) / stepMs, topKernels: await topKernels(tf, step) };
  } finally {
    runner.dispose();
  }
}

interface AnchorResult {
  readonly byBatch: ReadonlyMap<number, number>;
  readonly label: string;
}

/** Runs the PyTorch anchor (1 thread) and reads summary[i].samples_per_s.median per batch from its last line. */
async function runAnchor(batches: readonly number[]): Promise<AnchorResult> {
  const args = ['single', '--threads', '1', '--batches', ...batches.map(String), '--repeats', '1'];
  const parsed = await runAnchorScript(args) as { torch?: string; blas?: string; summary?: { batch: number; samples_per_s: { median: number } }[] };
  if (!Array.isArray(parsed.summary)) throw new Error('anchor printed no summary');
  return {
    byBatch: new Map(parsed.summary.map((s) => [s.batch, s.samples_per_s.median])),
    label: `PyTorch ${parsed.torch ?? '?'} (${parsed.blas ?? '?'}), 1 thread`,
  };
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const log = createLogger({ name: 'bench-compute', level: process.env['LOG_LEVEL'] ?? 'warn' });
  const rows: Row[] = [];
  for (const backend of options.backends) {
    let tf: TfModule;
    try {
      const active = await initBackend(backend, log);
      tf = active.tf;
      console.log(`\n## ${backend}: ${active.reason}`);
    } catch (e) {
      console.log(`\n## ${backend}: skipped (${e instanceof Error ? e.message : String(e)})`);
      continue;
    }
    const backendRows: Row[] = [];
    for (const model of options.models) {
      for (const batch of options.batches) backendRows.push(await measure(backend, tf, model, batch, options));
    }
    rows.push(...backendRows);
    console.log(
      table(
        ['model', 'batch', 'samples/s', 'step ms', 'top kernels (share of kernel time)'],
        backendRows.map((r) => [r.model, String(r.batch), r.samplesPerS.toFixed(0), r.stepMs.toFixed(1), r.topKernels]),
      ),
    );
  }
  if (!options.pytorch) return;
  console.log('\n## PyTorch anchor (two-output model, same machine, run now)');
  let anchor: AnchorResult;
  try {
    anchor = await runAnchor(options.batches);
  } catch (e) {
    console.log(`anchor could not run: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return;
  }
  const compared = rows.filter((r) => r.model === 'two-output' && anchor.byBatch.has(r.batch));
  console.log(anchor.label);
  console.log(
    table(
      ['backend', 'batch', 'ours samples/s', 'PyTorch samples/s', 'ours / PyTorch'],
      compared.map((r) => {
        const theirs = anchor.byBatch.get(r.batch) ?? Number.NaN;
        return [r.backend, String(r.batch), r.samplesPerS.toFixed(0), theirs.toFixed(0), (r.samplesPerS / theirs).toFixed(2)];
      }),
    ),
  );
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});

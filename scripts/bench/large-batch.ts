/**
 * Large batches that keep accuracy (issue 11, part 4): trains the course recipe at global batch 32, 128 and 256, the
 * larger ones with and without the linear scaling rule (Goyal et al. 2017), one run after another, and prints the
 * per-head test accuracy and time-to-accuracy of each as a markdown table. Each run is a real `train` with its own
 * run folder under --out; a run whose summary.json says finished is read, not rerun.
 *
 *   node dist/scripts/bench/large-batch.js [--workers 1] [--epochs 10] [--warmup-epochs 2] [--runs b32,b128,b128-linear,...]
 *                                          [--out runs/large-batch] [--data-dir DIR]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

interface RunPlan {
  readonly name: string;
  readonly globalBatch: number;
  readonly scaling: 'none' | 'linear';
}

const PLANS: readonly RunPlan[] = [
  { name: 'b32', globalBatch: 32, scaling: 'none' },
  { name: 'b128', globalBatch: 128, scaling: 'none' },
  { name: 'b128-linear', globalBatch: 128, scaling: 'linear' },
  { name: 'b256', globalBatch: 256, scaling: 'none' },
  { name: 'b256-linear', globalBatch: 256, scaling: 'linear' },
];

interface Summary {
  readonly finished: boolean;
  readonly epochs: number;
  readonly trainSeconds: number;
  readonly final: { readonly test: Record<string, { readonly accuracy: number }>; readonly lr: number } | null;
  readonly timeToAccuracy?: Record<string, { readonly target: number; readonly epoch: number | null; readonly seconds: number | null }>;
}

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));

function options(): { workers: number; epochs: number; warmup: number; runs: RunPlan[]; out: string; dataDir: string | undefined } {
  const { values } = parseArgs({ options: { workers: { type: 'string', default: '1' }, epochs: { type: 'string', default: '10' },
    'warmup-epochs': { type: 'string', default: '2' }, runs: { type: 'string', default: PLANS.map((p) => p.name).join(',') },
    out: { type: 'string', default: 'runs/large-batch' }, 'data-dir': { type: 'string' } }, strict: true });
  const count = (flag: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) fail(`--${flag}: '${text}' is not a whole number >= ${min}`);
    return n;
  };
  const runs = values.runs.split(',').map((name) => PLANS.find((p) => p.name === name) ?? fail(`--runs: unknown run '${name}' (runs: ${PLANS.map((p) => p.name).join(', ')})`));
  const workers = count('workers', values.workers, 1);
  for (const r of runs) if (r.globalBatch % workers !== 0) fail(`--workers: ${workers} does not divide the global batch ${r.globalBatch} of ${r.name}`);
  return { workers, epochs: count('epochs', values.epochs, 1), warmup: count('warmup-epochs', values['warmup-epochs'], 0), runs,
    out: values.out, dataDir: values['data-dir'] };
}

function fail(message: string): never {
  process.stderr.write(`large-batch: ${message}\n`);
  process.exit(2);
}

async function readSummary(dir: string): Promise<Summary | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')) as Summary;
  } catch {
    return undefined;
  }
}

function train(args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'train', ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

const fixed = (x: number | undefined | null, digits: number): string => (x === undefined || x === null ? '-' : x.toFixed(digits));

async function main(): Promise<void> {
  const o = options();
  const rows: string[] = [];
  for (const plan of o.runs) {
    const dir = path.join(o.out, plan.name);
    let summary = await readSummary(dir);
    if (!summary?.finished || summary.epochs < o.epochs) {
      process.stdout.write(`== ${plan.name}: global batch ${plan.globalBatch}, lr scaling ${plan.scaling}, ${o.workers} worker(s), ${o.epochs} epochs\n`);
      const code = await train(['--workers', String(o.workers), '--batch-per-worker', String(plan.globalBatch / o.workers),
        '--epochs', String(o.epochs), '--lr-scaling', plan.scaling, ...(plan.scaling === 'linear' ? ['--warmup-epochs', String(Math.min(o.warmup, o.epochs))] : []),
        '--run-dir', dir, '--log-level', 'warn', ...(o.dataDir ? ['--data-dir', o.dataDir] : [])]);
      if (code !== 0) process.stderr.write(`large-batch: ${plan.name} exited with ${code}\n`);
      summary = await readSummary(dir);
    }
    const test = summary?.final?.test ?? {};
    const tta = summary?.timeToAccuracy ?? {};
    const reach = (head: string): string => {
      const r = tta[head];
      return r?.seconds == null ? 'not reached' : `${r.seconds.toFixed(0)} s (epoch ${r.epoch})`;
    };
    rows.push(`| ${plan.globalBatch} | ${plan.scaling === 'linear' ? `linear, warmup ${o.warmup}` : 'none'} | ${fixed(summary?.final?.lr, 4)} | `
      + `${summary?.epochs ?? 0}${summary?.finished ? '' : ' (unfinished)'} | ${fixed(test.alphabet?.accuracy, 3)} | ${fixed(test.character?.accuracy, 3)} | `
      + `${reach('alphabet')} | ${reach('character')} | ${fixed(summary?.trainSeconds, 0)} |`);
  }
  process.stdout.write(['', `${o.workers} worker(s); time-to-accuracy targets from the default --target (wall time incl. evaluation)`,
    '| global batch | lr scaling | lr at the end | epochs | alphabet test acc | character test acc | time to alphabet target | time to character target | wall s |',
    '|---:|---|---:|---:|---:|---:|---|---|---:|', ...rows, ''].join('\n'));
}

await main();

/**
 * End-to-end training throughput, one bounded invocation: `train --workers W` at each global batch (and each step
 * exchange asked for), the compute-only rate of the same backend, and the PyTorch anchor (one process at 1 and 2
 * threads, DDP 2 x 1 thread), with the issue-10 ratios and, per configuration, where a step's time goes (the phases
 * the real code path timed, from the run's metrics.jsonl). The last line is one JSON object with every figure.
 *
 *   node dist/scripts/bench/train.js [--alphabets 3] [--epochs 2] [--workers 1,2] [--batches 32,64]
 *                                    [--exchange central-sgd,factored] [--backend wasm] [--no-pytorch]
 *
 * Every configuration trains the same subset (--alphabets) from the same seed; throughput is the last epoch's
 * (the first warms up), evaluation excluded.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { STEP_PHASES, type PhaseTimes } from '../../shared/common/phase-times.js';
import { EXCHANGE_CHOICES, type ExchangeChoice } from '../../coordinator/step-exchange/exchange-choice.js';
import { runAnchor } from './pytorch-anchor.js';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

interface Options {
  readonly alphabets: number;
  readonly epochs: number;
  readonly workers: readonly number[];
  readonly batches: readonly number[];
  readonly exchanges: readonly ExchangeChoice[];
  readonly backend: string;
  readonly pytorch: boolean;
}

interface TrainFigure {
  readonly exchange: string;
  readonly workers: number;
  readonly batch: number;
  readonly samplesPerS: number;
  readonly stepMs: number;
  readonly phases: PhaseTimes;
}

function parseArgs(argv: readonly string[]): Options {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const ints = (flag: string, fallback: string): number[] => {
    const list = (value(flag) ?? fallback).split(',').map(Number);
    if (!list.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`${flag} takes positive integers, e.g. ${fallback}`);
    return list;
  };
  const exchanges = (value('--exchange') ?? 'auto').split(',').map((e) => {
    if (!(EXCHANGE_CHOICES as readonly string[]).includes(e)) throw new Error(`--exchange: unknown design '${e}' (${EXCHANGE_CHOICES.join(', ')})`);
    return e as ExchangeChoice;
  });
  const [alphabets] = ints('--alphabets', '3');
  const [epochs] = ints('--epochs', '2');
  return { alphabets: alphabets!, epochs: epochs!, workers: ints('--workers', '1,2'), batches: ints('--batches', '32,64'), exchanges,
    backend: value('--backend') ?? 'wasm', pytorch: !argv.includes('--no-pytorch') };
}

/** One `train` run in a child process; its last epoch record from metrics.jsonl. */
async function trainOnce(o: Options, exchange: ExchangeChoice, workers: number, batch: number): Promise<TrainFigure> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-train-'));
  try {
    await run(process.execPath, [path.join(dist, 'scripts/cli.js'), 'train', `--workers=${workers}`, `--batch-size=${batch}`,
      `--epochs=${o.epochs}`, `--alphabets=${o.alphabets}`, `--backend=${o.backend}`, `--exchange=${exchange}`, `--run-dir=${dir}`,
      '--log-level=warn', '--seed=42'], { maxBuffer: 16 << 20 });
    const epochs = readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { type: string; samplesPerSecond?: number; stepPhasesMs?: PhaseTimes; exchange?: string })
      .filter((r) => r.type === 'epoch');
    const last = epochs[epochs.length - 1];
    if (!last?.samplesPerSecond || !last.stepPhasesMs) throw new Error('the run wrote no epoch record with phases');
    return { exchange: last.exchange ?? exchange, workers, batch, samplesPerS: last.samplesPerSecond, stepMs: (1000 * batch) / last.samplesPerSecond,
      phases: last.stepPhasesMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Compute-only samples/s per batch (bench-compute's figure for the two-output model on this backend). */
async function computeOnly(o: Options): Promise<Map<number, number>> {
  const { stdout } = await run(process.execPath, [path.join(dist, 'scripts/bench/compute.js'), '--backends', o.backend, '--models', 'two-output',
    '--batches', o.batches.join(','), '--no-pytorch'], { maxBuffer: 16 << 20 });
  const rows = [...stdout.matchAll(/^\| two-output \| (\d+) +\| ([\d.]+) +\|/gm)];
  return new Map(rows.map((m) => [Number(m[1]), Number(m[2])]));
}

interface Anchor {
  readonly single: Record<string, number>;
  readonly ddp64: number | undefined;
}

async function pytorch(o: Options): Promise<Anchor> {
  const single = (await runAnchor(['single', '--threads', '1', '2', '--batches', ...o.batches.map(String), '--repeats', '1'])) as
    { summary?: { threads: number; batch: number; samples_per_s: { median: number } }[] };
  const ddp = (await runAnchor(['ddp', '--repeats', '1'])) as { summary?: { ddp_global_samples_per_s?: { median: number } } };
  return { single: Object.fromEntries((single.summary ?? []).map((s) => [`t${s.threads}_b${s.batch}`, s.samples_per_s.median])),
    ddp64: ddp.summary?.ddp_global_samples_per_s?.median };
}

function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const fmt = (n: number | undefined, digits = 2): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits));

/** The three targets for one exchange design. */
function ratios(figures: readonly TrainFigure[], compute: ReadonlyMap<number, number>, anchor: Anchor | undefined): Record<string, number | undefined> {
  const at = (workers: number, batch: number): number | undefined => figures.find((f) => f.workers === workers && f.batch === batch)?.samplesPerS;
  const div = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : a / b);
  return {
    w1_vs_compute_b32: div(at(1, 32), compute.get(32)),
    w2_vs_w1_b32: div(at(2, 32), at(1, 32)),
    w2_vs_w1_b64: div(at(2, 64), at(1, 64)),
    w2_vs_ddp_b64: div(at(2, 64), anchor?.ddp64),
  };
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = performance.now();
  console.log(`bench-train: ${o.alphabets} alphabets, ${o.epochs} epochs per run (the last one measured), backend ${o.backend}`);
  const figures: TrainFigure[] = [];
  for (const exchange of o.exchanges) {
    for (const batch of o.batches) {
      for (const workers of o.workers) {
        const f = await trainOnce(o, exchange, workers, batch);
        console.log(`  ${f.exchange} workers ${workers} batch ${batch}: ${f.samplesPerS.toFixed(0)} samples/s`);
        figures.push(f);
      }
    }
  }
  const compute = await computeOnly(o);
  const anchor = o.pytorch ? await pytorch(o).catch((e: unknown) => {
    console.log(`PyTorch anchor could not run: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return undefined;
  }) : undefined;

  console.log('\n## Throughput (samples/s)');
  const rows = figures.map((f) => [f.exchange, String(f.workers), String(f.batch), f.samplesPerS.toFixed(0), f.stepMs.toFixed(1),
    fmt(f.samplesPerS / (compute.get(f.batch) ?? Number.NaN))]);
  for (const b of o.batches) rows.push(['compute only', '-', String(b), fmt(compute.get(b), 0), fmt(1000 * b / (compute.get(b) ?? Number.NaN), 1), '1.00']);
  if (anchor) {
    for (const [k, v] of Object.entries(anchor.single)) rows.push([`PyTorch single ${k}`, '-', k.split('_b')[1] ?? '', v.toFixed(0), '', '']);
    rows.push(['PyTorch DDP 2x1 thread', '2', '64', fmt(anchor.ddp64, 0), '', '']);
  }
  console.log(table(['configuration', 'workers', 'global batch', 'samples/s', 'step ms', 'vs compute-only'], rows));

  const designs = [...new Set(figures.map((f) => f.exchange))];
  const byDesign = Object.fromEntries(designs.map((d) => [d, ratios(figures.filter((f) => f.exchange === d), compute, anchor)]));
  console.log('\n## Targets (issue 10)');
  console.log(table(['exchange', 'w1 / compute-only, b32 (>= 0.9)', 'w2 / w1, b32 (>= 1.7)', 'w2 / w1, b64 (>= 1.7)', 'w2 / DDP, b64 (>= 1.0)'],
    designs.map((d) => [d, fmt(byDesign[d]!['w1_vs_compute_b32']), fmt(byDesign[d]!['w2_vs_w1_b32']), fmt(byDesign[d]!['w2_vs_w1_b64']),
      fmt(byDesign[d]!['w2_vs_ddp_b64'])])));

  console.log('\n## Step phases (ms per step, last epoch; they add up to the step)');
  console.log(table(['phase', ...figures.map((f) => `${f.exchange} w${f.workers} b${f.batch}`)],
    [...STEP_PHASES.map((p) => [p, ...figures.map((f) => fmt(f.phases[p]))]),
      ['= step', ...figures.map((f) => fmt(Object.values(f.phases).reduce((s, v) => s + v, 0)))]]));
  console.log(`\nelapsed ${((performance.now() - started) / 1000).toFixed(0)} s`);
  console.log(JSON.stringify({ bench: 'train', alphabets: o.alphabets, epochs: o.epochs, backend: o.backend, runs: figures,
    computeOnly: Object.fromEntries(compute), pytorch: anchor ?? null, ratios: byDesign }));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});

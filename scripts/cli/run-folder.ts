import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { StepInfo } from '../../coordinator/coordinator.js';
import type { EpochSummary, TrainingState } from '../../coordinator/training-state.js';
import type { TfModule } from '../../shared/compute/tf-module.js';
import type { OmniglotData } from '../../shared/dataset/omniglot.js';
import type { HeadName } from '../../shared/model/heads.js';
import { summarizeHeads } from '../../coordinator/head-metrics.js';
import { writeFileAtomic } from '../../shared/common/atomic-file.js';
import { exportLayersModel } from '../../shared/model/export-layers.js';
import { modelSpec, type ModelKind } from '../../shared/model/model-spec.js';
import { lineChartSvg, type Series } from './plot-svg.js';
import { timeToAccuracy } from './time-to-accuracy.js';

/**
 * A run's folder: config.json (the resolved flags and where each came from), metrics.jsonl (one line per step and
 * one per epoch), loss.png and accuracy.png (redrawn at each epoch), model/ (the weights in the TensorFlow.js
 * layers format, rewritten at each epoch) and summary.json (the figures so far; `finished` once the last epoch is in).
 */
export interface RunFolderInit {
  readonly dir: string;
  readonly command: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly sources: Readonly<Record<string, string>>;
  readonly modelKind: ModelKind;
  readonly epochs: number;
  readonly weighting: string;
  readonly data: Pick<OmniglotData, 'alphabets' | 'characters' | 'fingerprint'>;
  /** tfjs for the model export; without it no model/ is written. */
  readonly tf?: TfModule;
  /** Where the run starts: metrics.jsonl keeps only the records before it, so redone steps are not listed twice. */
  readonly resumeFrom?: Pick<TrainingState, 'globalStep' | 'epoch'>;
  /** Test accuracy per head whose first reaching summary.json reports (time-to-accuracy); none: not reported. */
  readonly targets?: ReadonlyMap<HeadName, number>;
}

/** runs/<UTC timestamp>-<model>, the default --run-dir. */
export function defaultRunDir(modelKind: string, at = new Date()): string {
  return path.join('runs', `${at.toISOString().replace(/[:.]/g, '-').replace(/-\d+Z$/, 'Z')}-${modelKind}`);
}

const HEAD_COLORS: Readonly<Record<HeadName, string>> = { alphabet: '#1f77b4', character: '#d62728' };

function headRecord(summaries: EpochSummary['test']): Record<string, { accuracy: number; loss: number }> {
  return Object.fromEntries(summaries.map((h) => [h.head, { accuracy: h.accuracy, loss: h.meanLoss }]));
}

/** One metrics.jsonl line for a step. */
export function stepRecord(info: StepInfo): Record<string, unknown> {
  return { type: 'step', epoch: info.epoch, step: info.stepInEpoch, globalStep: info.globalStep, samples: info.samples,
    lr: info.learningRate, lossWeights: Object.fromEntries(info.lossWeights),
    loss: Object.fromEntries(summarizeHeads(info.heads).map((h) => [h.head, h.meanLoss])),
    accuracy: Object.fromEntries(summarizeHeads(info.heads).map((h) => [h.head, h.accuracy])),
    workers: info.workers, stepMs: Math.round(info.stepMs * 10) / 10 };
}

/** One metrics.jsonl line for an epoch. */
export function epochRecord(summary: EpochSummary, weighting: string): Record<string, unknown> {
  const a = summary.agreement;
  return { type: 'epoch', epoch: summary.epoch, test: headRecord(summary.test), train: headRecord(summary.train),
    samplesPerSecond: summary.samplesPerSecond, wallMs: summary.wallMs, workers: summary.workers, lr: summary.learningRate,
    weighting: { strategy: weighting, weights: Object.fromEntries(summary.lossWeights) },
    ...(summary.phases ? { exchange: summary.exchange, stepPhasesMs: summary.phases } : {}),
    ...(a ? { agreement: { count: a.count, agreeRate: a.agree / Math.max(1, a.count), impliedAlphabetAccuracy: a.impliedCorrect / Math.max(1, a.count) } } : {}) };
}

export class RunFolder {
  /** The run's epochs so far, resumed ones included: the training state carries them. */
  private history: readonly EpochSummary[] = [];
  private readonly startedAt = new Date();
  /** A write error of metrics.jsonl (full disk), raised at the next record rather than lost. */
  private failure: Error | undefined;

  private constructor(private readonly init: RunFolderInit, private readonly metrics: WriteStream) {
    metrics.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /**
   * Creates the folder, writes config.json, and cuts metrics.jsonl back to the records before the run's start (all
   * of them for a fresh run). @throws the fs error when the folder cannot be made.
   */
  static async open(init: RunFolderInit): Promise<RunFolder> {
    await mkdir(init.dir, { recursive: true });
    await writeJson(path.join(init.dir, 'config.json'), { command: init.command, model: init.modelKind,
      dataset: init.data.fingerprint, values: init.values, sources: init.sources });
    const metrics = path.join(init.dir, 'metrics.jsonl');
    const earlier = await readFile(metrics, 'utf8').catch(() => '');
    await writeText(metrics, recordsBefore(earlier, init.resumeFrom ?? { globalStep: 0, epoch: 0 }));
    return new RunFolder(init, createWriteStream(metrics, { flags: 'a' }));
  }

  get dir(): string {
    return this.init.dir;
  }

  step(info: StepInfo): void {
    if (this.failure) throw this.failure;
    this.metrics.write(`${JSON.stringify(stepRecord(info))}\n`);
  }

  async epoch(summary: EpochSummary, state: TrainingState): Promise<void> {
    if (this.failure) throw this.failure;
    this.history = state.history;
    this.metrics.write(`${JSON.stringify(epochRecord(summary, this.init.weighting))}\n`);
    await this.plots();
    if (this.init.tf) {
      await exportLayersModel(this.init.tf, this.init.modelKind, state.params, path.join(this.init.dir, 'model'), {
        modelKind: this.init.modelKind, heads: modelSpec(this.init.modelKind).heads, alphabets: this.init.data.alphabets,
        characters: this.init.data.characters, epoch: summary.epoch });
    }
    await this.writeSummary(state.epoch >= this.init.epochs);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.metrics.end(resolve));
  }

  private async plots(): Promise<void> {
    const series = (pick: (h: EpochSummary['test'][number]) => number): Series[] => modelSpec(this.init.modelKind).heads.flatMap((head) => [
      { name: `${head} test`, color: HEAD_COLORS[head], points: this.history.map((e) => [e.epoch + 1, pick(e.test.find((h) => h.head === head)!)] as const) },
      { name: `${head} train`, color: HEAD_COLORS[head], dashed: true, points: this.history.map((e) => [e.epoch + 1, pick(e.train.find((h) => h.head === head)!)] as const) },
    ]);
    const charts = [
      { file: 'loss.png', svg: lineChartSvg({ title: 'Loss per head', xLabel: 'epoch', yLabel: 'cross-entropy', series: series((h) => h.meanLoss) }) },
      { file: 'accuracy.png', svg: lineChartSvg({ title: 'Accuracy per head', xLabel: 'epoch', yLabel: 'accuracy', yRange: [0, 1], series: series((h) => h.accuracy) }) },
    ];
    for (const c of charts) {
      await writeFileAtomic(path.join(this.init.dir, c.file), [await sharp(Buffer.from(c.svg)).png().toBuffer()]);
    }
  }

  private async writeSummary(finished: boolean): Promise<void> {
    const last = this.history[this.history.length - 1];
    const best = (head: HeadName): number => Math.max(0, ...this.history.map((e) => e.test.find((h) => h.head === head)?.accuracy ?? 0));
    await writeJson(path.join(this.init.dir, 'summary.json'), {
      finished, model: this.init.modelKind, startedAt: this.startedAt.toISOString(), updatedAt: new Date().toISOString(),
      epochs: this.history.length, plannedEpochs: this.init.epochs, weighting: this.init.weighting,
      final: last ? epochRecord(last, this.init.weighting) : null,
      bestTestAccuracy: Object.fromEntries(modelSpec(this.init.modelKind).heads.map((h) => [h, best(h)])),
      trainSeconds: this.history.reduce((s, e) => s + e.wallMs / 1000, 0),
      ...(this.init.targets ? { timeToAccuracy: timeToAccuracy(this.history, this.init.targets) } : {}),
    });
  }
}

/**
 * The metrics.jsonl lines recorded before `start`: steps up to its global step, epochs before its epoch. Lines that
 * do not parse (a record torn by a kill) are dropped.
 */
export function recordsBefore(text: string, start: Pick<TrainingState, 'globalStep' | 'epoch'>): string {
  const kept = text.split('\n').filter((line) => {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return false;
    }
    if (typeof record !== 'object' || record === null) return false;
    const r = record as { type?: unknown; globalStep?: unknown; epoch?: unknown };
    if (r.type === 'step') return typeof r.globalStep === 'number' && r.globalStep <= start.globalStep;
    if (r.type === 'epoch') return typeof r.epoch === 'number' && r.epoch < start.epoch;
    return false;
  });
  return kept.map((line) => `${line}\n`).join('');
}

async function writeText(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, [Buffer.from(text)]);
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeText(file, `${JSON.stringify(value, null, 2)}\n`);
}

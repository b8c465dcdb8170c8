import os from 'node:os';
import path from 'node:path';
import { AppendFile } from '../append-file.js';
import type { RunEvent } from '../run-events.js';
import { fileVersionEvent, scalarEvent, type ScalarValue } from './event-proto.js';
import { tfRecord } from './tfrecord.js';

/** TensorBoard finds event files by this name prefix. */
export const EVENT_FILE_PREFIX = 'events.out.tfevents.';

/**
 * The scalars of one event, as TensorBoard tags: loss/<head>/<split>, accuracy/<head>/<split> (split: step for the
 * last step's batch, train and test per epoch), optimizer/learning_rate, optimizer/loss_weight/<head>,
 * throughput/samples_per_second; all at the global step.
 */
export function scalarsOf(e: RunEvent): { step: number; values: ScalarValue[] } | undefined {
  if (e.kind === 'step') {
    return { step: e.globalStep, values: [
      ...e.heads.flatMap((h) => [{ tag: `loss/${h.head}/step`, value: h.loss }, { tag: `accuracy/${h.head}/step`, value: h.accuracy }]),
      { tag: 'optimizer/learning_rate', value: e.learningRate },
      ...Object.entries(e.lossWeights).map(([head, w]) => ({ tag: `optimizer/loss_weight/${head}`, value: w })),
      { tag: 'time/step_seconds', value: e.stepMs / 1000 },
    ] };
  }
  if (e.kind === 'epoch') {
    const split = (name: string, heads: typeof e.test): ScalarValue[] => heads.flatMap((h) => [
      { tag: `loss/${h.head}/${name}`, value: h.loss }, { tag: `accuracy/${h.head}/${name}`, value: h.accuracy }]);
    return { step: e.globalStep, values: [...split('train', e.train), ...split('test', e.test),
      { tag: 'throughput/samples_per_second', value: e.samplesPerSecond }, { tag: 'epoch', value: e.epoch + 1 }] };
  }
  return undefined;
}

/** Appends the run's scalars to a TensorBoard event file in the run folder, one record per step and per epoch. */
export class TensorBoardWriter {
  private readonly out: AppendFile;

  constructor(readonly file: string) {
    this.out = new AppendFile(file);
    this.out.write(tfRecord(fileVersionEvent(Date.now() / 1000)));
  }

  /** A new event file in `dir`, named as TensorBoard expects. */
  static inFolder(dir: string, at = new Date()): TensorBoardWriter {
    return new TensorBoardWriter(path.join(dir, `${EVENT_FILE_PREFIX}${Math.floor(at.getTime() / 1000)}.${os.hostname()}`));
  }

  observe(e: RunEvent): void {
    const scalars = scalarsOf(e);
    if (scalars) this.out.write(tfRecord(scalarEvent(e.at / 1000, scalars.step, scalars.values)));
  }

  /** @throws the fs error if a write failed. */
  close(): Promise<void> {
    return this.out.close();
  }
}

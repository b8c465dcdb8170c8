import type { CoordinatorOptions } from '../../coordinator/coordinator.js';
import { initBackend } from '../../shared/compute/backend.js';
import type { OmniglotData } from '../../shared/dataset/omniglot.js';
import type { Logger } from '../../shared/common/logger.js';
import { ProgressLine, type ProgressSink } from './progress-line.js';
import { defaultRunDir, RunFolder } from './run-folder.js';
import { emittingEvents } from '../../coordinator/observe/coordinator-events.js';
import { observeConfigFrom } from '../../coordinator/observe/observe-flags.js';
import { openRunObservers } from '../../coordinator/observe/run-observers.js';
import { parseTargets } from './parse-run-config.js';

/** What a coordinating command reports besides its epoch lines: the run folder and, on a terminal, progress. */
export interface RunReport {
  readonly folder: RunFolder;
  /** The options with onStep/onEpoch extended (the given callbacks still run first). */
  wrap(options: CoordinatorOptions): CoordinatorOptions;
  close(): Promise<void>;
}

export async function openRunReport(o: { command: string; values: Readonly<Record<string, unknown>>;
  sources: Readonly<Record<string, string>>; data: OmniglotData; options: CoordinatorOptions; log: Logger;
  out: ProgressSink & { readonly isTTY?: boolean } }): Promise<RunReport> {
  const target = o.values.target;
  const targets = typeof target === 'string' ? parseTargets(o.options.modelKind, target) : undefined;
  const runDir = typeof o.values['run-dir'] === 'string' && o.values['run-dir'] !== '' ? o.values['run-dir'] : defaultRunDir(o.options.modelKind);
  // The coordinator process runs no model; the plain JS backend is enough to build and save the export.
  const { tf } = await initBackend('cpu', o.log);
  const folder = await RunFolder.open({ dir: runDir, command: o.command, values: o.values, sources: o.sources,
    modelKind: o.options.modelKind, epochs: o.options.epochs, weighting: o.options.lossWeighting.strategy, data: o.data, tf,
    ...(o.options.resumeFrom ? { resumeFrom: o.options.resumeFrom } : {}), ...(targets ? { targets } : {}) });
  o.log.info({ runDir }, 'run folder');
  const progress = o.out.isTTY === true ? new ProgressLine(o.out, o.options.epochs) : undefined;
  // The dashboard, /metrics, trace, TensorBoard and events.jsonl all watch one event stream.
  const observers = await openRunObservers(observeConfigFrom(o.values), runDir, o.log);
  return {
    folder,
    wrap: (options) => emittingEvents({
      ...options,
      onStep: (info) => {
        options.onStep?.(info);
        folder.step(info);
        progress?.step(info);
      },
      onEpoch: async (summary, state) => {
        await options.onEpoch?.(summary, state);
        await folder.epoch(summary, state);
      },
    }, observers.events, runDir),
    close: async () => {
      await observers.close('coordinator closed');
      await folder.close();
    },
  };
}

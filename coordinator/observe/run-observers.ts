import path from 'node:path';
import type { Logger } from '../../shared/common/logger.js';
import { DashboardServer } from '../dashboard/dashboard-server.js';
import { EVENTS_FILE, EventsLog } from './events-log.js';
import type { ObserveConfig } from './observe-flags.js';
import { RunMetrics } from './prometheus-metrics.js';
import { RunEventBus, type RunEventSink } from './run-events.js';
import { RunView } from './run-view.js';
import { TensorBoardWriter } from './tensorboard/tensorboard-writer.js';
import { TraceRecorder } from './trace-writer.js';

export const TRACE_FILE = 'trace.json';

/** Everything that watches a live run, fed by one event bus; closed once when the run ends. */
export interface RunObservers {
  readonly events: RunEventSink;
  readonly dashboard?: DashboardServer;
  close(reason: string): Promise<void>;
}

/**
 * Opens the run's views: events.jsonl always, TensorBoard scalars unless turned off, a trace for --trace-steps,
 * and the dashboard server (with /metrics) for --dashboard.
 * @throws the listen error when the dashboard's address cannot be bound.
 */
export async function openRunObservers(config: ObserveConfig, runDir: string, log: Logger): Promise<RunObservers> {
  const observeLog = log.child({ component: 'observe' });
  const bus = new RunEventBus((error, event) => observeLog.warn({ err: error, kind: event.kind }, 'a run view failed on an event'));
  const view = new RunView();
  const metrics = new RunMetrics();
  const eventsLog = new EventsLog(path.join(runDir, EVENTS_FILE));
  const tensorboard = config.tensorboard ? TensorBoardWriter.inFolder(runDir) : undefined;
  const trace = config.traceSteps ? new TraceRecorder(config.traceSteps, path.join(runDir, TRACE_FILE),
    (file, steps) => observeLog.info({ file, steps }, 'step trace written (open it in chrome://tracing or ui.perfetto.dev)')) : undefined;
  for (const sink of [view, metrics, eventsLog, tensorboard, trace]) if (sink) bus.subscribe((e) => sink.observe(e));
  const dashboard = config.dashboard
    ? await DashboardServer.start(config.dashboard, { view, metrics, subscribe: (l) => bus.subscribe(l), mode: 'live' })
    : undefined;
  if (dashboard) observeLog.info({ url: dashboard.url, port: dashboard.port }, `dashboard at ${dashboard.url} (Prometheus: /metrics)`);
  return {
    events: bus,
    ...(dashboard ? { dashboard } : {}),
    async close(reason) {
      bus.emit({ kind: 'run-ended', reason });
      await Promise.all([trace?.close(), tensorboard?.close(), eventsLog.close(), dashboard?.close()]);
    },
  };
}

import { access } from 'node:fs/promises';
import path from 'node:path';
import { DdpError } from '../../shared/common/errors.js';
import { EVENTS_FILE, readEventsLog } from '../observe/events-log.js';
import { RunMetrics } from '../observe/prometheus-metrics.js';
import { RunView } from '../observe/run-view.js';
import type { DashboardSource } from './dashboard-server.js';

/**
 * A finished run's dashboard: its events.jsonl replayed through the same view and metrics a live run feeds.
 * @throws DdpError ERR_BAD_CONFIG when the folder has no events.jsonl, ERR_EVENTS_CORRUPT for a bad line.
 */
export async function runFolderSource(dir: string): Promise<DashboardSource & { readonly events: number }> {
  const file = path.join(dir, EVENTS_FILE);
  try {
    await access(file);
  } catch {
    throw new DdpError('ERR_BAD_CONFIG', `${dir} has no ${EVENTS_FILE}: give a run folder written by \`train\` or \`coordinator\``);
  }
  const events = await readEventsLog(file);
  const view = new RunView();
  const metrics = new RunMetrics();
  for (const e of events) {
    view.observe(e);
    metrics.observe(e);
  }
  return { view, metrics, mode: 'replay', events: events.length };
}

import { readFile } from 'node:fs/promises';
import { DdpError } from '../../shared/common/errors.js';
import { AppendFile } from './append-file.js';
import { HIGH_RATE_KINDS, RUN_EVENT_KINDS, type RunEvent } from './run-events.js';

/** The run folder's log of events: one JSON object per line, everything but the high-rate kinds. */
export const EVENTS_FILE = 'events.jsonl';


/** Appends events to events.jsonl as they happen. */
export class EventsLog {
  private readonly out: AppendFile;

  constructor(readonly file: string) {
    this.out = new AppendFile(file);
  }

  observe(e: RunEvent): void {
    if (!HIGH_RATE_KINDS.has(e.kind)) this.out.write(`${JSON.stringify(e)}\n`);
  }

  /** @throws the fs error if a write failed. */
  close(): Promise<void> {
    return this.out.close();
  }
}

function isRunEvent(value: unknown): value is RunEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['kind'] === 'string' && RUN_EVENT_KINDS.has(v['kind']) && Number.isFinite(v['seq']) && Number.isFinite(v['at']);
}

/**
 * Reads an events.jsonl back. A torn last line (the process died mid-write) is skipped.
 * @throws DdpError ERR_EVENTS_CORRUPT naming the file and line of any other line that is not a run event.
 */
export async function readEventsLog(file: string): Promise<RunEvent[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const events: RunEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return;
      throw new DdpError('ERR_EVENTS_CORRUPT', `${file}:${i + 1}: not JSON`);
    }
    if (!isRunEvent(parsed)) throw new DdpError('ERR_EVENTS_CORRUPT', `${file}:${i + 1}: not a run event (needs a known kind, seq and at)`);
    events.push(parsed);
  });
  return events;
}

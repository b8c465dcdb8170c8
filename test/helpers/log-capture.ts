import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../shared/logging/logger.js';

export type LogLine = Record<string, unknown> & { readonly msg?: string; readonly code?: string; readonly reason?: string };

/** A real pino logger whose JSON lines are kept in memory, to assert on what the code logged. */
export interface CapturedLog {
  readonly logger: Logger;
  readonly lines: LogLine[];
  /** Resolves with the first line (already logged or still to come) matching `match`; rejects after `timeoutMs`. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
}

export function captureLog(level = 'debug'): CapturedLog {
  const lines: LogLine[] = [];
  const waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString('utf8');
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = JSON.parse(pending.slice(0, nl)) as LogLine;
        pending = pending.slice(nl + 1);
        lines.push(line);
        for (const w of [...waiters]) {
          if (w.match(line)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        }
      }
      done();
    },
  });
  return {
    logger: createLogger({ level, destination: stream }),
    lines,
    waitFor(match, timeoutMs = 10_000) {
      const found = lines.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; last lines:\n${lines.slice(-8).map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
        waiters.push({ match, resolve: (l) => { clearTimeout(timer); resolve(l); } });
      });
    },
  };
}

/** Matches a refusal line by its code, and optionally by a piece of its reason. */
export const refusal = (code: string, reasonPart?: string) => (l: LogLine): boolean =>
  l.code === code && (reasonPart === undefined || String(l.reason ?? l.msg ?? '').includes(reasonPart));

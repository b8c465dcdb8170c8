import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../shared/common/logger.js';

/** A JSON log line as pino writes it, stamped with this process's performance.now() as `at` when it arrived. */
export type LogLine = Record<string, unknown> & { readonly msg?: string; readonly code?: string; readonly reason?: string };

/** Log lines collected in order (from an in-process logger or a child's stderr), with a way to wait for one. */
export class LineLog {
  readonly lines: LogLine[] = [];
  private waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  push(line: LogLine): void {
    const stamped = { ...line, at: performance.now() };
    this.lines.push(stamped);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(stamped)) return true;
      w.resolve(stamped);
      return false;
    });
  }

  /** The first line (already logged or still to come) matching `match`; rejects after `timeoutMs`. */
  waitFor(match: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; last lines:\n${
        this.lines.slice(-8).map((l) => JSON.stringify(l)).join('\n')}`)), timeoutMs);
      this.waiters.push({ match, resolve: (l) => {
        clearTimeout(timer);
        resolve(l);
      } });
    });
  }

  matching(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }
}

/** A real pino logger whose JSON lines are kept in memory, to assert on what the code logged. */
export class CapturedLog extends LineLog {
  readonly logger: Logger;

  constructor(level: string) {
    super();
    let pending = '';
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        pending += chunk.toString('utf8');
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const text = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (text.trim() !== '') this.push(JSON.parse(text) as LogLine);
        }
        done();
      },
    });
    this.logger = createLogger({ level, destination: stream });
  }
}

export function captureLog(level = 'debug'): CapturedLog {
  return new CapturedLog(level);
}

/** Matches a refusal line by its code, and optionally by a piece of its reason. */
export const refusal = (code: string, reasonPart?: string) => (l: LogLine): boolean =>
  l.code === code && (reasonPart === undefined || String(l.reason ?? l.msg ?? '').includes(reasonPart));

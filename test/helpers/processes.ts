import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../shared/logging/logger.js';
import { omniglotDir, repoRoot, testCacheDir } from './fixtures.js';

/** A JSON log line as pino writes it. */
export type LogLine = Record<string, unknown> & { readonly msg?: string; readonly time?: number };

/** Log lines collected in order, with a way to wait for one. */
export class LineLog {
  readonly lines: LogLine[] = [];
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];

  push(line: LogLine): void {
    this.lines.push(line);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(line)) return true;
      w.resolve(line);
      return false;
    });
  }

  /** The first line (already seen or still to come) matching `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ pred, resolve: (l) => {
        clearTimeout(timer);
        resolve(l);
      } });
    });
  }

  matching(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }
}

/** An in-memory pino logger: every line parsed into `lines.lines`, stamped with performance.now() as `at`. */
export function captureLogger(level = 'info'): { log: Logger; lines: LineLog } {
  const lines = new LineLog();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim() === '') continue;
        if (process.env['TEST_LOGS']) process.stderr.write(`${text}\n`);
        lines.push({ ...(JSON.parse(text) as LogLine), at: performance.now() });
      }
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}

export const CLI = path.join(repoRoot, 'dist', 'scripts', 'cli.js');

/** Flags that load the same Omniglot subset as `omniglotSubset(alphabets)` in the test process. */
export function dataArgs(alphabets: number): string[] {
  return [`--data-dir=${omniglotDir}`, `--cache-dir=${testCacheDir}`, `--alphabets=${alphabets}`, '--no-download'];
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** stderr JSON log lines (pino), stamped with the test process's performance.now() as `at`. */
  readonly log: LineLog;
  readonly stdout: string[];
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
}

/** `node dist/scripts/cli.js <args>` with its log lines parsed as they arrive. */
export function spawnCli(args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = new LineLog();
  const stdout: string[] = [];
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      try {
        log.push({ ...(JSON.parse(text) as LogLine), at: performance.now() });
      } catch {
        log.push({ msg: text, raw: true, at: performance.now() });
      }
    }
  });
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return { child, log, stdout, exited };
}

/** Kills what is still running, for `finally` blocks. */
export async function reap(processes: readonly CliProcess[]): Promise<void> {
  for (const p of processes) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
  await Promise.all(processes.map((p) => p.exited));
}

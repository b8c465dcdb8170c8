import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { LineLog, type LogLine } from './log-capture.js';
import { omniglotDir, repoRoot, scratchCwd, testCacheDir } from './fixtures.js';

export { LineLog };

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

/** `node dist/scripts/cli.js <args>` with its log lines parsed as they arrive; `env` replaces the environment. */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  return spawnNode(CLI, args, env);
}

/** `node <script> <args>` (a compiled script under dist/) with its stderr log lines parsed as they arrive. */
export function spawnNode(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: scratchCwd(), env });
  const log = new LineLog();
  const stdout: string[] = [];
  let partial = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      try {
        log.push(JSON.parse(text) as LogLine);
      } catch {
        log.push({ msg: text, raw: true });
      }
    }
  });
  child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  return { child, log, stdout, exited };
}

export interface CliExit {
  /** The exit code, or the signal's name when it was killed (e.g. past its timeout). */
  readonly code: number | string;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) past this; 120 s unless told. */
  readonly timeoutMs?: number;
  /** Run inside this network namespace (`ip netns exec`). */
  readonly netns?: string;
  /** Sees the child as soon as it starts, e.g. to kill it if the test ends first. */
  readonly onSpawn?: (child: ChildProcess) => void;
}

/** Runs `node dist/scripts/cli.js <args>` to its end and collects its output; never rejects on a non-zero exit. */
export function runCli(args: readonly string[], o: CliRunOptions = {}): Promise<CliExit> {
  const argv = [CLI, ...args];
  const child = o.netns
    ? spawn('ip', ['netns', 'exec', o.netns, process.execPath, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], cwd: scratchCwd(), env: { ...process.env, ...o.env } })
    : spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: scratchCwd(), env: { ...process.env, ...o.env } });
  o.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 120_000);
  return new Promise((resolve) => child.once('close', (code, signal) => {
    clearTimeout(timer);
    resolve({ code: code ?? signal ?? -1, stdout, stderr });
  }));
}

/** Kills what is still running, for `finally` blocks. */
export async function reap(processes: readonly CliProcess[]): Promise<void> {
  for (const p of processes) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
  await Promise.all(processes.map((p) => p.exited));
}

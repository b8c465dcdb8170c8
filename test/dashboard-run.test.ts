import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { RunEvent } from '../coordinator/observe/run-events.js';
import type { RunViewState } from '../coordinator/observe/run-view.js';
import type { TraceEvent } from '../coordinator/observe/trace-writer.js';
import { family, parseExposition } from './helpers/prometheus-text.js';
import { dataArgs, reap, spawnCli, type CliProcess } from './helpers/processes.js';
import { readTfEventsFile } from './helpers/tfevents-reader.js';

/**
 * One real run watched from outside: `train --workers 2` through the CLI (a real coordinator and two real worker
 * processes over ZeroMQ), its dashboard opened in Debian's chromium (headless, driven by puppeteer-core), its
 * /metrics parsed, one worker killed mid-run; then the files it left: the step trace, TensorBoard scalars, and the
 * dashboard served again from the run folder.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const TRACE = { from: 3, to: 6 };

let dir = '';
let runDir = '';
let train: CliProcess | undefined;
let base = '';
const processes: CliProcess[] = [];

async function state(): Promise<RunViewState> {
  const body = (await (await fetch(`${base}/api/state`)).json()) as { state: RunViewState };
  return body.state;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test.before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dashboard-run-'));
  runDir = path.join(dir, 'run');
  // Four epochs of 49 steps: long enough to watch; the test stops it (SIGINT) once it has seen what it needs.
  train = spawnCli(['train', '--workers=2', ...dataArgs(2), '--batch-size=16', '--epochs=4', `--run-dir=${runDir}`,
    '--dashboard=127.0.0.1:0', `--trace-steps=${TRACE.from}:${TRACE.to}`, '--heartbeat-ms=250', '--worker-timeout=6', '--log-level=info']);
  processes.push(train);
  const started = train;
  const line = await Promise.race([started.log.waitFor((l) => l.component === 'observe' && typeof l['url'] === 'string', 90_000),
    started.exited.then((code) => {
      throw new Error(`train exited (${code}) before its dashboard listened:\n${started.log.lines.slice(-5).map((l) => JSON.stringify(l)).join('\n')}`);
    })]);
  base = String(line['url']).replace(/\/$/, '');
});

test.after.always(async () => {
  await reap(processes);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test.serial('/metrics during the run is valid Prometheus text with per-worker series', async (t) => {
  // Both workers must have computed a shard: the end-time planner may leave one out of a step or two at the start.
  await until('two workers with shards and three steps', async () => {
    const s = await state();
    const computed = s.workers.filter((w) => w.state === 'ready' && (w.shardSamples ?? 0) > 0 && w.phases !== undefined);
    return s.steps.length >= 3 && computed.length === 2 ? s : undefined;
  });
  const response = await fetch(`${base}/metrics`);
  t.regex(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const families = parseExposition(await response.text());
  const workersOf = (name: string) => [...new Set(family(families, name).samples.map((m) => m.labels['worker']))].sort();
  t.deepEqual(workersOf('omniglot_ddp_worker_samples_total'), ['local-1', 'local-2']);
  t.true(workersOf('omniglot_ddp_bytes_total').includes('local-2'));
  t.deepEqual(workersOf('omniglot_ddp_worker_phase_duration_seconds'), ['local-1', 'local-2']);
  t.is(family(families, 'omniglot_ddp_live_workers').samples[0]?.value, 2);
  t.true((family(families, 'omniglot_ddp_steps_total').samples[0]?.value ?? 0) >= 3);
  t.is(family(families, 'omniglot_ddp_step_duration_seconds').type, 'histogram');
  const heads = [...new Set(family(families, 'omniglot_ddp_loss').samples.map((m) => m.labels['head']))].sort();
  t.deepEqual(heads, ['alphabet', 'character']);
});

test.serial('the dashboard in chromium: curves grow, a killed worker shows as lost with its events', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`no browser at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`);
    return;
  }
  let browser: Browser | undefined;
  try {
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page: Page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewport({ width: 1400, height: 1100 });
    await page.goto(`${base}/`, { waitUntil: 'load' });
    const points = (): Promise<number> => page.$eval('#chart-loss path[data-series="alphabet step"]', (p) => Number(p.getAttribute('data-points')));
    await page.waitForSelector('#chart-loss path[data-series="alphabet step"]', { timeout: 60_000 });
    const first = await points();
    await page.waitForFunction((n: number) => Number(document.querySelector('#chart-loss path[data-series="alphabet step"]')?.getAttribute('data-points')) >= n + 3,
      { timeout: 60_000, polling: 200 }, first);
    t.true((await points()) > first, 'the loss curve grows as steps pass');
    t.true(Number(await page.$eval('#chart-accuracy path[data-series="character step"]', (p) => p.getAttribute('data-points'))) > first);
    await page.waitForSelector('tr[data-worker="local-1"][data-state="ready"]');
    await page.waitForSelector('tr[data-worker="local-2"][data-state="ready"]');
    t.regex(await page.$eval('#straggler', (p) => p.textContent ?? ''), /^Straggler: local-[12], computed/);

    // Let the first epoch finish so the test curves have a point, then kill a worker mid-run.
    await page.waitForSelector('#events li[data-kind="epoch"]', { timeout: 120_000 });
    await page.waitForSelector('tr[data-worker="local-2"][data-state="ready"]', { timeout: 30_000 });
    const victim = (await state()).workers.find((w) => w.name === 'local-2');
    t.truthy(victim && victim.pid > 0);
    // On a loaded machine a busy worker may have been declared lost (and rejoined) already: count only what follows the kill.
    const lostBefore = await page.$$eval('#events li[data-kind="worker-lost"][data-worker="local-2"]', (l) => l.length);
    process.kill(victim!.pid, 'SIGKILL');
    await page.waitForFunction((n: number) => document.querySelectorAll('#events li[data-kind="worker-lost"][data-worker="local-2"]').length > n
      && document.querySelector('tr[data-worker="local-2"]')?.getAttribute('data-state') === 'lost', { timeout: 60_000, polling: 200 }, lostBefore);
    t.regex(await page.$eval('tr[data-worker="local-2"] td.state', (c) => c.textContent ?? ''), /lost \(ERR_WORKER_LOST\)/);
    t.regex(await page.$eval('#events li[data-kind="worker-lost"][data-worker="local-2"]', (c) => c.textContent ?? ''), /local-2 lost \[ERR_WORKER_LOST\]/);
    t.truthy(await page.$('#events li[data-kind="worker-joined"][data-worker="local-2"]'));
    t.is(await page.$eval('tr[data-worker="local-1"]', (r) => r.getAttribute('data-state')), 'ready');
    // Training goes on with the other worker: the curve keeps growing.
    const atLoss = await points();
    await page.waitForFunction((n: number) => Number(document.querySelector('#chart-loss path[data-series="alphabet step"]')?.getAttribute('data-points')) > n,
      { timeout: 60_000, polling: 200 }, atLoss);
    t.truthy(await page.$('#chart-accuracy path[data-series="alphabet test"]'));
    const shot = path.join(runDir, 'dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.true(existsSync(shot));
    const keep = process.env['DASHBOARD_SCREENSHOT'];
    if (keep) await copyFile(shot, keep);
    t.deepEqual(errors, []);
  } finally {
    await browser?.close();
  }
  // Stop the run: what follows reads the files it leaves.
  train!.child.kill('SIGINT');
  t.is(await train!.exited, 0);
});

test.serial('the trace of the 2-worker steps is valid trace-event JSON with a coordinator track and one per worker', async (t) => {
  const doc = JSON.parse(await readFile(path.join(runDir, 'trace.json'), 'utf8')) as { traceEvents: TraceEvent[] };
  t.true(Array.isArray(doc.traceEvents));
  for (const e of doc.traceEvents) {
    t.true(typeof e.name === 'string' && (e.ph === 'X' || e.ph === 'M') && Number.isInteger(e.pid) && Number.isInteger(e.tid), JSON.stringify(e));
    if (e.ph === 'X') t.true(Number.isFinite(e.ts) && e.ts! >= 0 && Number.isFinite(e.dur) && e.dur! >= 0, JSON.stringify(e));
  }
  const tracks = new Map(doc.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.tid, String(e.args?.['name'])]));
  t.deepEqual([...tracks.values()].sort(), ['coordinator', 'local-1', 'local-2']);
  const spans = doc.traceEvents.filter((e) => e.ph === 'X');
  t.true(spans.every((e) => tracks.has(e.tid)), 'every span is on a named track');
  const onTrack = (name: string) => spans.filter((e) => tracks.get(e.tid) === name);
  t.deepEqual(onTrack('coordinator').filter((e) => e.name.startsWith('step ')).map((e) => e.name),
    Array.from({ length: TRACE.to - TRACE.from + 1 }, (_, i) => `step ${TRACE.from + i}`));
  for (const worker of ['local-1', 'local-2']) t.true(onTrack(worker).some((e) => e.name === 'compute'), worker);
});

test.serial('TensorBoard scalars of the run read back with the independent reader and agree with events.jsonl', async (t) => {
  const files = (await readdir(runDir)).filter((f) => f.startsWith('events.out.tfevents.'));
  t.is(files.length, 1);
  const records = await readTfEventsFile(path.join(runDir, files[0]!));
  t.is(records[0]?.fileVersion, 'brain.Event:2');
  const logged = (await readFile(path.join(runDir, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
  const steps = logged.filter((e): e is Extract<RunEvent, { kind: 'step' }> => e.kind === 'step');
  const loss = records.flatMap((r) => r.scalars.filter((s) => s.tag === 'loss/alphabet/step').map((s) => [r.step, s.value] as const));
  t.is(loss.length, steps.length);
  loss.forEach(([step, value], i) => {
    t.is(step, steps[i]!.globalStep);
    t.true(Math.abs(value - steps[i]!.heads[0]!.loss) < 1e-5 * Math.max(1, value));
  });
  const epoch = logged.find((e): e is Extract<RunEvent, { kind: 'epoch' }> => e.kind === 'epoch');
  const testAccuracy = records.flatMap((r) => r.scalars.filter((s) => s.tag === 'accuracy/character/test').map((s) => [r.step, s.value] as const));
  t.is(testAccuracy[0]?.[0], epoch?.globalStep);
  t.true(Math.abs(testAccuracy[0]![1] - epoch!.test.find((h) => h.head === 'character')!.accuracy) < 1e-6);
});

test.serial('`dashboard <run folder>` serves the same view of the finished run', async (t) => {
  const replay = spawnCli(['dashboard', runDir, '--dashboard=127.0.0.1:0', '--log-level=info']);
  processes.push(replay);
  const line = await replay.log.waitFor((l) => l.msg === 'serving a finished run', 30_000);
  const url = String(line['url']).replace(/\/$/, '');
  const body = (await (await fetch(`${url}/api/state`)).json()) as { mode: string; state: RunViewState };
  t.is(body.mode, 'replay');
  const logged = (await readFile(path.join(runDir, 'events.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as RunEvent);
  t.is(body.state.steps.length, logged.filter((e) => e.kind === 'step').length);
  t.like(body.state.workers.find((w) => w.name === 'local-2'), { state: 'lost', goneCode: 'ERR_WORKER_LOST' });
  t.is(body.state.ended, 'coordinator closed');
  const families = parseExposition(await (await fetch(`${url}/metrics`)).text());
  t.is(family(families, 'omniglot_ddp_steps_total').samples[0]?.value, body.state.steps.length);
  t.is((await fetch(`${url}/`)).status, 200);
  replay.child.kill('SIGINT');
  t.is(await replay.exited, 0);
});

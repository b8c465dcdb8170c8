import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import test from 'ava';
import { DashboardServer } from '../coordinator/dashboard/dashboard-server.js';
import { RunMetrics } from '../coordinator/observe/prometheus-metrics.js';
import { RunEventBus } from '../coordinator/observe/run-events.js';
import { RunView } from '../coordinator/observe/run-view.js';
import { family, parseExposition } from './helpers/prometheus-text.js';
import { spawnCli } from './helpers/processes.js';

const TOKEN = 'test-token-1234';

async function serve(token?: string): Promise<{ server: DashboardServer; bus: RunEventBus; base: string }> {
  const bus = new RunEventBus();
  const view = new RunView();
  const metrics = new RunMetrics();
  bus.subscribe((e) => view.observe(e));
  bus.subscribe((e) => metrics.observe(e));
  const server = await DashboardServer.start({ listen: { host: '127.0.0.1', port: 0 }, ...(token ? { token } : {}) },
    { view, metrics, subscribe: (l) => bus.subscribe(l), mode: 'live' });
  return { server, bus, base: `http://127.0.0.1:${server.port}` };
}

test('read-only, no path escapes, and the page modules it loads are served', async (t) => {
  const { server, base } = await serve();
  try {
    const page = await fetch(`${base}/`);
    t.is(page.status, 200);
    const html = await page.text();
    t.regex(html, /<script type="module" src="\/coordinator\/dashboard\/page\/app\.js">/);
    t.false(/https?:\/\//.test(html.replace(/xmlns="[^"]*"/g, '')), 'the page loads nothing from outside');
    for (const module of ['/coordinator/dashboard/page/app.js', '/coordinator/dashboard/page/line-chart.js', '/coordinator/observe/run-view.js',
      '/coordinator/observe/straggler.js', '/coordinator/observe/run-events.js']) {
      const r = await fetch(`${base}${module}`);
      t.is(r.status, 200, module);
      t.regex(r.headers.get('content-type') ?? '', /javascript/);
    }
    t.is((await fetch(`${base}/`, { method: 'POST', body: 'x' })).status, 405);
    t.is((await fetch(`${base}/api/state`, { method: 'DELETE' })).status, 405);
    // fetch() normalizes '..' away; a raw request does not.
    const status = await new Promise<number>((resolve, reject) => {
      request(`${base}/coordinator/observe/../../package.json`, (res) => resolve(res.statusCode ?? 0)).on('error', reject).end();
    });
    t.is(status, 404);
    t.is((await fetch(`${base}/coordinator/observe/run-view.ts`)).status, 404);
  } finally {
    await server.close();
  }
});

test('with a token, every request needs it: query, bearer header, or the cookie the page gets', async (t) => {
  const { server, base } = await serve(TOKEN);
  try {
    t.is((await fetch(`${base}/`)).status, 401);
    t.is((await fetch(`${base}/metrics`)).status, 401);
    t.is((await fetch(`${base}/metrics`, { headers: { authorization: 'Bearer wrong-token-xxx' } })).status, 401);
    t.is((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    const page = await fetch(`${base}/?token=${TOKEN}`);
    t.is(page.status, 200);
    const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0]!;
    t.regex(cookie, /^omniglot_ddp_token=/);
    t.is((await fetch(`${base}/api/state`, { headers: { cookie } })).status, 200);
    t.true(server.url.endsWith(`/?token=${TOKEN}`));
  } finally {
    await server.close();
  }
});

test('a dashboard address already in use is a clear error', async (t) => {
  const { server } = await serve();
  try {
    await t.throwsAsync(DashboardServer.start({ listen: { host: '127.0.0.1', port: server.port } },
      { view: new RunView(), metrics: new RunMetrics(), mode: 'live' }), { code: 'ERR_BAD_CONFIG', message: /^--dashboard 127\.0\.0\.1:\d+: cannot listen \(.*EADDRINUSE/ });
  } finally {
    await server.close();
  }
});

test('server-sent events: a snapshot, then events as they are emitted; /metrics follows the stream', async (t) => {
  const { server, bus, base } = await serve();
  try {
    bus.emit({ kind: 'worker-joined', worker: 'local-1', id: 'w1', host: 'h', pid: 1, backend: 'wasm' });
    const controller = new AbortController();
    const response = await fetch(`${base}/api/events`, { signal: controller.signal });
    t.is(response.headers.get('content-type'), 'text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    const readUntil = async (pattern: RegExp): Promise<void> => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        text += Buffer.from(value).toString('utf8');
      }
    };
    await readUntil(/event: snapshot\ndata: .*\n\n/);
    t.regex(text, /"name":"local-1"/);
    bus.emit({ kind: 'step', epoch: 0, stepInEpoch: 1, stepsPerEpoch: 5, globalStep: 1, samples: 8, stepMs: 12, learningRate: 0.01,
      lossWeights: { alphabet: 1 }, heads: [{ head: 'alphabet', loss: 2, accuracy: 0.5 }], workers: 1,
      shards: [{ worker: 'local-1', samples: 8, computeMs: 9, arrivedAtMs: 1 }] });
    bus.emit({ kind: 'wire', direction: 'in', bytes: 100, worker: 'local-1' });
    bus.emit({ kind: 'worker-lost', worker: 'local-1', id: 'w1', code: 'ERR_WORKER_LOST', tasks: 0 });
    await readUntil(/"kind":"worker-lost"/);
    t.regex(text, /event: run\ndata: \{"kind":"step"/);
    t.false(text.includes('"kind":"wire"'), 'socket traffic stays off the page stream');
    controller.abort();

    const families = parseExposition(await (await fetch(`${base}/metrics`)).text());
    t.deepEqual(family(families, 'omniglot_ddp_worker_samples_total').samples.map((m) => [m.labels['worker'], m.value]), [['local-1', 8]]);
    t.deepEqual(family(families, 'omniglot_ddp_bytes_total').samples.map((m) => [m.labels, m.value]), [[{ direction: 'received', worker: 'local-1' }, 100]]);
    t.is(family(families, 'omniglot_ddp_live_workers').samples[0]?.value, 0);
    t.is(family(families, 'omniglot_ddp_worker_losses_total').samples[0]?.labels['code'], 'ERR_WORKER_LOST');
    const compute = family(families, 'omniglot_ddp_worker_phase_duration_seconds').samples.find((m) => m.name.endsWith('_sum'));
    t.deepEqual([compute?.labels, compute?.value], [{ worker: 'local-1', phase: 'compute' }, 0.009]);
    // The parser is strict: it can fail.
    t.throws(() => parseExposition('omniglot_x 1\n'), { message: /no TYPE/ });
    t.throws(() => parseExposition('# TYPE c counter\nc 1\n'), { message: /without _total/ });
    t.throws(() => parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'), { message: /not cumulative/ });
  } finally {
    await server.close();
  }
});

test('train refuses a non-loopback dashboard without a token before loading anything', async (t) => {
  // An empty data folder: were the flag checked after the dataset, the error would be about the missing zip.
  const empty = await mkdtemp(path.join(tmpdir(), 'ddp-no-data-'));
  const cli = spawnCli(['train', '--dashboard=0.0.0.0:0', `--data-dir=${empty}`, '--no-download']);
  t.is(await cli.exited, 2);
  t.regex(cli.log.lines.map((l) => l.msg).join('\n'), /refusing to serve the dashboard on 0\.0\.0\.0:0 without --dashboard-token: anyone who reaches it could read the run \[ERR_INSECURE_BIND\]/);
  const bad = spawnCli(['coordinator', '--trace-steps=5']);
  t.is(await bad.exited, 2);
  t.regex(bad.log.lines.map((l) => l.msg).join('\n'), /--trace-steps: '5' is not A:B/);
});

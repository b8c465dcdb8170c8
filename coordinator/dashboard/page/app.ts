import type { RunEvent } from '../../observe/run-events.js';
import { RunView, STRAGGLER_WINDOW, type RunViewState, type WorkerRow } from '../../observe/run-view.js';
import { drawLineChart, type ChartSeries } from './line-chart.js';

/**
 * The dashboard page: a snapshot of the run's view from /api/events, then each event folded in with the same
 * RunView the server uses. Read-only: it only draws.
 */
const HEAD_COLORS: readonly string[] = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
const RENDER_EVERY_MS = 250;

let view = new RunView();
let mode: 'live' | 'replay' = 'live';
let connected = false;
let renderTimer: number | undefined;

function byId<T extends Element>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`page is missing #${id}`);
  return node as unknown as T;
}

function heads(state: RunViewState): string[] {
  return state.meta ? [...state.meta.heads] : Object.keys(state.steps[0]?.loss ?? {});
}

function perHead(state: RunViewState, pick: 'loss' | 'accuracy'): ChartSeries[] {
  return heads(state).flatMap((head, i) => {
    const color = HEAD_COLORS[i % HEAD_COLORS.length]!;
    const epochs = (split: 'train' | 'test') => state.epochs.map((e) => [e.globalStep, e[split].find((h) => h.head === head)?.[pick] ?? Number.NaN] as const);
    return [
      { name: `${head} step`, color, width: 0.8, points: state.steps.map((s) => [s.globalStep, s[pick][head] ?? Number.NaN] as const) },
      { name: `${head} train`, color, dashed: true, markers: true, width: 2, points: epochs('train') },
      { name: `${head} test`, color, markers: true, width: 2.5, points: epochs('test') },
    ];
  });
}

function drawCharts(state: RunViewState): void {
  drawLineChart(byId('chart-loss'), { title: 'Loss per head (cross-entropy)', xLabel: 'global step', series: perHead(state, 'loss') });
  drawLineChart(byId('chart-accuracy'), { title: 'Accuracy per head', xLabel: 'global step', yRange: [0, 1], series: perHead(state, 'accuracy') });
  drawLineChart(byId('chart-lr'), { title: 'Learning rate', xLabel: 'global step',
    series: [{ name: 'lr', color: '#444', points: state.steps.map((s) => [s.globalStep, s.learningRate] as const) }] });
  drawLineChart(byId('chart-weights'), { title: 'Effective loss weights', xLabel: 'global step',
    series: heads(state).map((head, i) => ({ name: head, color: HEAD_COLORS[i % HEAD_COLORS.length]!,
      points: state.steps.map((s) => [s.globalStep, s.lossWeights[head] ?? Number.NaN] as const) })) });
  drawLineChart(byId('chart-step'), { title: 'Step time (ms)', xLabel: 'global step',
    series: [{ name: 'step', color: '#8c564b', points: state.steps.map((s) => [s.globalStep, s.stepMs] as const) }] });
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function ms(v: number | undefined): string {
  return v === undefined ? '—' : `${v < 10 ? v.toFixed(1) : v.toFixed(0)} ms`;
}

/** A stacked bar of the worker's phases (only compute until the workers report their phase timers). */
function phaseCell(w: WorkerRow): HTMLTableCellElement {
  const td = document.createElement('td');
  const phases = Object.entries(w.phases ?? (w.computeMs !== undefined ? { compute: w.computeMs } : {}))
    .filter((kv): kv is [string, number] => typeof kv[1] === 'number' && kv[1] > 0);
  const total = phases.reduce((s, [, v]) => s + v, 0);
  const bar = document.createElement('div');
  bar.className = 'phase-bar';
  for (const [name, v] of phases) {
    const seg = document.createElement('span');
    seg.className = `phase phase-${name}`;
    seg.style.width = `${(100 * v) / Math.max(total, 1e-9)}%`;
    seg.title = `${name} ${ms(v)}`;
    bar.append(seg);
  }
  const label = document.createElement('div');
  label.className = 'phase-label';
  label.textContent = phases.map(([n, v]) => `${n} ${ms(v)}`).join(' · ') || '—';
  td.append(bar, label);
  return td;
}

function drawWorkers(state: RunViewState): void {
  const body = byId<HTMLTableSectionElement>('workers-body');
  body.replaceChildren(...state.workers.map((w) => {
    const tr = document.createElement('tr');
    tr.dataset['worker'] = w.name;
    tr.dataset['state'] = w.state;
    const isStraggler = state.straggler?.worker === w.name && w.state === 'ready';
    if (isStraggler) tr.classList.add('straggler');
    const refusals = Object.entries(w.refusals).map(([code, n]) => `${code}×${n}`).join(', ');
    const faults = Math.max(w.faults, Object.values(w.refusals).reduce((s, n) => s + n, 0));
    tr.append(cell(w.name, 'name'), cell(w.host || '—'), cell(w.backend || '—'),
      cell(w.state + (w.goneCode ? ` (${w.goneCode})` : ''), `state state-${w.state}`),
      cell(w.shardSamples === undefined ? '—' : String(w.shardSamples), 'num'),
      cell(w.samplesPerSecond === undefined ? '—' : `${w.samplesPerSecond.toFixed(0)}/s`, 'num'),
      cell(w.state !== 'ready' || w.silentMs === undefined ? '—' : `${(w.silentMs / 1000).toFixed(1)} s`, 'num'),
      cell(faults === 0 ? '0' : `${faults}${refusals ? ` (${refusals})` : ''}`, faults > 0 ? 'num warn' : 'num'),
      phaseCell(w),
      cell(isStraggler ? `◀ straggler (${w.straggled}/${STRAGGLER_WINDOW})` : w.straggled > 0 ? `${w.straggled}/${STRAGGLER_WINDOW}` : '', 'straggled'));
    return tr;
  }));
  const s = state.straggler;
  byId('straggler').textContent = s
    ? `Straggler: ${s.worker}, computed ${ms(s.computeMs)} in step ${s.globalStep}, ${ms(s.aheadOfMedianMs)} more than the others' median`
    : 'Straggler: none (needs two workers or more)';
}

function drawEvents(state: RunViewState): void {
  const list = byId<HTMLOListElement>('events');
  list.replaceChildren(...[...state.events].reverse().map((e) => {
    const li = document.createElement('li');
    li.dataset['kind'] = e.kind;
    if (e.worker !== undefined) li.dataset['worker'] = e.worker;
    const time = document.createElement('time');
    time.textContent = new Date(e.at).toLocaleTimeString();
    li.append(time, document.createTextNode(` ${e.text}`));
    return li;
  }));
}

function drawHeader(state: RunViewState): void {
  const m = state.meta;
  const last = state.lastStep;
  byId('run-meta').textContent = [
    m ? `${m.model}, global batch ${m.globalBatch}` : 'waiting for the run',
    last ? `epoch ${last.epoch + 1}/${m?.epochs ?? '?'}, step ${last.stepInEpoch}/${last.stepsPerEpoch} (global ${last.globalStep})` : '',
    last ? `last step ${ms(last.stepMs)}` : '',
    m?.runDir ? `folder ${m.runDir}` : '',
  ].filter((s) => s !== '').join(' · ');
  const status = byId('status');
  const text = state.ended !== undefined ? `ended: ${state.ended}` : mode === 'replay' ? 'finished run (replay)' : connected ? 'live' : 'reconnecting…';
  status.textContent = text;
  status.className = `status ${state.ended !== undefined || mode === 'replay' ? 'ended' : connected ? 'live' : 'down'}`;
}

function render(): void {
  renderTimer = undefined;
  const state = view.state;
  drawHeader(state);
  drawCharts(state);
  drawWorkers(state);
  drawEvents(state);
  document.body.dataset['steps'] = String(state.steps.length);
}

function scheduleRender(): void {
  renderTimer ??= window.setTimeout(render, RENDER_EVERY_MS);
}

const source = new EventSource('/api/events');
source.addEventListener('snapshot', (m: MessageEvent<string>) => {
  const data = JSON.parse(m.data) as { mode: 'live' | 'replay'; state: RunViewState };
  view = new RunView(data.state);
  mode = data.mode;
  connected = true;
  render();
});
source.addEventListener('run', (m: MessageEvent<string>) => {
  view.observe(JSON.parse(m.data) as RunEvent);
  scheduleRender();
});
source.addEventListener('error', () => {
  connected = false;
  scheduleRender();
});

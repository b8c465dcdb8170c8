/** Hand-drawn SVG line charts for the dashboard page (no chart library: the page loads nothing from outside). */

export interface ChartSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
  readonly dashed?: boolean;
  /** Draw a dot at each point (sparse series such as per-epoch figures). */
  readonly markers?: boolean;
  readonly width?: number;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly series: readonly ChartSeries[];
  readonly yRange?: readonly [number, number];
}

const SVG = 'http://www.w3.org/2000/svg';
const W = 460;
const H = 240;
const PAD = { left: 52, right: 12, top: 50, bottom: 34 };
/** Long runs have many steps; a polyline of this many points draws as fast and looks the same. */
const MAX_POINTS = 1500;

function el<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function thin(points: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  if (points.length <= MAX_POINTS) return [...points];
  const stride = points.length / MAX_POINTS;
  const out: (readonly [number, number])[] = [];
  for (let i = 0; i < MAX_POINTS; i++) out.push(points[Math.floor(i * stride)]!);
  out.push(points[points.length - 1]!);
  return out;
}

function ticks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => span / s <= count) ?? step * 10;
  const out: number[] = [];
  for (let v = Math.ceil(min / nice) * nice; v <= max + nice * 1e-9; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

function format(v: number): string {
  return Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : String(Number(v.toPrecision(3)));
}

/** Draws the chart into `svg` (replacing what was there). Each series' path carries data-series and data-points. */
export function drawLineChart(svg: SVGSVGElement, spec: ChartSpec): void {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.append(el('text', { x: PAD.left, y: 16, class: 'chart-title' }, spec.title));
  const all = spec.series.flatMap((s) => s.points);
  if (all.length === 0) {
    svg.append(el('text', { x: W / 2, y: H / 2, class: 'chart-empty', 'text-anchor': 'middle' }, 'waiting for the first step'));
    return;
  }
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y).filter(Number.isFinite);
  const [x0, x1] = [Math.min(...xs), Math.max(Math.max(...xs), Math.min(...xs) + 1)];
  let [y0, y1] = spec.yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (y1 - y0 < 1e-12) {
    // A constant series (a fixed learning rate): centre it in a band of +-50% of its value.
    const pad = Math.abs(y0) * 0.5 || 0.5;
    [y0, y1] = [y0 - pad, y1 + pad];
  }
  const px = (x: number): number => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const py = (y: number): number => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  for (const t of ticks(y0, y1, 5)) {
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: py(t), y2: py(t), class: 'grid' }),
      el('text', { x: PAD.left - 6, y: py(t) + 4, 'text-anchor': 'end', class: 'tick' }, format(t)));
  }
  for (const t of ticks(x0, x1, 6)) {
    svg.append(el('text', { x: px(t), y: H - PAD.bottom + 16, 'text-anchor': 'middle', class: 'tick' }, format(t)));
  }
  svg.append(el('text', { x: W - PAD.right, y: H - 4, 'text-anchor': 'end', class: 'axis-label' }, spec.xLabel));
  let legend = { x: PAD.left, y: 32 };
  for (const s of spec.series) {
    if (s.points.length === 0) continue;
    const d = thin(s.points).filter(([, y]) => Number.isFinite(y)).map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
    svg.append(el('path', { d, stroke: s.color, fill: 'none', 'stroke-width': s.width ?? 1.5, ...(s.dashed ? { 'stroke-dasharray': '5 3' } : {}),
      'data-series': s.name, 'data-points': s.points.length }));
    if (s.markers) for (const [x, y] of s.points) svg.append(el('circle', { cx: px(x), cy: py(y), r: 3, fill: s.color }));
    const width = 24 + s.name.length * 5.6;
    if (legend.x + width > W) legend = { x: PAD.left, y: legend.y + 12 };
    svg.append(el('line', { x1: legend.x, x2: legend.x + 14, y1: legend.y - 4, y2: legend.y - 4, stroke: s.color, 'stroke-width': 2,
      ...(s.dashed ? { 'stroke-dasharray': '4 2' } : {}) }), el('text', { x: legend.x + 17, y: legend.y, class: 'legend' }, s.name));
    legend = { x: legend.x + width, y: legend.y };
  }
}

/**
 * A small strict parser of the Prometheus text exposition format (version 0.0.4), for tests: every line must be a
 * HELP, a TYPE or a sample of a declared family; label values are unescaped; a histogram's buckets must be
 * cumulative, end with le="+Inf", and agree with its _count. @throws Error naming the first bad line.
 */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(?:,|$)/;

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`${where}: '${text}' is not a number`);
  return Number(text);
}

function parseLabels(text: string, where: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest !== '') {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`${where}: bad labels '${text}'`);
    if (m[1]! in labels) throw new Error(`${where}: label ${m[1]} twice`);
    labels[m[1]!] = m[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
  }
  return labels;
}

function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact) return exact;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const f = families.get(base);
  return f && (f.type === 'histogram' || f.type === 'summary') ? f : undefined;
}

function checkHistogram(f: Family): void {
  const series = new Map<string, Sample[]>();
  for (const s of f.samples.filter((x) => x.name === `${f.name}_bucket`)) {
    const { le, ...rest } = s.labels;
    if (le === undefined) throw new Error(`${f.name}: bucket without le`);
    const key = JSON.stringify(rest);
    series.set(key, [...(series.get(key) ?? []), s]);
  }
  for (const [key, buckets] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${f.name}${key}: buckets are not cumulative`);
    }
    const last = buckets[buckets.length - 1]!;
    if (last.labels['le'] !== '+Inf') throw new Error(`${f.name}${key}: last bucket is not le="+Inf"`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(s.labels) === key);
    if (count?.value !== last.value) throw new Error(`${f.name}${key}: _count ${count?.value} differs from the +Inf bucket ${last.value}`);
  }
}

export function parseExposition(text: string): Family[] {
  const families = new Map<string, Family>();
  text.split('\n').forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m || !NAME.test(m[2]!)) throw new Error(`${where}: bad comment '${line}'`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!)) throw new Error(`${where}: bad type '${m[3]}'`);
        if (families.has(m[2]!) && families.get(m[2]!)!.samples.length > 0) throw new Error(`${where}: TYPE after samples of ${m[2]}`);
        families.set(m[2]!, { name: m[2]!, type: m[3] as Family['type'], help: families.get(m[2]!)?.help ?? '', samples: [] });
      } else {
        const f = families.get(m[2]!) ?? { name: m[2]!, type: 'untyped' as const, help: '', samples: [] };
        f.help = m[3]!;
        families.set(m[2]!, f);
      }
      return;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`${where}: not a sample '${line}'`);
    const f = familyOf(m[1]!, families);
    if (!f) throw new Error(`${where}: sample of ${m[1]} with no TYPE`);
    if (f.type === 'counter' && !m[1]!.endsWith('_total') && !m[1]!.endsWith('_created')) throw new Error(`${where}: counter ${m[1]} without _total`);
    f.samples.push({ name: m[1]!, labels: parseLabels(m[2] ?? '', where), value: parseValue(m[3]!, where) });
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return [...families.values()];
}

export function family(families: readonly Family[], name: string): Family {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no metric family ${name}`);
  return found;
}

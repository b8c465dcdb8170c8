import { DdpError } from '../../shared/common/errors.js';

/** More hosts than any cluster has: a typo such as node[1-99999999] fails instead of filling memory. */
const MAX_HOSTS = 100_000;

/**
 * Expands Slurm's hostlist syntax, as `scontrol show hostnames` does: `node[01-03,07],login1` gives node01, node02,
 * node03, node07, login1. Ranges keep the zero padding of their first number; several bracket groups in one name
 * multiply (`r[1-2]n[1-2]` gives r1n1, r1n2, r2n1, r2n2). Order is kept and nothing is deduplicated, since the
 * first host is the one that matters (task 0 runs there).
 * @throws DdpError ERR_BAD_CONFIG naming `source` for unbalanced brackets, bad ranges or an empty list.
 */
export function expandHostlist(text: string, source = 'hostlist'): string[] {
  const fail = (why: string): never => {
    throw new DdpError('ERR_BAD_CONFIG', `${source}: '${text.slice(0, 200)}' is not a Slurm hostlist (${why})`);
  };
  const hosts: string[] = [];
  for (const item of splitTopLevel(text, fail)) {
    if (item === '') fail('empty host name');
    for (const host of expandItem(item, fail)) {
      hosts.push(host);
      if (hosts.length > MAX_HOSTS) fail(`more than ${MAX_HOSTS} hosts`);
    }
  }
  if (hosts.length === 0) fail('no hosts');
  return hosts;
}

/** Splits on the commas that are outside brackets. */
function splitTopLevel(text: string, fail: (why: string) => never): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '[') depth += 1;
    else if (c === ']') depth -= 1;
    if (depth < 0 || depth > 1) fail('unbalanced or nested brackets');
    if (c === ',' && depth === 0) {
      items.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  if (depth !== 0) fail('unbalanced brackets');
  items.push(text.slice(start).trim());
  return items;
}

function expandItem(item: string, fail: (why: string) => never): string[] {
  const open = item.indexOf('[');
  if (open < 0) return [item];
  const close = item.indexOf(']', open);
  const prefix = item.slice(0, open);
  const numbers = expandRanges(item.slice(open + 1, close), fail);
  const rests = expandItem(item.slice(close + 1), fail);
  return numbers.flatMap((n) => rests.map((rest) => `${prefix}${n}${rest}`));
}

/** `01-03,07` -> 01, 02, 03, 07. */
function expandRanges(body: string, fail: (why: string) => never): string[] {
  const out: string[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) fail(`bad range '${part}'`);
    const [, first = '', last] = m!;
    const from = Number(first);
    const to = last === undefined ? from : Number(last);
    if (to < from) fail(`range '${part}' runs backwards`);
    if (to - from >= MAX_HOSTS) fail(`range '${part}' is too long`);
    for (let n = from; n <= to; n++) out.push(String(n).padStart(first.length, '0'));
  }
  return out;
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { MODEL_KINDS, modelSpec } from '../shared/model/model-spec.js';
import { PROTOCOL_VERSION } from '../shared/protocol/version.js';
import { repoRoot } from './helpers/fixtures.js';

// proto/PROTOCOL.md is what a peer in another language is written from: its tensor table must be the registry's,
// so that a change to a model that forgets the page fails here.

const page = readFileSync(path.join(repoRoot, 'proto', 'PROTOCOL.md'), 'utf8');

function documentedTensors(): Map<string, { index: number; name: string; shape: number[] }[]> {
  const table = /<!-- tensors:begin -->([\s\S]*?)<!-- tensors:end -->/.exec(page)?.[1] ?? '';
  const byKind = new Map<string, { index: number; name: string; shape: number[] }[]>();
  for (const line of table.split('\n')) {
    const row = /^\| ([\w-]+) \| (\d+) \| ([\w.]+) \| \[([\d, ]+)\] \|$/.exec(line.trim());
    if (!row) continue;
    const [, kind = '', index = '', name = '', shape = ''] = row;
    const rows = byKind.get(kind) ?? [];
    rows.push({ index: Number(index), name, shape: shape.split(',').map((d) => Number(d.trim())) });
    byKind.set(kind, rows);
  }
  return byKind;
}

test('the protocol page lists every model\'s tensors in wire order, with the registry\'s names and shapes', (t) => {
  const documented = documentedTensors();
  t.deepEqual([...documented.keys()].sort(), [...MODEL_KINDS].sort(), 'one table section per model kind, no other');
  for (const kind of MODEL_KINDS) {
    const expected = modelSpec(kind).params.map((p, index) => ({ index, name: p.name, shape: [...p.shape] }));
    t.deepEqual(documented.get(kind), expected, kind);
  }
});

test('the protocol page and the .proto state the current protocol version', (t) => {
  t.regex(page, new RegExp(`today \\*\\*${PROTOCOL_VERSION}\\*\\*`));
  t.regex(readFileSync(path.join(repoRoot, 'proto', 'ddp.proto'), 'utf8'), new RegExp(`today ${PROTOCOL_VERSION}\\)`));
});

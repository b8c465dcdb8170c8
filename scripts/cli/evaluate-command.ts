import { initBackend } from '../../shared/compute/backend.js';
import { DdpError } from '../../shared/common/errors.js';
import type { OptionTable } from './options.js';
import { gatherBatch } from '../../shared/dataset/omniglot.js';
import type { HeadName } from '../../shared/model/heads.js';
import { loadExportedModel, predictExported } from '../../shared/model/export-layers.js';
import { defineCommand } from './command.js';
import { evaluationReport, formatEvaluation } from './evaluate-report.js';
import { resolveModelDir } from './model-dir.js';
import { COMMON_OPTIONS, COMPUTE_OPTIONS, DATA_OPTIONS } from './option-tables.js';
import { loadDataset } from './run-coordinator.js';

const { model: _model, ...DATA } = DATA_OPTIONS;
const TABLE = { ...COMMON_OPTIONS, ...DATA, backend: COMPUTE_OPTIONS.backend,
  'model-dir': { type: 'string', help: 'the exported model: a run folder or its model/ folder (or give it as the argument)' },
  split: { type: 'string', help: 'which split to evaluate', default: 'test', choices: ['test', 'train'] },
  top: { type: 'int', help: 'alphabet confusions to list', default: 10, min: 0 },
  json: { type: 'boolean', help: 'print the report as JSON', default: false },
} as const satisfies OptionTable;
const SUMMARY = 'Evaluate a saved model on the test split: per-head accuracy, per-alphabet accuracy and top confusions.';
const BATCH = 256;

export const evaluateCommand = defineCommand({
  name: 'evaluate',
  summary: SUMMARY,
  options: TABLE,
  positionals: 'run folder',
  async run({ values, positionals, log }) {
    if (positionals.length > 1) throw new DdpError('ERR_BAD_CONFIG', `evaluate takes one model folder, got ${positionals.length} arguments`);
    const dir = resolveModelDir(values['model-dir'], positionals[0]);
    const { tf } = await initBackend(values.backend, log);
    const data = await loadDataset(values, log);
    const split = values.split === 'train' ? data.train : data.test;
    const { model, metadata } = await loadExportedModel(tf, dir);
    const probabilities = new Map<HeadName, Float32Array>(metadata.heads.map((h) => [h, new Float32Array(0)]));
    const parts = new Map<HeadName, Float32Array[]>(metadata.heads.map((h) => [h, []]));
    for (let start = 0; start < split.size; start += BATCH) {
      const batch = gatherBatch(split, Array.from({ length: Math.min(BATCH, split.size - start) }, (_, i) => start + i));
      for (const [head, probs] of predictExported(tf, model, metadata, batch.images, batch.alphabet)) parts.get(head)?.push(probs);
    }
    model.dispose();
    for (const [head, list] of parts) {
      const all = new Float32Array(list.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of list) { all.set(p, at); at += p.length; }
      probabilities.set(head, all);
    }
    const report = evaluationReport({ probabilities, alphabet: split.alphabet, character: split.character,
      alphabets: data.alphabets, characterAlphabet: data.characterAlphabet }, values.top);
    process.stdout.write(values.json ? `${JSON.stringify({ modelDir: dir, split: values.split, ...report }, null, 2)}\n`
      : `${formatEvaluation(report, values.split)}\n`);
    return 0;
  },
});

import { readFile } from 'node:fs/promises';
import { initBackend } from '../../shared/compute/backend.js';
import type { OptionTable } from './options.js';
import { decodeInk } from '../../shared/dataset/decode-image.js';
import { inkToFloat } from '../../shared/dataset/decoded-set.js';
import { DdpError } from '../../shared/common/errors.js';
import { loadExportedModel, predictExported, takesAlphabet, type ExportMetadata } from '../../shared/model/export-layers.js';
import { IMAGE_SIZE } from '../../shared/model/batch.js';
import { defineCommand } from './command.js';
import { resolveModelDir } from './model-dir.js';
import { COMMON_OPTIONS, COMPUTE_OPTIONS } from './option-tables.js';

const TABLE = { ...COMMON_OPTIONS, backend: COMPUTE_OPTIONS.backend,
  'model-dir': { type: 'string', help: 'the exported model: a run folder or its model/ folder' },
  top: { type: 'int', help: 'how many alphabets and characters to list', default: 5, min: 1 },
  alphabet: { type: 'string', help: 'two-input model only: the known alphabet (name or index)' },
  json: { type: 'boolean', help: 'print JSON', default: false },
} as const satisfies OptionTable;
const SUMMARY = 'Predict the alphabet and character of PNG images: `predict --model-dir <run> image.png...` lists the top 5 of each.';

export interface Ranked { readonly name: string; readonly index: number; readonly probability: number }

/** The `k` most probable classes of one row, most probable first. */
export function topK(probs: Float32Array, names: readonly string[], k: number): Ranked[] {
  return [...probs].map((probability, index) => ({ name: names[index] ?? `#${index}`, index, probability }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index).slice(0, k);
}

function alphabetIndex(text: string | undefined, metadata: ExportMetadata): number | undefined {
  if (!takesAlphabet(metadata)) return undefined;
  if (text === undefined) throw new DdpError('ERR_BAD_CONFIG', 'the two-input model needs --alphabet <name or index>');
  const index = /^\d+$/.test(text) ? Number(text) : metadata.alphabets.indexOf(text);
  if (index < 0 || index >= metadata.alphabets.length) throw new DdpError('ERR_BAD_CONFIG', `--alphabet: unknown alphabet '${text}'`);
  return index;
}

export const predictCommand = defineCommand({
  name: 'predict',
  summary: SUMMARY,
  options: TABLE,
  positionals: 'image.png...',
  async run({ values, positionals, log }) {
    if (positionals.length === 0) throw new DdpError('ERR_BAD_CONFIG', 'no image: give one or more PNG files');
    const dir = resolveModelDir(values['model-dir'], undefined);
    const { tf } = await initBackend(values.backend, log);
    const { model, metadata } = await loadExportedModel(tf, dir);
    const alphabet = alphabetIndex(values.alphabet, metadata);
    const k = values.top;
    const results = [];
    for (const file of positionals) {
      // Decoded exactly as the dataset decodes its images, so the model sees what it was trained on.
      const ink = new Uint8Array(IMAGE_SIZE * IMAGE_SIZE);
      await decodeInk(await readFile(file), IMAGE_SIZE, ink, 0, file);
      const probs = predictExported(tf, model, metadata, inkToFloat(ink), Int32Array.of(alphabet ?? 0));
      const a = probs.get('alphabet');
      const c = probs.get('character');
      results.push({ file, ...(a ? { alphabets: topK(a, metadata.alphabets, k) } : {}),
        ...(c ? { characters: topK(c, metadata.characters, k) } : {}) });
    }
    model.dispose();
    if (values.json) {
      process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
      return 0;
    }
    const list = (r: readonly Ranked[]): string => r.map((x) => `    ${x.probability.toFixed(3)}  ${x.name}`).join('\n');
    for (const r of results) {
      process.stdout.write(`${r.file}\n${r.alphabets ? `  alphabets:\n${list(r.alphabets)}\n` : ''}${r.characters ? `  characters:\n${list(r.characters)}\n` : ''}`);
    }
    return 0;
  },
});

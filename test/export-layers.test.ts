import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { gatherBatch } from '../shared/dataset/omniglot.js';
import { exportLayersModel, loadExportedModel, predictExported } from '../shared/model/export-layers.js';
import { initialParams } from '../shared/model/initial-params.js';
import { ModelRunner } from '../shared/model/model-runner.js';
import { MODEL_KINDS, modelSpec } from '../shared/model/model-spec.js';
import { mulberry32 } from '../shared/common/seeded-random.js';
import { omniglotSubset, testBackend } from './helpers/fixtures.js';

for (const kind of MODEL_KINDS) {
  test.serial(`a ${kind} model exported in the layers format loads back with tf.loadLayersModel and predicts as ModelRunner`, async (t) => {
    const { tf } = await testBackend();
    const data = await omniglotSubset(2);
    const random = mulberry32(5);
    // Non-zero biases too, so a swapped kernel/bias or a wrong flatten order cannot pass.
    const params = initialParams(kind, 3).map((p) => (p.name.endsWith('.bias')
      ? { ...p, data: p.data.map(() => (random() - 0.5) * 0.2) } : p));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'export-'));
    try {
      const before = tf.memory().numTensors;
      await exportLayersModel(tf, kind, params, dir, { modelKind: kind, heads: modelSpec(kind).heads,
        alphabets: data.alphabets, characters: data.characters, epoch: 0 });
      t.is(tf.memory().numTensors, before, 'export leaks no tensors');
      const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
      t.is(json.format, 'layers-model');
      t.deepEqual(json.weightsManifest.flatMap((g) => g.paths), ['weights.bin']);

      const { model, metadata } = await loadExportedModel(tf, dir);
      const batch = gatherBatch(data.test, Array.from({ length: 24 }, (_, i) => i * 8));
      const runner = ModelRunner.create(kind, tf);
      runner.setParams(params);
      const expected = runner.predict(batch).probabilities;
      const got = predictExported(tf, model, metadata, batch.images, batch.alphabet);
      runner.dispose();
      model.dispose();
      t.deepEqual([...got.keys()], modelSpec(kind).heads);
      for (const [head, probs] of expected) {
        const other = got.get(head)!;
        t.is(other.length, probs.length);
        let worst = 0;
        for (let i = 0; i < probs.length; i++) worst = Math.max(worst, Math.abs(probs[i]! - other[i]!));
        t.true(worst < 1e-4, `${head}: max difference ${worst}`);
      }
      t.is(metadata.characters.length, data.characters.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

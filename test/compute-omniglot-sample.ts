import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { IMAGE_SIZE, type Batch } from '../shared/model/batch.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const omniglotDir = process.env['OMNIGLOT_DIR'] ?? path.resolve(repoRoot, '../shared/omniglot');

/**
 * A batch of real Omniglot images (ink = 1), read straight from the release zip so these tests do not depend on
 * the dataset loader: `count` drawings spread over the characters of one alphabet. Real images matter here: their
 * blank backgrounds make max-pool windows tie, which random data never does.
 */
export async function realOmniglotBatch(count: number, alphabet = 'Latin'): Promise<Batch> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'compute-omniglot-'));
  try {
    const zip = path.join(omniglotDir, 'images_background.zip');
    execFileSync('unzip', ['-q', '-o', zip, `images_background/${alphabet}/*`, '-d', tmp]);
    const root = path.join(tmp, 'images_background', alphabet);
    const characters = readdirSync(root).sort();
    const images = new Float32Array(count * IMAGE_SIZE * IMAGE_SIZE);
    const alphabetLabels = new Int32Array(count);
    const characterLabels = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const c = i % characters.length;
      const dir = path.join(root, characters[c] ?? '');
      const drawings = readdirSync(dir).sort();
      const file = path.join(dir, drawings[Math.floor(i / characters.length) % drawings.length] ?? '');
      const grey = await sharp(file).greyscale().resize(IMAGE_SIZE, IMAGE_SIZE, { fit: 'fill' }).raw().toBuffer();
      for (let p = 0; p < IMAGE_SIZE * IMAGE_SIZE; p++) images[i * IMAGE_SIZE * IMAGE_SIZE + p] = 1 - (grey[p] ?? 255) / 255;
      // Labels only need to be valid class indices for these checks; vary them so every head row is exercised.
      alphabetLabels[i] = (i * 7) % 30;
      characterLabels[i] = (c * 37 + i) % 964;
    }
    return { size: count, images, alphabet: alphabetLabels, character: characterLabels };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

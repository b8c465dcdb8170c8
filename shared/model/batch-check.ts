import { ALPHABET_CLASSES, CHARACTER_CLASSES } from './heads.js';
import { IMAGE_SIZE, type Batch } from './batch.js';

function checkLabels(name: string, labels: Int32Array, size: number, classes: number): void {
  if (labels.length !== size) throw new Error(`batch: ${name} has ${labels.length} labels for ${size} samples`);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] ?? -1;
    // An out-of-range label would one-hot to zeros and silently give zero loss.
    if (label < 0 || label >= classes) throw new Error(`batch: ${name} label ${label} at ${i} is outside [0, ${classes})`);
  }
}

/** Throws an Error naming the field when a batch's arrays disagree with its size or hold impossible labels. */
export function checkBatch(batch: Batch): void {
  if (!Number.isInteger(batch.size) || batch.size < 0) throw new Error(`batch: size ${batch.size} is not a count`);
  const pixels = batch.size * IMAGE_SIZE * IMAGE_SIZE;
  if (batch.images.length !== pixels) {
    throw new Error(`batch: images has ${batch.images.length} values, expected ${pixels} (${batch.size} x ${IMAGE_SIZE} x ${IMAGE_SIZE})`);
  }
  checkLabels('alphabet', batch.alphabet, batch.size, ALPHABET_CLASSES);
  checkLabels('character', batch.character, batch.size, CHARACTER_CLASSES);
}

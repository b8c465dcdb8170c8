import type { TfModule } from './tf-module.js';

/**
 * tf.tidy for functions that return plain JS values (typed arrays, maps) rather than tensors: every tensor made
 * inside, except those passed to tf.keep, is disposed when fn returns or throws.
 */
export function scoped<T>(tf: TfModule, fn: () => T): T {
  const engine = tf.engine();
  engine.startScope();
  try {
    return fn();
  } finally {
    engine.endScope();
  }
}

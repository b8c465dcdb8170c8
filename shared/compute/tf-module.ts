import type * as tfjs from '@tensorflow/tfjs';

/**
 * The tfjs namespace, passed in rather than imported, so that model code runs unchanged on whichever backend
 * `initBackend` activated (and tests can hold one module for several backends).
 */
export type TfModule = typeof tfjs;

/** The output heads of the course models. Every per-head figure in the project is keyed by these names. */
export const HEAD_NAMES = ['alphabet', 'character'] as const;
export type HeadName = (typeof HEAD_NAMES)[number];

export const ALPHABET_CLASSES = 30;
export const CHARACTER_CLASSES = 964;

/** Classes of each head: the width of its output layer and the range of its labels. */
export const HEAD_CLASSES: Readonly<Record<HeadName, number>> = { alphabet: ALPHABET_CLASSES, character: CHARACTER_CLASSES };

export function isHeadName(value: string): value is HeadName {
  return (HEAD_NAMES as readonly string[]).includes(value);
}

/** Loss, accuracy and sample count of one head over some set of samples; sums, so that shards add up exactly. */
export interface HeadStat {
  readonly head: HeadName;
  /** Sum over samples of the head's cross-entropy (natural log). */
  readonly lossSum: number;
  /** Samples whose arg-max prediction equals the label. */
  readonly correct: number;
  readonly count: number;
}

/**
 * two-output only: does the alphabet implied by the predicted character agree with the alphabet head (`agree`), and
 * is it the true alphabet (`impliedCorrect`)? Counts, so shards add up.
 */
export interface Agreement {
  readonly agree: number;
  readonly impliedCorrect: number;
  readonly count: number;
}

/** Loss weight per head, as applied to the per-sample cross-entropies. */
export type LossWeights = ReadonlyMap<HeadName, number>;

import type { Agreement, HeadName, HeadStat } from './heads.js';

/** Sums one head's per-sample cross-entropies (in float64) and counts arg-max hits. */
export function headStat(head: HeadName, crossEntropy: Float32Array, predicted: Int32Array, labels: Int32Array): HeadStat {
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    lossSum += crossEntropy[i] ?? 0;
    if (predicted[i] === labels[i]) correct++;
  }
  return { head, lossSum, correct, count: labels.length };
}

export function emptyHeadStat(head: HeadName): HeadStat {
  return { head, lossSum: 0, correct: 0, count: 0 };
}

export type { Agreement };

/**
 * two-output consistency: the alphabet implied by the predicted character vs the alphabet head's prediction,
 * and vs the true alphabet.
 */
export function agreement(
  characterAlphabet: Int32Array,
  predictedCharacter: Int32Array,
  predictedAlphabet: Int32Array,
  trueAlphabet: Int32Array,
): Agreement {
  let agree = 0;
  let impliedCorrect = 0;
  for (let i = 0; i < trueAlphabet.length; i++) {
    const implied = characterAlphabet[predictedCharacter[i] ?? -1];
    if (implied === predictedAlphabet[i]) agree++;
    if (implied === trueAlphabet[i]) impliedCorrect++;
  }
  return { agree, impliedCorrect, count: trueAlphabet.length };
}

/**
 * Adds shard statistics head by head: accuracy is sum(correct)/sum(count) and mean loss sum(loss)/sum(count), exact
 * whatever the shard sizes (a mean of shard means would over-weight small shards).
 */
export function sumHeadStats(shards: readonly (readonly HeadStat[])[]): HeadStat[] {
  const totals = new Map<HeadName, { lossSum: number; correct: number; count: number }>();
  for (const shard of shards) {
    for (const s of shard) {
      const t = totals.get(s.head) ?? { lossSum: 0, correct: 0, count: 0 };
      t.lossSum += s.lossSum;
      t.correct += s.correct;
      t.count += s.count;
      totals.set(s.head, t);
    }
  }
  return [...totals].map(([head, t]) => ({ head, ...t }));
}

/** Adds agreement counts of shards; undefined when no shard had any (models without an alphabet head). */
export function sumAgreement(parts: readonly (Agreement | undefined)[]): Agreement | undefined {
  const present = parts.filter((a): a is Agreement => a !== undefined);
  if (present.length === 0) return undefined;
  return present.reduce((a, b) => ({
    agree: a.agree + b.agree,
    impliedCorrect: a.impliedCorrect + b.impliedCorrect,
    count: a.count + b.count,
  }));
}

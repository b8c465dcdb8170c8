import type { HeadName, HeadStat } from '../shared/heads.js';
import type { Agreement } from '../shared/protocol/messages.js';

export interface HeadSummary {
  readonly head: HeadName;
  readonly accuracy: number;
  readonly meanLoss: number;
  readonly correct: number;
  readonly count: number;
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

export function summarizeHeads(stats: readonly HeadStat[]): HeadSummary[] {
  return stats.map((s) => ({
    head: s.head,
    correct: s.correct,
    count: s.count,
    accuracy: s.count > 0 ? s.correct / s.count : 0,
    meanLoss: s.count > 0 ? s.lossSum / s.count : 0,
  }));
}

export function sumAgreement(parts: readonly (Agreement | undefined)[]): Agreement | undefined {
  const present = parts.filter((a): a is Agreement => a !== undefined);
  if (present.length === 0) return undefined;
  return present.reduce((a, b) => ({
    agree: a.agree + b.agree,
    impliedCorrect: a.impliedCorrect + b.impliedCorrect,
    count: a.count + b.count,
  }));
}

import type { HeadName, HeadStat } from '../shared/model/heads.js';

export interface HeadSummary {
  readonly head: HeadName;
  readonly accuracy: number;
  readonly meanLoss: number;
  readonly correct: number;
  readonly count: number;
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

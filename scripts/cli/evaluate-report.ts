import type { HeadName } from '../../shared/model/heads.js';

/** Per-head figures and an alphabet confusion summary of predictions on a labelled split. Pure, for tests. */
export interface EvaluationReport {
  readonly count: number;
  readonly heads: readonly { head: HeadName; accuracy: number; loss: number; top5: number }[];
  /** Where the alphabet decision comes from: the alphabet head, or the alphabet of the predicted character. */
  readonly alphabetSource: 'alphabet head' | 'implied by the character head';
  readonly perAlphabet: readonly { alphabet: string; count: number; accuracy: number }[];
  readonly topConfusions: readonly { truth: string; predicted: string; count: number; share: number }[];
}

export interface EvaluationInput {
  readonly probabilities: ReadonlyMap<HeadName, Float32Array>;
  readonly alphabet: Int32Array;
  readonly character: Int32Array;
  readonly alphabets: readonly string[];
  /** Character index -> alphabet index. */
  readonly characterAlphabet: Int32Array;
}

function argMax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

function rankOf(row: Float32Array, label: number): number {
  const p = row[label] ?? 0;
  let rank = 0;
  for (let i = 0; i < row.length; i++) if (row[i]! > p) rank += 1;
  return rank;
}

export function evaluationReport(input: EvaluationInput, topConfusions = 10): EvaluationReport {
  const n = input.alphabet.length;
  const heads = [...input.probabilities].map(([head, probs]) => {
    const classes = probs.length / n;
    const labels = head === 'alphabet' ? input.alphabet : input.character;
    let correct = 0;
    let top5 = 0;
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const row = probs.subarray(i * classes, (i + 1) * classes);
      const rank = rankOf(row, labels[i]!);
      if (rank === 0) correct += 1;
      if (rank < 5) top5 += 1;
      loss -= Math.log(Math.max(row[labels[i]!] ?? 0, 1e-12));
    }
    return { head, accuracy: correct / Math.max(1, n), loss: loss / Math.max(1, n), top5: top5 / Math.max(1, n) };
  });
  const alphabetProbs = input.probabilities.get('alphabet');
  const characterProbs = input.probabilities.get('character');
  const predictedAlphabet = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (alphabetProbs) {
      const classes = alphabetProbs.length / n;
      predictedAlphabet[i] = argMax(alphabetProbs.subarray(i * classes, (i + 1) * classes));
    } else if (characterProbs) {
      const classes = characterProbs.length / n;
      predictedAlphabet[i] = input.characterAlphabet[argMax(characterProbs.subarray(i * classes, (i + 1) * classes))] ?? -1;
    }
  }
  const name = (a: number): string => input.alphabets[a] ?? `#${a}`;
  const totals = new Map<number, { count: number; correct: number }>();
  const confusions = new Map<string, { truth: number; predicted: number; count: number }>();
  for (let i = 0; i < n; i++) {
    const truth = input.alphabet[i]!;
    const predicted = predictedAlphabet[i]!;
    const t = totals.get(truth) ?? { count: 0, correct: 0 };
    t.count += 1;
    if (truth === predicted) t.correct += 1;
    else {
      const key = `${truth}>${predicted}`;
      const c = confusions.get(key) ?? { truth, predicted, count: 0 };
      c.count += 1;
      confusions.set(key, c);
    }
    totals.set(truth, t);
  }
  return {
    count: n,
    heads,
    alphabetSource: alphabetProbs ? 'alphabet head' : 'implied by the character head',
    perAlphabet: [...totals].sort(([a], [b]) => a - b).map(([a, t]) => ({ alphabet: name(a), count: t.count, accuracy: t.correct / t.count })),
    topConfusions: [...confusions.values()].sort((a, b) => b.count - a.count || a.truth - b.truth || a.predicted - b.predicted)
      .slice(0, topConfusions)
      .map((c) => ({ truth: name(c.truth), predicted: name(c.predicted), count: c.count, share: c.count / (totals.get(c.truth)?.count ?? 1) })),
  };
}

export function formatEvaluation(r: EvaluationReport, split: string): string {
  const lines = [`${split} split: ${r.count} images`, ''];
  for (const h of r.heads) lines.push(`  ${h.head.padEnd(10)} accuracy ${h.accuracy.toFixed(3)}  top-5 ${h.top5.toFixed(3)}  loss ${h.loss.toFixed(3)}`);
  lines.push('', `Per-alphabet accuracy (${r.alphabetSource}), worst first:`);
  for (const a of [...r.perAlphabet].sort((x, y) => x.accuracy - y.accuracy)) {
    lines.push(`  ${a.alphabet.padEnd(48)} ${a.accuracy.toFixed(3)}  (${a.count} images)`);
  }
  lines.push('', 'Top alphabet confusions (truth -> predicted):');
  if (r.topConfusions.length === 0) lines.push('  none');
  for (const c of r.topConfusions) lines.push(`  ${c.truth} -> ${c.predicted}: ${c.count} (${(100 * c.share).toFixed(1)}% of ${c.truth})`);
  return lines.join('\n');
}

/**
 * rocAucScore / averagePrecisionScore against scikit-learn's roc_auc_score /
 * average_precision_score (one batched /usr/bin/python3 process; skipped with the reason in the
 * suite name when python3-sklearn is missing).
 */
import { describe, expect, it } from 'vitest';
import { averagePrecisionScore, rocAucScore } from '../src/eval/index.js';
import { PY, HAS_SKLEARN, describeSk, runPython, prng } from './helpers/python.js';




describe('rocAucScore / averagePrecisionScore (known values)', () => {
  it("scikit-learn's docstring examples", () => {
    // roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    expect(rocAucScore([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    // average_precision_score(...) == 0.8333333333333333
    expect(averagePrecisionScore([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.8333333333333333);
  });

  it('perfect, inverted and tied rankings', () => {
    expect(rocAucScore([0, 1], [0, 1])).toBe(1);
    expect(rocAucScore([1, 0], [0, 1])).toBe(0);
    expect(rocAucScore([0, 1, 0, 1], [3, 3, 3, 3])).toBe(0.5);
    expect(averagePrecisionScore([0, 1, 0, 1], [3, 3, 3, 3])).toBe(0.5);
    // tie between one positive and one negative counts 1/2
    expect(rocAucScore(Uint8Array.from([0, 1, 0, 1]), Float64Array.from([0, 1, 1, 2]))).toBe(0.875);
    expect(averagePrecisionScore([1, 1, 0], [0.9, 0.8, 0.1])).toBe(1);
  });

  it('throws on bad input', () => {
    expect(() => rocAucScore([0, 0, 0], [1, 2, 3])).toThrow(/only one class/);
    expect(() => rocAucScore([1, 1], [1, 2])).toThrow(RangeError);
    expect(() => averagePrecisionScore([0, 0], [1, 2])).toThrow(RangeError);
    expect(() => averagePrecisionScore([1, 1], [1, 2])).toThrow(RangeError);
    expect(() => rocAucScore([0, 1], [1])).toThrow(RangeError);
    expect(() => rocAucScore([], [])).toThrow(RangeError);
    expect(() => rocAucScore([0, 2], [1, 2])).toThrow(RangeError);
    expect(() => rocAucScore([0, 1], [NaN, 2])).toThrow(RangeError);
    expect(() => averagePrecisionScore([0, 1], [Infinity, 2])).toThrow(RangeError);
  });

  it('300k samples: ROC AUC of score = label + U(0, 2) is the analytic 7/8', () => {
    const rnd = prng(5);
    const n = 300_000;
    const y = new Uint8Array(n);
    const s = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rnd() < 0.1 ? 1 : 0;
      s[i] = y[i]! + rnd() * 2;
    }
    // P(1 + U > U') for U, U' ~ U(0, 2) is 1 − 1/8 (the difference is triangular on [−2, 2]).
    const auc = rocAucScore(y, s);
    const ap = averagePrecisionScore(y, s);
    expect(Math.abs(auc - 0.875)).toBeLessThan(0.005);
    expect(ap).toBeGreaterThan(0.3);
    expect(ap).toBeLessThan(1);
  });
});

describeSk('rocAucScore / averagePrecisionScore vs scikit-learn (batched python)', () => {
  it('matches on random cases with and without ties (to 1e-12; bit-identical in practice)', () => {
    const rnd = prng(99);
    const cases: { y: number[]; s: number[] }[] = [];
    for (let c = 0; c < 400; c++) {
      const n = c % 40 === 0 ? 2000 + Math.floor(rnd() * 3000) : 2 + Math.floor(rnd() * 300);
      const prevalence = 0.02 + rnd() * 0.9;
      const kind = c % 5; // 0 continuous, 1 few distinct values, 2 integers with many ties, 3 all tied, 4 rounded
      const y: number[] = [];
      const s: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = rnd() < prevalence ? 1 : 0;
        y.push(t);
        const raw = t * rnd() * 1.5 + rnd() - 0.5;
        s.push(
          kind === 0 ? raw : kind === 1 ? Math.floor(raw * 3) : kind === 2 ? Math.floor(raw * 10) : kind === 3 ? 0.5 : Math.round(raw * 100) / 100,
        );
      }
      if (!y.includes(0)) y[0] = 0;
      if (!y.includes(1)) y[n - 1] = 1;
      cases.push({ y, s });
    }
    const py = runPython<[number, number][]>(
      [
        'import sys, json, warnings',
        "warnings.simplefilter('ignore')",
        'from sklearn.metrics import roc_auc_score, average_precision_score',
        'json.dump([[float(roc_auc_score(c["y"], c["s"])), float(average_precision_score(c["y"], c["s"]))] for c in json.load(sys.stdin)], sys.stdout)',
      ].join('\n'),
      cases,
    );
    let maxDiff = 0;
    let exact = 0;
    cases.forEach((c, i) => {
      const auc = rocAucScore(c.y, c.s);
      const ap = averagePrecisionScore(Uint8Array.from(c.y), Float64Array.from(c.s));
      maxDiff = Math.max(maxDiff, Math.abs(auc - py[i]![0]), Math.abs(ap - py[i]![1]));
      expect(Math.abs(auc - py[i]![0]), `case ${i} auc`).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(ap - py[i]![1]), `case ${i} ap`).toBeLessThanOrEqual(1e-12);
      if (auc === py[i]![0]) exact++;
      if (ap === py[i]![1]) exact++;
    });
    expect(exact).toBe(2 * cases.length);
    expect(maxDiff).toBe(0);
  });
});

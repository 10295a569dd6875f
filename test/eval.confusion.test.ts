/**
 * confusionMatrix vs scikit-learn's confusion_matrix (batched /usr/bin/python3; skipped with the
 * reason in the suite name when python3-sklearn is missing) and formatConfusionMatrix's text.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { confusionMatrix, formatConfusionMatrix, uniqueLabels } from '../src/eval/index.js';
import { PY, HAS_SKLEARN, describeSk, prng } from './helpers/python.js';



describe('confusionMatrix (known values)', () => {
  it('rows are true labels, columns predicted, labels sorted by code point', () => {
    const cm = confusionMatrix(['b', 'a', 'a', 'c'], ['a', 'a', 'c', 'c']);
    expect(cm).toEqual({
      labels: ['a', 'b', 'c'],
      matrix: [
        [1, 0, 1],
        [1, 0, 0],
        [0, 0, 1],
      ],
    });
    expect(uniqueLabels(['\u{1F600}', 'z'], ['\uFF21'])).toEqual(['z', '\uFF21', '\u{1F600}']);
  });

  it('explicit labels: order, subset (other samples ignored), unseen label', () => {
    expect(confusionMatrix(['b', 'a', 'a', 'c'], ['a', 'a', 'c', 'c'], ['c', 'a', 'z']).matrix).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    expect(confusionMatrix([], [], ['a', 'b']).matrix).toEqual([
      [0, 0],
      [0, 0],
    ]);
    expect(confusionMatrix([], [])).toEqual({ labels: [], matrix: [] });
  });

  it('throws as documented', () => {
    expect(() => confusionMatrix(['a'], ['a', 'b'])).toThrow(RangeError);
    expect(() => confusionMatrix(['a'], ['a'], [])).toThrow(RangeError);
    expect(() => confusionMatrix(['a'], ['a'], ['a', 'a'])).toThrow(RangeError);
    expect(() => confusionMatrix(['a'], ['b'], ['b'])).toThrow(/at least one label/);
  });
});

describe('formatConfusionMatrix', () => {
  it('renders a deterministic plain-text table', () => {
    const cm = confusionMatrix(
      ['BENIGN', 'BENIGN', 'BENIGN', 'DoS', 'DoS', 'Brute Force -XSS'],
      ['BENIGN', 'BENIGN', 'DoS', 'DoS', 'BENIGN', 'BENIGN'],
    );
    const text = formatConfusionMatrix(cm);
    expect(text).toBe(
      'Confusion matrix (rows: true label, columns: predicted label)\n' +
        '\n' +
        'true \\ predicted  BENIGN  Brute Force -XSS  DoS\n' +
        'BENIGN                 2                 0    1\n' +
        'Brute Force -XSS       1                 0    0\n' +
        'DoS                    1                 0    1\n',
    );
    expect(text).not.toMatch(/\u001b\[/); // no ANSI escapes
  });

  it('widens columns for large counts and long names; handles 0×0', () => {
    const text = formatConfusionMatrix({ labels: ['a', 'Web Attack \u2013 Sql Injection'], matrix: [[1234567, 0], [3, 4]] });
    expect(text.split('\n').slice(2)).toEqual([
      'true \\ predicted                  a  Web Attack \u2013 Sql Injection',
      'a                           1234567                           0',
      'Web Attack \u2013 Sql Injection        3                           4',
      '',
    ]);
    expect(formatConfusionMatrix({ labels: [], matrix: [] })).toBe(
      'Confusion matrix (rows: true label, columns: predicted label)\n\ntrue \\ predicted\n',
    );
    expect(() => formatConfusionMatrix({ labels: ['a'], matrix: [[1, 2]] })).toThrow(RangeError);
  });
});

describeSk('confusionMatrix vs scikit-learn confusion_matrix (batched python)', () => {
  it('matches on random cases, with and without explicit labels', () => {
    const rnd = prng(42);
    const names = ['BENIGN', 'DoS', 'PortScan', 'WebAttack', 'Brute Force -XSS', 'Bot', '\u{1F600}', '\uFF21'];
    const cases: { yTrue: string[]; yPred: string[]; labels: string[] | null }[] = [];
    for (let c = 0; c < 200; c++) {
      const k = 1 + Math.floor(rnd() * names.length);
      const cls = names.slice(0, k);
      const n = 1 + Math.floor(rnd() * 80);
      const yTrue = Array.from({ length: n }, () => cls[Math.floor(rnd() * k)]!);
      const yPred = yTrue.map((t) => (rnd() < 0.6 ? t : cls[Math.floor(rnd() * k)]!));
      let labels: string[] | null = null;
      if (c % 3 === 1) labels = [...new Set([...yTrue, 'unseen'])].reverse();
      if (c % 3 === 2) labels = [yTrue[0]!, ...(k > 1 ? [cls[k - 1]!] : [])].filter((l, i, a) => a.indexOf(l) === i);
      cases.push({ yTrue, yPred, labels });
    }
    const r = spawnSync(
      PY,
      [
        '-c',
        [
          'import sys, json',
          'from sklearn.metrics import confusion_matrix',
          'out = []',
          'for c in json.load(sys.stdin):',
          "    kw = {} if c['labels'] is None else {'labels': c['labels']}",
          "    out.append(confusion_matrix(c['yTrue'], c['yPred'], **kw).tolist())",
          'json.dump(out, sys.stdout)',
        ].join('\n'),
      ],
      { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    expect(r.stderr).toBe('');
    const py = JSON.parse(r.stdout) as number[][][];
    cases.forEach((c, i) => {
      const cm = confusionMatrix(c.yTrue, c.yPred, c.labels ?? undefined);
      expect(cm.matrix, `case ${i}`).toEqual(py[i]);
      if (c.labels) expect(cm.labels).toEqual(c.labels);
    });
  });
});

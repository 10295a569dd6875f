/**
 * classificationReport / classificationMetrics / precisionRecallFscoreSupport against scikit-learn.
 * The scikit-learn comparisons run one /usr/bin/python3 process for all cases; they are skipped
 * (with the reason in the suite name) when python3-sklearn is not installed.
 */
import { describe, expect, it } from 'vitest';
import { PY, HAS_SKLEARN, describeSk, runPython, prng } from './helpers/python.js';
import {
  classificationMetrics,
  classificationReport,
  precisionRecallFscoreSupport,
} from '../src/eval/index.js';




// ---------------------------------------------------------------------------------------------
// Pure TypeScript: literal reports verified once against scikit-learn 1.2.1.
// ---------------------------------------------------------------------------------------------

describe('classificationReport (literal cases verified against scikit-learn 1.2.1)', () => {
  it('small multi-class case, default digits', () => {
    const yTrue = ['BENIGN', 'BENIGN', 'BENIGN', 'DoS', 'DoS', 'PortScan', 'PortScan', 'PortScan'];
    const yPred = ['BENIGN', 'BENIGN', 'DoS', 'DoS', 'BENIGN', 'PortScan', 'PortScan', 'BENIGN'];
    // classification_report(y_true, y_pred)
    expect(classificationReport(yTrue, yPred)).toBe(
      '              precision    recall  f1-score   support\n' +
        '\n' +
        '      BENIGN       0.50      0.67      0.57         3\n' +
        '         DoS       0.50      0.50      0.50         2\n' +
        '    PortScan       1.00      0.67      0.80         3\n' +
        '\n' +
        '    accuracy                           0.62         8\n' +
        '   macro avg       0.67      0.61      0.62         8\n' +
        'weighted avg       0.69      0.62      0.64         8\n',
    );
  });

  it('accuracy 5/8 = 0.625 prints 0.62 (Python half-to-even), long name widens the column', () => {
    const yTrue = ['Brute Force -XSS', 'Brute Force -XSS', 'Brute Force -XSS', 'Brute Force -XSS', 'a', 'a', 'a', 'a'];
    const yPred = ['Brute Force -XSS', 'Brute Force -XSS', 'Brute Force -XSS', 'a', 'a', 'a', 'Brute Force -XSS', 'Brute Force -XSS'];
    expect(classificationReport(yTrue, yPred, { digits: 3 })).toBe(
      '                  precision    recall  f1-score   support\n' +
        '\n' +
        'Brute Force -XSS      0.600     0.750     0.667         4\n' +
        '               a      0.667     0.500     0.571         4\n' +
        '\n' +
        '        accuracy                          0.625         8\n' +
        '       macro avg      0.633     0.625     0.619         8\n' +
        '    weighted avg      0.633     0.625     0.619         8\n',
    );
    expect(classificationReport(yTrue, yPred)).toContain('        accuracy                           0.62         8\n');
  });

  it('no correct prediction: supports printed as floats, as scikit-learn', () => {
    expect(classificationReport(['a', 'b', 'a'], ['b', 'a', 'b'])).toBe(
      '              precision    recall  f1-score   support\n\n' +
        '           a       0.00      0.00      0.00       2.0\n' +
        '           b       0.00      0.00      0.00       1.0\n\n' +
        '    accuracy                           0.00       3.0\n' +
        '   macro avg       0.00      0.00      0.00       3.0\n' +
        'weighted avg       0.00      0.00      0.00       3.0\n',
    );
  });

  it('explicit labels: subset gives micro avg, permutation keeps accuracy, digits 0', () => {
    expect(classificationReport(['a', 'b', 'a'], ['b', 'a', 'b'], { labels: ['a'] })).toBe(
      '              precision    recall  f1-score   support\n\n' +
        '           a       0.00      0.00      0.00       2.0\n\n' +
        '   micro avg       0.00      0.00      0.00       2.0\n' +
        '   macro avg       0.00      0.00      0.00       2.0\n' +
        'weighted avg       0.00      0.00      0.00       2.0\n',
    );
    expect(classificationReport(['a', 'b', 'c'], ['a', 'c', 'c'], { labels: ['c', 'b', 'a'], digits: 0 })).toBe(
      '              precision    recall  f1-score   support\n\n' +
        '           c          0         1         1         1\n' +
        '           b          0         0         0         1\n' +
        '           a          1         1         1         1\n\n' +
        '    accuracy                              1         3\n' +
        '   macro avg          0         1         1         3\n' +
        'weighted avg          0         1         1         3\n',
    );
  });

  it('zero_division=1, digits wider than the name column', () => {
    expect(classificationReport(['a', 'b', 'c'], ['a', 'c', 'c'], { zeroDivision: 1, digits: 15 })).toBe(
      '                 precision    recall  f1-score   support\n\n' +
        '              a  1.000000000000000 1.000000000000000 1.000000000000000         1\n' +
        '              b  1.000000000000000 0.000000000000000 0.000000000000000         1\n' +
        '              c  0.500000000000000 1.000000000000000 0.666666666666667         1\n\n' +
        '       accuracy                      0.666666666666667         3\n' +
        '      macro avg  0.833333333333333 0.666666666666667 0.555555555555555         3\n' +
        '   weighted avg  0.833333333333333 0.666666666666667 0.555555555555555         3\n',
    );
  });

  it('no samples but explicit labels, as scikit-learn', () => {
    expect(classificationReport([], [], { labels: ['a'] })).toBe(
      '              precision    recall  f1-score   support\n\n' +
        '           a       0.00      0.00      0.00       0.0\n\n' +
        '   micro avg       0.00      0.00      0.00       0.0\n' +
        '   macro avg       0.00      0.00      0.00       0.0\n' +
        'weighted avg       0.00      0.00      0.00       0.0\n',
    );
  });

  it('throws on bad input', () => {
    expect(() => classificationReport(['a'], ['a', 'b'])).toThrow(RangeError);
    expect(() => classificationReport([], [])).toThrow(RangeError);
    expect(() => classificationReport(['a'], ['a'], { labels: [] })).toThrow(RangeError);
    expect(() => classificationReport(['a'], ['a'], { labels: ['a', 'a'] })).toThrow(RangeError);
    expect(() => classificationReport(['a'], ['a'], { digits: -1 })).toThrow(RangeError);
    expect(() => classificationReport(['a'], ['a'], { digits: 1.5 })).toThrow(RangeError);
    expect(() => classificationReport(['a'], ['a'], { zeroDivision: 2 as 0 })).toThrow(RangeError);
    expect(() => classificationReport([1 as unknown as string], ['a'])).toThrow(TypeError);
  });
});

describe('classificationMetrics (pure TypeScript)', () => {
  it('hand-computed values', () => {
    const m = classificationMetrics(['a', 'a', 'b', 'b'], ['a', 'b', 'b', 'b']);
    expect(m.accuracy).toBe(0.75);
    expect(m.classes['a']).toEqual({ precision: 1, recall: 0.5, f1: (2 * 1 * 0.5) / 1.5, support: 2 });
    expect(m.classes['b']).toEqual({ precision: 2 / 3, recall: 1, f1: (2 * (2 / 3) * 1) / (2 / 3 + 1), support: 2 });
    expect(m.macro_precision).toBe((1 + 2 / 3) / 2);
    expect(m.macro_recall).toBe(0.75);
    expect(m.confusion_matrix).toEqual({ labels: ['a', 'b'], matrix: [[1, 1], [0, 2]] });
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });

  it('a class named __proto__ is an own, serialised key', () => {
    const m = classificationMetrics(['__proto__', 'x'], ['__proto__', 'x']);
    expect(Object.keys(m.classes)).toEqual(['__proto__', 'x']);
    expect(JSON.stringify(m.classes)).toContain('"__proto__":{"precision":1');
  });

  it('weighted averages when no selected label has support (scikit-learn special case)', () => {
    const r0 = precisionRecallFscoreSupport(['a'], ['b'], { labels: ['b'], zeroDivision: 1 });
    expect(r0.weighted).toEqual({ precision: 0, recall: 1, f1: 0 });
    const r1 = precisionRecallFscoreSupport(['a'], ['a'], { labels: ['z'], zeroDivision: 1 });
    expect(r1.weighted).toEqual({ precision: 1, recall: 1, f1: 1 });
  });

  it('throws on bad input', () => {
    expect(() => classificationMetrics([], [])).toThrow(RangeError);
    expect(() => classificationMetrics(['a'], [])).toThrow(RangeError);
    expect(() => classificationMetrics(['a'], ['a'], { labels: ['z'] })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// scikit-learn comparisons
// ---------------------------------------------------------------------------------------------

interface Case {
  yTrue: string[];
  yPred: string[];
  labels: string[] | null;
  digits: number;
  zd: 0 | 1;
  what: string;
}

const NAMES = [
  'BENIGN',
  'DoS',
  'PortScan',
  'WebAttack',
  'Brute Force -XSS',
  'Bot',
  'DDoS',
  'Infiltration',
  'Web Attack \u2013 Sql Injection',
  'a',
  'B',
  'Heartbleed\u{1F480}',
  '\uFF21wide',
  '\u{1F600}',
  'x y',
];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!;
}

function shuffled<T>(rnd: () => number, xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function makeCases(): Case[] {
  const rnd = prng(20240611);
  const cases: Case[] = [];
  const scenarios = [
    'random',
    'noPredictionsForOne',
    'predictedNeverTrue',
    'perfect',
    'singleClass',
    'allWrong',
    'labelsSubset',
    'labelsPermutation',
    'labelsSuperset',
    'manyClasses',
  ];
  for (let c = 0; c < 400; c++) {
    const what = scenarios[c % scenarios.length]!;
    const k = what === 'manyClasses' ? 9 + Math.floor(rnd() * 12) : 2 + Math.floor(rnd() * 5);
    const classes =
      what === 'manyClasses'
        ? Array.from({ length: k }, (_, i) => `class-${String(i).padStart(2, '0')}${i % 3 === 0 ? ' long name' : ''}`)
        : shuffled(rnd, NAMES).slice(0, k);
    const n = rnd() < 0.15 ? 150 + Math.floor(rnd() * 300) : 1 + Math.floor(rnd() * 60);
    const skew = rnd() < 0.5;
    const drawClass = (): string => (skew ? classes[Math.floor(rnd() * rnd() * k)]! : pick(rnd, classes));
    const acc = rnd();
    const yTrue: string[] = [];
    const yPred: string[] = [];
    for (let i = 0; i < n; i++) {
      const t = drawClass();
      yTrue.push(t);
      yPred.push(rnd() < acc ? t : drawClass());
    }
    let labels: string[] | null = null;
    switch (what) {
      case 'noPredictionsForOne': {
        const gone = classes[0]!;
        for (let i = 0; i < n; i++) if (yPred[i] === gone) yPred[i] = classes[1]!;
        if (!yTrue.includes(gone)) yTrue[0] = gone;
        break;
      }
      case 'predictedNeverTrue': {
        const ghost = classes[k - 1]!;
        for (let i = 0; i < n; i++) if (yTrue[i] === ghost) yTrue[i] = classes[0]!;
        yPred[n - 1] = ghost;
        break;
      }
      case 'perfect':
        for (let i = 0; i < n; i++) yPred[i] = yTrue[i]!;
        break;
      case 'singleClass':
        yTrue.fill(classes[0]!);
        if (c % 20 < 10) yPred.fill(classes[0]!);
        break;
      case 'allWrong':
        for (let i = 0; i < n; i++) {
          if (yPred[i] === yTrue[i]) yPred[i] = classes[(classes.indexOf(yTrue[i]!) + 1) % k]!;
        }
        break;
      case 'labelsSubset': {
        const present = [...new Set([...yTrue, ...yPred])];
        labels = shuffled(rnd, present).slice(0, Math.max(1, Math.floor(present.length / 2)));
        break;
      }
      case 'labelsPermutation':
        labels = shuffled(rnd, [...new Set([...yTrue, ...yPred])]);
        break;
      case 'labelsSuperset':
        labels = shuffled(rnd, [...new Set([...yTrue, ...yPred, 'never seen', 'Z'])]);
        break;
      default:
        break;
    }
    const digits = c % 17 === 0 ? pick(rnd, [0, 1, 5, 7, 12]) : pick(rnd, [2, 2, 3, 4]);
    const zd: 0 | 1 = rnd() < 0.5 ? 0 : 1;
    cases.push({ yTrue, yPred, labels, digits, zd, what });
  }
  return cases;
}

const SCRIPT = String.raw`
import sys, json, warnings
warnings.simplefilter('ignore')
from sklearn.metrics import classification_report, precision_recall_fscore_support, accuracy_score, confusion_matrix
out = []
for c in json.load(sys.stdin):
    kw = {} if c['labels'] is None else {'labels': c['labels']}
    r = {}
    try:
        r['report'] = classification_report(c['yTrue'], c['yPred'], digits=c['digits'], zero_division=c['zd'], **kw)
    except Exception as e:
        r['error'] = repr(e)
        out.append(r)
        continue
    p, rc, f, s = precision_recall_fscore_support(c['yTrue'], c['yPred'], average=None, zero_division=c['zd'], **kw)
    r['per'] = [p.tolist(), rc.tolist(), f.tolist(), s.tolist()]
    for avg in ('micro', 'macro', 'weighted'):
        r[avg] = [float(v) for v in precision_recall_fscore_support(c['yTrue'], c['yPred'], average=avg, zero_division=c['zd'], **kw)[:3]]
    if len(c['yTrue']):
        r['accuracy'] = float(accuracy_score(c['yTrue'], c['yPred']))
    try:
        r['cm'] = confusion_matrix(c['yTrue'], c['yPred'], **kw).tolist()
    except Exception as e:
        r['cmError'] = repr(e)
    out.append(r)
json.dump(out, sys.stdout)
`;

interface PyResult {
  report?: string;
  error?: string;
  per?: [number[], number[], number[], number[]];
  micro?: number[];
  macro?: number[];
  weighted?: number[];
  accuracy?: number;
  cm?: number[][];
  cmError?: string;
}

describeSk('classificationReport / classificationMetrics vs scikit-learn (batched python)', () => {
  const cases = makeCases();
  let results: PyResult[] = [];
  let maxDiff = 0;
  const close = (a: number, b: number): boolean => {
    maxDiff = Math.max(maxDiff, Math.abs(a - b));
    return Math.abs(a - b) <= 1e-12;
  };

  it('runs scikit-learn on all cases', () => {
    results = runPython<PyResult[]>(SCRIPT, cases);
    expect(results).toHaveLength(cases.length);
    expect(results.filter((r) => r.error).length).toBe(0);
  });

  it('reports are byte-identical', () => {
    let micro = 0;
    let floats = 0;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const ts = classificationReport(c.yTrue, c.yPred, {
        ...(c.labels ? { labels: c.labels } : {}),
        digits: c.digits,
        zeroDivision: c.zd,
      });
      if (ts !== results[i]!.report) {
        // Show the whole case on failure.
        expect({ case: c, ts }).toEqual({ case: c, ts: results[i]!.report });
      }
      if (ts.includes('micro avg')) micro++;
      if (/\.0\n$/.test(ts)) floats++;
    }
    // The generator must actually exercise the special paths.
    expect(micro).toBeGreaterThan(50);
    expect(floats).toBeGreaterThan(10);
  });

  it('per-class and averaged scores, accuracy and confusion matrix match to 1e-12', () => {
    let exact = 0;
    let total = 0;
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const r = results[i]!;
      const opts = { ...(c.labels ? { labels: c.labels } : {}), zeroDivision: c.zd };
      const prf = precisionRecallFscoreSupport(c.yTrue, c.yPred, opts);
      const mine = [prf.precision, prf.recall, prf.f1, prf.support];
      for (let j = 0; j < 4; j++) {
        expect(mine[j]!.length).toBe(r.per![j]!.length);
        mine[j]!.forEach((v, q) => {
          total++;
          if (v === r.per![j]![q]) exact++;
          expect(close(v, r.per![j]![q]!), `case ${i} per ${j}/${q}`).toBe(true);
        });
      }
      for (const avg of ['micro', 'macro', 'weighted'] as const) {
        const a = prf[avg];
        [a.precision, a.recall, a.f1].forEach((v, j) => {
          total++;
          if (v === r[avg]![j]) exact++;
          expect(close(v, r[avg]![j]!), `case ${i} ${avg} ${j}`).toBe(true);
        });
      }
      if (c.yTrue.length === 0) continue;
      if (r.cmError) {
        expect(() => classificationMetrics(c.yTrue, c.yPred, opts)).toThrow(RangeError);
        continue;
      }
      const m = classificationMetrics(c.yTrue, c.yPred, opts);
      expect(close(m.accuracy, r.accuracy!)).toBe(true);
      expect(m.macro_f1).toBe(prf.macro.f1);
      expect(m.weighted_f1).toBe(prf.weighted.f1);
      expect(m.macro_precision).toBe(prf.macro.precision);
      expect(m.macro_recall).toBe(prf.macro.recall);
      expect(m.confusion_matrix.matrix).toEqual(r.cm);
      expect(m.confusion_matrix.labels).toEqual(prf.labels);
      prf.labels.forEach((l, q) =>
        expect(m.classes[l]).toEqual({
          precision: prf.precision[q],
          recall: prf.recall[q],
          f1: prf.f1[q],
          support: prf.support[q],
        }),
      );
    }
    // Bit-identical in practice (same operations in the same order as NumPy).
    expect(exact).toBe(total);
    expect(maxDiff).toBe(0);
  });
});

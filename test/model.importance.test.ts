/**
 * Permutation importance (src/model/importance.ts) and its use by `train --algo mlp|autoencoder`:
 *  - a fixed decision rule that reads only columns 0 and 1: those two rank first, every other column's
 *    importance is exactly 0; the same with fitted models (decision tree, MLP) on data where only some columns
 *    determine the label: those rank first, the irrelevant ones stay ≈ 0;
 *  - determinism (same seed → same importances; another seed → other shuffles); argument checks; sampleRows;
 *  - scikit-learn (skipped visibly without it): `sklearn.inspection.permutation_importance` of the same rule as
 *    a scikit-learn estimator gives the same per-round importances bit for bit, mean/std to 1e-12;
 *  - CLI (built dist/): `train --algo mlp` on the shipped lab excerpt prints the permutation-importance lines
 *    and stores them in model.json; `train --algo autoencoder` prints the ROC AUC drop variant.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permutationImportance, rankImportances, sampleRows } from '../src/model/importance.js';
import { createMatrix, selectRows, type FeatureMatrix } from '../src/model/matrix.js';
import { DecisionTreeClassifier } from '../src/model/tree.js';
import { ModelError } from '../src/model/errors.js';
import { MLPClassifier } from '../src/model/mlp.js';
import { initTf } from '../src/model/tfjs.js';
import { flowsift } from './helpers/cli.js';
import { describeSk, prng, runPython } from './helpers/python.js';

const tmp = mkdtempSync(join(tmpdir(), 'flowsift-importance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Standard normal draws from a seeded uniform source (Box–Muller). */
function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** `rows × cols` independent N(0, 1) columns. */
function normalMatrix(rows: number, cols: number, seed: number): FeatureMatrix {
  const g = gaussian(prng(seed));
  const X = createMatrix(rows, cols, Array.from({ length: cols }, (_, j) => `x${j}`));
  for (let i = 0; i < X.data.length; i++) X.data[i] = g();
  return X;
}

/** The fixed three-class rule: s = x0 + 0.5·x1; class 2 if s > 0.5, 1 if s > −0.5, else 0. Reads columns 0 and 1 only. */
function rule(X: FeatureMatrix): Int32Array {
  const out = new Int32Array(X.rows);
  for (let r = 0; r < X.rows; r++) {
    const s = X.data[r * X.cols]! + 0.5 * X.data[r * X.cols + 1]!;
    out[r] = s > 0.5 ? 2 : s > -0.5 ? 1 : 0;
  }
  return out;
}

function accuracy(pred: Int32Array, y: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
}

/** Labels of the rule with a share `flip` of them replaced by (label + 1) mod 3, seeded. */
function noisyLabels(X: FeatureMatrix, flip: number, seed: number): Int32Array {
  const rand = prng(seed);
  return Int32Array.from(rule(X), (c) => (rand() < flip ? (c + 1) % 3 : c));
}

describe('permutationImportance: a fixed rule reading columns 0 and 1', () => {
  const X = normalMatrix(800, 6, 11);
  const y = noisyLabels(X, 0.1, 12);
  const score = (m: FeatureMatrix): number => accuracy(rule(m), y);
  const r = permutationImportance(score, X, 5, 3);

  it('baseline is the accuracy of the unpermuted rows; x0 > x1 > 0; the other columns exactly 0', () => {
    expect(r.baseline).toBe(accuracy(rule(X), y));
    expect(r.baseline).toBeGreaterThan(0.85);
    expect(r.baseline).toBeLessThan(0.95);
    const ranked = rankImportances(r, X.names);
    expect(ranked.slice(0, 2).map((f) => f.feature)).toEqual(['x0', 'x1']);
    // x0 alone decides most rows: shuffling it leaves about chance agreement.
    expect(r.importancesMean[0]).toBeGreaterThan(0.4);
    expect(r.importancesMean[1]).toBeGreaterThan(0.05);
    expect(r.importancesMean[0]).toBeGreaterThan(r.importancesMean[1]! + 0.1);
    for (let j = 2; j < 6; j++) {
      expect(r.importancesMean[j]).toBe(0);
      expect(r.importancesStd[j]).toBe(0);
      expect(Array.from(r.importances[j]!)).toEqual([0, 0, 0, 0, 0]);
    }
  });

  it('mean and population std over the rounds; the matrix is left unchanged', () => {
    const per = Array.from(r.importances[0]!);
    expect(per).toHaveLength(5);
    const mean = per.reduce((a, b) => a + b, 0) / 5;
    expect(r.importancesMean[0]).toBeCloseTo(mean, 15);
    expect(r.importancesStd[0]).toBeCloseTo(Math.sqrt(per.reduce((a, b) => a + (b - mean) ** 2, 0) / 5), 15);
    expect(new Set(per).size).toBeGreaterThan(1); // every round is another permutation
    expect(accuracy(rule(X), y)).toBe(r.baseline);
    expect(X.data).toEqual(normalMatrix(800, 6, 11).data);
  });

  it('same seed → identical importances; another seed → other shuffles', () => {
    const again = permutationImportance(score, X, 5, 3);
    expect(again.importances.map((a) => Array.from(a))).toEqual(r.importances.map((a) => Array.from(a)));
    const other = permutationImportance(score, X, 5, 4);
    expect(Array.from(other.importances[0]!)).not.toEqual(Array.from(r.importances[0]!));
    expect(other.importancesMean[0]).toBeCloseTo(r.importancesMean[0]!, 1);
  });

  it('rejects bad arguments and non-finite scores with ModelError', () => {
    expect(() => permutationImportance(score, X, 0, 0)).toThrow(/nRepeats must be an integer ≥ 1/);
    expect(() => permutationImportance(score, X, 2, -1)).toThrow(/seed must be an integer in \[0, 2\^32\)/);
    expect(() => permutationImportance(score, createMatrix(1, 6), 2, 0)).toThrow(/at least 2 rows/);
    expect(() => permutationImportance(() => NaN, X, 2, 0)).toThrow(ModelError);
    let calls = 0;
    expect(() => permutationImportance(() => (++calls > 3 ? Infinity : 1), X, 2, 0)).toThrow(/round 1 with column 1 \(x1\) permuted is Infinity/);
    expect(() => permutationImportance(score, { rows: 2, cols: 2, data: new Float64Array(3), names: ['a', 'b'] }, 2, 0)).toThrow(ModelError);
  });
});

describe('permutationImportance on fitted models: the informative columns rank first, the others ≈ 0', () => {
  // 8 columns; the class is decided by x0 and x3 only (a 2 × 2 grid of quadrants → 4 classes).
  const make = (rows: number, seed: number): { X: FeatureMatrix; y: Int32Array } => {
    const X = normalMatrix(rows, 8, seed);
    const y = new Int32Array(rows);
    for (let r = 0; r < rows; r++) y[r] = (X.data[r * 8]! > 0 ? 1 : 0) + (X.data[r * 8 + 3]! > 0 ? 2 : 0);
    return { X, y };
  };
  const train = make(3000, 21);
  const test = make(1500, 22);

  it('decision tree (min 20 flows per leaf)', () => {
    const tree = new DecisionTreeClassifier({ minSamplesLeaf: 20, randomState: 0 }).fit(train.X, train.y, 4);
    const r = permutationImportance((m) => accuracy(tree.predict(m), test.y), test.X, 5, 0);
    const ranked = rankImportances(r, test.X.names);
    expect(new Set(ranked.slice(0, 2).map((f) => f.feature))).toEqual(new Set(['x0', 'x3']));
    expect(r.importancesMean[0]).toBeGreaterThan(0.3);
    expect(r.importancesMean[3]).toBeGreaterThan(0.3);
    for (const j of [1, 2, 4, 5, 6, 7]) expect(Math.abs(r.importancesMean[j]!)).toBeLessThan(0.02);
  });

  describe('MLP (TensorFlow.js, wasm)', () => {
    let mlp: MLPClassifier;
    beforeAll(async () => {
      await initTf();
      mlp = await new MLPClassifier({ hiddenLayers: [32, 16], epochs: 20, seed: 5 }).fit(train.X, train.y, 4);
    });

    it('x0 and x3 first, each > 0.3; the six others within 0.03 of 0; deterministic', () => {
      const score = (m: FeatureMatrix): number => accuracy(mlp.predict(m), test.y);
      expect(score(test.X)).toBeGreaterThan(0.85);
      const r = permutationImportance(score, test.X, 5, 1);
      const ranked = rankImportances(r, test.X.names);
      expect(new Set(ranked.slice(0, 2).map((f) => f.feature))).toEqual(new Set(['x0', 'x3']));
      expect(r.importancesMean[0]).toBeGreaterThan(0.3);
      expect(r.importancesMean[3]).toBeGreaterThan(0.3);
      for (const j of [1, 2, 4, 5, 6, 7]) expect(Math.abs(r.importancesMean[j]!)).toBeLessThan(0.03);
      const again = permutationImportance(score, test.X, 5, 1);
      expect(Array.from(again.importancesMean)).toEqual(Array.from(r.importancesMean));
    });
  });
});

describe('sampleRows', () => {
  it('all rows when n ≤ max; otherwise max distinct sorted rows, the same for the same seed', () => {
    expect(Array.from(sampleRows(4, 10, 0))).toEqual([0, 1, 2, 3]);
    const a = sampleRows(10_000, 500, 7);
    expect(a.length).toBe(500);
    expect(new Set(a).size).toBe(500);
    for (let i = 1; i < a.length; i++) expect(a[i]!).toBeGreaterThan(a[i - 1]!);
    expect(a[a.length - 1]!).toBeLessThan(10_000);
    expect(Array.from(sampleRows(10_000, 500, 7))).toEqual(Array.from(a));
    expect(Array.from(sampleRows(10_000, 500, 8))).not.toEqual(Array.from(a));
    // roughly uniform: about half of the sample in each half of the range
    const low = Array.from(a).filter((i) => i < 5000).length;
    expect(low).toBeGreaterThan(200);
    expect(low).toBeLessThan(300);
    expect(() => sampleRows(10, 0, 0)).toThrow(ModelError);
  });
});

describeSk('permutationImportance vs scikit-learn 1.2 permutation_importance (same rule as an estimator)', () => {
  const SCRIPT = `
import json, sys
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.inspection import permutation_importance

class Rule(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self
    def predict(self, X):
        s = X[:, 0] + 0.5 * X[:, 1]
        return np.where(s > 0.5, 2, np.where(s > -0.5, 1, 0))

out = []
for case in json.load(sys.stdin):
    X = np.array(case['X'], dtype=np.float64)
    y = np.array(case['y'])
    r = permutation_importance(Rule().fit(X, y), X, y, n_repeats=case['n'], random_state=case['seed'])
    out.append({'all': r.importances.tolist(), 'mean': r.importances_mean.tolist(), 'std': r.importances_std.tolist()})
print(json.dumps(out))
`;
  const cases = [
    { rows: 503, cols: 5, n: 5, seed: 0 },
    { rows: 200, cols: 3, n: 3, seed: 42 },
    { rows: 1000, cols: 4, n: 10, seed: 4294967295 },
  ].map((c, k) => {
    const X = normalMatrix(c.rows, c.cols, 100 + k);
    return { ...c, X, y: noisyLabels(X, 0.15, 200 + k) };
  });

  it('identical per-round importances; mean and std within 1e-12', () => {
    const py = runPython<{ all: number[][]; mean: number[]; std: number[] }[]>(SCRIPT, cases.map((c) => ({
      X: Array.from({ length: c.rows }, (_, r) => Array.from(c.X.data.subarray(r * c.cols, (r + 1) * c.cols))),
      y: Array.from(c.y), n: c.n, seed: c.seed,
    })));
    cases.forEach((c, k) => {
      const r = permutationImportance((m) => accuracy(rule(m), c.y), c.X, c.n, c.seed);
      expect(r.importances.map((a) => Array.from(a)), `case ${k}`).toEqual(py[k]!.all);
      for (let j = 0; j < c.cols; j++) {
        expect(Math.abs(r.importancesMean[j]! - py[k]!.mean[j]!)).toBeLessThan(1e-12);
        expect(Math.abs(r.importancesStd[j]! - py[k]!.std[j]!)).toBeLessThan(1e-12);
      }
      expect(r.importancesMean[0]).toBeGreaterThan(0.3);
    });
  });

  it('on a subsample chosen by sampleRows: the same as scikit-learn on those rows', () => {
    const c = cases[0]!;
    const pick = sampleRows(c.rows, 150, 9);
    const X = selectRows(c.X, pick);
    const y = Int32Array.from(pick, (i) => c.y[i]!);
    const py = runPython<{ all: number[][] }[]>(SCRIPT, [{
      X: Array.from({ length: X.rows }, (_, r) => Array.from(X.data.subarray(r * X.cols, (r + 1) * X.cols))), y: Array.from(y), n: 4, seed: 9,
    }]);
    const r = permutationImportance((m) => accuracy(rule(m), y), X, 4, 9);
    expect(r.importances.map((a) => Array.from(a))).toEqual(py[0]!.all);
  });
});

describe('CLI: train prints permutation importance for the networks (built dist/)', () => {
  const EXAMPLE = 'datasets/lab-excerpt/capture.pcap';
  const LABELS = 'datasets/lab-excerpt/labels.csv';

  it('mlp: accuracy drop on the validation flows, top features listed and stored in model.json', () => {
    const dir = join(tmp, 'mlp');
    const t = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '--algo', 'mlp', '--epochs', '3', '--seed', '1']);
    expect(t.code, t.stderr).toBe(0);
    const m = /\ntop features \(permutation importance: accuracy drop on ([\d,]+) validation flows \(at most 5,000\), 5 repeats, baseline accuracy (0\.\d{4}|1\.0000), [\d.]+ s\):\n((?: {2}-?\d\.\d{4} ± \d\.\d{4} {2}.+\n){8})/.exec(t.stdout);
    expect(m, t.stdout).not.toBeNull();
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const tr = doc.training;
    expect(tr.importance).toMatchObject({ method: 'permutation', score: 'accuracy', repeats: 5 });
    expect(tr.importance.rows).toBe(Number(m![1]!.replace(/,/g, '')));
    // the MLP's 10 % stratified validation split of the 3,927 training flows
    expect(tr.importance.rows).toBeGreaterThan(350);
    expect(tr.importance.rows).toBeLessThan(450);
    expect(tr.topFeatures).toHaveLength(10);
    const printed = m![3]!.trim().split('\n').map((l) => l.replace(/^ *-?\d\.\d{4} ± \d\.\d{4} {2}/, ''));
    expect(printed).toEqual(tr.topFeatures.slice(0, 8).map((f: { feature: string }) => f.feature));
    for (let i = 1; i < tr.topFeatures.length; i++) expect(tr.topFeatures[i].importance).toBeLessThanOrEqual(tr.topFeatures[i - 1].importance);
    expect(doc.featureNames).toEqual(expect.arrayContaining(tr.topFeatures.map((f: { feature: string }) => f.feature)));
    expect(tr.topFeatures[0].importance).toBeGreaterThan(0);
  });

  it('autoencoder with attack flows in the input: ROC AUC drop on held-out BENIGN + attack flows', () => {
    const dir = join(tmp, 'ae');
    const features = 'Flow Duration,Fwd Packets/s,Bwd Packets/s,SYN Flag Count,RST Flag Count,Fwd Packet Length Max,Bwd Packet Length Max,Flow IAT Mean';
    const t = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '--algo', 'autoencoder', '--epochs', '10', '--features', features]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/\ntop features \(permutation importance: ROC AUC drop \(attack vs BENIGN\) on \d+ held-out BENIGN \+ [\d,]+ attack flows \(at most 5,000\), 5 repeats, baseline ROC AUC 0\.\d{4}, [\d.]+ s\):\n( {2}-?\d\.\d{4} ± \d\.\d{4} {2}.+\n){8}/);
    const tr = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).training;
    expect(tr.importance).toMatchObject({ method: 'permutation', score: 'roc_auc', repeats: 5 });
    expect(tr.topFeatures).toHaveLength(8);
  });
});

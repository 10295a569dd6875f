/**
 * Gradient-boosted trees (src/model/gbt.ts):
 *  - determinism, training loss decreasing, predictRow ≡ predict, probabilities summing to 1, binary and
 *    multiclass, subsample, early stopping, class weights, importances;
 *  - save → load in a bundle → identical predictions; validation of options and tampered JSON;
 *  - scikit-learn (Debian python3-sklearn; skipped visibly without it): HistGradientBoostingClassifier
 *    (early_stopping=False, one OpenMP thread) on breast_cancer, wine, iris and digits — held-out accuracy
 *    within 2 points and mean |Δ probability| < 0.01 (the same algorithm; scikit-learn keeps gradients in
 *    float32);
 *  - shared data (skipped visibly without ../shared): trained on lab/train flows, macro-F1 ≥ 0.99 on lab/test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowRecords } from '../src/dataset/collect.js';
import { RuleLabeller } from '../src/dataset/labels.js';
import { classificationMetrics } from '../src/eval/report.js';
import { extractCapture } from '../src/features/extract.js';
import { createFeatureSet, defaultModelFeatures } from '../src/features/registry.js';
import {
  DecisionTreeClassifier,
  GradientBoostingClassifier,
  ModelPipeline,
  StandardScaler,
  createMatrix,
  loadBundle,
  modelFromJSON,
  saveBundle,
  type FeatureMatrix,
} from '../src/model/index.js';
import { describeShared, REPO, sharedPath } from './helpers/shared.js';

const PY = process.env.FLOWSIFT_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import sklearn, numpy, os; print(sklearn.__version__); print(os.path.dirname(sklearn.__file__))'], { encoding: 'utf8' });
const SKLEARN_OK = probe.status === 0;
const SK_DATA = SKLEARN_OK ? join(probe.stdout.trim().split('\n')[1]!, 'datasets', 'data') : '';
const SK_TAG = SKLEARN_OK
  ? `scikit-learn ${probe.stdout.split('\n')[0]}`
  : `[skipped: scikit-learn not importable by ${PY}; apt-get install python3-sklearn]`;
const tmp = mkdtempSync(join(tmpdir(), 'flowsift-gbt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Generated data: k classes, a few informative columns (ties, heavy tails), noise, a constant column. */
function blobs(n: number, seed: number, k = 3): { X: FeatureMatrix; y: Int32Array } {
  const r = prng(seed);
  const d = 6;
  const X = createMatrix(n, d, ['a', 'b', 'flag', 'const', 'noise', 'tail']);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * k);
    y[i] = r() < 0.05 ? Math.floor(r() * k) : c;
    const row = i * d;
    X.data[row] = c + r() * 1.5;
    X.data[row + 1] = Math.floor(r() * 5) - c;
    X.data[row + 2] = r() < 0.2 + 0.25 * c ? 1 : 0;
    X.data[row + 3] = 3;
    X.data[row + 4] = r();
    X.data[row + 5] = Math.exp(r() * 8) * (c + 1);
  }
  return { X, y };
}

const accuracy = (p: ArrayLike<number>, y: ArrayLike<number>): number => {
  let a = 0;
  for (let i = 0; i < y.length; i++) if (p[i] === y[i]) a++;
  return a / y.length;
};

describe('GradientBoostingClassifier', () => {
  const { X, y } = blobs(1500, 1);
  const test = blobs(600, 2);

  it('is deterministic, lowers the training loss every iteration, and generalises', () => {
    const a = new GradientBoostingClassifier({ nEstimators: 40 }).fit(X, y, 3);
    const b = new GradientBoostingClassifier({ nEstimators: 40 }).fit(X, y, 3);
    expect(b.toJSON()).toEqual(a.toJSON());
    expect(a.nIter).toBe(40);
    expect(a.toJSON().trees.length).toBe(40 * 3);
    const loss = a.trainScore;
    for (let i = 1; i < loss.length; i++) expect(loss[i]!).toBeLessThanOrEqual(loss[i - 1]! + 1e-12);
    // The data tops out near 0.83 (5 % label noise, overlapping classes): a forest gets 0.83, a depth-3 tree 0.78.
    const acc = accuracy(a.predict(test.X), test.y);
    expect(acc).toBeGreaterThan(0.8);
    expect(acc).toBeGreaterThan(accuracy(new DecisionTreeClassifier({ maxDepth: 3 }).fit(X, y, 3).predict(test.X), test.y));
  });

  it('predictRow / predictProbaRow equal predict / predictProba; probabilities sum to 1', () => {
    const m = new GradientBoostingClassifier({ nEstimators: 15, maxDepth: 3, maxLeafNodes: null }).fit(X, y, 3);
    const P = m.predictProba(test.X);
    const pred = m.predict(test.X);
    const out = new Float64Array(4);
    for (let r = 0; r < test.X.rows; r++) {
      m.predictProbaRow(test.X.data, out, r * test.X.cols, 1);
      expect(Array.from(out.subarray(1))).toEqual(Array.from(P.subarray(r * 3, r * 3 + 3)));
      expect(out[1]! + out[2]! + out[3]!).toBeCloseTo(1, 12);
      expect(m.predictRow(test.X.data, r * test.X.cols)).toBe(pred[r]);
    }
    // maxDepth 3 without a leaf limit: at most 8 leaves per tree.
    for (const t of m.toJSON().trees) expect(t.left.filter((l) => l === -1).length).toBeLessThanOrEqual(8);
  });

  it('binary: one tree per iteration on the log-odds', () => {
    const y2 = Int32Array.from(y, (c) => (c === 2 ? 1 : 0));
    const m = new GradientBoostingClassifier({ nEstimators: 20 }).fit(X, y2, 2);
    expect(m.treesPerIteration).toBe(1);
    expect(m.toJSON().trees.length).toBe(20);
    expect(m.toJSON().baseline.length).toBe(1);
    const P = m.predictProba(test.X);
    const y2t = Int32Array.from(test.y, (c) => (c === 2 ? 1 : 0));
    expect(accuracy(m.predict(test.X), y2t)).toBeGreaterThan(0.8);
    for (let r = 0; r < test.X.rows; r++) expect(P[2 * r]! + P[2 * r + 1]!).toBeCloseTo(1, 12);
  });

  it('subsample, early stopping and class weights', () => {
    const s1 = new GradientBoostingClassifier({ nEstimators: 20, subsample: 0.5, randomState: 3 }).fit(X, y, 3);
    const s2 = new GradientBoostingClassifier({ nEstimators: 20, subsample: 0.5, randomState: 3 }).fit(X, y, 3);
    const s3 = new GradientBoostingClassifier({ nEstimators: 20, subsample: 0.5, randomState: 4 }).fit(X, y, 3);
    expect(s2.toJSON()).toEqual(s1.toJSON());
    expect(s3.toJSON().trees).not.toEqual(s1.toJSON().trees);
    expect(accuracy(s1.predict(test.X), test.y)).toBeGreaterThan(0.8);
    const es = new GradientBoostingClassifier({ nEstimators: 500, earlyStopping: true, nIterNoChange: 5, learningRate: 0.3 }).fit(X, y, 3);
    expect(es.nIter).toBeLessThan(500);
    expect(es.validationScore.length).toBe(es.nIter);
    const bal = new GradientBoostingClassifier({ nEstimators: 10, classWeight: 'balanced' }).fit(X, y, 3);
    expect(bal.nIter).toBe(10);
    expect(() => new GradientBoostingClassifier({ classWeight: [1, 2] }).fit(X, y, 3)).toThrow(/classWeight has 2 entries/);
  });

  it('gain importances sum to 1, 0 for the constant column', () => {
    const m = new GradientBoostingClassifier({ nEstimators: 10 }).fit(X, y, 3);
    const imp = m.featureImportances;
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(imp[3]).toBe(0);
  });

  it('saves and loads in a model bundle with identical predictions', () => {
    const scaler = new StandardScaler().fit(X);
    const m = new GradientBoostingClassifier({ nEstimators: 25, subsample: 0.8 }).fit(scaler.transform(X), y, 3);
    const dir = join(tmp, 'bundle');
    saveBundle(dir, { featureNames: X.names, classNames: ['a', 'b', 'c'], scaler, model: m });
    const b = loadBundle(dir);
    expect(b.model).toBeInstanceOf(GradientBoostingClassifier);
    expect(Array.from(new ModelPipeline(b).predictProba(test.X))).toEqual(Array.from(m.predictProba(scaler.transform(test.X))));
    expect((b.model as GradientBoostingClassifier).toJSON()).toEqual(m.toJSON());
  });

  it('rejects bad options, inputs and tampered JSON with ModelError naming the field', () => {
    expect(() => new GradientBoostingClassifier({ learningRate: 0 })).toThrow(/options\.learningRate/);
    expect(() => new GradientBoostingClassifier({ maxBins: 256 })).toThrow(/options\.maxBins/);
    expect(() => new GradientBoostingClassifier({ subsample: 1.5 })).toThrow(/options\.subsample/);
    expect(() => new GradientBoostingClassifier({ maxLeafNodes: null })).toThrow(/maxLeafNodes or maxDepth/);
    expect(() => new GradientBoostingClassifier().fit(X, y, 1)).toThrow(/nClasses must be an integer ≥ 2/);
    const bad = createMatrix(2, 1, ['x'], Float64Array.from([1, NaN]));
    expect(() => new GradientBoostingClassifier().fit(bad, Int32Array.from([0, 1]), 2)).toThrow(/X\[1, 0\] \(x\) = NaN is not finite/);
    expect(() => new GradientBoostingClassifier().predict(X)).toThrow(/not fitted/);
    const m = new GradientBoostingClassifier({ nEstimators: 2, maxLeafNodes: 4 }).fit(X, y, 3);
    expect(() => m.predict(createMatrix(1, 2))).toThrow(/2 columns/);
    const good = { algo: 'gbt', ...m.toJSON() };
    type J = ReturnType<typeof m.toJSON>;
    const tamper = (edit: (j: J) => void): unknown => {
      const j = JSON.parse(JSON.stringify(good)) as J;
      edit(j);
      return j;
    };
    expect(modelFromJSON(JSON.parse(JSON.stringify(good)))).toBeInstanceOf(GradientBoostingClassifier);
    const cases: Array<[RegExp, (j: J) => void]> = [
      [/model\.trees: has 5 trees, expected nIter × 3 = 6/, (j) => j.trees.pop()],
      [/model\.baseline: has 2 entries, expected 3/, (j) => j.baseline.pop()],
      [/model\.trees\[1\]\.feature\[0\]: feature index 6 out of range/, (j) => (j.trees[1]!.feature[0] = 6)],
      [/model\.trees\[0\]\.left\[0\]: child index 0 of node 0/, (j) => (j.trees[0]!.left[0] = 0)],
      [/model\.trees\[2\]\.value\[1\]: must be a finite number/, (j) => ((j.trees[2]!.value as unknown[])[1] = 'x')],
      [/model\.nIter: is 3, more than params\.nEstimators = 2/, (j) => (j.nIter = 3)],
      [/model\.params\.maxBins/, (j) => (j.params.maxBins = 1)],
      [/model\.trainLoss: has 1 entries, expected 2/, (j) => j.trainLoss.pop()],
      [/model\.nClasses: must be an integer ≥ 2/, (j) => (j.nClasses = 1)],
    ];
    for (const [re, edit] of cases) expect(() => modelFromJSON(tamper(edit)), String(re)).toThrow(re);
  });
});

(SKLEARN_OK ? describe : describe.skip)(`GradientBoostingClassifier vs ${SK_TAG} HistGradientBoostingClassifier`, () => {
  it.each([['breast_cancer'], ['wine_data'], ['iris'], ['digits']])('%s: held-out accuracy within 2 points, probabilities close', (name) => {
    const lines = name === 'digits'
      ? gunzipSync(readFileSync(join(SK_DATA, 'digits.csv.gz'))).toString().trim().split('\n')
      : readFileSync(join(SK_DATA, `${name}.csv`), 'utf8').trim().split('\n').slice(1);
    const rows = lines.map((l) => l.split(',').map(Number));
    const d = rows[0]!.length - 1;
    const k = Math.max(...rows.map((r) => r[d]!)) + 1;
    const train = rows.filter((_, i) => i % 10 >= 3);
    const test = rows.filter((_, i) => i % 10 < 3);
    const csv = (rs: number[][], f: string): string => {
      writeFileSync(f, `${[...Array.from({ length: d }, (_, i) => `f${i}`), 'label'].join(',')}\n${rs.map((r) => r.join(',')).join('\n')}\n`);
      return f;
    };
    const probaFile = join(tmp, `${name}.proba`);
    const out = execFileSync(PY, [join(REPO, 'scripts', 'sklearn_models.py'), '--model', 'hgb', '--train', csv(train, join(tmp, `${name}.tr.csv`)), '--test', csv(test, join(tmp, `${name}.te.csv`)), '--proba', probaFile], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '1' }, // HistGradientBoosting's OpenMP crawls on busy cores
    });
    const sk = JSON.parse(out) as { accuracy: number };
    const toX = (rs: number[][]): FeatureMatrix => createMatrix(rs.length, d, undefined, Float64Array.from(rs.flatMap((r) => r.slice(0, d))));
    const m = new GradientBoostingClassifier().fit(toX(train), Int32Array.from(train.map((r) => r[d]!)), k);
    const Xt = toX(test);
    expect(Math.abs(accuracy(m.predict(Xt), test.map((r) => r[d]!)) - sk.accuracy)).toBeLessThanOrEqual(0.02);
    const P = m.predictProba(Xt);
    let sum = 0;
    const skP = readFileSync(probaFile, 'utf8').trim().split('\n').map((l) => l.split(',').map(Number));
    skP.forEach((row, r) => row.forEach((v, c) => (sum += Math.abs(v - P[r * k + c]!))));
    expect(sum / (skP.length * k)).toBeLessThan(0.01);
  });
});

async function loadLab(part: 'train' | 'test'): Promise<FlowRecords> {
  const records = new FlowRecords(createFeatureSet().features.map((f) => f.name));
  const labeller = RuleLabeller.fromFile(sharedPath('lab', part, 'labels.csv'));
  await extractCapture(sharedPath('lab', part, 'capture.pcap'), (f) => records.add(f, labeller.labelOf(f), 0));
  return records;
}

describeShared('gradient-boosted trees on the lab captures (train → test)', () => {
  let train: FlowRecords;
  let test: FlowRecords;
  const features = defaultModelFeatures();
  beforeAll(async () => {
    train = await loadLab('train');
    test = await loadLab('test');
  });

  it('trained on lab/train flows (40 iterations), reaches macro-F1 ≥ 0.99 on lab/test', () => {
    const Xtr = createMatrix(train.rows, features.length, features, train.select(features));
    const classNames = [...new Set(train.labels)].sort();
    const y = Int32Array.from(train.labels, (l) => classNames.indexOf(l));
    const scaler = new StandardScaler().fit(Xtr);
    const gbt = new GradientBoostingClassifier({ nEstimators: 40 }).fit(scaler.transform(Xtr), y, classNames.length);
    const pipe = new ModelPipeline({ featureNames: features, classNames, scaler, model: gbt });
    const Xte = createMatrix(test.rows, features.length, features, test.select(features));
    const m = classificationMetrics(test.labels, Array.from(pipe.predict(Xte), (k) => classNames[k]!));
    expect(m.macro_f1).toBeGreaterThanOrEqual(0.99);
    for (const c of classNames) expect(m.classes[c].f1, c).toBeGreaterThan(0.97);
  });
});

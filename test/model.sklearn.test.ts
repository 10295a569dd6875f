/**
 * Parity with scikit-learn (Debian python3-sklearn, run as /usr/bin/python3 or $FLOWSIFT_PYTHON) on the
 * real datasets scikit-learn ships as CSV (breast cancer, wine, iris, digits):
 *  - DecisionTreeClassifier: same root split (feature, threshold to 1e-9), same training accuracy, test
 *    accuracy within 1 point — and in fact the same tree node for node, since flowsift reproduces
 *    scikit-learn's feature-drawing generator when given scikit-learn's derived seed;
 *  - class_weight='balanced' on an imbalanced set: same root split, same predictions on most rows;
 *  - max_features draws: same trees;
 *  - generated flow-like rows whose columns take each sorting path of the tree's data preparation
 *    (counting sort, radix sort, histograms): the same tree node for node;
 *  - StandardScaler: mean_, var_, scale_ to 1e-12 (zero-variance and NaN columns included).
 * The comparison goes through scripts/sklearn_tree.py, the script the benchmark uses.
 * Skipped, with the reason in the suite name, when scikit-learn is not importable.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DecisionTreeClassifier, StandardScaler, createMatrix, type FeatureMatrix } from '../src/model/index.js';

const REPO = resolve(import.meta.dirname, '..');
const PY = process.env.FLOWSIFT_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import sklearn, numpy, os; print(sklearn.__version__); print(os.path.dirname(sklearn.__file__))'], { encoding: 'utf8' });
const SKLEARN_OK = probe.status === 0;
const DATA = SKLEARN_OK ? join(probe.stdout.trim().split('\n')[1]!, 'datasets', 'data') : '';
const REASON = SKLEARN_OK
  ? ''
  : `scikit-learn not importable by ${PY} (${(probe.stderr || String(probe.error ?? '')).trim().split('\n').pop()}); apt-get install python3-sklearn`;
const suite = SKLEARN_OK && existsSync(DATA) ? describe : describe.skip;
const tag = SKLEARN_OK ? `scikit-learn ${probe.stdout.split('\n')[0]}` : `[skipped: ${REASON}]`;

interface Dataset {
  name: string;
  rows: number[][]; // features then class index
  d: number;
  k: number;
}

function loadDataset(name: string): Dataset {
  let lines: string[];
  if (name === 'digits') lines = gunzipSync(readFileSync(join(DATA, 'digits.csv.gz'))).toString().trim().split('\n');
  else lines = readFileSync(join(DATA, `${name}.csv`), 'utf8').trim().split('\n').slice(1); // first line: n, d, class names
  const rows = lines.map((l) => l.split(',').map(Number));
  const d = rows[0]!.length - 1;
  return { name, rows, d, k: Math.max(...rows.map((r) => r[d]!)) + 1 };
}

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

/** Seeded 70/30 split. */
function split(ds: Dataset, seed = 42): { train: number[][]; test: number[][] } {
  const r = prng(seed);
  const order = ds.rows.map((_, i) => [r(), i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
  const nTr = Math.round(ds.rows.length * 0.7);
  return { train: order.slice(0, nTr).map((i) => ds.rows[i]!), test: order.slice(nTr).map((i) => ds.rows[i]!) };
}

function toXY(rows: number[][], d: number): { X: FeatureMatrix; y: Int32Array } {
  const X = createMatrix(rows.length, d, Array.from({ length: d }, (_, i) => `f${i}`), Float64Array.from(rows.flatMap((r) => r.slice(0, d))));
  return { X, y: Int32Array.from(rows.map((r) => r[d]!)) };
}

const tmp = SKLEARN_OK ? mkdtempSync(join(tmpdir(), 'flowsift-sklearn-')) : '';
let fileNo = 0;
function writeCsv(rows: number[][], d: number): string {
  const f = join(tmp, `data${fileNo++}.csv`);
  const header = [...Array.from({ length: d }, (_, i) => `f${i}`), 'label'].join(',');
  writeFileSync(f, `${header}\n${rows.map((r) => r.map(String).join(',')).join('\n')}\n`);
  return f;
}

interface SkTree {
  nodeCount: number;
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
  featureImportances: number[];
}
interface SkResult {
  train_accuracy: number;
  accuracy: number;
  macro_f1: number;
  depth: number;
  node_count: number;
  root: { feature_index: number; threshold: number } | null;
  tree: SkTree;
  predictions: number[];
}

function sklearnTree(train: string, test: string, args: string[]): SkResult {
  const treeJson = join(tmp, `tree${fileNo++}.json`);
  const preds = join(tmp, `pred${fileNo++}.txt`);
  const out = execFileSync(PY, [join(REPO, 'scripts', 'sklearn_tree.py'), '--train', train, '--test', test, '--tree-json', treeJson, '--predictions', preds, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const res = JSON.parse(out) as SkResult;
  res.tree = JSON.parse(readFileSync(treeJson, 'utf8')) as SkTree;
  res.predictions = readFileSync(preds, 'utf8').trim().split('\n').map(Number);
  return res;
}

/** scikit-learn's xorshift state for random_state = s: RandomState(s).randint(0, 2**31 - 1). */
function sklearnSeed(s: number): number {
  return Number(execFileSync(PY, ['-c', `import numpy as np; print(np.random.RandomState(${s}).randint(0, 2**31 - 1))`], { encoding: 'utf8' }).trim());
}

function accuracy(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  let a = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) a++;
  return a / y.length;
}

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

suite(`DecisionTreeClassifier vs ${tag}`, () => {
  const seed = SKLEARN_OK ? sklearnSeed(0) : 0;
  const cases: Array<[string, number | null]> = [];
  for (const name of ['breast_cancer', 'wine_data', 'iris', 'digits']) for (const depth of [2, 5, null]) cases.push([name, depth]);

  it.each(cases)('%s, max_depth=%s: same root split, same accuracies, same tree', (name, depth) => {
    const ds = loadDataset(name);
    const { train, test } = split(ds);
    const sk = sklearnTree(writeCsv(train, ds.d), writeCsv(test, ds.d), ['--max-depth', String(depth ?? 'none'), '--random-state', '0']);
    const tr = toXY(train, ds.d);
    const te = toXY(test, ds.d);
    const tree = new DecisionTreeClassifier({ maxDepth: depth, randomState: seed }).fit(tr.X, tr.y, ds.k);
    const j = tree.toJSON();
    // (b) root split and accuracies
    expect(sk.root).not.toBeNull();
    expect(j.feature[0]).toBe(sk.root!.feature_index);
    expect(Math.abs(j.threshold[0]! - sk.root!.threshold)).toBeLessThanOrEqual(1e-9);
    expect(accuracy(tree.predict(tr.X), tr.y)).toBe(sk.train_accuracy);
    const testAcc = accuracy(tree.predict(te.X), te.y);
    expect(Math.abs(testAcc - sk.accuracy)).toBeLessThanOrEqual(0.01);
    // Stronger: the whole tree and the test predictions.
    expect(j.nodeCount).toBe(sk.tree.nodeCount);
    expect(j.depth).toBe(sk.depth);
    expect(j.feature).toEqual(sk.tree.feature);
    expect(j.left).toEqual(sk.tree.left);
    expect(j.right).toEqual(sk.tree.right);
    j.threshold.forEach((t, i) => expect(Math.abs(t - sk.tree.threshold[i]!)).toBeLessThanOrEqual(1e-9));
    expect(j.value).toEqual(sk.tree.value);
    expect(Array.from(tree.predict(te.X))).toEqual(sk.predictions);
    tree.featureImportances.forEach((v, i) => expect(Math.abs(v - sk.tree.featureImportances[i]!)).toBeLessThanOrEqual(1e-12));
  });

  it.each<[string, object]>([
    ['digits', { compactMaxRows: 0 }],
    ['digits', { compactMaxRows: 64 }],
    ['breast_cancer', { compactMaxRows: 0 }],
    ['wine_data', { compactMaxRows: 0, maxHistogramBins: 0 }],
  ])('%s with tuning %o (histogram and sorted-list paths): the same tree', (name, tuning) => {
    const ds = loadDataset(name);
    const { train, test } = split(ds, 11);
    const sk = sklearnTree(writeCsv(train, ds.d), writeCsv(test, ds.d), ['--random-state', '0']);
    const tree = new DecisionTreeClassifier({ randomState: seed, tuning }).fit(toXY(train, ds.d).X, toXY(train, ds.d).y, ds.k);
    const j = tree.toJSON();
    expect(j.feature).toEqual(sk.tree.feature);
    expect(j.left).toEqual(sk.tree.left);
    j.threshold.forEach((t, i) => expect(Math.abs(t - sk.tree.threshold[i]!)).toBeLessThanOrEqual(1e-9));
    expect(Array.from(tree.predict(toXY(test, ds.d).X))).toEqual(sk.predictions);
  });

  it.each<[string | number]>([['sqrt'], ['log2'], [0.3], [5]])('digits, max_features=%s: the same tree', (mf) => {
    const ds = loadDataset('digits');
    const { train, test } = split(ds, 7);
    const sk = sklearnTree(writeCsv(train, ds.d), writeCsv(test, ds.d), ['--max-features', String(mf), '--random-state', '3']);
    const tr = toXY(train, ds.d);
    const tree = new DecisionTreeClassifier({ maxFeatures: mf as 'sqrt', randomState: sklearnSeed(3) }).fit(tr.X, tr.y, ds.k);
    expect(tree.toJSON().feature).toEqual(sk.tree.feature);
    expect(Array.from(tree.predict(toXY(test, ds.d).X))).toEqual(sk.predictions);
  });

  it('min_samples_leaf and min_impurity_decrease: the same tree', () => {
    const ds = loadDataset('breast_cancer');
    const { train, test } = split(ds, 5);
    const sk = sklearnTree(writeCsv(train, ds.d), writeCsv(test, ds.d), ['--min-samples-leaf', '4', '--min-impurity-decrease', '0.002']);
    const tree = new DecisionTreeClassifier({ minSamplesLeaf: 4, minImpurityDecrease: 0.002, randomState: seed }).fit(toXY(train, ds.d).X, toXY(train, ds.d).y, ds.k);
    expect(tree.toJSON().feature).toEqual(sk.tree.feature);
    expect(tree.toJSON().left).toEqual(sk.tree.left);
  });

  it('generated flow-like rows: a column with more than 4096 distinct values (radix-sorted), one with about a thousand (counting-sorted), a few (histograms): the same tree', () => {
    const r = prng(21);
    const rows: number[][] = [];
    for (let i = 0; i < 6000; i++) {
      const c = r() < 0.5 ? 0 : r() < 0.6 ? 1 : 2;
      const dur = r() * (c + 1); // continuous
      const bytes = Math.floor(Math.exp(r() * 7 + c)); // heavy-tailed integers
      const flag = r() < 0.2 + 0.3 * c ? 1 : 0;
      const pkts = Math.floor(r() * 5) + c;
      rows.push([dur, bytes, flag, pkts, r() < 0.1 ? Math.floor(r() * 3) : c]);
    }
    const train = rows.slice(0, 5000);
    const test = rows.slice(5000);
    const distinct = (j: number): number => new Set(train.map((row) => Math.fround(row[j]!))).size;
    expect(distinct(0)).toBeGreaterThan(4096);
    expect(distinct(1)).toBeGreaterThan(256);
    expect(distinct(1)).toBeLessThanOrEqual(4096);
    const sk = sklearnTree(writeCsv(train, 4), writeCsv(test, 4), ['--random-state', '0']);
    const tree = new DecisionTreeClassifier({ randomState: seed }).fit(toXY(train, 4).X, toXY(train, 4).y, 3);
    const j = tree.toJSON();
    expect(j.nodeCount).toBe(sk.tree.nodeCount);
    expect(j.feature).toEqual(sk.tree.feature);
    expect(j.left).toEqual(sk.tree.left);
    expect(j.right).toEqual(sk.tree.right);
    j.threshold.forEach((t, i) => expect(Math.abs(t - sk.tree.threshold[i]!)).toBeLessThanOrEqual(1e-9));
    expect(j.value).toEqual(sk.tree.value);
    expect(Array.from(tree.predict(toXY(test, 4).X))).toEqual(sk.predictions);
  });

  it.each<[string, number | null]>([
    ['breast_cancer', 4],
    ['breast_cancer', null],
    ['wine_data', null],
    ['digits', 6],
  ])("(c) class_weight='balanced' on an imbalanced %s (max_depth=%s): same root, same predictions on most rows", (name, depth) => {
    const ds = loadDataset(name);
    // Make it imbalanced: keep 1 in 6 rows of class 0 and 1 in 2 of class 1.
    const r = prng(9);
    const rows = ds.rows.filter((row) => (row[ds.d] === 0 ? r() < 1 / 6 : row[ds.d] === 1 ? r() < 0.5 : true));
    const { train, test } = split({ ...ds, rows });
    const sk = sklearnTree(writeCsv(train, ds.d), writeCsv(test, ds.d), ['--class-weight', 'balanced', '--max-depth', String(depth ?? 'none')]);
    const tr = toXY(train, ds.d);
    const te = toXY(test, ds.d);
    const tree = new DecisionTreeClassifier({ classWeight: 'balanced', maxDepth: depth, randomState: seed }).fit(tr.X, tr.y, ds.k);
    expect(tree.toJSON().feature[0]).toBe(sk.root!.feature_index);
    expect(Math.abs(tree.toJSON().threshold[0]! - sk.root!.threshold)).toBeLessThanOrEqual(1e-9);
    const pred = tree.predict(te.X);
    expect(accuracy(pred, sk.predictions)).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(accuracy(pred, te.y) - sk.accuracy)).toBeLessThanOrEqual(0.03);
  });
});

suite(`StandardScaler vs ${tag}`, () => {
  it('(d) mean_, var_ and scale_ equal scikit-learn to 1e-12, with zero-variance, tiny-variance and NaN columns', () => {
    const ds = loadDataset('breast_cancer');
    const r = prng(4);
    const rows = ds.rows.map((row) => [...row.slice(0, ds.d), 42, 1e9 + (r() < 0.5 ? 0 : 1e-6), r() < 0.1 ? NaN : r() * 1e-3 - 7]);
    const d = ds.d + 3;
    const X = createMatrix(rows.length, d, undefined, Float64Array.from(rows.flat()));
    const csv = join(tmp, 'scaler.csv');
    writeFileSync(csv, rows.map((row) => row.map(String).join(',')).join('\n') + '\n');
    const code = [
      'import json, sys, numpy as np',
      'from sklearn.preprocessing import StandardScaler',
      `X = np.loadtxt(${JSON.stringify(csv)}, delimiter=",", ndmin=2)`,
      's = StandardScaler().fit(X)',
      'Z = s.transform(X)',
      'print(json.dumps({"mean": s.mean_.tolist(), "var": s.var_.tolist(), "scale": s.scale_.tolist(), "z0": np.nan_to_num(Z[0]).tolist()}))',
    ].join('\n');
    const sk = JSON.parse(execFileSync(PY, ['-c', code], { encoding: 'utf8' })) as { mean: number[]; var: number[]; scale: number[]; z0: number[] };
    const s = new StandardScaler().fit(X);
    const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(b)));
    s.mean.forEach((v, i) => close(v, sk.mean[i]!));
    s.variance.forEach((v, i) => close(v, sk.var[i]!));
    s.scale.forEach((v, i) => close(v, sk.scale[i]!));
    expect(s.scale[ds.d]).toBe(1); // constant column
    expect(sk.scale[ds.d]).toBe(1);
    const z = s.transformRow(Float64Array.from(rows[0]!));
    z.forEach((v, i) => close(v, sk.z0[i]!)); // NaN → 0 on both sides (scikit-learn keeps NaN; nan_to_num)
  });
});

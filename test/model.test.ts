/**
 * Model stage without external tools: matrix helpers, StandardScaler (hand-computed values), the CART tree
 * against an exhaustive brute-force split oracle on generated data with many ties, predictRow ≡ predict,
 * JSON round trips, option/input validation, and model bundles (round trip, every tampering case).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_FORMAT_VERSION,
  DecisionTreeClassifier,
  FEATURE_THRESHOLD,
  ModelError,
  ModelPipeline,
  StandardScaler,
  TREE_LEAF,
  balancedClassWeights,
  createMatrix,
  getColumn,
  loadBundle,
  matrixFromRows,
  rowView,
  saveBundle,
  selectColumns,
  selectRows,
  toColumnMajor,
  toColumnMajorF32,
  type FeatureMatrix,
} from '../src/model/index.js';

// ----------------------------------------------------------------------------------------------------
// Generated data: seeded, flow-like (small integers with many ties, heavy tails, a constant column).
// ----------------------------------------------------------------------------------------------------

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

function flowLike(n: number, seed: number, k = 3): { X: FeatureMatrix; y: Int32Array } {
  const r = prng(seed);
  const d = 7;
  const X = createMatrix(n, d, ['pkts', 'bytes', 'flag', 'dur', 'const', 'rate', 'port']);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = r() < 0.6 ? 0 : r() < 0.7 ? 1 : Math.min(k - 1, 2);
    y[i] = r() < 0.08 ? Math.floor(r() * k) : c; // label noise
    const row = i * d;
    X.data[row] = Math.floor(r() * 4) + c; // few distinct values
    X.data[row + 1] = Math.floor(Math.exp(r() * 6 + c)); // heavy tail, integers
    X.data[row + 2] = r() < 0.3 + 0.2 * c ? 1 : 0;
    X.data[row + 3] = Math.round(r() * 1000 * (c + 1)) / 10;
    X.data[row + 4] = 7;
    X.data[row + 5] = X.data[row + 1]! / (X.data[row + 3]! + 1);
    X.data[row + 6] = [22, 80, 443, 53][Math.floor(r() * 4)]!;
  }
  return { X, y };
}

// ----------------------------------------------------------------------------------------------------
// Brute-force oracle: the best Gini split of a set of rows (scikit-learn's proxy, float32 values, 1e-7
// float32 tie tolerance, min_samples_leaf), by exhaustive enumeration.
// ----------------------------------------------------------------------------------------------------

function proxyOf(left: number[], right: number[]): number {
  const wl = left.reduce((a, b) => a + b, 0);
  const wr = right.reduce((a, b) => a + b, 0);
  const sl = left.reduce((a, b) => a + b * b, 0);
  const sr = right.reduce((a, b) => a + b * b, 0);
  return -wr * (1.0 - sr / (wr * wr)) - wl * (1.0 - sl / (wl * wl));
}

function bestSplitBrute(X: FeatureMatrix, y: Int32Array, rows: number[], k: number, msl: number): number {
  let best = -Infinity;
  for (let f = 0; f < X.cols; f++) {
    const pts = rows.map((r) => ({ v: Math.fround(X.data[r * X.cols + f]!), c: y[r]! })).sort((a, b) => a.v - b.v);
    for (let pos = 1; pos < pts.length; pos++) {
      if (pts[pos]!.v <= Math.fround(pts[pos - 1]!.v + FEATURE_THRESHOLD)) continue;
      if (pos < msl || pts.length - pos < msl) continue;
      const left = new Array<number>(k).fill(0);
      const right = new Array<number>(k).fill(0);
      pts.forEach((p, i) => (i < pos ? left : right)[p.c]++);
      best = Math.max(best, proxyOf(left, right));
    }
  }
  return best;
}

/** Rows of X reaching each node (routing with the tree's own rule). */
function rowsPerNode(tree: DecisionTreeClassifier, X: FeatureMatrix): number[][] {
  const { feature, threshold, left, right } = tree.nodes;
  const out: number[][] = Array.from({ length: tree.nodeCount }, () => []);
  for (let r = 0; r < X.rows; r++) {
    let node = 0;
    out[0]!.push(r);
    while (left[node] !== TREE_LEAF) {
      node = Math.fround(X.data[r * X.cols + feature[node]!]!) <= threshold[node]! ? left[node]! : right[node]!;
      out[node]!.push(r);
    }
  }
  return out;
}

function checkAgainstOracle(tree: DecisionTreeClassifier, X: FeatureMatrix, y: Int32Array, k: number, msl: number, maxDepth: number | null): void {
  const nodes = tree.nodes;
  const reach = rowsPerNode(tree, X);
  const depth = new Int32Array(tree.nodeCount);
  for (let i = 0; i < tree.nodeCount; i++) {
    const rows = reach[i]!;
    const counts = new Array<number>(k).fill(0);
    for (const r of rows) counts[y[r]!]++;
    expect(nodes.nNodeSamples[i]).toBe(rows.length);
    expect(Array.from(nodes.value.subarray(i * k, (i + 1) * k))).toEqual(counts);
    const best = bestSplitBrute(X, y, rows, k, msl);
    if (nodes.left[i] === TREE_LEAF) {
      // A leaf: pure, no admissible split, or at the depth limit / too small.
      const pure = counts.filter((c) => c > 0).length <= 1;
      const stopped = (maxDepth !== null && depth[i]! >= maxDepth) || rows.length < Math.max(2, 2 * msl);
      expect(pure || stopped || best === -Infinity).toBe(true);
    } else {
      const l = nodes.left[i]!;
      const r = nodes.right[i]!;
      depth[l] = depth[r] = depth[i]! + 1;
      const lc = new Array<number>(k).fill(0);
      const rc = new Array<number>(k).fill(0);
      for (const row of reach[l]!) lc[y[row]!]++;
      for (const row of reach[r]!) rc[y[row]!]++;
      expect(reach[l]!.length).toBeGreaterThanOrEqual(msl);
      expect(reach[r]!.length).toBeGreaterThanOrEqual(msl);
      // The chosen split is an optimal one (exact equality: integer counts, same expression).
      expect(proxyOf(lc, rc)).toBe(best);
    }
  }
}

// ----------------------------------------------------------------------------------------------------

describe('matrix helpers', () => {
  it('creates, views, transposes and selects', () => {
    const m = matrixFromRows([[1, 2, 3], [4, 5, 6]], ['a', 'b', 'c']);
    expect(m.rows).toBe(2);
    expect(Array.from(rowView(m, 1))).toEqual([4, 5, 6]);
    expect(Array.from(getColumn(m, 2))).toEqual([3, 6]);
    expect(Array.from(toColumnMajor(m))).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(toColumnMajorF32(matrixFromRows([[0.1]])))).toEqual([Math.fround(0.1)]);
    const s = selectRows(m, [1, 1, 0]);
    expect(Array.from(s.data)).toEqual([4, 5, 6, 4, 5, 6, 1, 2, 3]);
    const c = selectColumns(m, [2, 0]);
    expect(c.names).toEqual(['c', 'a']);
    expect(Array.from(c.data)).toEqual([3, 1, 6, 4]);
    expect(createMatrix(0, 3).names).toEqual(['f0', 'f1', 'f2']);
    expect(() => createMatrix(2, 2, ['a', 'b'], new Float64Array(3))).toThrow(RangeError);
    expect(() => selectRows(m, [2])).toThrow(RangeError);
    // Large enough to cross the 64-row transposition blocks.
    const big = createMatrix(150, 3, undefined, Float64Array.from({ length: 450 }, (_, i) => i));
    const t = toColumnMajor(big);
    for (let r = 0; r < 150; r++) for (let col = 0; col < 3; col++) expect(t[col * 150 + r]).toBe(r * 3 + col);
  });
});

describe('StandardScaler', () => {
  it('matches hand-computed mean and population std; constant column gets scale 1', () => {
    const X = matrixFromRows([[1, 10, 5], [2, 20, 5], [3, 30, 5], [4, 40, 5]], ['a', 'b', 'c']);
    const s = new StandardScaler().fit(X);
    expect(Array.from(s.mean)).toEqual([2.5, 25, 5]);
    expect(Array.from(s.variance)).toEqual([1.25, 125, 0]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(1.25), 15);
    expect(s.scale[2]).toBe(1);
    const Z = s.transform(X);
    expect(Z.data[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25), 14);
    expect(Z.data[2]).toBe(0); // (5 − 5) / 1
    expect(Z.names).toEqual(['a', 'b', 'c']);
    expect(X.data[0]).toBe(1); // input untouched
  });

  it('maps non-finite inputs to 0 and ignores them when fitting', () => {
    const X = matrixFromRows([[1, NaN], [3, 2], [5, Infinity], [7, 4]]);
    const s = new StandardScaler().fit(X);
    expect(Array.from(s.mean)).toEqual([4, 3]);
    expect(Array.from(s.nSamplesSeen)).toEqual([4, 2]);
    const row = Float64Array.from([NaN, -Infinity]);
    expect(Array.from(s.transformRow(row))).toEqual([0, 0]);
    const row2 = Float64Array.from([0, 0, 4, 3]);
    s.transformRow(row2, 2);
    expect(Array.from(row2)).toEqual([0, 0, 0, 0]);
  });

  it('adds each column in row order (numpy axis-0 order): bit-identical to a plain loop, non-finite values anywhere', () => {
    // 150 rows (two full 64-row blocks and a partial one) × 9 columns (two groups of four and one more),
    // magnitudes from 1e-3 to 1e12 so that any other summation order would round differently.
    const r = prng(17);
    const rows = 150;
    const cols = 9;
    const data = Float64Array.from({ length: rows * cols }, (_, i) => (r() - 0.3) * 10 ** Math.floor(r() * 16 - 3));
    const X = createMatrix(rows, cols, undefined, data);
    const plain = (m: FeatureMatrix): { mean: number[]; variance: number[]; z: number[] } => {
      const mean: number[] = [];
      const variance: number[] = [];
      for (let c = 0; c < m.cols; c++) {
        let sum = 0;
        let n = 0;
        for (let i = 0; i < m.rows; i++) {
          const v = m.data[i * m.cols + c]!;
          if (Number.isFinite(v)) {
            sum += v;
            n++;
          }
        }
        const mu = sum / n;
        let corr = 0;
        let sq = 0;
        for (let i = 0; i < m.rows; i++) {
          const v = m.data[i * m.cols + c]!;
          if (Number.isFinite(v)) {
            corr += v - mu;
            sq += (v - mu) * (v - mu);
          }
        }
        mean.push(mu);
        variance.push((sq - (corr * corr) / n) / n);
      }
      const z = Array.from(m.data, (v, i) => (Number.isFinite(v) ? (v - mean[i % m.cols]!) / Math.sqrt(variance[i % m.cols]!) : 0));
      return { mean, variance, z };
    };
    for (const withNonFinite of [false, true]) {
      if (withNonFinite) for (const [i, v] of [[5, NaN], [64 * 9 + 2, Infinity], [149 * 9 + 7, -Infinity], [130 * 9 + 8, NaN]] as const) data[i] = v;
      const s = new StandardScaler().fit(X);
      const ref = plain(X);
      expect(Array.from(s.mean)).toEqual(ref.mean);
      expect(Array.from(s.variance)).toEqual(ref.variance);
      expect(Array.from(s.transform(X).data)).toEqual(ref.z);
    }
  });

  it('is numerically stable with a large offset', () => {
    const X = matrixFromRows([[1e9 + 1], [1e9 + 2], [1e9 + 3]]);
    const s = new StandardScaler().fit(X);
    expect(s.variance[0]).toBeCloseTo(2 / 3, 9);
  });

  it('round-trips through JSON and validates it', () => {
    const { X } = flowLike(200, 1);
    const s = new StandardScaler().fit(X);
    const back = StandardScaler.fromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    expect(Array.from(back.transform(X).data)).toEqual(Array.from(s.transform(X).data));
    const j = s.toJSON();
    expect(() => StandardScaler.fromJSON({ ...j, scale: j.scale.slice(1) })).toThrow(/scaler\.scale: has 6 entries, expected nFeatures = 7/);
    expect(() => StandardScaler.fromJSON({ ...j, scale: [0, ...j.scale.slice(1)] })).toThrow(/scaler\.scale\[0\]: must be a finite number > 0/);
    expect(() => new StandardScaler().transformRow(new Float64Array(1))).toThrow(ModelError);
    expect(() => s.transform(matrixFromRows([[1, 2]]))).toThrow(/2 columns, the scaler was fitted on 7/);
  });
});

describe('DecisionTreeClassifier on generated flow-like data', () => {
  const { X, y } = flowLike(500, 7);

  // Tuning knobs select the data paths: compact workspace (default here: 500 rows ≤ 512), sorted lists
  // and histograms in the main space (compactMaxRows 0), a mix (16), sorted lists only (maxHistogramBins 0).
  it.each([
    { maxDepth: null, minSamplesLeaf: 1, tuning: {} },
    { maxDepth: 4, minSamplesLeaf: 1, tuning: {} },
    { maxDepth: null, minSamplesLeaf: 5, tuning: {} },
    { maxDepth: null, minSamplesLeaf: 1, tuning: { compactMaxRows: 0 } },
    { maxDepth: null, minSamplesLeaf: 3, tuning: { compactMaxRows: 16 } },
    { maxDepth: null, minSamplesLeaf: 1, tuning: { compactMaxRows: 0, maxHistogramBins: 0 } },
  ])('every split is optimal per an exhaustive oracle (%o)', ({ maxDepth, minSamplesLeaf, tuning }) => {
    const tree = new DecisionTreeClassifier({ maxDepth, minSamplesLeaf, tuning }).fit(X, y, 3);
    expect(tree.nodeCount).toBeGreaterThan(7);
    if (maxDepth !== null) expect(tree.depth).toBeLessThanOrEqual(maxDepth);
    checkAgainstOracle(tree, X, y, 3, minSamplesLeaf, maxDepth);
  });

  it.each([
    [{}, undefined],
    [{ classWeight: 'balanced' as const }, undefined],
    [{ classWeight: [1, 3, 0.5] }, undefined],
    [{ maxFeatures: 'sqrt' as const, randomState: 4 }, undefined],
    [{ minSamplesLeaf: 4 }, Float64Array.from({ length: 500 }, (_, i) => 1 + (i % 3))],
  ])('the tuning knobs do not change the tree (%o, sample weights: %s)', (opts, sw) => {
    const ref = new DecisionTreeClassifier(opts).fit(X, y, 3, sw).toJSON();
    for (const tuning of [{ compactMaxRows: 0 }, { compactMaxRows: 20 }, { maxHistogramBins: 0 }, { maxHistogramBins: 3 }, { compactMaxRows: 0, maxHistogramBins: 0 }]) {
      expect(new DecisionTreeClassifier({ ...opts, tuning }).fit(X, y, 3, sw).toJSON()).toEqual(ref);
    }
    expect(() => new DecisionTreeClassifier({ tuning: { maxHistogramBins: 300 } })).toThrow(/options\.tuning\.maxHistogramBins/);
  });

  it('fits the training data exactly when unlimited (no duplicate rows with different labels)', () => {
    const r = prng(3);
    const n = 300;
    const Xc = createMatrix(n, 2, ['u', 'v'], Float64Array.from({ length: 2 * n }, () => r()));
    const yc = Int32Array.from({ length: n }, () => Math.floor(r() * 4));
    const tree = new DecisionTreeClassifier().fit(Xc, yc, 4);
    expect(Array.from(tree.predict(Xc))).toEqual(Array.from(yc));
  });

  it('predictRow and predictProbaRow equal predict and predictProba', () => {
    const tree = new DecisionTreeClassifier({ maxDepth: 6 }).fit(X, y, 3);
    const pred = tree.predict(X);
    const proba = tree.predictProba(X);
    const out = new Float64Array(3 + 2);
    for (let r = 0; r < X.rows; r++) {
      expect(tree.predictRow(X.data, r * X.cols)).toBe(pred[r]);
      tree.predictProbaRow(X.data, out, r * X.cols, 2);
      expect(Array.from(out.subarray(2))).toEqual(Array.from(proba.subarray(r * 3, r * 3 + 3)));
      expect(tree.predictRow(Float64Array.from(rowView(X, r)))).toBe(pred[r]);
    }
    for (let r = 0; r < X.rows; r++) {
      const p = proba.subarray(r * 3, r * 3 + 3);
      expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 12);
      expect(pred[r]).toBe(p.indexOf(Math.max(...p)));
    }
  });

  it('thresholds separate float64 inputs exactly as the float32 training values', () => {
    // Two values one float32 ulp apart, and float64 values that round to each of them.
    const a = 1.5;
    const b = Math.fround(1.5 + 2 ** -22);
    const Xs = matrixFromRows([[a], [a], [b], [b]]);
    const tree = new DecisionTreeClassifier().fit(Xs, Int32Array.from([0, 0, 1, 1]), 2);
    expect(tree.nodeCount).toBe(3);
    expect(tree.predictRow(Float64Array.from([a + 2 ** -30]))).toBe(0);
    expect(tree.predictRow(Float64Array.from([b - 2 ** -30]))).toBe(1);
    // Closer than 1e-7 (float32 arithmetic): treated as equal, as scikit-learn's FEATURE_THRESHOLD.
    const Xt = matrixFromRows([[1], [1], [Math.fround(1 + 2 ** -23)], [Math.fround(1 + 2 ** -23)]]);
    expect(new DecisionTreeClassifier().fit(Xt, Int32Array.from([0, 0, 1, 1]), 2).nodeCount).toBe(1);
  });

  it('is deterministic for a seed; maxFeatures draws differ between seeds', () => {
    const t1 = new DecisionTreeClassifier({ maxFeatures: 'sqrt', randomState: 11 }).fit(X, y, 3);
    const t2 = new DecisionTreeClassifier({ maxFeatures: 'sqrt', randomState: 11 }).fit(X, y, 3);
    const t3 = new DecisionTreeClassifier({ maxFeatures: 'sqrt', randomState: 12 }).fit(X, y, 3);
    expect(t1.toJSON()).toEqual(t2.toJSON());
    expect(t1.toJSON().feature).not.toEqual(t3.toJSON().feature);
    // Still fits the training set (every split is still a valid split).
    expect(t1.predict(X).filter((p, i) => p === y[i]).length).toBeGreaterThan(0.9 * X.rows);
  });

  it('computes feature importances (sum 1, zero for the constant column)', () => {
    const tree = new DecisionTreeClassifier({ maxDepth: 5 }).fit(X, y, 3);
    const imp = tree.featureImportances;
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(imp[4]).toBe(0);
  });

  it('handles class weights: balanced = n / (k · count)', () => {
    const yy = Int32Array.from([0, 0, 0, 1, 2, 2]);
    expect(Array.from(balancedClassWeights(yy, 4))).toEqual([6 / 9, 6 / 3, 6 / 6, 0]);
    const t = new DecisionTreeClassifier({ classWeight: 'balanced', maxDepth: 3 }).fit(X, y, 3);
    const cw = balancedClassWeights(y, 3);
    const root = t.nodes.value.subarray(0, 3);
    const counts = [0, 0, 0];
    for (const c of y) counts[c]!++;
    for (let c = 0; c < 3; c++) expect(root[c]).toBeCloseTo(counts[c]! * cw[c]!, 9);
    // Explicit weights per class and sample weights are accepted and shape the root totals.
    const t2 = new DecisionTreeClassifier({ classWeight: [1, 2, 3], maxDepth: 2 }).fit(X, y, 3, new Float64Array(X.rows).fill(0.5));
    for (let c = 0; c < 3; c++) expect(t2.nodes.value[c]).toBeCloseTo(counts[c]! * (c + 1) * 0.5, 9);
  });

  it('round-trips through JSON with identical predictions', () => {
    const tree = new DecisionTreeClassifier({ maxDepth: 8, classWeight: 'balanced' }).fit(X, y, 3);
    const back = DecisionTreeClassifier.fromJSON(JSON.parse(JSON.stringify(tree.toJSON())));
    expect(Array.from(back.predictProba(X))).toEqual(Array.from(tree.predictProba(X)));
    expect(back.depth).toBe(tree.depth);
    expect(back.params).toEqual(tree.params);
    expect(Array.from(back.featureImportances)).toEqual(Array.from(tree.featureImportances));
  });

  it('rejects bad options and inputs with ModelError', () => {
    expect(() => new DecisionTreeClassifier({ maxDepth: 0 })).toThrow(/options\.maxDepth: must be null or an integer ≥ 1/);
    expect(() => new DecisionTreeClassifier({ minSamplesSplit: 1 })).toThrow(ModelError);
    expect(() => new DecisionTreeClassifier({ maxFeatures: 'all' as never })).toThrow(/maxFeatures/);
    const bad = createMatrix(2, 1, ['x'], Float64Array.from([1, NaN]));
    expect(() => new DecisionTreeClassifier().fit(bad, Int32Array.from([0, 1]), 2)).toThrow(/X\[1, 0\] \(x\) = NaN is NaN/);
    const huge = createMatrix(2, 1, ['x'], Float64Array.from([1, 1e39]));
    expect(() => new DecisionTreeClassifier().fit(huge, Int32Array.from([0, 1]), 2)).toThrow(/outside the float32 range/);
    const ok = createMatrix(2, 1, ['x'], Float64Array.from([1, 2]));
    expect(() => new DecisionTreeClassifier().fit(ok, Int32Array.from([0, 2]), 2)).toThrow(/y\[1\] = 2 is not a class index/);
    expect(() => new DecisionTreeClassifier().fit(ok, Int32Array.from([0]), 2)).toThrow(ModelError);
    expect(() => new DecisionTreeClassifier().fit(ok, Int32Array.from([0, 1]), 2, Float64Array.from([1, -1]))).toThrow(/sampleWeight\[1\]/);
    expect(() => new DecisionTreeClassifier({ maxFeatures: 3 }).fit(ok, Int32Array.from([0, 1]), 2)).toThrow(/exceeds the 1 features/);
    expect(() => new DecisionTreeClassifier().predict(ok)).toThrow(/not fitted/);
    const t = new DecisionTreeClassifier().fit(ok, Int32Array.from([0, 1]), 2);
    expect(() => t.predict(createMatrix(1, 2))).toThrow(/2 columns, the tree was trained on 1/);
  });

  it('reports the first non-finite value of a column wherever it lies (row 0, in a run, past 4096 distinct values)', () => {
    const fitColumn = (col: number[]) => {
      const n = col.length;
      const X = createMatrix(n, 2, ['a', 'b'], Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 === 0 ? (i >> 1) % 3 : col[i >> 1]!)));
      return () => new DecisionTreeClassifier().fit(X, Int32Array.from({ length: n }, (_, i) => i & 1), 2);
    };
    // NaN first: as float32 it is the canonical NaN pattern, the distinct-value set's empty-slot marker.
    expect(fitColumn([NaN, 1, 1, 2])).toThrow(/X\[0, 1\] \(b\) = NaN is NaN/);
    // Inside a run of one value; the first of two.
    expect(fitColumn([5, 5, 5, 5, 5, 5, Infinity, 5, NaN])).toThrow(/X\[6, 1\] \(b\) = Infinity is infinite/);
    expect(fitColumn([0, 0, 3e38, 4e38, 0])).toThrow(/X\[3, 1\] \(b\) = 4e\+38 is outside the float32 range/);
    // Columns with more than 4096 distinct values are radix-sorted: the rows after the point where the
    // distinct-value count stopped are checked too.
    const many = Array.from({ length: 6000 }, (_, i) => i / 2);
    many[5500] = -Infinity;
    many[5800] = NaN;
    expect(fitColumn(many)).toThrow(/X\[5500, 1\] \(b\) = -Infinity is infinite/);
    many[100] = NaN;
    expect(fitColumn(many)).toThrow(/X\[100, 1\] \(b\) = NaN is NaN/);
  });

  it('columns counting-sorted (≤ 4096 distinct values) and radix-sorted (more) give optimal splits, on every data path', () => {
    const big = flowLike(6000, 11);
    const distinct = (j: number): number => new Set(Array.from({ length: big.X.rows }, (_, r) => Math.fround(big.X.data[r * big.X.cols + j]!))).size;
    expect(distinct(5)).toBeGreaterThan(4096); // rate: radix sort
    expect(distinct(3)).toBeGreaterThan(256); // dur: counting sort
    expect(distinct(3)).toBeLessThanOrEqual(4096);
    expect(distinct(1)).toBeGreaterThan(256); // bytes: counting sort
    const tree = new DecisionTreeClassifier({ maxDepth: 6 }).fit(big.X, big.y, 3);
    checkAgainstOracle(tree, big.X, big.y, 3, 1, 6);
    for (const tuning of [{ compactMaxRows: 0 }, { maxHistogramBins: 0 }, { compactMaxRows: 4096 }]) {
      expect(new DecisionTreeClassifier({ maxDepth: 6, tuning }).fit(big.X, big.y, 3).toJSON()).toEqual(tree.toJSON());
    }
  });

  it('single class and single row give a one-leaf tree', () => {
    const t = new DecisionTreeClassifier().fit(X, new Int32Array(X.rows), 3);
    expect(t.nodeCount).toBe(1);
    expect(t.depth).toBe(0);
    expect(Array.from(t.predictProba(selectRows(X, [0])))).toEqual([1, 0, 0]);
    const one = new DecisionTreeClassifier().fit(selectRows(X, [3]), Int32Array.from([2]), 3);
    expect(one.predictRow(X.data)).toBe(2);
  });
});

// ----------------------------------------------------------------------------------------------------
// Bundles
// ----------------------------------------------------------------------------------------------------

describe('model bundles', () => {
  const root = mkdtempSync(join(tmpdir(), 'flowsift-model-test-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const { X, y } = flowLike(400, 21);
  const scaler = new StandardScaler().fit(X);
  const tree = new DecisionTreeClassifier({ maxDepth: 7 }).fit(scaler.transform(X), y, 3);
  const parts = { featureNames: X.names, classNames: ['BENIGN', 'DoS', 'PortScan'], scaler, model: tree, training: { rows: X.rows } };
  const dir = join(root, 'nested', 'bundle');
  const file = saveBundle(dir, parts);
  const original = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { model: Record<string, unknown>; scaler: Record<string, unknown> };

  it('round trip gives identical predictions and metadata', () => {
    const b = loadBundle(dir);
    expect(b.format).toBe('flowsift-model');
    expect(b.formatVersion).toBe(1); // the lowest version holding the content: no alert threshold
    expect(b.featureNames).toEqual(X.names);
    expect(b.classNames).toEqual(parts.classNames);
    expect(b.training).toEqual({ rows: X.rows });
    expect(typeof b.flowsiftVersion).toBe('string');
    expect(Date.parse(b.createdAt)).not.toBeNaN();
    const Xs = scaler.transform(X);
    expect(Array.from(b.model.predictProba(b.scaler.transform(X)))).toEqual(Array.from(tree.predictProba(Xs)));
    // Accepts the path of model.json too; no temporary file is left behind.
    expect(loadBundle(file).featureNames).toEqual(X.names);
    expect(readFileSync(file, 'utf8').split('\n')[1]).toMatch(/^ {2}"format": "flowsift-model",$/);
  });

  it('pipeline: raw columns in any order, missing ones listed, streaming rows', () => {
    const pipe = new ModelPipeline(loadBundle(dir));
    const expected = tree.predictProba(scaler.transform(X));
    const shuffled = selectColumns(X, [6, 5, 4, 3, 2, 1, 0]);
    expect(Array.from(pipe.predictProba(shuffled))).toEqual(Array.from(expected));
    expect(Array.from(pipe.predict(X))).toEqual(Array.from(tree.predict(scaler.transform(X))));
    expect(() => pipe.predict(selectColumns(X, [0, 2, 3]))).toThrow(/input lacks 4 of the model's 7 features: bytes, const, rate, port/);
    const scorer = pipe.bind(shuffled.names);
    const out = new Float64Array(3);
    for (let r = 0; r < 50; r++) {
      scorer.predictProbaRow(shuffled.data, out, r * 7);
      expect(Array.from(out)).toEqual(Array.from(expected.subarray(r * 3, r * 3 + 3)));
      expect(scorer.predictRow(shuffled.data, r * 7)).toBe(tree.predictRow(scaler.transformRow(Float64Array.from(rowView(X, r)))));
    }
  });

  it('refuses to save inconsistent parts', () => {
    expect(() => saveBundle(join(root, 'x'), { ...parts, classNames: ['a', 'b'] })).toThrow(/3 classes, classNames has 2/);
    expect(() => saveBundle(join(root, 'x'), { ...parts, featureNames: X.names.slice(1) })).toThrow(/7 features, featureNames has 6/);
    expect(() => saveBundle(join(root, 'x'), { ...parts, classNames: ['a', 'a', 'b'] })).toThrow(/duplicate name "a"/);
    writeFileSync(join(root, 'afile'), 'x');
    expect(() => saveBundle(join(root, 'afile'), parts)).toThrow(/is not a directory/);
  });

  let n = 0;
  /** Write a tampered copy of the document and return loadBundle's error. */
  function tampered(edit: (doc: any) => unknown, raw?: string): ModelError {
    const d = join(root, `t${n++}`);
    mkdirSync(d);
    const doc = structuredClone(original);
    edit(doc);
    writeFileSync(join(d, 'model.json'), raw ?? JSON.stringify(doc));
    try {
      loadBundle(d);
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      const err = e as ModelError;
      expect(err.message).not.toContain('\n');
      expect(err.message).toContain(join(d, 'model.json'));
      return err;
    }
    throw new Error('tampered bundle was accepted');
  }

  it('missing directory or file', () => {
    expect(() => loadBundle(join(root, 'nope'))).toThrow(/nope: model bundle not found/);
    mkdirSync(join(root, 'empty'));
    expect(() => loadBundle(join(root, 'empty'))).toThrow(/empty: not a model bundle: no model\.json/);
    expect(existsSync(join(root, 'empty', 'model.json'))).toBe(false);
  });

  it.each<[string, (doc: any) => unknown, RegExp, string?]>([
    ['invalid JSON', () => 0, /invalid JSON/, '{"format": "flowsift-model",'],
    ['not an object', () => 0, /the document is not a JSON object/, '[1, 2]'],
    ['wrong format', (d) => (d.format = 'sklearn-pickle'), /format: not a flowsift model \(format = "sklearn-pickle"/],
    ['newer format version', (d) => (d.formatVersion = BUNDLE_FORMAT_VERSION + 1), new RegExp(`model was written by a newer flowsift \\(format ${BUNDLE_FORMAT_VERSION + 1}\\); this flowsift reads format ${BUNDLE_FORMAT_VERSION}`)],
    ['bad format version', (d) => (d.formatVersion = '1'), /formatVersion: must be a positive integer/],
    ['missing featureNames', (d) => delete d.featureNames, /featureNames: missing or not an array/],
    ['missing createdAt', (d) => delete d.createdAt, /createdAt: missing or not a string/],
    ['missing scaler', (d) => delete d.scaler, /scaler: missing/],
    ['missing training', (d) => delete d.training, /training: missing or not an object/],
    ['missing model', (d) => delete d.model, /model: missing or not an object/],
    ['unknown algorithm', (d) => (d.model.algo = 'xgboost'), /model\.algo: unknown model algorithm 'xgboost'/],
    ['duplicate feature names', (d) => (d.featureNames[1] = d.featureNames[0]), /featureNames\[1\]: duplicate name "pkts"/],
    ['scaler length ≠ features', (d) => d.featureNames.push('extra'), /scaler\.nFeatures: has 7 features but featureNames has 8/],
    ['scaler array length', (d) => d.scaler.mean.pop(), /scaler\.mean: has 6 entries, expected nFeatures = 7/],
    ['class count', (d) => d.classNames.pop(), /model\.nClasses: has 3 classes but classNames has 2/],
    ['node arrays inconsistent', (d) => d.model.threshold.pop(), /model\.threshold: has \d+ entries, expected \d+/],
    ['value array length', (d) => d.model.value.push(1), /model\.value: has \d+ entries/],
    ['child index out of range', (d) => (d.model.left[0] = 99999), /model\.left\[0\]: child index 99999 of node 0 out of range/],
    ['child index backwards (cycle)', (d) => (d.model.right[1] = 0), /model\.(right|left)\[1\]: /],
    ['two parents', (d) => (d.model.right[0] = d.model.left[0]), /has two parents/],
    ['feature index out of range', (d) => (d.model.feature[0] = 7), /model\.feature\[0\]: feature index 7 out of range \[0, 7\)/],
    ['leaf with a feature', (d) => (d.model.feature[d.model.left.indexOf(-1)] = 0), /model\.feature\[\d+\]: leaf \d+ must have feature -2/],
    ['one child', (d) => (d.model.right[0] = -1), /model\.right\[0\]: node 0 has one child/],
    ['infinite threshold', () => 0, /model\.threshold\[0\]: must be a finite number, got null/, 'INF'],
    ['non-finite scale', () => 0, /scaler\.scale\[0\]: must be a finite number > 0/, 'SCALE'],
    ['string number', (d) => (d.model.threshold[0] = '0.5'), /model\.threshold\[0\]: must be a finite number, got "0\.5"/],
    ['negative class total', (d) => (d.model.value[0] = -1), /model\.value\[0\]: class total must be ≥ 0/],
    ['depth mismatch', (d) => (d.model.depth = 99), /model\.depth: is 99 but the nodes form a tree of depth 7/],
    ['bad params', (d) => (d.model.params.maxDepth = -3), /model\.params\.maxDepth: must be null or an integer ≥ 1/],
  ])('tampered bundle: %s', (_name, edit, message, raw) => {
    let text = raw;
    if (raw === 'INF') {
      const doc = structuredClone(original);
      text = JSON.stringify(doc).replace(/"threshold":\[[^,]+,/, '"threshold":[1e999,');
      // 1e999 parses to Infinity: the validator must reject it (reported as the number it became).
      const err = tampered(() => 0, text);
      expect(err.message).toMatch(/model\.threshold\[0\]: must be a finite number, got (null|Infinity)/);
      return;
    }
    if (raw === 'SCALE') {
      text = JSON.stringify(original).replace(/"scale":\[[^,]+,/, '"scale":[-1e999,');
      expect(tampered(() => 0, text).message).toMatch(message);
      return;
    }
    expect(tampered(edit, text).message).toMatch(message);
  });
});

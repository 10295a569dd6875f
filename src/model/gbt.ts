/**
 * Gradient-boosted decision trees for classification (Friedman 2001, "Greedy Function Approximation: A
 * Gradient Boosting Machine", Annals of Statistics 29(5):1189–1232), in the histogram form of
 * scikit-learn's `HistGradientBoostingClassifier` (after LightGBM, Ke et al. 2017):
 *
 * - Loss: multinomial deviance (softmax cross-entropy) for k > 2 classes — k regression trees per
 *   iteration, tree c fitted to the gradient `p_c − [y = c]` and hessian `p_c (1 − p_c)` of class c —
 *   and binomial deviance (one tree per iteration on the log-odds of class 1) for 2 classes. The initial
 *   raw score is the intercept-only model: the (weighted) class frequencies clipped to [eps, 1 − eps],
 *   through the symmetric multinomial logit `log p_c − mean(log p)` (binary: `log(p / (1 − p))`).
 * - Trees: features are binned once (at most `maxBins` ≤ 255 bins: the midpoints between consecutive
 *   distinct values, or with more distinct values the 'midpoint' percentiles of the column, as
 *   scikit-learn's `_BinMapper`, computed on at most 200,000 rows); each tree grows best-first (the leaf
 *   whose best split has the largest gain next) up to `maxLeafNodes` leaves and/or `maxDepth`, from
 *   per-node gradient/hessian histograms (the smaller child's built, the larger's by subtraction).
 *   Split gain `G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)` (λ = `l2Regularization`), splits need a gain > 0,
 *   `minSamplesLeaf` rows and a hessian sum ≥ 1e-3 on each side; a leaf's value is the Newton step
 *   `−G/(H+λ)` times `learningRate`.
 * - Prediction: raw scores = initial + Σ leaf values (`x ≤ threshold` goes left, thresholds being the
 *   bin boundaries in feature units, so float64 inputs are compared exactly as they were binned);
 *   probabilities = softmax (binary: logistic) of the raw scores; class = argmax (first on ties).
 * - Optional: `subsample` < 1 fits each iteration's trees on a random fraction of the rows drawn without
 *   replacement (Friedman 2002, stochastic gradient boosting; scikit-learn's GradientBoostingClassifier
 *   `subsample`); `earlyStopping` holds out a stratified `validationFraction` of the rows and stops when
 *   the validation loss has not improved by more than `tol` for `nIterNoChange` iterations (scikit-learn's
 *   rule); `classWeight` / `sampleWeight` multiply gradients and hessians.
 *
 * Differences from scikit-learn: training values and sums are float64 throughout (scikit-learn keeps
 * gradients in float32); no missing-value bins (inputs must be finite — scale them first) and no
 * categorical features; early stopping is off unless asked for (scikit-learn's `'auto'` turns it on
 * above 10,000 rows) and its validation split and row subsamples are drawn by flowsift's own seeded
 * generator. The results are therefore close to, not identical with, scikit-learn's.
 *
 * Sources: J. H. Friedman, "Greedy Function Approximation: A Gradient Boosting Machine" (2001) and
 * "Stochastic Gradient Boosting" (2002); scikit-learn's `HistGradientBoostingClassifier` and
 * `GradientBoostingClassifier` documentation; G. Ke et al., "LightGBM" (NeurIPS 2017).
 */
import { ModelError } from './errors.js';
import { MT19937 } from './forest.js';
import type { FeatureMatrix } from './matrix.js';
import { checkMatrix } from './scaler.js';
import { balancedClassWeights, type Classifier } from './tree.js';

/** Largest number of bins per feature (a bin index is a byte; scikit-learn's `max_bins` ≤ 255). */
export const GBT_MAX_BINS = 255;
/** Rows used to find the bin thresholds (scikit-learn's `_BinMapper` subsample). */
const BINNING_SUBSAMPLE = 200_000;
/** Minimum hessian sum of each child of a split (scikit-learn's `min_hessian_to_split`). */
const MIN_HESSIAN_TO_SPLIT = 1e-3;
const EPS = 2.220446049250313e-16;
/** Largest finite threshold (scikit-learn's ALMOST_INF clip). */
const ALMOST_INF = 1e300;

/** Options of {@link GradientBoostingClassifier}; every field is optional. */
export interface GradientBoostingOptions {
  /** Boosting iterations (each adds one tree per class, or one tree for 2 classes), integer ≥ 1. Default 100. */
  nEstimators?: number;
  /** Shrinkage of every leaf value, in (0, ∞). Default 0.1. */
  learningRate?: number;
  /** Maximum leaves per tree (integer ≥ 2), or null for no limit (then set `maxDepth`). Default 31. */
  maxLeafNodes?: number | null;
  /** Maximum depth per tree (root = 0; integer ≥ 1), or null (default) for no limit. */
  maxDepth?: number | null;
  /** Minimum rows per leaf, integer ≥ 1. Default 20. */
  minSamplesLeaf?: number;
  /** L2 penalty λ on leaf values, ≥ 0. Default 0. */
  l2Regularization?: number;
  /** Bins per feature, integer in [2, 255]. Default 255. */
  maxBins?: number;
  /** Fraction of the rows each iteration's trees are fitted on, in (0, 1]. Default 1. */
  subsample?: number;
  /** Hold out a validation set and stop when its loss stops improving. Default false. */
  earlyStopping?: boolean;
  /** Fraction of the rows held out for early stopping, in (0, 1). Default 0.1. */
  validationFraction?: number;
  /** Iterations without an improvement larger than `tol` before stopping, integer ≥ 1. Default 10. */
  nIterNoChange?: number;
  /** Minimum improvement of the validation loss, ≥ 0. Default 1e-7. */
  tol?: number;
  /** Class weights: null, `'balanced'` (`n / (k · count_c)`) or one weight ≥ 0 per class. Default null. */
  classWeight?: null | 'balanced' | readonly number[];
  /** Seed of the row subsamples and the validation split, integer in [0, 2^32). Default 0. */
  randomState?: number;
}

/** The options with defaults applied, as stored in the model JSON. */
export interface GradientBoostingParams {
  nEstimators: number;
  learningRate: number;
  maxLeafNodes: number | null;
  maxDepth: number | null;
  minSamplesLeaf: number;
  l2Regularization: number;
  maxBins: number;
  subsample: number;
  earlyStopping: boolean;
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  classWeight: null | 'balanced' | number[];
  randomState: number;
}

/** One regression tree of the ensemble, in plain JSON (node 0 is the root; children after parents). */
export interface RegressionTreeJSON {
  /** Number of nodes. */
  nodeCount: number;
  /** Split feature per node, −1 for leaves. */
  feature: number[];
  /** Split threshold per node (`x ≤ threshold` goes left), 0 for leaves. */
  threshold: number[];
  /** Left child per node, −1 for leaves. */
  left: number[];
  /** Right child per node, −1 for leaves. */
  right: number[];
  /** Leaf value (raw-score contribution, learning rate included) per node; 0 for internal nodes. */
  value: number[];
  /** Split gain per node (0 for leaves), for the feature importances. */
  gain: number[];
}

/** Plain-JSON form of a fitted {@link GradientBoostingClassifier}. */
export interface GradientBoostingJSON {
  /** Number of input features. */
  nFeatures: number;
  /** Number of classes (≥ 2). */
  nClasses: number;
  /** Training options. */
  params: GradientBoostingParams;
  /** Initial raw scores: `nClasses` values, or 1 (log-odds of class 1) for 2 classes. */
  baseline: number[];
  /** Iterations run (≤ `params.nEstimators`; fewer after early stopping). */
  nIter: number;
  /** Trees, iteration-major: `nIter × treesPerIteration` (`nClasses`, or 1 for 2 classes). */
  trees: RegressionTreeJSON[];
  /** Training loss (mean deviance / 2 on the rows fitted) after each iteration. */
  trainLoss: number[];
  /** Validation loss after each iteration (early stopping), else an empty array. */
  validationLoss: number[];
}

/**
 * Resolve and validate boosting options.
 * @throws ModelError naming the offending option (`field` = the option name under `where`).
 */
export function resolveGradientBoostingParams(opts: GradientBoostingOptions = {}, where = 'options'): GradientBoostingParams {
  const bad = (name: string, want: string, got: unknown): ModelError =>
    new ModelError(`must be ${want}, got ${JSON.stringify(got) ?? String(got)}`, { field: `${where}.${name}` });
  const int = (name: keyof GradientBoostingOptions, def: number, min: number, max = Infinity): number => {
    const v = opts[name] ?? def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw bad(name, max === Infinity ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`, v);
    }
    return v;
  };
  const num = (name: keyof GradientBoostingOptions, def: number, ok: (v: number) => boolean, want: string): number => {
    const v = opts[name] ?? def;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw bad(name, want, v);
    return v;
  };
  const intOrNull = (name: 'maxLeafNodes' | 'maxDepth', def: number | null, min: number): number | null => {
    const v = opts[name] === undefined ? def : opts[name];
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw bad(name, `null or an integer ≥ ${min}`, v);
    return v;
  };
  const cwIn = opts.classWeight ?? null;
  let classWeight: GradientBoostingParams['classWeight'] = null;
  if (cwIn === 'balanced') classWeight = 'balanced';
  else if (Array.isArray(cwIn)) {
    classWeight = cwIn.map((v: unknown, i: number) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`classWeight[${i}]`, 'a finite number ≥ 0', v);
      return v;
    });
  } else if (cwIn !== null) throw bad('classWeight', "null, 'balanced' or an array of weights", cwIn);
  const earlyStopping = opts.earlyStopping ?? false;
  if (typeof earlyStopping !== 'boolean') throw bad('earlyStopping', 'a boolean', earlyStopping);
  const p: GradientBoostingParams = {
    nEstimators: int('nEstimators', 100, 1),
    learningRate: num('learningRate', 0.1, (v) => v > 0, 'a number > 0'),
    maxLeafNodes: intOrNull('maxLeafNodes', 31, 2),
    maxDepth: intOrNull('maxDepth', null, 1),
    minSamplesLeaf: int('minSamplesLeaf', 20, 1),
    l2Regularization: num('l2Regularization', 0, (v) => v >= 0, 'a number ≥ 0'),
    maxBins: int('maxBins', GBT_MAX_BINS, 2, GBT_MAX_BINS),
    subsample: num('subsample', 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    earlyStopping,
    validationFraction: num('validationFraction', 0.1, (v) => v > 0 && v < 1, 'a number in (0, 1)'),
    nIterNoChange: int('nIterNoChange', 10, 1),
    tol: num('tol', 1e-7, (v) => v >= 0, 'a number ≥ 0'),
    classWeight,
    randomState: int('randomState', 0, 0, 0xffffffff),
  };
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Binning
// ---------------------------------------------------------------------------------------------------

/**
 * Bin thresholds of one column (scikit-learn's `_find_binning_thresholds`): with at most `maxBins`
 * distinct values, the midpoints between consecutive ones; otherwise the `maxBins − 1` inner
 * 'midpoint' percentiles (numpy's method) of the values. A value x is in bin i iff
 * `t[i−1] < x ≤ t[i]`.
 */
function binThresholds(col: Float64Array, maxBins: number): Float64Array {
  const sorted = col.slice().sort();
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  let t: Float64Array;
  if (distinct <= maxBins) {
    t = new Float64Array(Math.max(0, distinct - 1));
    let prev = sorted[0]!;
    let j = 0;
    for (let i = 1; i < sorted.length; i++) {
      const v = sorted[i]!;
      if (v !== prev) {
        t[j++] = (prev + v) * 0.5;
        prev = v;
      }
    }
  } else {
    const n = sorted.length;
    t = new Float64Array(maxBins - 1);
    for (let q = 1; q < maxBins; q++) {
      // numpy: percentiles = linspace(0, 100, maxBins + 1)[1:-1]; virtual index (n − 1)·p/100;
      // 'midpoint' = halfway between the neighbours, or the value itself at an exact index.
      const pct = (100 * q) / maxBins;
      const idx = ((n - 1) * pct) / 100;
      const lo = Math.floor(idx);
      const hi = Math.min(n - 1, lo + 1);
      const a = sorted[lo]!;
      const b = sorted[hi]!;
      t[q - 1] = idx === lo ? a : b - (b - a) * 0.5;
    }
  }
  for (let i = 0; i < t.length; i++) if (t[i]! > ALMOST_INF) t[i] = ALMOST_INF;
  return t;
}

/** Bin index of `x`: the number of thresholds < x (binary search). */
function binOf(t: Float64Array, x: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= t[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------
// Tree growing (one regression tree on gradients and hessians)
// ---------------------------------------------------------------------------------------------------

interface GrowInput {
  /** Binned training rows, column-major: `binned[f·n + row]`. */
  binned: Uint8Array;
  n: number;
  d: number;
  /** Bins per feature and histogram offset (in bins) per feature. */
  nBins: Int32Array;
  hOff: Int32Array;
  totalBins: number;
  /** Bin thresholds per feature. */
  thresholds: Float64Array[];
  /** Gradient and hessian per row. */
  g: Float64Array;
  h: Float64Array;
  /** Rows to fit on, `rows[0 … m)` (m given to {@link HistGrower.grow}); reordered leaf by leaf. */
  rows: Int32Array;
}

interface GrowParams {
  maxLeafNodes: number;
  maxDepth: number;
  minSamplesLeaf: number;
  l2: number;
  shrinkage: number;
}

/** A grown tree plus, for each leaf, its rows `rows[start … end)` (for updating the raw scores). */
interface GrownTree {
  json: RegressionTreeJSON;
  /** Split bin per node (`bin ≤` goes left), −1 for leaves: routes binned rows. */
  bins: number[];
  leafStart: number[];
  leafEnd: number[];
  leafValue: number[];
}

interface SplitInfo {
  gain: number;
  feature: number;
  bin: number;
  gl: number;
  hl: number;
  nl: number;
}

interface GrowNode {
  id: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array | null;
  split: SplitInfo | null;
}

/**
 * Grows one tree best-first. Histograms are `[G, H, count]` triples per bin, features side by side.
 */
class HistGrower {
  private readonly pool: Float64Array[] = [];
  private og = new Float64Array(0);
  private oh = new Float64Array(0);
  private tmp = new Int32Array(0);
  /** `rows` is 0, 1, …, n − 1 (set by {@link grow} before the first partition). */
  private identity = false;

  constructor(private readonly inp: GrowInput) {}

  private acquire(): Float64Array {
    return this.pool.pop() ?? new Float64Array(this.inp.totalBins * 3);
  }
  private release(h: Float64Array | null): void {
    if (h !== null) this.pool.push(h);
  }

  /** Histograms of `rows[start … end)`. */
  private build(start: number, end: number): Float64Array {
    const { binned, n, d, hOff, g, h, rows } = this.inp;
    const hist = this.acquire();
    hist.fill(0);
    const s = end - start;
    if (s === n && this.identity) {
      // The root of a tree on all rows, before any partition: rows in order, sequential reads.
      for (let f = 0; f < d; f++) {
        const base = hOff[f]! * 3;
        const cb = f * n;
        for (let i = 0; i < n; i++) {
          const x = base + 3 * binned[cb + i]!;
          hist[x] += g[i]!;
          hist[x + 1] += h[i]!;
          hist[x + 2]++;
        }
      }
      return hist;
    }
    if (this.og.length < s) {
      this.og = new Float64Array(this.inp.n);
      this.oh = new Float64Array(this.inp.n);
    }
    const og = this.og;
    const oh = this.oh;
    for (let t = 0; t < s; t++) {
      const i = rows[start + t]!;
      og[t] = g[i]!;
      oh[t] = h[i]!;
    }
    for (let f = 0; f < d; f++) {
      const base = hOff[f]! * 3;
      const cb = f * n;
      for (let t = 0; t < s; t++) {
        const x = base + 3 * binned[cb + rows[start + t]!]!;
        hist[x] += og[t]!;
        hist[x + 1] += oh[t]!;
        hist[x + 2]++;
      }
    }
    return hist;
  }

  /** Best split of a node from its histograms, or null (scikit-learn's `find_node_split`). */
  private findSplit(hist: Float64Array, gSum: number, hSum: number, count: number, p: GrowParams): SplitInfo | null {
    const { d, nBins, hOff } = this.inp;
    const l2 = p.l2;
    const msl = p.minSamplesLeaf;
    const parentLoss = (gSum * gSum) / (hSum + l2);
    let best: SplitInfo | null = null;
    let bestGain = 0; // a split needs a gain > 0 (min_gain_to_split = 0)
    for (let f = 0; f < d; f++) {
      const nb = nBins[f]!;
      const base = hOff[f]! * 3;
      let gl = 0;
      let hl = 0;
      let nl = 0;
      for (let b = 0; b < nb - 1; b++) {
        const x = base + 3 * b;
        gl += hist[x]!;
        hl += hist[x + 1]!;
        nl += hist[x + 2]!;
        if (nl < msl) continue;
        if (count - nl < msl) break;
        const hr = hSum - hl;
        if (hl < MIN_HESSIAN_TO_SPLIT) continue;
        if (hr < MIN_HESSIAN_TO_SPLIT) break;
        const gr = gSum - gl;
        const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentLoss;
        if (gain > bestGain) {
          bestGain = gain;
          best = { gain, feature: f, bin: b, gl, hl, nl };
        }
      }
    }
    return best;
  }

  /** Grow a tree on `rows[0 … m)`. */
  grow(p: GrowParams, m: number): GrownTree {
    const { rows, g, h, binned, n, thresholds } = this.inp;
    this.identity = m === n;
    if (this.identity) for (let i = 0; i < n; i++) rows[i] = i;
    const feature: number[] = [];
    const threshold: number[] = [];
    const left: number[] = [];
    const right: number[] = [];
    const value: number[] = [];
    const gainArr: number[] = [];
    const bins: number[] = [];
    const leafStart: number[] = [];
    const leafEnd: number[] = [];
    const leafValue: number[] = [];
    const addNode = (): number => {
      feature.push(-1);
      threshold.push(0);
      left.push(-1);
      right.push(-1);
      value.push(0);
      gainArr.push(0);
      bins.push(-1);
      return feature.length - 1;
    };
    const finalize = (node: GrowNode): void => {
      const v = (-node.g / (node.h + p.l2)) * p.shrinkage;
      value[node.id] = v;
      leafStart.push(node.start);
      leafEnd.push(node.end);
      leafValue.push(v);
      this.release(node.hist);
      node.hist = null;
    };
    let gSum = 0;
    let hSum = 0;
    for (let t = 0; t < m; t++) {
      gSum += g[rows[t]!]!;
      hSum += h[rows[t]!]!;
    }
    const canSplit = (node: GrowNode): boolean => node.end - node.start >= 2 * p.minSamplesLeaf && node.depth < p.maxDepth;
    const root: GrowNode = { id: addNode(), start: 0, end: m, depth: 0, g: gSum, h: hSum, hist: null, split: null };
    // Splittable leaves, best gain first (a small array: at most maxLeafNodes entries).
    const open: GrowNode[] = [];
    const consider = (node: GrowNode): void => {
      if (!canSplit(node)) {
        finalize(node);
        return;
      }
      if (node.hist === null) node.hist = this.build(node.start, node.end);
      node.split = this.findSplit(node.hist, node.g, node.h, node.end - node.start, p);
      if (node.split === null) finalize(node);
      else open.push(node);
    };
    consider(root);
    let nLeaves = 1;
    if (this.tmp.length < m) this.tmp = new Int32Array(m);
    const tmp = this.tmp;
    while (open.length > 0) {
      if (nLeaves >= p.maxLeafNodes) {
        for (const node of open) finalize(node);
        open.length = 0;
        break;
      }
      let bi = 0;
      for (let i = 1; i < open.length; i++) if (open[i]!.split!.gain > open[bi]!.split!.gain) bi = i;
      const node = open[bi]!;
      open.splice(bi, 1);
      const sp = node.split!;
      this.identity = false;
      // Partition the node's rows stably: bin ≤ sp.bin goes left.
      const col = sp.feature * n;
      let l = node.start;
      let r = 0;
      for (let q = node.start; q < node.end; q++) {
        const i = rows[q]!;
        if (binned[col + i]! <= sp.bin) rows[l++] = i;
        else tmp[r++] = i;
      }
      for (let q = 0; q < r; q++) rows[l + q] = tmp[q]!;
      const mid = l;
      feature[node.id] = sp.feature;
      threshold[node.id] = thresholds[sp.feature]![sp.bin]!;
      gainArr[node.id] = sp.gain;
      bins[node.id] = sp.bin;
      const lc: GrowNode = { id: addNode(), start: node.start, end: mid, depth: node.depth + 1, g: sp.gl, h: sp.hl, hist: null, split: null };
      const rc: GrowNode = { id: addNode(), start: mid, end: node.end, depth: node.depth + 1, g: node.g - sp.gl, h: node.h - sp.hl, hist: null, split: null };
      left[node.id] = lc.id;
      right[node.id] = rc.id;
      nLeaves++;
      // Children's histograms: build the smaller's, the larger's = parent − smaller.
      const needL = canSplit(lc);
      const needR = canSplit(rc);
      if (needL || needR) {
        const small = lc.end - lc.start <= rc.end - rc.start ? lc : rc;
        const large = small === lc ? rc : lc;
        const hs = this.build(small.start, small.end);
        const hp = node.hist!;
        for (let x = 0; x < hp.length; x++) hp[x] = hp[x]! - hs[x]!;
        small.hist = hs;
        large.hist = hp;
        node.hist = null;
      } else {
        this.release(node.hist);
        node.hist = null;
      }
      consider(lc);
      consider(rc);
    }
    return {
      json: { nodeCount: feature.length, feature, threshold, left, right, value, gain: gainArr },
      bins,
      leafStart,
      leafEnd,
      leafValue,
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// The classifier
// ---------------------------------------------------------------------------------------------------

/**
 * Gradient-boosted trees classifier (Friedman 2001), histogram-based like scikit-learn's
 * `HistGradientBoostingClassifier`; see the module documentation.
 *
 * ```ts
 * const gbt = new GradientBoostingClassifier({ nEstimators: 100, learningRate: 0.1 });
 * gbt.fit(X, y, classNames.length);
 * const p = gbt.predictProba(Xtest); // rows × nClasses
 * ```
 */
export class GradientBoostingClassifier implements Classifier {
  /** Algorithm tag in a model bundle. */
  readonly algo = 'gbt';
  /** Resolved training options. */
  readonly params: GradientBoostingParams;

  private _nFeatures = 0;
  private _nClasses = 0;
  private _nIter = 0;
  private baseline = new Float64Array(0);
  private trees: RegressionTreeJSON[] = [];
  private trainLoss: number[] = [];
  private validationLoss: number[] = [];
  // Flat prediction arrays (absolute node ids) and tree roots.
  private fFeature = new Int32Array(0);
  private fThreshold = new Float64Array(0);
  private fLeft = new Int32Array(0);
  private fRight = new Int32Array(0);
  private fValue = new Float64Array(0);
  private fRoots = new Int32Array(0);
  private scratch = new Float64Array(0);

  /** @throws ModelError on invalid options (see {@link resolveGradientBoostingParams}). */
  constructor(options: GradientBoostingOptions = {}) {
    this.params = resolveGradientBoostingParams(options);
    if (this.params.maxLeafNodes === null && this.params.maxDepth === null) {
      throw new ModelError('set maxLeafNodes or maxDepth (both null grows unbounded trees)', { field: 'options.maxLeafNodes' });
    }
  }

  /** True once fitted or loaded. */
  get isFitted(): boolean {
    return this._nIter > 0;
  }
  /** Number of input features (0 before fit). */
  get nFeatures(): number {
    return this._nFeatures;
  }
  /** Number of classes (0 before fit). */
  get nClasses(): number {
    return this._nClasses;
  }
  /** Boosting iterations run (fewer than `nEstimators` after early stopping). */
  get nIter(): number {
    return this._nIter;
  }
  /** Trees per iteration: `nClasses`, or 1 for 2 classes. */
  get treesPerIteration(): number {
    return this._nClasses === 2 ? 1 : this._nClasses;
  }
  /** Training loss after each iteration (a copy). */
  get trainScore(): number[] {
    return [...this.trainLoss];
  }
  /** Validation loss after each iteration with early stopping (a copy; empty otherwise). */
  get validationScore(): number[] {
    return [...this.validationLoss];
  }

  /**
   * Gain-based feature importances (length `nFeatures`): the total split gain of each feature over all
   * trees, normalised to sum 1 (LightGBM's `importance_type='gain'`; scikit-learn's histogram booster
   * has none); all 0 when no tree splits. @throws ModelError when not fitted.
   */
  get featureImportances(): Float64Array {
    this.assertFitted();
    const imp = new Float64Array(this._nFeatures);
    for (const t of this.trees) for (let i = 0; i < t.nodeCount; i++) if (t.feature[i]! >= 0) imp[t.feature[i]!] += t.gain[i]!;
    let s = 0;
    for (const v of imp) s += v;
    if (s > 0) for (let f = 0; f < imp.length; f++) imp[f] = imp[f]! / s;
    return imp;
  }

  /**
   * Fit the ensemble.
   * @param X training matrix, `rows × cols` row-major, finite values (scale first).
   * @param y class index per row in `[0, nClasses)`.
   * @param nClasses number of classes (≥ 2).
   * @param sampleWeight optional non-negative weight per row (multiplies gradients and hessians).
   * @returns this
   * @throws ModelError on malformed input (shape, labels, non-finite values, weights), fewer than 2
   *   classes, a class weight array of the wrong length, a total weight of 0, or too few rows for
   *   early stopping's split.
   */
  fit(X: FeatureMatrix, y: Int32Array, nClasses: number, sampleWeight?: Float64Array): this {
    checkMatrix(X);
    const n0 = X.rows;
    const d = X.cols;
    const p = this.params;
    if (n0 < 1 || d < 1) throw new ModelError('cannot fit on an empty matrix');
    if (!Number.isInteger(nClasses) || nClasses < 2) throw new ModelError(`nClasses must be an integer ≥ 2, got ${nClasses}`);
    if (!(y instanceof Int32Array) || y.length !== n0) throw new ModelError(`y must be an Int32Array of ${n0} class indices`);
    for (let i = 0; i < n0; i++) if (y[i]! < 0 || y[i]! >= nClasses) throw new ModelError(`y[${i}] = ${y[i]} is not a class index in [0, ${nClasses})`);
    for (let i = 0; i < X.data.length; i++) {
      const v = X.data[i]!;
      if (!Number.isFinite(v)) {
        const r = Math.floor(i / d);
        throw new ModelError(`X[${r}, ${i % d}] (${X.names[i % d]}) = ${v} is not finite; gradient boosting needs finite values (clean or scale the features first)`);
      }
    }
    // Weights: sample weight × class weight (null = unit).
    let w: Float64Array | null = null;
    if (sampleWeight !== undefined) {
      if (!(sampleWeight instanceof Float64Array) || sampleWeight.length !== n0) throw new ModelError(`sampleWeight must be a Float64Array of ${n0} weights`);
      for (let i = 0; i < n0; i++) {
        const v = sampleWeight[i]!;
        if (!(v >= 0) || v === Infinity) throw new ModelError(`sampleWeight[${i}] = ${v} is not a finite weight ≥ 0`);
      }
      w = Float64Array.from(sampleWeight);
    }
    if (p.classWeight !== null) {
      let cw: Float64Array;
      if (p.classWeight === 'balanced') cw = balancedClassWeights(y, nClasses);
      else {
        if (p.classWeight.length !== nClasses) throw new ModelError(`classWeight has ${p.classWeight.length} entries for ${nClasses} classes`);
        cw = Float64Array.from(p.classWeight);
      }
      w ??= new Float64Array(n0).fill(1);
      for (let i = 0; i < n0; i++) w[i] = w[i]! * cw[y[i]!]!;
    }
    if (w !== null) {
      let s = 0;
      for (const v of w) s += v;
      if (!(s > 0)) throw new ModelError('the total sample weight is 0');
    }

    const rng = new MT19937(p.randomState);
    // Training / validation rows (early stopping: stratified split, shuffled per class).
    let trainRows: Int32Array;
    let valRows: Int32Array = new Int32Array(0);
    if (p.earlyStopping) {
      const byClass: number[][] = Array.from({ length: nClasses }, () => []);
      for (let i = 0; i < n0; i++) byClass[y[i]!]!.push(i);
      const tr: number[] = [];
      const va: number[] = [];
      for (const rowsC of byClass) {
        for (let i = rowsC.length - 1; i > 0; i--) {
          const j = rng.randint(i + 1);
          const t = rowsC[i]!;
          rowsC[i] = rowsC[j]!;
          rowsC[j] = t;
        }
        const nv = Math.round(rowsC.length * p.validationFraction);
        va.push(...rowsC.slice(0, nv));
        tr.push(...rowsC.slice(nv));
      }
      if (va.length === 0 || tr.length === 0) throw new ModelError(`too few rows (${n0}) for an early-stopping validation split of ${p.validationFraction}`);
      trainRows = Int32Array.from(tr.sort((a, b) => a - b));
      valRows = Int32Array.from(va.sort((a, b) => a - b));
    } else trainRows = Int32Array.from({ length: n0 }, (_, i) => i);
    const n = trainRows.length;

    // Bin thresholds from (at most 200k of) the training rows, then bin training and validation rows.
    let binSource = trainRows;
    if (n > BINNING_SUBSAMPLE) {
      const pick = Int32Array.from(trainRows);
      for (let i = 0; i < BINNING_SUBSAMPLE; i++) {
        const j = i + rng.randint(n - i);
        const t = pick[i]!;
        pick[i] = pick[j]!;
        pick[j] = t;
      }
      binSource = pick.subarray(0, BINNING_SUBSAMPLE);
    }
    const thresholds: Float64Array[] = [];
    const nBins = new Int32Array(d);
    const hOff = new Int32Array(d);
    let totalBins = 0;
    const col = new Float64Array(binSource.length);
    for (let f = 0; f < d; f++) {
      for (let t = 0; t < binSource.length; t++) col[t] = X.data[binSource[t]! * d + f]!;
      const t = binThresholds(col, p.maxBins);
      thresholds.push(t);
      nBins[f] = t.length + 1;
      hOff[f] = totalBins;
      totalBins += t.length + 1;
    }
    const binRows = (rowsIn: Int32Array): Uint8Array => {
      const m = rowsIn.length;
      const out = new Uint8Array(m * d);
      for (let f = 0; f < d; f++) {
        const t = thresholds[f]!;
        for (let r = 0; r < m; r++) out[f * m + r] = binOf(t, X.data[rowsIn[r]! * d + f]!);
      }
      return out;
    };
    const binned = binRows(trainRows);
    const binnedVal = binRows(valRows);
    const yTr = Int32Array.from(trainRows, (i) => y[i]!);
    const yVa = Int32Array.from(valRows, (i) => y[i]!);
    const wTr = w === null ? null : Float64Array.from(trainRows, (i) => w![i]!);
    const wVa = w === null ? null : Float64Array.from(valRows, (i) => w![i]!);

    // Initial raw scores (intercept-only model).
    const k = nClasses;
    const K = k === 2 ? 1 : k;
    const freq = new Float64Array(k);
    let wsum = 0;
    for (let i = 0; i < n; i++) {
      const wi = wTr === null ? 1 : wTr[i]!;
      freq[yTr[i]!] += wi;
      wsum += wi;
    }
    const baseline = new Float64Array(K);
    for (let c = 0; c < k; c++) freq[c] = Math.min(1 - EPS, Math.max(EPS, freq[c]! / wsum));
    if (k === 2) baseline[0] = Math.log(freq[1]! / (1 - freq[1]!));
    else {
      let meanLog = 0;
      for (let c = 0; c < k; c++) meanLog += Math.log(freq[c]!);
      meanLog /= k;
      for (let c = 0; c < k; c++) baseline[c] = Math.log(freq[c]!) - meanLog;
    }
    const raw = new Float64Array(n * K);
    for (let i = 0; i < n; i++) raw.set(baseline, i * K);
    const rawVal = new Float64Array(valRows.length * K);
    for (let i = 0; i < valRows.length; i++) rawVal.set(baseline, i * K);

    const g = new Float64Array(n);
    const h = new Float64Array(n);
    const prob = new Float64Array(n * k);
    const rows = new Int32Array(n);
    const inSample = new Uint8Array(n);
    const trees: RegressionTreeJSON[] = [];
    const trainLoss: number[] = [];
    const valLoss: number[] = [];
    const valScores: number[] = [];
    const gp: GrowParams = {
      maxLeafNodes: p.maxLeafNodes ?? 0x7fffffff,
      maxDepth: p.maxDepth ?? 0x7fffffff,
      minSamplesLeaf: p.minSamplesLeaf,
      l2: p.l2Regularization,
      shrinkage: p.learningRate,
    };
    const grower = new HistGrower({ binned, n, d, nBins, hOff, totalBins, thresholds, g, h, rows });
    const mSample = p.subsample < 1 ? Math.max(1, Math.floor(p.subsample * n)) : n;
    let iter = 0;
    for (; iter < p.nEstimators; iter++) {
      probabilities(raw, n, k, prob);
      // Rows of this iteration (subsample: a random subset, without replacement, in row order).
      let m = n;
      if (mSample < n) {
        inSample.fill(0);
        const perm = Int32Array.from({ length: n }, (_, i) => i);
        for (let i = 0; i < mSample; i++) {
          const j = i + rng.randint(n - i);
          const t = perm[i]!;
          perm[i] = perm[j]!;
          perm[j] = t;
          inSample[perm[i]!] = 1;
        }
        m = 0;
        for (let i = 0; i < n; i++) if (inSample[i]) rows[m++] = i;
      }
      for (let c = 0; c < K; c++) {
        const cls = k === 2 ? 1 : c;
        for (let i = 0; i < n; i++) {
          const pc = prob[i * k + cls]!;
          const wi = wTr === null ? 1 : wTr[i]!;
          g[i] = (pc - (yTr[i] === cls ? 1 : 0)) * wi;
          h[i] = pc * (1 - pc) * wi;
        }
        if (m === n) for (let i = 0; i < n; i++) rows[i] = i;
        else {
          let q = 0;
          for (let i = 0; i < n; i++) if (inSample[i]) rows[q++] = i;
        }
        const grown = grower.grow(gp, m);
        trees.push(grown.json);
        if (m === n) {
          for (let l = 0; l < grown.leafStart.length; l++) {
            const v = grown.leafValue[l]!;
            for (let q = grown.leafStart[l]!; q < grown.leafEnd[l]!; q++) raw[rows[q]! * K + c] += v;
          }
        } else {
          for (let i = 0; i < n; i++) raw[i * K + c] += leafValueBinned(grown, binned, n, i);
        }
        for (let i = 0; i < valRows.length; i++) rawVal[i * K + c] += leafValueBinned(grown, binnedVal, valRows.length, i);
      }
      trainLoss.push(meanLoss(raw, yTr, wTr, n, k));
      if (p.earlyStopping) {
        const vl = meanLoss(rawVal, yVa, wVa, valRows.length, k);
        valLoss.push(vl);
        valScores.push(-vl);
        if (shouldStop(valScores, p.nIterNoChange, p.tol)) {
          iter++;
          break;
        }
      }
    }
    this._nFeatures = d;
    this._nClasses = k;
    this.baseline = baseline;
    this.trainLoss = trainLoss;
    this.validationLoss = valLoss;
    this.setTrees(trees, iter);
    return this;
  }

  private setTrees(trees: RegressionTreeJSON[], nIter: number): void {
    this.trees = trees;
    this._nIter = nIter;
    let total = 0;
    for (const t of trees) total += t.nodeCount;
    this.fFeature = new Int32Array(total);
    this.fThreshold = new Float64Array(total);
    this.fLeft = new Int32Array(total);
    this.fRight = new Int32Array(total);
    this.fValue = new Float64Array(total);
    this.fRoots = new Int32Array(trees.length);
    let base = 0;
    trees.forEach((t, ti) => {
      this.fRoots[ti] = base;
      for (let i = 0; i < t.nodeCount; i++) {
        const gi = base + i;
        this.fFeature[gi] = t.feature[i]!;
        this.fThreshold[gi] = t.threshold[i]!;
        this.fLeft[gi] = t.left[i]! < 0 ? -1 : base + t.left[i]!;
        this.fRight[gi] = t.right[i]! < 0 ? -1 : base + t.right[i]!;
        this.fValue[gi] = t.value[i]!;
      }
      base += t.nodeCount;
    });
    this.scratch = new Float64Array(Math.max(this._nClasses, 2));
  }

  /**
   * Raw scores (before softmax/logistic) of one row into `out[outOffset …)`: `nClasses` values, or one
   * (log-odds of class 1) for 2 classes. Allocation-free. @throws ModelError when not fitted.
   */
  decisionFunctionRow(row: Float64Array, out: Float64Array, offset = 0, outOffset = 0): Float64Array {
    if (this._nIter === 0) this.assertFitted();
    const K = this.treesPerIteration;
    for (let c = 0; c < K; c++) out[outOffset + c] = this.baseline[c]!;
    const feature = this.fFeature;
    const threshold = this.fThreshold;
    const left = this.fLeft;
    const right = this.fRight;
    const roots = this.fRoots;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let l = left[node]!;
      while (l !== -1) {
        node = row[offset + feature[node]!]! <= threshold[node]! ? l : right[node]!;
        l = left[node]!;
      }
      out[outOffset + (t % K)] += this.fValue[node]!;
    }
    return out;
  }

  /**
   * Probabilities of one row into `out[outOffset … outOffset + nClasses)`; allocation-free.
   * @returns `out` @throws ModelError when not fitted.
   */
  predictProbaRow(row: Float64Array, out: Float64Array, offset = 0, outOffset = 0): Float64Array {
    const k = this._nClasses;
    if (k === 2) {
      this.decisionFunctionRow(row, this.scratch, offset, 0);
      const p1 = sigmoid(this.scratch[0]!);
      out[outOffset] = 1 - p1;
      out[outOffset + 1] = p1;
      return out;
    }
    this.decisionFunctionRow(row, out, offset, outOffset);
    softmaxInPlace(out, outOffset, k);
    return out;
  }

  /** Class index of one row (argmax of the probabilities); allocation-free. @throws ModelError when not fitted. */
  predictRow(row: Float64Array, offset = 0): number {
    this.predictProbaRow(row, this.scratch, offset, 0);
    let best = 0;
    for (let c = 1; c < this._nClasses; c++) if (this.scratch[c]! > this.scratch[best]!) best = c;
    return best;
  }

  /**
   * Class probabilities, `rows × nClasses` row-major.
   * @throws ModelError when not fitted or `X.cols !== nFeatures`.
   */
  predictProba(X: FeatureMatrix): Float64Array {
    this.checkInput(X);
    const k = this._nClasses;
    const out = new Float64Array(X.rows * k);
    for (let r = 0; r < X.rows; r++) this.predictProbaRow(X.data, out, r * X.cols, r * k);
    return out;
  }

  /** Class index per row (argmax of {@link predictProba}). @throws ModelError as {@link predictProba}. */
  predict(X: FeatureMatrix): Int32Array {
    this.checkInput(X);
    const out = new Int32Array(X.rows);
    for (let r = 0; r < X.rows; r++) out[r] = this.predictRow(X.data, r * X.cols);
    return out;
  }

  /** Plain-JSON form. @throws ModelError when not fitted. */
  toJSON(): GradientBoostingJSON {
    this.assertFitted();
    return {
      nFeatures: this._nFeatures,
      nClasses: this._nClasses,
      params: { ...this.params, classWeight: Array.isArray(this.params.classWeight) ? [...this.params.classWeight] : this.params.classWeight },
      baseline: Array.from(this.baseline),
      nIter: this._nIter,
      trees: this.trees.map((t) => ({ ...t, feature: [...t.feature], threshold: [...t.threshold], left: [...t.left], right: [...t.right], value: [...t.value], gain: [...t.gain] })),
      trainLoss: [...this.trainLoss],
      validationLoss: [...this.validationLoss],
    };
  }

  /**
   * Rebuild from {@link toJSON} output, validating everything: sizes (`nClasses` ≥ 2, `nIter` ≤
   * `params.nEstimators`, `nIter × treesPerIteration` trees, `baseline` of `treesPerIteration` finite
   * numbers); params (as the constructor); each tree's node arrays (lengths, finite numbers, feature
   * indices, children after their parent and each node the child of one parent, leaves −1/−1).
   * @param field JSON location for error messages (default `"model"`).
   * @throws ModelError naming the offending field.
   */
  static fromJSON(json: unknown, field = 'model'): GradientBoostingClassifier {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('must be an object', { field });
    const o = json as Record<string, unknown>;
    const int = (name: string, min: number): number => {
      const v = o[name];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
        throw new ModelError(`must be an integer ≥ ${min}, got ${JSON.stringify(v) ?? String(v)}`, { field: `${field}.${name}` });
      }
      return v;
    };
    const nFeatures = int('nFeatures', 1);
    const nClasses = int('nClasses', 2);
    const nIter = int('nIter', 1);
    if (o.params === null || typeof o.params !== 'object' || Array.isArray(o.params)) throw new ModelError('missing or not an object', { field: `${field}.params` });
    const model = new GradientBoostingClassifier(resolveGradientBoostingParams(o.params as GradientBoostingOptions, `${field}.params`));
    if (nIter > model.params.nEstimators) throw new ModelError(`is ${nIter}, more than params.nEstimators = ${model.params.nEstimators}`, { field: `${field}.nIter` });
    const K = nClasses === 2 ? 1 : nClasses;
    const nums = (v: unknown, len: number, f: string): number[] => {
      if (!Array.isArray(v)) throw new ModelError('missing or not an array', { field: f });
      if (len >= 0 && v.length !== len) throw new ModelError(`has ${v.length} entries, expected ${len}`, { field: f });
      v.forEach((x: unknown, i: number) => {
        if (typeof x !== 'number' || !Number.isFinite(x)) throw new ModelError(`must be a finite number, got ${JSON.stringify(x) ?? String(x)}`, { field: `${f}[${i}]` });
      });
      return v as number[];
    };
    const baseline = nums(o.baseline, K, `${field}.baseline`);
    const trainLoss = nums(o.trainLoss, nIter, `${field}.trainLoss`);
    const validationLoss = nums(o.validationLoss, -1, `${field}.validationLoss`);
    if (!Array.isArray(o.trees)) throw new ModelError('missing or not an array', { field: `${field}.trees` });
    if (o.trees.length !== nIter * K) throw new ModelError(`has ${o.trees.length} trees, expected nIter × ${K} = ${nIter * K}`, { field: `${field}.trees` });
    const trees = o.trees.map((tj: unknown, ti: number): RegressionTreeJSON => {
      const f = `${field}.trees[${ti}]`;
      if (tj === null || typeof tj !== 'object' || Array.isArray(tj)) throw new ModelError('must be an object', { field: f });
      const t = tj as Record<string, unknown>;
      const nc = t.nodeCount;
      if (typeof nc !== 'number' || !Number.isInteger(nc) || nc < 1) throw new ModelError(`must be an integer ≥ 1, got ${JSON.stringify(nc) ?? String(nc)}`, { field: `${f}.nodeCount` });
      const feature = nums(t.feature, nc, `${f}.feature`);
      const threshold = nums(t.threshold, nc, `${f}.threshold`);
      const left = nums(t.left, nc, `${f}.left`);
      const right = nums(t.right, nc, `${f}.right`);
      const value = nums(t.value, nc, `${f}.value`);
      const gain = nums(t.gain, nc, `${f}.gain`);
      const hasParent = new Uint8Array(nc);
      for (let i = 0; i < nc; i++) {
        const l = left[i]!;
        const r = right[i]!;
        if (l === -1 || r === -1) {
          if (l !== -1 || r !== -1) throw new ModelError(`node ${i} has one child`, { field: `${f}.left[${i}]` });
          if (feature[i] !== -1) throw new ModelError(`leaf ${i} must have feature −1, got ${feature[i]}`, { field: `${f}.feature[${i}]` });
          continue;
        }
        for (const [name, c] of [['left', l], ['right', r]] as const) {
          if (!Number.isInteger(c) || c <= i || c >= nc) throw new ModelError(`child index ${c} of node ${i} out of range (${i}, ${nc})`, { field: `${f}.${name}[${i}]` });
          if (hasParent[c]) throw new ModelError(`node ${c} has two parents`, { field: `${f}.${name}[${i}]` });
          hasParent[c] = 1;
        }
        const fe = feature[i]!;
        if (!Number.isInteger(fe) || fe < 0 || fe >= nFeatures) throw new ModelError(`feature index ${fe} out of range [0, ${nFeatures})`, { field: `${f}.feature[${i}]` });
        if (gain[i]! < 0) throw new ModelError(`must be ≥ 0, got ${gain[i]}`, { field: `${f}.gain[${i}]` });
      }
      for (let i = 1; i < nc; i++) if (!hasParent[i]) throw new ModelError(`node ${i} is not reachable from the root`, { field: `${f}.left` });
      return { nodeCount: nc, feature, threshold, left, right, value, gain };
    });
    model._nFeatures = nFeatures;
    model._nClasses = nClasses;
    model.baseline = Float64Array.from(baseline);
    model.trainLoss = [...trainLoss];
    model.validationLoss = [...validationLoss];
    model.setTrees(trees, nIter);
    return model;
  }

  private assertFitted(): void {
    if (this._nIter === 0) throw new ModelError('GradientBoostingClassifier is not fitted');
  }

  private checkInput(X: FeatureMatrix): void {
    this.assertFitted();
    checkMatrix(X);
    if (X.cols !== this._nFeatures) throw new ModelError(`input has ${X.cols} columns, the model was trained on ${this._nFeatures}`);
  }
}

/**
 * Leaf value of binned row `i` (column-major `binned`, `n` rows) in a grown tree. Routing on bins is
 * routing on values: a split's threshold is its bin's upper boundary `t[b]`, and bin(x) ≤ b ⇔ x ≤ t[b].
 */
function leafValueBinned(t: GrownTree, binned: Uint8Array, n: number, i: number): number {
  const { left, right, feature, value } = t.json;
  let node = 0;
  while (left[node]! !== -1) node = binned[feature[node]! * n + i]! <= t.bins[node]! ? left[node]! : right[node]!;
  return value[node]!;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function softmaxInPlace(a: Float64Array, off: number, k: number): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) if (a[off + c]! > max) max = a[off + c]!;
  let s = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp(a[off + c]! - max);
    a[off + c] = e;
    s += e;
  }
  for (let c = 0; c < k; c++) a[off + c] = a[off + c]! / s;
}

/** Class probabilities of all rows from raw scores (`K` = 1 for 2 classes). */
function probabilities(raw: Float64Array, n: number, k: number, out: Float64Array): void {
  if (k === 2) {
    for (let i = 0; i < n; i++) {
      const p1 = sigmoid(raw[i]!);
      out[2 * i] = 1 - p1;
      out[2 * i + 1] = p1;
    }
    return;
  }
  out.set(raw.subarray(0, n * k));
  for (let i = 0; i < n; i++) softmaxInPlace(out, i * k, k);
}

/** Weighted mean of the half deviance (−log p of the true class), as scikit-learn's loss. */
function meanLoss(raw: Float64Array, y: Int32Array, w: Float64Array | null, n: number, k: number): number {
  let s = 0;
  let ws = 0;
  for (let i = 0; i < n; i++) {
    const wi = w === null ? 1 : w[i]!;
    let l: number;
    if (k === 2) {
      const z = raw[i]!;
      // log(1 + e^z) − y·z, computed stably.
      l = (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - (y[i] === 1 ? z : 0);
    } else {
      let max = -Infinity;
      for (let c = 0; c < k; c++) if (raw[i * k + c]! > max) max = raw[i * k + c]!;
      let se = 0;
      for (let c = 0; c < k; c++) se += Math.exp(raw[i * k + c]! - max);
      l = max + Math.log(se) - raw[i * k + y[i]!]!;
    }
    s += wi * l;
    ws += wi;
  }
  return ws > 0 ? s / ws : 0;
}

/** scikit-learn's `_should_stop`: stop when none of the last `nIterNoChange` scores beats the one before them by more than `tol`. */
function shouldStop(scores: number[], nIterNoChange: number, tol: number): boolean {
  const ref = nIterNoChange + 1;
  if (scores.length < ref) return false;
  const reference = scores[scores.length - ref]! + tol;
  for (let i = scores.length - ref + 1; i < scores.length; i++) if (scores[i]! > reference) return false;
  return true;
}

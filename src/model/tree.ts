/**
 * CART classification tree (Breiman, Friedman, Olshen & Stone 1984, "Classification and Regression
 * Trees") with Gini impurity, reproducing scikit-learn's `DecisionTreeClassifier` (criterion="gini",
 * splitter="best", depth-first builder; checked against scikit-learn 1.2): on the same data and
 * parameters the root split (feature, threshold) is the same, and with scikit-learn's seed (below) the
 * whole tree is the same node for node.
 *
 * Fidelity to scikit-learn:
 * - Training values are rounded to float32 (scikit-learn trains on float32 too); at prediction time the
 *   input is rounded the same way (`Math.fround(x) <= threshold` goes left; NaN goes right), so a threshold
 *   separates any float64 input exactly as it separated the float32 training values.
 * - Candidate thresholds lie between consecutive distinct sorted values; two values closer than
 *   {@link FEATURE_THRESHOLD} (1e-7, compared in float32 arithmetic, scikit-learn's `FEATURE_THRESHOLD`)
 *   count as equal. The threshold is the midpoint `a/2 + b/2` (or `a` if that rounds up to `b`).
 * - The split maximises scikit-learn's proxy improvement `−w_R·gini_R − w_L·gini_L`, computed with the
 *   same expressions. Features are visited in scikit-learn's order: drawn without replacement by its
 *   xorshift generator (`our_rand_r`) with its constant-feature bookkeeping, and the first strictly best
 *   candidate wins, so exact ties between features resolve as in scikit-learn when the generator state is
 *   the same. scikit-learn seeds that state with `RandomState(random_state).randint(0, 2**31 - 1)`;
 *   passing that number as `randomState` reproduces its trees node for node (unit or class weights; with
 *   per-sample float weights, sums may round differently in near-ties).
 * - Leaf/stop rules, `min_samples_split = max(min_samples_split, 2·min_samples_leaf)`,
 *   `min_impurity_decrease` (with its EPSILON slack), constant-feature tracking, the `max_features`
 *   drawing loop, `compute_class_weight('balanced')` and the feature importances are scikit-learn's.
 *   One deliberate difference: with weights, a node holding a single class is a leaf even when float
 *   rounding leaves an impurity of ~1e-16 (scikit-learn then splits it into more leaves of that class).
 * - Node values are weighted class totals (scikit-learn ≤ 1.3 `tree_.value`); probabilities are their
 *   normalisation (`predict_proba`), the predicted class their argmax (first on ties).
 *
 * Speed (no per-sample objects; typed arrays only):
 * - Every feature is sorted once in O(n) (a stable counting sort over its distinct values when it has at
 *   most 4096 — flow features mostly have few, in long runs — else a stable LSD radix sort of the float32
 *   keys); each node scans its presorted segment of each feature in O(n_node) and the segments are
 *   partitioned stably into the children (the SLIQ approach of Mehta, Agrawal & Rissanen 1996): a tree
 *   level costs O(d · n), against scikit-learn's O(d · n log n) per-node sorting. The class label is packed
 *   into the sorted row index so scans read memory sequentially.
 * - Features with at most 256 distinct values (flags, small counts, ports…) keep no sorted list: large
 *   nodes scan them through per-node class histograms (Breiman's categorical-count view; the same
 *   candidates in the same order, so the same split).
 * - A division-free bound skips the exact proxy for hopeless candidates (see `SLACK_UNIT`).
 * - Nodes of at most 512 rows are grown in a compact workspace, their lists side by side in memory
 *   (histogram features there too, counting-sorted: a histogram costs its bins at every node, too much
 *   for small nodes). Measured: 512 rows beat 4096 by about 20 % on the lab flows and the synthetic
 *   100k rows, and by 5–10 % on 300k rows.
 * - A split whose child will be a leaf keeps only the other child's lists (compacted in place, no
 *   partition), and touches none when both are leaves: a large pure class peeled off costs one read.
 * - When few features are examined per split (`maxFeatures` ≤ a quarter of them: random forests), the
 *   presorted lists cost more to keep partitioned than they save; the node-sorting search
 *   ({@link TreeTuning.splitSearch}) then sorts only the features drawn at each node (scikit-learn's way:
 *   filtered from the global sorted order at large nodes, sorted directly at small ones) and partitions
 *   the row list only. Same candidates, same scans, same tree (on the lab flows, 100 trees with
 *   `maxFeatures: 'sqrt'`: about 4× faster than the presorted search).
 * - One-off fits (`flowsift train`, a fresh process) run while the JIT compiles: the hot loops are small
 *   single-loop functions called many times (per column, per node), which V8 optimises early and
 *   whole; a function with several long loops gets compiled for the first one and deoptimised at the
 *   next (no type feedback yet), and record fields read back from a number array are cast with `| 0`
 *   so that calls pass small integers, not heap numbers (which deoptimised the partition repeatedly).
 * Memory: about 8 bytes × rows × (features with more than 256 values) + rows × (the others) + O(rows)
 * (the list buffer is allocated for every feature; the share of the others is never written).
 * The {@link TreeTuning} knobs switch these paths (for tests and measurements); they do not change trees.
 *
 * Ensembles: {@link prepareTreeData} does the sorting and encoding once and
 * {@link DecisionTreeClassifier.fitPrepared} grows trees on it under different sample weights (a
 * random forest's bootstrap counts); rows of weight 0 are left out, as scikit-learn's splitter does.
 */
import { ModelError } from './errors.js';
import { uninitializedBuffer, type FeatureMatrix } from './matrix.js';
import { checkMatrix } from './scaler.js';

/** Child index of a leaf (scikit-learn's `TREE_LEAF`). */
export const TREE_LEAF = -1;
/** Feature and threshold of a leaf (scikit-learn's `TREE_UNDEFINED`). */
export const TREE_UNDEFINED = -2;
/** Values closer than this (float32 arithmetic) are treated as equal when splitting (scikit-learn's value). */
export const FEATURE_THRESHOLD = Math.fround(1e-7);
const EPSILON = 2.220446049250313e-16; // np.finfo(np.float64).eps
const DEFAULT_SEED = 1;

/** Features drawn per split: all (`null`), `floor(sqrt(d))`, `floor(log2(d))`, a count (integer ≥ 1) or a fraction in (0, 1). */
export type MaxFeatures = null | 'sqrt' | 'log2' | number;
/** Class weights: none, scikit-learn's `'balanced'` (`n / (k · count_c)`), or one non-negative weight per class. */
export type ClassWeight = null | 'balanced' | readonly number[];

/** Options of {@link DecisionTreeClassifier}; every field is optional (scikit-learn's defaults). */
export interface DecisionTreeOptions {
  /** Maximum depth (root = depth 0), integer ≥ 1, or `null` for unlimited (default). */
  maxDepth?: number | null;
  /** Minimum samples to split a node: integer ≥ 2, or a fraction in (0, 1) of the training rows (ceil). Default 2. */
  minSamplesSplit?: number;
  /** Minimum samples in each child: integer ≥ 1, or a fraction in (0, 1) of the training rows (ceil). Default 1. */
  minSamplesLeaf?: number;
  /** Split only if the weighted impurity decrease (scikit-learn's definition, fraction of total weight) is ≥ this. Default 0. */
  minImpurityDecrease?: number;
  /** Class weights multiplying the sample weights (see {@link ClassWeight}). Default `null`. */
  classWeight?: ClassWeight;
  /** Features examined per split (see {@link MaxFeatures}); `null` (default) = all. */
  maxFeatures?: MaxFeatures;
  /**
   * Initial state of the feature-drawing generator (scikit-learn's xorshift32 `our_rand_r`, state taken
   * modulo 2^32, 0 acts as 1); it orders the features visited at each node (which breaks exact ties) and
   * draws the `maxFeatures` subsets. Same seed, same data → same tree. Default `null` = 0.
   */
  randomState?: number | null;
  /** Performance knobs; they do not change the tree (not stored in the model). */
  tuning?: TreeTuning;
}

/**
 * Performance knobs of {@link DecisionTreeClassifier.fit}. They do not change the fitted tree with unit
 * sample weights (with weights, sums may round differently: last-bit differences in near-ties).
 */
export interface TreeTuning {
  /** Nodes with at most this many rows are grown in a compact, cache-friendly workspace (default 512; 0 = never). */
  compactMaxRows?: number;
  /** Features with at most this many distinct float32 values are scanned by class histograms at large nodes (default 256, max 256; 0 = never). */
  maxHistogramBins?: number;
  /**
   * Split search: `'presorted'` keeps every feature's rows sorted at every node (partitioned at each
   * split: O(features × rows) per tree level, best when all or most features are examined per split);
   * `'node'` sorts only the features drawn at each node (O(drawn features × node rows × log), the
   * scikit-learn way; best for random forests' `maxFeatures: 'sqrt'`); `'auto'` (default) takes `'node'`
   * when at most a quarter of the features are examined per split.
   */
  splitSearch?: 'auto' | 'presorted' | 'node';
}

/** The options with defaults applied, as stored in the model JSON. */
export interface DecisionTreeParams {
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minImpurityDecrease: number;
  classWeight: null | 'balanced' | number[];
  maxFeatures: MaxFeatures;
  randomState: number | null;
}

/**
 * Plain-JSON form of a fitted tree. Node arrays have `nodeCount` entries, node 0 is the root and children
 * always have larger indices than their parent (depth-first, left child first).
 */
export interface DecisionTreeJSON {
  /** Number of input features. */
  nFeatures: number;
  /** Number of classes; class indices are `0 … nClasses − 1`. */
  nClasses: number;
  /** Training options. */
  params: DecisionTreeParams;
  /** Number of nodes. */
  nodeCount: number;
  /** Depth of the deepest leaf (root alone = 0). */
  depth: number;
  /** Split feature per node; {@link TREE_UNDEFINED} (−2) for leaves. */
  feature: number[];
  /** Split threshold per node (`fround(x) <= threshold` goes left); −2 for leaves. */
  threshold: number[];
  /** Left child per node; {@link TREE_LEAF} (−1) for leaves. */
  left: number[];
  /** Right child per node; −1 for leaves. */
  right: number[];
  /** Weighted class totals, `nodeCount × nClasses` row-major. */
  value: number[];
  /** Gini impurity per node. */
  impurity: number[];
  /** Training samples reaching each node. */
  nNodeSamples: number[];
  /** Total sample weight reaching each node. */
  weightedNNodeSamples: number[];
}

/** Read-only typed views of a fitted tree's node arrays (same layout as {@link DecisionTreeJSON}). */
export interface TreeArrays {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  impurity: Float64Array;
  nNodeSamples: Int32Array;
  weightedNNodeSamples: Float64Array;
}

/**
 * Resolve and validate tree options (scikit-learn's defaults and ranges).
 * @throws ModelError naming the offending option (`field` = the option name under `where`).
 */
export function resolveTreeParams(opts: DecisionTreeOptions = {}, where = 'options'): DecisionTreeParams {
  const bad = (name: string, want: string, got: unknown): ModelError =>
    new ModelError(`must be ${want}, got ${JSON.stringify(got) ?? String(got)}`, { field: `${where}.${name}` });
  const maxDepth = opts.maxDepth ?? null;
  if (maxDepth !== null && (typeof maxDepth !== 'number' || !Number.isInteger(maxDepth) || maxDepth < 1)) {
    throw bad('maxDepth', 'null or an integer ≥ 1', maxDepth);
  }
  const mss = opts.minSamplesSplit ?? 2;
  if (typeof mss !== 'number' || !(Number.isInteger(mss) ? mss >= 2 : mss > 0 && mss < 1)) {
    throw bad('minSamplesSplit', 'an integer ≥ 2 or a fraction in (0, 1)', mss);
  }
  const msl = opts.minSamplesLeaf ?? 1;
  if (typeof msl !== 'number' || !(Number.isInteger(msl) ? msl >= 1 : msl > 0 && msl < 1)) {
    throw bad('minSamplesLeaf', 'an integer ≥ 1 or a fraction in (0, 1)', msl);
  }
  const mid = opts.minImpurityDecrease ?? 0;
  if (typeof mid !== 'number' || !Number.isFinite(mid) || mid < 0) {
    throw bad('minImpurityDecrease', 'a finite number ≥ 0', mid);
  }
  const cw = opts.classWeight ?? null;
  let classWeight: DecisionTreeParams['classWeight'] = null;
  if (cw === 'balanced') classWeight = 'balanced';
  else if (Array.isArray(cw)) {
    classWeight = cw.map((v: unknown, i: number) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`classWeight[${i}]`, 'a finite number ≥ 0', v);
      return v;
    });
  } else if (cw !== null) throw bad('classWeight', "null, 'balanced' or an array of weights", cw);
  const mf = opts.maxFeatures ?? null;
  if (
    !(
      mf === null ||
      mf === 'sqrt' ||
      mf === 'log2' ||
      (typeof mf === 'number' && (Number.isInteger(mf) ? mf >= 1 : mf > 0 && mf < 1))
    )
  ) {
    throw bad('maxFeatures', "null, 'sqrt', 'log2', an integer ≥ 1 or a fraction in (0, 1)", mf);
  }
  const rs = opts.randomState ?? null;
  if (rs !== null && (typeof rs !== 'number' || !Number.isSafeInteger(rs))) throw bad('randomState', 'null or an integer', rs);
  return {
    maxDepth,
    minSamplesSplit: mss,
    minSamplesLeaf: msl,
    minImpurityDecrease: mid,
    classWeight,
    maxFeatures: mf,
    randomState: rs,
  };
}

/**
 * Per-class weights of scikit-learn's `compute_class_weight('balanced', classes=np.unique(y), y=y)`:
 * `n_samples / (n_present_classes · count_c)` for each class present in `y`, 0 for absent classes.
 * @param y class indices in `[0, nClasses)`.
 */
export function balancedClassWeights(y: Int32Array, nClasses: number): Float64Array {
  const counts = new Float64Array(nClasses);
  for (let i = 0; i < y.length; i++) counts[y[i]!]++;
  let present = 0;
  for (let k = 0; k < nClasses; k++) if (counts[k]! > 0) present++;
  const w = new Float64Array(nClasses);
  for (let k = 0; k < nClasses; k++) w[k] = counts[k]! > 0 ? y.length / (present * counts[k]!) : 0;
  return w;
}

/** Number of features examined per split for `d` features (scikit-learn's rules). */
export function resolveMaxFeatures(mf: MaxFeatures, d: number): number {
  if (mf === null) return d;
  if (mf === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(d)));
  if (mf === 'log2') return Math.max(1, Math.floor(Math.log2(d)));
  if (Number.isInteger(mf)) return mf;
  return Math.max(1, Math.floor(mf * d));
}

/** Common interface of the classifiers a model bundle can hold (tree now; forest, MLP later). */
export interface Classifier {
  /** Algorithm tag stored as `model.algo` in a bundle. */
  readonly algo: string;
  /** Number of input features. */
  readonly nFeatures: number;
  /** Number of classes. */
  readonly nClasses: number;
  /** Class index per row of `X` (`rows × nFeatures`). */
  predict(X: FeatureMatrix): Int32Array;
  /** Class probabilities, `rows × nClasses` row-major. */
  predictProba(X: FeatureMatrix): Float64Array;
  /** Class index of one row `row[offset … offset + nFeatures)`; allocation-free. */
  predictRow(row: Float64Array, offset?: number): number;
  /** Probabilities of one row written to `out[outOffset … outOffset + nClasses)`; allocation-free. */
  predictProbaRow(row: Float64Array, out: Float64Array, offset?: number, outOffset?: number): Float64Array;
  /** Plain-JSON form (without the `algo` tag). */
  toJSON(): object;
}

/**
 * CART decision tree classifier (Gini), see the module documentation for the exact semantics.
 *
 * ```ts
 * const tree = new DecisionTreeClassifier({ maxDepth: 12, classWeight: 'balanced' });
 * tree.fit(X, y, classNames.length);
 * const labels = tree.predict(Xtest); // Int32Array of class indices
 * ```
 */
export class DecisionTreeClassifier implements Classifier {
  /** Algorithm tag of a tree in a model bundle. */
  readonly algo = 'tree';
  /** Resolved training options. */
  readonly params: DecisionTreeParams;
  private readonly tuning: Required<TreeTuning>;

  private _nFeatures = 0;
  private _nClasses = 0;
  private _nodeCount = 0;
  private _depth = 0;
  private _feature: Int32Array = new Int32Array(0);
  private _threshold: Float64Array = new Float64Array(0);
  private _left: Int32Array = new Int32Array(0);
  private _right: Int32Array = new Int32Array(0);
  private _value: Float64Array = new Float64Array(0);
  private _impurity: Float64Array = new Float64Array(0);
  private _nNodeSamples: Int32Array = new Int32Array(0);
  private _weightedN: Float64Array = new Float64Array(0);
  private _leafClass: Int32Array = new Int32Array(0);
  private _proba: Float64Array = new Float64Array(0);
  private _importances: Float64Array | null = null;

  /** @throws ModelError on invalid options (see {@link resolveTreeParams}). */
  constructor(options: DecisionTreeOptions = {}) {
    this.params = resolveTreeParams(options);
    const t = options.tuning ?? {};
    const cm = t.compactMaxRows ?? DEFAULT_COMPACT_MAX;
    const hb = t.maxHistogramBins ?? MAX_HIST_BINS;
    if (!Number.isInteger(cm) || cm < 0) throw new ModelError(`must be an integer ≥ 0, got ${cm}`, { field: 'options.tuning.compactMaxRows' });
    if (!Number.isInteger(hb) || hb < 0 || hb > MAX_HIST_BINS) {
      throw new ModelError(`must be an integer in [0, ${MAX_HIST_BINS}], got ${hb}`, { field: 'options.tuning.maxHistogramBins' });
    }
    const ss = t.splitSearch ?? 'auto';
    if (ss !== 'auto' && ss !== 'presorted' && ss !== 'node') {
      throw new ModelError(`must be 'auto', 'presorted' or 'node', got ${JSON.stringify(ss)}`, { field: 'options.tuning.splitSearch' });
    }
    this.tuning = { compactMaxRows: cm, maxHistogramBins: hb, splitSearch: ss };
  }

  /** True once fitted or loaded. */
  get isFitted(): boolean {
    return this._nodeCount > 0;
  }
  /** Number of input features (0 before fit). */
  get nFeatures(): number {
    return this._nFeatures;
  }
  /** Number of classes (0 before fit). */
  get nClasses(): number {
    return this._nClasses;
  }
  /** Number of nodes (internal + leaves). */
  get nodeCount(): number {
    return this._nodeCount;
  }
  /** Number of leaves. */
  get leafCount(): number {
    let n = 0;
    for (let i = 0; i < this._nodeCount; i++) if (this._left[i] === TREE_LEAF) n++;
    return n;
  }
  /** Depth of the deepest leaf (a single-leaf tree has depth 0), as scikit-learn's `get_depth()`. */
  get depth(): number {
    return this._depth;
  }
  /** Typed views of the node arrays (do not mutate). @throws ModelError when not fitted. */
  get nodes(): TreeArrays {
    this.assertFitted();
    return {
      feature: this._feature,
      threshold: this._threshold,
      left: this._left,
      right: this._right,
      value: this._value,
      impurity: this._impurity,
      nNodeSamples: this._nNodeSamples,
      weightedNNodeSamples: this._weightedN,
    };
  }

  /**
   * Feature importances (length `nFeatures`, summing to 1 unless the tree is a single leaf): the total
   * weighted impurity decrease `w_node·gini_node − w_L·gini_L − w_R·gini_R` brought by each feature,
   * normalised — scikit-learn's `feature_importances_` (mean decrease in impurity). A copy.
   * @throws ModelError when not fitted.
   */
  get featureImportances(): Float64Array {
    this.assertFitted();
    if (this._importances === null) {
      const imp = new Float64Array(this._nFeatures);
      const w = this._weightedN;
      const g = this._impurity;
      for (let i = 0; i < this._nodeCount; i++) {
        const l = this._left[i]!;
        if (l === TREE_LEAF) continue;
        const r = this._right[i]!;
        imp[this._feature[i]!] += w[i]! * g[i]! - w[l]! * g[l]! - w[r]! * g[r]!;
      }
      const root = w[0]!;
      let total = 0;
      for (let f = 0; f < imp.length; f++) {
        imp[f] = root > 0 ? imp[f]! / root : 0;
        total += imp[f]!;
      }
      if (total > 0) for (let f = 0; f < imp.length; f++) imp[f] = imp[f]! / total;
      this._importances = imp;
    }
    return this._importances.slice();
  }

  /**
   * Grow the tree.
   * @param X training matrix, `rows × cols` row-major; values must be finite and within float32 range
   *   (scale them first); they are rounded to float32 for training.
   * @param y class index per row, each in `[0, nClasses)`.
   * @param nClasses number of classes (≥ 1); classes absent from `y` are allowed.
   * @param sampleWeight optional non-negative weight per row (multiplied by the class weights), as
   *   scikit-learn's `sample_weight`. Rows whose weight (times their class weight) is 0 take no part in
   *   the tree, as in scikit-learn (its splitter keeps only positively weighted samples): they neither
   *   count in `nNodeSamples` and `minSamplesLeaf` nor create split candidates.
   * @returns this
   * @throws ModelError on malformed input (shape, labels, weights, non-finite values, no rows), options
   *   that do not fit the data (`maxFeatures` > features, class weight count ≠ nClasses), or more rows
   *   than `2^(31 − ⌈log2 nClasses⌉)` (268 million for 5 classes: the row index and the label share 31 bits).
   */
  fit(X: FeatureMatrix, y: Int32Array, nClasses: number, sampleWeight?: Float64Array): this {
    checkMatrix(X);
    const n = X.rows;
    const d = X.cols;
    if (n < 1) throw new ModelError('cannot fit a tree on 0 rows');
    if (d < 1) throw new ModelError('cannot fit a tree on a matrix without columns');
    checkLabels(y, n, nClasses);
    const weights = this.resolveWeights(y, nClasses, sampleWeight);
    checkRowLimit(n, nClasses);
    this.checkMaxFeatures(d);
    const data = new PreparedTreeData(X, y, nClasses, { maxHistogramBins: this.tuning.maxHistogramBins });
    return this.fitData(data, weights, true);
  }

  /**
   * Grow the tree on training data prepared once by {@link prepareTreeData} — the hook for ensembles
   * (random forests, boosting), which fit many trees on the same rows: the per-feature sorting and
   * encoding of the data (most of a small tree's fit time) is done once and shared; each fit copies
   * the sorted lists of the rows it uses (O(rows × features), no sorting). `fitPrepared(prepareTreeData(X,
   * y, k), w)` grows the same tree as `fit(X, y, k, w)`. The histogram-feature detection of the prepared
   * data applies (its `maxHistogramBins`, not this tree's `tuning`; it does not change trees).
   * @param data prepared training data (not modified, may be shared by concurrent fits in workers).
   * @param sampleWeight optional non-negative weight per row, as in {@link fit}; rows of weight 0 are
   *   left out (a bootstrap sample is `sampleWeight` = the number of draws of each row).
   * @returns this
   * @throws ModelError on a malformed weight vector, a total weight of 0, or options that do not fit the
   *   data (as {@link fit}).
   */
  fitPrepared(data: PreparedTreeData, sampleWeight?: Float64Array): this {
    if (!(data instanceof PreparedTreeData)) throw new ModelError('fitPrepared needs data from prepareTreeData');
    const weights = this.resolveWeights(data.y, data.nClasses, sampleWeight);
    this.checkMaxFeatures(data.cols);
    return this.fitData(data, weights, false);
  }

  /**
   * Per-sample weights (copy of `sampleWeight` times the class weights; null = unit) and class weights
   * (null = none), validated. @throws ModelError
   */
  private resolveWeights(y: Int32Array, nClasses: number, sampleWeight: Float64Array | undefined): { w: Float64Array | null; cw: Float64Array | null } {
    const n = y.length;
    const p = this.params;
    let w: Float64Array | null = null;
    if (sampleWeight !== undefined) {
      if (!(sampleWeight instanceof Float64Array) || sampleWeight.length !== n) {
        throw new ModelError(`sampleWeight must be a Float64Array of ${n} weights`);
      }
      for (let i = 0; i < n; i++) {
        const v = sampleWeight[i]!;
        if (!(v >= 0) || v === Infinity) throw new ModelError(`sampleWeight[${i}] = ${v} is not a finite weight ≥ 0`);
      }
      w = Float64Array.from(sampleWeight);
    }
    // Class weights; with sample weights too, the per-sample product (scikit-learn's
    // sample_weight * expanded_class_weight).
    let cw: Float64Array | null = null;
    if (p.classWeight !== null) {
      if (p.classWeight === 'balanced') cw = balancedClassWeights(y, nClasses);
      else {
        if (p.classWeight.length !== nClasses) {
          throw new ModelError(`classWeight has ${p.classWeight.length} entries for ${nClasses} classes`);
        }
        cw = Float64Array.from(p.classWeight);
      }
      if (w !== null) for (let i = 0; i < n; i++) w[i] = w[i]! * cw[y[i]!]!;
    }
    if (w !== null || cw !== null) {
      let total = 0;
      for (let i = 0; i < n; i++) total += w !== null ? w[i]! : cw![y[i]!]!;
      if (!(total > 0)) throw new ModelError('the total sample weight is 0');
    }
    return { w, cw };
  }

  private checkMaxFeatures(d: number): void {
    const maxFeatures = resolveMaxFeatures(this.params.maxFeatures, d);
    if (maxFeatures > d) throw new ModelError(`maxFeatures = ${maxFeatures} exceeds the ${d} features`);
  }

  /**
   * Grow on prepared data. Rows of weight 0 are left out. Presorted mode: a compacted copy of the sorted
   * lists of the rows kept (or a copy of the lists, or the lists themselves when `owned`). Node-sorting
   * mode: the prepared data is only read.
   */
  private fitData(data: PreparedTreeData, weights: { w: Float64Array | null; cw: Float64Array | null }, owned: boolean): this {
    const p = this.params;
    const n = data.rows;
    const d = data.cols;
    const k = data.nClasses;
    let { w } = weights;
    const { cw } = weights;
    let y = data.y;
    let m = n;
    let newIndex: Int32Array | null = null;
    if (w !== null || cw !== null) {
      newIndex = new Int32Array(n);
      m = 0;
      for (let i = 0; i < n; i++) {
        const keep = (w !== null ? w[i]! : cw![y[i]!]!) > 0;
        newIndex[i] = keep ? m++ : -1;
      }
      if (m === n) newIndex = null;
    }
    const maxFeatures = resolveMaxFeatures(p.maxFeatures, d);
    const ss = this.tuning.splitSearch;
    const nodeSort = ss === 'node' || (ss === 'auto' && 4 * maxFeatures <= d);
    // Fractions of the rows count all the training rows (scikit-learn's X.shape[0]).
    const minSamplesLeaf = Number.isInteger(p.minSamplesLeaf) ? p.minSamplesLeaf : Math.ceil(p.minSamplesLeaf * n);
    let minSamplesSplit = Number.isInteger(p.minSamplesSplit)
      ? p.minSamplesSplit
      : Math.max(2, Math.ceil(p.minSamplesSplit * n));
    minSamplesSplit = Math.max(minSamplesSplit, 2 * minSamplesLeaf);
    const bp: BuildParams = {
      maxDepth: p.maxDepth ?? 0x7fffffff,
      minSamplesSplit,
      minSamplesLeaf,
      minImpurityDecrease: p.minImpurityDecrease,
      maxFeatures,
      seed: p.randomState === null ? 0 : p.randomState,
      compactMaxRows: this.tuning.compactMaxRows,
      nodeSort,
    };
    const inner = internals(data);
    const full = inner.prep;
    let built: BuiltTree;
    if (nodeSort) {
      let rows: Int32Array;
      if (newIndex === null) rows = Int32Array.from({ length: n }, (_, i) => i);
      else {
        rows = new Int32Array(m);
        for (let i = 0; i < n; i++) if (newIndex[i]! >= 0) rows[newIndex[i]!] = i;
      }
      built = new TreeBuilder(full, n, d, y, k, w, cw, bp, rows, columnValues(inner, n), columnRanks(inner, n)).build();
    } else {
      let prep: Prepared;
      if (newIndex !== null) {
        prep = subsetPrepared(full, n, newIndex, m, inner.labelBits);
        const ys = new Int32Array(m);
        const ws = w !== null ? new Float64Array(m) : null;
        for (let i = 0; i < n; i++) {
          const j = newIndex[i]!;
          if (j < 0) continue;
          ys[j] = y[i]!;
          if (ws !== null) ws[j] = w![i]!;
        }
        y = ys;
        w = ws;
      } else if (owned) prep = full;
      else {
        const pairs = full.pairs.slice();
        prep = { ...full, pairs, vals: new Float32Array(pairs.buffer), codes: new Int32Array(pairs.buffer) };
      }
      built = new TreeBuilder(prep, m, d, y, k, w, cw, bp).build();
    }
    this.setArrays(d, k, built);
    return this;
  }

  /**
   * Class index per row (argmax of {@link predictProba}, first class on ties, as numpy's argmax).
   * @param X `rows × nFeatures` row-major (raw float64; rounded to float32 when compared).
   * @throws ModelError when not fitted or `X.cols !== nFeatures`.
   */
  predict(X: FeatureMatrix): Int32Array {
    this.checkInput(X);
    const out = new Int32Array(X.rows);
    const cols = X.cols;
    for (let r = 0; r < X.rows; r++) out[r] = this._leafClass[this.leafIndex(X.data, r * cols)]!;
    return out;
  }

  /**
   * Class probabilities: the leaf's weighted class totals normalised to sum 1 (all 0 if the leaf has no
   * weight), as scikit-learn's `predict_proba`.
   * @returns `rows × nClasses` row-major.
   * @throws ModelError when not fitted or `X.cols !== nFeatures`.
   */
  predictProba(X: FeatureMatrix): Float64Array {
    this.checkInput(X);
    const k = this._nClasses;
    const out = new Float64Array(X.rows * k);
    const cols = X.cols;
    for (let r = 0; r < X.rows; r++) {
      const leaf = this.leafIndex(X.data, r * cols);
      for (let c = 0; c < k; c++) out[r * k + c] = this._proba[leaf * k + c]!;
    }
    return out;
  }

  /**
   * Class index of one row, allocation-free (streaming scoring). Reads `row[offset + f]` for the split
   * features; no bounds check. NaN goes right at every split.
   * @throws ModelError when not fitted.
   */
  predictRow(row: Float64Array, offset = 0): number {
    if (this._nodeCount === 0) this.assertFitted();
    return this._leafClass[this.leafIndex(row, offset)]!;
  }

  /**
   * Probabilities of one row written into `out[outOffset … outOffset + nClasses)`, allocation-free.
   * @returns `out`
   * @throws ModelError when not fitted.
   */
  predictProbaRow(row: Float64Array, out: Float64Array, offset = 0, outOffset = 0): Float64Array {
    if (this._nodeCount === 0) this.assertFitted();
    const leaf = this.leafIndex(row, offset);
    const k = this._nClasses;
    for (let c = 0; c < k; c++) out[outOffset + c] = this._proba[leaf * k + c]!;
    return out;
  }

  /** Index of the leaf reached by `row[offset …]` (scikit-learn's `apply` for one row). No checks. */
  leafIndex(row: Float64Array, offset = 0): number {
    const feature = this._feature;
    const threshold = this._threshold;
    const left = this._left;
    const right = this._right;
    let node = 0;
    let l = left[0]!;
    while (l !== TREE_LEAF) {
      node = Math.fround(row[offset + feature[node]!]!) <= threshold[node]! ? l : right[node]!;
      l = left[node]!;
    }
    return node;
  }

  /** Plain-JSON form (typed arrays become number arrays). @throws ModelError when not fitted. */
  toJSON(): DecisionTreeJSON {
    this.assertFitted();
    return {
      nFeatures: this._nFeatures,
      nClasses: this._nClasses,
      params: { ...this.params, classWeight: Array.isArray(this.params.classWeight) ? [...this.params.classWeight] : this.params.classWeight },
      nodeCount: this._nodeCount,
      depth: this._depth,
      feature: Array.from(this._feature),
      threshold: Array.from(this._threshold),
      left: Array.from(this._left),
      right: Array.from(this._right),
      value: Array.from(this._value),
      impurity: Array.from(this._impurity),
      nNodeSamples: Array.from(this._nNodeSamples),
      weightedNNodeSamples: Array.from(this._weightedN),
    };
  }

  /**
   * Rebuild a tree from {@link toJSON} output, validating everything: integer sizes; every node array of
   * length `nodeCount` (`value` of `nodeCount × nClasses`); finite numbers; internal nodes with a feature
   * in `[0, nFeatures)`, a finite threshold and two children with larger indices, each node the child of
   * exactly one parent; leaves with feature/threshold −2 and children −1; non-negative values; `depth`
   * consistent with the structure.
   * @param field JSON location for error messages (default `"model"`).
   * @throws ModelError naming the offending field.
   */
  static fromJSON(json: unknown, field = 'model'): DecisionTreeClassifier {
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
    const nClasses = int('nClasses', 1);
    const nodeCount = int('nodeCount', 1);
    const depthIn = int('depth', 0);
    if (o.params === null || typeof o.params !== 'object' || Array.isArray(o.params)) {
      throw new ModelError('missing or not an object', { field: `${field}.params` });
    }
    const tree = new DecisionTreeClassifier(resolveTreeParams(o.params as DecisionTreeOptions, `${field}.params`));
    const nums = (name: string, len: number): number[] => {
      const a = o[name];
      const f = `${field}.${name}`;
      if (!Array.isArray(a)) throw new ModelError('missing or not an array', { field: f });
      if (a.length !== len) throw new ModelError(`has ${a.length} entries, expected ${len}`, { field: f });
      for (let i = 0; i < len; i++) {
        const v: unknown = a[i];
        if (typeof v !== 'number' || !Number.isFinite(v)) {
          throw new ModelError(`must be a finite number, got ${JSON.stringify(v) ?? String(v)}`, { field: `${f}[${i}]` });
        }
      }
      return a as number[];
    };
    const feature = nums('feature', nodeCount);
    const threshold = nums('threshold', nodeCount);
    const left = nums('left', nodeCount);
    const right = nums('right', nodeCount);
    const value = nums('value', nodeCount * nClasses);
    const impurity = nums('impurity', nodeCount);
    const nNodeSamples = nums('nNodeSamples', nodeCount);
    const weightedN = nums('weightedNNodeSamples', nodeCount);
    const parents = new Int32Array(nodeCount);
    const depthOf = new Int32Array(nodeCount);
    let depth = 0;
    for (let i = 0; i < nodeCount; i++) {
      const l = left[i]!;
      const r = right[i]!;
      const at = (name: string): string => `${field}.${name}[${i}]`;
      if (l === TREE_LEAF || r === TREE_LEAF) {
        if (l !== TREE_LEAF || r !== TREE_LEAF) {
          throw new ModelError(`node ${i} has one child: left = ${l}, right = ${r}`, { field: at(l === TREE_LEAF ? 'left' : 'right') });
        }
        if (feature[i] !== TREE_UNDEFINED) throw new ModelError(`leaf ${i} must have feature ${TREE_UNDEFINED}, got ${feature[i]}`, { field: at('feature') });
      } else {
        for (const [name, c] of [['left', l], ['right', r]] as const) {
          if (!Number.isInteger(c) || c <= i || c >= nodeCount) {
            throw new ModelError(`child index ${c} of node ${i} out of range (${i}, ${nodeCount})`, { field: at(name) });
          }
          if (parents[c]! > 0) throw new ModelError(`node ${c} has two parents`, { field: at(name) });
          parents[c] = 1;
          depthOf[c] = depthOf[i]! + 1;
          if (depthOf[c]! > depth) depth = depthOf[c]!;
        }
        const f = feature[i]!;
        if (!Number.isInteger(f) || f < 0 || f >= nFeatures) {
          throw new ModelError(`feature index ${f} out of range [0, ${nFeatures})`, { field: at('feature') });
        }
      }
      const ns = nNodeSamples[i]!;
      if (!Number.isInteger(ns) || ns < 0) throw new ModelError(`must be a non-negative integer, got ${ns}`, { field: at('nNodeSamples') });
      if (weightedN[i]! < 0) throw new ModelError(`must be ≥ 0, got ${weightedN[i]}`, { field: at('weightedNNodeSamples') });
      if (impurity[i]! < 0) throw new ModelError(`must be ≥ 0, got ${impurity[i]}`, { field: at('impurity') });
    }
    for (let i = 1; i < nodeCount; i++) {
      if (parents[i] === 0) throw new ModelError(`node ${i} is not reachable from the root`, { field: `${field}.left` });
    }
    for (let i = 0; i < value.length; i++) {
      if (value[i]! < 0) throw new ModelError(`class total must be ≥ 0, got ${value[i]}`, { field: `${field}.value[${i}]` });
    }
    if (depth !== depthIn) throw new ModelError(`is ${depthIn} but the nodes form a tree of depth ${depth}`, { field: `${field}.depth` });
    tree.setArrays(nFeatures, nClasses, {
      nodeCount,
      depth,
      feature: Int32Array.from(feature),
      threshold: Float64Array.from(threshold),
      left: Int32Array.from(left),
      right: Int32Array.from(right),
      value: Float64Array.from(value),
      impurity: Float64Array.from(impurity),
      nNodeSamples: Int32Array.from(nNodeSamples),
      weightedN: Float64Array.from(weightedN),
    });
    return tree;
  }

  private setArrays(nFeatures: number, nClasses: number, b: BuiltTree): void {
    this._nFeatures = nFeatures;
    this._nClasses = nClasses;
    this._nodeCount = b.nodeCount;
    this._depth = b.depth;
    this._feature = b.feature;
    this._threshold = b.threshold;
    this._left = b.left;
    this._right = b.right;
    this._value = b.value;
    this._impurity = b.impurity;
    this._nNodeSamples = b.nNodeSamples;
    this._weightedN = b.weightedN;
    this._importances = null;
    // Normalised leaf distributions and argmax classes (as predict_proba then argmax in scikit-learn).
    const k = nClasses;
    const proba = new Float64Array(b.nodeCount * k);
    const cls = new Int32Array(b.nodeCount);
    for (let i = 0; i < b.nodeCount; i++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += b.value[i * k + c]!;
      const norm = s === 0 ? 1 : s;
      let best = 0;
      for (let c = 0; c < k; c++) {
        const v = b.value[i * k + c]! / norm;
        proba[i * k + c] = v;
        if (v > proba[i * k + best]!) best = c;
      }
      cls[i] = best;
    }
    this._proba = proba;
    this._leafClass = cls;
  }

  private assertFitted(): void {
    if (this._nodeCount === 0) throw new ModelError('DecisionTreeClassifier is not fitted');
  }

  private checkInput(X: FeatureMatrix): void {
    this.assertFitted();
    checkMatrix(X);
    if (X.cols !== this._nFeatures) {
      throw new ModelError(`input has ${X.cols} columns, the tree was trained on ${this._nFeatures}`);
    }
  }
}

/** Options of {@link prepareTreeData}. */
export interface PrepareTreeDataOptions {
  /** {@link TreeTuning.maxHistogramBins} of the fits on this data (default 256; it does not change trees). */
  maxHistogramBins?: number;
  /** Allocate the large arrays in `SharedArrayBuffer`s, so {@link PreparedTreeData.toTransfer} does not copy them. Default false. */
  shared?: boolean;
}

/**
 * Structured-clone form of a {@link PreparedTreeData} for `worker_threads` (its large arrays live in
 * `SharedArrayBuffer`s, so posting it copies no training data). Opaque: build it with
 * {@link PreparedTreeData.toTransfer}, read it with {@link PreparedTreeData.fromTransfer}.
 */
export interface PreparedTreeDataTransfer {
  readonly kind: 'flowsift-prepared-tree-data';
  readonly parts: unknown;
}

interface PreparedInternals {
  prep: Prepared;
  labelBits: number;
  /** Node-sorting mode: float32 values of the presorted features by row (`slot·rows + row`), built on first use. */
  colVals?: Float32Array;
  /** Node-sorting mode: ranks of the histogram features, column-major (`slot·rows + row`), built on first use. */
  colRanks?: Uint8Array;
}

/**
 * The rank matrix of prepared data column-major (node-sorting mode: a node's rows are read in arbitrary
 * order, and one feature's ranks then stay in cache, unlike rows `dH` bytes apart), built once.
 */
function columnRanks(inner: PreparedInternals, n: number): Uint8Array {
  if (inner.colRanks === undefined) {
    const { dH, ranks } = inner.prep;
    const out = new Uint8Array(n * dH);
    for (let i = 0; i < n; i++) for (let h = 0; h < dH; h++) out[h * n + i] = ranks[i * dH + h]!;
    inner.colRanks = out;
  }
  return inner.colRanks;
}

/** The column values of prepared data (node-sorting mode), from its sorted lists, built once. */
function columnValues(inner: PreparedInternals, n: number): Float32Array {
  if (inner.colVals === undefined) {
    const { dP, vals, codes } = inner.prep;
    const shift = inner.labelBits;
    const out = new Float32Array(n * dP);
    for (let j = 0; j < dP; j++) {
      const base = j * n;
      for (let p = base, e = base + n; p < e; p++) out[base + (codes[2 * p]! >> shift)] = vals[2 * p + 1]!;
    }
    inner.colVals = out;
  }
  return inner.colVals;
}
const PREPARED = new WeakMap<PreparedTreeData, PreparedInternals>();

/**
 * Training rows prepared once for many {@link DecisionTreeClassifier.fitPrepared} calls (ensembles):
 * every feature rounded to float32, validated, and either sorted (a stable counting or radix sort, kept as
 * (value, row·label) lists) or, with at most `maxHistogramBins` distinct values, rank-encoded. Memory:
 * about 8 bytes × rows × (features with many values) + rows × (the others). Never modified by fits.
 */
export class PreparedTreeData {
  /** Number of rows. */
  readonly rows: number;
  /** Number of features. */
  readonly cols: number;
  /** Number of classes. */
  readonly nClasses: number;
  /** Feature names. */
  readonly names: readonly string[];
  /** Class index per row (a copy of the `y` given). */
  readonly y: Int32Array;

  /**
   * Same as {@link prepareTreeData}.
   * @throws ModelError on malformed input: shape, labels, no rows or columns, a value that is NaN,
   *   infinite or beyond the float32 range, more rows than `2^(31 − ⌈log2 nClasses⌉)`.
   */
  constructor(X: FeatureMatrix, y: Int32Array, nClasses: number, options: PrepareTreeDataOptions = {}) {
    checkMatrix(X);
    const n = X.rows;
    if (n < 1) throw new ModelError('cannot fit a tree on 0 rows');
    if (X.cols < 1) throw new ModelError('cannot fit a tree on a matrix without columns');
    checkLabels(y, n, nClasses);
    checkRowLimit(n, nClasses);
    const hb = options.maxHistogramBins ?? MAX_HIST_BINS;
    if (!Number.isInteger(hb) || hb < 0 || hb > MAX_HIST_BINS) {
      throw new ModelError(`must be an integer in [0, ${MAX_HIST_BINS}], got ${hb}`, { field: 'options.maxHistogramBins' });
    }
    this.rows = n;
    this.cols = X.cols;
    this.nClasses = nClasses;
    this.names = [...X.names];
    this.y = Int32Array.from(y);
    const labelBits = Math.max(1, Math.ceil(Math.log2(nClasses)));
    PREPARED.set(this, { prep: prepareData(X, this.y, labelBits, hb, options.shared === true), labelBits });
  }

  /**
   * The structured-clone form for a worker thread (`postMessage`); the large arrays are shared, not
   * copied (they are copied once into shared memory unless prepared with `shared: true`).
   */
  toTransfer(): PreparedTreeDataTransfer {
    const { prep, labelBits } = internals(this);
    const share = <T extends Uint8Array | Float64Array>(a: T): T => {
      if (a.buffer instanceof SharedArrayBuffer) return a;
      const b = new (a.constructor as { new (buf: SharedArrayBuffer): T })(new SharedArrayBuffer(a.byteLength));
      b.set(a);
      return b;
    };
    const parts = {
      rows: this.rows,
      cols: this.cols,
      nClasses: this.nClasses,
      names: [...this.names],
      y: this.y,
      labelBits,
      kind: prep.kind,
      slot: prep.slot,
      dP: prep.dP,
      dH: prep.dH,
      pairs: share(prep.pairs),
      ranks: share(prep.ranks),
      uniq: prep.uniq,
      card: prep.card,
    };
    return { kind: 'flowsift-prepared-tree-data', parts };
  }

  /**
   * Rebuild prepared data from {@link toTransfer} output (in a worker thread), checking the sizes.
   * @throws ModelError when `t` is not such an object.
   */
  static fromTransfer(t: PreparedTreeDataTransfer): PreparedTreeData {
    const bad = (): never => {
      throw new ModelError('not a PreparedTreeData transfer object');
    };
    if (t === null || typeof t !== 'object' || t.kind !== 'flowsift-prepared-tree-data') bad();
    const p = t.parts as Record<string, unknown>;
    const rows = p.rows as number;
    const cols = p.cols as number;
    const dP = p.dP as number;
    const dH = p.dH as number;
    const ok =
      Number.isInteger(rows) && Number.isInteger(cols) && Number.isInteger(dP) && Number.isInteger(dH) && dP + dH === cols &&
      p.y instanceof Int32Array && p.y.length === rows && p.kind instanceof Uint8Array && p.kind.length === cols &&
      p.slot instanceof Int32Array && p.slot.length === cols && p.pairs instanceof Float64Array && p.pairs.length === rows * dP &&
      p.ranks instanceof Uint8Array && p.ranks.length === rows * dH && p.uniq instanceof Float32Array &&
      p.uniq.length === dH * MAX_HIST_BINS && p.card instanceof Int32Array && p.card.length === dH && Array.isArray(p.names);
    if (!ok) bad();
    const data = Object.create(PreparedTreeData.prototype) as PreparedTreeData;
    Object.assign(data, { rows, cols, nClasses: p.nClasses, names: p.names, y: p.y });
    const pairs = p.pairs as Float64Array;
    PREPARED.set(data, {
      labelBits: p.labelBits as number,
      prep: {
        kind: p.kind as Uint8Array,
        slot: p.slot as Int32Array,
        dP,
        dH,
        pairs,
        vals: new Float32Array(pairs.buffer, pairs.byteOffset, pairs.length * 2),
        codes: new Int32Array(pairs.buffer, pairs.byteOffset, pairs.length * 2),
        ranks: p.ranks as Uint8Array,
        uniq: p.uniq as Float32Array,
        card: p.card as Int32Array,
      },
    });
    return data;
  }
}

/**
 * Prepare training rows once for many tree fits ({@link DecisionTreeClassifier.fitPrepared}): the data
 * of a random forest, whose trees differ only in their sample weights (bootstrap counts) and seeds.
 * @param X training matrix, `rows × cols` (finite values within the float32 range).
 * @param y class index per row in `[0, nClasses)`.
 * @throws ModelError as the {@link PreparedTreeData} constructor.
 */
export function prepareTreeData(X: FeatureMatrix, y: Int32Array, nClasses: number, options: PrepareTreeDataOptions = {}): PreparedTreeData {
  return new PreparedTreeData(X, y, nClasses, options);
}

function internals(data: PreparedTreeData): PreparedInternals {
  const i = PREPARED.get(data);
  if (i === undefined) throw new ModelError('PreparedTreeData was not built by prepareTreeData');
  return i;
}

/** @throws ModelError unless `y` is an Int32Array of `n` class indices in `[0, nClasses)`. */
function checkLabels(y: Int32Array, n: number, nClasses: number): void {
  if (!Number.isInteger(nClasses) || nClasses < 1) throw new ModelError(`nClasses must be an integer ≥ 1, got ${nClasses}`);
  if (!(y instanceof Int32Array) || y.length !== n) throw new ModelError(`y must be an Int32Array of ${n} class indices`);
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (c < 0 || c >= nClasses) throw new ModelError(`y[${i}] = ${c} is not a class index in [0, ${nClasses})`);
  }
}

/** @throws ModelError when the row index and the label do not fit in 31 bits together. */
function checkRowLimit(n: number, nClasses: number): void {
  const labelBits = Math.max(1, Math.ceil(Math.log2(nClasses)));
  if (n > 2 ** (31 - labelBits)) {
    throw new ModelError(`too many rows for ${nClasses} classes: at most ${2 ** (31 - labelBits)} rows per tree`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Training internals
// ---------------------------------------------------------------------------------------------------

interface BuiltTree {
  nodeCount: number;
  depth: number;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  impurity: Float64Array;
  nNodeSamples: Int32Array;
  weightedN: Float64Array;
}

interface BuildParams {
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minImpurityDecrease: number;
  maxFeatures: number;
  seed: number;
  compactMaxRows: number;
  /** Node-sorting split search (see {@link TreeTuning.splitSearch}). */
  nodeSort: boolean;
}

/** Per-node class histograms of the histogram features (see TreeBuilder). */
interface HistBuf {
  /** Class totals: `hist[(j·256 + bin)·k + class]` for histogram feature j (bins ≥ its card are never read). */
  hist: Float64Array;
  /** Rows per bin: `binN[j·256 + bin]` (likewise). */
  binN: Int32Array;
}

/** Weighting modes of the builder. */
const MODE_UNIT = 0;
const MODE_CLASS = 1;
const MODE_SAMPLE = 2;

/** Default of {@link TreeTuning.compactMaxRows}. */
const DEFAULT_COMPACT_MAX = 512;
/** Largest histogram (distinct values of a feature) of the histogram path; ranks are bytes. */
const MAX_HIST_BINS = 256;
/**
 * Node-sorting mode: a presorted feature is filtered from its global sorted list (O(rows)) rather than
 * gathered and sorted (O(node rows · log)) when the node holds at least 1/this of the rows (measured on
 * the lab flow features, 26k rows: 1/12 … 1/32 are equally good, 1/2 and "never" 1.5–2× slower).
 */
const NODE_SORT_FILTER_RATIO = 16;

/** A (value, code) pair list with its float32 and int32 views (see {@link Prepared}). */
interface ListBuf {
  pairs: Float64Array;
  vals: Float32Array;
  codes: Int32Array;
}

function listBuf(size: number): ListBuf {
  const pairs = new Float64Array(size);
  return { pairs, vals: new Float32Array(pairs.buffer), codes: new Int32Array(pairs.buffer) };
}

/** Growable node storage. */
class NodeStore {
  count = 0;
  cap: number;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  impurity: Float64Array;
  nNodeSamples: Int32Array;
  weightedN: Float64Array;
  constructor(
    private readonly k: number,
    cap = 256,
  ) {
    this.cap = cap;
    this.feature = new Int32Array(cap);
    this.threshold = new Float64Array(cap);
    this.left = new Int32Array(cap);
    this.right = new Int32Array(cap);
    this.value = new Float64Array(cap * k);
    this.impurity = new Float64Array(cap);
    this.nNodeSamples = new Int32Array(cap);
    this.weightedN = new Float64Array(cap);
  }
  add(feature: number, threshold: number, impurity: number, nSamples: number, weightedN: number, value: Float64Array): number {
    if (this.count === this.cap) this.grow();
    const i = this.count++;
    this.feature[i] = feature;
    this.threshold[i] = threshold;
    this.left[i] = TREE_LEAF;
    this.right[i] = TREE_LEAF;
    this.impurity[i] = impurity;
    this.nNodeSamples[i] = nSamples;
    this.weightedN[i] = weightedN;
    this.value.set(value, i * this.k);
    return i;
  }
  private grow(): void {
    const cap = this.cap * 2;
    const g = <T extends Int32Array | Float64Array>(a: T, m = 1): T => {
      const b = new (a.constructor as { new (n: number): T })(cap * m);
      b.set(a);
      return b;
    };
    this.feature = g(this.feature);
    this.threshold = g(this.threshold);
    this.left = g(this.left);
    this.right = g(this.right);
    this.value = g(this.value, this.k);
    this.impurity = g(this.impurity);
    this.nNodeSamples = g(this.nNodeSamples);
    this.weightedN = g(this.weightedN);
    this.cap = cap;
  }
  finish(depth: number): BuiltTree {
    const n = this.count;
    return {
      nodeCount: n,
      depth,
      feature: this.feature.slice(0, n),
      threshold: this.threshold.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      value: this.value.slice(0, n * this.k),
      impurity: this.impurity.slice(0, n),
      nNodeSamples: this.nNodeSamples.slice(0, n),
      weightedN: this.weightedN.slice(0, n),
    };
  }
}


/**
 * Training data, prepared once per fit. Every feature is either
 * - "presorted" (kind 0): the column's values sorted ascending in the slots `[slot·n, (slot+1)·n)` of the
 *   list buffer, each slot a 64-bit pair: `codes[2p]` = `row << labelBits | label`, `vals[2p + 1]` = the
 *   float32 value (ties in row order: the sorts are stable). The packed label keeps the split scans
 *   sequential; `pairs[p]` (a Float64Array view) moves a pair with one load and one store — its high word
 *   is a finite float32, so the double is never a NaN and its bits are preserved; or
 * - "histogram" (kind 1, at most `maxBins` distinct values): its sorted distinct values in
 *   `uniq[slot·256 …]` and each row's rank among them in the row-major byte matrix `ranks[row·dH + slot]`.
 */
interface Prepared {
  kind: Uint8Array;
  slot: Int32Array;
  dP: number;
  dH: number;
  pairs: Float64Array;
  vals: Float32Array;
  codes: Int32Array;
  ranks: Uint8Array;
  uniq: Float32Array;
  card: Int32Array;
}

/**
 * Most distinct values for which a presorted feature is sorted by counting its distinct values (a hash
 * set, then one counting-sort pass) instead of the radix sort: flow features are mostly counts, sizes and
 * flags with few distinct values and long runs, for which the radix sort's three passes cost most.
 */
const MAX_COUNTED = 4096;
/** Slots of the distinct-value hash table (a power of two, more than 2 × {@link MAX_COUNTED}). */
const HASH_BITS = 13;
const HASH_SLOTS = 1 << HASH_BITS;
const EMPTY = 0x7fc00000; // a NaN bit pattern: never a training value
/** Columns converted to float32 at a time (the float32 chunk holds `rows × PREP_CHUNK` values). */
const PREP_CHUNK = 16;
/** Radix digit: 11 bits, 3 passes for 32-bit keys. */
const RADIX_BITS = 11;
const RADIX_BUCKETS = 1 << RADIX_BITS;

/** Scratch of {@link distinctIds} and the counting sort, allocated once per {@link prepareData}. */
interface DistinctScratch {
  /** Hash table of bit patterns ({@link HASH_SLOTS}, {@link EMPTY} when free) and the id in each slot. */
  table: Int32Array;
  tableId: Uint16Array;
  /** Slots in use, to clear the table after a column. */
  used: Int32Array;
  /** Bit pattern of each id (order of first appearance). */
  vals: Int32Array;
  /** Rows per id, then (counting sort) the next list position of each id. */
  counts: Int32Array;
  /** Rows per rank (counting sort). */
  byRank: Int32Array;
}

/**
 * Convert `X` (row-major float64) to the training layout: values rounded to float32 (-0 → +0); features
 * with at most `maxBins` distinct values rank-encoded, the others sorted stably into their lists.
 *
 * The columns are taken {@link PREP_CHUNK} at a time, transposed to contiguous float32 columns (a
 * row-blocked read of those columns of `X`); each column's distinct values are found by a hash set that
 * also validates them (stopping after {@link MAX_COUNTED}); the column is then rank-encoded (at most
 * `maxBins` values), counting-sorted (at most {@link MAX_COUNTED}) or radix-sorted into its list. Every
 * step is a small single-loop function run once per column — loops the JIT compiles after a column or
 * two, which matters for a one-off fit in a fresh process. The lists are written into a buffer sized for
 * every column (its unused end is never touched).
 * @throws ModelError on a value that is NaN, infinite or beyond the float32 range.
 */
function prepareData(X: FeatureMatrix, y: Int32Array, labelBits: number, maxBins: number, shared = false): Prepared {
  const n = X.rows;
  const d = X.cols;
  const data = X.data;
  const chunk = new Float32Array(uninitializedBuffer((n * Math.min(d, PREP_CHUNK) + 1) * 4)); // + 1: a sentinel slot (distinctIds)
  const bits = new Int32Array(chunk.buffer);
  const kind = new Uint8Array(d);
  const slot = new Int32Array(d);
  const sc: DistinctScratch = {
    table: new Int32Array(HASH_SLOTS).fill(EMPTY),
    tableId: new Uint16Array(HASH_SLOTS),
    used: new Int32Array(MAX_COUNTED + 1),
    vals: new Int32Array(MAX_COUNTED),
    counts: new Int32Array(MAX_COUNTED),
    byRank: new Int32Array(MAX_COUNTED),
  };
  // Low-cardinality columns: each row's value id, the rank of each id among the sorted distinct values.
  const lowIds: Uint16Array[] = [];
  const idRank: Uint16Array[] = [];
  const uniqList: Float32Array[] = [];
  let pairs = new Float64Array(shared ? new SharedArrayBuffer(n * d * 8) : uninitializedBuffer(n * d * 8));
  const words = new Int32Array(pairs.buffer);
  let dP = 0;
  let tmp: Int32Array | null = null;
  const hist = new Int32Array(3 * RADIX_BUCKETS);
  const codes0 = rowCodes(y, labelBits);
  let ids = new Uint16Array(uninitializedBuffer(2 * n));
  for (let j0 = 0; j0 < d; j0 += PREP_CHUNK) {
    const j1 = Math.min(d, j0 + PREP_CHUNK);
    transposeColumnsF32(data, n, d, j0, j1, chunk);
    for (let c = j0; c < j1; c++) {
      const off = (c - j0) * n;
      const next = bits[off + n]!; // the next column's first value, or the chunk's spare slot
      bits[off + n] = ~bits[off + n - 1]!;
      let nDistinct = distinctIds(bits, off, n, MAX_COUNTED, sc, ids);
      bits[off + n] = next;
      let bad = -1;
      if (nDistinct < 0) {
        // Stopped at row `stop`: too many values (then check the rest) or a non-finite one.
        const stop = (-1 - nDistinct) >> 1;
        bad = (-1 - nDistinct) & 1 ? stop : firstNonFinite(bits, off, stop, n);
        nDistinct = -1;
      }
      clearTable(sc, nDistinct >= 0 ? nDistinct : MAX_COUNTED);
      if (bad >= 0) {
        const v = data[bad * d + c]!;
        const what = Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? 'outside the float32 range' : 'infinite';
        throw new ModelError(`X[${bad}, ${c}] (${X.names[c]}) = ${v} is ${what}; trees need finite values (clean or scale the features first)`);
      }
      if (nDistinct > maxBins || nDistinct < 0) {
        slot[c] = dP;
        if (nDistinct < 0) {
          tmp ??= new Int32Array(uninitializedBuffer(8 * n));
          radixSortToPairs(bits, off, n, codes0, words, 2 * dP * n, tmp, hist);
        } else {
          const vs = new Float32Array(sc.vals.buffer, 0, nDistinct);
          countStarts(ranksOf(vs, vs.slice().sort()), sc.counts, sc.byRank);
          countingSortToPairs(bits, off, n, ids, sc.counts, codes0, words, 2 * dP * n);
        }
        dP++;
        continue;
      }
      kind[c] = 1;
      slot[c] = lowIds.length;
      lowIds.push(ids);
      ids = new Uint16Array(uninitializedBuffer(2 * n));
      const vs = new Float32Array(sc.vals.slice(0, nDistinct).buffer);
      const sorted = vs.slice().sort();
      idRank.push(ranksOf(vs, sorted));
      uniqList.push(sorted);
    }
  }
  // The lists of the dP high-cardinality columns are the buffer's first n·dP pairs. The rest is never
  // written nor read; a large allocation is mapped lazily by the system allocator (mmap), so those pages
  // usually take no memory, whereas copying the lists to an exact-size buffer costs a fresh buffer's page
  // faults (about as much as sorting them, measured on the lab flows).
  pairs = pairs.subarray(0, n * dP);
  const dH = lowIds.length;
  // Ranks of the histogram features, row-major.
  const ranks = new Uint8Array(shared ? new SharedArrayBuffer(n * dH) : uninitializedBuffer(n * dH));
  const uniq = new Float32Array(dH * MAX_HIST_BINS);
  const card = new Int32Array(dH);
  for (let h = 0; h < dH; h++) {
    card[h] = uniqList[h]!.length;
    uniq.set(uniqList[h]!, h * MAX_HIST_BINS);
  }
  fillRanks(lowIds, idRank, n, dH, ranks);
  return { kind, slot, dP, dH, pairs, vals: new Float32Array(pairs.buffer, 0, 2 * n * dP), codes: new Int32Array(pairs.buffer, 0, 2 * n * dP), ranks, uniq, card };
}

/** Each row's list code, `row << labelBits | y[row]`. */
function rowCodes(y: Int32Array, labelBits: number): Int32Array {
  const codes = new Int32Array(uninitializedBuffer(4 * y.length));
  for (let i = 0; i < y.length; i++) codes[i] = (i << labelBits) | y[i]!;
  return codes;
}

/** The rank of each of the values `vs` in `sorted` (the same distinct values, ascending): binary search. */
function ranksOf(vs: Float32Array, sorted: Float32Array): Uint16Array {
  const m = vs.length;
  const rank = new Uint16Array(m);
  for (let i = 0; i < m; i++) {
    let lo = 0;
    let hi = m - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < vs[i]!) lo = mid + 1;
      else hi = mid;
    }
    rank[i] = lo;
  }
  return rank;
}

/**
 * Columns `j0 … j1` (exclusive) of the row-major float64 `data` (`n × d`) as contiguous float32 columns in
 * `out` (`out[(j − j0)·n + r]`), rounded to float32, −0 as +0 (`x + 0`): in blocks of 64 rows (a block's
 * rows stay in cache), four columns at a time.
 */
function transposeColumnsF32(data: Float64Array, n: number, d: number, j0: number, j1: number, out: Float32Array): void {
  for (let r0 = 0; r0 < n; r0 += 64) {
    const r1 = r0 + 64 < n ? r0 + 64 : n;
    let j = j0;
    for (; j + 4 <= j1; j += 4) transposeBlock4(data, r0 * d + j, r1 * d + j, d, out, (j - j0) * n + r0, n);
    for (; j < j1; j++) transposeBlock1(data, r0 * d + j, r1 * d + j, d, out, (j - j0) * n + r0);
  }
}

/** Four columns of {@link transposeColumnsF32}: `data[k + i]` (`k = k0, k0 + d, …` < `k1`) to `out[o + i·n]`, `o = o0, o0 + 1, …`. */
function transposeBlock4(data: Float64Array, k0: number, k1: number, d: number, out: Float32Array, o0: number, n: number): void {
  for (let k = k0, o = o0; k < k1; k += d, o++) {
    out[o] = data[k]! + 0;
    out[o + n] = data[k + 1]! + 0;
    out[o + 2 * n] = data[k + 2]! + 0;
    out[o + 3 * n] = data[k + 3]! + 0;
  }
}

/** One column of {@link transposeColumnsF32}: `data[k]` (`k = k0, k0 + d, …` < `k1`) to `out[o0 …]`. */
function transposeBlock1(data: Float64Array, k0: number, k1: number, d: number, out: Float32Array, o0: number): void {
  for (let k = k0, o = o0; k < k1; k += d, o++) out[o] = data[k]! + 0;
}

/** Index (row) of the first float32 bit pattern in `bits[off + from … off + n)` that is not finite, or −1. */
function firstNonFinite(bits: Int32Array, off: number, from: number, n: number): number {
  for (let i = from; i < n; i++) if ((bits[off + i]! & 0x7f800000) === 0x7f800000) return i;
  return -1;
}

/**
 * Distinct float32 bit patterns of `bits[off … off+n)` (n ≥ 1) by a hash set (open addressing, `sc.table`
 * of {@link HASH_SLOTS}): each row's value id (order of first appearance) goes to `ids[row]`, each id's
 * bit pattern to `sc.vals[id]` and its number of rows to `sc.counts[id]`; the slot of each id to
 * `sc.used[id]` (see {@link clearTable}). Each new value is checked for finiteness (every row holds the
 * value of the row before it or one looked up in the set, so all rows are checked). Returns the number of
 * distinct values, or, stopping at row `r`: `−1 − 2r` when there are more than `limit` values (rows before
 * `r` were checked, the others not), `−2 − 2r` when the value of row `r` is not finite (the first one).
 *
 * `bits[off + n]` must hold a sentinel different from `bits[off + n − 1]`: runs of one value (flags, zero
 * counts: most rows of flow features) are then copied by {@link runEnd} without an end test. One loop per
 * function (the probe and the run copy are functions of their own) and nothing after the loop but a
 * return: the JIT compiles this function while it runs its first column, each loop of a function costs
 * its own on-stack-replacement compilation, and code after the loop would have no type feedback yet.
 */
function distinctIds(bits: Int32Array, off: number, n: number, limit: number, sc: DistinctScratch, ids: Uint16Array): number {
  const { table, tableId, used, vals, counts } = sc;
  let count = 0;
  let i = 0;
  while (i < n) {
    const b = bits[off + i]!;
    const h = findSlot(table, b);
    if (table[h] === EMPTY) {
      if ((b & 0x7f800000) === 0x7f800000) return -2 - 2 * i;
      if (count === limit) return -1 - 2 * i;
      table[h] = b;
      tableId[h] = count;
      used[count] = h;
      counts[count] = 0;
      vals[count++] = b;
    }
    const id = tableId[h]!;
    const end = runEnd(bits, off, i, b, ids, id);
    counts[id] += end - i;
    i = end;
  }
  return count;
}

/** The slot of the bit pattern `b` in the hash table (open addressing, linear probing): where it is, or the empty slot where it goes. */
function findSlot(table: Int32Array, b: number): number {
  let h = Math.imul(b, 0x9e3779b1) >>> (32 - HASH_BITS);
  let t = table[h]!;
  while (t !== b && t !== EMPTY) {
    h = (h + 1) & (HASH_SLOTS - 1);
    t = table[h]!;
  }
  return h;
}

/**
 * The run of the value `b` that starts at row `i` (`bits[off + i] = b`): `ids[row] = id` for its rows;
 * returns the row after it. Four rows per step; the sentinel after the column ends every run, and the
 * tests stop at it (never read past it).
 */
function runEnd(bits: Int32Array, off: number, i: number, b: number, ids: Uint16Array, id: number): number {
  for (;;) {
    ids[i] = id;
    if (bits[off + i + 1] !== b) return i + 1;
    ids[i + 1] = id;
    if (bits[off + i + 2] !== b) return i + 2;
    ids[i + 2] = id;
    if (bits[off + i + 3] !== b) return i + 3;
    ids[i + 3] = id;
    if (bits[off + i + 4] !== b) return i + 4;
    i += 4;
  }
}

/** Empty the `count` slots of the hash table that {@link distinctIds} filled. */
function clearTable(sc: DistinctScratch, count: number): void {
  const { table, used } = sc;
  for (let u = 0; u < count; u++) table[used[u]!] = EMPTY;
}

/**
 * Counting sort, step 1: from the rows per id (`counts`) and each id's rank among the sorted distinct
 * values, the first list position of each id (written over `counts`). `byRank` is scratch.
 */
function countStarts(rank: Uint16Array, counts: Int32Array, byRank: Int32Array): void {
  const m = rank.length;
  for (let id = 0; id < m; id++) byRank[rank[id]!] = counts[id]!;
  for (let r = 0, acc = 0; r < m; r++) {
    const c = byRank[r]!;
    byRank[r] = acc;
    acc += c;
  }
  for (let id = 0; id < m; id++) counts[id] = byRank[rank[id]!]!;
}

/**
 * Counting sort, step 2: the rows of the column `bits[off … off+n)` written as the sorted (code, bits)
 * list `out[o + 2p]`, `out[o + 2p + 1]` (`code = codes0[row]`), each row at the next position of its value
 * id (`next[id]`, advanced): a stable sort, ties in row order — the list {@link radixSortToPairs} writes.
 * A run of one id keeps its position in a register.
 */
function countingSortToPairs(bits: Int32Array, off: number, n: number, ids: Uint16Array, next: Int32Array, codes0: Int32Array, out: Int32Array, o: number): void {
  let prev = ids[0]!;
  let q = o + 2 * next[prev]!;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    if (id !== prev) {
      next[prev] = (q - o) >> 1;
      q = o + 2 * next[id]!;
      prev = id;
    }
    out[q] = codes0[i]!;
    out[q + 1] = bits[off + i]!;
    q += 2;
  }
}

/**
 * The row-major rank matrix (`n × dH`, `dH = ids.length`): `ranks[r·dH + h] = idRank[h][ids[h][r]]`, in
 * blocks of rows (a block's rank rows stay in cache while every column is written), four columns at a time.
 */
function fillRanks(ids: Uint16Array[], idRank: Uint16Array[], n: number, dH: number, ranks: Uint8Array): void {
  for (let r0 = 0; r0 < n; r0 += 256) {
    const r1 = r0 + 256 < n ? r0 + 256 : n;
    let h = 0;
    for (; h + 4 <= dH; h += 4) {
      fillRanksBlock4(ids[h]!, ids[h + 1]!, ids[h + 2]!, ids[h + 3]!, idRank[h]!, idRank[h + 1]!, idRank[h + 2]!, idRank[h + 3]!, r0, r1, ranks, r0 * dH + h, dH);
    }
    for (; h < dH; h++) fillRanksBlock1(ids[h]!, idRank[h]!, r0, r1, ranks, r0 * dH + h, dH);
  }
}

/** Four columns of {@link fillRanks}, rows `r0 … r1` (exclusive), the first at `ranks[o0]`. */
function fillRanksBlock4(
  i0: Uint16Array,
  i1: Uint16Array,
  i2: Uint16Array,
  i3: Uint16Array,
  k0: Uint16Array,
  k1: Uint16Array,
  k2: Uint16Array,
  k3: Uint16Array,
  r0: number,
  r1: number,
  ranks: Uint8Array,
  o0: number,
  dH: number,
): void {
  for (let r = r0, o = o0; r < r1; r++, o += dH) {
    ranks[o] = k0[i0[r]!]!;
    ranks[o + 1] = k1[i1[r]!]!;
    ranks[o + 2] = k2[i2[r]!]!;
    ranks[o + 3] = k3[i3[r]!]!;
  }
}

/** One column of {@link fillRanks}, rows `r0 … r1` (exclusive), the first at `ranks[o0]`. */
function fillRanksBlock1(ids: Uint16Array, idRank: Uint16Array, r0: number, r1: number, ranks: Uint8Array, o0: number, dH: number): void {
  for (let r = r0, o = o0; r < r1; r++, o += dH) ranks[o] = idRank[ids[r]!]!;
}

/**
 * Stable LSD radix sort (up to 3 passes of {@link RADIX_BITS} bits; a pass whose digit is the same for
 * every key is skipped) of the float32 bit patterns `bits[off … off+n)` (finite, no −0), written as the
 * sorted (code, bits) list `out[o + 2p]`, `out[o + 2p + 1]` with `code = codes0[row]`. Ties keep row order.
 * `tmp` (2n) and `hist` (3 × {@link RADIX_BUCKETS}) are scratch.
 */
function radixSortToPairs(bits: Int32Array, off: number, n: number, codes0: Int32Array, out: Int32Array, o: number, tmp: Int32Array, hist: Int32Array): void {
  radixHistograms(bits, off, n, hist);
  // Active passes (digit not constant) as exclusive prefix sums.
  let passes = 0;
  let active = 0;
  for (let pass = 0; pass < 3; pass++) {
    if (radixPrefix(hist, pass * RADIX_BUCKETS, n)) {
      active |= 1 << pass;
      passes++;
    }
  }
  if (passes === 0) {
    radixIdentity(bits, off, n, codes0, out, o);
    return;
  }
  // Passes write alternately to `out` and `tmp`, starting so that the last one writes `out`.
  let first = true;
  let inOut = passes % 2 === 1;
  let src: Int32Array = out;
  let so = o;
  for (let pass = 0; pass < 3; pass++) {
    if (!(active & (1 << pass))) continue;
    const dst = inOut ? out : tmp;
    const dOff = inOut ? o : 0;
    if (first) radixScatterFirst(bits, off, n, codes0, dst, dOff, hist, pass * RADIX_BUCKETS, pass * RADIX_BITS);
    else radixScatter(src, so, n, dst, dOff, hist, pass * RADIX_BUCKETS, pass * RADIX_BITS);
    first = false;
    src = dst;
    so = dOff;
    inOut = !inOut;
  }
}

/**
 * Digit counts of the three radix passes over the keys of `bits[off … off+n)`. The key of a float32 bit
 * pattern `u` (as int32) is `u ^ ((u >> 31) | 0x80000000)`: `~u` for negatives, `u` with the sign bit set
 * otherwise, which orders as the float values when compared unsigned (used in every pass).
 */
function radixHistograms(bits: Int32Array, off: number, n: number, hist: Int32Array): void {
  hist.fill(0);
  for (let i = off, e = off + n; i < e; i++) {
    const u = bits[i]!;
    const k = u ^ ((u >> 31) | 0x80000000);
    hist[k & 2047]++;
    hist[2048 + ((k >>> 11) & 2047)]++;
    hist[4096 + (k >>> 22)]++;
  }
}

/** Counts → exclusive prefix sums for one pass; returns false when one digit holds all `n` keys (skip the pass). */
function radixPrefix(hist: Int32Array, h: number, n: number): boolean {
  let sum = 0;
  let active = true;
  for (let b = h, e = h + RADIX_BUCKETS; b < e; b++) {
    const c = hist[b]!;
    if (c === n) active = false;
    hist[b] = sum;
    sum += c;
  }
  return active;
}

/** First radix pass: from the column and the row codes into (code, bits) pairs. */
function radixScatterFirst(bits: Int32Array, off: number, n: number, codes0: Int32Array, dst: Int32Array, o: number, hist: Int32Array, h: number, shift: number): void {
  for (let i = 0; i < n; i++) {
    const u = bits[off + i]!;
    const k = u ^ ((u >> 31) | 0x80000000);
    const q = o + 2 * hist[h + ((k >>> shift) & 2047)]++;
    dst[q] = codes0[i]!;
    dst[q + 1] = u;
  }
}

/** Later radix passes: (code, bits) pairs to (code, bits) pairs. */
function radixScatter(src: Int32Array, so: number, n: number, dst: Int32Array, o: number, hist: Int32Array, h: number, shift: number): void {
  for (let i = so, e = so + 2 * n; i < e; i += 2) {
    const u = src[i + 1]!;
    const k = u ^ ((u >> 31) | 0x80000000);
    const q = o + 2 * hist[h + ((k >>> shift) & 2047)]++;
    dst[q] = src[i]!;
    dst[q + 1] = u;
  }
}

/** A column whose keys need no pass (all equal): the pairs in row order. */
function radixIdentity(bits: Int32Array, off: number, n: number, codes0: Int32Array, out: Int32Array, o: number): void {
  for (let i = 0; i < n; i++) {
    out[o + 2 * i] = codes0[i]!;
    out[o + 2 * i + 1] = bits[off + i]!;
  }
}

/**
 * The rows `i` with `newIndex[i] ≥ 0` of prepared data (`n` rows), renumbered `newIndex[i]` (`m` rows,
 * order kept): each sorted list filtered in one pass (it stays sorted, ties in row order), the rank
 * matrix's rows copied. Shares the read-only parts (`kind`, `slot`, `uniq`, `card`); a histogram feature
 * may have bins without rows in the subset, which every scan skips.
 */
function subsetPrepared(p: Prepared, n: number, newIndex: Int32Array, m: number, labelBits: number): Prepared {
  const mask = (1 << labelBits) - 1;
  const pairs = new Float64Array(m * p.dP);
  const codes = new Int32Array(pairs.buffer);
  const words = new Uint32Array(pairs.buffer);
  const srcCodes = p.codes;
  const srcWords = new Uint32Array(p.pairs.buffer, p.pairs.byteOffset, p.pairs.length * 2);
  for (let j = 0; j < p.dP; j++) {
    let q = 2 * j * m;
    for (let a = 2 * j * n, e = 2 * (j + 1) * n; a < e; a += 2) {
      const code = srcCodes[a]!;
      const r = newIndex[code >> labelBits]!;
      if (r < 0) continue;
      codes[q] = (r << labelBits) | (code & mask);
      words[q + 1] = srcWords[a + 1]!;
      q += 2;
    }
  }
  const dH = p.dH;
  const ranks = new Uint8Array(m * dH);
  if (dH > 0) {
    for (let i = 0; i < n; i++) {
      const r = newIndex[i]!;
      if (r >= 0) ranks.set(p.ranks.subarray(i * dH, (i + 1) * dH), r * dH);
    }
  }
  return { ...p, pairs, vals: new Float32Array(pairs.buffer), codes, ranks };
}

/** Best split found so far at a node (shared scratch, no allocation in the hot path). */
interface SplitState {
  /** scikit-learn's proxy improvement of the best split; −Infinity when none yet. */
  proxy: number;
  /** Its feature, −1 when none. */
  feature: number;
  /** Its position in the feature's absolute segment (left = `[segmentStart, pos)`). */
  pos: number;
  /** Its threshold. */
  threshold: number;
  /** True when found by a histogram scan: then `pos` is a sample position and `bin` the last left bin. */
  hist: boolean;
  /** Last bin of the left child (histogram splits). */
  bin: number;
}

/*
 * Candidate filter (both scans). scikit-learn's proxy  −w_R(1 − Σr²/w_R²) − w_L(1 − Σl²/w_L²)  equals
 * G − w with G = Σl²/w_L + Σr²/w_R. Before it is computed exactly (two divisions, and with weights a
 * pass over the classes), a candidate must pass  Σl²·w_R + Σr²·w_L ≥ B·w_L·w_R  with B = (best + w)·slack:
 * a division-free test that only rejects candidates whose G is below the best one's by far more than any
 * rounding error (relative slack 1e-11 with exact integer counts; 1e-6 with weights, whose incrementally
 * updated sums of squares drift by ~n·1e-16). The winner, and every comparison that decides it, is thus
 * exactly that of an exhaustive scan with scikit-learn's expression.
 */
const SLACK_UNIT = 1 - 1e-11;
const SLACK_WEIGHTED = 1 - 1e-6;

/**
 * Scan the sorted segment `[a, b)` of one feature with unit sample weights and update `st` when a split
 * strictly beats it (the first of equal candidates wins, as in scikit-learn). With integer counts the
 * sums of squares are exact, so they are maintained incrementally and the proxy (scikit-learn's
 * expression) is bit-identical to a full recomputation. `cnt` is scratch (k entries); `sqTotal` is Σ total².
 */
function scanUnit(
  vals: Float32Array,
  codes: Int32Array,
  mask: number,
  a: number,
  b: number,
  k: number,
  total: Float64Array,
  sqTotal: number,
  cnt: Int32Array,
  wn: number,
  msl: number,
  feature: number,
  st: SplitState,
): void {
  cnt.fill(0, 0, k);
  let best = st.proxy;
  let sqL = 0;
  let sqR = sqTotal;
  const last = b - 1;
  const posMin = a + msl; // smallest allowed split position (left count ≥ msl)
  const posMax = b - msl; // largest allowed split position (right count ≥ msl)
  let bound = (best + wn) * SLACK_UNIT;
  let v = vals[2 * a + 1]!;
  for (let p = a; p < last; p++) {
    const c = codes[2 * p]! & mask;
    const lc = cnt[c]!;
    sqL += 2 * lc + 1;
    sqR -= 2 * (total[c]! - lc) - 1;
    cnt[c] = lc + 1;
    const vn = vals[2 * p + 3]!;
    if (vn <= Math.fround(v + FEATURE_THRESHOLD)) {
      v = vn;
      continue;
    }
    const pos = p + 1;
    const wnl = pos - a;
    const wnr = wn - wnl;
    if (sqL * wnr + sqR * wnl >= bound * (wnl * wnr) && pos >= posMin && pos <= posMax) {
      const proxy = -wnr * (1.0 - sqR / (wnr * wnr)) - wnl * (1.0 - sqL / (wnl * wnl));
      if (proxy > best) {
        best = proxy;
        bound = (best + wn) * SLACK_UNIT;
        st.proxy = proxy;
        st.feature = feature;
        st.pos = pos;
        st.hist = false;
        let t = v / 2.0 + vn / 2.0;
        if (t === vn || t === Infinity || t === -Infinity) t = v;
        st.threshold = t;
      }
    }
    v = vn;
  }
}

/**
 * {@link scanUnit} with per-sample weights `w[row]` (already multiplied by the class weights). Class sums
 * accumulate in scan order in `sumLeft`; the exact proxy recomputes Σl², Σr² from them.
 */
function scanWeighted(
  vals: Float32Array,
  codes: Int32Array,
  mask: number,
  shift: number,
  w: Float64Array,
  a: number,
  b: number,
  k: number,
  total: Float64Array,
  sqTotal: number,
  sumLeft: Float64Array,
  wn: number,
  msl: number,
  feature: number,
  st: SplitState,
): void {
  sumLeft.fill(0, 0, k);
  let best = st.proxy;
  let wnl = 0;
  let sqLa = 0; // approximate Σl², Σr² for the filter only
  let sqRa = sqTotal;
  const last = b - 1;
  const posMin = a + msl;
  const posMax = b - msl;
  let bound = (best + wn) * SLACK_WEIGHTED;
  let v = vals[2 * a + 1]!;
  for (let p = a; p < last; p++) {
    const code = codes[2 * p]!;
    const c = code & mask;
    const wi = w[code >> shift]!;
    const lc = sumLeft[c]!;
    sqLa += wi * (2 * lc + wi);
    sqRa -= wi * (2 * (total[c]! - lc) - wi);
    sumLeft[c] = lc + wi;
    wnl += wi;
    const vn = vals[2 * p + 3]!;
    if (vn <= Math.fround(v + FEATURE_THRESHOLD)) {
      v = vn;
      continue;
    }
    const pos = p + 1;
    const wnr = wn - wnl;
    if (sqLa * wnr + sqRa * wnl >= bound * (wnl * wnr) && pos >= posMin && pos <= posMax) {
      let sqL = 0;
      let sqR = 0;
      for (let q = 0; q < k; q++) {
        const l = sumLeft[q]!;
        const r = total[q]! - l;
        sqL += l * l;
        sqR += r * r;
      }
      const proxy = -wnr * (1.0 - sqR / (wnr * wnr)) - wnl * (1.0 - sqL / (wnl * wnl));
      if (proxy > best) {
        best = proxy;
        bound = (best + wn) * SLACK_WEIGHTED;
        st.proxy = proxy;
        st.feature = feature;
        st.pos = pos;
        st.hist = false;
        let t = v / 2.0 + vn / 2.0;
        if (t === vn || t === Infinity || t === -Infinity) t = v;
        st.threshold = t;
      }
    }
    v = vn;
  }
}

/**
 * {@link scanUnit} with class weights only (no per-sample weights): integer class counts are kept and the
 * weighted class totals are `count × weight`, so the sums do not depend on the order of the rows (every
 * data path gives the same result). The filter uses incrementally updated approximations; candidates
 * passing it are evaluated exactly from the counts.
 */
function scanClassWeighted(
  vals: Float32Array,
  codes: Int32Array,
  mask: number,
  cw: Float64Array,
  a: number,
  b: number,
  k: number,
  total: Float64Array,
  sqTotal: number,
  cnt: Float64Array,
  wn: number,
  msl: number,
  feature: number,
  st: SplitState,
): void {
  cnt.fill(0, 0, k);
  let best = st.proxy;
  let wnlA = 0;
  let sqLa = 0;
  let sqRa = sqTotal;
  const last = b - 1;
  const posMin = a + msl;
  const posMax = b - msl;
  let bound = (best + wn) * SLACK_WEIGHTED;
  let v = vals[2 * a + 1]!;
  for (let p = a; p < last; p++) {
    const c = codes[2 * p]! & mask;
    const wc = cw[c]!;
    const lc = cnt[c]! * wc;
    sqLa += wc * (2 * lc + wc);
    sqRa -= wc * (2 * (total[c]! - lc) - wc);
    cnt[c]++;
    wnlA += wc;
    const vn = vals[2 * p + 3]!;
    if (vn <= Math.fround(v + FEATURE_THRESHOLD)) {
      v = vn;
      continue;
    }
    const pos = p + 1;
    const wnrA = wn - wnlA;
    if (sqLa * wnrA + sqRa * wnlA >= bound * (wnlA * wnrA) && pos >= posMin && pos <= posMax) {
      let wnl = 0;
      let sqL = 0;
      let sqR = 0;
      for (let q = 0; q < k; q++) {
        const l = cnt[q]! * cw[q]!;
        const r = total[q]! - l;
        wnl += l;
        sqL += l * l;
        sqR += r * r;
      }
      const wnr = wn - wnl;
      const proxy = -wnr * (1.0 - sqR / (wnr * wnr)) - wnl * (1.0 - sqL / (wnl * wnl));
      if (proxy > best) {
        best = proxy;
        bound = (best + wn) * SLACK_WEIGHTED;
        st.proxy = proxy;
        st.feature = feature;
        st.pos = pos;
        st.hist = false;
        let t = v / 2.0 + vn / 2.0;
        if (t === vn || t === Infinity || t === -Infinity) t = v;
        st.threshold = t;
      }
    }
    v = vn;
  }
}

/**
 * Stable partition of the pair slots `[a, b)` by `mark[row]` (1 = left, `nl` of them) into `[a, a+nl)` and
 * `[a+nl, b)`. The larger side is compacted in place (forward pass when the left side is the larger one,
 * backward pass otherwise) and only the smaller side goes through the scratch array, so a lopsided split
 * costs little more than one read of the segment. Branch-free: both destinations are written and the
 * cursors advance by the mark. (One loop per function and the copy back native: with the copy loop in
 * the same function, V8 deoptimized it at that loop about a hundred times in one fit of the lab flows.)
 */
function partitionSegment(
  pairs: Float64Array,
  codes: Int32Array,
  shift: number,
  a: number,
  b: number,
  nl: number,
  mark: Uint8Array,
  tP: Float64Array,
): void {
  if (2 * nl >= b - a) {
    partitionLeftLarger(pairs, codes, shift, a, b, mark, tP);
    pairs.set(tP.subarray(0, b - a - nl), a + nl);
  } else {
    partitionRightLarger(pairs, codes, shift, a, b, nl, mark, tP);
    pairs.set(tP.subarray(1, nl + 1), a);
  }
}

/*
 * The forward partition loops below (the busier ones) go four entries per step (about half the time of one
 * per step on the lab flows: loop overhead dominates), after the (b − a) mod 4 first entries one at a
 * time. That short loop comes first: the JIT compiles these functions while their first call runs the
 * long loop (on-stack replacement), and code after it, never run yet, would have no type feedback — the
 * compiled loop would deoptimise at its exit at every call until the function is compiled anew. A step
 * reads its four entries before writing any: the write cursor never passes the read cursor, so in-place
 * compaction stays correct. (The backward ones stay simple: a larger function also takes longer to
 * compile, which a one-off fit in a fresh process pays.)
 */

/** {@link partitionSegment}, left side larger: lefts compacted in place going forward, rights to `tP`. */
function partitionLeftLarger(pairs: Float64Array, codes: Int32Array, shift: number, a: number, b: number, mark: Uint8Array, tP: Float64Array): void {
  let l = a;
  let r = 0;
  let p = a;
  for (const e = a + ((b - a) & 3); p < e; p++) {
    const x = pairs[p]!;
    const m = mark[codes[2 * p]! >> shift]!;
    pairs[l] = x;
    tP[r] = x;
    l += m;
    r += 1 - m;
  }
  for (; p < b; p += 4) {
    const x0 = pairs[p]!;
    const x1 = pairs[p + 1]!;
    const x2 = pairs[p + 2]!;
    const x3 = pairs[p + 3]!;
    const m0 = mark[codes[2 * p]! >> shift]!;
    const m1 = mark[codes[2 * p + 2]! >> shift]!;
    const m2 = mark[codes[2 * p + 4]! >> shift]!;
    const m3 = mark[codes[2 * p + 6]! >> shift]!;
    pairs[l] = x0;
    tP[r] = x0;
    l += m0;
    r += 1 - m0;
    pairs[l] = x1;
    tP[r] = x1;
    l += m1;
    r += 1 - m1;
    pairs[l] = x2;
    tP[r] = x2;
    l += m2;
    r += 1 - m2;
    pairs[l] = x3;
    tP[r] = x3;
    l += m3;
    r += 1 - m3;
  }
}

/**
 * {@link partitionSegment}, right side larger: rights compacted in place going backward, lefts to
 * `tP[1 … nl]` in order (filled from the end; `tP[0]` takes the writes after the last left).
 */
function partitionRightLarger(pairs: Float64Array, codes: Int32Array, shift: number, a: number, b: number, nl: number, mark: Uint8Array, tP: Float64Array): void {
  let r = b - 1;
  let t = nl;
  for (let p = b - 1; p >= a; p--) {
    const x = pairs[p]!;
    const m = mark[codes[2 * p]! >> shift]!;
    pairs[r] = x;
    tP[t] = x;
    r -= 1 - m;
    t -= m;
  }
}

/** The left entries (`mark[row] = 1`) of the pair slots `[a, b)` compacted stably to the front; the rest of the segment is left undefined. */
function keepLeft(pairs: Float64Array, codes: Int32Array, shift: number, a: number, b: number, mark: Uint8Array): void {
  let l = a;
  let p = a;
  for (const e = a + ((b - a) & 3); p < e; p++) {
    const x = pairs[p]!;
    pairs[l] = x;
    l += mark[codes[2 * p]! >> shift]!;
  }
  for (; p < b; p += 4) {
    const x0 = pairs[p]!;
    const x1 = pairs[p + 1]!;
    const x2 = pairs[p + 2]!;
    const x3 = pairs[p + 3]!;
    const m0 = mark[codes[2 * p]! >> shift]!;
    const m1 = mark[codes[2 * p + 2]! >> shift]!;
    const m2 = mark[codes[2 * p + 4]! >> shift]!;
    const m3 = mark[codes[2 * p + 6]! >> shift]!;
    pairs[l] = x0;
    l += m0;
    pairs[l] = x1;
    l += m1;
    pairs[l] = x2;
    l += m2;
    pairs[l] = x3;
    l += m3;
  }
}

/** The right entries (`mark[row] = 0`) of the pair slots `[a, b)` compacted stably to the back; the rest of the segment is left undefined. */
function keepRight(pairs: Float64Array, codes: Int32Array, shift: number, a: number, b: number, mark: Uint8Array): void {
  let r = b - 1;
  for (let p = b - 1; p >= a; p--) {
    const x = pairs[p]!;
    pairs[r] = x;
    r -= 1 - mark[codes[2 * p]! >> shift]!;
  }
}

/**
 * scikit-learn's `our_rand_r` (xorshift32; state 0 is replaced by 1) and `rand_int`. The state is the
 * seed itself, so passing scikit-learn's derived `rand_r_state` reproduces its feature draws.
 */
class XorShift32 {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Integer in [low, high): `low + our_rand_r() % (high − low)`. */
  int(low: number, high: number): number {
    let s = this.s === 0 ? DEFAULT_SEED : this.s;
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    this.s = s >>> 0;
    return low + ((this.s & 0x7fffffff) % (high - low));
  }
}

/** Gini impurity of class totals `v` with total weight `wn` (scikit-learn's `Gini.node_impurity`). */
function gini(v: Float64Array, k: number, wn: number): number {
  let sq = 0;
  for (let c = 0; c < k; c++) sq += v[c]! * v[c]!;
  return 1.0 - sq / (wn * wn);
}

/**
 * Best split of a histogram feature at a node: bins are the feature's distinct values in ascending order
 * (`uniq[u …]`), `hist[(b·k + c)]` (from `h`) the class totals of bin b and `binN[bn + b]` its row count.
 * Candidates, tie tolerance, proxy, filter and first-best rule are exactly those of the sorted-list scans
 * (with unit weights the counts are integers and the result is identical).
 * @returns false when the feature is constant at the node (scikit-learn's `max ≤ min + FEATURE_THRESHOLD`).
 */
function scanHistogram(
  hist: Float64Array,
  h: number,
  binN: Int32Array,
  bn: number,
  uniq: Float32Array,
  u: number,
  card: number,
  mode: number,
  cw: Float64Array,
  start: number,
  nNode: number,
  k: number,
  total: Float64Array,
  sqTotal: number,
  sumLeft: Float64Array,
  wn: number,
  msl: number,
  feature: number,
  st: SplitState,
): boolean {
  // First and last non-empty bins. Each step runs at least once, so the JIT has seen it before it
  // compiles this function (a decrement first met in compiled code deoptimised it in a fresh process).
  let bmin = -1;
  do {
    bmin++;
  } while (binN[bn + bmin] === 0);
  let bmax = card;
  do {
    bmax--;
  } while (binN[bn + bmax] === 0);
  if (uniq[u + bmax]! <= Math.fround(uniq[u + bmin]! + FEATURE_THRESHOLD)) return false;
  sumLeft.fill(0, 0, k);
  const unit = mode === MODE_UNIT;
  let best = st.proxy;
  let bound = (best + wn) * SLACK_UNIT;
  let sqL = 0;
  let sqR = sqTotal;
  let wnl = 0;
  let nl = 0;
  let prev = -1;
  for (let b = bmin; b <= bmax; b++) {
    const nb = binN[bn + b]!;
    if (nb === 0) continue;
    if (prev >= 0) {
      const v = uniq[u + prev]!;
      const vn = uniq[u + b]!;
      if (vn > Math.fround(v + FEATURE_THRESHOLD) && nl >= msl && nNode - nl >= msl) {
        // Unit weights: exact incremental sums and the filter; weights: exact per-candidate sums (a
        // histogram has at most 256 bins, so there is nothing to save).
        let wl = wnl;
        let sL = sqL;
        let sR = sqR;
        if (!unit) {
          wl = 0;
          sL = 0;
          sR = 0;
          for (let c = 0; c < k; c++) {
            const l = mode === MODE_CLASS ? sumLeft[c]! * cw[c]! : sumLeft[c]!;
            const r = total[c]! - l;
            wl += l;
            sL += l * l;
            sR += r * r;
          }
        }
        const wr = wn - wl;
        if (!unit || sL * wr + sR * wl >= bound * (wl * wr)) {
          const proxy = -wr * (1.0 - sR / (wr * wr)) - wl * (1.0 - sL / (wl * wl));
          if (proxy > best) {
            best = proxy;
            bound = (best + wn) * SLACK_UNIT;
            st.proxy = proxy;
            st.feature = feature;
            st.pos = start + nl;
            st.hist = true;
            st.bin = prev;
            let t = v / 2.0 + vn / 2.0;
            if (t === vn || t === Infinity || t === -Infinity) t = v;
            st.threshold = t;
          }
        }
      }
    }
    // Move bin b to the left child.
    const hb = h + b * k;
    for (let c = 0; c < k; c++) {
      const x = hist[hb + c]!;
      if (x === 0) continue;
      const l = sumLeft[c]!;
      sqL += x * (2 * l + x);
      sqR -= x * (2 * (total[c]! - l) - x);
      sumLeft[c] = l + x;
      wnl += x;
    }
    nl += nb;
    prev = b;
  }
  return true;
}

/** Class counts of the list entries `[from, to)` (codes `row << shift | class`) added to `leftTot`. */
function countLeft(codes: Int32Array, from: number, to: number, mask: number, leftTot: Float64Array): void {
  for (let p = from; p < to; p++) leftTot[codes[2 * p]! & mask]++;
}

/** Class weight sums of the list entries `[from, to)` added to `leftTot` in list order; returns their total weight. */
function sumLeftWeights(codes: Int32Array, from: number, to: number, mask: number, shift: number, w: Float64Array, leftTot: Float64Array): number {
  let wnl = 0;
  for (let p = from; p < to; p++) {
    const code = codes[2 * p]!;
    const wi = w[code >> shift]!;
    leftTot[code & mask] += wi;
    wnl += wi;
  }
  return wnl;
}

/** The rows of the list entries `[from, to)` into `samples[at …]`. */
function listRows(codes: Int32Array, from: number, to: number, shift: number, samples: Int32Array, at: number): void {
  for (let p = from, q = at; p < to; p++, q++) samples[q] = codes[2 * p]! >> shift;
}

/** {@link listRows}, each row also marked `mark[row] = m`. */
function markListRows(codes: Int32Array, from: number, to: number, shift: number, samples: Int32Array, at: number, mark: Uint8Array, m: number): void {
  for (let p = from, q = at; p < to; p++, q++) {
    const i = codes[2 * p]! >> shift;
    mark[i] = m;
    samples[q] = i;
  }
}

/**
 * Stable partition of the rows `samples[start … end)` by their rank in histogram column `col`: rank ≤
 * `lastBin` goes left (marked 1, compacted in place), the others are marked 0 and go to `tC`. Returns the
 * end of the left part; the caller copies `tC[0 … end − l)` after it.
 */
function partitionRowsByRank(samples: Int32Array, start: number, end: number, ranks: Uint8Array, dH: number, col: number, lastBin: number, mark: Uint8Array, tC: Int32Array): number {
  let l = start;
  let r = 0;
  for (let p = start; p < end; p++) {
    const i = samples[p]!;
    const m = ranks[i * dH + col]! <= lastBin ? 1 : 0;
    mark[i] = m;
    samples[l] = i;
    tC[r] = i;
    l += m;
    r += 1 - m;
  }
  return l;
}

/**
 * Stable counting sort of the rows `samples[start … end)` on their rank `ranks[row·stride + base]` (a
 * histogram feature), written as a sorted (value, code) list at `vals`/`codes` entries `dst …`: value
 * `uniq[u + rank]`, code `row << shift | y[row]`. `rankCount` (256) is scratch.
 */
function rankSort(
  samples: Int32Array,
  start: number,
  end: number,
  ranks: Uint8Array,
  stride: number,
  base: number,
  rankCount: Int32Array,
  uniq: Float32Array,
  u: number,
  y: Int32Array,
  shift: number,
  vals: Float32Array,
  codes: Int32Array,
  dst: number,
): void {
  rankCount.fill(0);
  countRanks(samples, start, end, ranks, stride, base, rankCount);
  let acc = dst;
  for (let b = 0; b < MAX_HIST_BINS; b++) {
    const c = rankCount[b]!;
    rankCount[b] = acc;
    acc += c;
  }
  scatterByRank(samples, start, end, ranks, stride, base, rankCount, uniq, u, y, shift, vals, codes);
}

/** Rows per rank of `samples[start … end)` added to `rankCount` ({@link rankSort}). */
function countRanks(samples: Int32Array, start: number, end: number, ranks: Uint8Array, stride: number, base: number, rankCount: Int32Array): void {
  for (let p = start; p < end; p++) rankCount[ranks[samples[p]! * stride + base]!]++;
}

/** The scatter pass of {@link rankSort} (`rankCount` holds the start of each rank). */
function scatterByRank(
  samples: Int32Array,
  start: number,
  end: number,
  ranks: Uint8Array,
  stride: number,
  base: number,
  rankCount: Int32Array,
  uniq: Float32Array,
  u: number,
  y: Int32Array,
  shift: number,
  vals: Float32Array,
  codes: Int32Array,
): void {
  for (let p = start; p < end; p++) {
    const i = samples[p]!;
    const b = ranks[i * stride + base]!;
    const q = rankCount[b]++;
    vals[2 * q + 1] = uniq[u + b]!;
    codes[2 * q] = (i << shift) | y[i]!;
  }
}

/** Class counts of the rows `samples[start … end)` added to `counts`. */
function countClasses(samples: Int32Array, start: number, end: number, y: Int32Array, counts: Int32Array): void {
  for (let p = start; p < end; p++) counts[y[samples[p]!]!]++;
}

/** Class weight sums (added to `total`, in row order) and class counts (added to `counts`) of the rows `samples[start … end)`; returns their total weight. */
function sumClassWeights(samples: Int32Array, start: number, end: number, y: Int32Array, w: Float64Array, total: Float64Array, counts: Int32Array): number {
  let wn = 0;
  for (let p = start; p < end; p++) {
    const i = samples[p]!;
    total[y[i]!] += w[i]!;
    counts[y[i]!]++;
    wn += w[i]!;
  }
  return wn;
}

/**
 * Class counts per bin of every histogram feature over the rows `samples[start … end)`:
 * `hist[(j·256 + rank)·k + class]` for histogram feature j (ranks row-major, `dH` per row).
 */
function histCounts(samples: Int32Array, start: number, end: number, y: Int32Array, ranks: Uint8Array, dH: number, k: number, hist: Float64Array): void {
  const stride = MAX_HIST_BINS * k;
  for (let p = start; p < end; p++) {
    const i = samples[p]!;
    const rb = i * dH;
    let j = 0;
    let hb = y[i]!;
    // Four features per step (half the time of one per step on the lab flows: loop overhead dominates).
    for (; j + 4 <= dH; j += 4, hb += 4 * stride) {
      hist[hb + ranks[rb + j]! * k]++;
      hist[hb + stride + ranks[rb + j + 1]! * k]++;
      hist[hb + 2 * stride + ranks[rb + j + 2]! * k]++;
      hist[hb + 3 * stride + ranks[rb + j + 3]! * k]++;
    }
    for (; j < dH; j++, hb += stride) hist[hb + ranks[rb + j]! * k]++;
  }
}

/** Rows per bin of histogram feature j (`card` bins) as the sum of its class counts. */
function histBinRows(hist: Float64Array, binN: Int32Array, j: number, card: number, k: number): void {
  const hb = j * MAX_HIST_BINS * k;
  const bb = j * MAX_HIST_BINS;
  for (let b = 0; b < card; b++) {
    let s = 0;
    for (let c = 0; c < k; c++) s += hist[hb + b * k + c]!;
    binN[bb + b] = s;
  }
}

/** {@link histCounts} with per-sample weights: class weight sums in `hist`, row counts in `binN` (zeroed by the caller). */
function histWeights(samples: Int32Array, start: number, end: number, y: Int32Array, w: Float64Array, ranks: Uint8Array, dH: number, k: number, hist: Float64Array, binN: Int32Array): void {
  const stride = MAX_HIST_BINS * k;
  for (let p = start; p < end; p++) {
    const i = samples[p]!;
    const wi = w[i]!;
    const rb = i * dH;
    for (let j = 0, hb = y[i]!, bb = 0; j < dH; j++, hb += stride, bb += MAX_HIST_BINS) {
      const b = ranks[rb + j]!;
      hist[hb + b * k] += wi;
      binN[bb + b]++;
    }
  }
}

/**
 * The builder. Data spaces: in the main space, for a presorted feature f the sorted (value, code) list of
 * the samples at positions `[start, end)` of a node is at `off[f] + start … off[f] + end` of `vals`/`codes`
 * (`off[f] = slot·n`), and histogram features are scanned through per-node class histograms built from
 * the byte ranks (no list, nothing to partition). A node's lists are scattered over distant regions, which
 * makes small nodes memory-latency bound; so a node with at most `compactMaxRows` samples gets the
 * segments of its possibly non-constant features copied (histogram features counting-sorted) next to each
 * other into a workspace, where its whole subtree is grown with sorted lists only. Node order, random draws
 * and results are the same in every space. Growth is depth-first (scikit-learn's DepthFirstTreeBuilder:
 * right child pushed first, so left subtrees get the lower node ids).
 */
class TreeBuilder {
  private readonly n: number;
  private readonly d: number;
  private readonly shift: number;
  private readonly mask: number;
  private readonly unit: boolean;
  /** MODE_UNIT, MODE_CLASS (class weights only) or MODE_SAMPLE (per-sample weights). */
  private readonly mode: number;
  private readonly cwArr: Float64Array;
  private readonly samples: Int32Array;
  private readonly mark: Uint8Array;
  private readonly tC: Int32Array;
  private readonly tP: Float64Array;
  private readonly features: Int32Array;
  private readonly constantFeatures: Int32Array;
  private readonly rng: XorShift32;
  private readonly store: NodeStore;
  private readonly total: Float64Array;
  private readonly sumLeft: Float64Array;
  private readonly leftTot: Float64Array;
  private readonly counts: Int32Array;
  private readonly icnt: Int32Array;
  private readonly st: SplitState = { proxy: -Infinity, feature: -1, pos: 0, threshold: 0, hist: false, bin: 0 };
  private weightedTotal = 0;
  private first = true;
  private maxDepthSeen = 0;
  private readonly prep: Prepared;
  private readonly mainOff: Int32Array;
  private readonly compactMax: number;
  // Histograms (class totals per bin, rows per bin) of main-space nodes: a pool of buffers, and the
  // buffers saved for nodes waiting on the stack (record field `hist`, an index into `saved`).
  private readonly pool: HistBuf[] = [];
  private readonly saved: Array<HistBuf | null> = [];
  // Workspace (allocated on first use).
  private wsPairs: Float64Array = new Float64Array(0);
  private wsVals: Float32Array = new Float32Array(0);
  private wsCodes: Int32Array = new Int32Array(0);
  private readonly wsOff: Int32Array;
  private readonly rankCount = new Int32Array(MAX_HIST_BINS);
  // Node-sorting mode: rows taking part, column values, two list buffers, node stamps of the rows.
  private readonly m: number;
  private readonly colVals: Float32Array;
  private readonly colRanks: Uint8Array;
  private nsA: ListBuf = listBuf(0);
  private nsB: ListBuf = listBuf(0);
  private stamp = new Int32Array(0);
  private stampId = 0;

  /**
   * @param prep the rows' prepared data (presorted mode: its sorted lists are partitioned in place, the
   *   builder owns them; node-sorting mode: read only).
   * @param n rows in `prep`; `d` features.
   * @param w per-sample weights (sample weight × class weight), or null.
   * @param cw class weights when `w` is null, or null for unit weights.
   * @param rows node-sorting mode: the rows taking part (ascending; the others have weight 0).
   * @param colVals node-sorting mode: float32 values of the presorted features, `colVals[slot·n + row]`.
   * @param colRanks node-sorting mode: ranks of the histogram features, `colRanks[slot·n + row]`.
   */
  constructor(
    prep: Prepared,
    n: number,
    d: number,
    private readonly y: Int32Array,
    private readonly k: number,
    private readonly w: Float64Array | null,
    cw: Float64Array | null,
    private readonly bp: BuildParams,
    rows: Int32Array | null = null,
    colVals: Float32Array | null = null,
    colRanks: Uint8Array | null = null,
  ) {
    this.n = n;
    this.d = d;
    this.shift = Math.max(1, Math.ceil(Math.log2(k)));
    this.mask = (1 << this.shift) - 1;
    this.prep = prep;
    this.mainOff = new Int32Array(d);
    for (let f = 0; f < d; f++) this.mainOff[f] = this.prep.kind[f] ? -1 : this.prep.slot[f]! * n;
    this.compactMax = Math.min(bp.compactMaxRows, n);
    this.wsOff = new Int32Array(d);
    this.unit = w === null && cw === null;
    this.mode = w !== null ? MODE_SAMPLE : cw !== null ? MODE_CLASS : MODE_UNIT;
    this.cwArr = cw ?? new Float64Array(k).fill(1);
    const nodeSort = rows !== null;
    if (nodeSort) this.samples = Int32Array.from(rows);
    else {
      this.samples = new Int32Array(n);
      for (let i = 0; i < n; i++) this.samples[i] = i;
    }
    this.m = this.samples.length;
    this.mark = new Uint8Array(nodeSort ? 0 : n);
    this.tC = new Int32Array(uninitializedBuffer(nodeSort ? 0 : 4 * n));
    this.tP = new Float64Array(uninitializedBuffer(nodeSort ? 0 : 8 * (n + 1)));
    this.colVals = colVals ?? new Float32Array(0);
    this.colRanks = colRanks ?? new Uint8Array(0);
    if (nodeSort) {
      this.nsA = listBuf(this.m);
      this.nsB = listBuf(this.m);
      this.stamp = new Int32Array(n);
    }
    this.features = new Int32Array(d);
    for (let f = 0; f < d; f++) this.features[f] = f;
    this.constantFeatures = new Int32Array(d);
    this.rng = new XorShift32(bp.seed);
    this.store = new NodeStore(k, 256);
    this.total = new Float64Array(k);
    this.sumLeft = new Float64Array(k);
    this.leftTot = new Float64Array(k);
    this.counts = new Int32Array(k);
    this.icnt = new Int32Array(k);
    if (this.mode === MODE_UNIT) this.weightedTotal = n;
    else if (this.mode === MODE_CLASS) {
      const cnt = new Float64Array(k);
      for (let i = 0; i < n; i++) cnt[y[i]!]++;
      for (let c = 0; c < k; c++) this.weightedTotal += cnt[c]! * this.cwArr[c]!;
    } else for (let i = 0; i < n; i++) this.weightedTotal += w![i]!;
  }

  build(): BuiltTree {
    if (this.bp.nodeSort) this.growNodeSort([0, this.m, 0, -1, 0, Infinity, 0, -1]);
    else this.grow(this.prep.pairs, this.prep.vals, this.prep.codes, this.mainOff, [0, this.n, 0, -1, 0, Infinity, 0, -1], true);
    return this.store.finish(this.maxDepthSeen);
  }

  /**
   * The node's rows `samples[start … end)` sorted on feature `f`, as (value, code) pairs in
   * `out[0 … end − start)` (the layout of the presorted lists). Histogram features: counting sort on the
   * ranks. Presorted features: at a large node, the feature's global sorted list filtered to the node's
   * rows (stamped); at a small one, the rows' values gathered and sorted (a pair as a float64 orders as its
   * float32 value, then its code: the value is the high word).
   */
  private gatherSorted(f: number, start: number, end: number, buf: ListBuf, stamped: boolean): boolean {
    const s = end - start;
    const { samples, y, shift, n } = this;
    const { kind, slot, uniq } = this.prep;
    const { pairs: out, vals: outVals, codes: outCodes } = buf;
    if (kind[f]) {
      const h = slot[f]!;
      rankSort(samples, start, end, this.colRanks, 1, h * n, this.rankCount, uniq, h * MAX_HIST_BINS, y, shift, outVals, outCodes, 0);
      return stamped;
    }
    const j = slot[f]!;
    if (s * NODE_SORT_FILTER_RATIO >= n) {
      if (!stamped) {
        const id = ++this.stampId;
        for (let p = start; p < end; p++) this.stamp[samples[p]!] = id;
        stamped = true;
      }
      const id = this.stampId;
      const stamp = this.stamp;
      const { codes, pairs } = this.prep;
      let q = 0;
      for (let p = j * n, e = (j + 1) * n; p < e; p++) {
        if (stamp[codes[2 * p]! >> shift] === id) out[q++] = pairs[p]!;
      }
      return stamped;
    }
    const colVals = this.colVals;
    const base = j * n;
    for (let t = 0; t < s; t++) {
      const i = samples[start + t]!;
      outCodes[2 * t] = (i << shift) | y[i]!;
      outVals[2 * t + 1] = colVals[base + i]!;
    }
    out.subarray(0, s).sort();
    return stamped;
  }

  /**
   * Depth-first growth in node-sorting mode (records as in {@link grow}): at each node, only the features
   * drawn are sorted ({@link gatherSorted}) and scanned, with the same scans, candidate order, constant
   * bookkeeping and random draws as the presorted mode, so the same tree; a split partitions the row list
   * only. Cost per node: O(visited features × node rows × log) instead of O(all features × node rows) —
   * the better trade when few features are drawn per split (random forests).
   */
  private growNodeSort(stack: number[]): void {
    const { d, k, y, w, shift, mask, unit, mode, cwArr, samples, features, constantFeatures, rng, store } = this;
    const { total, leftTot, counts, st, sumLeft } = this;
    const { maxDepth, minSamplesSplit, minSamplesLeaf: msl, minImpurityDecrease, maxFeatures } = this.bp;
    let cur = this.nsA;
    let best = this.nsB;

    while (stack.length > 0) {
      stack.pop(); // no saved histograms in this mode
      const nConstIn = stack.pop()! | 0;
      let impurity = stack.pop()!;
      const isLeft = stack.pop()! | 0;
      const parent = stack.pop()! | 0;
      const depth = stack.pop()! | 0;
      const end = stack.pop()! | 0;
      const start = stack.pop()! | 0;
      const nNode = end - start;

      const wn = this.nodeTotals(start, end);
      if (!unit) {
        let present = 0;
        for (let c = 0; c < k; c++) if (counts[c]! > 0) present++;
        if (present <= 1) impurity = 0;
      }
      let isLeaf = depth >= maxDepth || nNode < minSamplesSplit || nNode < 2 * msl;
      if (this.first) {
        impurity = gini(total, k, wn);
        this.first = false;
      }
      isLeaf = isLeaf || impurity <= EPSILON;

      let nConst = nConstIn;
      let found = false;
      let impL = 0;
      let impR = 0;
      let pos = 0;
      if (!isLeaf) {
        st.proxy = -Infinity;
        st.feature = -1;
        st.pos = 0;
        st.hist = false;
        let sqTotal = 0;
        for (let c = 0; c < k; c++) sqTotal += total[c]! * total[c]!;
        let stamped = false;
        const nKnown = nConst;
        let fi = d;
        let nDrawn = 0;
        let nFound = 0;
        let nVisited = 0;
        while (fi > nConst && (nVisited < maxFeatures || nVisited <= nFound + nDrawn)) {
          nVisited++;
          let fj = rng.int(nDrawn, fi - nFound);
          if (fj < nKnown) {
            const t = features[nDrawn]!;
            features[nDrawn] = features[fj]!;
            features[fj] = t;
            nDrawn++;
            continue;
          }
          fj += nFound;
          const f = features[fj]!;
          stamped = this.gatherSorted(f, start, end, cur, stamped);
          const { vals, codes } = cur;
          const constant = vals[2 * nNode - 1]! <= Math.fround(vals[1]! + FEATURE_THRESHOLD);
          if (!constant) {
            const before = st.proxy;
            if (mode === MODE_UNIT) scanUnit(vals, codes, mask, 0, nNode, k, total, sqTotal, this.icnt, wn, msl, f, st);
            else if (mode === MODE_CLASS) scanClassWeighted(vals, codes, mask, cwArr, 0, nNode, k, total, sqTotal, sumLeft, wn, msl, f, st);
            else scanWeighted(vals, codes, mask, shift, w!, 0, nNode, k, total, sqTotal, sumLeft, wn, msl, f, st);
            if (st.proxy !== before) {
              // This feature holds the best split so far: keep its sorted list.
              const t = best;
              best = cur;
              cur = t;
            }
          }
          if (constant) {
            features[fj] = features[nConst]!;
            features[nConst] = f;
            nFound++;
            nConst++;
            continue;
          }
          fi--;
          features[fj] = features[fi]!;
          features[fi] = f;
        }
        for (let j = 0; j < nKnown; j++) features[j] = constantFeatures[j]!;
        for (let j = nKnown; j < nConst; j++) constantFeatures[j] = features[j]!;

        if (st.feature >= 0) {
          const codes = best.codes;
          pos = st.pos;
          leftTot.fill(0);
          let wnl = 0;
          if (mode !== MODE_SAMPLE) {
            countLeft(codes, 0, pos, mask, leftTot);
            wnl = pos;
            if (mode === MODE_CLASS) {
              wnl = 0;
              for (let c = 0; c < k; c++) {
                leftTot[c] = leftTot[c]! * cwArr[c]!;
                wnl += leftTot[c]!;
              }
            }
          } else {
            wnl = sumLeftWeights(codes, 0, pos, mask, shift, w!, leftTot);
          }
          const wnr = wn - wnl;
          let sqL = 0;
          let sqR = 0;
          for (let c = 0; c < k; c++) {
            const l = leftTot[c]!;
            const r = total[c]! - l;
            sqL += l * l;
            sqR += r * r;
          }
          impL = 1.0 - sqL / (wnl * wnl);
          impR = 1.0 - sqR / (wnr * wnr);
          const improvement = (wn / this.weightedTotal) * (impurity - (wnr / wn) * impR - (wnl / wn) * impL);
          found = !(improvement + EPSILON < minImpurityDecrease);
        }
        isLeaf = !found;
      }

      const node = isLeaf
        ? store.add(TREE_UNDEFINED, TREE_UNDEFINED, impurity, nNode, wn, total)
        : store.add(st.feature, st.threshold, impurity, nNode, wn, total);
      if (parent >= 0) {
        if (isLeft) store.left[parent] = node;
        else store.right[parent] = node;
      }
      if (depth > this.maxDepthSeen) this.maxDepthSeen = depth;

      if (!isLeaf) {
        // The rows in the split feature's order: the left child's first.
        const codes = best.codes;
        listRows(codes, 0, nNode, shift, samples, start);
        stack.push(start + pos, end, depth + 1, node, 0, impR, nConst, -1);
        stack.push(start, start + pos, depth + 1, node, 1, impL, nConst, -1);
      }
    }
  }

  /**
   * Node statistics (scikit-learn's node_reset / node_value) of the rows `samples[start … end)`: weighted
   * class totals in `total`, class counts in `counts` (weighted modes); returns the total weight.
   */
  private nodeTotals(start: number, end: number): number {
    const { samples, y, w, k, total, counts, cwArr, mode } = this;
    counts.fill(0);
    if (mode === MODE_SAMPLE) {
      total.fill(0);
      return sumClassWeights(samples, start, end, y, w!, total, counts);
    }
    countClasses(samples, start, end, y, counts);
    if (mode === MODE_UNIT) {
      for (let c = 0; c < k; c++) total[c] = counts[c]!;
      return end - start;
    }
    let wn = 0;
    for (let c = 0; c < k; c++) {
      total[c] = counts[c]! * cwArr[c]!;
      wn += total[c]!;
    }
    return wn;
  }

  /**
   * Class histograms of every histogram feature over the node's rows (main space): class counts (class
   * weights are applied to counts later), or with per-sample weights class weight sums plus row counts.
   */
  private buildHistograms(start: number, end: number, buf: HistBuf): void {
    const { samples, y, w, k } = this;
    const { hist, binN } = buf;
    const { ranks, dH, card } = this.prep;
    // Only the bins in use are cleared (and ever read): bin b of feature j exists for b < card[j].
    for (let j = 0; j < dH; j++) hist.fill(0, j * MAX_HIST_BINS * k, (j * MAX_HIST_BINS + card[j]!) * k);
    if (w === null) {
      histCounts(samples, start, end, y, ranks, dH, k, hist);
      for (let j = 0; j < dH; j++) histBinRows(hist, binN, j, card[j]!, k);
    } else {
      for (let j = 0; j < dH; j++) binN.fill(0, j * MAX_HIST_BINS, j * MAX_HIST_BINS + card[j]!);
      histWeights(samples, start, end, y, w, ranks, dH, k, hist, binN);
    }
  }

  private acquire(): HistBuf {
    return this.pool.pop() ?? { hist: new Float64Array(this.prep.dH * MAX_HIST_BINS * this.k), binN: new Int32Array(this.prep.dH * MAX_HIST_BINS) };
  }

  private release(buf: HistBuf | null): void {
    if (buf !== null) this.pool.push(buf);
  }

  /** Keep `buf` for a node pushed on the stack; returns its handle. */
  private save(buf: HistBuf): number {
    const i = this.saved.indexOf(null);
    if (i >= 0) {
      this.saved[i] = buf;
      return i;
    }
    this.saved.push(buf);
    return this.saved.length - 1;
  }

  /** `a −= b` over the bins in use (histogram subtraction: parent − one child = the other child). */
  private subtract(a: HistBuf, b: HistBuf): void {
    const { k } = this;
    const { dH, card } = this.prep;
    for (let j = 0; j < dH; j++) {
      const hb = j * MAX_HIST_BINS * k;
      const bb = j * MAX_HIST_BINS;
      const cj = card[j]!;
      for (let x = hb, e = hb + cj * k; x < e; x++) a.hist[x] = a.hist[x]! - b.hist[x]!;
      for (let x = bb, e = bb + cj; x < e; x++) a.binN[x] = a.binN[x]! - b.binN[x]!;
    }
  }

  /**
   * Depth-first growth of the subtree(s) on `stack` (records of 8 numbers: start, end, depth, parent,
   * isLeft, impurity, nConstant, saved-histogram handle or −1; the array holds doubles, so the integer
   * fields are read back with `| 0`, which keeps them small integers for the scan and partition calls) in the data space (`pairs` with its `vals`/`codes` views, `off`); `main` =
   * the main space.
   */
  private grow(pairs: Float64Array, vals: Float32Array, codes: Int32Array, off: Int32Array, stack: number[], main: boolean): void {
    const { d, k, y, w, shift, mask, unit, mode, cwArr, samples, mark, tC, tP, features, constantFeatures, rng, store } = this;
    const { total, sumLeft, leftTot, counts, st } = this;
    const { kind, slot, uniq, card, ranks, dH } = this.prep;
    const { maxDepth, minSamplesSplit, minSamplesLeaf: msl, minImpurityDecrease, maxFeatures } = this.bp;

    while (stack.length > 0) {
      const histHandle = stack.pop()! | 0;
      const nConstIn = stack.pop()! | 0;
      let impurity = stack.pop()!;
      const isLeft = stack.pop()! | 0;
      const parent = stack.pop()! | 0;
      const depth = stack.pop()! | 0;
      const end = stack.pop()! | 0;
      const start = stack.pop()! | 0;
      const nNode = end - start;
      // Histograms of this node, when its parent prepared them (main space).
      let cur: HistBuf | null = null;
      if (histHandle >= 0) {
        cur = this.saved[histHandle]!;
        this.saved[histHandle] = null;
      }

      if (
        main &&
        nNode <= this.compactMax &&
        depth < maxDepth &&
        nNode >= minSamplesSplit &&
        nNode >= 2 * msl &&
        impurity > EPSILON
      ) {
        this.release(cur);
        this.growCompact(off, start, end, [start, end, depth, parent, isLeft, impurity, nConstIn, -1]);
        continue;
      }

      // Node statistics (scikit-learn's node_reset / node_value).
      const wn = this.nodeTotals(start, end);
      if (!unit) {
        // A node holding one class is pure: with weights, its impurity from float sums may be ~1e-16 >
        // EPSILON (scikit-learn then splits it uselessly); make it an exact leaf.
        let present = 0;
        for (let c = 0; c < k; c++) if (counts[c]! > 0) present++;
        if (present <= 1) impurity = 0;
      }
      let isLeaf = depth >= maxDepth || nNode < minSamplesSplit || nNode < 2 * msl;
      if (this.first) {
        impurity = gini(total, k, wn);
        this.first = false;
      }
      isLeaf = isLeaf || impurity <= EPSILON;

      let nConst = nConstIn;
      let found = false;
      let impL = 0;
      let impR = 0;
      let pos = end;
      if (!isLeaf) {
        st.proxy = -Infinity;
        st.feature = -1;
        st.pos = end;
        st.hist = false;
        let sqTotal = 0;
        for (let c = 0; c < k; c++) sqTotal += total[c]! * total[c]!;
        let histReady = cur !== null;
        // scikit-learn's BestSplitter feature loop: draw features without replacement (Fisher–Yates on
        // `features`), skip known constants, detect new ones, evaluate up to maxFeatures non-constant ones.
        const nKnown = nConst;
        let fi = d;
        let nDrawn = 0;
        let nFound = 0;
        let nVisited = 0;
        while (fi > nConst && (nVisited < maxFeatures || nVisited <= nFound + nDrawn)) {
          nVisited++;
          let fj = rng.int(nDrawn, fi - nFound);
          if (fj < nKnown) {
            const t = features[nDrawn]!;
            features[nDrawn] = features[fj]!;
            features[fj] = t;
            nDrawn++;
            continue;
          }
          fj += nFound;
          const f = features[fj]!;
          let constant: boolean;
          if (main && kind[f]) {
            if (!histReady) {
              cur = this.acquire();
              this.buildHistograms(start, end, cur);
              histReady = true;
            }
            const h = slot[f]!;
            constant = !scanHistogram(cur!.hist, h * MAX_HIST_BINS * k, cur!.binN, h * MAX_HIST_BINS, uniq, h * MAX_HIST_BINS, card[h]!, mode, cwArr, start, nNode, k, total, sqTotal, sumLeft, wn, msl, f, st);
          } else {
            const o = off[f]!;
            constant = vals[2 * (o + end) - 1]! <= Math.fround(vals[2 * (o + start) + 1]! + FEATURE_THRESHOLD);
            if (!constant) {
              if (mode === MODE_UNIT) scanUnit(vals, codes, mask, o + start, o + end, k, total, sqTotal, this.icnt, wn, msl, f, st);
              else if (mode === MODE_CLASS) scanClassWeighted(vals, codes, mask, cwArr, o + start, o + end, k, total, sqTotal, sumLeft, wn, msl, f, st);
              else scanWeighted(vals, codes, mask, shift, w!, o + start, o + end, k, total, sqTotal, sumLeft, wn, msl, f, st);
            }
          }
          if (constant) {
            features[fj] = features[nConst]!;
            features[nConst] = f;
            nFound++;
            nConst++;
            continue;
          }
          fi--;
          features[fj] = features[fi]!;
          features[fi] = f;
        }
        // Restore the order of the known constants (drawn ones were swapped around); remember the new ones.
        for (let j = 0; j < nKnown; j++) features[j] = constantFeatures[j]!;
        for (let j = nKnown; j < nConst; j++) constantFeatures[j] = features[j]!;

        if (st.feature >= 0) {
          // Left class totals of the best split, recomputed in the scan's order.
          leftTot.fill(0);
          let wnl = 0;
          if (st.hist) {
            pos = st.pos;
            const h = slot[st.feature]!;
            const hb = h * MAX_HIST_BINS * k;
            const hist = cur!.hist;
            for (let b = 0; b <= st.bin; b++) for (let c = 0; c < k; c++) leftTot[c] += hist[hb + b * k + c]!;
            if (mode === MODE_CLASS) for (let c = 0; c < k; c++) leftTot[c] = leftTot[c]! * cwArr[c]!;
            for (let c = 0; c < k; c++) wnl += leftTot[c]!;
          } else {
            const bo = off[st.feature]!;
            pos = st.pos - bo;
            if (mode !== MODE_SAMPLE) {
              countLeft(codes, bo + start, bo + pos, mask, leftTot);
              wnl = pos - start;
              if (mode === MODE_CLASS) {
                wnl = 0;
                for (let c = 0; c < k; c++) {
                  leftTot[c] = leftTot[c]! * cwArr[c]!;
                  wnl += leftTot[c]!;
                }
              }
            } else {
              wnl = sumLeftWeights(codes, bo + start, bo + pos, mask, shift, w!, leftTot);
            }
          }
          const wnr = wn - wnl;
          let sqL = 0;
          let sqR = 0;
          for (let c = 0; c < k; c++) {
            const l = leftTot[c]!;
            const r = total[c]! - l;
            sqL += l * l;
            sqR += r * r;
          }
          impL = 1.0 - sqL / (wnl * wnl);
          impR = 1.0 - sqR / (wnr * wnr);
          const improvement = (wn / this.weightedTotal) * (impurity - (wnr / wn) * impR - (wnl / wn) * impL);
          found = !(improvement + EPSILON < minImpurityDecrease);
        }
        isLeaf = !found;
      }

      const node = isLeaf
        ? store.add(TREE_UNDEFINED, TREE_UNDEFINED, impurity, nNode, wn, total)
        : store.add(st.feature, st.threshold, impurity, nNode, wn, total);
      if (parent >= 0) {
        if (isLeft) store.left[parent] = node;
        else store.right[parent] = node;
      }
      if (depth > this.maxDepthSeen) this.maxDepthSeen = depth;

      if (!isLeaf) {
        const bf = st.feature;
        if (st.hist) {
          // Mark by rank and partition the sample list stably (left first).
          const l = partitionRowsByRank(samples, start, end, ranks, dH, slot[bf]!, st.bin, mark, tC);
          samples.set(tC.subarray(0, end - l), l);
        } else {
          const bo = off[bf]!;
          // Mark the rows going left and record the children's sample sets.
          markListRows(codes, bo + start, bo + pos, shift, samples, start, mark, 1);
          markListRows(codes, bo + pos, bo + end, shift, samples, pos, mark, 0);
        }
        // Partition every sorted list that may still split (not constant here, not the split feature). A
        // child that will be a leaf (the rules of the node loop above) never reads its lists again: then
        // only the other child's entries are kept, compacted in place, and nothing when both are leaves —
        // a large pure child peeled off a small rest costs one read of the lists instead of a partition.
        const leafL = depth + 1 >= maxDepth || pos - start < minSamplesSplit || pos - start < 2 * msl || impL <= EPSILON;
        const leafR = depth + 1 >= maxDepth || end - pos < minSamplesSplit || end - pos < 2 * msl || impR <= EPSILON;
        for (let j = nConst; j < d && !(leafL && leafR); j++) {
          const f = features[j]!;
          if (f === bf || (main && kind[f])) continue;
          const o = off[f]!;
          if (leafR) keepLeft(pairs, codes, shift, o + start, o + end, mark);
          else if (leafL) keepRight(pairs, codes, shift, o + start, o + end, mark);
          else partitionSegment(pairs, codes, shift, o + start, o + end, pos - start, mark, tP);
        }
        // Children's histograms (main space): build the smaller child's, derive the larger's by subtraction.
        let hL = -1;
        let hR = -1;
        if (main && cur !== null) {
          const willSplit = (size: number, imp: number): boolean =>
            size > this.compactMax && size >= minSamplesSplit && size >= 2 * msl && depth + 1 < maxDepth && imp > EPSILON;
          const needL = willSplit(pos - start, impL);
          const needR = willSplit(end - pos, impR);
          if (needL || needR) {
            const leftSmaller = pos - start <= end - pos;
            const small = this.acquire();
            if (leftSmaller) this.buildHistograms(start, pos, small);
            else this.buildHistograms(pos, end, small);
            this.subtract(cur, small); // cur := the larger child
            const bufL = leftSmaller ? small : cur;
            const bufR = leftSmaller ? cur : small;
            if (needL) hL = this.save(bufL);
            else this.release(bufL);
            if (needR) hR = this.save(bufR);
            else this.release(bufR);
            cur = null;
          }
        }
        this.release(cur);
        stack.push(pos, end, depth + 1, node, 0, impR, nConst, hR);
        stack.push(start, pos, depth + 1, node, 1, impL, nConst, hL);
      } else {
        this.release(cur);
      }
    }
  }

  /**
   * Copy the node's possibly non-constant features (`features[nConst…d)`) over `[start, end)` next to each
   * other into the workspace — sorted-list segments as they are, histogram features by a stable counting
   * sort of the node's rows on their ranks — and grow the node's subtree there.
   */
  private growCompact(off: Int32Array, start: number, end: number, record: number[]): void {
    const s = end - start;
    const nConst = record[6]!;
    const m = this.d - nConst;
    const need = this.compactMax * this.d;
    if (this.wsPairs.length < need) {
      this.wsPairs = new Float64Array(uninitializedBuffer(8 * need));
      this.wsVals = new Float32Array(this.wsPairs.buffer);
      this.wsCodes = new Int32Array(this.wsPairs.buffer);
    }
    const { wsPairs, wsVals, wsCodes, wsOff, samples, y, shift, rankCount } = this;
    const { kind, slot, uniq, ranks, dH, pairs } = this.prep;
    for (let j = 0; j < m; j++) {
      const f = this.features[nConst + j]!;
      const dst = j * s;
      wsOff[f] = dst - start;
      if (kind[f]) {
        const col = slot[f]!;
        rankSort(samples, start, end, ranks, dH, col, rankCount, uniq, col * MAX_HIST_BINS, y, shift, wsVals, wsCodes, dst);
      } else {
        const src = off[f]! + start;
        wsPairs.set(pairs.subarray(src, src + s), dst);
      }
    }
    this.grow(wsPairs, wsVals, wsCodes, wsOff, record, false);
  }
}

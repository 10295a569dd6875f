/**
 * Random forest classifier (Breiman 2001, "Random Forests", Machine Learning 45(1):5–32): an ensemble of
 * CART trees ({@link DecisionTreeClassifier}, Gini), each grown on a bootstrap sample of the rows with a
 * random subset of the features drawn at every split; the forest's class probabilities are the mean of the
 * trees' leaf class distributions (soft voting). Semantics are scikit-learn's `RandomForestClassifier`
 * (checked against scikit-learn 1.2):
 *
 * - Bootstrap as scikit-learn draws it: tree i gets a seed `s_i` = the i-th
 *   `RandomState(randomState).randint(2^31 − 1)`, its bootstrap is `RandomState(s_i).randint(0, n, n)`
 *   turned into per-row sample weights (the number of draws of each row; rows never drawn take no part
 *   in the tree), and its feature-drawing seed is `RandomState(s_i).randint(0, 2^31 − 1)`. numpy's
 *   legacy Mersenne Twister and its masked rejection sampling are reproduced ({@link MT19937}), so with
 *   the same `randomState` the forest is scikit-learn's `RandomForestClassifier(random_state=…)` tree for
 *   tree (bootstrap counts are integers, so every weighted sum is exact). With non-integer weights (class
 *   weights, float sample weights) the agreement is statistical only: scikit-learn then splits some pure
 *   nodes (rounding leaves an impurity of ~1e-16; flowsift's tree makes them leaves), which advances its
 *   feature-drawing generator, so the rest of such a tree draws other features.
 * - `classWeight`: `'balanced'` (weights of the whole training set), `'balanced_subsample'` (recomputed on
 *   each tree's bootstrap sample), an array of per-class weights, or null; multiplied into the sample
 *   weights as scikit-learn does.
 * - `predictProba` = mean over the trees of each tree's normalised leaf distribution, summed in tree
 *   order then divided by the number of trees; `predict` = its argmax (first class on ties).
 * - `featureImportances` = mean of the normalised importances of the trees that have a split, normalised
 *   to sum 1 (all 0 when no tree splits), as scikit-learn's `feature_importances_` (mean decrease in
 *   impurity).
 * - Out-of-bag estimate (`oobScore: true`): each row is predicted by the trees whose bootstrap missed it
 *   (mean of their probabilities), `oobScore` = accuracy of those predictions, as scikit-learn's
 *   `oob_score_` (a row that every tree drew counts with probabilities 0, i.e. class 0, as there).
 *
 * Speed: the training matrix is sorted and encoded once ({@link prepareTreeData}) and every tree grows on
 * that prepared data, read only, under its bootstrap weights ({@link DecisionTreeClassifier.fitPrepared});
 * with `maxFeatures: 'sqrt'` the trees use the node-sorting split search (only the features drawn at a
 * node are sorted, as scikit-learn does). {@link RandomForestClassifier.fitAsync} spreads the trees over
 * `worker_threads` (the prepared data shared, not copied); each tree depends only on its own seed, so the
 * forest is the same whatever the number of workers. Measured (2 shared cores, 100 trees, compiled
 * JavaScript): lab/train (25,958 flows × 76 features) 1.9–2.1 s in one thread, where scikit-learn 1.2
 * takes 1.2–1.4 s (same load); 200,000 rows: about 23 s, scikit-learn the same.
 *
 * Sources: L. Breiman, "Random Forests", Machine Learning 45 (2001); scikit-learn's
 * `sklearn.ensemble.RandomForestClassifier` documentation and source (`_forest.py`:
 * `_parallel_build_trees`, `_generate_sample_indices`, `feature_importances_`, `_compute_oob_predictions`).
 */
import { createRequire } from 'node:module';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ModelError } from './errors.js';
import type { FeatureMatrix } from './matrix.js';
import { checkMatrix } from './scaler.js';
import {
  DecisionTreeClassifier,
  PreparedTreeData,
  balancedClassWeights,
  resolveMaxFeatures,
  resolveTreeParams,
  TREE_LEAF,
  type Classifier,
  type DecisionTreeJSON,
  type DecisionTreeOptions,
  type MaxFeatures,
  type PreparedTreeDataTransfer,
  type TreeTuning,
} from './tree.js';

// ---------------------------------------------------------------------------------------------------
// numpy's legacy RandomState (MT19937)
// ---------------------------------------------------------------------------------------------------

/**
 * The Mersenne Twister MT19937 (Matsumoto & Nishimura 1998) as numpy's legacy `RandomState(seed)`:
 * `init_genrand(seed)` seeding and the tempered 32-bit outputs, plus {@link randint} with numpy's masked
 * rejection sampling, so that `new MT19937(s).randint(h)` draws what `RandomState(s).randint(0, h)`
 * draws (for `h ≤ 2^32`, any integer dtype).
 */
export class MT19937 {
  private readonly mt = new Uint32Array(624);
  private index = 624;

  /** @param seed integer in `[0, 2^32)` (numpy's accepted range for an integer seed). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ModelError(`MT19937 seed must be an integer in [0, 2^32), got ${seed}`);
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const p = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = (Math.imul(1812433253, p) + i) >>> 0;
    }
  }

  /** Next 32-bit output (`genrand_int32`). */
  nextUint32(): number {
    if (this.index >= 624) this.twist();
    let y = this.mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /**
   * Integer in `[0, high)` as numpy's legacy `randint(0, high)`: draw 32-bit outputs masked to the
   * smallest all-ones mask covering `high − 1` until one is ≤ `high − 1` (nothing is drawn for `high = 1`).
   * @param high integer in `[1, 2^32]`.
   */
  randint(high: number): number {
    const rng = high - 1;
    if (rng === 0) return 0;
    if (rng === 0xffffffff) return this.nextUint32();
    let mask = rng;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= rng) return v;
    }
  }

  private twist(): void {
    const mt = this.mt;
    for (let k = 0; k < 624; k++) {
      const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % 624]! & 0x7fffffff);
      mt[k] = (mt[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
    }
    this.index = 0;
  }
}

/** `np.iinfo(np.int32).max`: the bound of scikit-learn's per-estimator seeds (`_set_random_states`). */
const INT32_MAX = 2147483647;
/** scikit-learn's `RAND_R_MAX` (0x7FFFFFFF): the bound of the splitter's xorshift seed. */
const RAND_R_MAX = 0x7fffffff;

/**
 * Seeds of a forest's trees: scikit-learn's `random_state.randint(np.iinfo(np.int32).max)` drawn once per
 * tree, in order, from `RandomState(randomState)`.
 */
export function forestTreeSeeds(randomState: number, nEstimators: number): Uint32Array {
  const mt = new MT19937(randomState);
  const seeds = new Uint32Array(nEstimators);
  for (let i = 0; i < nEstimators; i++) seeds[i] = mt.randint(INT32_MAX);
  return seeds;
}

/**
 * Bootstrap of one tree as sample weights: `counts[i]` = how many of the `n` draws of
 * `RandomState(treeSeed).randint(0, n, n)` hit row i (scikit-learn's `np.bincount(indices, minlength=n)`).
 */
export function bootstrapCounts(treeSeed: number, n: number): Float64Array {
  const mt = new MT19937(treeSeed);
  const counts = new Float64Array(n);
  for (let i = 0; i < n; i++) counts[mt.randint(n)]++;
  return counts;
}

/** The feature-drawing (xorshift) seed scikit-learn's splitter derives from a tree seed: `RandomState(s).randint(0, 0x7FFFFFFF)`. */
export function splitterSeed(treeSeed: number): number {
  return new MT19937(treeSeed).randint(RAND_R_MAX);
}

// ---------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------

/** Class weights of a forest: the tree's ({@link ClassWeight}) plus scikit-learn's `'balanced_subsample'`. */
export type ForestClassWeight = null | 'balanced' | 'balanced_subsample' | readonly number[];

/** Options of {@link RandomForestClassifier}; every field is optional (scikit-learn's defaults). */
export interface RandomForestOptions {
  /** Number of trees, integer ≥ 1. Default 100. */
  nEstimators?: number;
  /** Maximum depth of each tree (integer ≥ 1) or `null` for unlimited (default). */
  maxDepth?: number | null;
  /** Minimum samples to split a node (see {@link DecisionTreeOptions.minSamplesSplit}). Default 2. */
  minSamplesSplit?: number;
  /** Minimum samples per leaf (see {@link DecisionTreeOptions.minSamplesLeaf}); counts distinct bootstrap rows, as scikit-learn. Default 1. */
  minSamplesLeaf?: number;
  /** Minimum weighted impurity decrease of a split (see {@link DecisionTreeOptions.minImpurityDecrease}). Default 0. */
  minImpurityDecrease?: number;
  /** Features drawn per split (see {@link MaxFeatures}). Default `'sqrt'` (scikit-learn's default for classifiers). */
  maxFeatures?: MaxFeatures;
  /** Grow each tree on a bootstrap sample (true, default) or on all rows (only the feature draws differ). */
  bootstrap?: boolean;
  /** Class weights (see {@link ForestClassWeight}). Default null. */
  classWeight?: ForestClassWeight;
  /** Compute the out-of-bag accuracy during fit (needs `bootstrap`). Default false. */
  oobScore?: boolean;
  /**
   * Seed of the forest: integer in `[0, 2^32)`, scikit-learn's `random_state` (same value, same trees).
   * `null` (default) means 0: flowsift's forests are always reproducible.
   */
  randomState?: number | null;
  /** Performance knobs of the trees (not stored; they do not change trees). */
  tuning?: TreeTuning;
}

/** The options with defaults applied, as stored in the model JSON. */
export interface RandomForestParams {
  nEstimators: number;
  maxDepth: number | null;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  minImpurityDecrease: number;
  maxFeatures: MaxFeatures;
  bootstrap: boolean;
  classWeight: null | 'balanced' | 'balanced_subsample' | number[];
  oobScore: boolean;
  randomState: number | null;
}

/** Options of {@link RandomForestClassifier.fitAsync}. */
export interface ForestFitOptions {
  /**
   * Worker threads: an integer ≥ 0 (0 = grow every tree in the calling thread), or `'auto'` (default):
   * one per idle core (available cores minus the 1-minute load average, at most one per tree), none when
   * fewer than 2 cores are idle or the work is small (see {@link AUTO_WORKERS_MIN_WORK}). Trees do not
   * depend on it.
   */
  workers?: number | 'auto';
}

/**
 * `'auto'` uses workers only when rows × features × trees is at least this (about 0.5 s of single-thread
 * fitting on flow features); below it, starting the workers costs about what they save. Measured on 2
 * cores (lab/train, 25,958 rows × 76 features, 100 trees, compiled JavaScript): a worker starts in about
 * 80 ms (about 0.4 s from TypeScript sources through tsx); 2 workers fit in 1.22 s against 1.89 s in the
 * calling thread when the cores are free, but in 2.5–2.7 s against 1.8–1.9 s when other processes keep
 * them busy (load average 6 on 2 cores: each worker also warms up its own JIT), hence `'auto'` counts
 * idle cores only.
 */
export const AUTO_WORKERS_MIN_WORK = 50_000_000;

/**
 * Resolve and validate forest options.
 * @throws ModelError naming the offending option (`field` = the option name under `where`).
 */
export function resolveForestParams(opts: RandomForestOptions = {}, where = 'options'): RandomForestParams {
  const bad = (name: string, want: string, got: unknown): ModelError =>
    new ModelError(`must be ${want}, got ${JSON.stringify(got) ?? String(got)}`, { field: `${where}.${name}` });
  const ne = opts.nEstimators ?? 100;
  if (typeof ne !== 'number' || !Number.isInteger(ne) || ne < 1) throw bad('nEstimators', 'an integer ≥ 1', ne);
  const bootstrap = opts.bootstrap ?? true;
  if (typeof bootstrap !== 'boolean') throw bad('bootstrap', 'a boolean', bootstrap);
  const oob = opts.oobScore ?? false;
  if (typeof oob !== 'boolean') throw bad('oobScore', 'a boolean', oob);
  if (oob && !bootstrap) throw new ModelError('needs bootstrap: the out-of-bag estimate uses the rows each tree did not draw', { field: `${where}.oobScore` });
  const rs = opts.randomState ?? null;
  if (rs !== null && (typeof rs !== 'number' || !Number.isInteger(rs) || rs < 0 || rs > 0xffffffff)) {
    throw bad('randomState', 'null or an integer in [0, 2^32)', rs);
  }
  const cwIn = opts.classWeight ?? null;
  let classWeight: RandomForestParams['classWeight'];
  if (cwIn === 'balanced_subsample') classWeight = 'balanced_subsample';
  else {
    if (cwIn !== null && cwIn !== 'balanced' && !Array.isArray(cwIn)) {
      throw bad('classWeight', "null, 'balanced', 'balanced_subsample' or an array of weights", cwIn);
    }
    classWeight = resolveTreeParams({ classWeight: cwIn as DecisionTreeOptions['classWeight'] }, where).classWeight;
  }
  const t = resolveTreeParams(
    {
      maxDepth: opts.maxDepth,
      minSamplesSplit: opts.minSamplesSplit,
      minSamplesLeaf: opts.minSamplesLeaf,
      minImpurityDecrease: opts.minImpurityDecrease,
      maxFeatures: opts.maxFeatures === undefined ? 'sqrt' : opts.maxFeatures,
    },
    where,
  );
  return {
    nEstimators: ne,
    maxDepth: t.maxDepth,
    minSamplesSplit: t.minSamplesSplit,
    minSamplesLeaf: t.minSamplesLeaf,
    minImpurityDecrease: t.minImpurityDecrease,
    maxFeatures: t.maxFeatures,
    bootstrap,
    classWeight,
    oobScore: oob,
    randomState: rs,
  };
}

/**
 * Plain-JSON form of a fitted forest. Each tree is a {@link DecisionTreeJSON} whose `params` are the
 * forest's tree options with its own feature-drawing seed as `randomState`.
 */
export interface RandomForestJSON {
  /** Number of input features. */
  nFeatures: number;
  /** Number of classes. */
  nClasses: number;
  /** Training options. */
  params: RandomForestParams;
  /** Out-of-bag accuracy in [0, 1] when fitted with `oobScore`, else null. */
  oobScore: number | null;
  /** The trees, `params.nEstimators` of them, in order. */
  trees: DecisionTreeJSON[];
}

// ---------------------------------------------------------------------------------------------------
// The forest
// ---------------------------------------------------------------------------------------------------

/** Everything one tree's fit needs besides the prepared data (structured-clone friendly, for workers). */
interface TreeJob {
  /** Tree options without the seed (the forest's). */
  tree: DecisionTreeOptions;
  bootstrap: boolean;
  balancedSubsample: boolean;
  /** Sample weights × expanded class weights of the whole set, or null (unit). */
  base: Float64Array | null;
  /** Per-tree seeds ({@link forestTreeSeeds}). */
  seeds: Uint32Array;
}

/** Fit tree `i` of a forest (the same computation in the calling thread and in workers). */
function fitTree(data: PreparedTreeData, job: TreeJob, i: number, tuning: TreeTuning | undefined): DecisionTreeClassifier {
  const seed = job.seeds[i]!;
  const n = data.rows;
  let w: Float64Array | undefined;
  if (job.bootstrap) {
    const counts = bootstrapCounts(seed, n);
    // scikit-learn: curr_sample_weight = ones or sample_weight.copy(); *= sample_counts; then for
    // 'balanced_subsample' *= compute_sample_weight('balanced', y, indices=indices).
    w = new Float64Array(n);
    for (let r = 0; r < n; r++) w[r] = (job.base === null ? 1 : job.base[r]!) * counts[r]!;
    if (job.balancedSubsample) {
      const k = data.nClasses;
      const cnt = new Float64Array(k);
      for (let r = 0; r < n; r++) cnt[data.y[r]!] += counts[r]!;
      let present = 0;
      for (let c = 0; c < k; c++) if (cnt[c]! > 0) present++;
      const cw = new Float64Array(k);
      for (let c = 0; c < k; c++) cw[c] = cnt[c]! > 0 ? n / (present * cnt[c]!) : 0;
      for (let r = 0; r < n; r++) w[r] = w[r]! * cw[data.y[r]!]!;
    }
  } else if (job.base !== null) w = job.base;
  return new DecisionTreeClassifier({ ...job.tree, randomState: splitterSeed(seed), tuning }).fitPrepared(data, w);
}

/**
 * Random forest classifier (Breiman 2001) with scikit-learn's `RandomForestClassifier` semantics; see the
 * module documentation.
 *
 * ```ts
 * const forest = new RandomForestClassifier({ nEstimators: 100, randomState: 0 });
 * await forest.fitAsync(X, y, classNames.length);   // or forest.fit(...) in the calling thread
 * const p = forest.predictProba(Xtest);              // rows × nClasses
 * ```
 */
export class RandomForestClassifier implements Classifier {
  /** Algorithm tag of a forest in a model bundle. */
  readonly algo = 'forest';
  /** Resolved training options. */
  readonly params: RandomForestParams;
  private readonly tuning: TreeTuning | undefined;

  private _trees: DecisionTreeClassifier[] = [];
  private _nFeatures = 0;
  private _nClasses = 0;
  private _oobScore: number | null = null;
  private _oobDecision: Float64Array | null = null;
  // All trees' nodes in flat arrays (absolute node ids), for prediction.
  private fFeature = new Int32Array(0);
  private fThreshold = new Float64Array(0);
  private fLeft = new Int32Array(0);
  private fRight = new Int32Array(0);
  private fProba = new Float64Array(0);
  private fRoots = new Int32Array(0);
  private scratch = new Float64Array(0);

  /** @throws ModelError on invalid options (see {@link resolveForestParams}). */
  constructor(options: RandomForestOptions = {}) {
    this.params = resolveForestParams(options);
    this.tuning = options.tuning;
    // Validate the tuning knobs now rather than at the first tree.
    if (options.tuning !== undefined) new DecisionTreeClassifier({ tuning: options.tuning });
  }

  /** True once fitted or loaded. */
  get isFitted(): boolean {
    return this._trees.length > 0;
  }
  /** Number of input features (0 before fit). */
  get nFeatures(): number {
    return this._nFeatures;
  }
  /** Number of classes (0 before fit). */
  get nClasses(): number {
    return this._nClasses;
  }
  /** The fitted trees, in order (do not fit them again). @throws ModelError when not fitted. */
  get trees(): readonly DecisionTreeClassifier[] {
    this.assertFitted();
    return this._trees;
  }
  /** Out-of-bag accuracy in [0, 1] (fitted with `oobScore: true`), else null. */
  get oobScore(): number | null {
    return this._oobScore;
  }
  /**
   * Out-of-bag class probabilities of the training rows, `rows × nClasses` (scikit-learn's
   * `oob_decision_function_`); null unless fitted with `oobScore` in this process (not stored in JSON).
   */
  get oobDecisionFunction(): Float64Array | null {
    return this._oobDecision === null ? null : this._oobDecision.slice();
  }

  /**
   * Feature importances (length `nFeatures`): the mean of the normalised importances (mean decrease in
   * Gini impurity) of the trees that have at least one split, normalised to sum 1; all 0 when no tree
   * splits — scikit-learn's `feature_importances_`. A copy.
   * @throws ModelError when not fitted.
   */
  get featureImportances(): Float64Array {
    this.assertFitted();
    const d = this._nFeatures;
    const sum = new Float64Array(d);
    let used = 0;
    for (const t of this._trees) {
      if (t.nodeCount <= 1) continue;
      const imp = t.featureImportances;
      for (let f = 0; f < d; f++) sum[f] += imp[f]!;
      used++;
    }
    if (used === 0) return sum;
    let total = 0;
    for (let f = 0; f < d; f++) {
      sum[f] = sum[f]! / used;
      total += sum[f]!;
    }
    for (let f = 0; f < d; f++) sum[f] = sum[f]! / total;
    return sum;
  }

  /**
   * Grow the forest in the calling thread.
   * @param X training matrix, `rows × cols` row-major (finite values within the float32 range; scale first).
   * @param y class index per row in `[0, nClasses)`.
   * @param nClasses number of classes (≥ 1).
   * @param sampleWeight optional non-negative weight per row (scikit-learn's `sample_weight`).
   * @returns this
   * @throws ModelError on malformed input (as {@link DecisionTreeClassifier.fit}), a class weight array
   *   of the wrong length, or a total weight of 0.
   */
  fit(X: FeatureMatrix, y: Int32Array, nClasses: number, sampleWeight?: Float64Array): this {
    const { data, job } = this.prepare(X, y, nClasses, sampleWeight, false);
    const trees: DecisionTreeClassifier[] = [];
    for (let i = 0; i < this.params.nEstimators; i++) trees.push(fitTree(data, job, i, this.tuning));
    this.finish(X, data, job, trees);
    return this;
  }

  /**
   * Grow the forest over worker threads (see {@link ForestFitOptions}); the same forest as {@link fit}.
   * If the workers cannot be started (e.g. running from TypeScript sources without tsx), the trees are
   * grown in the calling thread.
   * @returns this
   * @throws ModelError as {@link fit}, or when `workers` is not `'auto'` or an integer ≥ 0.
   */
  async fitAsync(X: FeatureMatrix, y: Int32Array, nClasses: number, sampleWeight?: Float64Array, options: ForestFitOptions = {}): Promise<this> {
    const req = options.workers ?? 'auto';
    if (req !== 'auto' && (typeof req !== 'number' || !Number.isInteger(req) || req < 0)) {
      throw new ModelError(`must be 'auto' or an integer ≥ 0, got ${JSON.stringify(req)}`, { field: 'options.workers' });
    }
    checkMatrix(X);
    const T = this.params.nEstimators;
    let nw: number;
    if (req === 'auto') {
      const idle = Math.floor(availableParallelism() - loadavg()[0]!);
      nw = X.rows * X.cols * T >= AUTO_WORKERS_MIN_WORK && idle >= 2 ? Math.min(idle, T) : 0;
    } else nw = Math.min(req, T);
    if (nw === 0) return this.fit(X, y, nClasses, sampleWeight);
    const { data, job } = this.prepare(X, y, nClasses, sampleWeight, true);
    let trees: DecisionTreeClassifier[];
    try {
      trees = await fitInWorkers(data, job, this.tuning, nw, T);
    } catch (e) {
      if (!(e instanceof WorkerStartError)) throw e;
      trees = [];
      for (let i = 0; i < T; i++) trees.push(fitTree(data, job, i, this.tuning));
    }
    this.finish(X, data, job, trees);
    return this;
  }

  /** Validate, prepare the data once and set up the per-tree jobs. */
  private prepare(X: FeatureMatrix, y: Int32Array, nClasses: number, sampleWeight: Float64Array | undefined, shared: boolean): { data: PreparedTreeData; job: TreeJob } {
    const p = this.params;
    const data = new PreparedTreeData(X, y, nClasses, { maxHistogramBins: this.tuning?.maxHistogramBins, shared });
    const n = data.rows;
    let base: Float64Array | null = null;
    if (sampleWeight !== undefined) {
      if (!(sampleWeight instanceof Float64Array) || sampleWeight.length !== n) throw new ModelError(`sampleWeight must be a Float64Array of ${n} weights`);
      for (let i = 0; i < n; i++) {
        const v = sampleWeight[i]!;
        if (!(v >= 0) || v === Infinity) throw new ModelError(`sampleWeight[${i}] = ${v} is not a finite weight ≥ 0`);
      }
      base = Float64Array.from(sampleWeight);
    }
    // scikit-learn's expanded_class_weight (whole training set), multiplied into the sample weights.
    let cw: Float64Array | null = null;
    if (p.classWeight === 'balanced' || (p.classWeight === 'balanced_subsample' && !p.bootstrap)) cw = balancedClassWeights(data.y, nClasses);
    else if (Array.isArray(p.classWeight)) {
      if (p.classWeight.length !== nClasses) throw new ModelError(`classWeight has ${p.classWeight.length} entries for ${nClasses} classes`);
      cw = Float64Array.from(p.classWeight);
    }
    if (cw !== null) {
      const e = new Float64Array(n);
      for (let i = 0; i < n; i++) e[i] = base === null ? cw[data.y[i]!]! : base[i]! * cw[data.y[i]!]!;
      base = e;
    }
    if (base !== null) {
      let total = 0;
      for (let i = 0; i < n; i++) total += base[i]!;
      if (!(total > 0)) throw new ModelError('the total sample weight is 0');
    }
    const job: TreeJob = {
      tree: { maxDepth: p.maxDepth, minSamplesSplit: p.minSamplesSplit, minSamplesLeaf: p.minSamplesLeaf, minImpurityDecrease: p.minImpurityDecrease, maxFeatures: p.maxFeatures },
      bootstrap: p.bootstrap,
      balancedSubsample: p.classWeight === 'balanced_subsample' && p.bootstrap,
      base,
      seeds: forestTreeSeeds(p.randomState ?? 0, p.nEstimators),
    };
    const mf = resolveMaxFeatures(p.maxFeatures, data.cols);
    if (mf > data.cols) throw new ModelError(`maxFeatures = ${mf} exceeds the ${data.cols} features`);
    return { data, job };
  }

  /** Install the trees; with `oobScore`, predict each training row of `X` by the trees that did not draw it. */
  private finish(X: FeatureMatrix, data: PreparedTreeData, job: TreeJob, trees: DecisionTreeClassifier[]): void {
    this.setTrees(data.cols, data.nClasses, trees, null);
    this._oobDecision = null;
    if (this.params.oobScore) {
      const n = data.rows;
      const k = data.nClasses;
      const acc = new Float64Array(n * k);
      const nPred = new Float64Array(n);
      const rows = X.data;
      const out = new Float64Array(k);
      for (let t = 0; t < trees.length; t++) {
        const counts = bootstrapCounts(job.seeds[t]!, n);
        const tree = trees[t]!;
        for (let r = 0; r < n; r++) {
          if (counts[r] !== 0) continue;
          tree.predictProbaRow(rows, out, r * data.cols);
          for (let c = 0; c < k; c++) acc[r * k + c] += out[c]!;
          nPred[r]++;
        }
      }
      let correct = 0;
      for (let r = 0; r < n; r++) {
        const m = nPred[r] === 0 ? 1 : nPred[r]!;
        let best = 0;
        for (let c = 0; c < k; c++) {
          acc[r * k + c] = acc[r * k + c]! / m;
          if (acc[r * k + c]! > acc[r * k + best]!) best = c;
        }
        if (best === data.y[r]) correct++;
      }
      this._oobDecision = acc;
      this._oobScore = correct / n;
    }
  }

  private setTrees(nFeatures: number, nClasses: number, trees: DecisionTreeClassifier[], oob: number | null): void {
    this._trees = trees;
    this._nFeatures = nFeatures;
    this._nClasses = nClasses;
    this._oobScore = oob;
    const k = nClasses;
    let total = 0;
    for (const t of trees) total += t.nodeCount;
    this.fFeature = new Int32Array(total);
    this.fThreshold = new Float64Array(total);
    this.fLeft = new Int32Array(total);
    this.fRight = new Int32Array(total);
    this.fProba = new Float64Array(total * k);
    this.fRoots = new Int32Array(trees.length);
    let base = 0;
    trees.forEach((t, ti) => {
      const a = t.nodes;
      this.fRoots[ti] = base;
      for (let i = 0; i < t.nodeCount; i++) {
        const g = base + i;
        this.fFeature[g] = a.feature[i]!;
        this.fThreshold[g] = a.threshold[i]!;
        const l = a.left[i]!;
        this.fLeft[g] = l === TREE_LEAF ? TREE_LEAF : base + l;
        this.fRight[g] = l === TREE_LEAF ? TREE_LEAF : base + a.right[i]!;
        // The tree's predict_proba: class totals / their sum (sum in class order; 0 → 1).
        let s = 0;
        for (let c = 0; c < k; c++) s += a.value[i * k + c]!;
        const norm = s === 0 ? 1 : s;
        for (let c = 0; c < k; c++) this.fProba[g * k + c] = a.value[i * k + c]! / norm;
      }
      base += t.nodeCount;
    });
    this.scratch = new Float64Array(k);
  }

  /** Leaf (absolute node id) of tree `t` for `row[offset …]`. */
  private leaf(t: number, row: Float64Array, offset: number): number {
    const feature = this.fFeature;
    const threshold = this.fThreshold;
    const left = this.fLeft;
    const right = this.fRight;
    let node = this.fRoots[t]!;
    let l = left[node]!;
    while (l !== TREE_LEAF) {
      node = Math.fround(row[offset + feature[node]!]!) <= threshold[node]! ? l : right[node]!;
      l = left[node]!;
    }
    return node;
  }

  /**
   * Class probabilities: mean of the trees' leaf distributions (scikit-learn's `predict_proba`).
   * @param X `rows × nFeatures` row-major (raw float64, compared as float32).
   * @returns `rows × nClasses` row-major.
   * @throws ModelError when not fitted or `X.cols !== nFeatures`.
   */
  predictProba(X: FeatureMatrix): Float64Array {
    this.checkInput(X);
    const k = this._nClasses;
    const n = X.rows;
    const cols = X.cols;
    const out = new Float64Array(n * k);
    // Row by row: the row stays in cache and the forest's nodes usually fit in it (measured 2.5× faster
    // than tree by tree on the lab flows); each row sums its trees in tree order.
    for (let r = 0; r < n; r++) this.predictProbaRow(X.data, out, r * cols, r * k);
    return out;
  }

  /**
   * Class index per row: argmax of {@link predictProba} (first class on ties).
   * @throws ModelError when not fitted or `X.cols !== nFeatures`.
   */
  predict(X: FeatureMatrix): Int32Array {
    const p = this.predictProba(X);
    const k = this._nClasses;
    const out = new Int32Array(X.rows);
    for (let r = 0; r < X.rows; r++) out[r] = argmax(p, r * k, k);
    return out;
  }

  /**
   * Probabilities of one row written to `out[outOffset … outOffset + nClasses)`; allocation-free.
   * Reads `row[offset + f]` for the split features (no bounds check; NaN goes right).
   * @returns `out`
   * @throws ModelError when not fitted.
   */
  predictProbaRow(row: Float64Array, out: Float64Array, offset = 0, outOffset = 0): Float64Array {
    if (this._trees.length === 0) this.assertFitted();
    const k = this._nClasses;
    const proba = this.fProba;
    for (let c = 0; c < k; c++) out[outOffset + c] = 0;
    const T = this._trees.length;
    for (let t = 0; t < T; t++) {
      const leaf = this.leaf(t, row, offset) * k;
      for (let c = 0; c < k; c++) out[outOffset + c] += proba[leaf + c]!;
    }
    for (let c = 0; c < k; c++) out[outOffset + c] = out[outOffset + c]! / T;
    return out;
  }

  /** Class index of one row (argmax of {@link predictProbaRow}); allocation-free. @throws ModelError when not fitted. */
  predictRow(row: Float64Array, offset = 0): number {
    this.predictProbaRow(row, this.scratch, offset, 0);
    return argmax(this.scratch, 0, this._nClasses);
  }

  /** Plain-JSON form. @throws ModelError when not fitted. */
  toJSON(): RandomForestJSON {
    this.assertFitted();
    return {
      nFeatures: this._nFeatures,
      nClasses: this._nClasses,
      params: { ...this.params, classWeight: Array.isArray(this.params.classWeight) ? [...this.params.classWeight] : this.params.classWeight },
      oobScore: this._oobScore,
      trees: this._trees.map((t) => t.toJSON()),
    };
  }

  /**
   * Rebuild a forest from {@link toJSON} output, validating everything: sizes; `params` (as the
   * constructor); `trees` an array of `params.nEstimators` valid trees ({@link DecisionTreeClassifier.fromJSON})
   * with the forest's `nFeatures`, `nClasses` and tree options; `oobScore` null or in [0, 1].
   * @param field JSON location for error messages (default `"model"`).
   * @throws ModelError naming the offending field.
   */
  static fromJSON(json: unknown, field = 'model'): RandomForestClassifier {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('must be an object', { field });
    const o = json as Record<string, unknown>;
    const int = (name: string): number => {
      const v = o[name];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
        throw new ModelError(`must be an integer ≥ 1, got ${JSON.stringify(v) ?? String(v)}`, { field: `${field}.${name}` });
      }
      return v;
    };
    const nFeatures = int('nFeatures');
    const nClasses = int('nClasses');
    if (o.params === null || typeof o.params !== 'object' || Array.isArray(o.params)) {
      throw new ModelError('missing or not an object', { field: `${field}.params` });
    }
    const forest = new RandomForestClassifier(resolveForestParams(o.params as RandomForestOptions, `${field}.params`));
    const p = forest.params;
    const oob = o.oobScore;
    if (oob !== null && (typeof oob !== 'number' || !(oob >= 0 && oob <= 1))) {
      throw new ModelError(`must be null or a number in [0, 1], got ${JSON.stringify(oob) ?? String(oob)}`, { field: `${field}.oobScore` });
    }
    if (!Array.isArray(o.trees)) throw new ModelError('missing or not an array', { field: `${field}.trees` });
    if (o.trees.length !== p.nEstimators) {
      throw new ModelError(`has ${o.trees.length} trees, params.nEstimators is ${p.nEstimators}`, { field: `${field}.trees` });
    }
    const trees = o.trees.map((tj: unknown, i: number) => {
      const f = `${field}.trees[${i}]`;
      const t = DecisionTreeClassifier.fromJSON(tj, f);
      if (t.nFeatures !== nFeatures) throw new ModelError(`has ${t.nFeatures} features, the forest ${nFeatures}`, { field: `${f}.nFeatures` });
      if (t.nClasses !== nClasses) throw new ModelError(`has ${t.nClasses} classes, the forest ${nClasses}`, { field: `${f}.nClasses` });
      const tp = t.params;
      for (const key of ['maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'minImpurityDecrease', 'maxFeatures'] as const) {
        if (tp[key] !== p[key]) {
          throw new ModelError(`is ${JSON.stringify(tp[key])}, the forest's is ${JSON.stringify(p[key])}`, { field: `${f}.params.${key}` });
        }
      }
      if (tp.classWeight !== null) throw new ModelError('must be null in a forest (class weights are sample weights)', { field: `${f}.params.classWeight` });
      return t;
    });
    forest.setTrees(nFeatures, nClasses, trees, oob as number | null);
    return forest;
  }

  private assertFitted(): void {
    if (this._trees.length === 0) throw new ModelError('RandomForestClassifier is not fitted');
  }

  private checkInput(X: FeatureMatrix): void {
    this.assertFitted();
    checkMatrix(X);
    if (X.cols !== this._nFeatures) throw new ModelError(`input has ${X.cols} columns, the forest was trained on ${this._nFeatures}`);
  }
}

function argmax(a: Float64Array, off: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (a[off + c]! > a[off + best]!) best = c;
  return best;
}

// ---------------------------------------------------------------------------------------------------
// Worker threads
// ---------------------------------------------------------------------------------------------------

const WORKER_TAG = 'flowsift-forest-worker';

/** Workers could not be started or loaded (the caller falls back to the calling thread). */
class WorkerStartError extends Error {}

interface WorkerInit {
  tag: typeof WORKER_TAG;
  data: PreparedTreeDataTransfer;
  job: TreeJob;
  tuning: TreeTuning | undefined;
}
type ToWorker = { tree: number };
type FromWorker = { ready: true } | { tree: number; json: DecisionTreeJSON } | { error: string };

/**
 * Grow trees `0 … T−1` over `nw` workers, handing out one tree at a time (a fast worker takes more),
 * and collect them in tree order.
 */
function fitInWorkers(data: PreparedTreeData, job: TreeJob, tuning: TreeTuning | undefined, nw: number, T: number): Promise<DecisionTreeClassifier[]> {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const init: WorkerInit = { tag: WORKER_TAG, data: data.toTransfer(), job, tuning };
  return new Promise((resolvePromise, reject) => {
    const trees: Array<DecisionTreeClassifier | undefined> = new Array(T);
    const workers: Worker[] = [];
    let next = 0;
    let done = 0;
    const ready = new Set<Worker>();
    let finished = false;
    const stopAll = (): void => {
      for (const w of workers) void w.terminate();
    };
    const fail = (e: Error): void => {
      if (finished) return;
      finished = true;
      stopAll();
      reject(e);
    };
    const give = (w: Worker): void => {
      if (next < T) w.postMessage({ tree: next++ } satisfies ToWorker);
    };
    for (let i = 0; i < nw; i++) {
      let w: Worker;
      try {
        w = fromSource ? new Worker(tsxBootstrap(here), { eval: true, workerData: init }) : new Worker(new URL(here), { workerData: init });
      } catch (e) {
        fail(new WorkerStartError((e as Error).message));
        return;
      }
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (finished) return;
        if ('error' in m) return fail(new ModelError(`forest worker: ${m.error}`));
        if ('ready' in m) {
          ready.add(w);
          return give(w);
        }
        try {
          trees[m.tree] = DecisionTreeClassifier.fromJSON(m.json, `trees[${m.tree}]`);
        } catch (e) {
          return fail(e as Error);
        }
        done++;
        if (done === T) {
          finished = true;
          stopAll();
          resolvePromise(trees as DecisionTreeClassifier[]);
        } else give(w);
      });
      // A worker that fails before it is ready could not load this module: fall back to the calling
      // thread. Any exit before the forest is complete is a failure (never a silent hang).
      w.on('error', (e) => fail(ready.has(w) ? e : new WorkerStartError(e.message)));
      w.on('exit', (code) => {
        if (!finished) fail(ready.has(w) ? new ModelError(`forest worker exited with code ${code}`) : new WorkerStartError(`worker exited with code ${code} before it was ready`));
      });
    }
  });
}

/**
 * Worker code that loads this module from its TypeScript source (tests, tsx): registers tsx's ESM loader
 * in the worker, then imports the module (`--import tsx` in a worker's execArgv is not honoured by Node 20).
 * @throws Error when tsx (a development dependency) cannot be found.
 */
function tsxBootstrap(moduleUrl: string): string {
  const req = createRequire(moduleUrl);
  const api = pathToFileURL(join(dirname(req.resolve('tsx/package.json')), 'dist', 'esm', 'api', 'index.mjs')).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl)}); });`;
}

/** Worker side: rebuild the shared data, then grow the trees asked for until told to stop. */
function runWorker(init: WorkerInit): void {
  const port = parentPort!;
  let data: PreparedTreeData;
  try {
    data = PreparedTreeData.fromTransfer(init.data);
  } catch (e) {
    port.postMessage({ error: (e as Error).message } satisfies FromWorker);
    return;
  }
  port.on('message', (m: ToWorker) => {
    try {
      const tree = fitTree(data, init.job, m.tree, init.tuning);
      port.postMessage({ tree: m.tree, json: tree.toJSON() } satisfies FromWorker);
    } catch (e) {
      port.postMessage({ error: (e as Error).message } satisfies FromWorker);
    }
  });
  port.postMessage({ ready: true } satisfies FromWorker);
}

if (!isMainThread && (workerData as { tag?: unknown } | null)?.tag === WORKER_TAG) runWorker(workerData as WorkerInit);

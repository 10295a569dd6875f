/**
 * Open-set guard: tells whether a flow resembles the training flows of the class a model predicts for it, so
 * that a flow unlike anything the model was trained on is reported as {@link UNKNOWN} instead of being forced
 * into an attack class.
 *
 * **Rule** (distance to training data, as in k-nearest-neighbour out-of-distribution detection — Sun, Ming,
 * Zhu & Li, "Out-of-Distribution Detection with Deep Nearest Neighbors", ICML 2022, with k = 1 — made
 * class-conditional like OpenMax's per-class distances, Bendale & Boult, CVPR 2016):
 *
 * 1. **Space.** The model's standardized features z (the bundle's StandardScaler), each compressed with the
 *    signed logarithm `t(z) = sign(z) · ln(1 + |z|)`. Flow features are heavy-tailed (rates, byte counts): in
 *    plain z units one extreme feature (z in the thousands) would decide every distance; after `t` a feature
 *    contributes at most a few units (`t(10) = 2.4`, `t(1000) = 6.9`, `t(MAX_VALUE) = 709.8`).
 * 2. **Prototypes.** For each class, its training flows are split at random (seeded) into a held-out part
 *    (`heldOutFraction`, default 20 %, at least one flow when the class has two or more) and a fit part. The
 *    distinct transformed fit flows are the class's prototypes; when there are more than `maxPrototypes`
 *    (default 1,000) a uniform random sample of that many is kept. Prototype values are rounded to 6
 *    significant digits (a smaller model.json; the thresholds are measured with the rounded prototypes).
 * 3. **Distance.** `d(x, c)` = Euclidean distance in the `t` space from flow x to the nearest prototype of class c.
 * 4. **Threshold.** `threshold_c = max(quantile_q(d(h, c) for the held-out flows h of class c), floor)`, the
 *    quantile interpolated linearly as NumPy's `np.quantile` (default q = 0.995, so about 0.5 % of held-out
 *    flows of the class lie beyond it), `floor` default 1.0 (a class without held-out flows gets the floor).
 *    A class with more than `maxQuantileFlows` (default 50,000) held-out flows measures a uniform sample of
 *    that many: all of them excluded from the prototypes, the sample sets the quantile.
 *    The floor matters: flows of a flood or a scan are nearly identical (lab DoS, PortScan), their held-out
 *    quantile is about 0, and without a floor any small change between recordings would turn them UNKNOWN.
 *    A distance of 1 is one feature off by `t = 1` (|z| ≈ 1.72 standard deviations) from every prototype, or
 *    several features off by less.
 * 5. **Decision.** The distance ratio `r = d(x, c) / threshold_c` for the predicted class c (reported up to
 *    {@link RATIO_CAP} = 2: farther flows get 2); the flow is out of distribution when `r > 1`. The guard
 *    overrides only predictions of classes it guards: predictions of `passClasses` (BENIGN, as flowsift's
 *    train stores it) are never changed — the guard exists to stop the model from inventing attacks, not to
 *    raise new alerts (novelty detection is the autoencoder's job).
 * 6. **Confidence.** The in-distribution confidence `1 / (1 + r⁴)` in [0, 1]: 1 at a prototype, 0.5 exactly at
 *    the threshold (so UNKNOWN ⇔ confidence < 0.5), 0.94 at half the threshold, 0.059 at twice it and beyond.
 *
 * Cost: scoring a flow searches the prototypes of ONE class (at most `maxPrototypes` × features operations,
 * independent of the training set size), and far fewer in practice — an exact search with prunings: a flow
 * whose distance to the prototypes' bounding box exceeds `RATIO_CAP × threshold` is done at once; otherwise
 * prototypes are visited in order of their norm outward from the flow's, the search stops when the norm
 * difference alone (a lower bound of the distance) reaches the best distance so far (initially
 * `RATIO_CAP × threshold`), and a prototype is abandoned once its partial sum of squares, accumulated over
 * the features in decreasing order of variance, reaches the best. Measured with the lab tree on lab/test and
 * nfstream flows: 1–10 µs per flow predicted as an attack class, 20–35 µs per flow predicted BENIGN (1,000
 * prototypes; `score` searches those only when it prints them, with `--all`).
 */
import { ModelError } from './errors.js';
import { MT19937 } from './forest.js';
import { checkMatrix } from './scaler.js';
import type { FeatureMatrix } from './matrix.js';

/** The label reported for a flow the guard finds out of distribution. */
export const UNKNOWN = 'UNKNOWN';
/** Value of the JSON `method` field: the rule of the module documentation. */
export const OPEN_SET_METHOD = 'class-prototype-1nn';
/**
 * Largest distance ratio reported: a flow farther than `RATIO_CAP × threshold` from every prototype gets ratio
 * `RATIO_CAP` (confidence 1/17 ≈ 0.059), which bounds the nearest-prototype search (see {@link OpenSetGuard.ratioRow}).
 * Measured on the nfstream corpus scored by a lab model: a cap of 4 made the search of out-of-distribution flows
 * about 9 times slower (28 µs instead of 3 µs per flow predicted DoS).
 */
export const RATIO_CAP = 2;
/** Value of the JSON `transform` field: t(z) = sign(z)·ln(1 + |z|) of the standardized features. */
export const OPEN_SET_TRANSFORM = 'signed-log1p';

/** Options of {@link OpenSetGuard.fit}; every field has a default. */
export interface OpenSetOptions {
  /** Quantile q of the held-out same-class distances that sets a class's threshold, in (0, 1]. Default 0.995. */
  quantile?: number;
  /** Smallest threshold (distance in the t space), ≥ 0. Default 1. */
  floor?: number;
  /** Share of each class's flows held out to measure the threshold, in (0, 1). Default 0.2. */
  heldOutFraction?: number;
  /** Most prototypes kept per class, ≥ 1. Default 1000. */
  maxPrototypes?: number;
  /**
   * Most held-out flows per class whose distances estimate the quantile, ≥ 1: a class with more held-out flows
   * measures a uniform sample of this many (the first of its seeded shuffle). Default 50,000: the 0.995 quantile from
   * 50,000 distances lies within about ±0.0006 of it in probability (two standard errors), and `train` on a million
   * flows no longer spends seconds measuring hundreds of thousands of BENIGN distances.
   */
  maxQuantileFlows?: number;
  /** Seed of the held-out split and the prototype sample (numpy's RandomState, MT19937). Default 0. */
  seed?: number;
  /** Classes whose predictions are never replaced by {@link UNKNOWN} (e.g. `["BENIGN"]`). Default none. */
  passClasses?: readonly string[];
}

/** One class of the guard, as stored in JSON. */
export interface OpenSetClassJSON {
  /** Class name; entry i is the model's class i. */
  name: string;
  /** Training flows of the class. */
  flows: number;
  /** Of those, flows held out to measure the threshold (not prototypes). */
  heldOut: number;
  /** The q-quantile of the held-out distances, or null without held-out flows. */
  quantileDistance: number | null;
  /** max(quantileDistance, floor), > 0. */
  threshold: number;
  /** Prototypes in the t space, each `nFeatures` finite numbers (written in ascending norm; any order is read); at least one. */
  prototypes: number[][];
}

/** Plain-JSON form of a fitted {@link OpenSetGuard} (the `openSet` field of a model bundle). */
export interface OpenSetJSON {
  method: typeof OPEN_SET_METHOD;
  transform: typeof OPEN_SET_TRANSFORM;
  nFeatures: number;
  quantile: number;
  floor: number;
  heldOutFraction: number;
  maxPrototypes: number;
  /** See {@link OpenSetOptions.maxQuantileFlows}; absent in bundles written before it existed (every held-out flow measured). */
  maxQuantileFlows?: number;
  seed: number;
  /** Class names whose predictions the guard never changes. */
  passClasses: string[];
  /** One entry per model class, in class-index order. */
  classes: OpenSetClassJSON[];
}

/** Fitted parameters of one class (live form). */
interface ClassGuard {
  name: string;
  flows: number;
  heldOut: number;
  quantileDistance: number | null;
  threshold: number;
  /**
   * Row-major prototypes, `count × nFeatures`, in ascending order of their Euclidean norm, their features
   * permuted by `order` (stored column j is feature `order[j]`).
   */
  prototypes: Float64Array;
  /** Feature permutation: the features by decreasing variance over the prototypes (partial sums grow fastest). */
  order: Int32Array;
  /** Euclidean norm of each prototype (ascending). */
  norms: Float64Array;
  /** Per-feature minimum and maximum over the prototypes (the bounding box). */
  lower: Float64Array;
  upper: Float64Array;
  count: number;
  /** False for a pass class. */
  guarded: boolean;
}

/** t(z) = sign(z)·ln(1 + |z|); NaN → 0 (the scaler already maps non-finite inputs to 0). */
function signedLog(z: number): number {
  if (z !== z) return 0;
  return z < 0 ? -Math.log1p(-z) : Math.log1p(z);
}

/** Rounds to 6 significant digits (the stored precision of prototypes). */
function round6(v: number): number {
  return v === 0 ? 0 : Number(v.toPrecision(6));
}

/** NumPy's default (linear) quantile of `v` (sorted in place). */
function linearQuantile(v: Float64Array, q: number): number {
  v.sort();
  const h = (v.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo]! + (h - lo) * (v[hi]! - v[lo]!);
}

/**
 * Distance-based out-of-distribution guard over a model's standardized features (the rule, its sources and
 * its defaults are in the module documentation). Fit with {@link OpenSetGuard.fit} on the SCALED training
 * features the model was fitted on; score scaled rows with {@link ratioRow} / {@link score}.
 */
export class OpenSetGuard {
  readonly nFeatures: number;
  readonly quantile: number;
  readonly floor: number;
  readonly heldOutFraction: number;
  readonly maxPrototypes: number;
  /** See {@link OpenSetOptions.maxQuantileFlows}; null for a guard read from a bundle without it (every held-out flow). */
  readonly maxQuantileFlows: number | null;
  readonly seed: number;
  readonly passClasses: readonly string[];
  private readonly classes: ClassGuard[];
  /** Scratch row in the t space (scoring is allocation-free). */
  private readonly t: Float64Array;

  private constructor(p: Omit<OpenSetJSON, 'method' | 'transform' | 'classes' | 'maxQuantileFlows'> & { maxQuantileFlows: number | null }, classes: ClassGuard[]) {
    this.nFeatures = p.nFeatures;
    this.quantile = p.quantile;
    this.floor = p.floor;
    this.heldOutFraction = p.heldOutFraction;
    this.maxPrototypes = p.maxPrototypes;
    this.maxQuantileFlows = p.maxQuantileFlows;
    this.seed = p.seed;
    this.passClasses = [...p.passClasses];
    this.classes = classes;
    this.t = new Float64Array(p.nFeatures);
  }

  /** Number of classes (the model's). */
  get nClasses(): number {
    return this.classes.length;
  }

  /** Class names, in class-index order. */
  get classNames(): string[] {
    return this.classes.map((c) => c.name);
  }

  /** Threshold of class `c` (distance in the t space). @throws RangeError for a class out of range */
  threshold(c: number): number {
    return this.cls(c).threshold;
  }

  /** Number of prototypes of class `c`. @throws RangeError for a class out of range */
  prototypeCount(c: number): number {
    return this.cls(c).count;
  }

  /** True when predictions of class `c` may be replaced by {@link UNKNOWN} (not a pass class). */
  guards(c: number): boolean {
    return this.cls(c).guarded;
  }

  /**
   * Fit the guard on scaled training features.
   * @param Z standardized training flows (`rows × nFeatures`, the model's column order).
   * @param y class index per row, in `[0, classNames.length)`.
   * @param classNames the model's class names; every class needs at least one flow.
   * @throws ModelError on a malformed matrix, labels out of range or of the wrong length, a class without
   *   flows, a pass class that is not a class, or options out of range.
   */
  static fit(Z: FeatureMatrix, y: Int32Array, classNames: readonly string[], options: OpenSetOptions = {}): OpenSetGuard {
    checkMatrix(Z, 'Z');
    const o = resolveOptions(options);
    const d = Z.cols;
    if (d < 1) throw new ModelError('cannot fit an open-set guard on a matrix without columns');
    if (y.length !== Z.rows) throw new ModelError(`y has ${y.length} labels for ${Z.rows} rows`);
    const k = classNames.length;
    for (const p of o.passClasses) if (!classNames.includes(p)) throw new ModelError(`pass class '${p}' is not one of the classes (${classNames.join(', ')})`);
    const members: number[][] = Array.from({ length: k }, () => []);
    for (let i = 0; i < y.length; i++) {
      const c = y[i]!;
      if (!(c >= 0 && c < k)) throw new ModelError(`y[${i}] = ${c} is not a class index in [0, ${k})`);
      members[c]!.push(i);
    }
    const words = new Uint32Array(Z.data.buffer, Z.data.byteOffset, Z.data.length * 2);
    const t = new Float64Array(d);
    const rng = new MT19937(o.seed);
    const classes: ClassGuard[] = [];
    for (let c = 0; c < k; c++) {
      const rows = members[c]!;
      const n = rows.length;
      if (n === 0) throw new ModelError(`class '${classNames[c]}' has no training flow`);
      // Seeded Fisher–Yates shuffle; the first nHeld rows are held out.
      const order = Int32Array.from(rows);
      for (let i = n - 1; i > 0; i--) {
        const j = rng.randint(i + 1);
        const tmp = order[i]!;
        order[i] = order[j]!;
        order[j] = tmp;
      }
      const nHeld = n < 2 ? 0 : Math.min(n - 1, Math.max(1, Math.round(o.heldOutFraction * n)));
      // Distinct fit rows (by a 53-bit hash of their values), in first-seen order.
      const seen = new Set<number>();
      const uniq: number[] = [];
      for (let i = nHeld; i < n; i++) {
        const r = order[i]!;
        const key = rowHash(words, r * d * 2, d * 2);
        if (!seen.has(key)) {
          seen.add(key);
          uniq.push(r);
        }
      }
      let pick = Array.from(uniq.keys());
      if (pick.length > o.maxPrototypes) {
        // Uniform sample without replacement: partial Fisher–Yates.
        for (let i = 0; i < o.maxPrototypes; i++) {
          const j = i + rng.randint(pick.length - i);
          const tmp = pick[i]!;
          pick[i] = pick[j]!;
          pick[j] = tmp;
        }
        pick = pick.slice(0, o.maxPrototypes);
      }
      const rowsT = new Float64Array(pick.length * d);
      pick.forEach((u, i) => {
        for (let j = 0; j < d; j++) rowsT[i * d + j] = round6(signedLog(Z.data[uniq[u]! * d + j]!));
      });
      const guard: ClassGuard = {
        name: classNames[c]!, flows: n, heldOut: nHeld, quantileDistance: null, threshold: o.floor,
        ...buildIndex(rowsT, pick.length, d), count: pick.length, guarded: !o.passClasses.includes(classNames[c]!),
      };
      if (nHeld > 0) {
        // The held-out flows are in shuffled order: the first ones are a uniform sample.
        const nDist = Math.min(nHeld, o.maxQuantileFlows ?? nHeld);
        const dist = new Float64Array(nDist);
        for (let i = 0; i < nDist; i++) {
          const at = order[i]! * d;
          for (let j = 0; j < d; j++) t[j] = signedLog(Z.data[at + guard.order[j]!]!);
          dist[i] = Math.sqrt(nearestSq(t, guard, Infinity));
        }
        const qd = linearQuantile(dist, o.quantile);
        guard.quantileDistance = qd;
        guard.threshold = Math.max(qd, o.floor);
      }
      if (!(guard.threshold > 0)) {
        throw new ModelError(`class '${guard.name}': the threshold is 0 (all held-out flows sit on prototypes and floor = 0); use a floor > 0`);
      }
      classes.push(guard);
    }
    return new OpenSetGuard({ nFeatures: d, ...o, passClasses: [...o.passClasses] }, classes);
  }

  /**
   * Distance ratio `min(d(z, c) / threshold_c, RATIO_CAP)` of one standardized row for class `c` (> 1: out of
   * distribution). Exact below {@link RATIO_CAP}; the search visits only prototypes that can be nearer than
   * `RATIO_CAP × threshold_c`. Allocation-free.
   * @param z standardized row; values `z[offset … offset + nFeatures)` are read.
   * @param c the class the model predicts.
   * @throws RangeError for a class out of range.
   */
  ratioRow(z: ArrayLike<number>, c: number, offset = 0): number {
    const g = this.cls(c);
    const t = this.t;
    const order = g.order;
    for (let j = 0; j < t.length; j++) t[j] = signedLog(z[offset + order[j]!]!);
    const bound = RATIO_CAP * g.threshold;
    return Math.min(Math.sqrt(nearestSq(t, g, bound * bound)) / g.threshold, RATIO_CAP);
  }

  /**
   * Distance ratios of standardized rows, row r for class `classes[r]`.
   * @throws ModelError when `Z` is malformed, has the wrong number of columns or `classes` the wrong length;
   *   RangeError for a class out of range.
   */
  score(Z: FeatureMatrix, classes: ArrayLike<number>): Float64Array {
    checkMatrix(Z, 'Z');
    if (Z.cols !== this.nFeatures) throw new ModelError(`Z has ${Z.cols} columns, the open-set guard has ${this.nFeatures} features`);
    if (classes.length !== Z.rows) throw new ModelError(`${classes.length} classes given for ${Z.rows} rows`);
    const out = new Float64Array(Z.rows);
    for (let r = 0; r < Z.rows; r++) out[r] = this.ratioRow(Z.data, classes[r]!, r * Z.cols);
    return out;
  }

  /** True when a flow with distance ratio `ratio`, predicted class `c`, is reported as {@link UNKNOWN}. */
  isUnknown(c: number, ratio: number): boolean {
    return ratio > 1 && this.cls(c).guarded;
  }

  /** In-distribution confidence `1 / (1 + ratio⁴)` in [0, 1] (0.5 at the threshold). */
  static confidence(ratio: number): number {
    const r2 = ratio * ratio;
    return 1 / (1 + r2 * r2);
  }

  /** Plain-JSON form (prototypes as arrays of numbers). */
  toJSON(): OpenSetJSON {
    const d = this.nFeatures;
    return {
      method: OPEN_SET_METHOD,
      transform: OPEN_SET_TRANSFORM,
      nFeatures: d,
      quantile: this.quantile,
      floor: this.floor,
      heldOutFraction: this.heldOutFraction,
      maxPrototypes: this.maxPrototypes,
      ...(this.maxQuantileFlows !== null ? { maxQuantileFlows: this.maxQuantileFlows } : {}),
      seed: this.seed,
      passClasses: [...this.passClasses],
      classes: this.classes.map((g) => ({
        name: g.name,
        flows: g.flows,
        heldOut: g.heldOut,
        quantileDistance: g.quantileDistance,
        threshold: g.threshold,
        prototypes: Array.from({ length: g.count }, (_, i) => {
          const row = new Array<number>(d);
          for (let j = 0; j < d; j++) row[g.order[j]!] = g.prototypes[i * d + j]!;
          return row;
        }),
      })),
    };
  }

  /**
   * Rebuild a guard from {@link toJSON} output, validating it: method and transform known, sizes positive
   * integers, options in range, one class entry per name of `classNames` (same names, same order), pass
   * classes among them, counts consistent, thresholds finite and > 0, at least one prototype per class, each of
   * `nFeatures` finite numbers (and `nFeatures` equal to `expectFeatures` when given).
   * @param field JSON location for messages (default `"openSet"`).
   * @throws ModelError naming the offending field.
   */
  static fromJSON(json: unknown, classNames: readonly string[], expectFeatures?: number, field = 'openSet'): OpenSetGuard {
    const o = obj(json, field);
    if (o.method !== OPEN_SET_METHOD) {
      throw new ModelError(`unknown open-set method ${JSON.stringify(o.method) ?? 'nothing'} (this flowsift reads "${OPEN_SET_METHOD}")`, { field: `${field}.method` });
    }
    if (o.transform !== OPEN_SET_TRANSFORM) {
      throw new ModelError(`unknown transform ${JSON.stringify(o.transform) ?? 'nothing'} (this flowsift reads "${OPEN_SET_TRANSFORM}")`, { field: `${field}.transform` });
    }
    const num = (src: Record<string, unknown>, name: string, at: string, ok: (x: number) => boolean, want: string): number => {
      const x = src[name];
      if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw new ModelError(`must be ${want}, got ${JSON.stringify(x) ?? 'nothing'}`, { field: `${at}.${name}` });
      return x;
    };
    const int = (x: number): boolean => Number.isSafeInteger(x);
    const d = num(o, 'nFeatures', field, (x) => int(x) && x >= 1, 'a positive integer');
    if (expectFeatures !== undefined && d !== expectFeatures) {
      throw new ModelError(`is ${d} but the model has ${expectFeatures} features`, { field: `${field}.nFeatures` });
    }
    let opts: ResolvedOptions;
    const passClasses = o.passClasses;
    if (!Array.isArray(passClasses) || passClasses.some((p) => typeof p !== 'string' || !classNames.includes(p))) {
      throw new ModelError(`must be an array of class names (${classNames.join(', ')})`, { field: `${field}.passClasses` });
    }
    try {
      opts = resolveOptions({
        quantile: o.quantile as number, floor: o.floor as number, heldOutFraction: o.heldOutFraction as number,
        maxPrototypes: o.maxPrototypes as number, maxQuantileFlows: o.maxQuantileFlows as number | undefined, seed: o.seed as number,
        passClasses: passClasses as string[],
      }, true);
    } catch (e) {
      if (e instanceof ModelError) throw new ModelError(e.detail, { field: `${field}.${e.field ?? ''}` });
      throw e;
    }
    const cl = o.classes;
    if (!Array.isArray(cl)) throw new ModelError('missing or not an array', { field: `${field}.classes` });
    if (cl.length !== classNames.length) {
      throw new ModelError(`has ${cl.length} entries but the model has ${classNames.length} classes`, { field: `${field}.classes` });
    }
    const classes = cl.map((entry: unknown, c: number): ClassGuard => {
      const at = `${field}.classes[${c}]`;
      const e = obj(entry, at);
      if (e.name !== classNames[c]) {
        throw new ModelError(`must be the model's class ${c}, "${classNames[c]}", got ${JSON.stringify(e.name) ?? 'nothing'}`, { field: `${at}.name` });
      }
      const flows = num(e, 'flows', at, (x) => int(x) && x >= 1, 'a positive integer');
      const heldOut = num(e, 'heldOut', at, (x) => int(x) && x >= 0 && x < flows, `an integer in [0, ${flows}) (flows)`);
      let quantileDistance: number | null = null;
      if (heldOut > 0) quantileDistance = num(e, 'quantileDistance', at, (x) => x >= 0, 'a finite number ≥ 0 (the class has held-out flows)');
      else if (e.quantileDistance !== null) throw new ModelError('must be null for a class without held-out flows', { field: `${at}.quantileDistance` });
      const want = Math.max(quantileDistance ?? opts.floor, opts.floor);
      const threshold = num(e, 'threshold', at, (x) => x > 0 && x === want, `max(quantileDistance, floor) = ${want}, > 0`);
      const protos = e.prototypes;
      if (!Array.isArray(protos) || protos.length === 0) throw new ModelError('must be a non-empty array of prototypes', { field: `${at}.prototypes` });
      if (protos.length > flows - heldOut) {
        throw new ModelError(`has ${protos.length} prototypes, more than the ${flows - heldOut} fit flows`, { field: `${at}.prototypes` });
      }
      const rowsT = new Float64Array(protos.length * d);
      protos.forEach((p: unknown, i: number) => {
        if (!Array.isArray(p) || p.length !== d) throw new ModelError(`must be an array of nFeatures = ${d} numbers`, { field: `${at}.prototypes[${i}]` });
        for (let j = 0; j < d; j++) {
          const v: unknown = p[j];
          if (typeof v !== 'number' || !Number.isFinite(v)) throw new ModelError(`must be a finite number, got ${JSON.stringify(v) ?? 'nothing'}`, { field: `${at}.prototypes[${i}][${j}]` });
          rowsT[i * d + j] = v;
        }
      });
      return { name: classNames[c]!, flows, heldOut, quantileDistance, threshold, ...buildIndex(rowsT, protos.length, d), count: protos.length, guarded: !opts.passClasses.includes(classNames[c]!) };
    });
    return new OpenSetGuard({ nFeatures: d, ...opts, passClasses: [...opts.passClasses] }, classes);
  }

  private cls(c: number): ClassGuard {
    const g = this.classes[c];
    if (g === undefined) throw new RangeError(`class ${c} out of range [0, ${this.classes.length})`);
    return g;
  }
}

/**
 * 53-bit hash of `n` 32-bit words from `w[at]` (two independent 32-bit multiplicative hashes, murmur3's
 * finaliser); equal rows hash equal, distinct rows collide with probability about 2^-53 per pair.
 */
function rowHash(w: Uint32Array, at: number, n: number): number {
  let h1 = 0x811c9dc5, h2 = 0x27d4eb2f;
  for (let i = 0; i < n; i++) {
    const v = w[at + i]!;
    h1 = Math.imul(h1 ^ v, 0x01000193);
    h2 = Math.imul(h2 ^ v, 0x85ebca6b) ^ (h2 >>> 13);
  }
  const mix = (h: number): number => {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return mix(h1) * 0x200000 + (mix(h2) & 0x1fffff);
}

/**
 * The search structure of a class from its prototypes `rows` (`count × d`, features in model order): features
 * permuted by decreasing variance over the prototypes (ties: model order), rows sorted by ascending Euclidean
 * norm (ties: original order), their norms and per-feature bounding box (in the permuted order).
 */
function buildIndex(rows: Float64Array, count: number, d: number): Pick<ClassGuard, 'prototypes' | 'order' | 'norms' | 'lower' | 'upper'> {
  const mean = new Float64Array(d);
  const variance = new Float64Array(d);
  for (let i = 0; i < count * d; i++) mean[i % d] += rows[i]! / count;
  for (let i = 0; i < count * d; i++) variance[i % d] += (rows[i]! - mean[i % d]!) ** 2;
  const order = Int32Array.from({ length: d }, (_, j) => j).sort((a, b) => variance[b]! - variance[a]! || a - b);
  const norm = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += rows[i * d + j]! * rows[i * d + j]!;
    norm[i] = Math.sqrt(s);
  }
  const idx = Array.from({ length: count }, (_, i) => i).sort((a, b) => norm[a]! - norm[b]! || a - b);
  const prototypes = new Float64Array(count * d);
  const norms = new Float64Array(count);
  const lower = new Float64Array(d).fill(Infinity);
  const upper = new Float64Array(d).fill(-Infinity);
  idx.forEach((from, to) => {
    for (let j = 0; j < d; j++) {
      const v = rows[from * d + order[j]!]!;
      prototypes[to * d + j] = v;
      if (v < lower[j]!) lower[j] = v;
      if (v > upper[j]!) upper[j] = v;
    }
    norms[to] = norm[from]!;
  });
  return { prototypes, order, norms, lower, upper };
}

/**
 * Squared distance from `x` (t space, length d) to the nearest prototype of `g`, or `limit` when none is nearer
 * than √limit (at once when the distance to the prototypes' bounding box reaches √limit). Exact search with
 * two prunings that never change the result below the limit: prototypes are
 * visited outward from the norm of x in norm order and the search stops once the norm difference alone
 * (|‖x‖ − ‖p‖| ≤ ‖x − p‖) reaches the best distance so far; a prototype is abandoned as soon as its partial sum
 * of squares (blocks of 8 features) reaches the best so far.
 */
function nearestSq(x: Float64Array, g: ClassGuard, limit: number): number {
  const d = x.length;
  const { prototypes: P, norms, count, lower, upper } = g;
  let nx = 0;
  let box = 0;
  for (let j = 0; j < d; j++) {
    const v = x[j]!;
    nx += v * v;
    const out = v < lower[j]! ? lower[j]! - v : v > upper[j]! ? v - upper[j]! : 0;
    box += out * out;
  }
  // The distance to the bounding box is a lower bound of the distance to every prototype.
  if (box >= limit) return limit;
  nx = Math.sqrt(nx);
  // First prototype with norm ≥ ‖x‖ (binary search).
  let a = 0, b = count;
  while (a < b) {
    const m = (a + b) >>> 1;
    if (norms[m]! < nx) a = m + 1;
    else b = m;
  }
  let hi = a, lo = a - 1;
  let best = limit;
  while (lo >= 0 || hi < count) {
    const dl = lo >= 0 ? nx - norms[lo]! : Infinity;
    const dh = hi < count ? norms[hi]! - nx : Infinity;
    let p: number;
    if (dl <= dh) {
      if (dl * dl >= best) break;
      p = lo--;
    } else {
      if (dh * dh >= best) break;
      p = hi++;
    }
    const base = p * d;
    let s = 0;
    let j = 0;
    while (j < d) {
      const end = Math.min(d, j + 8);
      for (; j < end; j++) {
        const t = x[j]! - P[base + j]!;
        s += t * t;
      }
      if (s >= best) break;
    }
    if (s < best) {
      best = s;
      if (best === 0) return 0;
    }
  }
  return best;
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ModelError('missing or not an object', { field });
  return v as Record<string, unknown>;
}

/** {@link OpenSetOptions} with every default applied; `maxQuantileFlows` null only for a stored guard without it. */
type ResolvedOptions = Required<Omit<OpenSetOptions, 'maxQuantileFlows'>> & { maxQuantileFlows: number | null };

/**
 * Options with defaults, checked. `stored`: every field must be present (reading JSON), except `maxQuantileFlows`
 * (absent in bundles written before it existed). @throws ModelError (field = option name)
 */
function resolveOptions(o: OpenSetOptions, stored = false): ResolvedOptions {
  const get = (name: keyof OpenSetOptions, dflt: number, ok: (x: number) => boolean, want: string): number => {
    const x = o[name] as unknown;
    if (x === undefined && !stored) return dflt;
    if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw new ModelError(`must be ${want}, got ${JSON.stringify(x) ?? 'nothing'}`, { field: name });
    return x;
  };
  return {
    quantile: get('quantile', 0.995, (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
    floor: get('floor', 1, (x) => x >= 0, 'a finite number ≥ 0'),
    heldOutFraction: get('heldOutFraction', 0.2, (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    maxPrototypes: get('maxPrototypes', 1000, (x) => Number.isSafeInteger(x) && x >= 1, 'a positive integer'),
    maxQuantileFlows: stored && o.maxQuantileFlows === undefined ? null
      : get('maxQuantileFlows', 50_000, (x) => Number.isSafeInteger(x) && x >= 1, 'a positive integer'),
    seed: get('seed', 0, (x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff, 'an integer in [0, 2^32)'),
    passClasses: [...(o.passClasses ?? [])],
  };
}

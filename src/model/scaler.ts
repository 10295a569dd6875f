/**
 * Standardisation of features, z = (x − mean) / scale, with scikit-learn's `StandardScaler` semantics
 * (`with_mean=True, with_std=True`).
 *
 * Fit it on the TRAINING flows only, then apply it to training, validation, test and live traffic alike:
 * fitting on evaluation data leaks information into the model. Choosing the rows is the caller's job.
 */
import { ModelError } from './errors.js';
import { uninitializedBuffer, type FeatureMatrix } from './matrix.js';

const EPS = 2.220446049250313e-16; // np.finfo(np.float64).eps

/** Plain-JSON form of a fitted {@link StandardScaler} (all arrays have length `nFeatures`). */
export interface StandardScalerJSON {
  /** Number of features (columns). */
  nFeatures: number;
  /** Per-column mean of the finite training values (`mean_`). */
  mean: number[];
  /** Per-column divisor: population standard deviation, or 1 for (near-)constant columns (`scale_`). */
  scale: number[];
  /** Per-column population variance, ddof = 0 (`var_`). */
  var: number[];
  /** Per-column number of finite values seen during fit (`n_samples_seen_`). */
  nSamplesSeen: number[];
}

/**
 * Per-column standardisation, as scikit-learn's `sklearn.preprocessing.StandardScaler`.
 *
 * - `fit(X)`: mean and population variance (ddof 0) per column with the corrected two-pass algorithm
 *   (Chan, Golub & LeVeque 1983; the one scikit-learn's `_incremental_mean_and_var` uses), so the results
 *   match scikit-learn's `mean_`, `var_` and `scale_` to rounding. Non-finite values (NaN, ±Infinity) are
 *   left out of the statistics of their column (scikit-learn ignores NaN and rejects Infinity). A column
 *   whose variance is zero up to rounding (scikit-learn's `_is_constant_feature`:
 *   `var ≤ n·eps·var + (n·mean·eps)²`) gets scale 1, as `_handle_zeros_in_scale`; a column without any
 *   finite value gets mean 0, variance 0 and scale 1.
 * - `transform`: z = (x − mean) / scale. **A non-finite input (NaN, ±Infinity) becomes 0, i.e. the training
 *   mean**, so that downstream models never see NaN; a finite input whose result overflows becomes
 *   ±`Number.MAX_VALUE`.
 */
export class StandardScaler {
  private _mean: Float64Array = new Float64Array(0);
  private _scale: Float64Array = new Float64Array(0);
  private _var: Float64Array = new Float64Array(0);
  private _seen: Float64Array = new Float64Array(0);
  private _fitted = false;

  /** True once {@link fit} or {@link fromJSON} has set the statistics. */
  get isFitted(): boolean {
    return this._fitted;
  }
  /** Number of features (columns) the scaler was fitted on. */
  get nFeatures(): number {
    return this._mean.length;
  }
  /** Per-column means (length `nFeatures`); a copy. */
  get mean(): Float64Array {
    return this._mean.slice();
  }
  /** Per-column divisors (length `nFeatures`); a copy. */
  get scale(): Float64Array {
    return this._scale.slice();
  }
  /** Per-column population variances (length `nFeatures`); a copy. */
  get variance(): Float64Array {
    return this._var.slice();
  }
  /** Per-column counts of finite values seen by fit (length `nFeatures`); a copy. */
  get nSamplesSeen(): Float64Array {
    return this._seen.slice();
  }

  /**
   * Learn per-column mean and scale from `X` (`rows × cols`, row-major). Use training rows only.
   * @returns this
   * @throws ModelError when `X` is malformed or has no column.
   */
  fit(X: FeatureMatrix): this {
    checkMatrix(X);
    const { rows, cols, data } = X;
    if (cols === 0) throw new ModelError('cannot fit a scaler on a matrix without columns');
    const sum = new Float64Array(cols);
    const cnt = new Float64Array(cols);
    // Pass 1: sums, sequential over rows (the order numpy uses for axis-0 sums of a C-ordered array).
    const nonFinite = columnSums(data, rows, cols, sum, cnt);
    const mean = new Float64Array(cols);
    for (let c = 0; c < cols; c++) mean[c] = cnt[c]! > 0 ? sum[c]! / cnt[c]! : 0;
    // Pass 2: corrected sum of squares: Σ(x−m)² − (Σ(x−m))²/n.
    const corr = new Float64Array(cols);
    const sq = new Float64Array(cols);
    columnSquares(data, rows, cols, mean, corr, sq, nonFinite);
    const variance = new Float64Array(cols);
    const scale = new Float64Array(cols);
    for (let c = 0; c < cols; c++) {
      const n = cnt[c]!;
      if (n === 0) {
        variance[c] = 0;
        scale[c] = 1;
        continue;
      }
      const vr = (sq[c]! - (corr[c]! * corr[c]!) / n) / n;
      variance[c] = vr;
      const bound = n * EPS * vr + (n * mean[c]! * EPS) ** 2;
      scale[c] = vr <= bound || !Number.isFinite(vr) ? 1 : Math.sqrt(vr);
    }
    this._mean = mean;
    this._scale = scale;
    this._var = variance;
    this._seen = cnt;
    this._fitted = true;
    return this;
  }

  /**
   * Standardised copy of `X` (same shape and names). Non-finite inputs become 0 (see the class doc).
   * @throws ModelError when not fitted or `X.cols !== nFeatures`.
   */
  transform(X: FeatureMatrix): FeatureMatrix {
    this.checkInput(X);
    const out = new Float64Array(uninitializedBuffer(X.data.length * 8)); // every value is written
    standardize(X.data, out, X.rows, X.cols, this._mean, this._scale);
    return { rows: X.rows, cols: X.cols, data: out, names: X.names.slice() };
  }

  /** {@link fit} then {@link transform} on the same matrix. */
  fitTransform(X: FeatureMatrix): FeatureMatrix {
    return this.fit(X).transform(X);
  }

  /**
   * Standardise one row IN PLACE, allocation-free (for streaming scoring): `row[offset + c]` for
   * `c < nFeatures` is replaced by its z-score; non-finite inputs become 0.
   * No shape check beyond fitted-ness (the caller guarantees `row.length ≥ offset + nFeatures`).
   * @returns `row`
   * @throws ModelError when not fitted.
   */
  transformRow(row: Float64Array, offset = 0): Float64Array {
    if (!this._fitted) throw new ModelError('StandardScaler is not fitted');
    const mean = this._mean;
    const scale = this._scale;
    const d = mean.length;
    for (let c = 0; c < d; c++) {
      const x = row[offset + c]!;
      if (x - x !== 0) {
        row[offset + c] = 0;
        continue;
      }
      const z = (x - mean[c]!) / scale[c]!;
      row[offset + c] = z - z === 0 ? z : z > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
    }
    return row;
  }

  /** Plain-JSON form (numbers only). @throws ModelError when not fitted. */
  toJSON(): StandardScalerJSON {
    if (!this._fitted) throw new ModelError('StandardScaler is not fitted');
    return {
      nFeatures: this._mean.length,
      mean: Array.from(this._mean),
      scale: Array.from(this._scale),
      var: Array.from(this._var),
      nSamplesSeen: Array.from(this._seen),
    };
  }

  /**
   * Rebuild a fitted scaler from {@link toJSON} output, validating it: `nFeatures` a positive integer,
   * every array of that length and finite, `scale > 0`, `var ≥ 0`, `nSamplesSeen` non-negative integers.
   * @param field JSON location used in error messages (default `"scaler"`).
   * @throws ModelError naming the offending field.
   */
  static fromJSON(json: unknown, field = 'scaler'): StandardScaler {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new ModelError('must be an object', { field });
    }
    const o = json as Record<string, unknown>;
    const d = o.nFeatures;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) {
      throw new ModelError(`must be a positive integer, got ${JSON.stringify(d)}`, { field: `${field}.nFeatures` });
    }
    const arr = (name: string, check: (v: number) => boolean, want: string): Float64Array => {
      const a = o[name];
      const f = `${field}.${name}`;
      if (!Array.isArray(a)) throw new ModelError('missing or not an array', { field: f });
      if (a.length !== d) throw new ModelError(`has ${a.length} entries, expected nFeatures = ${d}`, { field: f });
      const out = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        const v: unknown = a[i];
        if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
          throw new ModelError(`must be ${want}, got ${JSON.stringify(v) ?? String(v)}`, { field: `${f}[${i}]` });
        }
        out[i] = v;
      }
      return out;
    };
    const s = new StandardScaler();
    s._mean = arr('mean', () => true, 'a finite number');
    s._scale = arr('scale', (v) => v > 0, 'a finite number > 0');
    s._var = arr('var', (v) => v >= 0, 'a finite number ≥ 0');
    s._seen = arr('nSamplesSeen', (v) => v >= 0 && Number.isInteger(v), 'a non-negative integer');
    s._fitted = true;
    return s;
  }

  private checkInput(X: FeatureMatrix): void {
    if (!this._fitted) throw new ModelError('StandardScaler is not fitted');
    checkMatrix(X);
    if (X.cols !== this._mean.length) {
      throw new ModelError(`input has ${X.cols} columns, the scaler was fitted on ${this._mean.length}`);
    }
  }
}

/*
 * The loops of fit and transform, one per function: each is compiled by the JIT on its own (a function
 * with two long loops gets its second loop compiled late, after a deoptimisation), which matters for a
 * one-off fit in a fresh process.
 *
 * The passes over the row-major matrix go through it in blocks of BLOCK_ROWS rows (a block stays in the
 * L1 cache) and, within a block, four columns at a time with their running sums in local variables: each
 * column's values are still added one row after the other, in row order — the order of numpy's axis-0
 * reductions and of a plain row-by-row loop — so the sums are bit-identical to those, while the loop
 * neither reloads nor stores a per-column accumulator at every value.
 */

/** Rows per block of the column-blocked passes (64 rows of 35 features: 18 KB). */
const BLOCK_ROWS = 64;

/**
 * Adds each column's finite values of the row-major `data` (`rows × cols`) to `sum` and their count to
 * `cnt`, row by row within each column. Returns whether some value was not finite.
 */
function columnSums(data: Float64Array, rows: number, cols: number, sum: Float64Array, cnt: Float64Array): boolean {
  let nonFinite = 0;
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const k0 = r0 * cols;
    const k1 = (r0 + BLOCK_ROWS < rows ? r0 + BLOCK_ROWS : rows) * cols;
    let c = 0;
    for (; c + 4 <= cols; c += 4) nonFinite |= sumBlock4(data, k0 + c, k1 + c, cols, sum, c);
    for (; c < cols; c++) nonFinite |= sumBlock1(data, k0 + c, k1 + c, cols, sum, c);
  }
  if (nonFinite === 0) cnt.fill(rows);
  else countFinite(data, rows, cols, cnt);
  return nonFinite !== 0;
}

/** Finite values of columns `c … c+3` at `data[k]`, `k = k0, k0 + cols, …` (< `k1`) added to `sum[c …]`; 1 if one was not finite. */
function sumBlock4(data: Float64Array, k0: number, k1: number, cols: number, sum: Float64Array, c: number): number {
  let s0 = sum[c]!;
  let s1 = sum[c + 1]!;
  let s2 = sum[c + 2]!;
  let s3 = sum[c + 3]!;
  let nonFinite = 0;
  for (let k = k0; k < k1; k += cols) {
    const v0 = data[k]!;
    const v1 = data[k + 1]!;
    const v2 = data[k + 2]!;
    const v3 = data[k + 3]!;
    if (v0 - v0 + (v1 - v1) + (v2 - v2) + (v3 - v3) === 0) {
      s0 += v0;
      s1 += v1;
      s2 += v2;
      s3 += v3;
    } else {
      nonFinite = 1;
      if (v0 - v0 === 0) s0 += v0;
      if (v1 - v1 === 0) s1 += v1;
      if (v2 - v2 === 0) s2 += v2;
      if (v3 - v3 === 0) s3 += v3;
    }
  }
  sum[c] = s0;
  sum[c + 1] = s1;
  sum[c + 2] = s2;
  sum[c + 3] = s3;
  return nonFinite;
}

/** {@link sumBlock4} for the one column `c`. */
function sumBlock1(data: Float64Array, k0: number, k1: number, cols: number, sum: Float64Array, c: number): number {
  let s0 = sum[c]!;
  let nonFinite = 0;
  for (let k = k0; k < k1; k += cols) {
    const v0 = data[k]!;
    if (v0 - v0 === 0) s0 += v0;
    else nonFinite = 1;
  }
  sum[c] = s0;
  return nonFinite;
}

/** Number of finite values of each column, added to `cnt`. */
function countFinite(data: Float64Array, rows: number, cols: number, cnt: Float64Array): void {
  for (let r = 0, k = 0; r < rows; r++) for (let c = 0; c < cols; c++, k++) if (data[k]! - data[k]! === 0) cnt[c]++;
}

/**
 * Adds each column's Σ(x − mean) to `corr` and Σ(x − mean)² to `sq` over its finite values (all values
 * when `nonFinite` is false), row by row within each column.
 */
function columnSquares(data: Float64Array, rows: number, cols: number, mean: Float64Array, corr: Float64Array, sq: Float64Array, nonFinite: boolean): void {
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const k0 = r0 * cols;
    const k1 = (r0 + BLOCK_ROWS < rows ? r0 + BLOCK_ROWS : rows) * cols;
    let c = 0;
    if (!nonFinite) for (; c + 4 <= cols; c += 4) squaresBlock4(data, k0 + c, k1 + c, cols, mean, corr, sq, c);
    for (; c < cols; c++) squaresBlock1(data, k0 + c, k1 + c, cols, mean, corr, sq, c);
  }
}

/** Σ(x − mean) and Σ(x − mean)² of columns `c … c+3` (all values finite) at `data[k]`, `k = k0, k0 + cols, …` (< `k1`), added to `corr`, `sq`. */
function squaresBlock4(data: Float64Array, k0: number, k1: number, cols: number, mean: Float64Array, corr: Float64Array, sq: Float64Array, c: number): void {
  const m0 = mean[c]!;
  const m1 = mean[c + 1]!;
  const m2 = mean[c + 2]!;
  const m3 = mean[c + 3]!;
  let a0 = corr[c]!;
  let a1 = corr[c + 1]!;
  let a2 = corr[c + 2]!;
  let a3 = corr[c + 3]!;
  let q0 = sq[c]!;
  let q1 = sq[c + 1]!;
  let q2 = sq[c + 2]!;
  let q3 = sq[c + 3]!;
  for (let k = k0; k < k1; k += cols) {
    const t0 = data[k]! - m0;
    const t1 = data[k + 1]! - m1;
    const t2 = data[k + 2]! - m2;
    const t3 = data[k + 3]! - m3;
    a0 += t0;
    a1 += t1;
    a2 += t2;
    a3 += t3;
    q0 += t0 * t0;
    q1 += t1 * t1;
    q2 += t2 * t2;
    q3 += t3 * t3;
  }
  corr[c] = a0;
  corr[c + 1] = a1;
  corr[c + 2] = a2;
  corr[c + 3] = a3;
  sq[c] = q0;
  sq[c + 1] = q1;
  sq[c + 2] = q2;
  sq[c + 3] = q3;
}

/** {@link squaresBlock4} for the one column `c`, skipping non-finite values. */
function squaresBlock1(data: Float64Array, k0: number, k1: number, cols: number, mean: Float64Array, corr: Float64Array, sq: Float64Array, c: number): void {
  const m0 = mean[c]!;
  let a0 = corr[c]!;
  let q0 = sq[c]!;
  for (let k = k0; k < k1; k += cols) {
    const v = data[k]!;
    if (v - v === 0) {
      const t0 = v - m0;
      a0 += t0;
      q0 += t0 * t0;
    }
  }
  corr[c] = a0;
  sq[c] = q0;
}

/**
 * `out[k] = (data[k] − mean[c]) / scale[c]` over the row-major matrix (`rows × cols`, `cols = mean.length`);
 * a non-finite input becomes 0, a finite input whose result overflows becomes ±`Number.MAX_VALUE` (as
 * {@link StandardScaler.transformRow}). A true division (a product with the reciprocal rounds differently).
 * The sizes are parameters: a property read before the loop would have no type feedback when the JIT
 * compiles this once-per-call function, and would deoptimise it at its next call.
 */
function standardize(data: Float64Array, out: Float64Array, rows: number, cols: number, mean: Float64Array, scale: Float64Array): void {
  for (let r0 = 0; r0 < rows; r0 += BLOCK_ROWS) {
    const k0 = r0 * cols;
    const k1 = (r0 + BLOCK_ROWS < rows ? r0 + BLOCK_ROWS : rows) * cols;
    let c = 0;
    for (; c + 4 <= cols; c += 4) standardizeBlock4(data, out, k0 + c, k1 + c, cols, mean, scale, c);
    for (; c < cols; c++) standardizeBlock1(data, out, k0 + c, k1 + c, cols, mean[c]!, scale[c]!);
  }
}

/** {@link standardize} for columns `c … c+3` at `data[k]`, `k = k0, k0 + cols, …` (< `k1`). */
function standardizeBlock4(data: Float64Array, out: Float64Array, k0: number, k1: number, cols: number, mean: Float64Array, scale: Float64Array, c: number): void {
  const m0 = mean[c]!;
  const m1 = mean[c + 1]!;
  const m2 = mean[c + 2]!;
  const m3 = mean[c + 3]!;
  const s0 = scale[c]!;
  const s1 = scale[c + 1]!;
  const s2 = scale[c + 2]!;
  const s3 = scale[c + 3]!;
  for (let k = k0; k < k1; k += cols) {
    const z0 = (data[k]! - m0) / s0;
    const z1 = (data[k + 1]! - m1) / s1;
    const z2 = (data[k + 2]! - m2) / s2;
    const z3 = (data[k + 3]! - m3) / s3;
    out[k] = z0 - z0 === 0 ? z0 : nonFiniteZ(data[k]!, z0);
    out[k + 1] = z1 - z1 === 0 ? z1 : nonFiniteZ(data[k + 1]!, z1);
    out[k + 2] = z2 - z2 === 0 ? z2 : nonFiniteZ(data[k + 2]!, z2);
    out[k + 3] = z3 - z3 === 0 ? z3 : nonFiniteZ(data[k + 3]!, z3);
  }
}

/** {@link standardize} for the one column at `data[k]`, `k = k0, k0 + cols, …` (< `k1`), with its mean `m` and scale `s`. */
function standardizeBlock1(data: Float64Array, out: Float64Array, k0: number, k1: number, cols: number, m: number, s: number): void {
  for (let k = k0; k < k1; k += cols) {
    const z = (data[k]! - m) / s;
    out[k] = z - z === 0 ? z : nonFiniteZ(data[k]!, z);
  }
}

/** The output for an input `x` whose z-score `z` is not finite: 0 when `x` is not finite, else ±`Number.MAX_VALUE`. */
function nonFiniteZ(x: number, z: number): number {
  return x - x !== 0 ? 0 : z > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE;
}

/** Shape check shared by the model stage; reports a malformed matrix as a ModelError. */
export function checkMatrix(X: FeatureMatrix, what = 'X'): void {
  if (X === null || typeof X !== 'object' || !(X.data instanceof Float64Array)) {
    throw new ModelError(`${what} must be a FeatureMatrix with a Float64Array data`);
  }
  if (!Number.isInteger(X.rows) || X.rows < 0 || !Number.isInteger(X.cols) || X.cols < 0) {
    throw new ModelError(`${what} has invalid shape ${X.rows} × ${X.cols}`);
  }
  if (X.data.length !== X.rows * X.cols) {
    throw new ModelError(`${what}.data has ${X.data.length} values for ${X.rows} × ${X.cols}`);
  }
  if (!Array.isArray(X.names) || X.names.length !== X.cols) {
    throw new ModelError(`${what}.names must have one name per column (${X.cols})`);
  }
}

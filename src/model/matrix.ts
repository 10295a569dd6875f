/**
 * The in-memory feature table shared by the dataset and model stages.
 *
 * A {@link FeatureMatrix} is a dense `rows × cols` table of float64 values stored **row-major** in one
 * `Float64Array` (`data[r * cols + c]` is row `r`, column `c`), with one name per column. Rows are flows,
 * columns are features. The helpers here only reshape or copy; they throw `RangeError` on inconsistent
 * shapes (a programming error), never a model-stage error.
 */

/** Dense row-major table: `data.length === rows * cols`, `names.length === cols`. */
export interface FeatureMatrix {
  /** Number of rows (samples, e.g. flows). */
  rows: number;
  /** Number of columns (features). */
  cols: number;
  /** Values, row-major: row `r`, column `c` is `data[r * cols + c]`. */
  data: Float64Array;
  /** Column (feature) names, one per column. */
  names: string[];
}

/**
 * Create a matrix.
 * @param rows number of rows (≥ 0 integer).
 * @param cols number of columns (≥ 0 integer).
 * @param names column names; default `f0, f1, …`.
 * @param data row-major values of length `rows * cols` (used as is, not copied); default zeros.
 * @throws RangeError when sizes are not non-negative integers or `names`/`data` lengths disagree.
 */
export function createMatrix(rows: number, cols: number, names?: string[], data?: Float64Array): FeatureMatrix {
  if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  if (!Number.isInteger(cols) || cols < 0) throw new RangeError(`cols must be a non-negative integer, got ${cols}`);
  const n = names ?? Array.from({ length: cols }, (_, i) => `f${i}`);
  if (n.length !== cols) throw new RangeError(`names has ${n.length} entries for ${cols} columns`);
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) {
    throw new RangeError(`data has ${d.length} values for ${rows} × ${cols} = ${rows * cols}`);
  }
  return { rows, cols, data: d, names: n };
}

/**
 * Build a matrix from an array of rows (each an array-like of `cols` numbers), copying the values.
 * @param rowsIn the rows; all must have the same length.
 * @param names column names (default `f0, f1, …`); fixes `cols` when `rowsIn` is empty.
 * @throws RangeError when rows have different lengths or disagree with `names`.
 */
export function matrixFromRows(rowsIn: ArrayLike<ArrayLike<number>>, names?: string[]): FeatureMatrix {
  const rows = rowsIn.length;
  const cols = rows > 0 ? rowsIn[0]!.length : (names?.length ?? 0);
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = rowsIn[r]!;
    if (row.length !== cols) throw new RangeError(`row ${r} has ${row.length} values, expected ${cols}`);
    for (let c = 0; c < cols; c++) data[r * cols + c] = row[c]!;
  }
  return createMatrix(rows, cols, names, data);
}

/**
 * Check the invariants of a matrix (integer sizes, `data.length === rows * cols`, one name per column).
 * @param what name used in the message (e.g. `"X"`).
 * @throws RangeError describing the first violated invariant.
 */
export function assertMatrix(m: FeatureMatrix, what = 'matrix'): void {
  if (m === null || typeof m !== 'object') throw new RangeError(`${what} is not a FeatureMatrix`);
  if (!Number.isInteger(m.rows) || m.rows < 0) throw new RangeError(`${what}.rows must be a non-negative integer`);
  if (!Number.isInteger(m.cols) || m.cols < 0) throw new RangeError(`${what}.cols must be a non-negative integer`);
  if (!(m.data instanceof Float64Array)) throw new RangeError(`${what}.data must be a Float64Array`);
  if (m.data.length !== m.rows * m.cols) {
    throw new RangeError(`${what}.data has ${m.data.length} values for ${m.rows} × ${m.cols}`);
  }
  if (!Array.isArray(m.names) || m.names.length !== m.cols) {
    throw new RangeError(`${what}.names must have ${m.cols} entries`);
  }
}

/** Row `r` as a view (no copy) of length `cols` into `m.data`. @throws RangeError if `r` is out of range. */
export function rowView(m: FeatureMatrix, r: number): Float64Array {
  if (!Number.isInteger(r) || r < 0 || r >= m.rows) throw new RangeError(`row ${r} out of range [0, ${m.rows})`);
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}

/**
 * Copy of column `c` (length `rows`).
 * @param out optional destination of length ≥ `rows`.
 * @throws RangeError if `c` is out of range or `out` too short.
 */
export function getColumn(m: FeatureMatrix, c: number, out?: Float64Array): Float64Array {
  if (!Number.isInteger(c) || c < 0 || c >= m.cols) throw new RangeError(`column ${c} out of range [0, ${m.cols})`);
  const o = out ?? new Float64Array(m.rows);
  if (o.length < m.rows) throw new RangeError(`out has ${o.length} slots for ${m.rows} rows`);
  const { data, cols, rows } = m;
  for (let r = 0, k = c; r < rows; r++, k += cols) o[r] = data[k]!;
  return o;
}

const BLOCK = 64;

/**
 * `bytes` bytes of memory that are not zeroed (`Buffer.allocUnsafeSlow`: recycled heap memory, where a zeroed
 * allocation of megabytes costs fresh pages and their faults at every fit). Only for arrays that are written before
 * they are read. Used by the scaler's transform and the tree's training buffers.
 */
export function uninitializedBuffer(bytes: number): ArrayBuffer {
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

/**
 * Column-major float64 copy (`cols × rows`): column `c` occupies `[c * rows, (c + 1) * rows)`.
 * Blocked transposition, cache-friendly for large tables.
 */
export function toColumnMajor(m: FeatureMatrix): Float64Array {
  const out = new Float64Array(m.rows * m.cols);
  transposeInto(m, out);
  return out;
}

/**
 * Column-major float32 copy (`cols × rows`), values rounded to the nearest float32 (`Math.fround`);
 * magnitudes above 3.4028235e38 become ±Infinity, NaN stays NaN. This is the training layout of
 * {@link DecisionTreeClassifier} (scikit-learn also trains trees on float32).
 */
export function toColumnMajorF32(m: FeatureMatrix): Float32Array {
  const out = new Float32Array(m.rows * m.cols);
  transposeInto(m, out);
  return out;
}

function transposeInto(m: FeatureMatrix, out: Float64Array | Float32Array): void {
  const { rows, cols, data } = m;
  for (let r0 = 0; r0 < rows; r0 += BLOCK) {
    const r1 = Math.min(rows, r0 + BLOCK);
    for (let c = 0; c < cols; c++) {
      const base = c * rows;
      for (let r = r0, k = r0 * cols + c; r < r1; r++, k += cols) out[base + r] = data[k]!;
    }
  }
}

/**
 * New matrix holding the given rows, in the given order (copies; indices may repeat, e.g. bootstrap).
 * @param indices row indices in `[0, rows)`.
 * @throws RangeError on an index out of range.
 */
export function selectRows(m: FeatureMatrix, indices: ArrayLike<number>): FeatureMatrix {
  const { cols, rows, data } = m;
  const n = indices.length;
  const out = new Float64Array(n * cols);
  for (let i = 0; i < n; i++) {
    const r = indices[i]!;
    if (!(r >= 0 && r < rows) || !Number.isInteger(r)) throw new RangeError(`row index ${r} out of range [0, ${rows})`);
    out.set(data.subarray(r * cols, (r + 1) * cols), i * cols);
  }
  return { rows: n, cols, data: out, names: m.names.slice() };
}

/**
 * New matrix holding the given columns, in the given order (copies).
 * @param indices column indices in `[0, cols)`.
 * @throws RangeError on an index out of range.
 */
export function selectColumns(m: FeatureMatrix, indices: ArrayLike<number>): FeatureMatrix {
  const { cols, rows, data } = m;
  const k = indices.length;
  for (let j = 0; j < k; j++) {
    const c = indices[j]!;
    if (!(c >= 0 && c < cols) || !Number.isInteger(c)) throw new RangeError(`column index ${c} out of range [0, ${cols})`);
  }
  const out = new Float64Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const src = r * cols;
    const dst = r * k;
    for (let j = 0; j < k; j++) out[dst + j] = data[src + indices[j]!]!;
  }
  return { rows, cols: k, data: out, names: Array.from({ length: k }, (_, j) => m.names[indices[j]!]!) };
}

/**
 * Permutation feature importance (Breiman 2001, "Random Forests", Machine Learning 45 §10; the model-agnostic
 * form of scikit-learn's `sklearn.inspection.permutation_importance`): the importance of column j is the
 * decrease of a score when the values of column j are shuffled across rows, which breaks the column's relation
 * to the target (and to the other columns) while keeping its marginal distribution.
 *
 * For `nRepeats` rounds r: `importances[j][r] = baseline − score(X with column j permuted)`, and
 * `importancesMean[j]`, `importancesStd[j]` (population standard deviation, NumPy's `np.std`, ddof 0) over
 * the rounds. Larger = the score depends more on the column; ≈ 0 = the model does not use it (or another
 * column carries the same information — correlated columns share, and can hide, importance); negative =
 * shuffling happened to help.
 *
 * The shuffles reproduce scikit-learn 1.2's exactly: `seed` plays `random_state`; one seed
 * `RandomState(seed).randint(2^31)` is drawn, and every column is permuted with a fresh
 * `RandomState(thatSeed)` — the same sequence of permutations for every column — whose `shuffle` permutes
 * an index vector in place once per round, the column being re-indexed by it cumulatively
 * (`X[:, j] = X[idx, j]`). With the same rows and a deterministic score, the importances equal
 * scikit-learn's bit for bit, their means and standard deviations to rounding (`test/model.importance.test.ts`
 * checks this). scikit-learn's `max_samples` is
 * not offered: subsample the rows beforehand ({@link sampleRows}).
 */
import { ModelError } from './errors.js';
import { MT19937 } from './forest.js';
import { assertMatrix, type FeatureMatrix } from './matrix.js';

/** Result of {@link permutationImportance}; arrays are indexed by column of the scored matrix. */
export interface PermutationImportance {
  /** Score of the unpermuted rows. */
  baseline: number;
  /** Mean over the rounds of `baseline − permuted score`, one per column. */
  importancesMean: Float64Array;
  /** Population standard deviation (ddof 0) over the rounds, one per column. */
  importancesStd: Float64Array;
  /** `baseline − permuted score` per column and round: `importances[j][r]`. */
  importances: Float64Array[];
}

/** `np.iinfo(np.int32).max + 1`: the bound of the per-call seed scikit-learn draws. */
const INT32_BOUND = 2147483648;

/**
 * Permutation importance of every column of `X` for `score` (scikit-learn's `permutation_importance` with
 * `n_repeats = nRepeats`, `random_state = seed`, `max_samples = 1.0`; see the module documentation).
 *
 * Cost: `1 + cols · nRepeats` calls of `score`, each on a `rows × cols` matrix (one working copy of `X` is
 * reused; `X` itself is not modified). Let `score` predict in large batches.
 *
 * @param score the score of a matrix (higher = better, e.g. accuracy of a fitted classifier on these rows
 *   against their labels); must be deterministic, must not keep or modify the matrix it is given.
 * @param X `rows × cols` rows to score (e.g. held-out validation rows; row order is irrelevant to the result
 *   only up to the random permutations, which depend on it).
 * @param nRepeats number of shuffles per column (integer ≥ 1; scikit-learn's default is 5).
 * @param seed `random_state`, an integer in `[0, 2^32)`.
 * @returns baseline, mean, std and per-round importances.
 * @throws ModelError on a malformed matrix, fewer than 2 rows, an invalid `nRepeats`/`seed`, or a score that
 *   is not a finite number.
 */
export function permutationImportance(score: (X: FeatureMatrix) => number, X: FeatureMatrix, nRepeats = 5, seed = 0): PermutationImportance {
  try {
    assertMatrix(X, 'X');
  } catch (e) {
    throw new ModelError(`permutationImportance: ${(e as Error).message}`);
  }
  if (!Number.isInteger(nRepeats) || nRepeats < 1) throw new ModelError(`permutationImportance: nRepeats must be an integer ≥ 1, got ${nRepeats}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ModelError(`permutationImportance: seed must be an integer in [0, 2^32), got ${seed}`);
  const { rows, cols } = X;
  if (rows < 2) throw new ModelError(`permutationImportance: needs at least 2 rows, got ${rows}`);
  const checked = (m: FeatureMatrix, what: string): number => {
    const s = score(m);
    if (typeof s !== 'number' || !Number.isFinite(s)) throw new ModelError(`permutationImportance: the score of ${what} is ${String(s)}, not a finite number`);
    return s;
  };
  const baseline = checked(X, 'the unpermuted rows');
  const roundSeed = new MT19937(seed).randint(INT32_BOUND);
  const work: FeatureMatrix = { rows, cols, data: X.data.slice(), names: X.names.slice() };
  const d = work.data;
  const column = new Float64Array(rows);
  const idx = new Int32Array(rows);
  const importances: Float64Array[] = [];
  const importancesMean = new Float64Array(cols);
  const importancesStd = new Float64Array(cols);
  for (let j = 0; j < cols; j++) {
    const rng = new MT19937(roundSeed);
    for (let i = 0; i < rows; i++) idx[i] = i;
    const per = new Float64Array(nRepeats);
    for (let r = 0; r < nRepeats; r++) {
      // numpy's legacy RandomState.shuffle: Fisher–Yates from the end, j = random_interval(i).
      for (let i = rows - 1; i > 0; i--) {
        const k = rng.randint(i + 1);
        const t = idx[i]!;
        idx[i] = idx[k]!;
        idx[k] = t;
      }
      // X_permuted[:, j] = X_permuted[idx, j] (the already permuted column, as scikit-learn does).
      for (let i = 0; i < rows; i++) column[i] = d[idx[i]! * cols + j]!;
      for (let i = 0, p = j; i < rows; i++, p += cols) d[p] = column[i]!;
      per[r] = baseline - checked(work, `round ${r + 1} with column ${j} (${X.names[j]}) permuted`);
    }
    for (let i = 0, p = j; i < rows; i++, p += cols) d[p] = X.data[p]!; // restore column j
    let sum = 0;
    for (let r = 0; r < nRepeats; r++) sum += per[r]!;
    const mean = sum / nRepeats;
    let ss = 0;
    for (let r = 0; r < nRepeats; r++) ss += (per[r]! - mean) ** 2;
    importances.push(per);
    importancesMean[j] = mean;
    importancesStd[j] = Math.sqrt(ss / nRepeats);
  }
  return { baseline, importancesMean, importancesStd, importances };
}

/**
 * At most `max` of the row indices `0 … n − 1`, chosen uniformly without replacement by a seeded partial
 * Fisher–Yates shuffle (MT19937 as numpy's `RandomState(seed)`), returned sorted ascending; all `n` rows when
 * `n ≤ max`. Bounds the cost of {@link permutationImportance} on large held-out sets.
 * @param n number of rows (integer ≥ 0).
 * @param max the cap (integer ≥ 1).
 * @param seed integer in `[0, 2^32)`.
 * @throws ModelError on invalid arguments.
 */
export function sampleRows(n: number, max: number, seed = 0): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new ModelError(`sampleRows: n must be an integer ≥ 0, got ${n}`);
  if (!Number.isInteger(max) || max < 1) throw new ModelError(`sampleRows: max must be an integer ≥ 1, got ${max}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ModelError(`sampleRows: seed must be an integer in [0, 2^32), got ${seed}`);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  if (n <= max) return all;
  const rng = new MT19937(seed);
  for (let i = 0; i < max; i++) {
    const k = i + rng.randint(n - i);
    const t = all[i]!;
    all[i] = all[k]!;
    all[k] = t;
  }
  return all.slice(0, max).sort();
}

/**
 * The columns ranked by mean importance, largest first (ties: column order).
 * @returns `{ feature, importance, std }` per column (feature = the matrix's column name).
 */
export function rankImportances(result: PermutationImportance, names: readonly string[]): { feature: string; importance: number; std: number }[] {
  if (names.length !== result.importancesMean.length) throw new ModelError(`rankImportances: ${names.length} names for ${result.importancesMean.length} columns`);
  return names.map((feature, j) => ({ feature, importance: result.importancesMean[j]!, std: result.importancesStd[j]! }))
    .map((v, j) => ({ v, j }))
    .sort((a, b) => b.v.importance - a.v.importance || a.j - b.j)
    .map(({ v }) => v);
}

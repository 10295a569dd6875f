/**
 * Streaming summary statistics (count, sum, mean, variance, min, max) kept in 6 consecutive doubles of a flow's
 * {@link FlowState} record, at offset `o`: `a[o + STAT_N]`, `a[o + STAT_SUM]`, … Mean and variance use Welford's
 * online algorithm (Welford 1962; Knuth TAOCP vol. 2 §4.2.2).
 *
 * `statStd` is the SAMPLE standard deviation (n − 1 denominator), as CICFlowMeter's Apache Commons Math
 * `SummaryStatistics.getStandardDeviation()`; with fewer than two values it is 0. Every getter returns 0 for an
 * empty entry (never NaN); min and max are 0 when empty.
 */

/** Offsets within a statistics block, and its size in doubles. */
export const STAT_N = 0, STAT_SUM = 1, STAT_MEAN = 2, STAT_M2 = 3, STAT_MIN = 4, STAT_MAX = 5, STAT_SIZE = 6;

/** Empties the block at `a[o …]`. */
export function statReset(a: Float64Array, o: number): void {
  a[o] = 0; a[o + 1] = 0; a[o + 2] = 0; a[o + 3] = 0; a[o + 4] = 0; a[o + 5] = 0;
}

/** Adds value `x` to the block at `a[o …]`. */
export function statAdd(a: Float64Array, o: number, x: number): void {
  const n = a[o] + 1;
  a[o] = n;
  a[o + STAT_SUM] += x;
  const d = x - a[o + STAT_MEAN];
  const mean = a[o + STAT_MEAN] + d / n;
  a[o + STAT_MEAN] = mean;
  a[o + STAT_M2] += d * (x - mean);
  if (n === 1) { a[o + STAT_MIN] = x; a[o + STAT_MAX] = x; } else {
    if (x < a[o + STAT_MIN]) a[o + STAT_MIN] = x;
    if (x > a[o + STAT_MAX]) a[o + STAT_MAX] = x;
  }
}

/** Mean as sum / n (exact for integer-valued sums; CICFlowMeter's `getMean()` is the same quotient), 0 when empty. */
export function statAvg(a: Float64Array, o: number): number {
  const n = a[o];
  return n > 0 ? a[o + STAT_SUM] / n : 0;
}

/** Sample variance (n − 1), 0 when n < 2. */
export function statVariance(a: Float64Array, o: number): number {
  const n = a[o];
  return n > 1 ? Math.max(0, a[o + STAT_M2] / (n - 1)) : 0;
}

/**
 * Sample variance (n − 1) of the values of two blocks at `a[x …]` and `a[y …]` together, 0 when they hold fewer than two:
 * their sums of squared deviations combined as M2 = M2ₓ + M2ᵧ + δ² · nₓ · nᵧ / n, δ = meanᵧ − meanₓ, n = nₓ + nᵧ (Chan,
 * Golub & LeVeque, "Updating formulae and a pairwise algorithm for computing sample variances", 1979, eq. 2.1b). Equal
 * to {@link statVariance} of one block fed both sets of values, up to rounding in the last binary digit.
 */
export function statUnionVariance(a: Float64Array, x: number, y: number): number {
  const nx = a[x + STAT_N], ny = a[y + STAT_N], n = nx + ny;
  if (n < 2) return 0;
  let m2 = a[x + STAT_M2] + a[y + STAT_M2];
  if (nx > 0 && ny > 0) {
    const delta = a[y + STAT_MEAN] - a[x + STAT_MEAN];
    m2 += delta * delta * (nx * ny / n);
  }
  return Math.max(0, m2 / (n - 1));
}

/** Sample standard deviation (n − 1), 0 when n < 2. */
export function statStd(a: Float64Array, o: number): number {
  return Math.sqrt(statVariance(a, o));
}

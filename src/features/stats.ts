/**
 * Streaming summary statistics per flow slot (count, sum, mean, variance, min, max) in typed arrays.
 * Mean and variance use Welford's online algorithm (Welford 1962; Knuth TAOCP vol. 2 §4.2.2).
 */
import { growArray } from './family.js';

/**
 * A column of running statistics, one entry per flow slot. `std` is the SAMPLE standard deviation
 * (n − 1 denominator), as CICFlowMeter's Apache Commons Math `SummaryStatistics.getStandardDeviation()`;
 * with fewer than two values it is 0. All getters return 0 for an empty entry (never NaN).
 */
export class RunningStats {
  n = new Float64Array(0);
  mean = new Float64Array(0);
  m2 = new Float64Array(0);
  min = new Float64Array(0);
  max = new Float64Array(0);
  sum = new Float64Array(0);

  /** Makes the arrays cover `capacity` slots. */
  resize(capacity: number): void {
    this.n = growArray(this.n, capacity, Float64Array);
    this.mean = growArray(this.mean, capacity, Float64Array);
    this.m2 = growArray(this.m2, capacity, Float64Array);
    this.min = growArray(this.min, capacity, Float64Array);
    this.max = growArray(this.max, capacity, Float64Array);
    this.sum = growArray(this.sum, capacity, Float64Array);
  }

  /** Empties slot `s`. */
  reset(s: number): void {
    this.n[s] = 0; this.mean[s] = 0; this.m2[s] = 0; this.min[s] = 0; this.max[s] = 0; this.sum[s] = 0;
  }

  /** Adds value `x` to slot `s`. */
  add(s: number, x: number): void {
    const n = this.n[s] + 1;
    this.n[s] = n;
    this.sum[s] += x;
    const d = x - this.mean[s];
    const mean = this.mean[s] + d / n;
    this.mean[s] = mean;
    this.m2[s] += d * (x - mean);
    if (n === 1) { this.min[s] = x; this.max[s] = x; } else {
      if (x < this.min[s]) this.min[s] = x;
      if (x > this.max[s]) this.max[s] = x;
    }
  }

  /** Mean as sum / n (exact for integer-valued sums), 0 when empty. */
  avg(s: number): number {
    const n = this.n[s];
    return n > 0 ? this.sum[s] / n : 0;
  }

  /** Sample variance (n − 1), 0 when n < 2. */
  variance(s: number): number {
    const n = this.n[s];
    return n > 1 ? Math.max(0, this.m2[s] / (n - 1)) : 0;
  }

  /** Sample standard deviation (n − 1), 0 when n < 2. */
  std(s: number): number {
    return Math.sqrt(this.variance(s));
  }
}

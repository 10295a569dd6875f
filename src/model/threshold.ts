/**
 * Alert thresholds: the rule that turns a model's output into "flag the flow or not", and its calibration on
 * held-out BENIGN flows at a target false-positive rate (FPR).
 *
 * The score of a flow is
 * - for a classifier, its attack probability `a = 1 − P(BENIGN)` (clipped to [0, 1]: the probability that the
 *   flow is not BENIGN, whatever the attack class), see {@link attackProbability};
 * - for the autoencoder, its anomaly score (mean squared reconstruction error, src/model/autoencoder.ts).
 *
 * A flow is flagged when `score ≥ threshold`; a flagged flow of a classifier is given its most probable attack
 * class, an unflagged one BENIGN ({@link decideClass}). Without a threshold a classifier predicts its most
 * probable class (argmax), which is what it did before thresholds existed.
 *
 * Calibration ({@link calibrateThreshold}) picks the smallest threshold whose FPR on the held-out BENIGN flows is
 * at most the target: with n held-out scores in decreasing order s₍₁₎ ≥ s₍₂₎ ≥ … ≥ s₍ₙ₎ and k = ⌊F·n⌋ (the
 * largest k with k/n ≤ F: the most false positives the target allows), the threshold is the smallest double
 * greater than s₍ₖ₊₁₎, the (n − k)-th smallest score (for n > 1 NumPy's
 * `np.quantile(s, (n − k − 1)/(n − 1), method='lower')`). Exactly the
 * held-out flows scoring above s₍ₖ₊₁₎ are then flagged: at most k (fewer when scores tie with s₍ₖ₊₁₎), so the
 * held-out FPR is ≤ F; any smaller threshold t ≤ s₍ₖ₊₁₎ would flag at least k + 1. The FPR can only be measured
 * in steps of 1/n: with n < 1/F, k = 0 and the threshold lies above every held-out score (held-out FPR 0, which
 * says little about F) — {@link ThresholdCalibration.resolutionWarning} says so.
 */
import { ModelError } from './errors.js';

/** What an alert threshold is compared with. */
export type AlertScore = 'attack-probability' | 'anomaly-score';

/** Outcome of {@link calibrateThreshold}. */
export interface ThresholdCalibration {
  /** The threshold: flag when score ≥ threshold (the smallest double above {@link boundary}). */
  threshold: number;
  /** s₍ₖ₊₁₎: the largest held-out score that is not flagged. */
  boundary: number;
  /** The target FPR F, in (0, 1). */
  targetFpr: number;
  /** Held-out BENIGN flows (n). */
  heldOutFlows: number;
  /** Held-out BENIGN flows with score ≥ threshold. */
  heldOutFlagged: number;
  /** `heldOutFlagged / heldOutFlows` (≤ targetFpr by construction). */
  heldOutFpr: number;
  /** Set when n < 1/F: the FPR resolution 1/n is coarser than the target (a sentence, for a warning). */
  resolutionWarning: string | null;
}

/**
 * The smallest double greater than `x` (Math.nextUp of Java; IEEE 754 nextUp). ±0 → the smallest subnormal;
 * NaN and +∞ are returned as they are.
 */
export function nextUp(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x === 0) return Number.MIN_VALUE;
  const f = new Float64Array([x]);
  const bits = new BigInt64Array(f.buffer);
  bits[0] = bits[0]! + (x > 0 ? 1n : -1n);
  return f[0]!;
}

/** The largest double smaller than `x` (IEEE 754 nextDown): `nextDown(nextUp(x)) === x` for finite x. */
export function nextDown(x: number): number {
  return -nextUp(-x);
}

/**
 * Calibrates an alert threshold on the scores of held-out BENIGN flows so that at most a share `targetFpr` of
 * them is flagged (the rule is stated exactly in the module documentation).
 * @param scores held-out BENIGN scores (attack probabilities or anomaly scores), finite
 * @param targetFpr target false-positive rate F, 0 < F < 1
 * @throws ModelError for no scores, a non-finite score, or F outside (0, 1)
 */
export function calibrateThreshold(scores: ArrayLike<number>, targetFpr: number): ThresholdCalibration {
  if (!(typeof targetFpr === 'number' && targetFpr > 0 && targetFpr < 1)) throw new ModelError(`the target false-positive rate must be in (0, 1), got ${String(targetFpr)}`);
  const n = scores.length;
  if (n === 0) throw new ModelError('cannot calibrate a threshold on no held-out BENIGN flows');
  const desc = Float64Array.from(scores);
  for (let i = 0; i < n; i++) if (!Number.isFinite(desc[i])) throw new ModelError(`held-out score ${i} is not a finite number (${desc[i]})`);
  desc.sort().reverse();
  // k = ⌊F·n⌋, the largest k with k/n ≤ F (so 0.29 × 100 = 28.999999999999996 still allows 29).
  let k = Math.floor(targetFpr * n);
  while ((k + 1) / n <= targetFpr) k++;
  const boundary = desc[Math.min(k, n - 1)]!;
  const threshold = nextUp(boundary);
  let flagged = 0;
  for (let i = 0; i < n && desc[i]! >= threshold; i++) flagged++;
  return {
    threshold,
    boundary,
    targetFpr,
    heldOutFlows: n,
    heldOutFlagged: flagged,
    heldOutFpr: flagged / n,
    resolutionWarning: n * targetFpr < 1
      ? `only ${n} held-out BENIGN flows: the false-positive rate is measured in steps of 1/${n} = ${(1 / n).toPrecision(3)}, coarser than the target ${targetFpr}; the threshold lies above every held-out score`
      : null,
  };
}

/**
 * Attack probability of a row of class probabilities: `1 − P(BENIGN)`, clipped to [0, 1].
 * @param proba class probabilities (row-major)
 * @param benign class index of BENIGN
 * @param offset start of the row in `proba`
 */
export function attackProbability(proba: ArrayLike<number>, benign: number, offset = 0): number {
  const a = 1 - proba[offset + benign]!;
  return a < 0 ? 0 : a > 1 ? 1 : a;
}

/**
 * Class of a row of class probabilities (`k` classes from `offset`): without a threshold (null) the most
 * probable class (the first on ties); with one, BENIGN unless the attack probability is ≥ the threshold, then
 * the most probable class other than BENIGN (the first on ties).
 * @param benign class index of BENIGN (ignored without a threshold)
 */
export function decideClass(proba: ArrayLike<number>, offset: number, k: number, benign: number, threshold: number | null): number {
  if (threshold === null) {
    let best = 0;
    for (let c = 1; c < k; c++) if (proba[offset + c]! > proba[offset + best]!) best = c;
    return best;
  }
  if (attackProbability(proba, benign, offset) < threshold) return benign;
  let best = -1;
  for (let c = 0; c < k; c++) if (c !== benign && (best < 0 || proba[offset + c]! > proba[offset + best]!)) best = c;
  return best < 0 ? benign : best;
}

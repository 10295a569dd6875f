/**
 * Ranking metrics for binary scores (e.g. anomaly scores): ROC AUC and average precision, as
 * scikit-learn's `roc_auc_score` and `average_precision_score` (scikit-learn 1.2), O(n log n).
 */
import { pairwiseSum } from './pyformat.js';

/**
 * The points of the binary classification curve at each distinct score, highest score first:
 * `fps[k]` / `tps[k]` are the false / true positives when predicting positive every sample whose
 * score is ≥ the k-th distinct score. As scikit-learn's `sklearn.metrics._ranking._binary_clf_curve`
 * (tied scores form a single point).
 */
interface ClfCurve {
  fps: Float64Array;
  tps: Float64Array;
  /** Number of distinct scores (the used length of `fps` / `tps`). */
  m: number;
}

function binaryClfCurve(yTrue01: ArrayLike<number>, scores: ArrayLike<number>, fn: string): ClfCurve {
  const n = yTrue01.length;
  if (scores.length !== n) {
    throw new RangeError(`${fn}: yTrue01 and scores have different lengths (${n} vs ${scores.length})`);
  }
  if (n === 0) throw new RangeError(`${fn}: no samples`);
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    const t = yTrue01[i]!;
    if (t !== 0 && t !== 1) throw new RangeError(`${fn}: yTrue01[${i}] is ${t}, expected 0 or 1`);
    y[i] = t;
    positives += t;
    const v = scores[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`${fn}: scores[${i}] is ${v}, expected a finite number`);
    s[i] = v;
  }
  if (positives === 0 || positives === n) {
    throw new RangeError(
      `${fn}: only one class present in yTrue01 (all ${positives === 0 ? 0 : 1}); the score is not defined in that case`,
    );
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => s[b]! - s[a]!); // descending; order within ties is irrelevant

  const fps = new Float64Array(n);
  const tps = new Float64Array(n);
  let m = 0;
  let tp = 0;
  for (let i = 0; i < n; i++) {
    tp += y[order[i]!]!;
    if (i === n - 1 || s[order[i]!] !== s[order[i + 1]!]) {
      tps[m] = tp;
      fps[m] = 1 + i - tp;
      m++;
    }
  }
  return { fps, tps, m };
}

/**
 * Area under the ROC curve of binary labels and real-valued scores (higher score = more likely
 * positive), as scikit-learn's `sklearn.metrics.roc_auc_score(y_true, y_score)` for binary
 * `y_true`: ROC curve from `roc_curve` (tied scores form one point, i.e. ties count ½ — the
 * Mann-Whitney U statistic with mid-ranks; collinear points dropped as `drop_intermediate=True`),
 * integrated with the trapezoidal rule in NumPy's summation order — equal to scikit-learn's value
 * to the last bit in practice (≤ 1e-12 guaranteed by the tests).
 *
 * O(n log n) time, O(n) typed-array memory.
 *
 * @param yTrue01 - true classes, each exactly 0 or 1 (1 = positive, e.g. attack / anomaly).
 * @param scores - finite scores, parallel to `yTrue01`.
 * @returns the AUC in [0, 1].
 * @throws RangeError when the lengths differ, there are no samples, a label is not 0/1, a score is
 *   not finite (NaN, ±Infinity), or only one class is present in `yTrue01` (scikit-learn raises
 *   `ValueError: Only one class present in y_true`).
 */
export function rocAucScore(yTrue01: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { fps, tps, m } = binaryClfCurve(yTrue01, scores, 'rocAucScore');
  // drop_intermediate: keep the first, the last and every point where the curve bends.
  const keep: number[] = [];
  for (let j = 0; j < m; j++) {
    if (
      m <= 2 ||
      j === 0 ||
      j === m - 1 ||
      fps[j + 1]! - fps[j]! - (fps[j]! - fps[j - 1]!) !== 0 ||
      tps[j + 1]! - tps[j]! - (tps[j]! - tps[j - 1]!) !== 0
    ) {
      keep.push(j);
    }
  }
  const len = keep.length + 1; // with the (0, 0) point prepended
  const fpr = new Float64Array(len);
  const tpr = new Float64Array(len);
  const fpsLast = fps[m - 1]!;
  const tpsLast = tps[m - 1]!;
  for (let k = 0; k < keep.length; k++) {
    fpr[k + 1] = fps[keep[k]!]! / fpsLast;
    tpr[k + 1] = tps[keep[k]!]! / tpsLast;
  }
  // np.trapz(tpr, fpr) = sum(diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0)
  const terms = new Float64Array(len - 1);
  for (let k = 0; k < len - 1; k++) {
    terms[k] = ((fpr[k + 1]! - fpr[k]!) * (tpr[k + 1]! + tpr[k]!)) / 2.0;
  }
  return pairwiseSum(terms);
}

/**
 * Average precision of binary labels and real-valued scores (higher score = more likely
 * positive), as scikit-learn's `sklearn.metrics.average_precision_score(y_true, y_score)`:
 * `AP = Σₖ (Rₖ − Rₖ₋₁) · Pₖ` over the thresholds of `precision_recall_curve` (tied scores form a
 * single threshold; no interpolation), in NumPy's summation order.
 *
 * O(n log n) time, O(n) typed-array memory.
 *
 * @param yTrue01 - true classes, each exactly 0 or 1 (1 = positive, e.g. attack / anomaly).
 * @param scores - finite scores, parallel to `yTrue01`.
 * @returns the average precision in [0, 1].
 * @throws RangeError when the lengths differ, there are no samples, a label is not 0/1, a score is
 *   not finite, or only one class is present in `yTrue01`. (Deliberate difference: scikit-learn
 *   returns 1.0 when all samples are positive, and 0 with a warning when none is.)
 */
export function averagePrecisionScore(yTrue01: ArrayLike<number>, scores: ArrayLike<number>): number {
  const { fps, tps, m } = binaryClfCurve(yTrue01, scores, 'averagePrecisionScore');
  const tpsLast = tps[m - 1]!;
  // precision_recall_curve returns the points reversed (lowest threshold first) plus (P=1, R=0);
  // AP = -sum(diff(recall) * precision[:-1]).
  const terms = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    const j = m - 1 - k; // reversed index
    const precision = tps[j]! / (tps[j]! + fps[j]!);
    const recall = tps[j]! / tpsLast;
    const nextRecall = k + 1 < m ? tps[j - 1]! / tpsLast : 0;
    terms[k] = (nextRecall - recall) * precision;
  }
  return -pairwiseSum(terms);
}

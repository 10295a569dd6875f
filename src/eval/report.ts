/**
 * Classification metrics and scikit-learn's text classification report, for string class labels.
 *
 * Every number is computed with the same floating-point operations in the same order as
 * scikit-learn 1.2 / NumPy (`precision_recall_fscore_support`, `np.average` with pairwise
 * summation), so values are bit-identical to scikit-learn's and the report is byte-identical to
 * `sklearn.metrics.classification_report`.
 */
import { checkLabelList, checkTargets, confusionMatrix, uniqueLabels } from './confusion.js';
import type { ConfusionMatrix } from './confusion.js';
import { formatFixed, pairwiseSum, pyLen, pyRjust } from './pyformat.js';

/** Options shared by {@link precisionRecallFscoreSupport}, {@link classificationMetrics} and {@link classificationReport}. */
export interface ClassificationOptions {
  /**
   * Classes to report, in this order; may be a subset of the labels present (then the report's
   * first average row is `micro avg` instead of `accuracy`) or contain labels never seen.
   * Default: the sorted union of `yTrue` and `yPred` (Python code-point order).
   * Must be non-empty and without duplicates.
   */
  labels?: readonly string[];
  /**
   * Value of precision (no predicted sample), recall (no true sample) and the derived scores when
   * their denominator is zero — scikit-learn's `zero_division` (0 also stands for its default
   * `"warn"`, which yields 0; no warning is ever printed). Default 0.
   */
  zeroDivision?: 0 | 1;
}

/** Options of {@link classificationReport}. */
export interface ClassificationReportOptions extends ClassificationOptions {
  /** Digits after the decimal point of the scores (scikit-learn's `digits`), a non-negative integer; default 2. */
  digits?: number;
}

/** Precision, recall and F1 of one averaging method. */
export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
}

/**
 * Per-class and averaged scores, as scikit-learn's `precision_recall_fscore_support` with
 * `average=None`, `'micro'`, `'macro'` and `'weighted'` (beta = 1), plus the sufficient statistics.
 * All arrays are parallel to `labels`.
 */
export interface PrfSupport {
  /** The classes, in report order. */
  labels: string[];
  /** Per class: `tp / predicted` (or `zeroDivision` when nothing is predicted as that class). */
  precision: number[];
  /** Per class: `tp / support` (or `zeroDivision` when the class has no true sample). */
  recall: number[];
  /** Per class: `2·p·r / (p + r)`, 0 when `p + r = 0`. */
  f1: number[];
  /** Per class: number of samples whose true label is the class. */
  support: number[];
  /** Per class: number of samples predicted as the class. */
  predicted: number[];
  /** Per class: number of correctly predicted samples of the class. */
  truePositives: number[];
  /** Scores from the totals of `truePositives`, `predicted` and `support` over `labels`. */
  micro: AveragedScores;
  /** Unweighted means of the per-class scores. */
  macro: AveragedScores;
  /** Means weighted by `support` (scikit-learn's special cases when the total support is 0). */
  weighted: AveragedScores;
  /** Number of samples. */
  samples: number;
  /** Number of samples with `yTrue[i] === yPred[i]` (over all samples, whatever `labels`). */
  correct: number;
}

/** Per-class entry of {@link ClassificationMetrics}. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/**
 * The metrics object printed by `flowsift evaluate --json` (unrounded numbers).
 *
 * `classes` is keyed by class name; its key order follows JavaScript's property order (integer-like
 * names such as `"10"` come first, numerically) — use `confusion_matrix.labels` for the report order.
 */
export interface ClassificationMetrics {
  /** scikit-learn's `accuracy_score`: fraction of samples with `yTrue[i] === yPred[i]` (all samples). */
  accuracy: number;
  /** `f1_score(average='macro')` over the classes. */
  macro_f1: number;
  /** `f1_score(average='weighted')` over the classes. */
  weighted_f1: number;
  /** `precision_score(average='macro')` over the classes. */
  macro_precision: number;
  /** `recall_score(average='macro')` over the classes. */
  macro_recall: number;
  /** Per-class precision, recall, F1 and support (`precision_recall_fscore_support(average=None)`). */
  classes: { [name: string]: ClassMetrics };
  /** `confusion_matrix(y_true, y_pred, labels=…)` with its labels. */
  confusion_matrix: ConfusionMatrix;
}

function checkZeroDivision(z: unknown, fn: string): 0 | 1 {
  if (z === undefined) return 0;
  if (z !== 0 && z !== 1) throw new RangeError(`${fn}: zeroDivision must be 0 or 1, got ${String(z)}`);
  return z;
}

/** `(1 + beta²)·p·r / (beta²·p + r)` with beta = 1, in scikit-learn's operation order. */
function fscore(p: number, r: number): number {
  let denom = 1 * p + r;
  if (denom === 0) denom = 1;
  return (2 * p * r) / denom;
}

/**
 * Per-class and averaged precision, recall, F1 and support of string labels — scikit-learn's
 * `sklearn.metrics.precision_recall_fscore_support(y_true, y_pred, labels=…, average=…,
 * zero_division=…)` for `average` None, `'micro'`, `'macro'` and `'weighted'` at once, with
 * bit-identical results.
 *
 * @param yTrue - true labels, one per sample.
 * @param yPred - predicted labels, parallel to `yTrue`.
 * @param opts - `labels` (order / subset) and `zeroDivision`.
 * @throws RangeError when the lengths differ, when there are no samples and no `labels`, when
 *   `labels` is empty or has duplicates, or when `zeroDivision` is not 0 or 1.
 * @throws TypeError when a label is not a string.
 */
export function precisionRecallFscoreSupport(
  yTrue: readonly string[],
  yPred: readonly string[],
  opts: ClassificationOptions = {},
): PrfSupport {
  const fn = 'precisionRecallFscoreSupport';
  checkTargets(yTrue, yPred, fn);
  const zd = checkZeroDivision(opts.zeroDivision, fn);
  let labels: string[];
  if (opts.labels !== undefined) {
    checkLabelList(opts.labels, fn);
    labels = [...opts.labels];
  } else {
    if (yTrue.length === 0) throw new RangeError(`${fn}: no samples and no labels`);
    labels = uniqueLabels(yTrue, yPred);
  }
  const k = labels.length;
  const index = new Map<string, number>();
  labels.forEach((l, i) => index.set(l, i));
  const tp = new Array<number>(k).fill(0);
  const pred = new Array<number>(k).fill(0);
  const tru = new Array<number>(k).fill(0);
  let correct = 0;
  for (let s = 0; s < yTrue.length; s++) {
    const t = yTrue[s]!;
    const p = yPred[s]!;
    const i = index.get(t);
    const j = index.get(p);
    if (i !== undefined) tru[i]! += 1;
    if (j !== undefined) pred[j]! += 1;
    if (t === p) {
      correct++;
      if (i !== undefined) tp[i]! += 1;
    }
  }

  const precision = tp.map((v, i) => (pred[i] === 0 ? zd : v / pred[i]!));
  const recall = tp.map((v, i) => (tru[i] === 0 ? zd : v / tru[i]!));
  const f1 = precision.map((p, i) => fscore(p, recall[i]!));

  // micro: totals
  const tpT = pairwiseSum(tp);
  const predT = pairwiseSum(pred);
  const truT = pairwiseSum(tru);
  const microP = predT === 0 ? zd : tpT / predT;
  const microR = truT === 0 ? zd : tpT / truT;
  const micro = { precision: microP, recall: microR, f1: fscore(microP, microR) };

  // macro: np.average(x) = np.mean(x)
  const macro = {
    precision: pairwiseSum(precision) / k,
    recall: pairwiseSum(recall) / k,
    f1: pairwiseSum(f1) / k,
  };

  // weighted: np.average(x, weights=support) = sum(x * w) / sum(w)
  let weighted: AveragedScores;
  if (truT === 0) {
    weighted = predT === 0 ? { precision: zd, recall: zd, f1: zd } : { precision: 0, recall: zd, f1: 0 };
  } else {
    const wavg = (x: number[]): number => pairwiseSum(x.map((v, i) => v * tru[i]!)) / truT;
    weighted = { precision: wavg(precision), recall: wavg(recall), f1: wavg(f1) };
  }

  return {
    labels,
    precision,
    recall,
    f1,
    support: tru,
    predicted: pred,
    truePositives: tp,
    micro,
    macro,
    weighted,
    samples: yTrue.length,
    correct,
  };
}

/**
 * The metrics object of `flowsift evaluate --json`: accuracy, macro / weighted averages, per-class
 * scores and the confusion matrix, all unrounded and equal to scikit-learn's `accuracy_score`,
 * `precision_recall_fscore_support` and `confusion_matrix` (bit-identical).
 *
 * @param yTrue - true labels, one per sample (at least one sample).
 * @param yPred - predicted labels, parallel to `yTrue`.
 * @param opts - `labels` (order / subset of the per-class entries, averages and confusion matrix;
 *   `accuracy` always covers all samples) and `zeroDivision`.
 * @throws RangeError when the lengths differ, when there are no samples, when `labels` is empty,
 *   has duplicates or (as scikit-learn's `confusion_matrix`) contains no label of `yTrue`, or when
 *   `zeroDivision` is not 0 or 1.
 * @throws TypeError when a label is not a string.
 */
export function classificationMetrics(
  yTrue: readonly string[],
  yPred: readonly string[],
  opts: ClassificationOptions = {},
): ClassificationMetrics {
  if (yTrue.length === 0 && yPred.length === 0) {
    throw new RangeError('classificationMetrics: no samples');
  }
  const prf = precisionRecallFscoreSupport(yTrue, yPred, opts);
  const classes: { [name: string]: ClassMetrics } = {};
  prf.labels.forEach((name, i) => {
    // defineProperty: a class named "__proto__" must become an own property.
    Object.defineProperty(classes, name, {
      value: {
        precision: prf.precision[i]!,
        recall: prf.recall[i]!,
        f1: prf.f1[i]!,
        support: prf.support[i]!,
      },
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return {
    accuracy: prf.correct / prf.samples,
    macro_f1: prf.macro.f1,
    weighted_f1: prf.weighted.f1,
    macro_precision: prf.macro.precision,
    macro_recall: prf.macro.recall,
    classes,
    confusion_matrix: confusionMatrix(yTrue, yPred, prf.labels),
  };
}

const HEADERS = ['precision', 'recall', 'f1-score', 'support'];
const LONGEST_LAST_LINE_HEADING = 'weighted avg';

/**
 * Text classification report, byte-identical to scikit-learn's
 * `sklearn.metrics.classification_report(y_true, y_pred, labels=…, digits=…, zero_division=…)`
 * (scikit-learn 1.2), including its trailing newline:
 *
 * ```text
 *               precision    recall  f1-score   support
 *
 *       BENIGN       0.75      1.00      0.86         3
 *          DoS       1.00      0.50      0.67         2
 *
 *     accuracy                           0.80         5
 *    macro avg       0.88      0.75      0.76         5
 * weighted avg       0.85      0.80      0.78         5
 * ```
 *
 * - Rows: one per class of `opts.labels` (default: sorted union of the labels, Python order).
 * - Name column width: `max(longest class name, len('weighted avg') = 12, digits)` in code points.
 * - Scores are formatted as Python's `'{:.{digits}f}'` (half-to-even on the exact binary value,
 *   see {@link formatFixed}); supports as integers — except, as in scikit-learn, when no sample at
 *   all is predicted correctly, where supports are printed as floats (`'3.0'`).
 * - Averages: `accuracy` (the micro F1; its precision and recall cells are blank) when the classes
 *   are all the labels present, otherwise a `micro avg` row; then `macro avg` and `weighted avg`.
 *
 * @param yTrue - true labels, one per sample.
 * @param yPred - predicted labels, parallel to `yTrue`.
 * @param opts - `labels`, `digits` (default 2) and `zeroDivision` (default 0).
 * @throws RangeError when the lengths differ, when there are no samples and no `labels`, when
 *   `labels` is empty or has duplicates, when `digits` is not a non-negative integer or when
 *   `zeroDivision` is not 0 or 1.
 * @throws TypeError when a label is not a string.
 */
export function classificationReport(
  yTrue: readonly string[],
  yPred: readonly string[],
  opts: ClassificationReportOptions = {},
): string {
  const digits = opts.digits ?? 2;
  if (!Number.isSafeInteger(digits) || digits < 0) {
    throw new RangeError(`classificationReport: digits must be a non-negative integer, got ${digits}`);
  }
  const prf = precisionRecallFscoreSupport(yTrue, yPred, opts);
  const { labels } = prf;

  let microIsAccuracy = true;
  if (opts.labels !== undefined) {
    const present = new Set(uniqueLabels(yTrue, yPred));
    const given = new Set(labels);
    microIsAccuracy = present.size === given.size && [...given].every((l) => present.has(l));
  }

  // scikit-learn's counts become float64 when no sample is predicted correctly (np.zeros branch of
  // multilabel_confusion_matrix), and `'{:>9}'.format(np.float64(3.0))` prints '3.0'.
  const supportsAreFloat = prf.correct === 0;
  const fmtSupport = (n: number): string => (supportsAreFloat ? `${n}.0` : `${n}`);
  const f = (x: number): string => ' ' + pyRjust(formatFixed(x, digits), 9);

  const width = Math.max(...labels.map(pyLen), LONGEST_LAST_LINE_HEADING.length, digits);
  const row = (name: string, p: number, r: number, f1: number, support: number): string =>
    `${pyRjust(name, width)} ${f(p)}${f(r)}${f(f1)} ${pyRjust(fmtSupport(support), 9)}\n`;

  let report = `${' '.repeat(width)} ${HEADERS.map((h) => ' ' + pyRjust(h, 9)).join('')}\n\n`;
  labels.forEach((name, i) => {
    report += row(name, prf.precision[i]!, prf.recall[i]!, prf.f1[i]!, prf.support[i]!);
  });
  report += '\n';

  const total = pairwiseSum(prf.support);
  if (microIsAccuracy) {
    const blank = ' ' + ' '.repeat(9);
    report += `${pyRjust('accuracy', width)} ${blank}${blank}${f(prf.micro.f1)} ${pyRjust(fmtSupport(total), 9)}\n`;
  } else {
    report += row('micro avg', prf.micro.precision, prf.micro.recall, prf.micro.f1, total);
  }
  report += row('macro avg', prf.macro.precision, prf.macro.recall, prf.macro.f1, total);
  report += row('weighted avg', prf.weighted.precision, prf.weighted.recall, prf.weighted.f1, total);
  return report;
}

/**
 * Confusion matrices for string class labels, as scikit-learn's `sklearn.metrics.confusion_matrix`,
 * plus a plain-text rendering for terminals.
 */
import { comparePyStrings, pyLen, pyRjust } from './pyformat.js';

/**
 * A confusion matrix: `matrix[i][j]` is the number of samples whose true label is `labels[i]` and
 * whose predicted label is `labels[j]` (rows = true, columns = predicted, as scikit-learn).
 * `matrix` is square, `labels.length × labels.length`.
 */
export interface ConfusionMatrix {
  labels: string[];
  matrix: number[][];
}

/**
 * Check that `yTrue` and `yPred` are parallel arrays of strings.
 * @throws RangeError when the lengths differ; TypeError when an element is not a string.
 * @internal
 */
export function checkTargets(yTrue: readonly string[], yPred: readonly string[], fn: string): void {
  if (yTrue.length !== yPred.length) {
    throw new RangeError(
      `${fn}: yTrue and yPred have different lengths (${yTrue.length} vs ${yPred.length})`,
    );
  }
  for (let i = 0; i < yTrue.length; i++) {
    if (typeof yTrue[i] !== 'string' || typeof yPred[i] !== 'string') {
      throw new TypeError(`${fn}: labels must be strings (element ${i})`);
    }
  }
}

/**
 * Check an explicit label list: non-empty, strings, no duplicates.
 * @throws RangeError when empty or when a label is repeated; TypeError on a non-string label.
 * @internal
 */
export function checkLabelList(labels: readonly string[], fn: string): void {
  if (labels.length === 0) throw new RangeError(`${fn}: labels must contain at least one label`);
  const seen = new Set<string>();
  for (const l of labels) {
    if (typeof l !== 'string') throw new TypeError(`${fn}: labels must be strings`);
    if (seen.has(l)) throw new RangeError(`${fn}: duplicate label ${JSON.stringify(l)} in labels`);
    seen.add(l);
  }
}

/**
 * The sorted union of the labels found in `yTrue` and `yPred`, as scikit-learn's
 * `sklearn.utils.multiclass.unique_labels(y_true, y_pred)`: sorted by Unicode code point, as
 * Python's `sorted()` orders `str` values (see {@link comparePyStrings}).
 */
export function uniqueLabels(yTrue: readonly string[], yPred: readonly string[]): string[] {
  const set = new Set<string>();
  for (const l of yTrue) set.add(l);
  for (const l of yPred) set.add(l);
  return [...set].sort(comparePyStrings);
}

/**
 * Confusion matrix of string labels, as scikit-learn's
 * `sklearn.metrics.confusion_matrix(y_true, y_pred, labels=labels)`.
 *
 * Rows are true labels, columns predicted labels, both in the order of `labels` (default: the
 * sorted union of `yTrue` and `yPred`, see {@link uniqueLabels}). Samples whose true or predicted
 * label is not in `labels` are ignored, as in scikit-learn.
 *
 * @param yTrue - true labels, one per sample.
 * @param yPred - predicted labels, parallel to `yTrue`.
 * @param labels - optional row/column order; may be a subset or contain labels never seen.
 * @returns `{ labels, matrix }` with integer counts; with no samples and no `labels`, a 0×0 matrix.
 * @throws RangeError when the lengths differ, when `labels` is empty or has duplicates, or (as
 *   scikit-learn) when `labels` is given, there are samples, and none of `labels` occurs in `yTrue`.
 * @throws TypeError when a label is not a string.
 */
export function confusionMatrix(
  yTrue: readonly string[],
  yPred: readonly string[],
  labels?: readonly string[],
): ConfusionMatrix {
  checkTargets(yTrue, yPred, 'confusionMatrix');
  let labs: string[];
  if (labels === undefined) {
    labs = uniqueLabels(yTrue, yPred);
  } else {
    checkLabelList(labels, 'confusionMatrix');
    labs = [...labels];
    if (yTrue.length > 0) {
      const inTrue = new Set(yTrue);
      if (!labs.some((l) => inTrue.has(l))) {
        throw new RangeError('confusionMatrix: at least one label specified must be in yTrue');
      }
    }
  }
  const index = new Map<string, number>();
  labs.forEach((l, i) => index.set(l, i));
  const k = labs.length;
  const flat = new Float64Array(k * k);
  for (let s = 0; s < yTrue.length; s++) {
    const i = index.get(yTrue[s]!);
    const j = index.get(yPred[s]!);
    if (i !== undefined && j !== undefined) flat[i * k + j]! += 1;
  }
  const matrix: number[][] = [];
  for (let i = 0; i < k; i++) matrix.push(Array.from(flat.subarray(i * k, (i + 1) * k)));
  return { labels: labs, matrix };
}

/** Corner caption of {@link formatConfusionMatrix}'s table. */
const CORNER = 'true \\ predicted';

/**
 * Render a confusion matrix as a plain-text table for terminals and logs (no ANSI colours, fully
 * deterministic): a title line saying rows are true labels and columns predicted labels, a blank
 * line, a header row with the predicted labels, then one row per true label. Label names are
 * left-aligned in the first column, counts right-aligned, columns separated by two spaces; widths
 * count Unicode code points. The result ends with a newline.
 *
 * Example:
 * ```text
 * Confusion matrix (rows: true label, columns: predicted label)
 *
 * true \ predicted  BENIGN  DoS
 * BENIGN                 3    1
 * DoS                    0    2
 * ```
 *
 * @throws RangeError when `matrix` is not `labels.length × labels.length`.
 */
export function formatConfusionMatrix(cm: ConfusionMatrix): string {
  const { labels, matrix } = cm;
  const k = labels.length;
  if (matrix.length !== k || matrix.some((row) => row.length !== k)) {
    throw new RangeError(`formatConfusionMatrix: matrix must be ${k}×${k} to match labels`);
  }
  const cells = matrix.map((row) => row.map((v) => String(v)));
  const firstWidth = Math.max(pyLen(CORNER), ...labels.map(pyLen));
  const colWidths = labels.map((l, j) =>
    Math.max(pyLen(l), ...cells.map((row) => row[j]!.length)),
  );
  const padEnd = (s: string, w: number): string => s + ' '.repeat(Math.max(0, w - pyLen(s)));
  const line = (first: string, rest: string[]): string =>
    rest.length === 0
      ? first
      : [padEnd(first, firstWidth), ...rest.map((c, j) => pyRjust(c, colWidths[j]!))].join('  ');
  let out = 'Confusion matrix (rows: true label, columns: predicted label)\n\n';
  out += line(CORNER, labels) + '\n';
  for (let i = 0; i < k; i++) out += line(labels[i]!, cells[i]!) + '\n';
  return out;
}

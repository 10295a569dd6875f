/**
 * Evaluation stage: scikit-learn-compatible classification metrics and report, confusion matrix,
 * ranking metrics (ROC AUC, average precision), alert rates (false-positive and detection rates) and
 * Python-exact number formatting.
 */
export {
  classificationReport,
  classificationMetrics,
  precisionRecallFscoreSupport,
} from './report.js';
export type {
  AveragedScores,
  ClassificationMetrics,
  ClassificationOptions,
  ClassificationReportOptions,
  ClassMetrics,
  PrfSupport,
} from './report.js';
export { confusionMatrix, formatConfusionMatrix, uniqueLabels } from './confusion.js';
export type { ConfusionMatrix } from './confusion.js';
export { rocAucScore, averagePrecisionScore } from './ranking.js';
export { alertRates, formatAlertRates } from './rates.js';
export type { AlertRates, AttackClassRates } from './rates.js';
export { formatFixed, pairwiseSum, pyLen, pyRjust, comparePyStrings } from './pyformat.js';

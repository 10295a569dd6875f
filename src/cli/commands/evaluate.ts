/**
 * `flowsift evaluate CAPTURE... --labels FILE --model DIR [--json] [--threshold T]`: classification report +
 * confusion matrix; for an autoencoder also ROC AUC and PR AUC of its anomaly scores (attack vs BENIGN).
 */
import type { Command } from 'commander';
import { BENIGN } from '../../dataset/labels.js';
import { classificationMetrics, classificationReport } from '../../eval/report.js';
import { confusionMatrix, formatConfusionMatrix } from '../../eval/confusion.js';
import { averagePrecisionScore, rocAucScore } from '../../eval/ranking.js';
import type { AutoencoderDetector } from '../../model/autoencoder.js';
import { loadBundleAsync, ModelPipeline } from '../../model/bundle.js';
import { createMatrix } from '../../model/matrix.js';
import { UsageError } from '../errors.js';
import { addMeterOptions, loadInputs } from '../inputs.js';

/** Parses `--threshold` (a finite number ≥ 0). @throws UsageError */
export function thresholdOption(text: unknown): number {
  const t = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(t) || t < 0) throw new UsageError(`--threshold must be a number ≥ 0, got '${String(text)}'`);
  return t;
}

export function registerEvaluate(program: Command): void {
  addMeterOptions(
    program.command('evaluate')
      .description('predict the flows of labelled captures with a model; print scikit-learn\'s classification report and a confusion matrix')
      .argument('<input...>', 'labelled test captures (not the training ones), or flow tables (CSV with a Label column)')
      .requiredOption('--model <dir>', 'model bundle directory')
      .option('--labels <file>', 'label rules CSV: label,ip,start,end (epoch seconds)')
      .option('--label <name>', 'every flow has this true label')
      .option('--digits <n>', 'digits in the report', '2')
      .option('--threshold <t>', 'autoencoder: anomaly threshold on the reconstruction error (default: the one stored in the model)')
      .option('--json', 'print one JSON object {accuracy, macro_f1, weighted_f1, classes, confusion_matrix}')
      .option('--utc-offset <minutes>', 'flow tables: offset of their zone-less timestamps from UTC (CIC-IDS2017: -180)')
      .option('-q, --quiet', 'no capture summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    const digits = Number(o.digits);
    if (!Number.isInteger(digits) || digits < 0 || digits > 15) throw new UsageError(`--digits must be an integer 0..15, got '${String(o.digits)}'`);
    const threshold = o.threshold === undefined ? undefined : thresholdOption(o.threshold);
    const bundle = await loadBundleAsync(String(o.model));
    const detector = bundle.model.algo === 'autoencoder' ? (bundle.model as AutoencoderDetector) : null;
    if (threshold !== undefined) {
      if (!detector) throw new UsageError(`--threshold applies to autoencoder models; ${String(o.model)} holds a '${bundle.model.algo}' model`);
      detector.threshold = threshold;
    }
    const { records } = await loadInputs(captures, o, true, bundle.featureNames);
    if (records.rows === 0) throw new UsageError('the captures hold no IP flow to evaluate');
    const X = createMatrix(records.rows, records.names.length, [...records.names], records.data.subarray(0, records.rows * records.names.length));
    const pipeline = new ModelPipeline(bundle);
    let yTrue = records.labels;
    let yPred: string[];
    let ranking: { roc_auc: number | null; pr_auc: number | null; threshold: number } | null = null;
    if (detector) {
      // Anomaly detection: truth is attack (any label but BENIGN → ANOMALY) vs BENIGN.
      const scores = detector.scoreRows(pipeline.prepare(X));
      yPred = Array.from(scores, (s) => bundle.classNames[s >= detector.threshold ? 0 : 1]!);
      const y01 = records.labels.map((l) => (l === BENIGN ? 0 : 1));
      const safe = (f: () => number): number | null => {
        try {
          return f();
        } catch {
          return null; // one class only: not defined
        }
      };
      ranking = { roc_auc: safe(() => rocAucScore(y01, scores)), pr_auc: safe(() => averagePrecisionScore(y01, scores)), threshold: detector.threshold };
      yTrue = y01.map((v) => bundle.classNames[v === 1 ? 0 : 1]!);
    } else {
      yPred = Array.from(pipeline.predict(X), (k) => bundle.classNames[k]!);
    }
    if (o.json) {
      const m = classificationMetrics(yTrue, yPred);
      process.stdout.write(`${JSON.stringify({
        accuracy: m.accuracy, macro_f1: m.macro_f1, weighted_f1: m.weighted_f1, classes: m.classes,
        confusion_matrix: m.confusion_matrix, flows: records.rows, model: String(o.model),
        ...(ranking ? { roc_auc: ranking.roc_auc, pr_auc: ranking.pr_auc, threshold: ranking.threshold, detection: detectionRates(records.labels, yPred) } : {}),
      })}\n`);
      return;
    }
    process.stdout.write(classificationReport(yTrue, yPred, { digits }));
    const cm = formatConfusionMatrix(confusionMatrix(yTrue, yPred));
    process.stdout.write(`\n${cm}${cm.endsWith('\n') ? '' : '\n'}`);
    if (ranking) {
      const f = (v: number | null): string => (v === null ? 'n/a (one class only)' : v.toFixed(4));
      const rates = detectionRates(records.labels, yPred);
      const width = Math.max(...Object.keys(rates).map((l) => l.length));
      process.stdout.write([
        '',
        `anomaly score = reconstruction error; threshold ${ranking.threshold.toPrecision(6)}${threshold === undefined ? ' (stored)' : ' (--threshold)'}`,
        `ROC AUC (attack vs ${BENIGN}) ${f(ranking.roc_auc)}`,
        `PR AUC  (average precision) ${f(ranking.pr_auc)}`,
        'flagged as ANOMALY per true label:',
        ...Object.entries(rates).map(([l, r]) => `  ${l.padEnd(width)}  ${r.flagged.toLocaleString('en-US').padStart(9)} of ${r.flows.toLocaleString('en-US').padStart(9)}  ${(r.flagged / r.flows).toFixed(4)}`),
        '',
      ].join('\n'));
    }
  });
}

/** Per true label: flows and flows predicted ANOMALY (sorted by label). */
function detectionRates(labels: readonly string[], yPred: readonly string[]): Record<string, { flows: number; flagged: number }> {
  const m = new Map<string, { flows: number; flagged: number }>();
  labels.forEach((l, i) => {
    const e = m.get(l) ?? { flows: 0, flagged: 0 };
    e.flows++;
    if (yPred[i] === 'ANOMALY') e.flagged++;
    m.set(l, e);
  });
  return Object.fromEntries([...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/**
 * `flowsift evaluate [INPUT...] [--input PATH[:LABEL | :RULES.csv]]... (--label NAME | --labels FILE) --model DIR
 * [--json] [--threshold T]`: classification report + confusion matrix; for an autoencoder also ROC AUC and PR
 * AUC of its anomaly scores (attack vs BENIGN); then the alert rates (src/eval/rates.ts): the false-positive rate
 * on the BENIGN flows with the classes that fired, the detection rate on the attack flows with per-class
 * recall — one of them for benign-only or attack-only inputs — and, with several inputs, the same per input.
 */
import type { Command } from 'commander';
import { BENIGN } from '../../dataset/labels.js';
import { classificationMetrics, classificationReport } from '../../eval/report.js';
import { UNKNOWN } from '../../model/openset.js';
import { comparePyStrings } from '../../eval/pyformat.js';
import { confusionMatrix, formatConfusionMatrix } from '../../eval/confusion.js';
import { alertRates, formatAlertRates, type AlertRates } from '../../eval/rates.js';
import { averagePrecisionScore, rocAucScore } from '../../eval/ranking.js';
import type { AutoencoderDetector } from '../../model/autoencoder.js';
import { loadBundleAsync, ModelPipeline, type ModelBundle } from '../../model/bundle.js';
import { createMatrix } from '../../model/matrix.js';
import { nextDown } from '../../model/threshold.js';
import { UsageError } from '../errors.js';
import { addInputOption, addMeterOptions, loadInputs, sourceOfRows, TABLE_THREADS_HELP } from '../inputs.js';
import { groupDigits } from '../../dataset/format.js';

/** Parses `--threshold` (a finite number ≥ 0). @throws UsageError */
export function thresholdOption(text: unknown): number {
  const t = Number(text);
  if (typeof text !== 'string' || text.trim() === '' || !Number.isFinite(t) || t < 0) throw new UsageError(`--threshold must be a number ≥ 0, got '${String(text)}'`);
  return t;
}

/** Help text of `--threshold` (evaluate, score). */
export const THRESHOLD_HELP = 'alert threshold replacing the stored one: a classifier flags a flow when 1 − P(BENIGN) ≥ T (0..1; default: the threshold from train --target-fpr, else the most probable class), an autoencoder when its reconstruction error ≥ T';

/**
 * Applies `--threshold` to a loaded bundle's pipeline: a classifier's threshold on the attack probability (a
 * number in [0, 1], needs a BENIGN class), an autoencoder's anomaly threshold (≥ 0).
 * @returns the threshold given, or undefined without `--threshold`
 * @throws UsageError for a bad value or a classifier without a BENIGN class
 */
export function applyThresholdOption(pipeline: ModelPipeline, o: Record<string, unknown>): number | undefined {
  if (o.threshold === undefined) return undefined;
  const t = thresholdOption(o.threshold);
  if (pipeline.model.algo !== 'autoencoder') {
    if (t > 1) throw new UsageError(`--threshold on a classifier is a probability (1 − P(${BENIGN}) ≥ T), 0..1; got '${String(o.threshold)}'`);
    if (pipeline.benignIndex < 0) throw new UsageError(`--threshold needs a ${BENIGN} class; ${String(o.model)} has ${pipeline.classNames.join(', ')}`);
  }
  pipeline.threshold = t;
  return t;
}

/** One line saying how flows are flagged: the threshold and where it came from. */
export function decisionLine(bundle: ModelBundle, pipeline: ModelPipeline, override: number | undefined): string {
  const t = pipeline.threshold;
  if (t === null) return 'decision: the most probable class (no alert threshold stored; train --target-fpr or --threshold sets one)';
  const what = pipeline.model.algo === 'autoencoder' ? 'reconstruction error' : `1 − P(${BENIGN})`;
  const a = bundle.alert;
  const origin = override !== undefined ? '--threshold'
    : a ? `stored: target FPR ${a.targetFpr}, ${groupDigits(a.heldOutFlagged)}/${groupDigits(a.heldOutFlows)} = ${a.heldOutFpr.toFixed(4)} on held-out ${BENIGN} flows`
      : 'stored';
  // A calibrated threshold is the double just above the boundary score: say "> boundary", the readable form.
  const rule = override === undefined && a && t > 0 ? `> ${nextDown(t)}` : `≥ ${t}`;
  return `decision: flagged when ${what} ${rule} (${origin})`;
}

export function registerEvaluate(program: Command): void {
  addMeterOptions(addInputOption(
    program.command('evaluate')
      .description('predict the flows of labelled captures with a model; print scikit-learn\'s classification report, a confusion matrix, the false-positive and detection rates')
      .argument('[input...]', 'labelled test captures (not the training ones; labelled by --label/--labels), directories of captures, or flow tables (CSV with a Label column)')
      .requiredOption('--model <dir>', 'model bundle directory')
      .option('--labels <file>', 'label rules CSV: label,ip,start,end (epoch seconds)')
      .option('--label <name>', 'every flow has this true label')
      .option('--digits <n>', 'digits in the report', '2')
      .option('--threshold <t>', THRESHOLD_HELP)
      .option('--json', 'print one JSON object {accuracy, macro_f1, weighted_f1, classes, confusion_matrix, rates, …}')
      .option('--utc-offset <minutes>', 'flow tables: offset of their zone-less timestamps from UTC (CIC-IDS2017: -180)')
      .option('--threads <n>', TABLE_THREADS_HELP)
      .option('-q, --quiet', 'no capture summary on stderr'),
    'test',
  )).action(async (captures: string[], o: Record<string, unknown>) => {
    const digits = Number(o.digits);
    if (!Number.isInteger(digits) || digits < 0 || digits > 15) throw new UsageError(`--digits must be an integer 0..15, got '${String(o.digits)}'`);
    if (o.threshold !== undefined) thresholdOption(o.threshold); // a bad value fails before the inputs are read
    const bundle = await loadBundleAsync(String(o.model));
    const detector = bundle.model.algo === 'autoencoder' ? (bundle.model as AutoencoderDetector) : null;
    const pipeline = new ModelPipeline(bundle);
    const threshold = applyThresholdOption(pipeline, o);
    const loaded = await loadInputs(captures, o, true, bundle.featureNames);
    const { records } = loaded;
    if (records.rows === 0) throw new UsageError('the captures hold no IP flow to evaluate');
    const X = createMatrix(records.rows, records.names.length, [...records.names], records.data.subarray(0, records.rows * records.names.length));
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
      yPred = pipeline.predictLabels(X); // the open-set guard applied: UNKNOWN is a prediction of its own
    }
    // Alert rates on the original labels (for an autoencoder: its ANOMALY/BENIGN predictions against them).
    const rates = alertRates(records.labels, yPred);
    const rowSource = sourceOfRows(records, loaded);
    const perSource = loaded.sources.length > 1
      ? loaded.sources.map((s, i) => {
        const t: string[] = [], p: string[] = [];
        for (let r = 0; r < records.rows; r++) if (rowSource[r] === i) { t.push(records.labels[r]!); p.push(yPred[r]!); }
        return { input: s.arg, files: s.files.length, labels: s.labels, flows: t.length, rates: alertRates(t, p) };
      })
      : null;
    // UNKNOWN (the open-set guard's abstention) is not a class: the report covers the true labels and the classes
    // predicted, as scikit-learn's default, minus UNKNOWN (scikit-learn's `labels=`); an UNKNOWN flow counts as a
    // miss of its true class. The count is printed beside the report.
    const unknownRows = yPred.reduce((n, p) => n + (p === UNKNOWN ? 1 : 0), 0);
    const reportLabels = unknownRows > 0 && !detector
      ? [...new Set([...yTrue, ...yPred])].filter((l) => l !== UNKNOWN).sort(comparePyStrings)
      : undefined;
    if (o.json) {
      const m = classificationMetrics(yTrue, yPred, { labels: reportLabels });
      process.stdout.write(`${JSON.stringify({
        accuracy: m.accuracy, macro_f1: m.macro_f1, weighted_f1: m.weighted_f1, classes: m.classes,
        confusion_matrix: m.confusion_matrix, flows: records.rows, model: String(o.model), unknown: unknownRows,
        ...(ranking ? { roc_auc: ranking.roc_auc, pr_auc: ranking.pr_auc, threshold: ranking.threshold, detection: detectionRates(records.labels, yPred) } : {}),
        decision: { threshold: pipeline.threshold, source: threshold !== undefined ? '--threshold' : pipeline.threshold === null ? 'argmax' : 'stored', alert: bundle.alert ?? null },
        rates: ratesJSON(rates, !detector),
        ...(perSource ? { sources: perSource.map((s) => ({ ...s, rates: ratesJSON(s.rates, !detector) })) } : {}),
      })}\n`);
      return;
    }
    process.stdout.write(classificationReport(yTrue, yPred, { digits, labels: reportLabels }));
    if (unknownRows > 0) {
      const by = new Map<string, number>();
      for (let r = 0; r < yPred.length; r++) if (yPred[r] === UNKNOWN) by.set(yTrue[r]!, (by.get(yTrue[r]!) ?? 0) + 1);
      const parts = [...by].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l} ${groupDigits(n)}`);
      process.stdout.write(`\n${UNKNOWN}: ${groupDigits(unknownRows)} flows unlike every training class (open-set guard), counted as misses above; true labels: ${parts.join(', ')}\n`);
    }
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
        ...Object.entries(rates).map(([l, r]) => `  ${l.padEnd(width)}  ${groupDigits(r.flagged).padStart(9)} of ${groupDigits(r.flows).padStart(9)}  ${(r.flagged / r.flows).toFixed(4)}`),
        '',
      ].join('\n'));
    }
    const recall = { recall: !detector };
    const out = ['', decisionLine(bundle, pipeline, threshold), ...formatAlertRates(rates, recall)];
    if (perSource) {
      for (const s of perSource) {
        out.push('', `input ${s.input} (${s.labels}): ${groupDigits(s.flows)} flows`, ...formatAlertRates(s.rates, recall).map((l) => `  ${l}`));
      }
    }
    process.stdout.write(`${out.join('\n')}\n`);
  });
}

/**
 * JSON of {@link AlertRates} with scikit-learn-style snake_case keys. `recall` false (an anomaly detector, whose
 * only attack class is ANOMALY): per-class recall is null, not 0.
 */
function ratesJSON(r: AlertRates, recall = true): Record<string, unknown> {
  return {
    benign_flows: r.benignFlows, false_positives: r.falsePositives, fpr: r.fpr, fired: r.fired,
    attack_flows: r.attackFlows, detected: r.detected, detection_rate: r.detectionRate,
    per_class: Object.fromEntries(Object.entries(r.perClass).map(([l, c]) => [l, { flows: c.flows, detected: c.detected, detection_rate: c.detectionRate, recall: recall ? c.recall : null }])),
  };
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

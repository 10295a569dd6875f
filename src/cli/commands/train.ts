/**
 * `flowsift train [INPUT...] [--input PATH[:LABEL | :RULES.csv]]... (--label NAME | --labels FILE) --model DIR
 * [--algo tree|forest|gbt|mlp|autoencoder] [--max-depth N] [--epochs N] [--class-weight balanced]
 * [--target-fpr F]`.
 *
 * `--target-fpr F` calibrates an alert threshold (src/model/threshold.ts) stored in the bundle: classifiers hold
 * out about {@link CALIBRATION_FRACTION} of the BENIGN training flows — whole captures when the BENIGN flows
 * come from several (src/dataset/split.ts `holdOutClassByGroup`), single flows otherwise; seeded by --seed; taken
 * from the training part when --test-split is given, so the held-out report measures the FPR on flows that set
 * neither the model nor the threshold — fit on the rest and set the threshold on the attack probability of the
 * held-out BENIGN flows; the autoencoder sets it on the anomaly scores of its own held-out calibration flows.
 */
import type { Command } from 'commander';
import { BENIGN } from '../../dataset/labels.js';
import type { FlowRecords } from '../../dataset/collect.js';
import { AUTOENCODER_CLASS_NAMES, loadBundleAsync, ModelPipeline, saveBundle } from '../../model/bundle.js';
import { createMatrix, selectRows } from '../../model/matrix.js';
import { StandardScaler } from '../../model/scaler.js';
import { DecisionTreeClassifier } from '../../model/tree.js';
import { RandomForestClassifier } from '../../model/forest.js';
import { GradientBoostingClassifier } from '../../model/gbt.js';
import { UsageError } from '../errors.js';
import { holdOutClass, holdOutClassByGroup, splitRows, type SplitMode } from '../../dataset/split.js';
import { classificationReport } from '../../eval/report.js';
import { alertRates, formatAlertRates } from '../../eval/rates.js';
import type { AlertThreshold } from '../../model/bundle.js';
import type { Classifier } from '../../model/tree.js';
import { attackProbability, calibrateThreshold, type ThresholdCalibration } from '../../model/threshold.js';
import { rocAucScore } from '../../eval/ranking.js';
import { permutationImportance, rankImportances, sampleRows } from '../../model/importance.js';
import type { FeatureMatrix } from '../../model/matrix.js';
import type { MLPClassifier } from '../../model/mlp.js';
import type { AutoencoderDetector } from '../../model/autoencoder.js';
import { addInputOption, addMeterOptions, loadInputs, featureList, labelCounts, TABLE_THREADS_HELP } from '../inputs.js';
import { VERSION } from '../version.js';
import { OpenSetGuard } from '../../model/openset.js';
import { groupDigits } from '../../dataset/format.js';

/** Parses a positive integer option. @throws UsageError */
export function positiveInt(name: string, text: unknown): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer, got '${String(text)}'`);
  return v;
}

export function registerTrain(program: Command): void {
  addMeterOptions(addInputOption(
    program.command('train')
      .description('extract flows, standardize features (fit on these flows) and fit a decision tree; save a model bundle')
      .argument('[input...]', 'labelled training captures (labelled by --label/--labels), directories of captures, or flow tables (CSV with a Label column: flowsift extract, CICFlowMeter, CIC-IDS2017)')
      .requiredOption('--model <dir>', 'model bundle directory to write (model.json)')
      .option('--label <name>', 'give every flow this label')
      .option('--labels <file>', 'label rules CSV: label,ip,start,end (epoch seconds)')
      .option('--max-depth <n>', 'maximum tree depth (default: unlimited)')
      .option('--min-samples-leaf <n>', 'minimum flows per leaf (default: 1 for tree and forest, 20 for gbt, as scikit-learn)')
      .option('--class-weight <mode>', "'balanced' weighs classes inversely to their frequency (default: none)")
      .option('--features <list>', "model inputs: 'travel' (default: the 35 features that held up on other networks' traffic, docs/feature-study.md), 'all' (CICFlowMeter's 76) or a comma-separated list of feature names")
      .option('--seed <n>', 'random seed (tree: tie-breaking between equal splits; mlp/autoencoder: every random choice)', '0')
      .option('--algo <name>', 'tree (CART), forest (random forest), gbt (histogram gradient boosting), mlp (neural network classifier) or autoencoder (anomaly detector trained on the BENIGN flows only)', 'tree')
      .option('--trees <n>', 'forest: number of trees; gbt: boosting iterations', '100')
      .option('--test-split <fraction>', 'hold out this share of the flows (e.g. 0.3), train on the rest, print the report on the held-out part')
      .option('--split <mode>', "with --test-split: 'stratified' (each class in proportion, seeded by --seed) or 'time' (the latest flows of each input file are the test part)", 'stratified')
      .option('--epochs <n>', 'mlp/autoencoder: maximum training epochs (early stopping may end sooner)')
      .option('--no-open-set', 'classifiers: do not fit the open-set guard (by default a flow unlike every training flow of the attack class predicted for it is reported as UNKNOWN)')
      .option('--target-fpr <rate>', `calibrate an alert threshold so that at most this share of held-out BENIGN flows is flagged (e.g. 0.01); classifiers hold out about ${CALIBRATION_FRACTION * 100}% of the BENIGN training flows for it (whole captures when they come from several)`)
      .option('--utc-offset <minutes>', 'flow tables: offset of their zone-less timestamps from UTC (CIC-IDS2017: -180)')
      .option('--threads <n>', TABLE_THREADS_HELP)
      .option('-q, --quiet', 'no summary on stderr'),
    'training',
  )).action(async (captures: string[], o: Record<string, unknown>) => {
    const maxDepth = o.maxDepth === undefined ? null : positiveInt('--max-depth', o.maxDepth);
    const minSamplesLeaf = o.minSamplesLeaf === undefined ? undefined : positiveInt('--min-samples-leaf', o.minSamplesLeaf);
    if (o.classWeight !== undefined && o.classWeight !== 'balanced') throw new UsageError("--class-weight takes 'balanced'");
    const seed = Number(o.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${String(o.seed)}'`);
    const features = featureList(o);
    const algo = String(o.algo);
    if (!ALGOS.includes(algo)) throw new UsageError(`--algo must be one of ${ALGOS.join(', ')}, got '${algo}'`);
    const treeFamily = algo === 'tree' || algo === 'forest' || algo === 'gbt';
    if (!treeFamily && o.maxDepth !== undefined) throw new UsageError('--max-depth applies to --algo tree, forest and gbt');
    if (treeFamily && o.epochs !== undefined) throw new UsageError('--epochs applies to --algo mlp and autoencoder only');
    const nTrees = positiveInt('--trees', o.trees);
    if (algo === 'autoencoder' && o.classWeight !== undefined) throw new UsageError('--class-weight does not apply to --algo autoencoder');
    const epochs = o.epochs === undefined ? undefined : positiveInt('--epochs', o.epochs);
    let targetFpr: number | undefined;
    if (o.targetFpr !== undefined) {
      targetFpr = Number(o.targetFpr);
      if (typeof o.targetFpr !== 'string' || o.targetFpr.trim() === '' || !(targetFpr > 0 && targetFpr < 1)) throw new UsageError(`--target-fpr must be a rate between 0 and 1 (e.g. 0.01), got '${String(o.targetFpr)}'`);
    }

    const t0 = performance.now();
    let testSplit: number | undefined;
    if (o.testSplit !== undefined) {
      testSplit = Number(o.testSplit);
      if (!(testSplit > 0 && testSplit < 1)) throw new UsageError(`--test-split must be a fraction between 0 and 1, got '${String(o.testSplit)}'`);
      if (o.split !== 'stratified' && o.split !== 'time') throw new UsageError(`--split must be stratified or time, got '${String(o.split)}'`);
      if (algo === 'autoencoder') throw new UsageError('--test-split applies to classifiers; evaluate an autoencoder with flowsift evaluate on other captures');
    }
    const loaded = await loadInputs(captures, o, true, features);
    const labels = loaded.labels;
    const inputFiles = loaded.sources.flatMap((s) => s.files);
    let records = loaded.records;
    let holdout: FlowRecords | null = null;
    if (testSplit !== undefined) {
      const parts = splitRows(records, testSplit, o.split as SplitMode, seed);
      process.stdout.write(`split: ${groupDigits(parts.test.length)} of ${groupDigits(records.rows)} flows held out for testing (${o.split === 'time' ? 'time-ordered: the latest flows of each input file' : `stratified by class, seed ${seed}`}); training on ${groupDigits(parts.train.length)}\n`);
      holdout = records.subset(parts.test);
      records = records.subset(parts.train);
    }
    const tExtract = (performance.now() - t0) / 1000;
    if (records.rows === 0) throw new UsageError('the training captures hold no IP flow');
    let calibration: FlowRecords | null = null;
    if (targetFpr !== undefined && algo !== 'autoencoder') {
      const nBenign = records.labels.reduce((n, l) => n + (l === BENIGN ? 1 : 0), 0);
      if (nBenign < 2) throw new UsageError(`--target-fpr calibrates on held-out ${BENIGN} flows; the training flows have ${nBenign} (at least 2 needed)`);
      // Whole captures when the BENIGN flows come from several (flows of one capture resemble each other: a
      // threshold set on flows of the captures fitted on is optimistic on new traffic); else single flows.
      const byCapture = holdOutClassByGroup(records, BENIGN, CALIBRATION_FRACTION, records.source, seed);
      const parts = byCapture ?? holdOutClass(records, BENIGN, CALIBRATION_FRACTION, seed);
      calibration = records.subset(parts.held);
      records = records.subset(parts.rest);
      const how = byCapture ? `whole captures: ${byCapture.groups} of the ${byCapture.groupsOfClass} with ${BENIGN} flows` : 'single flows';
      process.stdout.write(`calibration: ${groupDigits(calibration.rows)} of ${groupDigits(nBenign)} ${BENIGN} training flows held out for the alert threshold (${how}, seed ${seed}); fitting on ${groupDigits(records.rows)}\n`);
    }
    const counts = labelCounts(records.labels);
    const classNames = counts.map(([l]) => l);
    const classIndex = new Map(classNames.map((c, i) => [c, i]));
    const y = Int32Array.from(records.labels, (l) => classIndex.get(l)!);
    if (!treeFamily) {
      await trainNetwork(algo, inputFiles, o, { records, features, counts, classNames, y, seed, epochs, tExtract, labels, calibration, targetFpr, sources: sourcesJSON(loaded) });
      if (holdout) await reportHoldout(String(o.model), holdout);
      return;
    }

    const t1 = performance.now();
    const X = createMatrix(records.rows, features.length, features, records.select(features));
    const scaler = new StandardScaler().fit(X);
    const Xs = scaler.transform(X);
    const classWeight = o.classWeight === 'balanced' ? 'balanced' as const : null;
    let tree: DecisionTreeClassifier | RandomForestClassifier | GradientBoostingClassifier;
    let shape: string;
    if (algo === 'forest') {
      const forest = new RandomForestClassifier({ nEstimators: nTrees, maxDepth, minSamplesLeaf: minSamplesLeaf ?? 1, classWeight, randomState: seed });
      await forest.fitAsync(Xs, y, classNames.length);
      tree = forest;
      shape = `${nTrees} trees (bootstrap, sqrt(features) per split)`;
    } else if (algo === 'gbt') {
      const gbt = new GradientBoostingClassifier({ nEstimators: nTrees, maxDepth: maxDepth ?? undefined, classWeight, randomState: seed, ...(minSamplesLeaf !== undefined ? { minSamplesLeaf } : {}) });
      gbt.fit(Xs, y, classNames.length);
      tree = gbt;
      shape = `${nTrees} boosting iterations`;
    } else {
      const t = new DecisionTreeClassifier({ maxDepth, minSamplesLeaf: minSamplesLeaf ?? 1, classWeight, randomState: seed }).fit(Xs, y, classNames.length);
      tree = t;
      shape = `depth ${t.depth}, ${t.leafCount} leaves`;
    }
    const tFit = (performance.now() - t1) / 1000;
    const alert = calibration && targetFpr !== undefined ? calibrateClassifier(tree, scaler, features, classNames, calibration, targetFpr) : null;
    const guard = o.openSet === false ? null : fitOpenSet(Xs, y, classNames, seed);

    const importances = [...tree.featureImportances].map((v, i) => [features[i], v] as const)
      .filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
    const trainAcc = accuracy(tree.predict(Xs), y);
    saveBundle(String(o.model), {
      featureNames: features,
      classNames,
      scaler,
      model: tree,
      flowsiftVersion: VERSION,
      ...(alert ? { alert: alert.alert } : {}),
      ...(guard ? { openSet: guard.guard } : {}),
      training: {
        captures: inputFiles,
        ...sourcesJSON(loaded),
        labels,
        flows: records.rows,
        flowsPerClass: Object.fromEntries(counts),
        algo,
        params: { maxDepth, minSamplesLeaf: minSamplesLeaf ?? (algo === 'gbt' ? (tree as GradientBoostingClassifier).params.minSamplesLeaf : 1), classWeight: o.classWeight ?? null, seed, ...(algo !== 'tree' ? { trees: nTrees } : {}) },
        meter: { idleTimeoutS: Number(o.idleTimeout), activeTimeoutS: Number(o.activeTimeout), tcpTermination: o.tcpTermination !== false, tunnels: o.tunnels !== false },
        shape,
        trainingAccuracy: trainAcc,
        extractSeconds: tExtract,
        fitSeconds: tFit,
        topFeatures: importances.slice(0, 10).map(([n, v]) => ({ feature: n, importance: v })),
      },
    });

    const lines = [
      `trained ${ALGO_NAMES[algo]} on ${groupDigits(records.rows)} flows, ${features.length} features`,
      ...classLines(counts, classWeight !== null),
      `${shape}, training accuracy ${trainAcc.toFixed(4)}`,
      `time: extract ${tExtract.toFixed(2)} s, scale + fit ${tFit.toFixed(2)} s`,
      'top features (impurity decrease):',
      ...importances.slice(0, 8).map(([n, v]) => `  ${v.toFixed(4)}  ${n}`),
      ...(alert ? alert.lines : []),
      ...(guard ? guard.lines : []),
      `model written to ${String(o.model)}/model.json`,
    ];
    // The training summary is the command's result: stdout.
    process.stdout.write(`${lines.join('\n')}\n`);
    if (holdout) await reportHoldout(String(o.model), holdout);
  });
}

/** Algorithms of `train --algo`. */
const ALGOS = ['tree', 'forest', 'gbt', 'mlp', 'autoencoder'];
const ALGO_NAMES: Record<string, string> = { tree: 'decision tree', forest: 'random forest', gbt: 'gradient-boosted trees' };

/**
 * Predicts the held-out flows with the bundle just written (its alert threshold included) and prints the
 * classification report, then the false-positive and detection rates.
 */
async function reportHoldout(dir: string, holdout: FlowRecords): Promise<void> {
  const bundle = await loadBundleAsync(dir);
  const names = [...holdout.names];
  const X = createMatrix(holdout.rows, names.length, names, holdout.data.subarray(0, holdout.rows * names.length));
  const pred = new ModelPipeline(bundle).predictLabels(X); // the open-set guard applied (UNKNOWN)
  const rates = formatAlertRates(alertRates(holdout.labels, pred));
  process.stdout.write(`\nheld-out flows (${groupDigits(holdout.rows)}):\n${classificationReport(holdout.labels, pred, { digits: 4 })}\n${rates.join('\n')}\n`);
}

/** Share of the BENIGN training flows a classifier holds out to calibrate `--target-fpr`'s threshold. */
export const CALIBRATION_FRACTION = 0.2;

/** The training summary's `sources` (one entry per input) when there are several inputs or any --input. */
function sourcesJSON(loaded: Awaited<ReturnType<typeof loadInputs>>): { sources?: { input: string; files: number; labels: string }[] } {
  if (loaded.sources.length < 2 && !loaded.sources[0]?.directory) return {};
  return { sources: loaded.sources.map((s) => ({ input: s.arg, files: s.files.length, labels: s.labels })) };
}

/**
 * One line per class: flows and, with `--class-weight balanced`, the class weight n / (classes · n_class)
 * (scikit-learn's `compute_class_weight('balanced')`).
 */
function classLines(counts: readonly [string, number][], balanced: boolean): string[] {
  const width = Math.max(...counts.map(([c]) => c.length), 5);
  const n = counts.reduce((s, [, c]) => s + c, 0);
  return counts.map(([c, k]) => `  ${c.padEnd(width)}  ${groupDigits(k).padStart(9)} flows${balanced ? `  weight ${(n / (counts.length * k)).toPrecision(4)}` : ''}`);
}

/** An alert threshold with the summary lines that describe it. */
interface CalibratedAlert {
  alert: AlertThreshold;
  lines: string[];
}

/** Stores a calibration as a bundle's alert threshold; warns on stderr when its resolution is coarse. */
function alertFrom(cal: ThresholdCalibration, score: AlertThreshold['score'], scoreName: string, what: string): CalibratedAlert {
  if (cal.resolutionWarning) process.stderr.write(`flowsift: warning: --target-fpr: ${cal.resolutionWarning}\n`);
  return {
    alert: { score, threshold: cal.threshold, targetFpr: cal.targetFpr, heldOutFlows: cal.heldOutFlows, heldOutFlagged: cal.heldOutFlagged, heldOutFpr: cal.heldOutFpr },
    lines: [
      `alert threshold: flag a flow when ${scoreName} > ${cal.boundary} (stored as ≥ ${cal.threshold}), for a false-positive rate ≤ ${cal.targetFpr}`,
      `  on ${groupDigits(cal.heldOutFlows)} held-out ${BENIGN} flows (${what}): ${groupDigits(cal.heldOutFlagged)} flagged, FPR ${cal.heldOutFpr.toFixed(4)}`,
    ],
  };
}

/**
 * `--target-fpr` for a classifier: the threshold on the attack probability 1 − P(BENIGN) of the held-out
 * BENIGN flows `calibration` (never fitted on). Warns when the model cannot meet the target with any threshold
 * it can reach (more held-out BENIGN flows than allowed have attack probability 1: no flow can be flagged).
 */
function calibrateClassifier(
  model: Classifier, scaler: StandardScaler, features: readonly string[], classNames: readonly string[], calibration: FlowRecords, targetFpr: number,
): CalibratedAlert {
  const Xc = scaler.transform(createMatrix(calibration.rows, features.length, [...features], calibration.select(features)));
  const p = model.predictProba(Xc);
  const k = classNames.length, benign = classNames.indexOf(BENIGN);
  const scores = Float64Array.from({ length: calibration.rows }, (_, r) => attackProbability(p, benign, r * k));
  const cal = calibrateThreshold(scores, targetFpr);
  const out = alertFrom(cal, 'attack-probability', `P(not ${BENIGN})`, 'not fitted on');
  if (cal.threshold > 1) {
    const ones = scores.reduce((n, v) => n + (v === 1 ? 1 : 0), 0);
    process.stderr.write(`flowsift: warning: --target-fpr ${targetFpr}: ${ones} of the ${cal.heldOutFlows} held-out ${BENIGN} flows have P(not ${BENIGN}) = 1, more than the target allows: the threshold lies above 1 and no flow will be flagged (raise --target-fpr, or give --threshold to evaluate and score)\n`);
  }
  return out;
}

function accuracy(pred: Int32Array, y: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return y.length ? ok / y.length : 0;
}

interface NetworkJob {
  records: FlowRecords;
  features: string[];
  counts: [string, number][];
  classNames: string[];
  y: Int32Array;
  seed: number;
  epochs: number | undefined;
  tExtract: number;
  labels: string;
  /** Held-out BENIGN flows for the MLP's --target-fpr threshold (null without --target-fpr). */
  calibration: FlowRecords | null;
  targetFpr: number | undefined;
  /** The training summary's `sources`, when there are several inputs. */
  sources: ReturnType<typeof sourcesJSON>;
}

/**
 * `--algo mlp | autoencoder`: TensorFlow.js (imported only here). The MLP trains on every flow; the
 * autoencoder, and its scaler, on the BENIGN flows only (class names ANOMALY, BENIGN).
 */
async function trainNetwork(algo: string, captures: string[], o: Record<string, unknown>, job: NetworkJob): Promise<void> {
  const { records, features, counts, classNames, y, seed, epochs, tExtract } = job;
  const t1 = performance.now();
  const all = createMatrix(records.rows, features.length, features, records.select(features));
  const meter = { idleTimeoutS: Number(o.idleTimeout), activeTimeoutS: Number(o.activeTimeout), tcpTermination: o.tcpTermination !== false, tunnels: o.tunnels !== false };
  const perClass = classLines(counts, algo === 'mlp' && o.classWeight === 'balanced');
  const dir = String(o.model);
  let lines: string[];
  let alert: CalibratedAlert | null = null;
  let guard: FittedGuard | null = null;
  if (algo === 'mlp') {
    const { MLPClassifier } = await import('../../model/mlp.js');
    const scaler = new StandardScaler().fit(all);
    const Xs = scaler.transform(all);
    const mlp = await new MLPClassifier({ seed, epochs, classWeight: o.classWeight === 'balanced' ? 'balanced' : null }).fit(Xs, y, classNames.length);
    const tFit = (performance.now() - t1) / 1000;
    const trainAcc = accuracy(mlp.predict(Xs), y);
    if (job.calibration && job.targetFpr !== undefined) alert = calibrateClassifier(mlp, scaler, features, classNames, job.calibration, job.targetFpr);
    if (o.openSet !== false) guard = fitOpenSet(Xs, y, classNames, seed);
    const h = mlp.history!;
    const imp = mlpImportance(mlp, Xs, y, seed);
    saveBundle(dir, {
      featureNames: features, classNames, scaler, model: mlp, flowsiftVersion: VERSION, ...(alert ? { alert: alert.alert } : {}), ...(guard ? { openSet: guard.guard } : {}),
      training: {
        captures, ...job.sources, labels: job.labels, flows: records.rows, flowsPerClass: Object.fromEntries(counts), algo: 'mlp',
        params: { ...mlp.params, seed }, meter, epochs: h.epochs, bestEpoch: h.bestEpoch, backend: h.backend,
        trainingAccuracy: trainAcc, extractSeconds: tExtract, fitSeconds: tFit, ...importanceJSON(imp),
      },
    });
    lines = [
      `trained MLP [${mlp.params.hiddenLayers.join(', ')}] on ${groupDigits(records.rows)} flows, ${features.length} features`,
      ...perClass,
      `${h.epochs} epochs (weights of epoch ${h.bestEpoch}${h.stoppedEarly ? ', early stop' : ''}), training accuracy ${trainAcc.toFixed(4)}`,
      `time: extract ${tExtract.toFixed(2)} s, scale + fit ${tFit.toFixed(2)} s (TensorFlow.js ${h.backend})`,
      ...importanceLines(imp),
    ];
  } else {
    const benign: number[] = [];
    records.labels.forEach((l, i) => {
      if (l === BENIGN) benign.push(i);
    });
    if (benign.length < 10) throw new UsageError(`--algo autoencoder trains on ${BENIGN} flows; the training captures have ${benign.length} (at least 10 needed)`);
    const { AutoencoderDetector } = await import('../../model/autoencoder.js');
    const Xb = selectRows(all, benign);
    const scaler = new StandardScaler().fit(Xb);
    const det = await new AutoencoderDetector({ seed, epochs }).fit(scaler.transform(Xb));
    const tFit = (performance.now() - t1) / 1000;
    const h = det.history!;
    const cal = det.calibration!;
    if (job.targetFpr !== undefined) {
      // The same rule as for classifiers, on the anomaly scores of the detector's held-out calibration flows.
      const held = Array.from(det.lastSplit!.calibration, (i) => benign[i]!);
      const c = calibrateThreshold(det.scoreRows(scaler.transform(selectRows(all, held))), job.targetFpr);
      det.threshold = c.threshold;
      alert = alertFrom(c, 'anomaly-score', 'the reconstruction error', 'held out from fitting and early stopping');
    }
    const imp = autoencoderImportance(det, all, scaler, benign, records.labels, seed);
    saveBundle(dir, {
      featureNames: features, classNames: [...AUTOENCODER_CLASS_NAMES], scaler, model: det, flowsiftVersion: VERSION, ...(alert ? { alert: alert.alert } : {}),
      training: {
        captures, ...job.sources, labels: job.labels, flows: records.rows, flowsPerClass: Object.fromEntries(counts), benignFlows: benign.length,
        algo: 'autoencoder', params: { ...det.params }, meter, epochs: h.epochs, bestEpoch: h.bestEpoch, backend: h.backend,
        threshold: det.threshold, calibration: cal, extractSeconds: tExtract, fitSeconds: tFit, ...importanceJSON(imp),
      },
    });
    lines = [
      `trained autoencoder [${det.params.hiddenLayers.join(', ')}] on ${groupDigits(benign.length)} ${BENIGN} flows of ${groupDigits(records.rows)}, ${features.length} features`,
      ...perClass,
      ...(alert ? alert.lines : [`threshold ${det.threshold.toPrecision(6)}: the ${cal.quantile} quantile of the reconstruction errors of ${cal.rows} held-out ${BENIGN} flows`]),
      `${h.epochs} epochs (weights of epoch ${h.bestEpoch}${h.stoppedEarly ? ', early stop' : ''})`,
      `time: extract ${tExtract.toFixed(2)} s, scale + fit ${tFit.toFixed(2)} s (TensorFlow.js ${h.backend})`,
      ...importanceLines(imp),
    ];
  }
  if (alert && algo === 'mlp') lines.push(...alert.lines);
  if (guard) lines.push(...guard.lines);
  lines.push(`model written to ${dir}/model.json and ${dir}/weights.bin`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Permutation importance of the networks (trees print their impurity-decrease importances instead)
// ---------------------------------------------------------------------------------------------------

/** Held-out rows scored by permutation importance at most: its cost is 1 + features × repeats predictions of them. */
const IMPORTANCE_MAX_ROWS = 5000;
/** Shuffles per feature (scikit-learn's default `n_repeats`). */
const IMPORTANCE_REPEATS = 5;

/** Permutation importance of a trained network on held-out rows, as printed and stored in the bundle. */
interface NetworkImportance {
  /** What the importance is the drop of, and on which rows (the start of the printed line). */
  what: string;
  score: 'accuracy' | 'roc_auc' | 'neg_mean_reconstruction_error';
  rows: number;
  baseline: number;
  seconds: number;
  ranked: { feature: string; importance: number; std: number }[];
}

function runImportance(score: (X: FeatureMatrix) => number, X: FeatureMatrix, seed: number, what: string, kind: NetworkImportance['score']): NetworkImportance {
  const t0 = performance.now();
  const r = permutationImportance(score, X, IMPORTANCE_REPEATS, seed % 2 ** 32);
  return { what, score: kind, rows: X.rows, baseline: r.baseline, seconds: (performance.now() - t0) / 1000, ranked: rankImportances(r, X.names) };
}

/**
 * MLP: accuracy drop (scikit-learn's default score for classifiers) on the validation rows of the MLP's early
 * stopping (its stratified, seeded split of the training flows; not fitted on), at most
 * {@link IMPORTANCE_MAX_ROWS} of them (seeded sample). Null with fewer than 2 validation rows.
 */
function mlpImportance(mlp: MLPClassifier, Xs: FeatureMatrix, y: Int32Array, seed: number): NetworkImportance | null {
  const val = mlp.lastSplit?.validation;
  if (!val || val.length < 2) return null;
  const pick = sampleRows(val.length, IMPORTANCE_MAX_ROWS, seed % 2 ** 32);
  const rows = Array.from(pick, (i) => val[i]!);
  const yv = Int32Array.from(rows, (i) => y[i]!);
  const score = (X: FeatureMatrix): number => accuracy(mlp.predict(X), yv);
  return runImportance(score, selectRows(Xs, rows), seed, `accuracy drop on ${groupDigits(rows.length)} validation flows`, 'accuracy');
}

/**
 * Autoencoder: with attack (non-BENIGN) flows in the training input, the drop of the ROC AUC (attack vs
 * BENIGN, reconstruction error as the score) on the held-out calibration BENIGN flows (never fitted on) plus
 * the attack flows (never trained on); with BENIGN flows only, the increase of the mean reconstruction error
 * of the held-out BENIGN flows (how much the model of normal traffic relies on the feature). At most
 * {@link IMPORTANCE_MAX_ROWS} rows, BENIGN ones first up to half of them (seeded samples). Null with fewer
 * than 2 held-out BENIGN flows.
 */
function autoencoderImportance(
  det: AutoencoderDetector, all: FeatureMatrix, scaler: StandardScaler, benign: number[], labels: readonly string[], seed: number,
): NetworkImportance | null {
  const cal = det.lastSplit?.calibration;
  if (!cal || cal.length < 2) return null;
  const s32 = seed % 2 ** 32;
  const attacks: number[] = [];
  labels.forEach((l, i) => {
    if (l !== BENIGN) attacks.push(i);
  });
  const nb = attacks.length ? Math.min(cal.length, IMPORTANCE_MAX_ROWS / 2) : Math.min(cal.length, IMPORTANCE_MAX_ROWS);
  const held = Array.from(sampleRows(cal.length, nb, s32), (i) => benign[cal[i]!]!);
  const att = Array.from(sampleRows(attacks.length, Math.max(1, IMPORTANCE_MAX_ROWS - held.length), s32), (i) => attacks[i]!);
  const X = scaler.transform(selectRows(all, [...held, ...att]));
  if (att.length === 0) {
    const score = (m: FeatureMatrix): number => {
      const e = det.scoreRows(m);
      let sum = 0;
      for (const v of e) sum += v;
      return -sum / e.length;
    };
    return runImportance(score, X, seed, `mean reconstruction error increase on ${groupDigits(held.length)} held-out ${BENIGN} flows`, 'neg_mean_reconstruction_error');
  }
  const y01 = Int32Array.from({ length: X.rows }, (_, i) => (i < held.length ? 0 : 1));
  const score = (m: FeatureMatrix): number => rocAucScore(y01, det.scoreRows(m));
  return runImportance(score, X, seed, `ROC AUC drop (attack vs ${BENIGN}) on ${groupDigits(held.length)} held-out ${BENIGN} + ${groupDigits(att.length)} attack flows`, 'roc_auc');
}

/** The summary lines: header, then the top 8 features by mean importance (± std over the repeats). */
function importanceLines(imp: NetworkImportance | null): string[] {
  if (!imp) return ['top features: no permutation importance (fewer than 2 held-out flows)'];
  const top = imp.ranked.slice(0, 8);
  const baseline = imp.score === 'accuracy' ? `accuracy ${imp.baseline.toFixed(4)}` : imp.score === 'roc_auc' ? `ROC AUC ${imp.baseline.toFixed(4)}` : `mean error ${(-imp.baseline).toPrecision(4)}`;
  return [
    `top features (permutation importance: ${imp.what} (at most ${groupDigits(IMPORTANCE_MAX_ROWS)}), ${IMPORTANCE_REPEATS} repeats, baseline ${baseline}, ${imp.seconds.toFixed(2)} s):`,
    ...top.map((f) => `  ${f.importance.toFixed(4)} ± ${f.std.toFixed(4)}  ${f.feature}`),
  ];
}

/** The bundle's `training` fields: `topFeatures` (as trees store theirs, plus `std`) and how they were measured. */
function importanceJSON(imp: NetworkImportance | null): Record<string, unknown> {
  if (!imp) return {};
  return {
    topFeatures: imp.ranked.slice(0, 10),
    importance: { method: 'permutation', score: imp.score, rows: imp.rows, repeats: IMPORTANCE_REPEATS, baseline: imp.baseline, seconds: imp.seconds },
  };
}

/** An open-set guard with the summary lines that describe it. */
interface FittedGuard {
  guard: OpenSetGuard;
  lines: string[];
}

/**
 * The open-set guard of a classifier (src/model/openset.ts, default rule), fitted on the scaled training flows;
 * BENIGN predictions pass unchanged.
 */
function fitOpenSet(Xs: FeatureMatrix, y: Int32Array, classNames: readonly string[], seed: number): FittedGuard {
  const t = performance.now();
  const guard = OpenSetGuard.fit(Xs, y, classNames, { seed, passClasses: classNames.includes(BENIGN) ? [BENIGN] : [] });
  const width = Math.max(...classNames.map((c) => c.length), 5);
  return {
    guard,
    lines: [
      `open-set guard (${((performance.now() - t) / 1000).toFixed(2)} s): a flow predicted as an attack class farther than the class's threshold from its nearest prototype is reported as UNKNOWN; threshold = max(${guard.quantile} quantile of held-out distances, ${guard.floor})`,
      ...classNames.map((c, i) => `  ${c.padEnd(width)}  ${groupDigits(guard.prototypeCount(i)).padStart(6)} prototypes  threshold ${guard.threshold(i).toFixed(3)}${guard.guards(i) ? '' : ' (passes: never UNKNOWN)'}`),
    ],
  };
}

/**
 * `flowsift train CAPTURE... (--label NAME | --labels FILE) --model DIR [--algo tree|mlp|autoencoder]
 * [--max-depth N] [--epochs N]`.
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
import { splitRows, type SplitMode } from '../../dataset/split.js';
import { classificationReport } from '../../eval/report.js';
import { addMeterOptions, loadInputs, featureList, labelCounts } from '../inputs.js';
import { VERSION } from '../version.js';

/** Parses a positive integer option. @throws UsageError */
export function positiveInt(name: string, text: unknown): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer, got '${String(text)}'`);
  return v;
}

export function registerTrain(program: Command): void {
  addMeterOptions(
    program.command('train')
      .description('extract flows, standardize features (fit on these flows) and fit a decision tree; save a model bundle')
      .argument('<input...>', 'labelled training captures, or flow tables (CSV with a Label column: flowsift extract, CICFlowMeter, CIC-IDS2017)')
      .requiredOption('--model <dir>', 'model bundle directory to write (model.json)')
      .option('--label <name>', 'give every flow this label')
      .option('--labels <file>', 'label rules CSV: label,ip,start,end (epoch seconds)')
      .option('--max-depth <n>', 'maximum tree depth (default: unlimited)')
      .option('--min-samples-leaf <n>', 'minimum flows per leaf', '1')
      .option('--class-weight <mode>', "'balanced' weighs classes inversely to their frequency (default: none)")
      .option('--features <list>', 'comma-separated model inputs (default: every registry feature, no identifiers)')
      .option('--seed <n>', 'random seed (tree: tie-breaking between equal splits; mlp/autoencoder: every random choice)', '0')
      .option('--algo <name>', 'tree (CART), forest (random forest), gbt (histogram gradient boosting), mlp (neural network classifier) or autoencoder (anomaly detector trained on the BENIGN flows only)', 'tree')
      .option('--trees <n>', 'forest: number of trees; gbt: boosting iterations', '100')
      .option('--test-split <fraction>', 'hold out this share of the flows (e.g. 0.3), train on the rest, print the report on the held-out part')
      .option('--split <mode>', "with --test-split: 'stratified' (each class in proportion, seeded by --seed) or 'time' (the latest flows are the test part)", 'stratified')
      .option('--epochs <n>', 'mlp/autoencoder: maximum training epochs (early stopping may end sooner)')
      .option('--utc-offset <minutes>', 'flow tables: offset of their zone-less timestamps from UTC (CIC-IDS2017: -180)')
      .option('-q, --quiet', 'no summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    const maxDepth = o.maxDepth === undefined ? null : positiveInt('--max-depth', o.maxDepth);
    const minSamplesLeaf = positiveInt('--min-samples-leaf', o.minSamplesLeaf);
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
    let records = loaded.records;
    let holdout: FlowRecords | null = null;
    if (testSplit !== undefined) {
      const parts = splitRows(records, testSplit, o.split as SplitMode, seed);
      process.stdout.write(`split: ${parts.test.length.toLocaleString('en-US')} of ${records.rows.toLocaleString('en-US')} flows held out for testing (${o.split === 'time' ? 'time-ordered: the latest flows' : `stratified by class, seed ${seed}`}); training on ${parts.train.length.toLocaleString('en-US')}\n`);
      holdout = records.subset(parts.test);
      records = records.subset(parts.train);
    }
    const tExtract = (performance.now() - t0) / 1000;
    if (records.rows === 0) throw new UsageError('the training captures hold no IP flow');
    const counts = labelCounts(records.labels);
    const classNames = counts.map(([l]) => l);
    const classIndex = new Map(classNames.map((c, i) => [c, i]));
    const y = Int32Array.from(records.labels, (l) => classIndex.get(l)!);
    if (!treeFamily) {
      await trainNetwork(algo, captures, o, { records, features, counts, classNames, y, seed, epochs, tExtract, labels });
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
      const forest = new RandomForestClassifier({ nEstimators: nTrees, maxDepth, minSamplesLeaf, classWeight, randomState: seed });
      await forest.fitAsync(Xs, y, classNames.length);
      tree = forest;
      shape = `${nTrees} trees (bootstrap, sqrt(features) per split)`;
    } else if (algo === 'gbt') {
      const gbt = new GradientBoostingClassifier({ nEstimators: nTrees, maxDepth: maxDepth ?? undefined, classWeight, randomState: seed, ...(o.minSamplesLeaf !== '1' ? { minSamplesLeaf } : {}) });
      gbt.fit(Xs, y, classNames.length);
      tree = gbt;
      shape = `${nTrees} boosting iterations`;
    } else {
      const t = new DecisionTreeClassifier({ maxDepth, minSamplesLeaf, classWeight, randomState: seed }).fit(Xs, y, classNames.length);
      tree = t;
      shape = `depth ${t.depth}, ${t.leafCount} leaves`;
    }
    const tFit = (performance.now() - t1) / 1000;

    const importances = [...tree.featureImportances].map((v, i) => [features[i], v] as const)
      .filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
    const trainAcc = accuracy(tree.predict(Xs), y);
    saveBundle(String(o.model), {
      featureNames: features,
      classNames,
      scaler,
      model: tree,
      flowsiftVersion: VERSION,
      training: {
        captures,
        labels,
        flows: records.rows,
        flowsPerClass: Object.fromEntries(counts),
        algo,
        params: { maxDepth, minSamplesLeaf, classWeight: o.classWeight ?? null, seed, ...(algo !== 'tree' ? { trees: nTrees } : {}) },
        meter: { idleTimeoutS: Number(o.idleTimeout), activeTimeoutS: Number(o.activeTimeout), tcpTermination: o.tcpTermination !== false, tunnels: o.tunnels !== false },
        shape,
        trainingAccuracy: trainAcc,
        extractSeconds: tExtract,
        fitSeconds: tFit,
        topFeatures: importances.slice(0, 10).map(([n, v]) => ({ feature: n, importance: v })),
      },
    });

    const width = Math.max(...classNames.map((c) => c.length), 5);
    const lines = [
      `trained ${ALGO_NAMES[algo]} on ${records.rows.toLocaleString('en-US')} flows, ${features.length} features`,
      ...counts.map(([c, n]) => `  ${c.padEnd(width)}  ${n.toLocaleString('en-US').padStart(9)} flows`),
      `${shape}, training accuracy ${trainAcc.toFixed(4)}`,
      `time: extract ${tExtract.toFixed(2)} s, scale + fit ${tFit.toFixed(2)} s`,
      'top features (impurity decrease):',
      ...importances.slice(0, 8).map(([n, v]) => `  ${v.toFixed(4)}  ${n}`),
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

/** Predicts the held-out flows with the bundle just written and prints the classification report. */
async function reportHoldout(dir: string, holdout: FlowRecords): Promise<void> {
  const bundle = await loadBundleAsync(dir);
  const names = [...holdout.names];
  const X = createMatrix(holdout.rows, names.length, names, holdout.data.subarray(0, holdout.rows * names.length));
  const pred = Array.from(new ModelPipeline(bundle).predict(X), (k) => bundle.classNames[k]);
  process.stdout.write(`\nheld-out flows (${holdout.rows.toLocaleString('en-US')}):\n${classificationReport(holdout.labels, pred, { digits: 4 })}`);
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
  const width = Math.max(...classNames.map((c) => c.length), 5);
  const perClass = counts.map(([c, n]) => `  ${c.padEnd(width)}  ${n.toLocaleString('en-US').padStart(9)} flows`);
  const dir = String(o.model);
  let lines: string[];
  if (algo === 'mlp') {
    const { MLPClassifier } = await import('../../model/mlp.js');
    const scaler = new StandardScaler().fit(all);
    const Xs = scaler.transform(all);
    const mlp = await new MLPClassifier({ seed, epochs, classWeight: o.classWeight === 'balanced' ? 'balanced' : null }).fit(Xs, y, classNames.length);
    const tFit = (performance.now() - t1) / 1000;
    const trainAcc = accuracy(mlp.predict(Xs), y);
    const h = mlp.history!;
    saveBundle(dir, {
      featureNames: features, classNames, scaler, model: mlp, flowsiftVersion: VERSION,
      training: {
        captures, labels: job.labels, flows: records.rows, flowsPerClass: Object.fromEntries(counts), algo: 'mlp',
        params: { ...mlp.params, seed }, meter, epochs: h.epochs, bestEpoch: h.bestEpoch, backend: h.backend,
        trainingAccuracy: trainAcc, extractSeconds: tExtract, fitSeconds: tFit,
      },
    });
    lines = [
      `trained MLP [${mlp.params.hiddenLayers.join(', ')}] on ${records.rows.toLocaleString('en-US')} flows, ${features.length} features`,
      ...perClass,
      `${h.epochs} epochs (weights of epoch ${h.bestEpoch}${h.stoppedEarly ? ', early stop' : ''}), training accuracy ${trainAcc.toFixed(4)}`,
      `time: extract ${tExtract.toFixed(2)} s, scale + fit ${tFit.toFixed(2)} s (TensorFlow.js ${h.backend})`,
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
    saveBundle(dir, {
      featureNames: features, classNames: [...AUTOENCODER_CLASS_NAMES], scaler, model: det, flowsiftVersion: VERSION,
      training: {
        captures, labels: job.labels, flows: records.rows, flowsPerClass: Object.fromEntries(counts), benignFlows: benign.length,
        algo: 'autoencoder', params: { ...det.params }, meter, epochs: h.epochs, bestEpoch: h.bestEpoch, backend: h.backend,
        threshold: det.threshold, calibration: cal, extractSeconds: tExtract, fitSeconds: tFit,
      },
    });
    lines = [
      `trained autoencoder [${det.params.hiddenLayers.join(', ')}] on ${benign.length.toLocaleString('en-US')} ${BENIGN} flows of ${records.rows.toLocaleString('en-US')}, ${features.length} features`,
      ...perClass,
      `threshold ${det.threshold.toPrecision(6)}: the ${cal.quantile} quantile of the reconstruction errors of ${cal.rows} held-out ${BENIGN} flows`,
      `${h.epochs} epochs (weights of epoch ${h.bestEpoch}${h.stoppedEarly ? ', early stop' : ''})`,
      `time: extract ${tExtract.toFixed(2)} s, scale + fit ${tFit.toFixed(2)} s (TensorFlow.js ${h.backend})`,
    ];
  }
  lines.push(`model written to ${dir}/model.json and ${dir}/weights.bin`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `flowsift train CAPTURE... (--label NAME | --labels FILE) --model DIR [--max-depth N]`. */
import type { Command } from 'commander';
import { saveBundle } from '../../model/bundle.js';
import { createMatrix } from '../../model/matrix.js';
import { StandardScaler } from '../../model/scaler.js';
import { DecisionTreeClassifier } from '../../model/tree.js';
import { UsageError } from '../errors.js';
import { addMeterOptions, collectRecords, featureList, labelCounts, labellerFrom } from '../inputs.js';
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
      .argument('<capture...>', 'labelled training captures')
      .requiredOption('--model <dir>', 'model bundle directory to write (model.json)')
      .option('--label <name>', 'give every flow this label')
      .option('--labels <file>', 'label rules CSV: label,ip,start,end (epoch seconds)')
      .option('--max-depth <n>', 'maximum tree depth (default: unlimited)')
      .option('--min-samples-leaf <n>', 'minimum flows per leaf', '1')
      .option('--class-weight <mode>', "'balanced' weighs classes inversely to their frequency (default: none)")
      .option('--features <list>', 'comma-separated model inputs (default: every registry feature, no identifiers)')
      .option('--seed <n>', 'random seed for tie-breaking between equal splits', '0')
      .option('-q, --quiet', 'no summary on stderr'),
  ).action(async (captures: string[], o: Record<string, unknown>) => {
    const labeller = labellerFrom(o, true)!;
    const maxDepth = o.maxDepth === undefined ? null : positiveInt('--max-depth', o.maxDepth);
    const minSamplesLeaf = positiveInt('--min-samples-leaf', o.minSamplesLeaf);
    if (o.classWeight !== undefined && o.classWeight !== 'balanced') throw new UsageError("--class-weight takes 'balanced'");
    const seed = Number(o.seed);
    if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got '${String(o.seed)}'`);
    const features = featureList(o);

    const t0 = performance.now();
    const records = await collectRecords(captures, o, labeller);
    const tExtract = (performance.now() - t0) / 1000;
    if (records.rows === 0) throw new UsageError('the training captures hold no IP flow');
    const counts = labelCounts(records.labels);
    const classNames = counts.map(([l]) => l);
    const classIndex = new Map(classNames.map((c, i) => [c, i]));
    const y = Int32Array.from(records.labels, (l) => classIndex.get(l)!);

    const t1 = performance.now();
    const X = createMatrix(records.rows, features.length, features, records.select(features));
    const scaler = new StandardScaler().fit(X);
    const Xs = scaler.transform(X);
    const tree = new DecisionTreeClassifier({
      maxDepth, minSamplesLeaf, classWeight: o.classWeight === 'balanced' ? 'balanced' : null, randomState: seed,
    }).fit(Xs, y, classNames.length);
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
        labels: labeller.description,
        flows: records.rows,
        flowsPerClass: Object.fromEntries(counts),
        algo: 'tree',
        params: { maxDepth, minSamplesLeaf, classWeight: o.classWeight ?? null, seed },
        meter: { idleTimeoutS: Number(o.idleTimeout), activeTimeoutS: Number(o.activeTimeout), tcpTermination: o.tcpTermination !== false, tunnels: o.tunnels !== false },
        depth: tree.depth,
        leaves: tree.leafCount,
        trainingAccuracy: trainAcc,
        extractSeconds: tExtract,
        fitSeconds: tFit,
        topFeatures: importances.slice(0, 10).map(([n, v]) => ({ feature: n, importance: v })),
      },
    });

    const width = Math.max(...classNames.map((c) => c.length), 5);
    const lines = [
      `trained decision tree on ${records.rows.toLocaleString('en-US')} flows, ${features.length} features`,
      ...counts.map(([c, n]) => `  ${c.padEnd(width)}  ${n.toLocaleString('en-US').padStart(9)} flows`),
      `depth ${tree.depth}, ${tree.leafCount} leaves, training accuracy ${trainAcc.toFixed(4)}`,
      `time: extract ${tExtract.toFixed(2)} s, scale + fit ${tFit.toFixed(2)} s`,
      'top features (impurity decrease):',
      ...importances.slice(0, 8).map(([n, v]) => `  ${v.toFixed(4)}  ${n}`),
      `model written to ${String(o.model)}/model.json`,
    ];
    // The training summary is the command's result: stdout.
    process.stdout.write(`${lines.join('\n')}\n`);
  });
}

function accuracy(pred: Int32Array, y: Int32Array): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return y.length ? ok / y.length : 0;
}

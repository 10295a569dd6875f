/**
 * TensorFlow.js models (MLPClassifier, AutoencoderDetector) on the wasm backend: bundle round trips, seeded
 * repeatability, class weights, the weights-file checks, the autoencoder's held-out threshold; and on the
 * shared lab captures, MLP macro-F1 and autoencoder ROC AUC on lab/test after training on lab/train.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowRecords } from '../src/dataset/collect.js';
import { RuleLabeller } from '../src/dataset/labels.js';
import { averagePrecisionScore, rocAucScore } from '../src/eval/ranking.js';
import { classificationMetrics } from '../src/eval/report.js';
import { extractCapture } from '../src/features/extract.js';
import { createFeatureSet, defaultModelFeatures } from '../src/features/registry.js';
import { AUTOENCODER_CLASSES, AutoencoderDetector } from '../src/model/autoencoder.js';
import { loadBundle, loadBundleAsync, ModelPipeline, saveBundle } from '../src/model/bundle.js';
import { ModelError } from '../src/model/errors.js';
import { createMatrix, selectRows, type FeatureMatrix } from '../src/model/matrix.js';
import { MLPClassifier } from '../src/model/mlp.js';
import { StandardScaler } from '../src/model/scaler.js';
import { BundleIOHandler, initTf, parseManifest, quantile, SeededRandom, tf } from '../src/model/tfjs.js';
import { flowsift } from './helpers/cli.js';
import { describeShared, sharedPath } from './helpers/shared.js';

const root = mkdtempSync(join(tmpdir(), 'flowsift-mlp-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const newDir = (): string => join(root, `b${dirs++}`);

/** Gaussian blobs: class c centred at `sep · e_(c mod d)`, `counts[c]` rows each, unit noise. */
function blobs(counts: number[], d: number, sep: number, seed: number): { X: FeatureMatrix; y: Int32Array } {
  const rng = new SeededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
  const n = counts.reduce((a, b) => a + b, 0);
  const X = createMatrix(n, d);
  const y = new Int32Array(n);
  let r = 0;
  counts.forEach((m, c) => {
    for (let i = 0; i < m; i++, r++) {
      y[r] = c;
      for (let j = 0; j < d; j++) X.data[r * d + j] = gauss() + (j === c % d ? sep : 0);
    }
  });
  return { X, y };
}

function recall(pred: Int32Array, y: Int32Array, c: number): number {
  let tp = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== c) continue;
    n++;
    if (pred[i] === c) tp++;
  }
  return tp / n;
}

beforeAll(async () => {
  expect(await initTf()).toBe('wasm');
});

describe('MLPClassifier', () => {
  const { X, y } = blobs([600, 600, 600], 8, 2.5, 1);
  const scaler = new StandardScaler().fit(X);
  const Xs = scaler.transform(X);
  const opts = { hiddenLayers: [32, 16], epochs: 15, seed: 7 };
  let mlp: MLPClassifier;
  beforeAll(async () => {
    mlp = await new MLPClassifier(opts).fit(Xs, y, 3);
  });

  it('learns separable blobs; probabilities are rows of a simplex; per-row equals batch', () => {
    expect(mlp.nFeatures).toBe(8);
    expect(mlp.nClasses).toBe(3);
    const p = mlp.predictProba(Xs);
    expect(p.length).toBe(X.rows * 3);
    for (let r = 0; r < X.rows; r += 97) expect(p[r * 3]! + p[r * 3 + 1]! + p[r * 3 + 2]!).toBeCloseTo(1, 5);
    const pred = mlp.predict(Xs);
    expect(pred.filter((v, i) => v === y[i]).length / y.length).toBeGreaterThan(0.9);
    const out = new Float64Array(3);
    for (let r = 0; r < 20; r++) {
      mlp.predictProbaRow(Xs.data, out, r * 8);
      for (let c = 0; c < 3; c++) expect(out[c]).toBeCloseTo(p[r * 3 + c]!, 6);
      expect(mlp.predictRow(Xs.data, r * 8)).toBe(pred[r]);
    }
    const batch = mlp.predictProbaBatch(Xs.data.subarray(0, 50 * 8), 50);
    expect(Array.from(batch)).toEqual(Array.from(p.subarray(0, 150)));
    // Stratified validation split: 10 % of each class.
    expect(mlp.lastSplit!.validation.length).toBe(180);
    expect(mlp.history!.epochs).toBeGreaterThan(0);
  });

  it('save → loadBundleAsync → identical predictions (weights.bin beside model.json)', async () => {
    const dir = newDir();
    saveBundle(dir, { featureNames: X.names, classNames: ['a', 'b', 'c'], scaler, model: mlp });
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(doc.model.algo).toBe('mlp');
    expect(doc.model.weights.file).toBe('weights.bin');
    expect(readFileSync(join(dir, 'weights.bin')).length).toBe(doc.model.weights.bytes);
    const b = await loadBundleAsync(dir);
    expect(b.model).toBeInstanceOf(MLPClassifier);
    expect(Array.from(b.model.predictProba(Xs))).toEqual(Array.from(mlp.predictProba(Xs)));
    expect(Array.from(new ModelPipeline(b).predict(X))).toEqual(Array.from(mlp.predict(Xs)));
    expect((b.model as MLPClassifier).params).toEqual(mlp.params);
    // The synchronous loader names the asynchronous one.
    expect(() => loadBundle(dir)).toThrow(/model\.algo: holds a TensorFlow\.js 'mlp' model.*loadBundleAsync/);
  });

  it('same seed → same predictions; another seed → different weights', async () => {
    const again = await new MLPClassifier(opts).fit(Xs, y, 3);
    expect(Array.from(again.predictProba(Xs))).toEqual(Array.from(mlp.predictProba(Xs)));
    const other = await new MLPClassifier({ ...opts, seed: 8 }).fit(Xs, y, 3);
    expect(Array.from(other.predictProba(Xs))).not.toEqual(Array.from(mlp.predictProba(Xs)));
  });

  it("class weights 'balanced' (sklearn's compute_class_weight) raise the minority class's recall", async () => {
    // Overlapping classes, 40:1 imbalance; the unweighted loss favours the majority.
    const train = blobs([4000, 100], 4, 1.2, 11);
    const test = blobs([4000, 400], 4, 1.2, 12);
    const s = new StandardScaler().fit(train.X);
    const o = { hiddenLayers: [16], dropout: 0, epochs: 12, validationFraction: 0, seed: 3 };
    const plain = await new MLPClassifier(o).fit(s.transform(train.X), train.y, 2);
    const weighted = await new MLPClassifier({ ...o, classWeight: 'balanced' }).fit(s.transform(train.X), train.y, 2);
    expect(Array.from(weighted.classWeights!)).toEqual([4100 / (2 * 4000), 4100 / (2 * 100)]);
    const rPlain = recall(plain.predict(s.transform(test.X)), test.y, 1);
    const rWeighted = recall(weighted.predict(s.transform(test.X)), test.y, 1);
    expect(rWeighted).toBeGreaterThan(rPlain + 0.2);
  });

  it('rejects bad options and inputs with ModelError', async () => {
    expect(() => new MLPClassifier({ dropout: 1 })).toThrow(/options\.dropout: must be a number in \[0, 1\)/);
    expect(() => new MLPClassifier({ hiddenLayers: [0] })).toThrow(/options\.hiddenLayers/);
    await expect(new MLPClassifier().fit(Xs, y.subarray(1), 3)).rejects.toThrow(ModelError);
    await expect(new MLPClassifier({ classWeight: [1, 2] }).fit(Xs, y, 3)).rejects.toThrow(/options\.classWeight: has 2 weights for 3 classes/);
    expect(() => mlp.predict(createMatrix(2, 5))).toThrow(/input has 5 columns, the model was fitted on 8/);
    expect(() => new MLPClassifier().predict(Xs)).toThrow(/not fitted/);
  });
});

describe('weights file checks (BundleIOHandler)', () => {
  const { X, y } = blobs([200, 200], 5, 3, 2);
  const scaler = new StandardScaler().fit(X);
  let dir: string;
  let doc: any;
  let bytes: Buffer;
  beforeAll(async () => {
    const m = await new MLPClassifier({ hiddenLayers: [8], epochs: 2, seed: 1 }).fit(scaler.transform(X), y, 2);
    dir = newDir();
    saveBundle(dir, { featureNames: X.names, classNames: ['x', 'y'], scaler, model: m });
    doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    bytes = readFileSync(join(dir, 'weights.bin'));
  });
  /** A copy of the bundle with the given weights file (none: missing) and an optionally edited model.json. */
  function write(w: Buffer | null, patch?: (d: any) => void): string {
    const d = newDir();
    const copy = structuredClone(doc);
    patch?.(copy);
    mkdirSync(d);
    writeFileSync(join(d, 'model.json'), JSON.stringify(copy));
    if (w) writeFileSync(join(d, 'weights.bin'), w);
    return d;
  }
  const withNaN = (): Buffer => {
    const w = Buffer.from(bytes);
    w.writeFloatLE(NaN, 8);
    return w;
  };

  it('a truncated weights.bin is a ModelError naming the file (loader and IOHandler)', async () => {
    const d = write(bytes.subarray(0, bytes.length - 4));
    await expect(loadBundleAsync(d)).rejects.toThrow(ModelError);
    await expect(loadBundleAsync(d)).rejects.toThrow(/weights\.bin: has \d+ bytes, the manifest in model\.json says \d+/);
    const h = new BundleIOHandler({ dir: d, topology: doc.model.topology, manifest: parseManifest(doc.model.weights, 'model.weights') });
    await expect(h.load()).rejects.toThrow(/weights\.bin: has \d+ bytes/);
    await expect(tf.loadLayersModel(h)).rejects.toThrow(ModelError);
  });

  it('NaN weights are a ModelError (with a matching checksum); a checksum mismatch too', async () => {
    const w = withNaN();
    const d = write(w, (c) => (c.model.weights.sha256 = createHash('sha256').update(w).digest('hex')));
    await expect(loadBundleAsync(d)).rejects.toThrow(/weights\.bin: weight hidden_0\/kernel\[2\] is NaN: the weights must be finite/);
    const h = new BundleIOHandler({ dir: d, topology: doc.model.topology, manifest: parseManifest(JSON.parse(readFileSync(join(d, 'model.json'), 'utf8')).model.weights, 'w') });
    await expect(h.load()).rejects.toThrow(ModelError);
    await expect(loadBundleAsync(write(withNaN()))).rejects.toThrow(/SHA-256 [0-9a-f]{64} does not match/);
  });

  it('missing weights.bin, bad manifest, NaN on save', async () => {
    await expect(loadBundleAsync(write(null))).rejects.toThrow(/weights\.bin: missing/);
    await expect(loadBundleAsync(write(bytes, (c) => (c.model.weights.bytes = 'x')))).rejects.toThrow(/model\.weights\.bytes/);
    await expect(loadBundleAsync(write(bytes, (c) => (c.model.weights.specs[0].dtype = 'int32')))).rejects.toThrow(/model\.weights\.specs\[0\]\.dtype: must be "float32"/);
    await expect(loadBundleAsync(write(bytes, (c) => (c.model.nFeatures = 6)))).rejects.toThrow(/model\.topology: network maps/);
    const net = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], biasInitializer: tf.initializers.constant({ value: NaN }) })] });
    await expect(net.save(new BundleIOHandler())).rejects.toThrow(/is NaN: the weights must be finite/);
  });
});

describe('AutoencoderDetector', () => {
  // Benign: points near a 2-d plane in 8-d space; anomalies: off the plane.
  const rng = new SeededRandom(5);
  const plane = (n: number, off: number): FeatureMatrix => {
    const X = createMatrix(n, 8);
    for (let r = 0; r < n; r++) {
      const a = rng.next() * 4 - 2;
      const b = rng.next() * 4 - 2;
      for (let j = 0; j < 8; j++) X.data[r * 8 + j] = (j % 2 ? a : b) * (1 + j / 8) + 0.05 * (rng.next() - 0.5) + (j === 3 ? off * (rng.next() + 0.5) : 0);
    }
    return X;
  };
  const benign = plane(1500, 0);
  const scaler = new StandardScaler().fit(benign);
  const Xb = scaler.transform(benign);
  const opts = { hiddenLayers: [16, 4, 16], epochs: 40, seed: 2 };
  let det: AutoencoderDetector;
  beforeAll(async () => {
    det = await new AutoencoderDetector(opts).fit(Xb);
  });

  it('the threshold is the 0.99 quantile of the held-out benign scores (not the fitted rows)', () => {
    const split = det.lastSplit!;
    expect(split.calibration.length).toBe(300);
    const fitted = new Set([...split.train, ...split.validation]);
    expect(split.calibration.some((r) => fitted.has(r))).toBe(false);
    expect(split.train.length + split.validation.length + split.calibration.length).toBe(1500);
    const held = det.scoreRows(selectRows(Xb, split.calibration));
    expect(det.threshold).toBe(quantile(held, 0.99));
    expect(det.calibration).toMatchObject({ quantile: 0.99, rows: 300, threshold: det.threshold });
    expect(det.calibration!.heldOutFpr).toBeLessThanOrEqual(0.01 + 1 / 300);
  });

  it('separates off-plane rows; predict/proba agree; threshold override', () => {
    const anomalies = scaler.transform(plane(300, 3));
    const both = createMatrix(600, 8, Xb.names, new Float64Array([...Xb.data.subarray(0, 300 * 8), ...anomalies.data]));
    const s = det.scoreRows(both);
    const yTrue = Int32Array.from({ length: 600 }, (_, i) => (i < 300 ? 0 : 1));
    expect(rocAucScore(yTrue, s)).toBeGreaterThan(0.95);
    const pred = det.predict(both);
    const proba = det.predictProba(both);
    for (let r = 0; r < 600; r++) {
      expect(pred[r]).toBe(s[r]! >= det.threshold ? 0 : 1);
      expect(proba[2 * r]! >= proba[2 * r + 1]! ? 0 : 1).toBe(pred[r]);
    }
    expect(AUTOENCODER_CLASSES).toEqual(['ANOMALY', 'BENIGN']);
    const t = det.threshold;
    det.threshold = 1e9;
    expect(det.predict(both).every((c) => c === 1)).toBe(true);
    det.threshold = t;
    expect(() => (det.threshold = -1)).toThrow(/finite number ≥ 0/);
    expect(() => new AutoencoderDetector({ targetFpr: 0.05 }).params.quantile).not.toThrow();
    expect(new AutoencoderDetector({ targetFpr: 0.05 }).params.quantile).toBeCloseTo(0.95, 15);
  });

  it('save → loadBundleAsync → identical scores and threshold; seeded repeatability', async () => {
    const dir = newDir();
    expect(() => saveBundle(dir, { featureNames: Xb.names, classNames: ['BENIGN', 'ANOMALY'], scaler, model: det })).toThrow(/classNames must be \["ANOMALY","BENIGN"\]/);
    saveBundle(dir, { featureNames: Xb.names, classNames: [...AUTOENCODER_CLASSES], scaler, model: det });
    const b = await loadBundleAsync(dir);
    const loaded = b.model as AutoencoderDetector;
    expect(loaded).toBeInstanceOf(AutoencoderDetector);
    expect(loaded.threshold).toBe(det.threshold);
    expect(Array.from(loaded.scoreRows(Xb))).toEqual(Array.from(det.scoreRows(Xb)));
    expect(Array.from(new ModelPipeline(b).predict(benign))).toEqual(Array.from(det.predict(Xb)));
    const again = await new AutoencoderDetector(opts).fit(Xb);
    expect(again.threshold).toBe(det.threshold);
    expect(Array.from(again.scoreRows(Xb))).toEqual(Array.from(det.scoreRows(Xb)));
  });
});

describe('CLI: train --algo mlp|autoencoder, evaluate (ROC/PR AUC), score --threshold (built dist/)', () => {
  const EXAMPLE = 'datasets/lab-excerpt/capture.pcap';
  const LABELS = 'datasets/lab-excerpt/labels.csv';

  it('mlp: train, evaluate --json, score in batches', () => {
    const dir = newDir();
    const t = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '--algo', 'mlp', '--epochs', '3', '--seed', '1']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/trained MLP \[128, 64\] on [\d,]+ flows, \d+ features/);
    expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).training.algo).toBe('mlp');
    const e = flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', dir, '--json', '-q']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).accuracy).toBeGreaterThan(0.9);
    const s = flowsift(['score', EXAMPLE, '--model', dir, '--json', '-q']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stderr).toMatch(/^[\d,]+ flows scored/);
    expect(flowsift(['score', EXAMPLE, '--model', dir, '--threshold', '2']).code).toBe(2); // a classifier's threshold is a probability
    expect(flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '--algo', 'mlp', '--max-depth', '3']).stderr).toMatch(/--max-depth applies to --algo tree, forest and gbt/);
  });

  it('autoencoder: trains on BENIGN flows; evaluate prints ROC AUC and PR AUC; score --threshold', () => {
    const dir = newDir();
    const t = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '--algo', 'autoencoder', '--epochs', '20']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/trained autoencoder \[64, 16, 64\] on \d+ BENIGN flows/);
    expect(t.stdout).toMatch(/threshold [\d.e-]+: the 0\.99 quantile of the reconstruction errors of \d+ held-out BENIGN flows/);
    const e = flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', dir, '-q']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/^ {14}precision {4}recall {2}f1-score {3}support\n\n {5}ANOMALY /);
    expect(e.stdout).toMatch(/\nROC AUC \(attack vs BENIGN\) 0\.\d{4}\nPR AUC {2}\(average precision\) 0\.\d{4}\n/);
    const j = JSON.parse(flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', dir, '--json', '-q']).stdout);
    expect(j.roc_auc).toBeGreaterThan(0.9);
    // A detector's only attack class is ANOMALY: per-class recall against the true attack labels is not defined.
    const perClass = Object.values(j.rates.per_class) as { detection_rate: number; recall: number | null }[];
    expect(perClass.length).toBeGreaterThan(0);
    for (const c of perClass) expect(c.recall).toBeNull();
    const none = flowsift(['score', EXAMPLE, '--model', dir, '--threshold', '1e300', '-q']);
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toMatch(/[\d,]+ flows scored, 0 flagged/);
    expect(flowsift(['score', EXAMPLE, '--model', dir, '--threshold', '-1']).stderr).toMatch(/--threshold must be a number ≥ 0/);
  });
});

describeShared('lab captures: MLP and autoencoder, trained on lab/train, measured on lab/test', () => {
  const features = defaultModelFeatures();
  let train: FlowRecords;
  let test: FlowRecords;
  let classNames: string[];
  beforeAll(async () => {
    const load = async (part: 'train' | 'test'): Promise<FlowRecords> => {
      const records = new FlowRecords(createFeatureSet().features.map((f) => f.name));
      const labeller = RuleLabeller.fromFile(sharedPath('lab', part, 'labels.csv'));
      await extractCapture(sharedPath('lab', part, 'capture.pcap'), (f) => records.add(f, labeller.labelOf(f), 0));
      return records;
    };
    train = await load('train');
    test = await load('test');
    classNames = [...new Set(train.labels)].sort();
  });
  const matrix = (rs: FlowRecords): FeatureMatrix => createMatrix(rs.rows, features.length, features, rs.select(features));

  it('MLP on a stratified sample of lab/train (≤ 2000 flows per class): macro-F1 ≥ 0.97 on all of lab/test', async () => {
    // Sample: every flow of the small classes, 2000 of the large ones (seeded).
    const rng = new SeededRandom(1);
    const byClass = new Map<string, number[]>();
    train.labels.forEach((l, i) => byClass.set(l, [...(byClass.get(l) ?? []), i]));
    const rows = [...byClass.values()].flatMap((idx) => Array.from(rng.shuffle(Int32Array.from(idx)).subarray(0, 2000))).sort((a, b) => a - b);
    const Xtr = selectRows(matrix(train), rows);
    const y = Int32Array.from(rows, (i) => classNames.indexOf(train.labels[i]!));
    const scaler = new StandardScaler().fit(Xtr);
    const t0 = performance.now();
    const mlp = await new MLPClassifier({ seed: 1 }).fit(scaler.transform(Xtr), y, classNames.length);
    const fitS = (performance.now() - t0) / 1000;
    const pipe = new ModelPipeline({ featureNames: features, classNames, scaler, model: mlp });
    const pred = Array.from(pipe.predict(matrix(test)), (k) => classNames[k]!);
    const m = classificationMetrics(test.labels, pred);
    const f1 = Object.fromEntries(classNames.map((c) => [c, Number(m.classes[c]!.f1.toFixed(4))]));
    console.log(`MLP lab/test: ${rows.length} training flows, fit ${fitS.toFixed(1)} s (${mlp.history!.epochs} epochs, best ${mlp.history!.bestEpoch}), macro-F1 ${m.macro_f1.toFixed(4)}`, f1);
    expect(m.macro_f1).toBeGreaterThanOrEqual(0.97);
  });

  it('autoencoder on the BENIGN flows of lab/train only: ROC AUC ≥ 0.95 (attack vs benign) on lab/test', async () => {
    const benign = train.labels.flatMap((l, i) => (l === 'BENIGN' ? [i] : []));
    const Xb = selectRows(matrix(train), benign);
    const scaler = new StandardScaler().fit(Xb);
    const t0 = performance.now();
    const det = await new AutoencoderDetector({ seed: 1, epochs: 60 }).fit(scaler.transform(Xb));
    const fitS = (performance.now() - t0) / 1000;
    const scores = det.scoreRows(scaler.transform(matrix(test)));
    const yTrue = test.labels.map((l) => (l === 'BENIGN' ? 0 : 1));
    const auc = rocAucScore(yTrue, scores);
    const ap = averagePrecisionScore(yTrue, scores);
    let fp = 0;
    let nb = 0;
    test.labels.forEach((l, i) => {
      if (l !== 'BENIGN') return;
      nb++;
      if (scores[i]! >= det.threshold) fp++;
    });
    console.log(`autoencoder lab/test: ${benign.length} benign training flows, fit ${fitS.toFixed(1)} s (${det.history!.epochs} epochs), ROC AUC ${auc.toFixed(4)}, PR AUC ${ap.toFixed(4)}, threshold ${det.threshold.toPrecision(4)}, benign FPR ${(fp / nb).toFixed(4)}`);
    expect(auc).toBeGreaterThanOrEqual(0.95);
  });
});

/**
 * Unsupervised anomaly detection by reconstruction error (the approach of Kitsune, Mirsky, Doitshman,
 * Elovici & Shabtai 2018, "Kitsune: An Ensemble of Autoencoders for Online Network Intrusion Detection",
 * NDSS — here a single dense autoencoder over the flow features): a network trained on BENIGN flows only to
 * reproduce its input through a bottleneck; flows unlike the training traffic reconstruct badly.
 *
 * - Inputs are the STANDARDISED features (the bundle's StandardScaler runs first; fit that scaler on
 *   benign rows too). NaN becomes 0, values are clipped to ±`inputClip` (default 1e6), as for the MLP.
 * - Score of a row = mean squared reconstruction error over its features, `(1/d) Σⱼ (x̂ⱼ − xⱼ)²`, in
 *   squared standard deviations (computed in float64 from the float32 network output).
 * - Threshold: the `quantile` (default 0.99, i.e. a target false-positive rate of 1 %) of the scores of
 *   HELD-OUT benign rows — the calibration split, used neither for fitting nor for early stopping —
 *   interpolated linearly as NumPy's `np.quantile`. A row is an anomaly when `score ≥ threshold`. The
 *   threshold can be replaced at scoring time ({@link AutoencoderDetector.threshold}).
 * - As a {@link Classifier} it has two classes, {@link AUTOENCODER_CLASSES} = `['ANOMALY', 'BENIGN']`
 *   (sorted; class 0 = ANOMALY), so the report and score commands work unchanged. Its "probabilities"
 *   are `P(ANOMALY) = s / (s + t)` (score s, threshold t; 0.5 exactly at the threshold, where ties go to
 *   ANOMALY) — a monotone squashing of the score, not a calibrated probability.
 */
import { ModelError } from './errors.js';
import type { FeatureMatrix } from './matrix.js';
import { checkNetworkShape, paramsFromJSON } from './mlp.js';
import {
  assertTfReady, captureArtifacts, checkInput, DEFAULT_INPUT_CLIP, forwardBatches, initTf, loadNetwork, parseManifest, parseTopology,
  quantile, SeededRandom, tf, trainNetwork, type NetworkArtifacts, type TrainingHistory, type WeightsManifest,
} from './tfjs.js';
import type { Classifier } from './tree.js';

/** Class names of an autoencoder bundle, in class-index order: 0 = ANOMALY, 1 = BENIGN. */
export const AUTOENCODER_CLASSES: readonly ['ANOMALY', 'BENIGN'] = ['ANOMALY', 'BENIGN'];
/** Class index of ANOMALY. */
export const ANOMALY_CLASS = 0;
/** Class index of BENIGN. */
export const BENIGN_CLASS = 1;

/** Options of {@link AutoencoderDetector}; every field is optional. */
export interface AutoencoderOptions {
  /** Units of the hidden layers, encoder → bottleneck → decoder (integers ≥ 1). Default `[64, 16, 64]`. */
  hiddenLayers?: readonly number[];
  /** Hidden activation (the output layer is linear). Default `'relu'`. */
  activation?: 'relu' | 'elu' | 'tanh';
  /** Adam learning rate (> 0). Default 1e-3. */
  learningRate?: number;
  /** Rows per training batch. Default 256. */
  batchSize?: number;
  /** Maximum epochs. Default 150. */
  epochs?: number;
  /** Early stopping patience (epochs). Default 10. */
  patience?: number;
  /** Smallest validation-loss decrease counted as an improvement. Default 1e-4. */
  minDelta?: number;
  /** Fraction of the benign rows held out for early stopping, in [0, 1). Default 0.1. */
  validationFraction?: number;
  /** Fraction of the benign rows held out to set the threshold, in (0, 1); disjoint from the validation rows. Default 0.2. */
  calibrationFraction?: number;
  /** Threshold quantile of the held-out scores, in (0, 1]. Default 0.99. Exclusive with `targetFpr`. */
  quantile?: number;
  /** Target false-positive rate on benign traffic, in [0, 1): the threshold quantile is `1 − targetFpr`. */
  targetFpr?: number;
  /** Seed of every random choice (splits, shuffles, initial weights). Default 0. */
  seed?: number;
  /** Inputs are clipped to ±this before float32 conversion. Default 1e6. */
  inputClip?: number;
  /** Called after each epoch; not stored. */
  onEpoch?: (epoch: number, trainLoss: number, validationLoss: number | null) => void;
}

/** The options with defaults applied, as stored in the model JSON. */
export interface AutoencoderParams {
  hiddenLayers: number[];
  activation: 'relu' | 'elu' | 'tanh';
  learningRate: number;
  batchSize: number;
  epochs: number;
  patience: number;
  minDelta: number;
  validationFraction: number;
  calibrationFraction: number;
  quantile: number;
  seed: number;
  inputClip: number;
}

/** How the stored threshold was obtained. */
export interface Calibration {
  /** Quantile of the held-out benign scores. */
  quantile: number;
  /** Number of held-out benign rows. */
  rows: number;
  /** The calibrated threshold (the model's `threshold` may have been replaced since). */
  threshold: number;
  /** Fraction of the held-out rows with score ≥ the threshold (the false-positive rate on them). */
  heldOutFpr: number;
}

/** Plain-JSON form of a fitted detector (the bundle adds `algo: "autoencoder"`); weights in `weights.bin`. */
export interface AutoencoderJSON {
  nFeatures: number;
  /** Always 2 (see {@link AUTOENCODER_CLASSES}). */
  nClasses: 2;
  params: AutoencoderParams;
  /** Anomaly threshold on the score (squared standard deviations). */
  threshold: number;
  calibration: Calibration;
  topology: Record<string, unknown>;
  weights: WeightsManifest;
  history: TrainingHistory | null;
  tfjsVersion: string;
}

/** Rows of the training matrix used in the last {@link AutoencoderDetector.fit} (not stored). */
export interface AutoencoderSplit {
  /** Rows the weights were fitted on. */
  train: Int32Array;
  /** Rows monitored for early stopping. */
  validation: Int32Array;
  /** Held-out rows whose scores set the threshold. */
  calibration: Int32Array;
}

/** Resolve and validate options. @throws ModelError naming the option. */
export function resolveAutoencoderParams(o: AutoencoderOptions = {}, where = 'options'): AutoencoderParams {
  const bad = (name: string, want: string, got: unknown): ModelError =>
    new ModelError(`must be ${want}, got ${JSON.stringify(got) ?? String(got)}`, { field: `${where}.${name}` });
  const num = (name: string, v: unknown, ok: (x: number) => boolean, want: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw bad(name, want, v);
    return v;
  };
  const int = (name: string, v: unknown, min: number): number => num(name, v, (x) => Number.isInteger(x) && x >= min, `an integer ≥ ${min}`);
  const hidden = o.hiddenLayers ?? [64, 16, 64];
  if (!Array.isArray(hidden) || hidden.length === 0 || !hidden.every((u) => Number.isInteger(u) && u >= 1)) throw bad('hiddenLayers', 'a non-empty array of integers ≥ 1', hidden);
  const activation = o.activation ?? 'relu';
  if (!['relu', 'elu', 'tanh'].includes(activation)) throw bad('activation', "'relu', 'elu' or 'tanh'", activation);
  if (o.quantile !== undefined && o.targetFpr !== undefined && o.quantile !== 1 - o.targetFpr) {
    throw new ModelError('give either quantile or targetFpr, not both', { field: `${where}.targetFpr` });
  }
  const q = o.targetFpr !== undefined ? 1 - num('targetFpr', o.targetFpr, (x) => x >= 0 && x < 1, 'a number in [0, 1)') : o.quantile ?? 0.99;
  const vf = num('validationFraction', o.validationFraction ?? 0.1, (x) => x >= 0 && x < 1, 'a number in [0, 1)');
  const cf = num('calibrationFraction', o.calibrationFraction ?? 0.2, (x) => x > 0 && x < 1, 'a number in (0, 1)');
  if (vf + cf >= 1) throw new ModelError(`validationFraction + calibrationFraction must be < 1, got ${vf + cf}`, { field: `${where}.calibrationFraction` });
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw bad('seed', 'a safe integer', seed);
  return {
    hiddenLayers: [...hidden],
    activation,
    learningRate: num('learningRate', o.learningRate ?? 1e-3, (x) => x > 0, 'a finite number > 0'),
    batchSize: int('batchSize', o.batchSize ?? 256, 1),
    epochs: int('epochs', o.epochs ?? 150, 1),
    patience: int('patience', o.patience ?? 10, 1),
    minDelta: num('minDelta', o.minDelta ?? 1e-4, (x) => x >= 0, 'a finite number ≥ 0'),
    validationFraction: vf,
    calibrationFraction: cf,
    quantile: num('quantile', q, (x) => x > 0 && x <= 1, 'a number in (0, 1]'),
    seed,
    inputClip: num('inputClip', o.inputClip ?? DEFAULT_INPUT_CLIP, (x) => x > 0 && x <= 1e30, 'a number in (0, 1e30]'),
  };
}

/**
 * Dense autoencoder anomaly detector (see the module documentation). `predict*`/`score*` are synchronous
 * and need TensorFlow.js initialised — done by {@link fit}, {@link AutoencoderDetector.load} and
 * `loadBundleAsync`.
 *
 * ```ts
 * const det = await new AutoencoderDetector({ seed: 1 }).fit(benignStandardised);
 * const scores = det.scoreRows(Xs);          // Float64Array, one per row
 * const flagged = det.predict(Xs);           // 0 = ANOMALY (score ≥ det.threshold), 1 = BENIGN
 * ```
 */
export class AutoencoderDetector implements Classifier {
  /** Algorithm tag in a model bundle. */
  readonly algo = 'autoencoder';
  /** Always 2: {@link AUTOENCODER_CLASSES}. */
  readonly nClasses = 2;
  /** Resolved options. */
  readonly params: AutoencoderParams;
  /** Training curve (null before fit). */
  history: TrainingHistory | null = null;
  /** Rows used for fitting, early stopping and calibration in the last {@link fit} (null after loading). */
  lastSplit: AutoencoderSplit | null = null;
  private readonly onEpoch: AutoencoderOptions['onEpoch'];
  private net: tf.LayersModel | null = null;
  private artifacts: NetworkArtifacts | null = null;
  private _nFeatures = 0;
  private _threshold = NaN;
  private _calibration: Calibration | null = null;
  private rowBuf = new Float64Array(0);
  private scoreBuf = new Float64Array(1);

  /** @throws ModelError on invalid options ({@link resolveAutoencoderParams}). */
  constructor(options: AutoencoderOptions = {}) {
    this.params = resolveAutoencoderParams(options);
    this.onEpoch = options.onEpoch;
  }

  /** True once fitted or loaded. */
  get isFitted(): boolean {
    return this.net !== null;
  }
  /** Number of input features (0 before fit). */
  get nFeatures(): number {
    return this._nFeatures;
  }
  /** How the threshold was calibrated (null before fit). */
  get calibration(): Calibration | null {
    return this._calibration ? { ...this._calibration } : null;
  }
  /** The underlying network (linear reconstruction output). @throws ModelError when not fitted. */
  get network(): tf.LayersModel {
    return this.assertFitted();
  }

  /** Anomaly threshold on the score: a row is ANOMALY when `score ≥ threshold` (NaN before fit). */
  get threshold(): number {
    return this._threshold;
  }
  /** Replace the threshold (e.g. `--threshold` at scoring). @throws ModelError unless a finite number ≥ 0. */
  set threshold(t: number) {
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new ModelError(`the anomaly threshold must be a finite number ≥ 0, got ${String(t)}`);
    this._threshold = t;
  }

  /**
   * Train on benign rows only and calibrate the threshold.
   * @param X `rows × nFeatures` standardised BENIGN rows (every row is taken as normal traffic).
   * @returns this, trained, with {@link threshold} = the `quantile` of the calibration rows' scores.
   * @throws ModelError on a malformed or too small input (fewer than 10 rows) or a diverging loss.
   */
  async fit(X: FeatureMatrix): Promise<this> {
    if (X === null || typeof X !== 'object' || !(X.data instanceof Float64Array) || X.data.length !== X.rows * X.cols || X.cols < 1) {
      throw new ModelError('AutoencoderDetector.fit: X must be a non-empty FeatureMatrix');
    }
    if (X.rows < 10) throw new ModelError(`AutoencoderDetector.fit: needs at least 10 benign rows, got ${X.rows}`);
    const p = this.params;
    await initTf();
    const rng = new SeededRandom(p.seed);
    const perm = rng.shuffle(Int32Array.from({ length: X.rows }, (_, i) => i));
    const nCal = Math.max(1, Math.round(p.calibrationFraction * X.rows));
    const nVal = Math.round(p.validationFraction * X.rows);
    const sorted = (a: Int32Array): Int32Array => a.slice().sort();
    const split: AutoencoderSplit = {
      calibration: sorted(perm.subarray(0, nCal)),
      validation: sorted(perm.subarray(nCal, nCal + nVal)),
      train: sorted(perm.subarray(nCal + nVal)),
    };
    const net = buildAutoencoder(X.cols, p, rng);
    try {
      this.history = await trainNetwork({
        model: net,
        trainLayers: net.layers.length,
        data: X.data,
        cols: X.cols,
        clip: p.inputClip,
        train: split.train,
        validation: split.validation,
        rowLoss: (out, x) => tf.mean(tf.squaredDifference(out, x), 1),
        epochs: p.epochs,
        batchSize: p.batchSize,
        learningRate: p.learningRate,
        patience: p.patience,
        minDelta: p.minDelta,
        rng,
        onEpoch: this.onEpoch,
      });
      const artifacts = await captureArtifacts(net);
      this.setNetwork(net, artifacts, X.cols);
    } catch (e) {
      net.dispose();
      throw e;
    }
    const calRows = new Float64Array(nCal * X.cols);
    for (let i = 0; i < nCal; i++) calRows.set(X.data.subarray(split.calibration[i]! * X.cols, (split.calibration[i]! + 1) * X.cols), i * X.cols);
    const scores = this.scoreBatch(calRows, nCal);
    const t = quantile(scores, p.quantile);
    let over = 0;
    for (const s of scores) if (s >= t) over++;
    this._threshold = t;
    this._calibration = { quantile: p.quantile, rows: nCal, threshold: t, heldOutFpr: over / nCal };
    this.lastSplit = split;
    return this;
  }

  /**
   * Anomaly scores (mean squared reconstruction error per row, squared standard deviations) of standardised
   * rows, computed in batches of 4096.
   * @throws ModelError when not fitted, TensorFlow.js is not initialised, or `X` has the wrong width.
   */
  scoreRows(X: FeatureMatrix): Float64Array {
    this.assertFitted();
    checkInput(X, this._nFeatures, 'AutoencoderDetector');
    return this.scoreBatch(X.data, X.rows);
  }

  /**
   * Scores of `rows` standardised rows packed row-major in `data` into `out` (allocated when omitted) —
   * the batched path for streaming scorers.
   * @throws ModelError when not fitted or the arrays are too short.
   */
  scoreBatch(data: Float64Array, rows: number, out?: Float64Array): Float64Array {
    const net = this.assertFitted();
    const d = this._nFeatures;
    if (!Number.isInteger(rows) || rows < 0 || data.length < rows * d) throw new ModelError(`scoreBatch: data holds ${data.length} values, ${rows} rows need ${rows * d}`);
    const o = out ?? new Float64Array(rows);
    if (o.length < rows) throw new ModelError(`scoreBatch: out has ${o.length} slots for ${rows} rows`);
    forwardBatches(net, data, d, rows, this.params.inputClip, (v, first, n, xin) => {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = i * d, e = j + d; j < e; j++) {
          const r = v[j]! - xin[j]!;
          s += r * r;
        }
        o[first + i] = s / d;
      }
    });
    return o;
  }

  /** Score of one row `row[offset … offset + nFeatures)` (per-row fallback: one TensorFlow.js batch of 1). */
  scoreRow(row: Float64Array, offset = 0): number {
    this.assertFitted();
    const d = this._nFeatures;
    if (this.rowBuf.length !== d) this.rowBuf = new Float64Array(d);
    for (let j = 0; j < d; j++) this.rowBuf[j] = row[offset + j]!;
    return this.scoreBatch(this.rowBuf, 1, this.scoreBuf)[0]!;
  }

  /** Class per row: {@link ANOMALY_CLASS} (0) when `score ≥ threshold`, else {@link BENIGN_CLASS} (1). */
  predict(X: FeatureMatrix): Int32Array {
    const s = this.scoreRows(X);
    const t = this._threshold;
    return Int32Array.from(s, (v) => (v >= t ? ANOMALY_CLASS : BENIGN_CLASS));
  }

  /** `[P(ANOMALY), P(BENIGN)]` per row, `rows × 2` row-major (see the module documentation). */
  predictProba(X: FeatureMatrix): Float64Array {
    const s = this.scoreRows(X);
    const out = new Float64Array(X.rows * 2);
    for (let r = 0; r < X.rows; r++) this.probaOfScore(s[r]!, out, r * 2);
    return out;
  }

  /**
   * Probabilities `[P(ANOMALY), P(BENIGN)]` from scores (e.g. of {@link scoreBatch}) into `out`
   * (`scores.length × 2`, allocated when omitted).
   */
  probaOfScores(scores: Float64Array, out?: Float64Array): Float64Array {
    const o = out ?? new Float64Array(scores.length * 2);
    for (let r = 0; r < scores.length; r++) this.probaOfScore(scores[r]!, o, r * 2);
    return o;
  }

  /** Class of one row (per-row fallback). */
  predictRow(row: Float64Array, offset = 0): number {
    return this.scoreRow(row, offset) >= this._threshold ? ANOMALY_CLASS : BENIGN_CLASS;
  }

  /** Probabilities of one row into `out[outOffset], out[outOffset + 1]` (per-row fallback). */
  predictProbaRow(row: Float64Array, out: Float64Array, offset = 0, outOffset = 0): Float64Array {
    this.probaOfScore(this.scoreRow(row, offset), out, outOffset);
    return out;
  }

  /** Plain-JSON form (topology, weights manifest, threshold, calibration, options, history). @throws ModelError when not fitted. */
  toJSON(): AutoencoderJSON {
    this.assertFitted();
    const a = this.artifacts!;
    return {
      nFeatures: this._nFeatures,
      nClasses: 2,
      params: { ...this.params, hiddenLayers: [...this.params.hiddenLayers] },
      threshold: this._threshold,
      calibration: { ...this._calibration! },
      topology: a.topology,
      weights: { ...a.manifest, specs: a.manifest.specs.map((s) => ({ ...s, shape: [...s.shape] })) },
      history: this.history,
      tfjsVersion: tf.version.tfjs,
    };
  }

  /** Bytes of `weights.bin`. @throws ModelError when not fitted. */
  weightsData(): Uint8Array {
    this.assertFitted();
    return this.artifacts!.weights;
  }

  /** Release the network's tensors. */
  dispose(): void {
    this.net?.dispose();
    this.net = null;
  }

  /**
   * Rebuild a detector from its JSON and the bundle directory holding `weights.bin`; initialises TensorFlow.js.
   * @throws ModelError on invalid JSON (threshold not a finite number ≥ 0, …), a bad weights file, or a
   *   network that does not map `nFeatures` to `nFeatures`.
   */
  static async load(json: unknown, dir: string, field = 'model'): Promise<AutoencoderDetector> {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('missing or not an object', { field });
    const o = json as Record<string, unknown>;
    const d = o.nFeatures;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 1) throw new ModelError(`must be a positive integer, got ${JSON.stringify(d) ?? 'nothing'}`, { field: `${field}.nFeatures` });
    if (o.nClasses !== 2) throw new ModelError(`must be 2, got ${JSON.stringify(o.nClasses) ?? 'nothing'}`, { field: `${field}.nClasses` });
    const m = new AutoencoderDetector(paramsFromJSON(o.params, `${field}.params`, resolveAutoencoderParams));
    const finite = (v: unknown, f: string): number => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ModelError(`must be a finite number ≥ 0, got ${JSON.stringify(v) ?? 'nothing'}`, { field: f });
      return v;
    };
    const threshold = finite(o.threshold, `${field}.threshold`);
    const c = o.calibration;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new ModelError('missing or not an object', { field: `${field}.calibration` });
    const cal = c as Record<string, unknown>;
    const calibration: Calibration = {
      quantile: finite(cal.quantile, `${field}.calibration.quantile`),
      rows: finite(cal.rows, `${field}.calibration.rows`),
      threshold: finite(cal.threshold, `${field}.calibration.threshold`),
      heldOutFpr: finite(cal.heldOutFpr, `${field}.calibration.heldOutFpr`),
    };
    const manifest = parseManifest(o.weights, `${field}.weights`);
    const topology = parseTopology(o.topology, `${field}.topology`);
    const { model: net, artifacts } = await loadNetwork(dir, topology, manifest, field);
    checkNetworkShape(net, d, d, field);
    m.setNetwork(net, artifacts, d);
    m._threshold = threshold;
    m._calibration = calibration;
    m.history = (o.history ?? null) as TrainingHistory | null;
    return m;
  }

  private probaOfScore(s: number, out: Float64Array, off: number): void {
    const t = this._threshold;
    let pa: number;
    if (s >= t) pa = t === 0 ? 1 : Math.max(0.5, s / (s + t));
    else pa = Math.min(0.49999999999999994, s / (s + t));
    out[off] = pa;
    out[off + 1] = 1 - pa;
  }

  private setNetwork(net: tf.LayersModel, artifacts: NetworkArtifacts, d: number): void {
    this.net?.dispose();
    this.net = net;
    this.artifacts = artifacts;
    this._nFeatures = d;
  }

  private assertFitted(): tf.LayersModel {
    if (this.net === null) throw new ModelError('AutoencoderDetector is not fitted');
    assertTfReady();
    return this.net;
  }
}

/** d → hidden… → d (linear output), Glorot-uniform seeded kernels, zero biases. */
function buildAutoencoder(d: number, p: AutoencoderParams, rng: SeededRandom): tf.Sequential {
  const net = tf.sequential({ name: 'flowsift_autoencoder' });
  p.hiddenLayers.forEach((units, i) => {
    net.add(tf.layers.dense({
      units, activation: p.activation, name: `hidden_${i}`, ...(i === 0 ? { inputShape: [d] } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seed() }), biasInitializer: 'zeros',
    }));
  });
  net.add(tf.layers.dense({ units: d, name: 'reconstruction', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seed() }), biasInitializer: 'zeros' }));
  return net;
}

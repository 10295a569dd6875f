/**
 * Multi-layer perceptron classifier on TensorFlow.js (wasm backend, see `tfjs.ts`): dense ReLU layers with
 * dropout, a softmax output, categorical cross-entropy with optional class weights, Adam, and early
 * stopping on a stratified validation split. Trained with a seeded loop, so the same seed, data and
 * backend give the same weights and predictions.
 *
 * The inputs are the STANDARDISED features (the bundle's StandardScaler runs before the model, as for
 * trees; the MLP does not scale again). Before conversion to float32, NaN becomes 0 and values are
 * clipped to ±`inputClip` (default 1e6).
 *
 * ```ts
 * const mlp = await new MLPClassifier({ hiddenLayers: [128, 64], classWeight: 'balanced', seed: 1 }).fit(Xs, y, k);
 * const proba = mlp.predictProba(XsTest); // rows × k, row-major
 * ```
 */
import { ModelError } from './errors.js';
import type { FeatureMatrix } from './matrix.js';
import {
  assertTfReady, captureArtifacts, checkInput, DEFAULT_INPUT_CLIP, forwardBatches, initTf, loadNetwork, parseManifest, parseTopology,
  SeededRandom, tf, trainNetwork, type NetworkArtifacts, type TrainingHistory, type WeightsManifest,
} from './tfjs.js';
import { balancedClassWeights, type ClassWeight, type Classifier } from './tree.js';

/** Hidden-layer activations offered. */
export type MLPActivation = 'relu' | 'elu' | 'tanh';

/** Options of {@link MLPClassifier}; every field is optional. */
export interface MLPOptions {
  /** Units of each hidden dense layer, input side first (each an integer ≥ 1). Default `[128, 64]`. */
  hiddenLayers?: readonly number[];
  /** Hidden activation. Default `'relu'`. */
  activation?: MLPActivation;
  /** Dropout rate after each hidden layer, in [0, 1). Default 0.2 (0 = none). */
  dropout?: number;
  /** Adam learning rate (> 0). Default 1e-3. */
  learningRate?: number;
  /** Rows per training batch (integer ≥ 1). Default 256. */
  batchSize?: number;
  /** Maximum number of epochs (integer ≥ 1). Default 60. */
  epochs?: number;
  /** Early stopping: epochs without improvement of the validation loss before stopping (integer ≥ 1). Default 6. */
  patience?: number;
  /** Smallest validation-loss decrease that counts as an improvement (≥ 0). Default 1e-4. */
  minDelta?: number;
  /**
   * Fraction of the training rows held out, stratified by class, to monitor the validation loss for early
   * stopping (the best epoch's weights are restored), in [0, 1). 0 = no early stopping: all `epochs` run.
   * Default 0.1.
   */
  validationFraction?: number;
  /**
   * Class weights multiplying each row's loss: `null` (default), `'balanced'` (scikit-learn's
   * `compute_class_weight('balanced')`: `n / (k_present · count_c)`, computed on the rows used for fitting),
   * or one finite weight ≥ 0 per class. The validation loss uses the same weights.
   */
  classWeight?: ClassWeight;
  /** Seed of every random choice (split, shuffles, dropout, initial weights); a safe integer. Default 0. */
  seed?: number;
  /** Inputs are clipped to ±this before float32 conversion (> 0). Default 1e6. */
  inputClip?: number;
  /** Called after each epoch (e.g. progress output); not stored. */
  onEpoch?: (epoch: number, trainLoss: number, validationLoss: number | null) => void;
}

/** The options with defaults applied, as stored in the model JSON (`onEpoch` excluded). */
export interface MLPParams {
  hiddenLayers: number[];
  activation: MLPActivation;
  dropout: number;
  learningRate: number;
  batchSize: number;
  epochs: number;
  patience: number;
  minDelta: number;
  validationFraction: number;
  classWeight: null | 'balanced' | number[];
  seed: number;
  inputClip: number;
}

/** Plain-JSON form of a fitted {@link MLPClassifier} (the bundle adds `algo: "mlp"`); weights are in `weights.bin`. */
export interface MLPJSON {
  nFeatures: number;
  nClasses: number;
  params: MLPParams;
  /** Class weights actually applied (length `nClasses`), or null. */
  classWeights: number[] | null;
  /** Keras-style network topology (`tf.LayersModel.toJSON`). */
  topology: Record<string, unknown>;
  /** Manifest of `weights.bin`. */
  weights: WeightsManifest;
  /** Training curve and early-stopping outcome (null when unknown). */
  history: TrainingHistory | null;
  /** TensorFlow.js version that wrote the model. */
  tfjsVersion: string;
}

/** Which rows of the training matrix went where during the last {@link MLPClassifier.fit} (not stored). */
export interface MLPSplit {
  train: Int32Array;
  validation: Int32Array;
}

/**
 * Resolve and validate MLP options.
 * @throws ModelError naming the offending option (`options.<name>`).
 */
export function resolveMLPParams(o: MLPOptions = {}, where = 'options'): MLPParams {
  const bad = (name: string, want: string, got: unknown): ModelError =>
    new ModelError(`must be ${want}, got ${JSON.stringify(got) ?? String(got)}`, { field: `${where}.${name}` });
  const int = (name: keyof MLPOptions, v: unknown, min: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw bad(name, `an integer ≥ ${min}`, v);
    return v;
  };
  const hidden = o.hiddenLayers ?? [128, 64];
  if (!Array.isArray(hidden) || !hidden.every((u) => Number.isInteger(u) && u >= 1)) throw bad('hiddenLayers', 'an array of integers ≥ 1', hidden);
  const activation = o.activation ?? 'relu';
  if (!['relu', 'elu', 'tanh'].includes(activation)) throw bad('activation', "'relu', 'elu' or 'tanh'", activation);
  const dropout = o.dropout ?? 0.2;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) throw bad('dropout', 'a number in [0, 1)', dropout);
  const learningRate = o.learningRate ?? 1e-3;
  if (typeof learningRate !== 'number' || !(learningRate > 0 && Number.isFinite(learningRate))) throw bad('learningRate', 'a finite number > 0', learningRate);
  const minDelta = o.minDelta ?? 1e-4;
  if (typeof minDelta !== 'number' || !(minDelta >= 0 && Number.isFinite(minDelta))) throw bad('minDelta', 'a finite number ≥ 0', minDelta);
  const vf = o.validationFraction ?? 0.1;
  if (typeof vf !== 'number' || !(vf >= 0 && vf < 1)) throw bad('validationFraction', 'a number in [0, 1)', vf);
  const cw = o.classWeight ?? null;
  let classWeight: MLPParams['classWeight'] = null;
  if (cw === 'balanced') classWeight = 'balanced';
  else if (Array.isArray(cw)) {
    classWeight = cw.map((v: unknown, i: number) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw bad(`classWeight[${i}]`, 'a finite number ≥ 0', v);
      return v;
    });
  } else if (cw !== null) throw bad('classWeight', "null, 'balanced' or an array of weights", cw);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw bad('seed', 'a safe integer', seed);
  const inputClip = o.inputClip ?? DEFAULT_INPUT_CLIP;
  if (typeof inputClip !== 'number' || !(inputClip > 0 && inputClip <= 1e30)) throw bad('inputClip', 'a number in (0, 1e30]', inputClip);
  return {
    hiddenLayers: [...hidden],
    activation,
    dropout,
    learningRate,
    batchSize: int('batchSize', o.batchSize ?? 256, 1),
    epochs: int('epochs', o.epochs ?? 60, 1),
    patience: int('patience', o.patience ?? 6, 1),
    minDelta,
    validationFraction: vf,
    classWeight,
    seed,
    inputClip,
  };
}

/**
 * Stratified split: for each class with `n_c ≥ 2` rows, `min(n_c − 1, round(fraction · n_c))` randomly
 * chosen rows go to validation (a class with one row stays in training). Both lists are sorted.
 */
export function stratifiedSplit(y: Int32Array, nClasses: number, fraction: number, rng: SeededRandom): MLPSplit {
  const byClass: number[][] = Array.from({ length: nClasses }, () => []);
  for (let i = 0; i < y.length; i++) byClass[y[i]!]!.push(i);
  const isVal = new Uint8Array(y.length);
  for (const rows of byClass) {
    if (rows.length < 2 || fraction <= 0) continue;
    const nv = Math.min(rows.length - 1, Math.round(fraction * rows.length));
    rng.shuffle(rows);
    for (let j = 0; j < nv; j++) isVal[rows[j]!] = 1;
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (let i = 0; i < y.length; i++) (isVal[i] ? validation : train).push(i);
  return { train: Int32Array.from(train), validation: Int32Array.from(validation) };
}

/**
 * Multi-layer perceptron classifier (see the module documentation). Implements {@link Classifier}:
 * `predict*` are synchronous and need TensorFlow.js initialised — done by {@link fit},
 * {@link MLPClassifier.load} and `loadBundleAsync`; otherwise `await initTf()` first.
 */
export class MLPClassifier implements Classifier {
  /** Algorithm tag in a model bundle. */
  readonly algo = 'mlp';
  /** Resolved options. */
  readonly params: MLPParams;
  /** Training curve of the last fit or of the stored model (null before fit). */
  history: TrainingHistory | null = null;
  /** Rows used for fitting and for validation in the last {@link fit} (null after loading). */
  lastSplit: MLPSplit | null = null;
  private readonly onEpoch: MLPOptions['onEpoch'];
  private net: tf.LayersModel | null = null;
  private artifacts: NetworkArtifacts | null = null;
  private _nFeatures = 0;
  private _nClasses = 0;
  private _classWeights: Float64Array | null = null;
  private rowBuf = new Float64Array(0);
  private probaBuf = new Float64Array(0);

  /** @throws ModelError on invalid options ({@link resolveMLPParams}). */
  constructor(options: MLPOptions = {}) {
    this.params = resolveMLPParams(options);
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
  /** Number of classes (0 before fit). */
  get nClasses(): number {
    return this._nClasses;
  }
  /** Class weights applied in training (length `nClasses`), or null. */
  get classWeights(): Float64Array | null {
    return this._classWeights?.slice() ?? null;
  }
  /** The underlying TensorFlow.js network (softmax output). @throws ModelError when not fitted. */
  get network(): tf.LayersModel {
    return this.assertFitted();
  }

  /**
   * Train on standardised rows.
   * @param X `rows × nFeatures` standardised features (the bundle's scaler already applied).
   * @param y class index per row, in `[0, nClasses)`.
   * @param nClasses number of classes (≥ 2; classes may be absent from `y`).
   * @returns this, once trained (the best validation epoch's weights restored).
   * @throws ModelError on malformed input, labels out of range, a class-weight array of the wrong length,
   *   no training row, or a diverging loss.
   */
  async fit(X: FeatureMatrix, y: Int32Array, nClasses: number): Promise<this> {
    if (!Number.isInteger(nClasses) || nClasses < 2) throw new ModelError(`nClasses must be an integer ≥ 2, got ${nClasses}`);
    if (X === null || typeof X !== 'object' || !(X.data instanceof Float64Array) || X.data.length !== X.rows * X.cols || X.cols < 1) {
      throw new ModelError('MLPClassifier.fit: X must be a non-empty FeatureMatrix');
    }
    if (!(y instanceof Int32Array) || y.length !== X.rows) throw new ModelError(`MLPClassifier.fit: y must be an Int32Array of ${X.rows} labels`);
    for (let i = 0; i < y.length; i++) {
      if (!(y[i]! >= 0 && y[i]! < nClasses)) throw new ModelError(`MLPClassifier.fit: y[${i}] = ${y[i]} is not a class index in [0, ${nClasses})`);
    }
    if (X.rows < 1) throw new ModelError('MLPClassifier.fit: no training rows');
    const p = this.params;
    if (Array.isArray(p.classWeight) && p.classWeight.length !== nClasses) {
      throw new ModelError(`has ${p.classWeight.length} weights for ${nClasses} classes`, { field: 'options.classWeight' });
    }
    await initTf();
    const rng = new SeededRandom(p.seed);
    const split = stratifiedSplit(y, nClasses, p.validationFraction, rng);
    const yTrain = Int32Array.from(split.train, (i) => y[i]!);
    const cw = p.classWeight === 'balanced' ? balancedClassWeights(yTrain, nClasses) : p.classWeight ? Float64Array.from(p.classWeight) : null;
    const net = buildMLP(X.cols, nClasses, p, rng);
    const wRow = cw ? Float32Array.from(y, (c) => cw[c]!) : null;
    try {
      this.history = await trainNetwork({
        model: net,
        trainLayers: net.layers.length - 1, // logits; the softmax is folded into the loss
        data: X.data,
        cols: X.cols,
        clip: p.inputClip,
        train: split.train,
        validation: split.validation,
        rowLoss: (logits, _x, rows) => {
          const labels = tf.tensor1d(Int32Array.from(rows, (i) => y[i]!), 'int32');
          return tf.neg(tf.sum(tf.mul(tf.oneHot(labels, nClasses), tf.logSoftmax(logits)), 1));
        },
        rowWeights: wRow ? (rows) => Float32Array.from(rows, (i) => wRow[i]!) : undefined,
        epochs: p.epochs,
        batchSize: p.batchSize,
        learningRate: p.learningRate,
        patience: p.patience,
        minDelta: p.minDelta,
        rng,
        onEpoch: this.onEpoch,
      });
      const artifacts = await captureArtifacts(net);
      this.setNetwork(net, artifacts, X.cols, nClasses, cw);
    } catch (e) {
      net.dispose();
      throw e;
    }
    this.lastSplit = split;
    return this;
  }

  /**
   * Class probabilities of standardised rows, `rows × nClasses` row-major (softmax outputs, float32
   * precision), computed in batches of 4096 rows.
   * @throws ModelError when not fitted, TensorFlow.js is not initialised, or `X` has the wrong width.
   */
  predictProba(X: FeatureMatrix): Float64Array {
    this.assertFitted();
    checkInput(X, this._nFeatures, 'MLPClassifier');
    return this.predictProbaBatch(X.data, X.rows);
  }

  /**
   * Probabilities of `rows` standardised rows packed row-major in `data` (`nFeatures` values each), into
   * `out` (`rows × nClasses`, allocated when omitted) — the batched path for streaming scorers that
   * buffer flows (one TensorFlow.js call per 4096 rows instead of one per row).
   * @throws ModelError when not fitted, `data` is too short, or `out` too small.
   */
  predictProbaBatch(data: Float64Array, rows: number, out?: Float64Array): Float64Array {
    const net = this.assertFitted();
    const d = this._nFeatures;
    const k = this._nClasses;
    if (!Number.isInteger(rows) || rows < 0 || data.length < rows * d) throw new ModelError(`predictProbaBatch: data holds ${data.length} values, ${rows} rows need ${rows * d}`);
    const o = out ?? new Float64Array(rows * k);
    if (o.length < rows * k) throw new ModelError(`predictProbaBatch: out has ${o.length} slots for ${rows * k}`);
    if (rows === 0) return o;
    forwardBatches(net, data, d, rows, this.params.inputClip, (v, first, n) => {
      for (let i = 0; i < n * k; i++) o[first * k + i] = v[i]!;
    });
    return o;
  }

  /** Class index (argmax of the probabilities, first on ties) per standardised row. @throws ModelError as {@link predictProba}. */
  predict(X: FeatureMatrix): Int32Array {
    const p = this.predictProba(X);
    const k = this._nClasses;
    const out = new Int32Array(X.rows);
    for (let r = 0; r < X.rows; r++) out[r] = argmax(p, r * k, k);
    return out;
  }

  /**
   * Probabilities of one row `row[offset … offset + nFeatures)` into `out[outOffset …]`. A per-row
   * fallback: each call is one TensorFlow.js batch of 1 row (~0.1–1 ms); use {@link predictProbaBatch}
   * for bulk scoring. No allocation after the first call.
   */
  predictProbaRow(row: Float64Array, out: Float64Array, offset = 0, outOffset = 0): Float64Array {
    const p = this.probaOfRow(row, offset);
    for (let c = 0; c < this._nClasses; c++) out[outOffset + c] = p[c]!;
    return out;
  }

  /** Class index of one row (per-row fallback, see {@link predictProbaRow}). */
  predictRow(row: Float64Array, offset = 0): number {
    return argmax(this.probaOfRow(row, offset), 0, this._nClasses);
  }

  /** Plain-JSON form (topology, weights manifest, options, history); the weights are {@link weightsData}. @throws ModelError when not fitted. */
  toJSON(): MLPJSON {
    this.assertFitted();
    const a = this.artifacts!;
    return {
      nFeatures: this._nFeatures,
      nClasses: this._nClasses,
      params: { ...this.params, hiddenLayers: [...this.params.hiddenLayers], classWeight: Array.isArray(this.params.classWeight) ? [...this.params.classWeight] : this.params.classWeight },
      classWeights: this._classWeights ? Array.from(this._classWeights) : null,
      topology: a.topology,
      weights: { ...a.manifest, specs: a.manifest.specs.map((s) => ({ ...s, shape: [...s.shape] })) },
      history: this.history,
      tfjsVersion: tf.version.tfjs,
    };
  }

  /** Bytes of `weights.bin` (little-endian float32, in the manifest's order). @throws ModelError when not fitted. */
  weightsData(): Uint8Array {
    this.assertFitted();
    return this.artifacts!.weights;
  }

  /** Release the network's tensors (the object is unusable afterwards). */
  dispose(): void {
    this.net?.dispose();
    this.net = null;
  }

  /**
   * Rebuild a model from its JSON (as in a bundle's `model` field) and the bundle directory holding
   * `weights.bin`; initialises TensorFlow.js.
   * @param field JSON location for messages.
   * @throws ModelError on invalid JSON, a missing/truncated/corrupt weights file, non-finite weights, or a
   *   network whose shape disagrees with `nFeatures` / `nClasses`.
   */
  static async load(json: unknown, dir: string, field = 'model'): Promise<MLPClassifier> {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('missing or not an object', { field });
    const o = json as Record<string, unknown>;
    const nFeatures = posInt(o.nFeatures, `${field}.nFeatures`);
    const nClasses = posInt(o.nClasses, `${field}.nClasses`);
    if (nClasses < 2) throw new ModelError(`must be ≥ 2, got ${nClasses}`, { field: `${field}.nClasses` });
    const m = new MLPClassifier(paramsFromJSON(o.params, `${field}.params`, resolveMLPParams));
    let cw: Float64Array | null = null;
    if (o.classWeights !== null && o.classWeights !== undefined) {
      if (!Array.isArray(o.classWeights) || o.classWeights.length !== nClasses || !o.classWeights.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
        throw new ModelError(`must be null or ${nClasses} finite numbers ≥ 0`, { field: `${field}.classWeights` });
      }
      cw = Float64Array.from(o.classWeights as number[]);
    }
    const manifest = parseManifest(o.weights, `${field}.weights`);
    const topology = parseTopology(o.topology, `${field}.topology`);
    const { model: net, artifacts } = await loadNetwork(dir, topology, manifest, field);
    checkNetworkShape(net, nFeatures, nClasses, field);
    m.setNetwork(net, artifacts, nFeatures, nClasses, cw);
    m.history = (o.history ?? null) as TrainingHistory | null;
    return m;
  }

  private setNetwork(net: tf.LayersModel, artifacts: NetworkArtifacts, d: number, k: number, cw: Float64Array | null): void {
    this.net?.dispose();
    this.net = net;
    this.artifacts = artifacts;
    this._nFeatures = d;
    this._nClasses = k;
    this._classWeights = cw;
  }

  private probaOfRow(row: Float64Array, offset: number): Float64Array {
    this.assertFitted();
    const d = this._nFeatures;
    if (this.rowBuf.length !== d) this.rowBuf = new Float64Array(d);
    if (this.probaBuf.length !== this._nClasses) this.probaBuf = new Float64Array(this._nClasses);
    for (let j = 0; j < d; j++) this.rowBuf[j] = row[offset + j]!;
    return this.predictProbaBatch(this.rowBuf, 1, this.probaBuf);
  }

  private assertFitted(): tf.LayersModel {
    if (this.net === null) throw new ModelError('MLPClassifier is not fitted');
    assertTfReady();
    return this.net;
  }
}

/** The network: [dense(units, activation) → dropout]… → dense(k) logits → softmax, Glorot-uniform seeded kernels, zero biases. */
function buildMLP(d: number, k: number, p: MLPParams, rng: SeededRandom): tf.Sequential {
  const net = tf.sequential({ name: 'flowsift_mlp' });
  p.hiddenLayers.forEach((units, i) => {
    net.add(tf.layers.dense({
      units, activation: p.activation, name: `hidden_${i}`, ...(i === 0 ? { inputShape: [d] } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seed() }), biasInitializer: 'zeros',
    }));
    if (p.dropout > 0) net.add(tf.layers.dropout({ rate: p.dropout, name: `dropout_${i}` }));
  });
  net.add(tf.layers.dense({
    units: k, name: 'logits', ...(p.hiddenLayers.length === 0 ? { inputShape: [d] } : {}),
    kernelInitializer: tf.initializers.glorotUniform({ seed: rng.seed() }), biasInitializer: 'zeros',
  }));
  net.add(tf.layers.softmax({ name: 'softmax' }));
  return net;
}

/** Checks that a loaded network maps `[n, d]` to `[n, k]`. @throws ModelError */
export function checkNetworkShape(net: tf.LayersModel, d: number, k: number, field: string): void {
  const inShape = net.inputs[0]?.shape;
  const outShape = net.outputs[0]?.shape;
  if (net.inputs.length !== 1 || net.outputs.length !== 1 || inShape?.length !== 2 || inShape[1] !== d || outShape?.length !== 2 || outShape[1] !== k) {
    throw new ModelError(`network maps ${JSON.stringify(inShape)} to ${JSON.stringify(outShape)}, expected [null,${d}] to [null,${k}]`, { field: `${field}.topology` });
  }
}

/** Re-validate stored options through `resolve` (the same checks as the constructor). @throws ModelError */
export function paramsFromJSON<T>(json: unknown, field: string, resolve: (o: never, where: string) => T): T {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('missing or not an object', { field });
  return resolve(json as never, field);
}

function posInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ModelError(`must be a positive integer, got ${JSON.stringify(v) ?? 'nothing'}`, { field });
  return v;
}

function argmax(p: Float64Array, off: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if (p[off + c]! > p[off + best]!) best = c;
  return best;
}

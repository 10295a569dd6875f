/**
 * TensorFlow.js plumbing shared by the neural models ({@link MLPClassifier} in `mlp.ts`,
 * {@link AutoencoderDetector} in `autoencoder.ts`): backend set-up, deterministic random numbers, the
 * float32 input conversion, and the weights file of a model bundle with its validating IOHandler.
 *
 * - **Backend.** {@link initTf} selects TensorFlow.js's WebAssembly backend (`@tensorflow/tfjs-backend-wasm`,
 *   SIMD, single thread; the `.wasm` binaries are read from `node_modules`, never fetched) and falls back to
 *   the pure-JavaScript `cpu` backend with a one-line warning when wasm cannot start. `@tensorflow/tfjs-node`
 *   is not used (it downloads libtensorflow at install time). Importing this module loads TensorFlow.js
 *   (about 1.5 s): the model stage imports it lazily, only for `mlp` / `autoencoder` models.
 * - **Determinism.** TensorFlow.js has no global seed (`tf.randomUniform` without a seed and
 *   `model.fit`'s shuffling draw from `Math.random`). The models therefore train with their own loop:
 *   every random choice (splits, shuffles, dropout masks, initializer seeds) comes from a {@link SeededRandom}
 *   built from the model's `seed`, so the same seed, data and backend give the same weights and predictions.
 *   Different backends (wasm vs cpu) round differently and may give slightly different models.
 * - **Weights file.** A bundle of a TensorFlow.js model holds the network topology (Keras-style JSON, as
 *   `tf.LayersModel.toJSON`) inside `model.json` and the weights in {@link WEIGHTS_FILE} beside it: the
 *   float32 values of every weight, little-endian, concatenated in the order of the manifest's `specs`
 *   (TensorFlow.js's own weights layout). The manifest ({@link WeightsManifest}) records the byte length
 *   and the SHA-256 of the file; {@link readWeightsFile} and {@link BundleIOHandler.load} check the file
 *   against it and reject non-finite values.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { ModelError } from './errors.js';
import type { FeatureMatrix } from './matrix.js';

export { tf };

/** File name of the weights of a TensorFlow.js model, in the bundle directory beside `model.json`. */
export const WEIGHTS_FILE = 'weights.bin';

/** Largest magnitude of a (standardised) input given to a network; larger values are clipped (see {@link toFloat32Rows}). */
export const DEFAULT_INPUT_CLIP = 1e6;

/** Row count of the batches used for prediction (TensorFlow.js's default of 32 is ~70× slower on wasm). */
export const PREDICT_BATCH = 4096;

/** Backends flowsift can run TensorFlow.js on. */
export type TfBackendName = 'wasm' | 'cpu';

/** Options of {@link initTf}. */
export interface TfInitOptions {
  /** Backend to use; default `'wasm'` (falls back to `'cpu'` with a warning), or the `FLOWSIFT_TF_BACKEND` environment variable. */
  backend?: TfBackendName;
  /** Receives the one-line fallback warning; default writes `flowsift: warning: …` to stderr. */
  warn?: (message: string) => void;
}

let ready: Promise<TfBackendName> | null = null;

/**
 * Initialise TensorFlow.js once per process (later calls return the first call's result): production
 * mode (no console chatter), then the wasm backend with its binaries located inside
 * `node_modules/@tensorflow/tfjs-backend-wasm/dist/`; if wasm fails to start, the cpu backend and one
 * warning line. Must be awaited before any model in this stage trains or predicts.
 * @returns the active backend.
 * @throws ModelError when no backend can be initialised or `backend` is not a known name.
 */
export function initTf(opts: TfInitOptions = {}): Promise<TfBackendName> {
  ready ??= (async (): Promise<TfBackendName> => {
    const want = opts.backend ?? (process.env.FLOWSIFT_TF_BACKEND as TfBackendName | undefined) ?? 'wasm';
    if (want !== 'wasm' && want !== 'cpu') throw new ModelError(`unknown TensorFlow.js backend '${String(want)}' (use wasm or cpu)`);
    tf.enableProdMode();
    const warn = opts.warn ?? ((m: string) => process.stderr.write(`flowsift: warning: ${m}\n`));
    if (want === 'wasm') {
      // The wasm module (Emscripten) reports a failed start on the console in several lines: keep them
      // for the one-line warning instead.
      const said: string[] = [];
      const saved = { error: console.error, warn: console.warn, log: console.log };
      console.error = console.warn = console.log = (...a: unknown[]) => void said.push(a.map(String).join(' '));
      let ok = false;
      try {
        const req = createRequire(import.meta.url);
        const dir = dirname(req.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
        setWasmPaths(`${dir}/`);
        ok = await tf.setBackend('wasm');
        if (ok) await tf.ready();
      } catch (e) {
        said.unshift((e as Error).message);
        ok = false;
      } finally {
        Object.assign(console, saved);
      }
      if (ok) return 'wasm';
      const why = (said[0] ?? 'initialisation failed').split('\n')[0]!.slice(0, 200);
      warn(`TensorFlow.js wasm backend unavailable (${why}); using the slower cpu backend`);
    }
    if (!(await tf.setBackend('cpu'))) throw new ModelError('cannot initialise a TensorFlow.js backend (wasm and cpu both failed)');
    await tf.ready();
    return 'cpu';
  })();
  return ready;
}

/** Throws unless {@link initTf} has completed (the synchronous predict methods need a ready backend). */
export function assertTfReady(): void {
  const b = tf.getBackend();
  if (b !== 'wasm' && b !== 'cpu') throw new ModelError('TensorFlow.js is not initialised: await initTf() (or load the bundle with loadBundleAsync) first');
}

/**
 * Small deterministic generator (mulberry32, Tommy Ettinger's 32-bit state mixer): uniform doubles with 32
 * random bits, integers, Fisher–Yates shuffles and sub-seeds for TensorFlow.js initialisers. Not for
 * cryptography.
 */
export class SeededRandom {
  private state: number;

  /** @param seed any safe integer; the state is `seed mod 2^32` mixed once. */
  constructor(seed: number) {
    this.state = (seed >>> 0) ^ 0x9e3779b9;
    this.nextUint32();
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform double in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n) (n ≤ 2^32). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A positive integer seed for a TensorFlow.js initializer (in [1, 2^31)). */
  seed(): number {
    return (this.nextUint32() % 0x7ffffffe) + 1;
  }

  /**
   * Fill `out` with an inverted-dropout mask: each entry independently `1 / keep` with probability `keep`,
   * else 0 (one 32-bit draw per entry, inlined for speed).
   */
  dropoutMask(out: Float32Array, keep: number): Float32Array {
    const limit = Math.floor(keep * 4294967296);
    const scale = 1 / keep;
    let st = this.state;
    for (let i = 0; i < out.length; i++) {
      st = (st + 0x6d2b79f5) >>> 0;
      let t = Math.imul(st ^ (st >>> 15), st | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = ((t ^ (t >>> 14)) >>> 0) < limit ? scale : 0;
    }
    this.state = st;
    return out;
  }

  /** Shuffle `a` in place (Fisher–Yates); returns `a`. */
  shuffle<T extends { length: number; [i: number]: number }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a;
  }
}

/**
 * Float32 copy of selected rows of a row-major float64 table, for a network input: NaN becomes 0 and
 * values are clipped to `[-clip, clip]` (the StandardScaler maps overflow to ±`Number.MAX_VALUE`, which is
 * Infinity in float32 and would poison the network).
 * @param data row-major values, `cols` per row.
 * @param rows row indices to copy, or `null` for rows `start … start + count − 1`.
 * @param out destination of length ≥ `count × cols` (allocated when omitted).
 */
export function toFloat32Rows(
  data: Float64Array, cols: number, rows: ArrayLike<number> | null, start: number, count: number, clip: number, out?: Float32Array,
): Float32Array {
  const o = out ?? new Float32Array(count * cols);
  for (let i = 0; i < count; i++) {
    const src = (rows === null ? start + i : rows[start + i]!) * cols;
    const dst = i * cols;
    for (let c = 0; c < cols; c++) {
      const v = data[src + c]!;
      o[dst + c] = v > clip ? clip : v < -clip ? -clip : v === v ? v : 0;
    }
  }
  return o;
}

/** Checks a matrix handed to a network: shape, column count. @throws ModelError */
export function checkInput(X: FeatureMatrix, nFeatures: number, who: string): void {
  if (X === null || typeof X !== 'object' || !(X.data instanceof Float64Array)) throw new ModelError(`${who}: X must be a FeatureMatrix with a Float64Array data`);
  if (X.data.length !== X.rows * X.cols) throw new ModelError(`${who}: X.data has ${X.data.length} values for ${X.rows} × ${X.cols}`);
  if (X.cols !== nFeatures) throw new ModelError(`${who}: input has ${X.cols} columns, the model was fitted on ${nFeatures}`);
}

/**
 * Forward pass of `model` (inference mode) over `count` rows, in batches of {@link PREDICT_BATCH} rows;
 * `write(batchOutput, firstRow, batchRows, batchInput)` receives each batch's output values and its
 * float32 (clipped) input, both row-major; both buffers are reused by the next batch.
 * Runs synchronously (`dataSync`); TensorFlow.js must be initialised.
 */
export function forwardBatches(
  model: tf.LayersModel, data: Float64Array, cols: number, count: number, clip: number,
  write: (values: Float32Array, first: number, n: number, input: Float32Array) => void,
): void {
  assertTfReady();
  const buf = new Float32Array(Math.min(count, PREDICT_BATCH) * cols);
  for (let start = 0; start < count; start += PREDICT_BATCH) {
    const n = Math.min(PREDICT_BATCH, count - start);
    const view = n * cols === buf.length ? buf : buf.subarray(0, n * cols);
    toFloat32Rows(data, cols, null, start, n, clip, view);
    // Return the tensor from tidy, not its values: tidy walks a returned container element by element.
    const y = tf.tidy(() => model.predict(tf.tensor2d(view, [n, cols]), { batchSize: PREDICT_BATCH }) as tf.Tensor);
    try {
      write(y.dataSync() as Float32Array, start, n, view);
    } finally {
      y.dispose();
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Weights file and IOHandler

/** One weight tensor of a {@link WeightsManifest}: TensorFlow.js's `WeightsManifestEntry`, float32 only. */
export interface WeightSpec {
  /** TensorFlow.js weight name, e.g. `hidden_0/kernel`. */
  name: string;
  /** Tensor shape (non-negative integers). */
  shape: number[];
  /** Element type; only `float32` is written and read. */
  dtype: 'float32';
}

/** The `weights` field of a TensorFlow.js model in `model.json`: what {@link WEIGHTS_FILE} must hold. */
export interface WeightsManifest {
  /** File name inside the bundle directory; always {@link WEIGHTS_FILE}. */
  file: typeof WEIGHTS_FILE;
  /** Exact byte length of the file (4 × the total number of weights). */
  bytes: number;
  /** Lower-case hex SHA-256 of the file. */
  sha256: string;
  /** The tensors, in file order. */
  specs: WeightSpec[];
}

/** The topology and weights of a network, as captured by {@link BundleIOHandler.save} or read by its `load`. */
export interface NetworkArtifacts {
  /** Keras-style model JSON (`tf.LayersModel.toJSON(null, false)`). */
  topology: Record<string, unknown>;
  /** Manifest of {@link weights}. */
  manifest: WeightsManifest;
  /** The weights file's bytes (little-endian float32). */
  weights: Uint8Array;
}

/** Lower-case hex SHA-256 of `data`. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Validate a manifest object (from `model.json`).
 * @param field JSON location for messages (e.g. `model.weights`).
 * @throws ModelError naming the offending field.
 */
export function parseManifest(json: unknown, field: string): WeightsManifest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('missing or not an object', { field });
  const o = json as Record<string, unknown>;
  if (o.file !== WEIGHTS_FILE) throw new ModelError(`must be "${WEIGHTS_FILE}", got ${JSON.stringify(o.file) ?? 'nothing'}`, { field: `${field}.file` });
  if (typeof o.bytes !== 'number' || !Number.isSafeInteger(o.bytes) || o.bytes < 0) {
    throw new ModelError(`must be a non-negative integer, got ${JSON.stringify(o.bytes) ?? 'nothing'}`, { field: `${field}.bytes` });
  }
  if (typeof o.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(o.sha256)) throw new ModelError('must be 64 lower-case hex digits', { field: `${field}.sha256` });
  if (!Array.isArray(o.specs) || o.specs.length === 0) throw new ModelError('missing or not a non-empty array', { field: `${field}.specs` });
  let total = 0;
  const names = new Set<string>();
  const specs = o.specs.map((s: unknown, i: number): WeightSpec => {
    const f = `${field}.specs[${i}]`;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new ModelError('not an object', { field: f });
    const e = s as Record<string, unknown>;
    if (typeof e.name !== 'string' || e.name === '') throw new ModelError('missing or empty name', { field: `${f}.name` });
    if (names.has(e.name)) throw new ModelError(`duplicate weight name "${e.name}"`, { field: `${f}.name` });
    names.add(e.name);
    if (e.dtype !== 'float32') throw new ModelError(`must be "float32", got ${JSON.stringify(e.dtype) ?? 'nothing'}`, { field: `${f}.dtype` });
    if (!Array.isArray(e.shape) || !e.shape.every((d: unknown) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
      throw new ModelError('must be an array of non-negative integers', { field: `${f}.shape` });
    }
    total += (e.shape as number[]).reduce((a, b) => a * b, 1);
    return { name: e.name, shape: [...(e.shape as number[])], dtype: 'float32' };
  });
  if (total * 4 !== o.bytes) throw new ModelError(`is ${o.bytes} but the specs hold ${total} float32 values (${total * 4} bytes)`, { field: `${field}.bytes` });
  return { file: WEIGHTS_FILE, bytes: o.bytes, sha256: o.sha256, specs };
}

/**
 * Check weights bytes against their manifest: exact length, SHA-256, every value finite.
 * @param path file path for messages.
 * @throws ModelError (with `path`) on a truncated or padded file, a checksum mismatch, or a NaN/±Infinity
 *   weight (naming the tensor and element).
 */
export function checkWeights(data: Uint8Array, manifest: WeightsManifest, path?: string): void {
  if (data.byteLength !== manifest.bytes) {
    throw new ModelError(`has ${data.byteLength} bytes, the manifest in model.json says ${manifest.bytes} (truncated or from another model)`, { path });
  }
  const sum = sha256Hex(data);
  if (sum !== manifest.sha256) throw new ModelError(`SHA-256 ${sum} does not match the manifest's ${manifest.sha256} (corrupt or from another model)`, { path });
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let k = 0;
  for (const s of manifest.specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    for (let i = 0; i < n; i++, k += 4) {
      const v = view.getFloat32(k, true);
      if (!Number.isFinite(v)) throw new ModelError(`weight ${s.name}[${i}] is ${v}: the weights must be finite numbers`, { path });
    }
  }
}

/**
 * Read and check `dir/weights.bin` against `manifest` ({@link checkWeights}).
 * @throws ModelError when the file is missing, unreadable, or fails the checks.
 */
export function readWeightsFile(dir: string, manifest: WeightsManifest): Uint8Array {
  const path = join(dir, WEIGHTS_FILE);
  if (!existsSync(path)) throw new ModelError(`missing: a bundle of a TensorFlow.js model keeps its weights in ${WEIGHTS_FILE} beside model.json`, { path });
  let data: Uint8Array;
  try {
    if (statSync(path).size !== manifest.bytes) {
      throw new ModelError(`has ${statSync(path).size} bytes, the manifest in model.json says ${manifest.bytes} (truncated or from another model)`, { path });
    }
    data = readFileSync(path);
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(`cannot read: ${(e as Error).message}`, { path });
  }
  checkWeights(data, manifest, path);
  return data;
}

function joinWeightData(w: tf.io.WeightData | undefined): Uint8Array {
  if (w === undefined) return new Uint8Array(0);
  return new Uint8Array(Array.isArray(w) ? tf.io.concatenateArrayBuffers(w) : w);
}

/**
 * A `tf.io.IOHandler` for model bundles (TensorFlow.js's `file://` handlers need tfjs-node).
 *
 * - `save(artifacts)` (used through `model.save(handler)`): accepts JSON topology and float32 weights only,
 *   checks that every weight is finite, and keeps the result in {@link artifacts} (topology, manifest with
 *   byte length and SHA-256, the weights bytes). It writes no file: the bundle writer
 *   (`saveBundle` in bundle.ts) writes `weights.bin` and `model.json` atomically.
 * - `load()` (used through `tf.loadLayersModel(handler)`): reads `dir/weights.bin` and checks it against
 *   the manifest given to the constructor ({@link readWeightsFile}); the topology comes from `model.json`.
 *   Every problem is a {@link ModelError}.
 */
export class BundleIOHandler implements tf.io.IOHandler {
  /** What the last `save` captured or `load` read (undefined before). */
  artifacts: NetworkArtifacts | undefined;

  /**
   * @param source for `load`: the bundle directory with the topology and manifest from its `model.json`.
   *   Omit it for a save-only handler.
   */
  constructor(private readonly source?: { dir: string; topology: Record<string, unknown>; manifest: WeightsManifest }) {}

  /** Capture the artifacts of `model.save(handler)`. @throws ModelError on a non-JSON topology, a non-float32 or non-finite weight. */
  async save(a: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
    if (a.modelTopology === undefined || a.modelTopology instanceof ArrayBuffer) throw new ModelError('only Keras-style JSON topologies (LayersModel) can be stored');
    const weights = joinWeightData(a.weightData);
    const specs = (a.weightSpecs ?? []).map((s): WeightSpec => {
      if (s.dtype !== 'float32' || s.quantization !== undefined) throw new ModelError(`weight ${s.name} is ${s.dtype ?? 'untyped'}${s.quantization ? ' (quantized)' : ''}; only float32 weights can be stored`);
      return { name: s.name, shape: [...s.shape], dtype: 'float32' };
    });
    const manifest: WeightsManifest = { file: WEIGHTS_FILE, bytes: weights.byteLength, sha256: sha256Hex(weights), specs };
    checkWeights(weights, manifest);
    this.artifacts = { topology: JSON.parse(JSON.stringify(a.modelTopology)) as Record<string, unknown>, manifest, weights };
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: JSON.stringify(a.modelTopology).length,
        weightSpecsBytes: JSON.stringify(specs).length,
        weightDataBytes: weights.byteLength,
      },
    };
  }

  /** Read the bundle's weights (also kept in {@link artifacts}). @throws ModelError when built without a source or the file fails the checks. */
  async load(): Promise<tf.io.ModelArtifacts> {
    if (this.source === undefined) throw new ModelError('this BundleIOHandler has no bundle to load from');
    const { dir, topology, manifest } = this.source;
    const data = readWeightsFile(dir, manifest);
    this.artifacts = { topology, manifest, weights: data };
    const copy = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    return { modelTopology: topology, weightSpecs: manifest.specs, weightData: copy, format: 'layers-model', generatedBy: `TensorFlow.js ${tf.version.tfjs}` };
  }
}

/** Capture a model's topology and weights through {@link BundleIOHandler}. @throws ModelError on non-finite weights. */
export async function captureArtifacts(model: tf.LayersModel): Promise<NetworkArtifacts> {
  const h = new BundleIOHandler();
  await model.save(h);
  return h.artifacts!;
}

/**
 * Rebuild a network from a bundle directory: checks the weights file ({@link readWeightsFile}) and loads
 * it through {@link BundleIOHandler}.
 * @param field JSON location of the model in `model.json`, for messages.
 * @throws ModelError on a bad weights file or a topology TensorFlow.js cannot build.
 */
export async function loadNetwork(
  dir: string, topology: Record<string, unknown>, manifest: WeightsManifest, field: string,
): Promise<{ model: tf.LayersModel; artifacts: NetworkArtifacts }> {
  await initTf();
  const handler = new BundleIOHandler({ dir, topology, manifest });
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(handler);
  } catch (e) {
    if (e instanceof ModelError) throw e;
    throw new ModelError(`TensorFlow.js cannot build the network: ${(e as Error).message.split('\n')[0]}`, { field: `${field}.topology` });
  }
  return { model, artifacts: handler.artifacts! };
}

/** Validate the `topology` field of a TensorFlow.js model's JSON (an object with a `config`). @throws ModelError */
export function parseTopology(json: unknown, field: string): Record<string, unknown> {
  if (json === null || typeof json !== 'object' || Array.isArray(json) || typeof (json as { config?: unknown }).config !== 'object') {
    throw new ModelError('missing or not a Keras-style model topology object', { field });
  }
  return json as Record<string, unknown>;
}

/**
 * Linear-interpolation quantile of `values` (NumPy's default `method='linear'`, Hyndman & Fan type 7):
 * with the sorted values `v`, `h = (n − 1)·q`, result `v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋])`.
 * @param q in [0, 1].
 * @throws ModelError on an empty input or `q` outside [0, 1].
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new ModelError('quantile of no values');
  if (!(q >= 0 && q <= 1)) throw new ModelError(`quantile must be in [0, 1], got ${q}`);
  const v = Float64Array.from(values).sort();
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return v[lo]! + (h - lo) * (v[hi]! - v[lo]!);
}

// ---------------------------------------------------------------------------------------------------
// Training loop shared by the networks

/** Loss curve and early-stopping outcome of a training run (stored in the model JSON as `history`). */
export interface TrainingHistory {
  /** Epochs run. */
  epochs: number;
  /** Epoch (1-based) whose weights were kept: the lowest validation loss, or the last epoch without validation. */
  bestEpoch: number;
  /** True when training stopped before the epoch limit because the validation loss stopped improving. */
  stoppedEarly: boolean;
  /** Mean training loss per epoch (dropout active, weights changing during the epoch). */
  trainLoss: number[];
  /** Validation loss per epoch (inference mode), empty without a validation split. */
  validationLoss: number[];
  /** Training rows, validation rows. */
  rows: { train: number; validation: number };
  /** Wall-clock seconds of the loop. */
  seconds: number;
  /** TensorFlow.js backend used. */
  backend: string;
}

/** Settings of {@link trainNetwork}. */
export interface TrainLoopSpec {
  /** The network; layers named `dropout_*` (class `Dropout`) get seeded masks, the others run as is. */
  model: tf.Sequential;
  /** Layers of `model.layers` used in the training forward pass (e.g. all but a final softmax). */
  trainLayers: number;
  /** Row-major inputs (standardised), `cols` per row. */
  data: Float64Array;
  cols: number;
  clip: number;
  /** Training and validation row indices into `data`. */
  train: Int32Array;
  validation: Int32Array;
  /**
   * Loss per row (shape `[n]`) from the training-forward output, the float32 input batch and the rows'
   * indices; combined as `Σ wᵢ·lossᵢ / n` (Keras's `class_weight` semantics).
   */
  rowLoss: (out: tf.Tensor, x: tf.Tensor2D, rows: Int32Array) => tf.Tensor;
  /** Per-row weights of the given rows (default 1). */
  rowWeights?: (rows: Int32Array) => Float32Array;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Epochs without a validation-loss improvement larger than `minDelta` before stopping (with validation rows). */
  patience: number;
  minDelta: number;
  rng: SeededRandom;
  /** Called after each epoch. */
  onEpoch?: (epoch: number, trainLoss: number, validationLoss: number | null) => void;
}

/**
 * `x · w` whose gradients use explicit transposes: `dx = dy · transpose(w)`, `dw = transpose(x) · dy`.
 * TensorFlow.js's wasm backend runs transposed matMuls (`transposeA/B`, what the default gradient uses)
 * without XNNPACK, about 7× slower than transpose + matMul; this halves a training step.
 */
const matMulTrain = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, w, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      tf.matMul(dy as tf.Tensor2D, tf.transpose(saved[1]!) as tf.Tensor2D),
      tf.matMul(tf.transpose(saved[0]!) as tf.Tensor2D, dy as tf.Tensor2D),
    ],
  };
}) as (x: tf.Tensor, w: tf.Tensor) => tf.Tensor;

const ACTIVATIONS: Record<string, (t: tf.Tensor) => tf.Tensor> = {
  linear: (t) => t,
  relu: (t) => tf.relu(t),
  elu: (t) => tf.elu(t),
  tanh: (t) => tf.tanh(t),
};

/** Kernel, bias and activation of a plain Dense layer (2-d, with bias, a known activation), else null (then `layer.apply` is used). */
function denseParts(layer: tf.layers.Layer): { kernel: tf.Variable; bias: tf.Variable; activation: (t: tf.Tensor) => tf.Tensor } | null {
  if (layer.getClassName() !== 'Dense') return null;
  const cfg = layer.getConfig() as { activation?: unknown; useBias?: unknown };
  const act = ACTIVATIONS[String(cfg.activation ?? 'linear')];
  const w = layer.trainableWeights;
  if (!act || cfg.useBias === false || w.length !== 2 || w[0]!.shape.length !== 2) return null;
  return { kernel: w[0]!.read() as tf.Variable, bias: w[1]!.read() as tf.Variable, activation: act };
}

/**
 * Mini-batch training with Adam (Kingma & Ba 2015, "Adam: A Method for Stochastic Optimization", ICLR;
 * β₁ = 0.9, β₂ = 0.999, ε = 1e-7 as Keras), a seeded shuffle per epoch, seeded inverted dropout, and early
 * stopping on the validation loss with the best weights restored (Keras's `EarlyStopping(patience,
 * min_delta, restore_best_weights=True)`). Synchronous apart from the backend initialisation.
 */
export async function trainNetwork(spec: TrainLoopSpec): Promise<TrainingHistory> {
  const backend = await initTf();
  const t0 = performance.now();
  const { model, data, cols, clip, train, validation, rng } = spec;
  const layers = model.layers.slice(0, spec.trainLayers);
  const dropRate = layers.map((l) => (l.getClassName() === 'Dropout' ? Number((l.getConfig() as { rate?: number }).rate ?? 0) : -1));
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = tf.train.adam(spec.learningRate, 0.9, 0.999, 1e-7);
  const bs = Math.min(spec.batchSize, Math.max(1, train.length));
  const xbuf = new Float32Array(bs * cols);
  const perm = Int32Array.from(train);
  const history: TrainingHistory = {
    epochs: 0, bestEpoch: 0, stoppedEarly: false, trainLoss: [], validationLoss: [],
    rows: { train: train.length, validation: validation.length }, seconds: 0, backend,
  };

  const dense = layers.map(denseParts);
  const batchLoss = (rows: Int32Array, x: tf.Tensor2D, training: boolean): tf.Scalar => {
    let h: tf.Tensor = x;
    layers.forEach((layer, i) => {
      const rate = dropRate[i]!;
      const dl = dense[i];
      if (rate >= 0) {
        if (!training || rate === 0) return;
        h = tf.mul(h, tf.tensor(rng.dropoutMask(new Float32Array(h.size), 1 - rate), h.shape));
      } else if (dl) {
        h = dl.activation(tf.add(matMulTrain(h, dl.kernel), dl.bias));
      } else {
        h = layer.apply(h) as tf.Tensor;
      }
    });
    const l = spec.rowLoss(h, x, rows);
    const w = spec.rowWeights?.(rows);
    return tf.div(tf.sum(w ? tf.mul(l, tf.tensor1d(w)) : l), rows.length) as tf.Scalar;
  };
  const validationLoss = (): number => {
    let total = 0;
    for (let s = 0; s < validation.length; s += PREDICT_BATCH) {
      const n = Math.min(PREDICT_BATCH, validation.length - s);
      const rows = validation.subarray(s, s + n);
      const x = toFloat32Rows(data, cols, validation, s, n, clip);
      total += tf.tidy(() => batchLoss(rows, tf.tensor2d(x, [n, cols]), false).dataSync()[0]!) * n;
    }
    return total / validation.length;
  };

  let best = Infinity;
  let bestWeights: tf.Tensor[] | null = null;
  let wait = 0;
  try {
    for (let epoch = 1; epoch <= spec.epochs; epoch++) {
      rng.shuffle(perm);
      let sum = 0;
      for (let s = 0; s < perm.length; s += bs) {
        const n = Math.min(bs, perm.length - s);
        const rows = perm.subarray(s, s + n);
        const x = toFloat32Rows(data, cols, perm, s, n, clip, n === bs ? xbuf : undefined);
        const cost = tf.tidy(() => optimizer.minimize(() => batchLoss(rows, tf.tensor2d(x, [n, cols]), true), true, vars)!);
        sum += cost.dataSync()[0]! * n;
        cost.dispose();
      }
      const trainLoss = sum / Math.max(1, perm.length);
      if (!Number.isFinite(trainLoss)) throw new ModelError(`training diverged (loss ${trainLoss} at epoch ${epoch}); lower the learning rate`);
      history.trainLoss.push(trainLoss);
      history.epochs = epoch;
      const vl = validation.length > 0 ? validationLoss() : null;
      spec.onEpoch?.(epoch, trainLoss, vl);
      if (vl === null) {
        history.bestEpoch = epoch;
        continue;
      }
      history.validationLoss.push(vl);
      if (vl < best - spec.minDelta || bestWeights === null) {
        if (vl < best) best = vl;
        history.bestEpoch = epoch;
        wait = 0;
        bestWeights?.forEach((t) => t.dispose());
        bestWeights = model.getWeights().map((t) => t.clone());
      } else if (++wait >= spec.patience) {
        history.stoppedEarly = epoch < spec.epochs;
        break;
      }
    }
    if (bestWeights !== null && history.bestEpoch !== history.epochs) model.setWeights(bestWeights);
  } finally {
    bestWeights?.forEach((t) => t.dispose());
    optimizer.dispose();
  }
  history.seconds = (performance.now() - t0) / 1000;
  return history;
}

/**
 * Model bundles: a trained model saved as a DIRECTORY holding one `model.json` — plain JSON, no code —
 *
 * ```json
 * { "format": "flowsift-model", "formatVersion": 1, "createdAt": "2026-…Z", "flowsiftVersion": "0.1.0",
 *   "featureNames": [...], "classNames": [...], "scaler": { StandardScaler JSON },
 *   "model": { "algo": "tree", ...DecisionTreeClassifier JSON }, "training": { free-form summary } }
 * ```
 *
 * Loading validates everything (structure, lengths, indices, finite numbers) and reports any problem as a
 * one-line {@link ModelError} carrying the file path and the JSON field. The algorithm part is pluggable
 * through `model.algo` ({@link modelFromJSON}): `tree` (CART), `forest` ({@link RandomForestClassifier}:
 * its trees in the tree's JSON form), `gbt` ({@link GradientBoostingClassifier}), and the TensorFlow.js models `mlp`
 * ({@link MLPClassifier}) and `autoencoder` ({@link AutoencoderDetector}).
 *
 * A TensorFlow.js model keeps its topology and a weights manifest (`model.weights`: file, byte length,
 * SHA-256, tensor specs) in `model.json` and its float32 weights in {@link BUNDLE_WEIGHTS_FILE}
 * (`weights.bin`) beside it. Such bundles load asynchronously — {@link loadBundleAsync}, which reads every
 * algorithm — because TensorFlow.js initialises its backend and builds networks asynchronously; the
 * synchronous {@link loadBundle} reads the other algorithms and names `loadBundleAsync` for these.
 * TensorFlow.js itself (about 1.5 s to import) is loaded only when such a bundle is read.
 * An `autoencoder` bundle has the class names `["ANOMALY", "BENIGN"]` (class 0 = ANOMALY).
 *
 * Optional `alert` field (format version 2): an alert threshold calibrated at a target false-positive rate on
 * held-out BENIGN flows (src/model/threshold.ts) —
 * `{ "score": "attack-probability" | "anomaly-score", "threshold", "targetFpr", "heldOutFlows",
 * "heldOutFlagged", "heldOutFpr" }`. With it a classifier flags a flow when 1 − P(BENIGN) ≥ threshold (then
 * predicts its most probable attack class) instead of predicting the most probable class; an autoencoder's
 * `alert.threshold` must equal its `model.threshold`. A bundle is written with the lowest format version that
 * holds its content — 1 without `alert`, 2 with it — so a flowsift that would ignore the threshold refuses such a
 * bundle ("written by a newer flowsift") instead of deciding differently.
 *
 * Optional `openSet` field (format version 2): an open-set guard (src/model/openset.ts, {@link OpenSetGuard}) —
 * per-class prototypes and distance thresholds in the standardized feature space. With it a prediction of a
 * guarded class for a flow farther than the class's threshold from every prototype of that class is reported as
 * `UNKNOWN` ({@link ModelPipeline.predictLabels}); an autoencoder bundle has none.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { AutoencoderDetector, AutoencoderJSON } from './autoencoder.js';
import { ModelError } from './errors.js';
import { RandomForestClassifier, type RandomForestJSON } from './forest.js';
import { GradientBoostingClassifier, type GradientBoostingJSON } from './gbt.js';
import type { FeatureMatrix } from './matrix.js';
import type { MLPClassifier, MLPJSON } from './mlp.js';
import { StandardScaler, checkMatrix, type StandardScalerJSON } from './scaler.js';
import { decideClass, type AlertScore } from './threshold.js';
import { OpenSetGuard, UNKNOWN, type OpenSetJSON } from './openset.js';
import { DecisionTreeClassifier, type Classifier, type DecisionTreeJSON } from './tree.js';

/** Value of the `format` field. */
export const BUNDLE_FORMAT = 'flowsift-model';
/**
 * Newest `formatVersion` this flowsift reads. Bundles are written with the lowest version that holds their
 * content ({@link bundleFormatVersion}): 1, or 2 for a bundle with an `alert` threshold or an `openSet` guard.
 */
export const BUNDLE_FORMAT_VERSION = 2;
/** Class name a classifier's alert threshold is measured against (dataset/labels.ts's BENIGN; the model stage does not import the dataset stage). */
const BENIGN_CLASS_NAME = 'BENIGN';
/** File name of the bundle document inside the bundle directory. */
export const BUNDLE_FILE = 'model.json';
/** Algorithms a bundle of this version may hold (`model.algo`). */
export const KNOWN_ALGOS: readonly string[] = ['tree', 'forest', 'gbt', 'mlp', 'autoencoder'];
/** Algorithms whose weights live in {@link BUNDLE_WEIGHTS_FILE} (TensorFlow.js networks; loaded by {@link loadBundleAsync}). */
export const TFJS_ALGOS: readonly string[] = ['mlp', 'autoencoder'];
/** File name of a TensorFlow.js model's weights inside the bundle directory. */
export const BUNDLE_WEIGHTS_FILE = 'weights.bin';
/** Class names an `autoencoder` bundle must have, in class-index order. */
export const AUTOENCODER_CLASS_NAMES: readonly string[] = ['ANOMALY', 'BENIGN'];

/** JSON of the algorithm part: the model's own JSON plus its `algo` tag. */
export type ModelJSON =
  | ({ algo: 'tree' } & DecisionTreeJSON)
  | ({ algo: 'forest' } & RandomForestJSON)
  | ({ algo: 'gbt' } & GradientBoostingJSON)
  | ({ algo: 'mlp' } & MLPJSON)
  | ({ algo: 'autoencoder' } & AutoencoderJSON);

/** A classifier whose parameters are stored in {@link BUNDLE_WEIGHTS_FILE} (MLPClassifier, AutoencoderDetector). */
export type WeightsFileModel = MLPClassifier | AutoencoderDetector;

/** True for a fitted TensorFlow.js model of this stage (duck-typed, so TensorFlow.js is not imported here). */
function hasWeightsFile(model: Classifier): model is WeightsFileModel {
  return TFJS_ALGOS.includes(model.algo) && typeof (model as Partial<WeightsFileModel>).weightsData === 'function';
}

/** The `model.json` document. */
export interface ModelBundleJSON {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  /** ISO-8601 UTC time of creation. */
  createdAt: string;
  /** Version of the flowsift that wrote the bundle. */
  flowsiftVersion: string;
  /** Input feature names, in the model's column order (the scaler's and the model's). */
  featureNames: string[];
  /** Class names; class index i of the model is `classNames[i]`. */
  classNames: string[];
  scaler: StandardScalerJSON;
  model: ModelJSON;
  /** Free-form training summary (data, parameters, timings…). */
  training: Record<string, unknown>;
  /** Alert threshold calibrated at a target FPR (format version 2); absent: a classifier predicts its most probable class. */
  alert?: AlertThreshold;
  /** Open-set guard (format version 2); absent: every prediction stands. */
  openSet?: OpenSetJSON;
}

/**
 * An alert threshold and how it was calibrated (src/model/threshold.ts): a flow is flagged when its score
 * (`score`: a classifier's attack probability 1 − P(BENIGN), or the autoencoder's anomaly score) is ≥ `threshold`.
 */
export interface AlertThreshold {
  score: AlertScore;
  /** Finite, ≥ 0. */
  threshold: number;
  /** Target false-positive rate the threshold was calibrated for, in (0, 1). */
  targetFpr: number;
  /** Held-out BENIGN flows it was calibrated on (≥ 1). */
  heldOutFlows: number;
  /** Of those, the flows with score ≥ threshold. */
  heldOutFlagged: number;
  /** `heldOutFlagged / heldOutFlows`. */
  heldOutFpr: number;
}

/** A loaded (validated) bundle: the document's metadata with live scaler and model objects. */
export interface ModelBundle {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  createdAt: string;
  flowsiftVersion: string;
  featureNames: string[];
  classNames: string[];
  /** Fitted scaler over `featureNames` (apply it to raw features before the model). */
  scaler: StandardScaler;
  /** The classifier (expects scaled features in `featureNames` order). */
  model: Classifier;
  training: Record<string, unknown>;
  /** The stored alert threshold, when the bundle has one. */
  alert?: AlertThreshold;
  /** The open-set guard, when the bundle has one. */
  openSet?: OpenSetGuard;
}

/** What {@link saveBundle} needs: the parts, with optional metadata (defaults: now, this flowsift). */
export interface BundleInput {
  featureNames: readonly string[];
  classNames: readonly string[];
  scaler: StandardScaler;
  model: Classifier;
  training?: Record<string, unknown>;
  flowsiftVersion?: string;
  createdAt?: string;
  /** Alert threshold to store (makes the bundle format version 2). */
  alert?: AlertThreshold;
  /** Open-set guard to store, fitted on the scaled training flows with these class names (format version 2). */
  openSet?: OpenSetGuard;
}

/** Version of this flowsift, from package.json ("unknown" if it cannot be read). */
export const FLOWSIFT_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

/**
 * JSON of a classifier with its `algo` tag (the `model` field of a bundle).
 * @throws ModelError for an algorithm this version cannot store.
 */
export function modelToJSON(model: Classifier): ModelJSON {
  if (model instanceof DecisionTreeClassifier) return { algo: 'tree', ...model.toJSON() };
  if (model instanceof RandomForestClassifier) return { algo: 'forest', ...model.toJSON() };
  if (model instanceof GradientBoostingClassifier) return { algo: 'gbt', ...model.toJSON() };
  if (hasWeightsFile(model)) {
    return model.algo === 'mlp' ? { algo: 'mlp', ...model.toJSON() } : { algo: 'autoencoder', ...model.toJSON() };
  }
  throw new ModelError(`cannot store a model of algorithm '${model.algo}' (this flowsift stores: ${KNOWN_ALGOS.join(', ')})`);
}

/**
 * Rebuild a classifier from a bundle's `model` field, dispatching on `algo` (synchronous; not the TensorFlow.js algorithms).
 * @param field JSON location for messages.
 * @throws ModelError on an unknown algorithm or invalid model JSON, and for the TensorFlow.js algorithms
 *   (`mlp`, `autoencoder`), which only {@link loadBundleAsync} reads.
 */
export function modelFromJSON(json: unknown, field = 'model'): Classifier {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('missing or not an object', { field });
  const algo = (json as { algo?: unknown }).algo;
  switch (algo) {
    case 'tree':
      return DecisionTreeClassifier.fromJSON(json, field);
    case 'forest':
      return RandomForestClassifier.fromJSON(json, field);
    case 'gbt':
      return GradientBoostingClassifier.fromJSON(json, field);
    case 'mlp':
    case 'autoencoder':
      throw new ModelError(
        `holds a TensorFlow.js '${algo}' model, which loads asynchronously: use loadBundleAsync (the CLI does)`,
        { field: `${field}.algo` },
      );
    default:
      throw new ModelError(
        typeof algo === 'string'
          ? `unknown model algorithm '${algo}' (this flowsift reads: ${KNOWN_ALGOS.join(', ')}); it may need a newer flowsift`
          : 'missing the algorithm tag (a string)',
        { field: `${field}.algo` },
      );
  }
}

/**
 * The `model.json` document of a bundle, after checking that the parts agree (scaler and model sizes vs.
 * names, unique names).
 * @throws ModelError when they disagree or the model is not fitted.
 */
export function bundleToJSON(b: BundleInput): ModelBundleJSON {
  const featureNames = checkNames(b.featureNames, 'featureNames');
  const classNames = checkNames(b.classNames, 'classNames');
  if (!b.scaler.isFitted) throw new ModelError('the scaler is not fitted');
  if (b.scaler.nFeatures !== featureNames.length) {
    throw new ModelError(`the scaler has ${b.scaler.nFeatures} features, featureNames has ${featureNames.length}`);
  }
  if (b.model.nFeatures !== featureNames.length) {
    throw new ModelError(`the model has ${b.model.nFeatures} features, featureNames has ${featureNames.length}`);
  }
  if (b.model.nClasses !== classNames.length) {
    throw new ModelError(`the model has ${b.model.nClasses} classes, classNames has ${classNames.length}`);
  }
  if (b.model.algo === 'autoencoder' && classNames.join() !== AUTOENCODER_CLASS_NAMES.join()) {
    throw new ModelError(`an autoencoder's classNames must be ${JSON.stringify(AUTOENCODER_CLASS_NAMES)}, got ${JSON.stringify(classNames)}`);
  }
  const alert = b.alert === undefined ? undefined : checkAlert(b.alert, 'alert', b.model, classNames);
  return {
    format: BUNDLE_FORMAT,
    formatVersion: bundleFormatVersion({ alert, openSet: b.openSet }),
    createdAt: b.createdAt ?? new Date().toISOString(),
    flowsiftVersion: b.flowsiftVersion ?? FLOWSIFT_VERSION,
    featureNames,
    classNames,
    scaler: b.scaler.toJSON(),
    model: modelToJSON(b.model),
    training: { ...(b.training ?? {}) },
    ...(alert ? { alert } : {}),
    ...(b.openSet ? { openSet: checkOpenSet(b.openSet, b.model, featureNames, classNames).toJSON() } : {}),
  };
}

/**
 * The format version a bundle document is written with: the lowest that holds its content — 2 when it has an
 * `alert` threshold or an `openSet` guard, else 1 (readable by every flowsift).
 */
export function bundleFormatVersion(doc: { alert?: unknown; openSet?: unknown }): number {
  return doc.alert !== undefined || doc.openSet !== undefined ? 2 : 1;
}

/** Checks that an open-set guard fits the model (features, class names; not an autoencoder); returns it. @throws ModelError */
function checkOpenSet(g: OpenSetGuard, model: Classifier, featureNames: readonly string[], classNames: readonly string[]): OpenSetGuard {
  if (model.algo === 'autoencoder') throw new ModelError('an autoencoder bundle has no open-set guard (the autoencoder is itself an anomaly detector)', { field: 'openSet' });
  if (g.nFeatures !== featureNames.length) throw new ModelError(`the open-set guard has ${g.nFeatures} features, featureNames has ${featureNames.length}`, { field: 'openSet' });
  if (g.classNames.join('\0') !== classNames.join('\0')) {
    throw new ModelError(`the open-set guard's classes (${g.classNames.join(', ')}) differ from classNames (${classNames.join(', ')})`, { field: 'openSet' });
  }
  return g;
}

/**
 * Validates an alert threshold for `model` (the `alert` field of a bundle): score kind matching the algorithm,
 * finite non-negative threshold, target in (0, 1), consistent held-out counts and rate; a classifier needs a
 * BENIGN class; an autoencoder's threshold must equal the detector's.
 * @throws ModelError naming the field
 */
function checkAlert(v: unknown, field: string, model: Classifier, classNames: readonly string[]): AlertThreshold {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ModelError('not an object', { field });
  const a = v as Record<string, unknown>;
  const num = (name: string, ok: (x: number) => boolean, want: string): number => {
    const x = a[name];
    if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw new ModelError(`must be ${want}, got ${JSON.stringify(x) ?? 'nothing'}`, { field: `${field}.${name}` });
    return x;
  };
  const autoencoder = model.algo === 'autoencoder';
  const score = autoencoder ? 'anomaly-score' : 'attack-probability';
  if (a.score !== score) throw new ModelError(`must be "${score}" for a '${model.algo}' model, got ${JSON.stringify(a.score) ?? 'nothing'}`, { field: `${field}.score` });
  const threshold = num('threshold', (x) => x >= 0, 'a finite number ≥ 0');
  const targetFpr = num('targetFpr', (x) => x > 0 && x < 1, 'a number in (0, 1)');
  const heldOutFlows = num('heldOutFlows', (x) => Number.isSafeInteger(x) && x >= 1, 'a positive integer');
  const heldOutFlagged = num('heldOutFlagged', (x) => Number.isSafeInteger(x) && x >= 0 && x <= heldOutFlows, `an integer 0..${heldOutFlows} (heldOutFlows)`);
  const heldOutFpr = num('heldOutFpr', (x) => x === heldOutFlagged / heldOutFlows, `heldOutFlagged / heldOutFlows = ${heldOutFlagged / heldOutFlows}`);
  if (autoencoder) {
    const t = (model as { threshold?: unknown }).threshold;
    if (t !== threshold) throw new ModelError(`is ${threshold} but the autoencoder's threshold (model.threshold) is ${String(t)}`, { field: `${field}.threshold` });
  } else if (!classNames.includes(BENIGN_CLASS_NAME)) {
    throw new ModelError(`an alert threshold on the attack probability needs a ${BENIGN_CLASS_NAME} class; classNames has none`, { field });
  }
  return { score, threshold, targetFpr, heldOutFlows, heldOutFlagged, heldOutFpr };
}

/**
 * Validate a parsed `model.json` document and build the live bundle.
 * @param path file path used in error messages.
 * @throws ModelError (with `path` and `field`) on any problem: wrong `format`, a `formatVersion` newer than
 *   {@link BUNDLE_FORMAT_VERSION}, a missing or mistyped field, duplicate names, scaler/model sizes that
 *   disagree with the names, inconsistent node arrays, out-of-range indices, non-finite numbers.
 */
export function bundleFromJSON(json: unknown, path?: string): ModelBundle {
  return located(path, () => parseBundle(json, (m) => modelFromJSON(m, 'model')));
}

/** Runs `f`, adding `path` to the ModelError it throws (when the error has no path yet). */
function located<T>(path: string | undefined, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ModelError && path !== undefined && e.path === undefined) throw e.withPath(path);
    throw e;
  }
}

/** Checks the document is an object of this format and a readable version; returns it. @throws ModelError */
function checkHeader(json: unknown): Record<string, unknown> & { formatVersion: number } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('the document is not a JSON object');
  const o = json as Record<string, unknown>;
  if (o.format !== BUNDLE_FORMAT) {
    throw new ModelError(`not a flowsift model (format = ${JSON.stringify(o.format) ?? 'missing'}, expected "${BUNDLE_FORMAT}")`, { field: 'format' });
  }
  const v = o.formatVersion;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new ModelError(`must be a positive integer, got ${JSON.stringify(v) ?? 'nothing'}`, { field: 'formatVersion' });
  }
  if (v > BUNDLE_FORMAT_VERSION) {
    throw new ModelError(
      `model was written by a newer flowsift (format ${v}); this flowsift reads format ${BUNDLE_FORMAT_VERSION}`,
    );
  }
  return o as Record<string, unknown> & { formatVersion: number };
}

/** {@link bundleFromJSON} with the model built by `buildModel` (from the `model` field). */
function parseBundle(json: unknown, buildModel: (modelJson: unknown) => Classifier): ModelBundle {
  const o = checkHeader(json);
  const v = o.formatVersion;
  const str = (name: string): string => {
    const s = o[name];
    if (typeof s !== 'string') throw new ModelError('missing or not a string', { field: name });
    return s;
  };
  const createdAt = str('createdAt');
  const flowsiftVersion = str('flowsiftVersion');
  const featureNames = checkNames(o.featureNames, 'featureNames');
  const classNames = checkNames(o.classNames, 'classNames');
  if (o.scaler === undefined) throw new ModelError('missing', { field: 'scaler' });
  const scaler = StandardScaler.fromJSON(o.scaler, 'scaler');
  if (scaler.nFeatures !== featureNames.length) {
    throw new ModelError(`has ${scaler.nFeatures} features but featureNames has ${featureNames.length}`, { field: 'scaler.nFeatures' });
  }
  const model = buildModel(o.model);
  if (model.nFeatures !== featureNames.length) {
    throw new ModelError(`has ${model.nFeatures} features but featureNames has ${featureNames.length}`, { field: 'model.nFeatures' });
  }
  if (model.nClasses !== classNames.length) {
    throw new ModelError(`has ${model.nClasses} classes but classNames has ${classNames.length}`, { field: 'model.nClasses' });
  }
  if (model.algo === 'autoencoder' && classNames.join() !== AUTOENCODER_CLASS_NAMES.join()) {
    throw new ModelError(`must be ${JSON.stringify(AUTOENCODER_CLASS_NAMES)} for an autoencoder`, { field: 'classNames' });
  }
  const training = o.training;
  if (training === null || typeof training !== 'object' || Array.isArray(training)) {
    throw new ModelError('missing or not an object', { field: 'training' });
  }
  let alert: AlertThreshold | undefined;
  if (o.alert !== undefined) {
    if (v < 2) throw new ModelError(`needs formatVersion 2 (the document says ${v}): a flowsift reading version 1 would ignore the threshold`, { field: 'alert' });
    alert = checkAlert(o.alert, 'alert', model, classNames);
  }
  let openSet: OpenSetGuard | undefined;
  if (o.openSet !== undefined) {
    if (v < 2) throw new ModelError(`needs formatVersion 2 (the document says ${v}): a flowsift reading version 1 would ignore the guard`, { field: 'openSet' });
    if (model.algo === 'autoencoder') throw new ModelError('an autoencoder bundle has no open-set guard', { field: 'openSet' });
    openSet = OpenSetGuard.fromJSON(o.openSet, classNames, featureNames.length, 'openSet');
  }
  return {
    format: BUNDLE_FORMAT,
    formatVersion: v,
    createdAt,
    flowsiftVersion,
    featureNames,
    classNames,
    scaler,
    model,
    training: training as Record<string, unknown>,
    ...(alert ? { alert } : {}),
    ...(openSet ? { openSet } : {}),
  };
}

/**
 * Write a bundle directory: creates `dir` (and parents) if needed and writes `dir/model.json` atomically
 * (temporary file in the same directory, fsync, rename), so a reader never sees a half-written model.
 * A TensorFlow.js model's weights are written first, the same way, to `dir/weights.bin`; its manifest in
 * `model.json` (byte length, SHA-256) lets a reader detect a `weights.bin` that does not belong to the
 * `model.json` beside it. Saving a tree removes a `weights.bin` left in `dir` by an earlier model.
 * @returns the path of the written `model.json`.
 * @throws ModelError when the parts disagree or `dir` exists and is not a directory; file system
 *   errors (permissions, disk full) propagate as Node errors.
 */
export function saveBundle(dir: string, bundle: BundleInput): string {
  const doc = bundleToJSON(bundle);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ModelError('exists and is not a directory; a model bundle is a directory', { path: dir });
  }
  mkdirSync(dir, { recursive: true });
  const weights = join(dir, BUNDLE_WEIGHTS_FILE);
  if (hasWeightsFile(bundle.model)) writeAtomic(dir, BUNDLE_WEIGHTS_FILE, bundle.model.weightsData());
  const file = writeAtomic(dir, BUNDLE_FILE, serialise(doc));
  if (!hasWeightsFile(bundle.model) && existsSync(weights)) unlinkSync(weights);
  return file;
}

/** Write `dir/name` atomically (temporary file in `dir`, fsync, rename); returns its path. */
function writeAtomic(dir: string, name: string, data: string | Uint8Array): string {
  const file = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    if (typeof data === 'string') writeSync(fd, data);
    else for (let off = 0; off < data.byteLength; ) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, file);
  return file;
}

/** Locate and parse `model.json` of a bundle directory (or the file itself). @throws ModelError */
function readBundleDocument(dir: string): { file: string; json: unknown } {
  if (!existsSync(dir)) throw new ModelError('model bundle not found (no such directory)', { path: dir });
  const file = statSync(dir).isDirectory() ? join(dir, BUNDLE_FILE) : dir;
  if (!existsSync(file)) throw new ModelError(`not a model bundle: no ${BUNDLE_FILE} in the directory`, { path: dir });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelError(`cannot read: ${(e as Error).message}`, { path: file });
  }
  try {
    return { file, json: JSON.parse(text) };
  } catch (e) {
    throw new ModelError(`invalid JSON: ${(e as Error).message}`, { path: file });
  }
}

/**
 * Read and validate a bundle directory (or a path to its `model.json`). Synchronous: reads tree and forest bundles;
 * a TensorFlow.js model (`mlp`, `autoencoder`) is a ModelError naming {@link loadBundleAsync}.
 * @throws ModelError with the path and a one-line message when the directory or file is missing or
 *   unreadable, the JSON is invalid, or the document fails {@link bundleFromJSON}'s checks.
 */
export function loadBundle(dir: string): ModelBundle {
  const { file, json } = readBundleDocument(dir);
  return bundleFromJSON(json, resolve(file));
}

/**
 * Read and validate a bundle of any algorithm (or a path to its `model.json`). Tree and forest bundles load as with
 * {@link loadBundle}. For `mlp` and `autoencoder`: checks the header (format, version), that
 * `weights.bin` exists beside `model.json` and has the byte length of the manifest (`model.weights.bytes`),
 * then imports TensorFlow.js, initialises its backend (wasm, or cpu with a warning) and loads the network
 * (SHA-256 and finiteness of the weights checked), then validates the rest of the document.
 * @throws ModelError with the path (of `model.json`, or of `weights.bin` for a problem of that file) and
 *   a one-line message.
 */
export async function loadBundleAsync(dir: string): Promise<ModelBundle> {
  const { file, json } = readBundleDocument(dir);
  const path = resolve(file);
  const m = (json as { model?: unknown } | null)?.model;
  const algo = m !== null && typeof m === 'object' ? (m as { algo?: unknown }).algo : undefined;
  if (typeof algo !== 'string' || !TFJS_ALGOS.includes(algo)) return bundleFromJSON(json, path);
  located(path, () => checkHeader(json));
  const bundleDir = dirname(path);
  const manifest = (m as { weights?: unknown }).weights;
  const bytes = manifest !== null && typeof manifest === 'object' ? (manifest as { bytes?: unknown }).bytes : undefined;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new ModelError('missing or not a non-negative integer (the weights manifest)', { path, field: 'model.weights.bytes' });
  }
  const weights = join(bundleDir, BUNDLE_WEIGHTS_FILE);
  if (!existsSync(weights)) {
    throw new ModelError(`missing: this '${algo}' bundle keeps its weights in ${BUNDLE_WEIGHTS_FILE} beside ${BUNDLE_FILE}`, { path: weights });
  }
  const size = statSync(weights).size;
  if (size !== bytes) {
    throw new ModelError(`has ${size} bytes, the manifest in ${BUNDLE_FILE} says ${bytes} (truncated or from another model)`, { path: weights });
  }
  let model: Classifier;
  try {
    model = algo === 'mlp'
      ? await (await import('./mlp.js')).MLPClassifier.load(m, bundleDir, 'model')
      : await (await import('./autoencoder.js')).AutoencoderDetector.load(m, bundleDir, 'model');
  } catch (e) {
    if (e instanceof ModelError && e.path === undefined) throw e.withPath(path);
    throw e;
  }
  return located(path, () => parseBundle(json, () => model));
}

/**
 * Scaler then model, on raw features addressed by name — the scoring side of a bundle.
 *
 * Input matrices may hold their columns in any order and extra columns; the ones the model needs are
 * picked by name ({@link columnMap}), and a missing one is a {@link ModelError} listing all missing names.
 *
 * Decisions ({@link predict}, {@link decide}, the bound scorer's `predictRow`) follow the alert threshold
 * ({@link threshold}): the bundle's `alert.threshold` unless replaced; a classifier without one predicts its
 * most probable class. Probabilities ({@link predictProba}) are the model's, whatever the threshold. The
 * open-set guard ({@link openSet}) acts on the reported labels ({@link classify}, {@link predictLabels}: UNKNOWN);
 * {@link predict} gives the model's class indices without it.
 */
export class ModelPipeline {
  readonly featureNames: readonly string[];
  readonly classNames: readonly string[];
  readonly scaler: StandardScaler;
  readonly model: Classifier;
  /** Class index of BENIGN, or -1 when the model has no such class. */
  readonly benignIndex: number;
  /** The open-set guard: null when the bundle has none (then every decision stands); see {@link classify}. */
  readonly openSet: OpenSetGuard | null;
  /** A classifier's threshold on the attack probability (an autoencoder keeps its own). */
  private classifierThreshold: number | null = null;

  /** @throws ModelError when the parts' sizes disagree with the names. */
  constructor(parts: Pick<ModelBundle, 'featureNames' | 'classNames' | 'scaler' | 'model' | 'alert' | 'openSet'>) {
    const d = parts.featureNames.length;
    if (parts.scaler.nFeatures !== d || parts.model.nFeatures !== d) {
      throw new ModelError(`scaler (${parts.scaler.nFeatures}) and model (${parts.model.nFeatures}) must both have ${d} features`);
    }
    if (parts.model.nClasses !== parts.classNames.length) {
      throw new ModelError(`the model has ${parts.model.nClasses} classes, classNames has ${parts.classNames.length}`);
    }
    this.featureNames = parts.featureNames;
    this.classNames = parts.classNames;
    this.scaler = parts.scaler;
    this.model = parts.model;
    this.openSet = parts.openSet ? checkOpenSet(parts.openSet, parts.model, parts.featureNames, parts.classNames) : null;
    this.benignIndex = parts.classNames.indexOf(BENIGN_CLASS_NAME);
    if (parts.alert && parts.model.algo !== 'autoencoder') this.threshold = parts.alert.threshold;
  }

  /**
   * The alert threshold decisions use: for a classifier, on the attack probability 1 − P(BENIGN) (null: the most
   * probable class, no threshold); for an autoencoder, its anomaly threshold (the detector's `threshold`).
   */
  get threshold(): number | null {
    if (this.model.algo === 'autoencoder') return (this.model as AutoencoderDetector).threshold;
    return this.classifierThreshold;
  }

  /**
   * Replaces the alert threshold (e.g. `--threshold`); null returns a classifier to its most probable class.
   * @throws ModelError for a value that is not a finite number ≥ 0, null for an autoencoder, or a classifier
   *   without a BENIGN class
   */
  set threshold(t: number | null) {
    const auto = this.model.algo === 'autoencoder';
    if (t === null) {
      if (auto) throw new ModelError('an autoencoder always has an anomaly threshold');
      this.classifierThreshold = null;
      return;
    }
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new ModelError(`the alert threshold must be a finite number ≥ 0, got ${String(t)}`);
    if (auto) {
      (this.model as AutoencoderDetector).threshold = t;
      return;
    }
    if (this.benignIndex < 0) throw new ModelError(`a threshold on the attack probability needs a ${BENIGN_CLASS_NAME} class; this model's classes are ${this.classNames.join(', ')}`);
    this.classifierThreshold = t;
  }

  /**
   * Class index for one row of this model's class probabilities (`proba[offset … offset + classes)`), by the
   * threshold rule of src/model/threshold.ts ({@link decideClass}); an autoencoder's probabilities already
   * encode its threshold (P(ANOMALY) ≥ 0.5 exactly when score ≥ threshold), so it takes the most probable class.
   */
  decide(proba: ArrayLike<number>, offset = 0): number {
    return decideClass(proba, offset, this.classNames.length, this.benignIndex, this.classifierThreshold);
  }

  /**
   * For each model feature, its column in an input with columns `inputNames` (first occurrence).
   * @throws ModelError listing every model feature absent from `inputNames`.
   */
  columnMap(inputNames: readonly string[]): Int32Array {
    const where = new Map<string, number>();
    inputNames.forEach((name, i) => {
      if (!where.has(name)) where.set(name, i);
    });
    const map = new Int32Array(this.featureNames.length);
    const missing: string[] = [];
    this.featureNames.forEach((name, j) => {
      const i = where.get(name);
      if (i === undefined) missing.push(name);
      else map[j] = i;
    });
    if (missing.length > 0) {
      throw new ModelError(
        `input lacks ${missing.length} of the model's ${this.featureNames.length} features: ${missing.join(', ')}`,
      );
    }
    return map;
  }

  /**
   * Scaled copy of `X` in model column order (`rows × featureNames.length`).
   * @throws ModelError on a malformed matrix or missing features.
   */
  prepare(X: FeatureMatrix): FeatureMatrix {
    checkMatrix(X);
    const map = this.columnMap(X.names);
    const d = map.length;
    const out = new Float64Array(X.rows * d);
    for (let r = 0; r < X.rows; r++) {
      const src = r * X.cols;
      const dst = r * d;
      for (let j = 0; j < d; j++) out[dst + j] = X.data[src + map[j]!]!;
      this.scaler.transformRow(out, dst);
    }
    return { rows: X.rows, cols: d, data: out, names: [...this.featureNames] };
  }

  /** Class probabilities of raw rows, `rows × classNames.length` row-major. @throws ModelError as {@link prepare}. */
  predictProba(X: FeatureMatrix): Float64Array {
    return this.model.predictProba(this.prepare(X));
  }

  /**
   * Class index per raw row (use `classNames[i]` for the label), by the threshold rule when a classifier has one
   * ({@link decide}). @throws ModelError as {@link prepare}.
   */
  predict(X: FeatureMatrix): Int32Array {
    if (this.classifierThreshold === null) return this.model.predict(this.prepare(X));
    const p = this.predictProba(X);
    const k = this.classNames.length;
    const out = new Int32Array(X.rows);
    for (let r = 0; r < X.rows; r++) out[r] = this.decide(p, r * k);
    return out;
  }

  /**
   * The label reported for decided class `c` whose open-set distance ratio is `ratio` (null: not measured, no
   * guard): {@link UNKNOWN} when the guard finds the flow out of distribution for a class it guards, else
   * `classNames[c]`.
   */
  label(c: number, ratio: number | null): string {
    return ratio !== null && this.openSet !== null && this.openSet.isUnknown(c, ratio) ? UNKNOWN : this.classNames[c]!;
  }

  /**
   * Decisions with the open-set guard, per raw row: the decided class ({@link predict}'s rule), its
   * probability, the guard's distance ratio for that class (null without a guard) and the reported label
   * ({@link label}: `UNKNOWN` for a guarded class out of distribution).
   * @param passClassRatios false: skip the distance search for rows decided as a class the guard passes
   *   (BENIGN: its label cannot change), their ratio is NaN. Default true.
   * @throws ModelError as {@link prepare}.
   */
  classify(X: FeatureMatrix, passClassRatios = true): PipelineClassification {
    const Z = this.prepare(X);
    const p = this.model.predictProba(Z);
    const k = this.classNames.length;
    const classIndex = new Int32Array(X.rows);
    const probability = new Float64Array(X.rows);
    const ratio = this.openSet ? new Float64Array(X.rows) : null;
    const labels = new Array<string>(X.rows);
    for (let r = 0; r < X.rows; r++) {
      const c = this.decide(p, r * k);
      classIndex[r] = c;
      probability[r] = p[r * k + c]!;
      let q: number | null = null;
      if (ratio) q = ratio[r] = passClassRatios || this.openSet!.guards(c) ? this.openSet!.ratioRow(Z.data, c, r * Z.cols) : NaN;
      labels[r] = this.label(c, q);
    }
    return { classIndex, probability, distanceRatio: ratio, labels };
  }

  /** Reported label per raw row, the open-set guard applied ({@link classify}). @throws ModelError as {@link prepare}. */
  predictLabels(X: FeatureMatrix): string[] {
    return this.classify(X, false).labels;
  }

  /**
   * Allocation-free per-row scorer for inputs whose columns are `inputNames` (streaming).
   * @throws ModelError listing missing features.
   */
  bind(inputNames: readonly string[]): RowScorer {
    const map = this.columnMap(inputNames);
    const buf = new Float64Array(map.length);
    const proba = new Float64Array(this.classNames.length);
    const { scaler, model } = this;
    const load = (row: Float64Array, offset: number): Float64Array => {
      for (let j = 0; j < map.length; j++) buf[j] = row[offset + map[j]!]!;
      return scaler.transformRow(buf);
    };
    return {
      predictRow: (row, offset = 0) => (this.classifierThreshold === null
        ? model.predictRow(load(row, offset))
        : this.decide(model.predictProbaRow(load(row, offset), proba))),
      predictProbaRow: (row, out, offset = 0) => model.predictProbaRow(load(row, offset), out),
      distanceRatioRow: (row, c, offset = 0) => (this.openSet === null ? null : this.openSet.ratioRow(load(row, offset), c)),
    };
  }
}

/** Per-row scoring of raw rows laid out as the `inputNames` given to {@link ModelPipeline.bind}. */
export interface RowScorer {
  /** Class index of `row[offset …]` (by the pipeline's threshold rule, {@link ModelPipeline.decide}). */
  predictRow(row: Float64Array, offset?: number): number;
  /** Probabilities of `row[offset …]` into `out[0 … nClasses)`; returns `out`. */
  predictProbaRow(row: Float64Array, out: Float64Array, offset?: number): Float64Array;
  /** Open-set distance ratio of `row[offset …]` for class `c` (> 1: out of distribution); null without a guard. */
  distanceRatioRow(row: Float64Array, c: number, offset?: number): number | null;
}

/** Output of {@link ModelPipeline.classify}: one entry per row. */
export interface PipelineClassification {
  /** Decided class index (before the guard). */
  classIndex: Int32Array;
  /** The model's probability of the decided class. */
  probability: Float64Array;
  /**
   * Open-set distance ratio for the decided class (> 1: out of distribution; capped at the guard's RATIO_CAP),
   * NaN where not measured; null without a guard.
   */
  distanceRatio: Float64Array | null;
  /** Reported label: the class name, or `UNKNOWN` when the guard overrides it. */
  labels: string[];
}

function checkNames(v: unknown, field: string): string[] {
  if (!Array.isArray(v)) throw new ModelError('missing or not an array of strings', { field });
  if (v.length === 0) throw new ModelError('must not be empty', { field });
  const seen = new Set<string>();
  v.forEach((s: unknown, i: number) => {
    if (typeof s !== 'string' || s === '') throw new ModelError(`must be a non-empty string, got ${JSON.stringify(s) ?? String(s)}`, { field: `${field}[${i}]` });
    if (seen.has(s)) throw new ModelError(`duplicate name "${s}"`, { field: `${field}[${i}]` });
    seen.add(s);
  });
  return [...(v as string[])];
}

/** JSON with one top-level field per line (readable with `head`), large arrays kept on one line. */
function serialise(doc: ModelBundleJSON): string {
  const lines = Object.entries(doc).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  return `{\n${lines.join(',\n')}\n}\n`;
}

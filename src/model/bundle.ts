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
 * through `model.algo` ({@link modelFromJSON}); `tree` is the only algorithm of format 1 so far.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ModelError } from './errors.js';
import type { FeatureMatrix } from './matrix.js';
import { StandardScaler, checkMatrix, type StandardScalerJSON } from './scaler.js';
import { DecisionTreeClassifier, type Classifier, type DecisionTreeJSON } from './tree.js';

/** Value of the `format` field. */
export const BUNDLE_FORMAT = 'flowsift-model';
/** Newest `formatVersion` this flowsift reads and the one it writes. */
export const BUNDLE_FORMAT_VERSION = 1;
/** File name of the bundle document inside the bundle directory. */
export const BUNDLE_FILE = 'model.json';
/** Algorithms a bundle of this version may hold (`model.algo`). */
export const KNOWN_ALGOS: readonly string[] = ['tree'];

/** JSON of the algorithm part: the model's own JSON plus its `algo` tag. */
export type ModelJSON = { algo: 'tree' } & DecisionTreeJSON;

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
  throw new ModelError(`cannot store a model of algorithm '${model.algo}' (this flowsift stores: ${KNOWN_ALGOS.join(', ')})`);
}

/**
 * Rebuild a classifier from a bundle's `model` field, dispatching on `algo`.
 * @param field JSON location for messages.
 * @throws ModelError on an unknown algorithm or invalid model JSON.
 */
export function modelFromJSON(json: unknown, field = 'model'): Classifier {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ModelError('missing or not an object', { field });
  const algo = (json as { algo?: unknown }).algo;
  switch (algo) {
    case 'tree':
      return DecisionTreeClassifier.fromJSON(json, field);
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
  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    createdAt: b.createdAt ?? new Date().toISOString(),
    flowsiftVersion: b.flowsiftVersion ?? FLOWSIFT_VERSION,
    featureNames,
    classNames,
    scaler: b.scaler.toJSON(),
    model: modelToJSON(b.model),
    training: { ...(b.training ?? {}) },
  };
}

/**
 * Validate a parsed `model.json` document and build the live bundle.
 * @param path file path used in error messages.
 * @throws ModelError (with `path` and `field`) on any problem: wrong `format`, a `formatVersion` newer than
 *   {@link BUNDLE_FORMAT_VERSION}, a missing or mistyped field, duplicate names, scaler/model sizes that
 *   disagree with the names, inconsistent node arrays, out-of-range indices, non-finite numbers.
 */
export function bundleFromJSON(json: unknown, path?: string): ModelBundle {
  try {
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
    const model = modelFromJSON(o.model, 'model');
    if (model.nFeatures !== featureNames.length) {
      throw new ModelError(`has ${model.nFeatures} features but featureNames has ${featureNames.length}`, { field: 'model.nFeatures' });
    }
    if (model.nClasses !== classNames.length) {
      throw new ModelError(`has ${model.nClasses} classes but classNames has ${classNames.length}`, { field: 'model.nClasses' });
    }
    const training = o.training;
    if (training === null || typeof training !== 'object' || Array.isArray(training)) {
      throw new ModelError('missing or not an object', { field: 'training' });
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
    };
  } catch (e) {
    if (e instanceof ModelError && path !== undefined) throw e.withPath(path);
    throw e;
  }
}

/**
 * Write a bundle directory: creates `dir` (and parents) if needed and writes `dir/model.json` atomically
 * (temporary file in the same directory, fsync, rename), so a reader never sees a half-written model.
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
  const file = join(dir, BUNDLE_FILE);
  const tmp = join(dir, `.${BUNDLE_FILE}.${process.pid}.${Date.now()}.tmp`);
  const text = serialise(doc);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, text);
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

/**
 * Read and validate a bundle directory (or a path to its `model.json`).
 * @throws ModelError with the path and a one-line message when the directory or file is missing or
 *   unreadable, the JSON is invalid, or the document fails {@link bundleFromJSON}'s checks.
 */
export function loadBundle(dir: string): ModelBundle {
  if (!existsSync(dir)) throw new ModelError('model bundle not found (no such directory)', { path: dir });
  const file = statSync(dir).isDirectory() ? join(dir, BUNDLE_FILE) : dir;
  if (!existsSync(file)) throw new ModelError(`not a model bundle: no ${BUNDLE_FILE} in the directory`, { path: dir });
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ModelError(`cannot read: ${(e as Error).message}`, { path: file });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelError(`invalid JSON: ${(e as Error).message}`, { path: file });
  }
  return bundleFromJSON(json, resolve(file));
}

/**
 * Scaler then model, on raw features addressed by name — the scoring side of a bundle.
 *
 * Input matrices may hold their columns in any order and extra columns; the ones the model needs are
 * picked by name ({@link columnMap}), and a missing one is a {@link ModelError} listing all missing names.
 */
export class ModelPipeline {
  readonly featureNames: readonly string[];
  readonly classNames: readonly string[];
  readonly scaler: StandardScaler;
  readonly model: Classifier;

  /** @throws ModelError when the parts' sizes disagree with the names. */
  constructor(parts: Pick<ModelBundle, 'featureNames' | 'classNames' | 'scaler' | 'model'>) {
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

  /** Class index per raw row (use `classNames[i]` for the label). @throws ModelError as {@link prepare}. */
  predict(X: FeatureMatrix): Int32Array {
    return this.model.predict(this.prepare(X));
  }

  /**
   * Allocation-free per-row scorer for inputs whose columns are `inputNames` (streaming).
   * @throws ModelError listing missing features.
   */
  bind(inputNames: readonly string[]): RowScorer {
    const map = this.columnMap(inputNames);
    const buf = new Float64Array(map.length);
    const { scaler, model } = this;
    const load = (row: Float64Array, offset: number): Float64Array => {
      for (let j = 0; j < map.length; j++) buf[j] = row[offset + map[j]!]!;
      return scaler.transformRow(buf);
    };
    return {
      predictRow: (row, offset = 0) => model.predictRow(load(row, offset)),
      predictProbaRow: (row, out, offset = 0) => model.predictProbaRow(load(row, offset), out),
    };
  }
}

/** Per-row scoring of raw rows laid out as the `inputNames` given to {@link ModelPipeline.bind}. */
export interface RowScorer {
  /** Class index of `row[offset …]`. */
  predictRow(row: Float64Array, offset?: number): number;
  /** Probabilities of `row[offset …]` into `out[0 … nClasses)`; returns `out`. */
  predictProbaRow(row: Float64Array, out: Float64Array, offset?: number): Float64Array;
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

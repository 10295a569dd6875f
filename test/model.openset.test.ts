/**
 * The open-set guard (src/model/openset.ts): its rule on data built here (clusters in a standardized space),
 * exactness of the pruned nearest-prototype search against brute force, the held-out quantile against NumPy,
 * JSON and bundle round trips, one-line errors for bad `openSet` content; then the CLI on the shipped example
 * (train stores the guard, score prints Confidence, the bundle reloads) and on the shared lab and nfstream
 * captures (few lab flows UNKNOWN, ordinary traffic's attack labels UNKNOWN).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { loadBundle, ModelPipeline, saveBundle } from '../src/model/bundle.js';
import { ModelError } from '../src/model/errors.js';
import { createMatrix, type FeatureMatrix } from '../src/model/matrix.js';
import { OpenSetGuard, RATIO_CAP, UNKNOWN, type OpenSetJSON } from '../src/model/openset.js';
import { StandardScaler } from '../src/model/scaler.js';
import { DecisionTreeClassifier } from '../src/model/tree.js';
import { flowsift } from './helpers/cli.js';
import { describeSk, prng, runPython } from './helpers/python.js';
import { describeShared, sharedPath } from './helpers/shared.js';
import { testDir } from './helpers/tmp.js';

const tmp = testDir('flowsift-openset-');
const CLASSES = ['BENIGN', 'DoS', 'PortScan'];
const D = 5;

/** Standard normal draws (Box–Muller) from a seeded uniform generator. */
function gaussian(seed: number): () => number {
  const u = prng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * Raw flows of the three classes: BENIGN a mixture of two broad clusters, DoS 20 distinct points repeated (a
 * flood: near-identical flows), PortScan one tight cluster; feature 4 is heavy-tailed (log-normal).
 */
function sample(seed: number, perClass: number): { X: FeatureMatrix; y: Int32Array } {
  const g = gaussian(seed);
  const rows: number[][] = [];
  const y: number[] = [];
  const dosPoints = Array.from({ length: 20 }, () => [50 + g(), 50 + g(), 3 + 0.1 * g(), 0, Math.exp(4 + 0.2 * g())]);
  for (let i = 0; i < perClass; i++) {
    const m = i % 2 === 0 ? 0 : 10;
    rows.push([m + 2 * g(), m + 2 * g(), 2 * g(), g(), Math.exp(1 + g())]);
    y.push(0);
    rows.push([...dosPoints[i % 20]!]);
    y.push(1);
    rows.push([-30 + 0.5 * g(), 20 + 0.5 * g(), 10 + 0.5 * g(), 5 + 0.5 * g(), Math.exp(2 + 0.3 * g())]);
    y.push(2);
  }
  const data = new Float64Array(rows.flat());
  return { X: createMatrix(rows.length, D, ['f0', 'f1', 'f2', 'f3', 'f4'], data), y: Int32Array.from(y) };
}

const train = sample(1, 600);
const scaler = new StandardScaler().fit(train.X);
const Ztrain = scaler.transform(train.X);

/** Flows far from every class: values 40 standard deviations away in two features. */
function farRows(n: number): FeatureMatrix {
  const g = gaussian(7);
  const data = new Float64Array(n * D);
  for (let i = 0; i < n; i++) {
    data.set([200 + g(), -200 + g(), 60 + g(), 40 + g(), Math.exp(9 + g())], i * D);
  }
  return scaler.transform(createMatrix(n, D, ['f0', 'f1', 'f2', 'f3', 'f4'], data));
}

/** Independent brute force: min Euclidean distance in t = sign(z)·ln(1+|z|) to the stored prototypes. */
function bruteDistance(z: ArrayLike<number>, prototypes: number[][]): number {
  let best = Infinity;
  for (const p of prototypes) {
    let s = 0;
    for (let j = 0; j < p.length; j++) {
      const t = Math.sign(z[j]!) * Math.log1p(Math.abs(z[j]!));
      s += (t - p[j]!) ** 2;
    }
    best = Math.min(best, Math.sqrt(s));
  }
  return best;
}

describe('OpenSetGuard: the rule on clusters built in the test', () => {
  const guard = OpenSetGuard.fit(Ztrain, train.y, CLASSES, { passClasses: ['BENIGN'] });
  const json = guard.toJSON();
  const fresh = sample(2, 2000);
  const Zfresh = scaler.transform(fresh.X);

  it('stores per class: flows, 20 % held out, distinct prototypes ≤ maxPrototypes, threshold = max(quantile, floor)', () => {
    expect(json.method).toBe('class-prototype-1nn');
    expect(json.classes.map((c) => c.name)).toEqual(CLASSES);
    for (const c of json.classes) {
      expect(c.flows).toBe(600);
      expect(c.heldOut).toBe(120);
      expect(c.threshold).toBe(Math.max(c.quantileDistance!, 1));
      expect(c.prototypes.length).toBeLessThanOrEqual(480);
      expect(new Set(c.prototypes.map((p) => p.join())).size).toBe(c.prototypes.length);
    }
    // The flood's 600 flows are 20 distinct points: 20 prototypes; its held-out flows sit on them (up to the
    // rounding of prototypes to 6 significant digits), so its threshold is the floor.
    expect(json.classes[1]!.prototypes).toHaveLength(20);
    expect(json.classes[1]!.quantileDistance).toBeLessThan(1e-5);
    expect(json.classes[1]!.threshold).toBe(1);
    expect(json.classes[0]!.prototypes).toHaveLength(480);
    expect(guard.guards(0)).toBe(false);
    expect(guard.guards(1)).toBe(true);
  });

  it('fresh flows of the training distribution are rarely out of distribution; with floor 0 about the quantile’s share', () => {
    const ratios = guard.score(Zfresh, fresh.y);
    for (let c = 0; c < 3; c++) {
      let out = 0, n = 0;
      for (let r = 0; r < fresh.X.rows; r++) if (fresh.y[r] === c) { n++; if (ratios[r]! > 1) out++; }
      expect(out / n, CLASSES[c]).toBeLessThanOrEqual(0.005);
    }
    // Without the floor the threshold is the 0.995 quantile of 120 held-out distances: a few fresh flows lie beyond.
    const bare = OpenSetGuard.fit(Ztrain, train.y, CLASSES, { floor: 0, quantile: 0.995 });
    const r0 = bare.score(Zfresh, fresh.y);
    for (const c of [0, 2]) {
      let out = 0, n = 0;
      for (let r = 0; r < fresh.X.rows; r++) if (fresh.y[r] === c) { n++; if (r0[r]! > 1) out++; }
      expect(out / n, CLASSES[c]).toBeGreaterThan(0);
      expect(out / n, CLASSES[c]).toBeLessThan(0.03);
    }
  });

  it('flows far from every class are out of distribution for every class; only guarded classes turn UNKNOWN', () => {
    const far = farRows(50);
    for (let c = 0; c < 3; c++) {
      const r = guard.score(far, new Int32Array(50).fill(c));
      expect(Array.from(r).every((v) => v === RATIO_CAP)).toBe(true);
      expect(Array.from(r).every((v) => guard.isUnknown(c, v) === (c !== 0))).toBe(true);
    }
    expect(OpenSetGuard.confidence(RATIO_CAP)).toBeCloseTo(1 / 17, 15);
    expect(OpenSetGuard.confidence(1)).toBe(0.5);
    expect(OpenSetGuard.confidence(0)).toBe(1);
    expect(OpenSetGuard.confidence(0.5)).toBeCloseTo(16 / 17, 15);
  });

  it('the pruned search equals brute force (ratio capped at RATIO_CAP) on near, mid and far flows', () => {
    const g = gaussian(11);
    const n = 600;
    const data = new Float64Array(n * D);
    for (let i = 0; i < n; i++) {
      const src = i % train.X.rows;
      const spread = [0.01, 0.3, 1, 3][i % 4]!;
      for (let j = 0; j < D; j++) data[i * D + j] = Ztrain.data[src * D + j]! + spread * g();
    }
    const Z = createMatrix(n, D, Ztrain.names, data);
    const cls = Int32Array.from({ length: n }, (_, i) => (i * 7) % 3);
    const ratios = guard.score(Z, cls);
    let capped = 0, inside = 0;
    for (let i = 0; i < n; i++) {
      const c = cls[i]!;
      const want = Math.min(bruteDistance(data.subarray(i * D, (i + 1) * D), json.classes[c]!.prototypes) / json.classes[c]!.threshold, RATIO_CAP);
      expect(ratios[i]).toBeCloseTo(want, 12);
      if (want === RATIO_CAP) capped++;
      if (want < 1) inside++;
    }
    expect(capped).toBeGreaterThan(50); // the cases cover both ends
    expect(inside).toBeGreaterThan(50);
  });

  it('is seeded: the same seed gives the same guard, another seed another held-out split', () => {
    expect(OpenSetGuard.fit(Ztrain, train.y, CLASSES, { passClasses: ['BENIGN'] }).toJSON()).toEqual(json);
    const other = OpenSetGuard.fit(Ztrain, train.y, CLASSES, { passClasses: ['BENIGN'], seed: 1 }).toJSON();
    expect(other.seed).toBe(1);
    expect(other.classes[0]!.prototypes).not.toEqual(json.classes[0]!.prototypes);
  });

  it('caps prototypes per class at maxPrototypes (a sample of the distinct fit flows)', () => {
    const small = OpenSetGuard.fit(Ztrain, train.y, CLASSES, { maxPrototypes: 50 }).toJSON();
    expect(small.classes.map((c) => c.prototypes.length)).toEqual([50, 20, 50]);
    // Each prototype is a BENIGN training flow in the t space (values rounded to 6 significant digits).
    const round6 = (v: number): number => (v === 0 ? 0 : Number(v.toPrecision(6)));
    const benign = new Set<string>();
    for (let r = 0; r < Ztrain.rows; r++) {
      if (train.y[r] === 0) benign.add(Array.from(Ztrain.data.subarray(r * D, (r + 1) * D), (z) => round6(Math.sign(z) * Math.log1p(Math.abs(z)))).join());
    }
    for (const p of small.classes[0]!.prototypes) expect(benign.has(p.join())).toBe(true);
  });

  it('measures at most maxQuantileFlows held-out flows per class (a sample of them; still all kept out of the prototypes)', () => {
    // Held-out flows = the BENIGN training flows that are not prototypes (every flow distinct, maxPrototypes ≥ the fit part).
    const opts = { floor: 0, maxPrototypes: 10_000 };
    const all = OpenSetGuard.fit(Ztrain, train.y, CLASSES, opts).toJSON();
    const protos = all.classes[0]!.prototypes;
    const round6 = (v: number): number => (v === 0 ? 0 : Number(v.toPrecision(6)));
    const heldDistances = new Set<number>();
    for (let r = 0; r < Ztrain.rows; r++) {
      if (train.y[r] !== 0) continue;
      const z = Ztrain.data.subarray(r * D, (r + 1) * D);
      if (!new Set(protos.map((p) => p.join())).has(Array.from(z, (v) => round6(Math.sign(v) * Math.log1p(Math.abs(v)))).join())) heldDistances.add(bruteDistance(z, protos));
    }
    expect(heldDistances.size).toBe(all.classes[0]!.heldOut);
    // Interpolated between two of the 120 distances: not one of them.
    expect([...heldDistances].some((x) => Math.abs(x - all.classes[0]!.quantileDistance!) < 1e-9)).toBe(false);
    // A cap of 1: the quantile is the distance of the one flow measured; the same prototypes and held-out count.
    const one = OpenSetGuard.fit(Ztrain, train.y, CLASSES, { ...opts, maxQuantileFlows: 1 }).toJSON();
    expect(one.maxQuantileFlows).toBe(1);
    expect(one.classes[0]!.heldOut).toBe(all.classes[0]!.heldOut);
    expect(one.classes[0]!.prototypes).toEqual(protos);
    expect([...heldDistances].some((x) => Math.abs(x - one.classes[0]!.quantileDistance!) < 1e-9)).toBe(true);
    // A cap at the held-out count measures them all: the uncapped guard.
    const capped = OpenSetGuard.fit(Ztrain, train.y, CLASSES, { ...opts, maxQuantileFlows: 120 }).toJSON();
    expect({ ...capped, maxQuantileFlows: all.maxQuantileFlows }).toEqual(all);
    expect(all.maxQuantileFlows).toBe(50_000);
    expect(() => OpenSetGuard.fit(Ztrain, train.y, CLASSES, { maxQuantileFlows: 0 })).toThrow(/maxQuantileFlows: must be a positive integer/);
  });

  it('reads a guard written before maxQuantileFlows existed (every held-out flow measured) and writes it back unchanged', () => {
    const { maxQuantileFlows: _, ...old } = json;
    const back = OpenSetGuard.fromJSON(JSON.parse(JSON.stringify(old)), CLASSES, D);
    expect(back.maxQuantileFlows).toBeNull();
    expect(back.toJSON()).toEqual(old);
    expect(() => OpenSetGuard.fromJSON({ ...json, maxQuantileFlows: 2.5 }, CLASSES, D)).toThrow(/openSet\.maxQuantileFlows: must be a positive integer, got 2\.5/);
  });

  it('JSON round trip: identical document and identical scores', () => {
    const back = OpenSetGuard.fromJSON(JSON.parse(JSON.stringify(json)), CLASSES, D);
    expect(back.toJSON()).toEqual(json);
    const far = farRows(20);
    const both = createMatrix(Zfresh.rows + 20, D, Zfresh.names, new Float64Array([...Zfresh.data, ...far.data]));
    const cls = Int32Array.from({ length: both.rows }, (_, i) => (i < Zfresh.rows ? fresh.y[i]! : 1));
    expect(back.score(both, cls)).toEqual(guard.score(both, cls));
  });

  it('fit rejects a class without flows, an unknown pass class, bad options and labels out of range', () => {
    expect(() => OpenSetGuard.fit(Ztrain, train.y, [...CLASSES, 'WebAttack'])).toThrow(/class 'WebAttack' has no training flow/);
    expect(() => OpenSetGuard.fit(Ztrain, train.y, CLASSES, { passClasses: ['NORMAL'] })).toThrow(/pass class 'NORMAL' is not one of the classes/);
    expect(() => OpenSetGuard.fit(Ztrain, train.y, CLASSES, { quantile: 1.5 })).toThrow(/quantile: must be a number in \(0, 1\]/);
    expect(() => OpenSetGuard.fit(Ztrain, train.y, CLASSES, { maxPrototypes: 0 })).toThrow(/maxPrototypes: must be a positive integer/);
    expect(() => OpenSetGuard.fit(Ztrain, train.y.subarray(1), CLASSES)).toThrow(/y has 1799 labels for 1800 rows/);
    expect(() => OpenSetGuard.fit(Ztrain, Int32Array.from(train.y, (v) => v + 1), CLASSES)).toThrow(/is not a class index in \[0, 3\)/);
    expect(() => OpenSetGuard.fit(Ztrain, train.y, CLASSES, { floor: 0, maxPrototypes: 1 })).not.toThrow();
  });
});

describeSk('OpenSetGuard: the held-out quantile against NumPy', () => {
  it('quantileDistance = np.quantile(held-out nearest-prototype distances, q) with the linear rule', () => {
    // Every training flow is distinct (BENIGN, PortScan) and maxPrototypes ≥ the fit part: the prototypes are the
    // fit flows, so the held-out flows are the training flows that are not prototypes.
    const guard = OpenSetGuard.fit(Ztrain, train.y, CLASSES, { floor: 0, quantile: 0.9, maxPrototypes: 10_000 });
    const json = guard.toJSON();
    const round6 = (v: number): number => (v === 0 ? 0 : Number(v.toPrecision(6)));
    for (const c of [0, 2]) {
      const protos = new Set(json.classes[c]!.prototypes.map((p) => p.join()));
      const held: number[][] = [];
      for (let r = 0; r < Ztrain.rows; r++) {
        if (train.y[r] !== c) continue;
        const t = Array.from(Ztrain.data.subarray(r * D, (r + 1) * D), (z) => Math.sign(z) * Math.log1p(Math.abs(z)));
        if (!protos.has(t.map(round6).join())) held.push(t);
      }
      expect(held).toHaveLength(json.classes[c]!.heldOut);
      const q = runPython<number>([
        'import json, sys, numpy as np',
        'd = json.load(sys.stdin); H = np.array(d["held"]); P = np.array(d["protos"])',
        'dist = np.sqrt(((H[:, None, :] - P[None, :, :]) ** 2).sum(-1)).min(1)',
        'print(json.dumps(float(np.quantile(dist, 0.9))))',
      ].join('\n'), { held, protos: json.classes[c]!.prototypes });
      expect(json.classes[c]!.quantileDistance).toBeCloseTo(q, 12);
      expect(json.classes[c]!.threshold).toBe(json.classes[c]!.quantileDistance);
    }
  });
});

describe('the openSet field of a model bundle', () => {
  const tree = new DecisionTreeClassifier({ maxDepth: 4 }).fit(Ztrain, train.y, 3);
  const guard = OpenSetGuard.fit(Ztrain, train.y, CLASSES, { passClasses: ['BENIGN'] });
  const parts = { featureNames: Ztrain.names, classNames: CLASSES, scaler, model: tree };
  const dir = join(tmp, 'guarded');
  const file = saveBundle(dir, { ...parts, openSet: guard });
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { openSet: OpenSetJSON };

  it('is written with format version 2, reloads identical, and predictLabels turns far attack predictions UNKNOWN', () => {
    expect(doc.formatVersion).toBe(2);
    const b = loadBundle(dir);
    expect(b.openSet!.toJSON()).toEqual(guard.toJSON());
    const pipe = new ModelPipeline(b);
    // Raw far flows: whatever class the tree gives them, attack classes become UNKNOWN, BENIGN stays.
    const g = gaussian(5);
    const raw = createMatrix(40, D, Ztrain.names, Float64Array.from({ length: 40 * D }, (_, i) => (i % D === 4 ? 1e9 : 300 * g())));
    const c = pipe.classify(raw);
    expect(Array.from(c.distanceRatio!).every((v) => v === RATIO_CAP)).toBe(true);
    c.labels.forEach((l, i) => expect(l).toBe(c.classIndex[i] === 0 ? 'BENIGN' : UNKNOWN));
    expect(c.labels.filter((l) => l === UNKNOWN).length).toBeGreaterThan(0);
    expect(pipe.predictLabels(raw)).toEqual(c.labels);
    // The streaming scorer gives the same ratios.
    const scorer = pipe.bind(Ztrain.names);
    for (let r = 0; r < 40; r++) expect(scorer.distanceRatioRow(raw.data.subarray(r * D), c.classIndex[r]!)).toBe(c.distanceRatio![r]);
    // Training flows keep their class (no UNKNOWN among the raw training flows' predictions of the flood).
    const labels = pipe.predictLabels(train.X);
    expect(labels.filter((l) => l === UNKNOWN).length / labels.length).toBeLessThan(0.005);
  });

  it('a bundle without it loads as before: no guard, labels are the class names', () => {
    const plain = join(tmp, 'plain');
    saveBundle(plain, parts);
    const b = loadBundle(plain);
    expect(b.openSet).toBeUndefined();
    const pipe = new ModelPipeline(b);
    expect(pipe.openSet).toBeNull();
    const far = createMatrix(3, D, Ztrain.names, new Float64Array(3 * D).fill(1e6));
    expect(pipe.predictLabels(far)).toEqual(Array.from(pipe.predict(far), (k) => CLASSES[k]));
    expect(pipe.bind(Ztrain.names).distanceRatioRow(far.data, 1)).toBeNull();
  });

  it.each<[string, (d: Record<string, any>) => void, RegExp]>([
    ['a version-1 document', (d) => (d.formatVersion = 1), /model\.json: openSet: needs formatVersion 2 \(the document says 1\)/],
    ['an unknown method', (d) => (d.openSet.method = 'mahalanobis'), /model\.json: openSet\.method: unknown open-set method "mahalanobis"/],
    ['a class name out of order', (d) => (d.openSet.classes[1].name = 'PortScan'), /model\.json: openSet\.classes\[1\]\.name: must be the model's class 1, "DoS"/],
    ['a missing class', (d) => d.openSet.classes.pop(), /model\.json: openSet\.classes: has 2 entries but the model has 3 classes/],
    ['a negative threshold', (d) => (d.openSet.classes[2].threshold = -1), /model\.json: openSet\.classes\[2\]\.threshold: must be max\(quantileDistance, floor\)/],
    ['a threshold that is not max(quantile, floor)', (d) => (d.openSet.classes[2].threshold *= 2), /openSet\.classes\[2\]\.threshold: must be max/],
    ['a short prototype', (d) => d.openSet.classes[0].prototypes[3].pop(), /model\.json: openSet\.classes\[0\]\.prototypes\[3\]: must be an array of nFeatures = 5 numbers/],
    ['a non-finite prototype value', (d) => (d.openSet.classes[1].prototypes[0][2] = null), /model\.json: openSet\.classes\[1\]\.prototypes\[0\]\[2\]: must be a finite number, got null/],
    ['no prototypes', (d) => (d.openSet.classes[1].prototypes = []), /openSet\.classes\[1\]\.prototypes: must be a non-empty array/],
    ['a wrong feature count', (d) => (d.openSet.nFeatures = 4), /model\.json: openSet\.nFeatures: is 4 but the model has 5 features/],
    ['an unknown pass class', (d) => (d.openSet.passClasses = ['NORMAL']), /model\.json: openSet\.passClasses: must be an array of class names/],
    ['a bad quantile', (d) => (d.openSet.quantile = 2), /model\.json: openSet\.quantile: must be a number in \(0, 1\]/],
    ['held-out flows ≥ flows', (d) => (d.openSet.classes[0].heldOut = 600), /openSet\.classes\[0\]\.heldOut: must be an integer in \[0, 600\)/],
    ['not an object', (d) => (d.openSet = [1]), /model\.json: openSet: missing or not an object/],
  ])('rejects %s with one line naming model.json and the field', (_name, mutate, pattern) => {
    const bad = JSON.parse(JSON.stringify(doc)) as Record<string, any>;
    mutate(bad);
    const d = join(tmp, `bad-${_name.replace(/\W+/g, '-')}`);
    saveBundle(d, parts);
    writeFileSync(join(d, 'model.json'), JSON.stringify(bad));
    let err: unknown;
    try {
      loadBundle(d);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelError);
    expect((err as Error).message).not.toContain('\n');
    expect((err as Error).message).toMatch(pattern);
  });

  it('saveBundle refuses a guard that does not fit the model', () => {
    const other = OpenSetGuard.fit(Ztrain, train.y, ['A', 'B', 'C']);
    expect(() => saveBundle(join(tmp, 'mismatch'), { ...parts, openSet: other })).toThrow(/openSet: the open-set guard's classes \(A, B, C\) differ from classNames/);
  });
});

const EXAMPLE = 'datasets/lab-excerpt/capture.pcap';
const LABELS = 'datasets/lab-excerpt/labels.csv';

describe('CLI: train stores the guard, score prints Confidence, the bundle reloads', () => {
  const dir = join(tmp, 'cli-guard');
  const off = join(tmp, 'cli-plain');

  it('train fits the guard by default (and not with --no-open-set)', () => {
    const r = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/open-set guard \([\d.]+ s\): .* UNKNOWN; threshold = max\(0\.995 quantile of held-out distances, 1\)/);
    expect(r.stdout).toMatch(/\n {2}BENIGN +[\d,]+ prototypes {2}threshold \d+\.\d{3} \(passes: never UNKNOWN\)\n/);
    expect(r.stdout).toMatch(/\n {2}PortScan +[\d,]+ prototypes {2}threshold \d+\.\d{3}\n/);
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(doc.formatVersion).toBe(2);
    expect(doc.openSet.classes.map((c: { name: string }) => c.name)).toEqual(doc.classNames);
    expect(doc.openSet.passClasses).toEqual(['BENIGN']);
    const b = loadBundle(dir);
    expect(b.openSet!.nClasses).toBe(5);
    const p = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', off, '--no-open-set', '-q']);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).not.toMatch(/open-set/);
    const plain = JSON.parse(readFileSync(join(off, 'model.json'), 'utf8'));
    expect(plain.openSet).toBeUndefined();
    expect(plain.formatVersion).toBe(1);
    expect(plain.model).toEqual(doc.model); // the guard does not change the tree
  });

  it('score: a confidence column in text, CSV and JSON (probability × in-distribution confidence); "-" without a guard', () => {
    const r = flowsift(['score', EXAMPLE, '--model', dir, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/ prediction +probability confidence$/);
    const rows = r.stdout.split('\n').filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
    expect(rows.length).toBeGreaterThan(3000);
    for (const l of rows) expect(l).toMatch(/ (PortScan|DoS|BruteForce|WebAttack|UNKNOWN)\s+[01]\.\d{3}\s+[01]\.\d{3}$/);
    const csvFile = join(tmp, 'scored.csv');
    expect(flowsift(['score', EXAMPLE, '--model', dir, '-o', csvFile, '-q']).code).toBe(0);
    const csv = parse(readFileSync(csvFile, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(csv[0]!)).toEqual(['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp', 'Prediction', 'Probability', 'Confidence', 'end_reason']);
    expect(csv).toHaveLength(rows.length);
    const json = flowsift(['score', EXAMPLE, '--model', dir, '--json', '--all', '-q']).stdout.trim().split('\n').map((l) => JSON.parse(l));
    for (const o of json) {
      expect(o.confidence).toBeCloseTo(o.probability * OpenSetGuard.confidence(o.distance_ratio), 12);
      expect(o.prediction).toBe(o.distance_ratio > 1 && o.model_class !== 'BENIGN' ? UNKNOWN : o.model_class);
    }
    // Flows of the capture it was trained on: nearly all in distribution.
    expect(json.filter((o) => o.distance_ratio <= 1).length / json.length).toBeGreaterThan(0.99);
    const plain = flowsift(['score', EXAMPLE, '--model', off, '-q']).stdout.split('\n').filter((l) => /^\d{4}-/.test(l));
    expect(plain[0]).toMatch(/[01]\.\d{3}\s+-$/);
    // The bundle reloads and scores the same.
    expect(flowsift(['score', EXAMPLE, '--model', dir, '-q']).stdout).toBe(r.stdout);
  });
});

describeShared('CLI on the shared captures: lab/test barely changes, ordinary traffic gets UNKNOWN instead of attack classes', () => {
  const dir = join(tmp, 'lab-guard');

  it('trains on lab/train; on lab/test at most 0.5 % of flows turn UNKNOWN; nfstream attack labels turn UNKNOWN', () => {
    // CICFlowMeter's 76 features, where the lab model calls most ordinary flows attacks (the case the guard is for).
    const t = flowsift(['train', sharedPath('lab', 'train', 'capture.pcap'), '--labels', sharedPath('lab', 'train', 'labels.csv'), '--model', dir, '--features', 'all', '-q']);
    expect(t.code, t.stderr).toBe(0);
    const e = JSON.parse(flowsift(['evaluate', sharedPath('lab', 'test', 'capture.pcap'), '--labels', sharedPath('lab', 'test', 'labels.csv'), '--model', dir, '--json', '-q']).stdout);
    const unknown: number = e.unknown;
    expect(unknown).toBeGreaterThan(0);
    expect(unknown / e.flows).toBeLessThanOrEqual(0.005);
    for (const c of ['DoS', 'PortScan', 'WebAttack']) expect(e.classes[c].f1, c).toBeGreaterThan(0.99);
    // UNKNOWN is an abstention, not a class: the macro average covers the lab's five classes only.
    expect(Object.keys(e.classes)).not.toContain(UNKNOWN);
    expect(e.confusion_matrix.labels).not.toContain(UNKNOWN);
    expect(e.macro_f1).toBeGreaterThan(0.99);
    // Ordinary traffic (nfstream's test captures, all BENIGN): whatever the model flags, it no longer calls an attack class.
    const pcaps = ['443-chrome.pcap', 'facebook.pcap', 'google_ssl.pcap', 'skype.pcap', 'wechat.pcap', 'zoom.pcap'].map((f) => sharedPath('peers', 'nfstream', 'pcaps', f));
    const s = flowsift(['score', ...pcaps, '--model', dir, '-q']);
    expect(s.code, s.stderr).toBe(0);
    const m = /([\d,]+) flows scored, ([\d,]+) flagged/.exec(s.stdout)!;
    const flagged = Number(m[2]!.replace(/,/g, ''));
    expect(flagged).toBeGreaterThan(20);
    expect(s.stdout).toMatch(new RegExp(`\\n {2}UNKNOWN: ${m[2]} flows \\(unlike the training flows`));
    expect(s.stdout).not.toMatch(/\n {2}(DoS|PortScan|BruteForce|WebAttack): /);
  });
});

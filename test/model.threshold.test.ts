/**
 * Alert thresholds at a target false-positive rate: the calibration rule (against a brute-force search over
 * every candidate threshold), the decision rule, the bundle field (stored, reloaded, validated, old bundles
 * still loading), and the CLI (`train --target-fpr`, the stored threshold used by evaluate and score,
 * `--threshold` overriding it).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlowRecords } from '../src/dataset/collect.js';
import { holdOutClass, holdOutClassByGroup, splitRows } from '../src/dataset/split.js';
import { BUNDLE_FORMAT_VERSION, loadBundle, ModelPipeline, saveBundle, type AlertThreshold } from '../src/model/bundle.js';
import { createMatrix, type FeatureMatrix } from '../src/model/matrix.js';
import { StandardScaler } from '../src/model/scaler.js';
import { attackProbability, calibrateThreshold, decideClass, nextDown, nextUp } from '../src/model/threshold.js';
import { DecisionTreeClassifier } from '../src/model/tree.js';
import { flowsift } from './helpers/cli.js';
import { prng } from './helpers/python.js';
import { describeShared, REPO, sharedPath } from './helpers/shared.js';
import { testDir } from './helpers/tmp.js';

const tmp = testDir('flowsift-threshold-');

/** Flows flagged by threshold t among scores: score ≥ t. */
const flaggedAt = (scores: ArrayLike<number>, t: number): number => Array.from(scores).filter((s) => s >= t).length;

describe('nextUp / nextDown', () => {
  it('step to the neighbouring doubles', () => {
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextUp(1)).toBe(1 + Number.EPSILON);
    expect(nextDown(1)).toBe(1 - Number.EPSILON / 2);
    expect(nextUp(-Number.MIN_VALUE)).toBe(-0);
    for (const x of [0.05, 0.3333333333333333, 2.5e-300, 1e300, 123.456]) {
      expect(nextUp(x)).toBeGreaterThan(x);
      expect(nextDown(nextUp(x))).toBe(x);
      expect((x + nextUp(x)) / 2 === x || (x + nextUp(x)) / 2 === nextUp(x)).toBe(true); // nothing between them
    }
    expect(nextUp(Infinity)).toBe(Infinity);
    expect(Number.isNaN(nextUp(NaN))).toBe(true);
  });
});

describe('calibrateThreshold: the smallest threshold whose held-out FPR is ≤ the target', () => {
  /** The smallest candidate threshold (each distinct score, and just above the largest) meeting the target. */
  function bruteForce(scores: number[], f: number): number {
    const candidates = [...new Set(scores), nextUp(Math.max(...scores))].sort((a, b) => a - b);
    return candidates.find((t) => flaggedAt(scores, t) / scores.length <= f)!;
  }

  it('agrees with a brute-force search on random scores with ties (probabilities and anomaly scores)', () => {
    const rnd = prng(7);
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rnd() * 400);
      // Tree-like probabilities (few distinct values, many ties, many zeros) or continuous anomaly scores.
      const scores = trial % 2 === 0
        ? Array.from({ length: n }, () => (rnd() < 0.6 ? 0 : Math.floor(rnd() * 8) / 7))
        : Array.from({ length: n }, () => -Math.log(1 - rnd()) * 3);
      const f = [0.001, 0.01, 0.05, 0.1, 0.29, 0.5][trial % 6]!;
      const c = calibrateThreshold(scores, f);
      const flagged = flaggedAt(scores, c.threshold);
      expect(c.heldOutFlagged).toBe(flagged);
      expect(c.heldOutFlows).toBe(n);
      expect(c.heldOutFpr).toBe(flagged / n);
      expect(c.heldOutFpr).toBeLessThanOrEqual(f);
      // Minimal: the boundary itself (any threshold ≤ it) flags more than the target allows.
      expect(flaggedAt(scores, c.boundary) / n).toBeGreaterThan(f);
      expect(nextDown(c.threshold)).toBe(c.boundary);
      // Between candidate thresholds the flagged set does not change: the brute force's threshold flags the same flows.
      const b = bruteForce(scores, f);
      expect(flaggedAt(scores, b)).toBe(flagged);
      expect(c.threshold).toBeLessThanOrEqual(b);
      expect(c.resolutionWarning !== null).toBe(n * f < 1);
    }
  });

  it('k = ⌊F·n⌋ even where F·n rounds below an integer (0.29 × 100 = 28.999999999999996)', () => {
    const scores = Array.from({ length: 100 }, (_, i) => i); // distinct: exactly k flagged
    expect(0.29 * 100).toBeLessThan(29);
    const c = calibrateThreshold(scores, 0.29);
    expect(c.heldOutFlagged).toBe(29);
    expect(c.boundary).toBe(70);
    expect(calibrateThreshold(scores, 0.01).heldOutFlagged).toBe(1);
  });

  it('fewer held-out flows than 1/F: above every score, with a warning about the resolution', () => {
    const c = calibrateThreshold([0.1, 0.7, 0.3], 0.01);
    expect(c.threshold).toBe(nextUp(0.7));
    expect(c.heldOutFlagged).toBe(0);
    expect(c.resolutionWarning).toMatch(/only 3 held-out BENIGN flows: the false-positive rate is measured in steps of 1\/3 = 0\.333, coarser than the target 0\.01/);
  });

  it('ties at the boundary are left unflagged (fewer than k flagged rather than more)', () => {
    const scores = [0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0]; // F = 0.2 allows 2; the four 0.5 tie
    const c = calibrateThreshold(scores, 0.2);
    expect(c.boundary).toBe(0.5);
    expect(c.heldOutFlagged).toBe(0);
    expect(calibrateThreshold(scores, 0.4).threshold).toBe(nextUp(0));
    expect(calibrateThreshold(scores, 0.4).heldOutFlagged).toBe(4);
  });

  it('errors', () => {
    expect(() => calibrateThreshold([], 0.01)).toThrow(/no held-out BENIGN flows/);
    expect(() => calibrateThreshold([0.1, NaN], 0.01)).toThrow(/held-out score 1 is not a finite number/);
    for (const f of [0, 1, -0.1, NaN]) expect(() => calibrateThreshold([0.1], f)).toThrow(/must be in \(0, 1\)/);
  });
});

describe('decideClass: BENIGN unless 1 − P(BENIGN) ≥ threshold, then the most probable attack class', () => {
  it('without a threshold: the most probable class, the first on ties', () => {
    expect(decideClass([0.2, 0.5, 0.3], 0, 3, 0, null)).toBe(1);
    expect(decideClass([0.4, 0.4, 0.2], 0, 3, 1, null)).toBe(0);
  });
  it('with one: flags on the summed attack probability even when BENIGN is the most probable class', () => {
    // classes [BruteForce, BENIGN, DoS]; P(BENIGN) = 0.6, attack probability 0.4
    const p = [0.1, 0.6, 0.3];
    expect(attackProbability(p, 1)).toBeCloseTo(0.4, 15);
    expect(decideClass(p, 0, 3, 1, 0.4 - 1e-12)).toBe(2);
    expect(decideClass(p, 0, 3, 1, 0.41)).toBe(1);
    // a row at an offset; ties between attack classes go to the first
    expect(decideClass([9, 9, 9, 0.25, 0.5, 0.25], 3, 3, 1, 0.5)).toBe(0);
    // and a high threshold keeps a flow BENIGN that argmax would call an attack
    expect(decideClass([0.55, 0.45, 0], 0, 3, 1, 0.6)).toBe(1);
    expect(attackProbability([0, 1.0000000000000002, 0], 1)).toBe(0); // clipped to [0, 1]
  });
});

describe('the held-out BENIGN flows: single flows, or whole captures when there are several', () => {
  /** Records with `labels` and capture (source) `groups`. */
  function records(labels: string[], groups: number[]): FlowRecords {
    const r = new FlowRecords(['x']);
    const nGroups = Math.max(...groups) + 1;
    for (let g = 0; g < nGroups; g++) r.addSource(`c${g}.pcap`);
    labels.forEach((l, i) => r.add({ features: Float64Array.of(i), srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2, protocol: 6, firstSeenUs: i }, l, groups[i]!));
    return r;
  }

  it('splitRows time: the latest flows of each source, not the latest sources (unrelated clocks)', () => {
    // Source 0 recorded in 2016 (class A), source 1 in 1970 (class B): a global time order would test on A only.
    const r = new FlowRecords(['x']);
    r.addSource('a.pcap');
    r.addSource('b.pcap');
    for (let i = 0; i < 100; i++) r.add({ features: Float64Array.of(i), srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2, protocol: 6, firstSeenUs: 1.45e15 + (99 - i) * 1e6 }, 'A', 0);
    for (let i = 0; i < 60; i++) r.add({ features: Float64Array.of(i), srcIp: '10.0.0.1', dstIp: '10.0.0.2', srcPort: 1, dstPort: 2, protocol: 6, firstSeenUs: 1e9 + i * 1e6 }, 'B', 1);
    const { train, test } = splitRows(r, 0.25, 'time');
    expect(test.length).toBe(25 + 15);
    expect(train.length + test.length).toBe(160);
    // Source 0's latest flows are its first rows (times decrease), source 1's its last rows.
    expect(Array.from(test).filter((i) => i < 100)).toEqual(Array.from({ length: 25 }, (_, k) => k));
    expect(Array.from(test).filter((i) => i >= 100)).toEqual(Array.from({ length: 15 }, (_, k) => 145 + k));
  });

  it('single flows: round(n · fraction) of the class, seeded, the other rows untouched', () => {
    const labels = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 'DoS' : 'BENIGN'));
    const r = records(labels, labels.map(() => 0));
    const a = holdOutClass(r, 'BENIGN', 0.2, 5);
    expect(a.held.length).toBe(40);
    expect(Array.from(a.held).every((i) => labels[i] === 'BENIGN')).toBe(true);
    expect(a.held.length + a.rest.length).toBe(300);
    expect(new Set([...a.held, ...a.rest]).size).toBe(300);
    expect(Array.from(holdOutClass(r, 'BENIGN', 0.2, 5).held)).toEqual(Array.from(a.held));
    expect(Array.from(holdOutClass(r, 'BENIGN', 0.2, 6).held)).not.toEqual(Array.from(a.held));
    expect(holdOutClassByGroup(r, 'BENIGN', 0.2, r.source, 5)).toBeNull(); // one capture: no grouping
    expect(() => holdOutClass(records(['BENIGN', 'DoS'], [0, 0]), 'BENIGN', 0.2)).toThrow(/has 1 row/);
  });

  it('whole captures: no capture on both sides, about the target share, attack rows always kept for fitting', () => {
    const rnd = prng(11);
    const labels: string[] = [], groups: number[] = [];
    for (let g = 0; g < 40; g++) {
      const n = 1 + Math.floor(rnd() * 30);
      for (let k = 0; k < n; k++) {
        labels.push(rnd() < 0.2 ? 'DoS' : 'BENIGN');
        groups.push(g);
      }
    }
    const r = records(labels, groups);
    const nb = labels.filter((l) => l === 'BENIGN').length;
    for (const seed of [0, 1, 2, 3]) {
      const p = holdOutClassByGroup(r, 'BENIGN', 0.2, r.source, seed)!;
      expect(p).not.toBeNull();
      const heldGroups = new Set(Array.from(p.held, (i) => groups[i]!));
      expect(heldGroups.size).toBe(p.groups);
      expect(Array.from(p.rest).some((i) => labels[i] === 'BENIGN' && heldGroups.has(groups[i]!))).toBe(false);
      expect(Array.from(p.held).every((i) => labels[i] === 'BENIGN')).toBe(true);
      expect(p.held.length + p.rest.length).toBe(labels.length);
      expect(p.held.length).toBeGreaterThanOrEqual(Math.round(nb * 0.2));
      expect(p.held.length).toBeLessThanOrEqual(2 * Math.round(nb * 0.2));
    }
    // A capture joins only while the held-out part stays within twice the target: with every capture too big,
    // null (the caller holds out single flows instead)
    expect(holdOutClassByGroup(records(['BENIGN', 'BENIGN', 'BENIGN', 'BENIGN', 'BENIGN', 'BENIGN'], [0, 0, 0, 0, 0, 1]), 'BENIGN', 0.2, [0, 0, 0, 0, 0, 1])).not.toBeNull();
    expect(holdOutClassByGroup(records(['BENIGN', 'BENIGN', 'BENIGN', 'BENIGN', 'BENIGN', 'BENIGN'], [0, 0, 0, 1, 1, 1]), 'BENIGN', 0.2, [0, 0, 0, 1, 1, 1])).toBeNull();
  });
});

/** Two overlapping gaussian-like classes in 3 features: BENIGN around 0, DoS and PortScan shifted. */
function data(n: number, seed: number): { X: FeatureMatrix; y: Int32Array } {
  const rnd = prng(seed);
  const g = (): number => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const d = new Float64Array(n * 3);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4 === 0 ? 1 : i % 4 === 1 ? 2 : 0; // 0 BENIGN (half), 1 DoS, 2 PortScan
    y[i] = c;
    for (let j = 0; j < 3; j++) d[i * 3 + j] = g() + (c === 0 ? 0 : c === 1 ? 1.2 * (j === 0 ? 1 : 0) : 1.2 * (j === 1 ? 1 : 0));
  }
  return { X: createMatrix(n, 3, ['a', 'b', 'c'], d), y };
}

describe('the alert threshold in a bundle', () => {
  const classNames = ['BENIGN', 'DoS', 'PortScan'];
  const train = data(3000, 1);
  const scaler = new StandardScaler().fit(train.X);
  const tree = new DecisionTreeClassifier({ maxDepth: 4 }).fit(scaler.transform(train.X), train.y, 3);
  // Held-out BENIGN flows of the same distribution, never fitted on.
  const held = data(2000, 2);
  const benignRows = Array.from(held.y.keys()).filter((i) => held.y[i] === 0);
  const Xb = createMatrix(benignRows.length, 3, ['a', 'b', 'c'], Float64Array.from(benignRows.flatMap((r) => Array.from(held.X.data.subarray(r * 3, r * 3 + 3)))));
  const proba = tree.predictProba(scaler.transform(Xb));
  const scores = benignRows.map((_, i) => attackProbability(proba, 0, i * 3));
  const cal = calibrateThreshold(scores, 0.05);
  const alert: AlertThreshold = { score: 'attack-probability', threshold: cal.threshold, targetFpr: 0.05, heldOutFlows: cal.heldOutFlows, heldOutFlagged: cal.heldOutFlagged, heldOutFpr: cal.heldOutFpr };
  const dir = join(tmp, 'with-alert');
  saveBundle(dir, { featureNames: ['a', 'b', 'c'], classNames, scaler, model: tree, alert });

  it('calibrated on overlapping classes: a real trade-off (argmax flags more held-out BENIGN flows than the target)', () => {
    const argmaxFp = Array.from(tree.predict(scaler.transform(Xb))).filter((c) => c !== 0).length;
    expect(argmaxFp / benignRows.length).toBeGreaterThan(0.05);
    expect(cal.heldOutFpr).toBeLessThanOrEqual(0.05);
    expect(cal.heldOutFlagged).toBeGreaterThan(0); // not trivially 0: the rule uses the allowance
  });

  it('stored (format version 2) and reloaded; the pipeline decides by it, row by row and in batch', () => {
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(doc.formatVersion).toBe(2);
    expect(doc.alert).toEqual(alert);
    const b = loadBundle(dir);
    expect(b.alert).toEqual(alert);
    const pipe = new ModelPipeline(b);
    expect(pipe.threshold).toBe(cal.threshold);
    const pred = pipe.predict(Xb);
    expect(Array.from(pred).filter((c) => c !== 0).length).toBe(cal.heldOutFlagged); // the held-out FPR, reproduced
    const all = pipe.predict(held.X);
    const p = pipe.predictProba(held.X);
    const scorer = pipe.bind(['a', 'b', 'c']);
    for (let r = 0; r < held.X.rows; r++) {
      expect(all[r]).toBe(decideClass(p, r * 3, 3, 0, cal.threshold));
      expect(scorer.predictRow(held.X.data, r * 3)).toBe(all[r]);
      expect(pipe.decide(p, r * 3)).toBe(all[r]);
    }
    // Replacing it (--threshold) or clearing it (argmax, as a bundle without one)
    pipe.threshold = 0;
    expect(Array.from(pipe.predict(Xb)).every((c) => c !== 0)).toBe(true);
    pipe.threshold = null;
    expect(Array.from(pipe.predict(held.X))).toEqual(Array.from(tree.predict(scaler.transform(held.X))));
    expect(() => (pipe.threshold = -1)).toThrow(/finite number ≥ 0/);
  });

  it('bundles without it still load and write format version 1; the shipped model predicts by argmax', () => {
    const plain = join(tmp, 'plain');
    saveBundle(plain, { featureNames: ['a', 'b', 'c'], classNames, scaler, model: tree });
    expect(JSON.parse(readFileSync(join(plain, 'model.json'), 'utf8')).formatVersion).toBe(1);
    expect(loadBundle(plain).alert).toBeUndefined();
    const shipped = loadBundle(join(REPO, 'models', 'lab-tree'));
    expect(shipped.formatVersion).toBe(1);
    expect(new ModelPipeline(shipped).threshold).toBeNull();
    expect(BUNDLE_FORMAT_VERSION).toBe(2);
  });

  it.each<[string, (d: any) => void, RegExp]>([
    ['alert in a version-1 document', (d) => (d.formatVersion = 1), /alert: needs formatVersion 2 \(the document says 1\)/],
    ['a newer version', (d) => (d.formatVersion = 3), /model was written by a newer flowsift \(format 3\); this flowsift reads format 2/],
    ['the wrong score kind', (d) => (d.alert.score = 'anomaly-score'), /alert\.score: must be "attack-probability" for a 'tree' model/],
    ['a negative threshold', (d) => (d.alert.threshold = -0.1), /alert\.threshold: must be a finite number ≥ 0/],
    ['a target of 1', (d) => (d.alert.targetFpr = 1), /alert\.targetFpr: must be a number in \(0, 1\)/],
    ['counts that disagree with the rate', (d) => (d.alert.heldOutFlagged += 1), /alert\.heldOutFpr: must be heldOutFlagged \/ heldOutFlows/],
    ['more flagged than held out', (d) => (d.alert.heldOutFlagged = d.alert.heldOutFlows + 1), /alert\.heldOutFlagged: must be an integer 0\.\./],
    ['no BENIGN class', (d) => (d.classNames[0] = 'Normal'), /alert: an alert threshold on the attack probability needs a BENIGN class/],
  ])('rejects %s with one line naming the field', (_name, edit, pattern) => {
    const d = join(tmp, `bad-${_name.replace(/\W+/g, '-')}`);
    mkdirSync(d);
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    edit(doc);
    writeFileSync(join(d, 'model.json'), JSON.stringify(doc));
    expect(() => loadBundle(d)).toThrow(pattern);
    try {
      loadBundle(d);
    } catch (e) {
      expect((e as Error).message).not.toContain('\n');
      expect((e as Error).message).toContain(join(d, 'model.json'));
    }
  });

  it('refuses to save an alert that does not fit the model', () => {
    expect(() => saveBundle(join(tmp, 'x'), { featureNames: ['a', 'b', 'c'], classNames: ['Normal', 'DoS', 'PortScan'], scaler, model: tree, alert }))
      .toThrow(/needs a BENIGN class/);
  });
});

describe('CLI: train --target-fpr, evaluate and score use the stored threshold, --threshold overrides', () => {
  const EXAMPLE = 'datasets/lab-excerpt/capture.pcap';
  const LABELS = 'datasets/lab-excerpt/labels.csv';
  const dir = join(tmp, 'cli-forest');
  /** Predicted class counts from score's summary (stderr with --json). */
  const scoreCounts = (stderr: string): Record<string, number> => Object.fromEntries(
    [...stderr.matchAll(/^ {2}(\S+): ([\d,]+) flows$/gm)].map((m) => [m[1]!, Number(m[2]!.replace(/,/g, ''))]),
  );
  /** Predicted class counts: column sums of evaluate's confusion matrix. */
  const predictedCounts = (j: { confusion_matrix: { labels: string[]; matrix: number[][] } }): Record<string, number> => Object.fromEntries(
    j.confusion_matrix.labels.map((l, c) => [l, j.confusion_matrix.matrix.reduce((s, row) => s + row[c]!, 0)] as const).filter(([, n]) => n > 0),
  );

  // --no-open-set: the comparison of score and evaluate is about the threshold alone (src/model/openset.ts adds UNKNOWN).
  it('stores the calibrated threshold; evaluate and score decide by it; --threshold replaces it', () => {
    const t = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '--algo', 'forest', '--trees', '10', '--target-fpr', '0.05', '--seed', '3', '--no-open-set']);
    expect(t.code, t.stderr).toBe(0);
    // 215 BENIGN flows of one capture: 43 (20 %) single flows held out, seeded
    expect(t.stdout).toContain('calibration: 43 of 215 BENIGN training flows held out for the alert threshold (single flows, seed 3); fitting on 3,884\n');
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(doc.formatVersion).toBe(2);
    expect(doc.alert).toMatchObject({ score: 'attack-probability', targetFpr: 0.05, heldOutFlows: 43 });
    expect(doc.alert.heldOutFlagged).toBeLessThanOrEqual(2); // ⌊0.05 × 43⌋
    expect(doc.training.flowsPerClass.BENIGN).toBe(172);
    expect(t.stdout).toMatch(new RegExp(`\\nalert threshold: flag a flow when P\\(not BENIGN\\) > ${String(nextDown(doc.alert.threshold)).replace('.', '\\.')} \\(stored as ≥ ${String(doc.alert.threshold).replace('.', '\\.')}\\), for a false-positive rate ≤ 0\\.05\\n  on 43 held-out BENIGN flows \\(not fitted on\\): ${doc.alert.heldOutFlagged} flagged, FPR ${(doc.alert.heldOutFlagged / 43).toFixed(4)}\\n`));

    const e = flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', dir, '--json', '-q']);
    expect(e.code, e.stderr).toBe(0);
    const j = JSON.parse(e.stdout);
    expect(j.decision).toMatchObject({ threshold: doc.alert.threshold, source: 'stored', alert: doc.alert });
    const s = flowsift(['score', EXAMPLE, '--model', dir, '--json', '-q']);
    expect(s.code, s.stderr).toBe(0);
    expect(scoreCounts(s.stderr)).toEqual(predictedCounts(j)); // score and evaluate decide alike

    // --threshold 0 flags every flow (1 − P(BENIGN) ≥ 0): FPR 1 on the BENIGN flows, in both commands
    const e0 = flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', dir, '--threshold', '0', '-q']);
    expect(e0.stdout).toContain('\ndecision: flagged when 1 − P(BENIGN) ≥ 0 (--threshold)\n');
    expect(e0.stdout).toContain('\nfalse-positive rate: 215/215 = 1.0000 (BENIGN flows flagged)\n');
    const s0 = flowsift(['score', EXAMPLE, '--model', dir, '--threshold', '0', '--json', '-q']);
    expect(s0.stderr).toMatch(/^3,927 flows scored, 3,927 flagged/);
    // --threshold 1: only flows without any BENIGN probability; evaluate and score agree again
    const e1 = JSON.parse(flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', dir, '--threshold', '1', '--json', '-q']).stdout);
    expect(e1.decision).toMatchObject({ threshold: 1, source: '--threshold' });
    expect(scoreCounts(flowsift(['score', EXAMPLE, '--model', dir, '--threshold', '1', '--json', '-q']).stderr)).toEqual(predictedCounts(e1));
    expect(e1.rates.false_positives).toBeLessThanOrEqual(j.rates.false_positives);
  });

  it('a classifier threshold is a probability; a model without BENIGN takes none, nor calibrates one', () => {
    expect(flowsift(['score', EXAMPLE, '--model', dir, '--threshold', '1.5']).stderr).toMatch(/--threshold on a classifier is a probability/);
    const noBenign = join(tmp, 'no-benign');
    expect(flowsift(['train', EXAMPLE, '--label', 'DoS', '--model', noBenign, '-q']).code).toBe(0);
    const r = flowsift(['evaluate', EXAMPLE, '--label', 'DoS', '--model', noBenign, '--threshold', '0.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threshold needs a BENIGN class/);
    expect(flowsift(['train', EXAMPLE, '--label', 'DoS', '--model', noBenign, '--target-fpr', '0.01']).stderr).toMatch(/--target-fpr calibrates on held-out BENIGN flows; the training flows have 0/);
    expect(flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', noBenign, '--target-fpr', '1']).stderr).toMatch(/--target-fpr must be a rate between 0 and 1/);
  });

  it('autoencoder: the same rule on its own held-out calibration flows; the detector keeps the same threshold', async () => {
    const ae = join(tmp, 'cli-ae');
    const t = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', ae, '--algo', 'autoencoder', '--epochs', '5', '--target-fpr', '0.05']);
    expect(t.code, t.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(ae, 'model.json'), 'utf8'));
    expect(doc.formatVersion).toBe(2);
    // 215 BENIGN flows, 20 % (43) held out by the detector: ⌊0.05 × 43⌋ = 2 may be flagged
    expect(doc.alert).toMatchObject({ score: 'anomaly-score', targetFpr: 0.05, heldOutFlows: doc.model.calibration.rows });
    expect(doc.alert.heldOutFlows).toBe(43);
    expect(doc.alert.heldOutFlagged).toBeLessThanOrEqual(2);
    expect(doc.model.threshold).toBe(doc.alert.threshold);
    expect(t.stdout).toContain(`\n  on 43 held-out BENIGN flows (held out from fitting and early stopping): ${doc.alert.heldOutFlagged} flagged, FPR `);
    const e = flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', ae, '-q']);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toContain(`\ndecision: flagged when reconstruction error > ${nextDown(doc.alert.threshold)} (stored: target FPR 0.05, ${doc.alert.heldOutFlagged}/43 = `);
    const none = flowsift(['score', EXAMPLE, '--model', ae, '--threshold', '1e300', '-q']);
    expect(none.stdout).toMatch(/[\d,]+ flows scored, 0 flagged/);
    // A hand-edited document whose two thresholds disagree is refused.
    doc.model.threshold = doc.alert.threshold * 2;
    writeFileSync(join(ae, 'model.json'), JSON.stringify(doc));
    const { loadBundleAsync } = await import('../src/model/bundle.js');
    await expect(loadBundleAsync(ae)).rejects.toThrow(/alert\.threshold: is [\d.e-]+ but the autoencoder's threshold \(model\.threshold\) is/);
  });

  it('with --test-split, the calibration flows come from the training part and the held-out report shows the FPR', () => {
    const t = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', join(tmp, 'cli-split'), '--max-depth', '3', '--test-split', '0.3', '--target-fpr', '0.1']);
    expect(t.code, t.stderr).toBe(0);
    // 215 BENIGN: 65 (round(64.5)) to the test part, 150 left, 30 (20 %) of them for calibration
    expect(t.stdout).toContain('calibration: 30 of 150 BENIGN training flows held out for the alert threshold (single flows, seed 0)');
    expect(t.stdout).toMatch(/\nheld-out flows \(1,179\):\n[\s\S]*\nfalse-positive rate: \d+\/65 = \d\.\d{4} \(BENIGN flows flagged\)\n/);
  });
});

describeShared('train --target-fpr with ordinary traffic from many captures (nfstream corpus as BENIGN)', () => {
  it('holds out whole captures; the stored counts are those printed', () => {
    const dir = join(tmp, 'peers-forest');
    const t = flowsift(['train', '--input', 'datasets/lab-excerpt/capture.pcap:datasets/lab-excerpt/labels.csv', '--input', `${sharedPath('peers', 'nfstream', 'pcaps')}:BENIGN`,
      '--model', dir, '--algo', 'forest', '--trees', '10', '--class-weight', 'balanced', '--target-fpr', '0.01', '--no-open-set', '-q']);
    expect(t.code, t.stderr).toBe(0);
    const m = /\ncalibration: ([\d,]+) of ([\d,]+) BENIGN training flows held out for the alert threshold \(whole captures: (\d+) of the (\d+) with BENIGN flows, seed 0\)/.exec(`\n${t.stdout}`);
    expect(m, t.stdout).not.toBeNull();
    const [held, benign, groups, all] = m!.slice(1).map((v) => Number(v.replace(/,/g, '')));
    expect(all).toBe(221); // 220 corpus captures with BENIGN flows (one .cap among them) + the lab excerpt
    expect(groups).toBeGreaterThan(1);
    expect(held).toBeGreaterThanOrEqual(Math.round(benign! * 0.2));
    expect(held).toBeLessThanOrEqual(2 * Math.round(benign! * 0.2));
    const doc = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(doc.alert.heldOutFlows).toBe(held);
    expect(doc.alert.heldOutFpr).toBeLessThanOrEqual(0.01);
    expect(doc.training.flowsPerClass.BENIGN).toBe(benign! - held!);
  });
});

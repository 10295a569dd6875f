/**
 * The main job end to end on the shared lab captures: extract lab/train and lab/test, label them with their
 * rule files, standardize, fit the tree on train, report on test; flow counts against tshark's
 * conversations; macro-F1 against scikit-learn's DecisionTreeClassifier on the same exported features.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { FlowRecords } from '../src/dataset/collect.js';
import { RuleLabeller } from '../src/dataset/labels.js';
import { classificationMetrics } from '../src/eval/report.js';
import { extractCapture } from '../src/features/extract.js';
import { createFeatureSet, defaultModelFeatures } from '../src/features/registry.js';
import { ModelPipeline } from '../src/model/bundle.js';
import { createMatrix } from '../src/model/matrix.js';
import { StandardScaler } from '../src/model/scaler.js';
import { DecisionTreeClassifier } from '../src/model/tree.js';
import { describeShared, REPO, sharedPath } from './helpers/shared.js';
import { testDir } from './helpers/tmp.js';

async function load(part: 'train' | 'test'): Promise<{ records: FlowRecords; byProto: Map<number, number> }> {
  const records = new FlowRecords(createFeatureSet().features.map((f) => f.name));
  const labeller = RuleLabeller.fromFile(sharedPath('lab', part, 'labels.csv'));
  const byProto = new Map<number, number>();
  await extractCapture(sharedPath('lab', part, 'capture.pcap'), (f) => {
    records.add(f, labeller.labelOf(f), 0);
    byProto.set(f.protocol, (byProto.get(f.protocol) ?? 0) + 1);
  });
  return { records, byProto };
}

const hasTshark = spawnSync('tshark', ['-v']).status === 0;
const hasSklearn = spawnSync('/usr/bin/python3', ['-c', 'import sklearn']).status === 0;

describeShared('lab captures: extract → label → scale → tree → report', () => {
  let train: Awaited<ReturnType<typeof load>>;
  let test: Awaited<ReturnType<typeof load>>;
  const features = defaultModelFeatures();
  beforeAll(async () => {
    train = await load('train');
    test = await load('test');
  });

  it('finds every TCP and UDP conversation tshark finds (tshark -z conv,tcp -z conv,udp)', (ctx) => {
    if (!hasTshark) ctx.skip('tshark not installed (apt-get install tshark)');
    const r = spawnSync('tshark', ['-r', sharedPath('lab', 'train', 'capture.pcap'), '-q', '-z', 'conv,tcp', '-z', 'conv,udp'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    let mode = '';
    const conv: Record<string, number> = { tcp: 0, udp: 0 };
    for (const line of r.stdout.split('\n')) {
      if (/TCP Conversations/.test(line)) mode = 'tcp';
      if (/UDP Conversations/.test(line)) mode = 'udp';
      if (line.includes('<->')) conv[mode]++;
    }
    expect(conv.tcp).toBeGreaterThan(20000);
    expect(train.byProto.get(6)).toBe(conv.tcp);
    expect(train.byProto.get(17)).toBe(conv.udp);
  });

  it('labels the classes of the attack schedule', () => {
    const counts = (rs: FlowRecords) => rs.labels.reduce<Record<string, number>>((m, l) => ((m[l] = (m[l] ?? 0) + 1), m), {});
    const c = counts(train.records);
    expect(Object.keys(c).sort()).toEqual(['BENIGN', 'BruteForce', 'DoS', 'PortScan', 'WebAttack']);
    expect(c.PortScan).toBe(2000);
    expect(c.DoS).toBeGreaterThan(10000);
    expect(Object.keys(counts(test.records)).sort()).toEqual(['BENIGN', 'BruteForce', 'DoS', 'PortScan', 'WebAttack']);
  });

  it('the tree trained on lab/train reaches macro-F1 ≥ 0.99 on lab/test, and no worse than scikit-learn − 0.02', (ctx) => {
    const Xtr = createMatrix(train.records.rows, features.length, features, train.records.select(features));
    const classNames = [...new Set(train.records.labels)].sort();
    const y = Int32Array.from(train.records.labels, (l) => classNames.indexOf(l));
    const scaler = new StandardScaler().fit(Xtr);
    const tree = new DecisionTreeClassifier({}).fit(scaler.transform(Xtr), y, classNames.length);
    const pipe = new ModelPipeline({ featureNames: features, classNames, scaler, model: tree });
    const Xte = createMatrix(test.records.rows, features.length, features, test.records.select(features));
    const pred = Array.from(pipe.predict(Xte), (k) => classNames[k]);
    const m = classificationMetrics(test.records.labels, pred);
    expect(m.macro_f1).toBeGreaterThanOrEqual(0.99);
    for (const c of classNames) expect(m.classes[c].f1, c).toBeGreaterThan(0.97);

    if (!hasSklearn) ctx.skip('scikit-learn not installed (apt-get install python3-sklearn)');
    const dir = testDir('flowsift-lab-');
    const csv = (rs: FlowRecords, file: string) => {
      const X = rs.select(features);
      const lines = [[...features.map((f) => `"${f}"`), 'Label'].join(',')];
      for (let r = 0; r < rs.rows; r++) lines.push(`${Array.from(X.subarray(r * features.length, (r + 1) * features.length)).join(',')},${rs.labels[r]}`);
      writeFileSync(join(dir, file), `${lines.join('\n')}\n`);
    };
    csv(train.records, 'train.csv');
    csv(test.records, 'test.csv');
    const sk = spawnSync('/usr/bin/python3', [join(REPO, 'scripts', 'sklearn_tree.py'), '--train', join(dir, 'train.csv'), '--test', join(dir, 'test.csv'), '--label', 'Label'], { encoding: 'utf8' });
    expect(sk.status, sk.stderr).toBe(0);
    const ref = JSON.parse(sk.stdout) as { macro_f1: number };
    expect(m.macro_f1).toBeGreaterThanOrEqual(ref.macro_f1 - 0.02);
  });
});

/**
 * The CLI contract on the shipped example (runs on a fresh clone, no ../shared needed): extract, train,
 * evaluate, score, stdin, and one-line errors with the right exit codes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { flowsift, expectOneLineError } from './helpers/cli.js';
import { REPO } from './helpers/shared.js';
import { CIC_FEATURE_ORDER } from '../src/features/registry.js';
import { TRAVEL_FEATURES } from '../src/features/sets.js';
import { testDir } from './helpers/tmp.js';

const EXAMPLE = 'datasets/lab-excerpt/capture.pcap';
const LABELS = 'datasets/lab-excerpt/labels.csv';
const MODEL = 'models/lab-tree';
const DEFAULT_MODEL = 'models/default';
const tmp = testDir('flowsift-cli-');


describe('flowsift extract', () => {
  let rows: Record<string, string>[];
  let header: string[];
  beforeAll(() => {
    const r = flowsift(['extract', EXAMPLE, '--labels', LABELS, '-o', join(tmp, 'flows.csv')]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(join(tmp, 'flows.csv'), 'utf8');
    header = text.slice(0, text.indexOf('\n')).split(',');
    rows = parse(text, { columns: true }) as Record<string, string>[];
  });

  it('writes identifiers, the 76 CICFlowMeter features, the text columns and Label, one row per flow', () => {
    expect(header.slice(0, 7)).toEqual(['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp']);
    expect(header.slice(7, 83)).toEqual([...CIC_FEATURE_ORDER]);
    expect(header.slice(83, -1).sort()).toEqual(['conn_state', 'end_reason', 'history', 'server_name', 'service', 'service_source']);
    expect(header.at(-2)).toBe('end_reason');
    expect(header.at(-1)).toBe('Label');
    expect(rows.length).toBeGreaterThan(3000);
    for (const r of rows.slice(0, 500)) for (const h of header.slice(7, 83)) expect(Number.isFinite(Number(r[h])), h).toBe(true);
  });

  it('says what each flow is: Zeek connection state and service', () => {
    const scan = rows.filter((r) => r.Label === 'PortScan');
    expect(scan.filter((r) => r.conn_state === 'REJ').length).toBeGreaterThan(1900);
    const ssh = rows.filter((r) => r['Dst Port'] === '22' && r['Dst IP'] === '10.77.0.10' && r.Label === 'BENIGN');
    expect(ssh.length).toBeGreaterThan(0);
    expect(ssh.every((r) => r.service === 'SSH')).toBe(true);
    const dns = rows.filter((r) => r['Dst Port'] === '53' && r.Protocol === '17');
    expect(dns.length).toBeGreaterThan(0);
    expect(dns.filter((r) => r.service === 'DNS' && r.server_name !== '').length).toBe(dns.length);
  });

  it('says why each flow ended; with --max-flows the flows exported early say evicted, and no packet is lost', () => {
    const reasons = (rs: Record<string, string>[]): Record<string, number> => {
      const n: Record<string, number> = {};
      for (const r of rs) n[r.end_reason] = (n[r.end_reason] ?? 0) + 1;
      return n;
    };
    const packets = (rs: Record<string, string>[]): number => rs.reduce((a, r) => a + Number(r['Total Fwd Packet']) + Number(r['Total Bwd packets']), 0);
    const all = reasons(rows);
    // A 2-minute lab excerpt: TCP connections close, the rest is still open at the end; nothing is evicted.
    expect(Object.keys(all).every((k) => ['idle', 'tcp_end', 'end_of_input'].includes(k)), JSON.stringify(all)).toBe(true);
    expect(all.tcp_end).toBeGreaterThan(3000);
    const out = join(tmp, 'evicted.csv');
    const r = flowsift(['extract', EXAMPLE, '--max-flows', '50', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const evictedSaid = Number(/([\d,]+) flows evicted early/.exec(r.stderr)?.[1].replace(/,/g, ''));
    const small = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    const n = reasons(small);
    expect(n.evicted).toBe(evictedSaid);
    expect(n.evicted).toBeGreaterThan(100);
    // An evicted flow's later packets start a new flow with the same 5-tuple: more rows, the same packets.
    expect(small.length).toBeGreaterThanOrEqual(rows.length);
    expect(packets(small)).toBe(packets(rows));
    // The formatting thread (one capture, --threads 1) reads the end reason from the shared slot ring: the same bytes.
    const threaded = join(tmp, 'evicted-threaded.csv');
    const t = flowsift(['extract', EXAMPLE, '--max-flows', '50', '--threads', '1', '-o', threaded]);
    expect(t.code, t.stderr).toBe(0);
    expect(readFileSync(threaded, 'utf8')).toBe(readFileSync(out, 'utf8'));
  });

  it('labels by the rules: every class of the example, attackers only in their windows', () => {
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.Label] = (counts[r.Label] ?? 0) + 1;
    expect(Object.keys(counts).sort()).toEqual(['BENIGN', 'BruteForce', 'DoS', 'PortScan', 'WebAttack']);
    expect(counts.PortScan).toBe(2000); // nmap's 1000 ports × 2 probes: each SYN→RST/ACK is one flow
    const attackers: Record<string, string> = { PortScan: '10.77.0.66', BruteForce: '10.77.0.69', WebAttack: '10.77.0.70' };
    for (const r of rows) {
      if (attackers[r.Label]) expect([r['Src IP'], r['Dst IP']]).toContain(attackers[r.Label]);
      if (r.Label === 'BENIGN') expect(r['Src IP']).not.toMatch(/^10\.77\.0\.(6[6-9]|70)$/);
    }
  });

  it('gives the same rows from stdin (-) as from the file, and writes CSV to stdout by default', () => {
    const fromStdin = flowsift(['extract', '-', '-q'], readFileSync(join(REPO, EXAMPLE)));
    const fromFile = flowsift(['extract', EXAMPLE, '-q']);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
    expect(fromFile.stdout.split('\n').length - 2).toBe(rows.length);
  });

  it('keeps the flows before the cut of a truncated capture, warns, and exits 0 (1 with --strict)', () => {
    const whole = readFileSync(join(REPO, EXAMPLE));
    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2) + 7));
    const r = flowsift(['extract', cut, '-o', join(tmp, 'cut.csv')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*cut\.pcap.*byte \d+/);
    const n = readFileSync(join(tmp, 'cut.csv'), 'utf8').trim().split('\n').length - 1;
    expect(n).toBeGreaterThan(1000);
    expect(n).toBeLessThan(rows.length);
    expectOneLineError(flowsift(['extract', cut, '--strict', '-o', join(tmp, 'cut2.csv')]), 1, /cut\.pcap.*byte \d+/);
  });
});

describe('flowsift train / evaluate / score on the example', () => {
  it('trains a tree on the example and writes a model bundle with the training summary', () => {
    const r = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', join(tmp, 'model'), '--max-depth', '6']);
    expect(r.code, r.stderr).toBe(0);
    // The default inputs: the 35 features that travel (docs/feature-study.md); --features all gives the 76.
    expect(r.stdout).toMatch(/trained decision tree on [\d,]+ flows, 35 features/);
    expect(r.stdout).toMatch(/PortScan\s+2,000 flows/);
    const bundle = JSON.parse(readFileSync(join(tmp, 'model', 'model.json'), 'utf8'));
    expect(bundle.format).toBe('flowsift-model');
    expect(bundle.classNames).toEqual(['BENIGN', 'BruteForce', 'DoS', 'PortScan', 'WebAttack']);
    expect(bundle.featureNames).toEqual([...TRAVEL_FEATURES]);
    expect(bundle.featureNames).not.toContain('Src Port');
    expect(bundle.scaler.mean).toHaveLength(35);
    expect(bundle.training.params.maxDepth).toBe(6);
    const all = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', join(tmp, 'model-all'), '--features', 'all', '--max-depth', '6', '-q']);
    expect(all.stdout).toMatch(/trained decision tree on [\d,]+ flows, 76 features/);
    expect(JSON.parse(readFileSync(join(tmp, 'model-all', 'model.json'), 'utf8')).featureNames).toEqual(CIC_FEATURE_ORDER);
  });

  it('evaluates the shipped model (trained on lab/train) on the held-out example: scikit-learn report and confusion matrix', () => {
    const r = flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', MODEL, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {14}precision {4}recall {2}f1-score {3}support\n\n/);
    expect(r.stdout).toMatch(/\n {4}accuracy {27}\d\.\d\d {6}\d+\n/);
    expect(r.stdout).toMatch(/true \\ predicted/);
    const j = JSON.parse(flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', MODEL, '--json', '-q']).stdout);
    expect(Object.keys(j.classes).sort()).toEqual(['BENIGN', 'BruteForce', 'DoS', 'PortScan', 'WebAttack']);
    expect(j.classes.DoS.f1).toBeGreaterThan(0.99);
    expect(j.classes.PortScan.f1).toBeGreaterThan(0.99);
    expect(j.classes.BENIGN.f1).toBeGreaterThan(0.95);
    expect(j.accuracy).toBeGreaterThan(0.98);
    expect(j.confusion_matrix.labels).toEqual(['BENIGN', 'BruteForce', 'DoS', 'PortScan', 'WebAttack']);
    const total = j.confusion_matrix.matrix.flat().reduce((a: number, b: number) => a + b, 0);
    expect(total).toBe(j.flows);
  });

  it('scores a capture: flagged flows with 5-tuple, time, label, probability; one summary line per label; exit 0', () => {
    const r = flowsift(['score', EXAMPLE, '--model', MODEL, '-q']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const flagged = lines.filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
    expect(flagged.length).toBeGreaterThan(3000);
    expect(flagged.every((l) => !/ BENIGN /.test(l))).toBe(true);
    expect(flagged[0]).toMatch(/^\S+Z\s+\d+\s+[\d.]+:\d+\s+[\d.]+:\d+\s+(PortScan|DoS|BruteForce|WebAttack)\s+[01]\.\d{3}\s+-$/); // no open-set guard in the shipped model: no confidence
    expect(r.stdout).toMatch(/[\d,]+ flows scored, [\d,]+ flagged/);
    expect(r.stdout).toMatch(/\n {2}PortScan: [\d,]+ flows/);
    const json = flowsift(['score', EXAMPLE, '--model', MODEL, '--json', '-q']);
    const objs = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(objs).toHaveLength(flagged.length);
    expect(objs[0]).toHaveProperty('src_ip');
    expect(objs[0].probability).toBeGreaterThan(0);
    expect(json.stderr).toMatch(/flows scored/);
    const csv = flowsift(['score', EXAMPLE, '--model', MODEL, '-o', join(tmp, 'scored.csv'), '-q']);
    expect(csv.code).toBe(0);
    const scored = parse(readFileSync(join(tmp, 'scored.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(scored).toHaveLength(flagged.length);
    expect(Object.keys(scored[0])).toEqual(['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp', 'Prediction', 'Probability', 'Confidence', 'end_reason']);
    expect(scored.every((r) => ['idle', 'tcp_end', 'end_of_input'].includes(r.end_reason))).toBe(true);
    // With --max-flows, flows scored early because the table was full say so, in CSV and JSON alike.
    const small = flowsift(['score', EXAMPLE, '--model', MODEL, '--all', '--max-flows', '50', '--json']);
    expect(small.code, small.stderr).toBe(0);
    const evictedSaid = Number(/([\d,]+) flows evicted early/.exec(small.stderr)?.[1].replace(/,/g, ''));
    const smallObjs = small.stdout.trim().split('\n').map((l) => JSON.parse(l) as { end_reason: string });
    expect(smallObjs.filter((o) => o.end_reason === 'evicted').length).toBe(evictedSaid);
    expect(evictedSaid).toBeGreaterThan(100);
  });

  it('score: the CSV rows say what the JSON lines say (identifiers, label, numbers as JavaScript writes them), with and without a guard', () => {
    for (const model of [MODEL, DEFAULT_MODEL]) {
      const file = join(tmp, `scored-all-${model === MODEL ? 'tree' : 'default'}.csv`);
      expect(flowsift(['score', EXAMPLE, '--model', model, '--all', '-o', file, '-q']).code).toBe(0);
      const rows = parse(readFileSync(file, 'utf8'), { columns: true }) as Record<string, string>[];
      const objs = flowsift(['score', EXAMPLE, '--model', model, '--all', '--json', '-q']).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, string | number | null>);
      expect(rows.length).toBeGreaterThan(3000);
      expect(rows).toHaveLength(objs.length);
      const text = (v: string | number | null): string => (v === null ? '' : String(v));
      rows.forEach((r, i) => {
        const o = objs[i]!;
        expect([r['Flow ID'], r['Src IP'], r['Src Port'], r['Dst IP'], r['Dst Port'], r.Protocol, r.Timestamp, r.Prediction, r.Probability, r.Confidence, r.end_reason])
          .toEqual([o.flow_id, o.src_ip, o.src_port, o.dst_ip, o.dst_port, o.protocol, o.timestamp, o.prediction, o.probability, o.confidence, o.end_reason].map(text));
      });
      if (model === DEFAULT_MODEL) expect(rows.some((r) => r.Confidence !== '')).toBe(true);
    }
  });

  it('score --threads 1 (features, predictions and rows on a second thread) writes what --threads 0 writes, in every format', () => {
    for (const model of [MODEL, DEFAULT_MODEL]) {
      for (const format of [['-o', '-'], ['--json'], []]) {
        const run = (threads: string) => flowsift(['score', EXAMPLE, '--model', model, '--all', ...format, '--threads', threads, '-q']);
        const one = run('0'), two = run('1');
        expect(two.code, two.stderr).toBe(0);
        expect(two.stdout.split('\n').length).toBeGreaterThan(3900);
        expect(two.stdout).toBe(one.stdout);
        expect(two.stderr).toBe(one.stderr);
      }
    }
    // --threshold reaches the second thread: 0.01 on the attack probability flags flows the most probable class does not.
    const low = (threads: string) => flowsift(['score', EXAMPLE, '--model', DEFAULT_MODEL, '--threshold', '0.01', '-o', '-', '--threads', threads, '-q']);
    const plain = flowsift(['score', EXAMPLE, '--model', DEFAULT_MODEL, '-o', '-', '--threads', '0', '-q']);
    expect(low('0').stdout).not.toBe(plain.stdout);
    expect(low('1').stdout).toBe(low('0').stdout);
    expectOneLineError(flowsift(['score', EXAMPLE, '--model', MODEL, '--threads', 'x']), 2, /--threads must be an integer/);
  });
});

describe('train --algo forest | gbt', () => {
  it('fits and saves the tree ensembles; evaluate loads them', () => {
    for (const algo of ['forest', 'gbt']) {
      const dir = join(tmp, `m-${algo}`);
      const r = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '--algo', algo, '--trees', '10', '--test-split', '0.3', '-q']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(algo === 'forest' ? /trained random forest .*\n[\s\S]*10 trees/ : /trained gradient-boosted trees[\s\S]*10 boosting iterations/);
      const bundle = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      expect(bundle.model.algo).toBe(algo);
      // The leaf size used is the one recorded (scikit-learn's defaults: 1 for forests, 20 for boosting).
      expect(bundle.training.params.minSamplesLeaf).toBe(algo === 'gbt' ? 20 : 1);
      expect(bundle.model.params.minSamplesLeaf ?? bundle.model.trees?.[0]?.params?.minSamplesLeaf ?? 1).toBe(bundle.training.params.minSamplesLeaf);
      const j = JSON.parse(flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', dir, '--json', '-q']).stdout);
      expect(j.classes.PortScan.f1).toBeGreaterThan(0.99);
    }
    // An explicit --min-samples-leaf 1 reaches the booster (it once fell back to the default of 20).
    const dir = join(tmp, 'm-gbt-leaf1');
    expect(flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', dir, '--algo', 'gbt', '--trees', '3', '--min-samples-leaf', '1', '--no-open-set', '-q']).code).toBe(0);
    const b = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect([b.model.params.minSamplesLeaf, b.training.params.minSamplesLeaf]).toEqual([1, 1]);
  });
});

describe('train --test-split', () => {
  it('holds out a stratified (or time-ordered) share of the flows and prints the report on it', () => {
    const r = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', join(tmp, 'split'), '--test-split', '0.25', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const m = /split: ([\d,]+) of ([\d,]+) flows held out for testing \(stratified by class, seed 0\); training on ([\d,]+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const [held, all, trained] = m!.slice(1).map((x) => Number(x.replace(/,/g, '')));
    expect(held + trained).toBe(all);
    expect(held / all).toBeCloseTo(0.25, 2);
    expect(r.stdout).toMatch(/held-out flows \([\d,]+\):\n {14}precision/);
    // PortScan (2,000 flows) is split in proportion: 500 in the held-out report.
    expect(r.stdout).toMatch(/\n {4}PortScan +\d\.\d{4} +\d\.\d{4} +\d\.\d{4} +500\n/);
    const t = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', join(tmp, 'split-t'), '--test-split', '0.25', '--split', 'time', '-q']);
    expect(t.stdout).toMatch(/time-ordered: the latest flows/);
    expectOneLineError(flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', join(tmp, 'x'), '--test-split', '1.5']), 2, /--test-split/);
  });
});

describe('train and evaluate from flow tables (CSV)', () => {
  it('a tree trained on the extracted CSV equals the tree trained on the capture; evaluate reads the CSV too', () => {
    const csv = join(tmp, 'table.csv');
    expect(flowsift(['extract', EXAMPLE, '--labels', LABELS, '-o', csv, '-q']).code).toBe(0);
    const a = flowsift(['train', csv, '--model', join(tmp, 'from-csv'), '--max-depth', '6', '-q']);
    const b = flowsift(['train', EXAMPLE, '--labels', LABELS, '--model', join(tmp, 'from-pcap'), '--max-depth', '6', '-q']);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ma = JSON.parse(readFileSync(join(tmp, 'from-csv', 'model.json'), 'utf8'));
    const mb = JSON.parse(readFileSync(join(tmp, 'from-pcap', 'model.json'), 'utf8'));
    expect(ma.model).toEqual(mb.model);
    expect(ma.scaler).toEqual(mb.scaler);
    const fromCsv = JSON.parse(flowsift(['evaluate', csv, '--model', MODEL, '--json', '-q']).stdout);
    const fromPcap = JSON.parse(flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', MODEL, '--json', '-q']).stdout);
    expect(fromCsv.confusion_matrix).toEqual(fromPcap.confusion_matrix);
    expectOneLineError(flowsift(['train', csv, EXAMPLE, '--model', join(tmp, 'mixed')]), 2, /captures or flow tables/);
    expectOneLineError(flowsift(['train', csv, '--labels', LABELS, '--model', join(tmp, 'mixed')]), 2, /Label column/);
  });
});

describe('errors: one line, no stack trace, exit 2 for usage and 1 for bad input', () => {
  it('usage errors', () => {
    expectOneLineError(flowsift(['train', EXAMPLE, '--labels', LABELS]), 2, /--model/);
    expectOneLineError(flowsift(['train', EXAMPLE, '--model', join(tmp, 'x')]), 2, /labels are required/);
    expectOneLineError(flowsift(['extract', EXAMPLE, '--label', 'A', '--labels', LABELS]), 2, /either --label or --labels/);
    expectOneLineError(flowsift(['train', EXAMPLE, '--label', 'A', '--model', join(tmp, 'x'), '--max-depth', 'deep']), 2, /--max-depth must be a positive integer/);
    expectOneLineError(flowsift(['frobnicate']), 2, /unknown command/);
  });

  it('a missing capture, a file that is not a capture', () => {
    expectOneLineError(flowsift(['extract', 'no/such.pcap']), 1, /no\/such\.pcap/);
    expectOneLineError(flowsift(['extract', LABELS]), 1, /labels\.csv.*not a pcap or pcapng/);
  });

  it('a bad label file names its line', () => {
    const bad = join(tmp, 'bad-labels.csv');
    writeFileSync(bad, 'label,ip,start,end\nDoS,10.0.0.1,1795315507.5,1795315521.5\nDoS,10.0.0.300,1,2\n');
    expectOneLineError(flowsift(['extract', EXAMPLE, '--labels', bad]), 1, /bad-labels\.csv:3: not an IP address/);
    writeFileSync(bad, 'label,ip,begin,end\n');
    expectOneLineError(flowsift(['extract', EXAMPLE, '--labels', bad]), 1, /bad-labels\.csv:1: header must be label,ip,start,end/);
  });

  it('a model bundle from a newer flowsift, or a missing one', () => {
    const dir = join(tmp, 'future');
    const doc = JSON.parse(readFileSync(join(REPO, MODEL, 'model.json'), 'utf8'));
    doc.formatVersion = 99;
    flowsift(['train', EXAMPLE, '--label', 'X', '--model', dir, '-q']);
    writeFileSync(join(dir, 'model.json'), JSON.stringify(doc));
    expectOneLineError(flowsift(['score', EXAMPLE, '--model', dir]), 1, /newer flowsift/);
    expectOneLineError(flowsift(['score', EXAMPLE, '--model', join(tmp, 'nothing')]), 1, /nothing/);
  });

  it('an unwritable output leaves nothing behind and exits 1', () => {
    expectOneLineError(flowsift(['extract', EXAMPLE, '-o', join(tmp, 'no-dir', 'x.csv')]), 1, /no-dir\/x\.csv/);
  });
});

describe('the shipped default model (models/default, npm run train-default)', () => {
  const DEFAULT = join(REPO, 'models', 'default');

  it('is a format-2 forest over the travel features with an alert threshold and an open-set guard', () => {
    const b = JSON.parse(readFileSync(join(DEFAULT, 'model.json'), 'utf8'));
    expect(b.formatVersion).toBe(2);
    expect(b.model.algo).toBe('forest');
    expect(b.featureNames).toEqual([...TRAVEL_FEATURES]);
    expect(b.alert.targetFpr).toBe(0.0075);
    expect(b.alert.heldOutFpr).toBeLessThanOrEqual(0.0075);
    expect(b.openSet).toBeTruthy();
  });

  it('on the example: no BENIGN flow flagged, the port scan found whole, most attack flows flagged', () => {
    // The example's slices cut some slowhttptest flows short: detection is measured on lab/test (models/README.md).
    const j = JSON.parse(flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', DEFAULT, '--json', '-q']).stdout);
    expect(j.rates.benign_flows).toBe(215);
    expect(j.rates.false_positives).toBe(0);
    expect(j.classes.PortScan.f1).toBe(1);
    expect(j.rates.detection_rate).toBeGreaterThan(0.9);
    const s = flowsift(['score', EXAMPLE, '--model', DEFAULT, '-q']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/\n {2}PortScan: 2,000 flows/);
  });
});

describe('V8 tuning at CLI start-up', () => {
  it('sets the cumulative inlining budget unless node was given that flag, in either spelling', async () => {
    const { applyV8Tuning, V8_TUNING_FLAGS } = await import('../src/cli/v8-tuning.js');
    expect(applyV8Tuning([])).toEqual([...V8_TUNING_FLAGS]);
    expect(applyV8Tuning(['--inspect', '--max-inlined-bytecode-size=500'])).toEqual([...V8_TUNING_FLAGS]);
    expect(applyV8Tuning(['--max-inlined-bytecode-size-cumulative=920'])).toEqual([]);
    expect(applyV8Tuning(['--max_inlined_bytecode_size_cumulative=920'])).toEqual([]);
  });
});

describe('the launcher (bin/flowsift.js run as an executable)', () => {
  it('runs node with glibc\'s huge-page tunable set by its first lines (shell), and is JavaScript for node', () => {
    // A preload prints the environment the CLI's node process got.
    const probe = join(testDir('flowsift-launcher-'), 'env.cjs');
    writeFileSync(probe, "process.stderr.write(`GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES}\\n`);\n");
    const r = spawnSync(join(REPO, 'bin', 'flowsift.js'), ['--version'], {
      encoding: 'utf8', env: { ...process.env, GLIBC_TUNABLES: '', NODE_OPTIONS: `--require ${probe}` },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(r.stderr).toContain('GLIBC_TUNABLES=glibc.malloc.hugetlb=1\n');
    // The same file given to node (as the other tests run it): the shell lines are a string and a comment.
    const n = spawnSync(process.execPath, [join(REPO, 'bin', 'flowsift.js'), '--version'], { encoding: 'utf8' });
    expect(n.status, n.stderr).toBe(0);
    expect(n.stdout.trim()).toBe(r.stdout.trim());
  });
});

describe('extract\'s formatting thread', () => {
  it.runIf(process.platform === 'linux')('runs at a lower priority (nice 10) than the metering thread', async () => {
    // A capture on stdin that stays open: the process waits for packets while its threads are inspected. A stream gets
    // no formatting thread unless asked for (--threads).
    const child = spawn(process.execPath, [join(REPO, 'bin', 'flowsift.js'), 'extract', '-', '--threads', '1', '-q', '-o', join(tmp, 'nice.csv')]);
    child.stdin.write(readFileSync(join(REPO, 'datasets', 'lab-excerpt', 'capture.pcap')).subarray(0, 24)); // the file header
    /** Niceness of the process's threads (field 19 of /proc/PID/task/TID/stat). */
    const nices = (): number[] => readdirSync(`/proc/${child.pid}/task`).map((t) => {
      const st = readFileSync(`/proc/${child.pid}/task/${t}/stat`, 'utf8');
      return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16]);
    });
    let seen: number[] = [];
    for (let i = 0; i < 100 && !seen.includes(10); i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = nices();
    }
    child.stdin.end();
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(seen.filter((n) => n === 10)).toHaveLength(1); // the formatting thread only
    expect(seen.filter((n) => n === 0).length).toBeGreaterThan(1); // the metering thread and V8's
  });
});

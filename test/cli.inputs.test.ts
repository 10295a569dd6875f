/**
 * Several labelled inputs (`--input PATH[:LABEL | :RULES.csv]`, directories of captures) for train and evaluate,
 * and evaluate's false-positive and detection rates on benign-only, attack-only and mixed inputs.
 *
 * The inputs are real traffic: the shipped lab excerpt, split in this file by host into its benign part (no
 * attacker address) and its attack part, and — when ../shared is present — shared captures.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCaptureSync } from '../src/capture/reader.js';
import { PcapWriter } from '../src/capture/writer.js';
import { captureFilesIn, parseInputArg } from '../src/cli/inputs.js';
import { flowsift, expectOneLineError } from './helpers/cli.js';
import { describeShared, REPO, sharedPath } from './helpers/shared.js';
import { testDir } from './helpers/tmp.js';

const EXAMPLE = 'datasets/lab-excerpt/capture.pcap';
const LABELS = 'datasets/lab-excerpt/labels.csv';
const MODEL = 'models/lab-tree';
const tmp = testDir('flowsift-inputs-');
/** Flows per class of the excerpt labelled by its rules (test/cli.test.ts checks the same capture). */
const EXAMPLE_COUNTS: Record<string, number> = { BENIGN: 215, BruteForce: 56, DoS: 1652, PortScan: 2000, WebAttack: 4 };


/**
 * Splits an Ethernet/IPv4 capture by host: packets from or to an address in `hosts` go to `withHosts`, all
 * others to `without`. A flow is between two addresses, so each flow lands whole in one file.
 */
function splitByHost(src: string, hosts: readonly string[], withHosts: string, without: string): void {
  const want = new Set(hosts);
  const a = new PcapWriter(withHosts, { linkType: 1, tsResolution: 'ns' });
  const b = new PcapWriter(without, { linkType: 1, tsResolution: 'ns' });
  readCaptureSync(src, (p) => {
    expect(p.linkType).toBe(1);
    const d = p.data, o = p.offset;
    const ip = p.capLen >= 34 && d[o + 12] === 0x08 && d[o + 13] === 0x00;
    const addr = (at: number): string => `${d[at]}.${d[at + 1]}.${d[at + 2]}.${d[at + 3]}`;
    (ip && (want.has(addr(o + 26)) || want.has(addr(o + 30))) ? a : b).write(p);
  });
  a.close();
  b.close();
}

/** `{label: flows}` from a per-input line: `input ARG (…): N flows — A 1, B 2`. */
function countsOf(line: string): Record<string, number> {
  const m = /: ([\d,]+) flows(?: — (.*))?$/.exec(line);
  expect(m, line).not.toBeNull();
  const out: Record<string, number> = {};
  for (const part of (m![2] ?? '').split(', ').filter(Boolean)) {
    const k = part.lastIndexOf(' ');
    out[part.slice(0, k)] = Number(part.slice(k + 1).replace(/,/g, ''));
  }
  expect(Object.values(out).reduce((s, n) => s + n, 0)).toBe(Number(m![1]!.replace(/,/g, '')));
  return out;
}

const inputLine = (stderr: string, arg: string): string => {
  const line = stderr.split('\n').find((l) => l.startsWith(`input ${arg} (`));
  expect(line, stderr).toBeDefined();
  return line!;
};

describe('--input PATH[:SPEC] parsing', () => {
  const odd = join(tmp, 'odd:name.pcap');
  beforeAll(() => {
    writeFileSync(odd, '');
    writeFileSync(join(tmp, 'BENIGN'), ''); // a file named like a label
  });

  it('a path without SPEC, PATH:LABEL, PATH:RULES.csv', () => {
    expect(parseInputArg(EXAMPLE)).toEqual({ arg: EXAMPLE, path: EXAMPLE, spec: null });
    expect(parseInputArg(`${EXAMPLE}:BENIGN`).spec).toEqual({ kind: 'label', label: 'BENIGN' });
    expect(parseInputArg(`${EXAMPLE}:Web Attack - Brute Force`).spec).toEqual({ kind: 'label', label: 'Web Attack - Brute Force' });
    expect(parseInputArg(`${EXAMPLE}:${LABELS}`)).toEqual({ arg: `${EXAMPLE}:${LABELS}`, path: EXAMPLE, spec: { kind: 'rules', file: LABELS } });
    // Ends in .csv, or has a '/': a rules file even when missing (reading it reports that).
    expect(parseInputArg(`${EXAMPLE}:missing.CSV`).spec).toEqual({ kind: 'rules', file: 'missing.CSV' });
    expect(parseInputArg(`${EXAMPLE}:rules/dos`).spec).toEqual({ kind: 'rules', file: 'rules/dos' });
    expect(parseInputArg('-:BENIGN')).toEqual({ arg: '-:BENIGN', path: '-', spec: { kind: 'label', label: 'BENIGN' } });
    expect(parseInputArg('-').spec).toBeNull();
  });

  it("a path containing ':' is whole when it exists; a SPEC after it splits at the last ':'", () => {
    expect(parseInputArg(odd)).toEqual({ arg: odd, path: odd, spec: null });
    expect(parseInputArg(`${odd}:DoS`)).toEqual({ arg: `${odd}:DoS`, path: odd, spec: { kind: 'label', label: 'DoS' } });
    // An existing file as SPEC is a rules file, whatever its name.
    expect(parseInputArg(`${EXAMPLE}:${join(tmp, 'BENIGN')}`).spec).toEqual({ kind: 'rules', file: join(tmp, 'BENIGN') });
  });

  it('bad values: missing path (input error), empty SPEC and bad label (usage errors)', () => {
    expect(() => parseInputArg('no/such.pcap')).toThrow(expect.objectContaining({ name: 'DatasetError', message: 'no/such.pcap: no such file or directory' }));
    expect(() => parseInputArg('no/such.pcap:BENIGN')).toThrow(/no\/such\.pcap:BENIGN: no such file or directory \(nor is 'no\/such\.pcap', the part before the last ':'\)/);
    expect(() => parseInputArg(`${EXAMPLE}:`)).toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(/nothing after ':'/) }));
    expect(() => parseInputArg(`${EXAMPLE}: BENIGN`)).toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(/leading\/trailing spaces/) }));
    expect(() => parseInputArg(`${EXAMPLE}:A\tB`)).toThrow(/control characters/);
    expect(() => parseInputArg('')).toThrow(expect.objectContaining({ name: 'UsageError' }));
  });
});

describe('directory inputs', () => {
  it('expand to their *.pcap, *.pcapng, *.cap files sorted by name: not hidden, not tables, not subdirectories', () => {
    const d = join(tmp, 'dir');
    mkdirSync(join(d, 'sub'), { recursive: true });
    for (const f of ['b.pcap', 'a.pcapng', 'C.CAP', 'labels.csv', '.hidden.pcap', 'notes.txt', 'x.pcap.gz', join('sub', 'deep.pcap')]) writeFileSync(join(d, f), '');
    symlinkSync(join(REPO, EXAMPLE), join(d, 'linked.pcap'));
    symlinkSync(join(d, 'sub'), join(d, 'dirlink.pcap'));
    expect(captureFilesIn(d)).toEqual(['C.CAP', 'a.pcapng', 'b.pcap', 'linked.pcap'].map((f) => join(d, f)));
  });

  it('an empty directory, or one with subdirectories only, is an input error naming it', () => {
    const d = join(tmp, 'empty');
    mkdirSync(join(d, 'inner'), { recursive: true });
    writeFileSync(join(d, 'inner', 'x.pcap'), '');
    expect(() => captureFilesIn(d)).toThrow(`${d}: no capture in this directory (files named *.pcap, *.pcapng, *.cap; subdirectories are not read)`);
  });
});

describe('train and evaluate with several labelled inputs (the lab excerpt split by host)', () => {
  const benignDir = join(tmp, 'benign');
  const benign = join(benignDir, 'benign.pcap');
  const attacks = join(tmp, 'attacks.pcap');
  let train: { code: number; stdout: string; stderr: string };
  beforeAll(() => {
    mkdirSync(benignDir);
    splitByHost(join(REPO, EXAMPLE), ['10.77.0.66', '10.77.0.67', '10.77.0.68', '10.77.0.69', '10.77.0.70'], attacks, benign);
    train = flowsift(['train', '--input', `${benignDir}:BENIGN`, '--input', `${attacks}:${LABELS}`, '--model', join(tmp, 'two'), '--max-depth', '4']);
  });

  it('one line per input with its flows per class; the classes add up to the whole capture', () => {
    expect(train.code, train.stderr).toBe(0);
    const b = countsOf(inputLine(train.stderr, `${benignDir}:BENIGN`));
    const a = countsOf(inputLine(train.stderr, `${attacks}:${LABELS}`));
    expect(inputLine(train.stderr, `${benignDir}:BENIGN`)).toContain('(1 capture; every flow labelled BENIGN)');
    expect(Object.keys(b)).toEqual(['BENIGN']);
    // Attacker hosts send nothing outside their windows, so the attack part holds no BENIGN flow.
    expect(a).toEqual({ BruteForce: 56, DoS: 1652, PortScan: 2000, WebAttack: 4 });
    expect(b.BENIGN).toBe(EXAMPLE_COUNTS.BENIGN);
    for (const [c, n] of Object.entries(EXAMPLE_COUNTS)) expect(train.stdout).toMatch(new RegExp(`\\n  ${c} +${n.toLocaleString('en-US')} flows\\n`));
    const doc = JSON.parse(readFileSync(join(tmp, 'two', 'model.json'), 'utf8'));
    expect(doc.training.captures).toEqual([benign, attacks]);
    expect(doc.training.sources).toEqual([
      { input: `${benignDir}:BENIGN`, files: 1, labels: 'every flow labelled BENIGN' },
      { input: `${attacks}:${LABELS}`, files: 1, labels: expect.stringMatching(/^5 rules from .*labels\.csv/) },
    ]);
  });

  it('the same labels as the rules on the whole capture: :BENIGN on the benign part agrees with the rules', () => {
    const r = flowsift(['train', '--input', `${benign}:${LABELS}`, '--input', `${attacks}:${LABELS}`, '--model', join(tmp, 'rules-both'), '--max-depth', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(countsOf(inputLine(r.stderr, `${benign}:${LABELS}`))).toEqual({ BENIGN: EXAMPLE_COUNTS.BENIGN });
  });

  it('--class-weight balanced prints n / (classes · n_class) per class, for every classifier', () => {
    const n = Object.values(EXAMPLE_COUNTS).reduce((s, v) => s + v, 0);
    for (const algo of [['--algo', 'tree'], ['--algo', 'forest', '--trees', '3'], ['--algo', 'gbt', '--trees', '3']]) {
      const r = flowsift(['train', '--input', `${benignDir}:BENIGN`, '--input', `${attacks}:${LABELS}`, '--model', join(tmp, `cw-${algo[1]}`), '--class-weight', 'balanced', ...algo, '-q']);
      expect(r.code, r.stderr).toBe(0);
      for (const [c, k] of Object.entries(EXAMPLE_COUNTS)) {
        const m = new RegExp(`\\n  ${c} +${k.toLocaleString('en-US')} flows  weight ([\\d.]+)\\n`).exec(r.stdout);
        expect(m, `${algo[1]} ${c}\n${r.stdout}`).not.toBeNull();
        expect(Number(m![1])).toBeCloseTo(n / (5 * k), 3 - Math.floor(Math.log10(n / (5 * k))));
      }
    }
  });

  it('positional inputs with --label/--labels still work beside --input; stdin is an input too', () => {
    const r = flowsift(['train', attacks, '--labels', LABELS, '--input', '-:BENIGN', '--model', join(tmp, 'mixed-args'), '--max-depth', '2'], readFileSync(benign));
    expect(r.code, r.stderr).toBe(0);
    expect(countsOf(inputLine(r.stderr, attacks))).toEqual({ BruteForce: 56, DoS: 1652, PortScan: 2000, WebAttack: 4 });
    expect(countsOf(inputLine(r.stderr, '-:BENIGN'))).toEqual({ BENIGN: EXAMPLE_COUNTS.BENIGN });
  });

  describe('evaluate: false-positive rate on benign-only inputs, detection rate on attack-only ones', () => {
    let mixed: { confusion_matrix: { labels: string[]; matrix: number[][] }; classes: Record<string, { recall: number }>; rates: Record<string, any> };
    beforeAll(() => {
      const r = flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', MODEL, '--json', '-q']);
      expect(r.code, r.stderr).toBe(0);
      mixed = JSON.parse(r.stdout);
    });
    /** Row of the mixed run's confusion matrix for a true label. */
    const row = (label: string): Record<string, number> => {
      const { labels, matrix } = mixed.confusion_matrix;
      return Object.fromEntries(labels.map((l, j) => [l, matrix[labels.indexOf(label)]![j]!]).filter(([, n]) => n));
    };

    it('mixed labels: FPR and detection rate beside the report, agreeing with the confusion matrix', () => {
      const b = row('BENIGN');
      const benignFlows = Object.values(b).reduce((s, n) => s + n, 0);
      const fp = benignFlows - (b.BENIGN ?? 0);
      expect(mixed.rates.benign_flows).toBe(EXAMPLE_COUNTS.BENIGN);
      expect(mixed.rates.false_positives).toBe(fp);
      expect(mixed.rates.fpr).toBe(fp / benignFlows);
      const fired = Object.fromEntries(Object.entries(b).filter(([l]) => l !== 'BENIGN'));
      expect(mixed.rates.fired).toEqual(fired);
      let attackFlows = 0, detected = 0;
      for (const c of ['BruteForce', 'DoS', 'PortScan', 'WebAttack']) {
        const rc = row(c);
        const flows = Object.values(rc).reduce((s, n) => s + n, 0);
        attackFlows += flows;
        detected += flows - (rc.BENIGN ?? 0);
        expect(mixed.rates.per_class[c].recall).toBe(mixed.classes[c]!.recall); // scikit-learn's recall
      }
      expect(mixed.rates.attack_flows).toBe(attackFlows);
      expect(mixed.rates.detection_rate).toBe(detected / attackFlows);
      const text = flowsift(['evaluate', EXAMPLE, '--labels', LABELS, '--model', MODEL, '-q']).stdout;
      expect(text).toMatch(/^ {14}precision/); // the report first, as before
      expect(text).toContain(`\nfalse-positive rate: ${fp}/${benignFlows} = ${(fp / benignFlows).toFixed(4)} (BENIGN flows flagged)\n`);
      expect(text).toContain(`\ndetection rate: ${detected.toLocaleString('en-US')}/${attackFlows.toLocaleString('en-US')} = ${(detected / attackFlows).toFixed(4)} (attack flows flagged as any attack class)\n`);
      expect(text).toContain('\ndecision: the most probable class (no alert threshold stored');
    });

    it('benign-only input: the false-positive rate and the classes that fired, no detection rate', () => {
      const r = flowsift(['evaluate', '--input', `${benignDir}:BENIGN`, '--model', MODEL, '-q']);
      expect(r.code, r.stderr).toBe(0);
      const fp = mixed.rates.false_positives as number;
      expect(r.stdout).toContain(`\nfalse-positive rate: ${fp}/${EXAMPLE_COUNTS.BENIGN} = ${(fp / EXAMPLE_COUNTS.BENIGN).toFixed(4)} (BENIGN flows flagged)\n`);
      const fired = Object.entries(mixed.rates.fired as Record<string, number>).map(([c, n]) => `${c} ${n}`).join(', ');
      expect(r.stdout).toContain(`\n  fired: ${fired || 'none'}\n`);
      expect(r.stdout).not.toContain('detection rate');
      const j = JSON.parse(flowsift(['evaluate', '--input', `${benignDir}:BENIGN`, '--model', MODEL, '--json', '-q']).stdout);
      expect(j.rates).toMatchObject({ benign_flows: EXAMPLE_COUNTS.BENIGN, false_positives: fp, attack_flows: 0, detection_rate: null });
    });

    it('attack-only input: the detection rate and per-class recall, no false-positive rate', () => {
      const r = flowsift(['evaluate', '--input', `${attacks}:${LABELS}`, '--model', MODEL, '-q']);
      expect(r.code, r.stderr).toBe(0);
      const { attack_flows: n, detected } = mixed.rates as { attack_flows: number; detected: number };
      expect(r.stdout).toContain(`\ndetection rate: ${detected.toLocaleString('en-US')}/${n.toLocaleString('en-US')} = ${(detected / n).toFixed(4)} (attack flows flagged as any attack class)\n`);
      expect(r.stdout).toMatch(/\n {2}PortScan +2,000 flows {2}detected 1\.0000 {2}recall 1\.0000\n/);
      expect(r.stdout).not.toContain('false-positive rate');
    });

    it('several inputs: the overall rates, then the same per input', () => {
      const r = flowsift(['evaluate', '--input', `${benignDir}:BENIGN`, '--input', `${attacks}:${LABELS}`, '--model', MODEL, '-q']);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(flowsift(['evaluate', '--input', `${benignDir}:BENIGN`, '--input', `${attacks}:${LABELS}`, '--model', MODEL, '--json', '-q']).stdout);
      expect(j.rates).toEqual(mixed.rates);
      expect(j.sources.map((s: { input: string; flows: number }) => [s.input, s.flows])).toEqual([[`${benignDir}:BENIGN`, 215], [`${attacks}:${LABELS}`, 3712]]);
      expect(j.sources[0].rates.false_positives).toBe(mixed.rates.false_positives);
      expect(j.sources[1].rates.detected).toBe(mixed.rates.detected);
      expect(r.stdout).toContain(`\ninput ${benignDir}:BENIGN (every flow labelled BENIGN): 215 flows\n  false-positive rate: `);
    });
  });

  describe('bad inputs: one line, exit 1 for bad input and 2 for usage', () => {
    const model = join(tmp, 'never');
    it.each<[string, string[], number, RegExp]>([
      ['missing path', ['--input', 'no/such.pcap:BENIGN'], 1, /no\/such\.pcap:BENIGN: no such file or directory/],
      ['missing rules file', ['--input', `${EXAMPLE}:no-such-labels.csv`], 1, /no-such-labels\.csv: label file not found/],
      ['empty directory', ['--input', `${join(tmp, 'empty')}:BENIGN`], 1, /empty: no capture in this directory/],
      ['empty SPEC', ['--input', `${EXAMPLE}:`], 2, /nothing after ':'/],
      ['no input at all', ['--label', 'BENIGN'], 2, /no input: give INPUT\.\.\. and\/or --input/],
      ['a file twice (through a directory)', ['--input', `${benignDir}:BENIGN`, '--input', `${benign}:DoS`], 2, /benign\.pcap is given twice .*its flows would count twice/],
      ['--label labelling nothing', ['--input', `${EXAMPLE}:BENIGN`, '--label', 'DoS'], 2, /--label\/--labels label no input/],
      ['an unlabelled --input', ['--input', EXAMPLE], 2, /labels are required for datasets\/lab-excerpt\/capture\.pcap: write --input PATH:LABEL/],
      ['a label on a flow table', ['--input', `${LABELS}:BENIGN`], 2, /flow tables carry their labels in their Label column/],
    ])('%s', (_name, args, code, pattern) => {
      expectOneLineError(flowsift(['train', ...args, '--model', model]), code, pattern);
    });

    it('a bad rules file names its line', () => {
      const bad = join(tmp, 'bad-rules.csv');
      writeFileSync(bad, 'label,ip,start,end\nDoS,10.77.0.300,1,2\n');
      expectOneLineError(flowsift(['evaluate', '--input', `${EXAMPLE}:${bad}`, '--model', MODEL]), 1, /bad-rules\.csv:2: not an IP address: '10\.77\.0\.300'/);
    });
  });
});

describeShared('evaluate on shared captures: benign-only and attack-only', () => {
  it('chrissanders/dns.pcap as BENIGN with models/lab-tree: the false-positive rate over its flows', () => {
    const dns = sharedPath('attacks', 'chrissanders', 'dns.pcap');
    const r = flowsift(['evaluate', '--input', `${dns}:BENIGN`, '--model', MODEL, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(r.stderr).toMatch(/dns\.pcap: 7 packets, 7 flows/);
    expect(j.rates.benign_flows).toBe(7);
    expect(j.rates.fpr).toBe(j.rates.false_positives / 7);
    expect(j.rates.attack_flows).toBe(0);
    const t = flowsift(['evaluate', '--input', `${dns}:BENIGN`, '--model', MODEL, '-q']).stdout;
    expect(t).toContain(`\nfalse-positive rate: ${j.rates.false_positives}/7 = ${j.rates.fpr.toFixed(4)} (BENIGN flows flagged)\n`);
  });

  it('a directory of captures is one input; its captures are read in name order', () => {
    const dir = sharedPath('attacks', 'ustc-tfc2016');
    const r = flowsift(['evaluate', '--input', `${dir}:BENIGN`, '--input', `${sharedPath('attacks', 'chrissanders', 'dns.pcap')}:BENIGN`, '--model', MODEL, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const reads = r.stderr.split('\n').filter((l) => / packets, [\d,]+ flows/.test(l)).map((l) => l.slice(0, l.indexOf(':')));
    expect(reads).toEqual([join(dir, 'Facetime.pcap'), join(dir, 'Tinba.pcap'), sharedPath('attacks', 'chrissanders', 'dns.pcap')]);
    expect(inputLine(r.stderr, `${dir}:BENIGN`)).toContain('(2 captures; every flow labelled BENIGN)');
    const j = JSON.parse(r.stdout);
    expect(j.sources).toHaveLength(2);
    expect(j.sources[0].flows + j.sources[1].flows).toBe(j.flows);
    expect(j.sources[0].rates.false_positives + j.sources[1].rates.false_positives).toBe(j.rates.false_positives);
  });

  it('an ICMP port scan labelled PortScan: the detection rate only', () => {
    const scan = sharedPath('attacks', 'slips', 'dataset', 'test12-icmp-portscan.pcap');
    const r = flowsift(['evaluate', '--input', `${scan}:PortScan`, '--model', MODEL, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\ndetection rate: [\d,]+\/[\d,]+ = [01]\.\d{4} \(attack flows flagged as any attack class\)\n {2}PortScan +[\d,]+ flows {2}detected [01]\.\d{4} {2}recall [01]\.\d{4}\n/);
    expect(r.stdout).not.toContain('false-positive rate');
  });
});

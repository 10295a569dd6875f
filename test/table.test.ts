/**
 * Flow tables (src/dataset/table.ts, src/dataset/cic-columns.ts): CIC-IDS2017's CSV quirks on a sample built here,
 * CSE-CIC-IDS2018 and Python cicflowmeter headers, flowsift's own extract CSV read back (both profiles), the shared
 * CIC-IDS2017 sample (rows, labels, warnings, units against flowsift's extract of the same traffic), and one clear
 * error per bad input.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvLayout } from '../src/cli/commands/extract.js';
import { columnResolver, FEATURE_ALIAS_ROWS } from '../src/dataset/cic-columns.js';
import { FlowRecords } from '../src/dataset/collect.js';
import { FlowCsvWriter } from '../src/dataset/csv.js';
import { TableError } from '../src/dataset/errors.js';
import { groupDigits } from '../src/dataset/format.js';
import { RuleLabeller } from '../src/dataset/labels.js';
import { OutputSink } from '../src/dataset/output.js';
import type { FlowTableRecords } from '../src/dataset/table.js';
import { isFlowTable, normalizeLabel, parseTableTimestamp, readFlowTable, readFlowTables, tableSummaryLine } from '../src/dataset/table.js';
import { extractCapture } from '../src/features/extract.js';
import { CIC_FEATURE_ORDER, createFeatureSet } from '../src/features/registry.js';
import { describeShared, REPO, sharedPath } from './helpers/shared.js';
import { testDir } from './helpers/tmp.js';

const tmp = testDir('flowsift-table-');

/** Writes `text` to a fresh file under the test's temporary folder. */
function file(name: string, text: string | Buffer): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

/** The value of feature `name` in row `r`. */
function value(rec: FlowRecords, r: number, name: string): number {
  const j = rec.names.indexOf(name);
  if (j < 0) throw new Error(`no feature ${name}`);
  return rec.data[r * rec.names.length + j];
}

/** The header of CIC-IDS2017's GeneratedLabelledFlows CSVs as pandas re-saves them (as in the shared sample). */
const CIC2017_HEADER = [
  'Unnamed: 0', 'Flow ID', ' Source IP', ' Source Port', ' Destination IP', ' Destination Port', ' Protocol',
  ' Timestamp', ' Flow Duration', ' Total Fwd Packets', ' Total Backward Packets', 'Total Length of Fwd Packets',
  ' Total Length of Bwd Packets', ' Fwd Packet Length Max', ' Fwd Packet Length Min', ' Fwd Packet Length Mean',
  ' Fwd Packet Length Std', 'Bwd Packet Length Max', ' Bwd Packet Length Min', ' Bwd Packet Length Mean',
  ' Bwd Packet Length Std', 'Flow Bytes/s', ' Flow Packets/s', ' Flow IAT Mean', ' Flow IAT Std', ' Flow IAT Max',
  ' Flow IAT Min', 'Fwd IAT Total', ' Fwd IAT Mean', ' Fwd IAT Std', ' Fwd IAT Max', ' Fwd IAT Min', 'Bwd IAT Total',
  ' Bwd IAT Mean', ' Bwd IAT Std', ' Bwd IAT Max', ' Bwd IAT Min', 'Fwd PSH Flags', ' Bwd PSH Flags',
  ' Fwd URG Flags', ' Bwd URG Flags', ' Fwd Header Length', ' Bwd Header Length', 'Fwd Packets/s', ' Bwd Packets/s',
  ' Min Packet Length', ' Max Packet Length', ' Packet Length Mean', ' Packet Length Std', ' Packet Length Variance',
  'FIN Flag Count', ' SYN Flag Count', ' RST Flag Count', ' PSH Flag Count', ' ACK Flag Count', ' URG Flag Count',
  ' CWE Flag Count', ' ECE Flag Count', ' Down/Up Ratio', ' Average Packet Size', ' Avg Fwd Segment Size',
  ' Avg Bwd Segment Size', ' Fwd Header Length.1', 'Fwd Avg Bytes/Bulk', ' Fwd Avg Packets/Bulk',
  ' Fwd Avg Bulk Rate', ' Bwd Avg Bytes/Bulk', ' Bwd Avg Packets/Bulk', 'Bwd Avg Bulk Rate', 'Subflow Fwd Packets',
  ' Subflow Fwd Bytes', ' Subflow Bwd Packets', ' Subflow Bwd Bytes', 'Init_Win_bytes_forward',
  ' Init_Win_bytes_backward', ' act_data_pkt_fwd', ' min_seg_size_forward', 'Active Mean', ' Active Std',
  ' Active Max', ' Active Min', 'Idle Mean', ' Idle Std', ' Idle Max', ' Idle Min', ' Label',
];

/** CIC-IDS2017 names that differ from the registry's (CICFlowMeter 4's), written out here independently of the alias table. */
const CIC2017_RENAMED: Record<string, string> = {
  'Total Fwd Packets': 'Total Fwd Packet', 'Total Backward Packets': 'Total Bwd packets',
  'Total Length of Fwd Packets': 'Total Length of Fwd Packet', 'Total Length of Bwd Packets': 'Total Length of Bwd Packet',
  'Min Packet Length': 'Packet Length Min', 'Max Packet Length': 'Packet Length Max', 'CWE Flag Count': 'CWR Flag Count',
  'Avg Fwd Segment Size': 'Fwd Segment Size Avg', 'Avg Bwd Segment Size': 'Bwd Segment Size Avg',
  'Fwd Avg Bytes/Bulk': 'Fwd Bytes/Bulk Avg', 'Fwd Avg Packets/Bulk': 'Fwd Packet/Bulk Avg', 'Fwd Avg Bulk Rate': 'Fwd Bulk Rate Avg',
  'Bwd Avg Bytes/Bulk': 'Bwd Bytes/Bulk Avg', 'Bwd Avg Packets/Bulk': 'Bwd Packet/Bulk Avg', 'Bwd Avg Bulk Rate': 'Bwd Bulk Rate Avg',
  'Init_Win_bytes_forward': 'FWD Init Win Bytes', 'Init_Win_bytes_backward': 'Bwd Init Win Bytes',
  'act_data_pkt_fwd': 'Fwd Act Data Pkts', 'min_seg_size_forward': 'Fwd Seg Size Min',
};

describe('a CIC-IDS2017 table built here (BOM, spaced names, index column, Fwd Header Length.1, Infinity/NaN, CRLF)', () => {
  // Column c (from 8, Flow Duration) of row r holds 1000·r + c, except the cells set below.
  const rowsOut: string[][] = [];
  const labels = ['BENIGN', 'DoS Hulk', 'Web Attack \uFFFD Brute Force', 'BENIGN'];
  for (let r = 0; r < 4; r++) {
    const row = [String(100 + r), `192.168.10.5-192.168.10.3-${49160 + r}-88-6`, '192.168.10.5', String(49160 + r), '192.168.10.3', '88', '6', `03/07/2017 09:08:1${r}`];
    for (let c = 8; c < CIC2017_HEADER.length - 1; c++) row.push(String(1000 * r + c + (c % 2 ? 0.5 : 0)));
    row.push(labels[r]);
    rowsOut.push(row);
  }
  const col = (name: string): number => CIC2017_HEADER.findIndex((h) => h.trim() === name);
  rowsOut[1][col('Flow Bytes/s')] = 'Infinity';
  rowsOut[1][col('Flow Packets/s')] = 'NaN';
  rowsOut[2][col('Idle Min')] = '';
  rowsOut[3][col('Flow Bytes/s')] = '-Infinity';
  rowsOut[0][col('Fwd Header Length.1')] = '999999';
  const text = `\uFEFF${[CIC2017_HEADER, ...rowsOut].map((r) => r.join(',')).join('\r\n')}\r\n`;
  let t: FlowTableRecords;
  beforeAll(async () => {
    t = await readFlowTable(file('cic2017.csv', text), { utcOffsetMinutes: -180 });
  });

  it('maps every CIC-IDS2017 feature column onto the registry, in the registry order', () => {
    expect(t.rows).toBe(4);
    expect([...t.names]).toEqual(CIC_FEATURE_ORDER);
    expect(t.tables[0].format).toBe('CIC-IDS2017 (CICFlowMeter-V3)');
    expect(t.tables[0].unknownColumns).toEqual([]);
    expect(tableSummaryLine(t.tables[0])).toMatch(/cic2017\.csv: 4 flows, 76 feature columns \(CIC-IDS2017 \(CICFlowMeter-V3\) names\), labelled, \d+\.\d\d s \([\d,]+ rows\/s\)$/);
    const renamed = t.tables[0].featureColumns.filter(([c, f]) => c !== f);
    expect(Object.fromEntries(renamed)).toEqual(CIC2017_RENAMED);
  });

  it('reads exact values from the mapped columns (the first Fwd Header Length, not the .1 copy)', () => {
    for (let r = 0; r < 4; r++) {
      for (let c = 8; c < CIC2017_HEADER.length - 1; c++) {
        const name = CIC2017_HEADER[c].trim();
        if (name === 'Fwd Header Length.1') continue;
        const cell = rowsOut[r][c];
        const want = cell === 'Infinity' || cell === '-Infinity' || cell === 'NaN' || cell === '' ? 0 : Number(cell);
        expect(value(t, r, CIC2017_RENAMED[name] ?? name), `row ${r} ${name}`).toBe(want);
      }
    }
    expect(value(t, 0, 'Fwd Header Length')).toBe(Number(rowsOut[0][col('Fwd Header Length')]));
    expect(value(t, 1, 'Total Fwd Packet')).toBe(1009.5);
    expect(value(t, 2, 'CWR Flag Count')).toBe(2056);
  });

  it('keeps identifiers out of the features and reads them as identifiers', () => {
    for (const id of ['Flow ID', 'Source IP', 'Source Port', 'Destination IP', 'Destination Port', 'Protocol', 'Timestamp', 'Src Port', 'Dst Port']) {
      expect(t.names).not.toContain(id);
    }
    expect(t.srcIp.slice(0, 4)).toEqual(['192.168.10.5', '192.168.10.5', '192.168.10.5', '192.168.10.5']);
    expect(t.dstIp[0]).toBe('192.168.10.3');
    expect(Array.from(t.srcPort.subarray(0, 4))).toEqual([49160, 49161, 49162, 49163]);
    expect(Array.from(t.dstPort.subarray(0, 4))).toEqual([88, 88, 88, 88]);
    expect(Array.from(t.protocol.subarray(0, 4))).toEqual([6, 6, 6, 6]);
    // 09:08:10 Atlantic Daylight Time (UTC−3) = 12:08:10 UTC
    expect(t.firstSeenUs[0]).toBe(Date.UTC(2017, 6, 3, 12, 8, 10) * 1000);
    expect(t.sources).toEqual([join(tmp, 'cic2017.csv')]);
  });

  it('reads Infinity/NaN/empty cells as 0 and reports their count once', () => {
    expect(t.tables[0].nonFinite).toEqual({ 'Flow Bytes/s': 2, 'Flow Packets/s': 1, 'Idle Min': 1 });
    expect(t.tables[0].nonFiniteCells).toBe(4);
    expect(t.warnings.filter((w) => w.includes('Infinity'))).toEqual([
      `${join(tmp, 'cic2017.csv')}: 4 Infinity/NaN/empty feature cell(s) read as 0: Flow Bytes/s 2, Flow Packets/s 1, Idle Min 1`,
    ]);
  });

  it('repairs the mangled en dash of CIC-IDS2017\'s web attack labels, and says so once', () => {
    expect(t.labels).toEqual(['BENIGN', 'DoS Hulk', 'Web Attack - Brute Force', 'BENIGN']);
    expect(t.tables[0].hasLabels).toBe(true);
    expect(t.warnings.filter((w) => w.includes('label'))).toEqual([
      `${join(tmp, 'cic2017.csv')}: label(s) normalized: 'Web Attack \uFFFD Brute Force' → 'Web Attack - Brute Force' (1 rows)`,
    ]);
    expect(t.warnings).toHaveLength(2);
  });

  it('keeps labels as written with rawLabels', async () => {
    const raw = await readFlowTable(join(tmp, 'cic2017.csv'), { rawLabels: true });
    expect(raw.labels[2]).toBe('Web Attack \uFFFD Brute Force');
    expect(raw.warnings).toHaveLength(1);
  });

  it('reads a MachineLearningCVE table (Destination Port the only identifier, pandas index with an empty name)', async () => {
    const keep = CIC2017_HEADER.map((h, i) => i).filter((i) => i === 0 || i === 5 || i >= 8);
    const lines = [keep.map((i) => (i === 0 ? '' : CIC2017_HEADER[i])), ...rowsOut.map((r) => keep.map((i) => r[i]))];
    const m = await readFlowTable(file('mlcve.csv', lines.map((l) => l.join(',')).join('\n')));
    expect([...m.names]).toEqual(CIC_FEATURE_ORDER);
    expect(m.rows).toBe(4);
    expect(Array.from(m.dstPort.subarray(0, 2))).toEqual([88, 88]);
    expect(m.srcIp[0]).toBe('');
    expect(Number.isNaN(m.firstSeenUs[0])).toBe(true);
    expect(m.data).toEqual(t.data);
    expect(m.tables[0].unknownColumns).toEqual([]);
  });
});

describe('CSE-CIC-IDS2018, Python cicflowmeter and CICFlowMeter 4 headers', () => {
  /** CSE-CIC-IDS2018's header (e.g. Wednesday-14-02-2018_TrafficForML_CICFlowMeter.csv), written out here. */
  const CSE2018 = ['Dst Port', 'Protocol', 'Timestamp', 'Flow Duration', 'Tot Fwd Pkts', 'Tot Bwd Pkts', 'TotLen Fwd Pkts',
    'TotLen Bwd Pkts', 'Fwd Pkt Len Max', 'Fwd Pkt Len Min', 'Fwd Pkt Len Mean', 'Fwd Pkt Len Std', 'Bwd Pkt Len Max',
    'Bwd Pkt Len Min', 'Bwd Pkt Len Mean', 'Bwd Pkt Len Std', 'Flow Byts/s', 'Flow Pkts/s', 'Flow IAT Mean',
    'Flow IAT Std', 'Flow IAT Max', 'Flow IAT Min', 'Fwd IAT Tot', 'Fwd IAT Mean', 'Fwd IAT Std', 'Fwd IAT Max',
    'Fwd IAT Min', 'Bwd IAT Tot', 'Bwd IAT Mean', 'Bwd IAT Std', 'Bwd IAT Max', 'Bwd IAT Min', 'Fwd PSH Flags',
    'Bwd PSH Flags', 'Fwd URG Flags', 'Bwd URG Flags', 'Fwd Header Len', 'Bwd Header Len', 'Fwd Pkts/s', 'Bwd Pkts/s',
    'Pkt Len Min', 'Pkt Len Max', 'Pkt Len Mean', 'Pkt Len Std', 'Pkt Len Var', 'FIN Flag Cnt', 'SYN Flag Cnt',
    'RST Flag Cnt', 'PSH Flag Cnt', 'ACK Flag Cnt', 'URG Flag Cnt', 'CWE Flag Count', 'ECE Flag Cnt', 'Down/Up Ratio',
    'Pkt Size Avg', 'Fwd Seg Size Avg', 'Bwd Seg Size Avg', 'Fwd Byts/b Avg', 'Fwd Pkts/b Avg', 'Fwd Blk Rate Avg',
    'Bwd Byts/b Avg', 'Bwd Pkts/b Avg', 'Bwd Blk Rate Avg', 'Subflow Fwd Pkts', 'Subflow Fwd Byts', 'Subflow Bwd Pkts',
    'Subflow Bwd Byts', 'Init Fwd Win Byts', 'Init Bwd Win Byts', 'Fwd Act Data Pkts', 'Fwd Seg Size Min',
    'Active Mean', 'Active Std', 'Active Max', 'Active Min', 'Idle Mean', 'Idle Std', 'Idle Max', 'Idle Min', 'Label'];

  it('maps all 76 features of CSE-CIC-IDS2018 in its order, and Benign to BENIGN', async () => {
    const row = CSE2018.map((_, i) => (i === 0 ? '443' : i === 1 ? '6' : i === 2 ? '14/02/2018 08:31:01' : i === CSE2018.length - 1 ? 'Benign' : String(i)));
    const t = await readFlowTable(file('cse2018.csv', `${CSE2018.join(',')}\n${row.join(',')}\n`));
    expect([...t.names]).toEqual(CIC_FEATURE_ORDER);
    expect(t.tables[0].format).toBe('CSE-CIC-IDS2018');
    // the 2018 header lists the features in CICFlowMeter 4's order: feature k sits in column k + 3
    expect(Array.from(t.data.subarray(0, 76))).toEqual(CIC_FEATURE_ORDER.map((_, k) => k + 3));
    expect(t.labels).toEqual(['BENIGN']);
    expect(t.dstPort[0]).toBe(443);
    expect(t.firstSeenUs[0]).toBe(Date.UTC(2018, 1, 14, 8, 31, 1) * 1000);
  });

  it('maps the Python cicflowmeter\'s snake_case columns; its cwe_flag_count (a copy of fwd_urg_flags) is skipped', async () => {
    const py = ['src_ip', 'dst_ip', 'src_port', 'dst_port', 'protocol', 'timestamp',
      ...FEATURE_ALIAS_ROWS.map((r) => r[3]).filter((n): n is string => n !== null), 'cwe_flag_count'];
    const row = py.map((n, i) => (n === 'src_ip' ? '10.0.0.1' : n === 'dst_ip' ? '10.0.0.2' : n === 'timestamp' ? '2020-01-02 03:04:05' : String(i)));
    const t = await readFlowTable(file('py.csv', `${py.join(',')}\n${row.join(',')}\n`));
    expect(t.names).toHaveLength(75);
    expect(t.names).not.toContain('CWR Flag Count');
    expect(t.tables[0].format).toBe('Python cicflowmeter');
    expect(value(t, 0, 'Flow Duration')).toBe(6);
    expect(value(t, 0, 'Total Fwd Packet')).toBe(7);
    expect(t.warnings).toEqual([]);
    expect([t.srcIp[0], t.dstIp[0], t.srcPort[0], t.dstPort[0], t.protocol[0]]).toEqual(['10.0.0.1', '10.0.0.2', 2, 3, 4]);
    expect(t.firstSeenUs[0]).toBe(Date.UTC(2020, 0, 2, 3, 4, 5) * 1000);
  });

  it('has one alias row per CICFlowMeter feature, each naming a registry feature, with no name claimed twice', () => {
    expect(FEATURE_ALIAS_ROWS.map((r) => r[0])).toEqual(CIC_FEATURE_ORDER);
    const set = createFeatureSet();
    expect(() => columnResolver(set.features.map((f) => f.name), set.textColumns.map((c) => c.name))).not.toThrow();
    expect(() => columnResolver(['Flow Duration', 'Total Fwd Packet'], []) ).not.toThrow();
  });

  it('reads raw CICFlowMeter-V3 output, Fwd Header Length twice, without a warning', async () => {
    const h = ['Flow Duration', 'Fwd Header Length', 'Fwd Header Length', 'Label'];
    const t = await readFlowTable(file('v3.csv', `${h.join(',')}\n1,20,21,BENIGN\n`));
    expect([...t.names]).toEqual(['Flow Duration', 'Fwd Header Length']);
    expect(value(t, 0, 'Fwd Header Length')).toBe(20);
    expect(t.warnings).toEqual([]);
  });

  it('reports unknown and duplicate columns once, not per row', async () => {
    const h = ['Flow Duration', 'Mystery', 'Total Fwd Packets', 'Total Fwd Packet', 'Extra 2', 'Label'];
    const rows = Array.from({ length: 50 }, (_, i) => [i, 'x', i + 1, i + 2, 'y', 'BENIGN'].join(','));
    const t = await readFlowTable(file('dups.csv', [h.join(','), ...rows].join('\n')));
    expect([...t.names]).toEqual(['Flow Duration', 'Total Fwd Packet']);
    expect(value(t, 3, 'Total Fwd Packet')).toBe(4); // the first of the two columns
    expect(t.warnings).toEqual([
      `${join(tmp, 'dups.csv')}: 2 unknown column(s) skipped: 'Mystery', 'Extra 2'`,
      `${join(tmp, 'dups.csv')}: duplicate column(s) skipped, the first one read: 'Total Fwd Packet' (same feature as 'Total Fwd Packets')`,
    ]);
  });
});

describeShared('CICFlowMeter 4\'s header (reference/cicflowmeter4-columns.txt)', () => {
  it('is all registry features, identifiers and Label: nothing unknown', async () => {
    const cols = readFileSync(join(sharedPath(), '..', 'reference', 'cicflowmeter4-columns.txt'), 'utf8').trim().split('\n');
    const row = cols.map((c, i) => (c === 'Src IP' || c === 'Dst IP' ? '10.1.1.1' : c === 'Flow ID' ? 'x' : c === 'Timestamp' ? '03/07/2017 01:08:11 PM' : c === 'Label' ? 'NeedManualLabel' : String(i)));
    const t = await readFlowTable(file('cfm4.csv', `${cols.join(',')}\n${row.join(',')}\n`));
    expect([...t.names]).toEqual(CIC_FEATURE_ORDER);
    expect(t.tables[0].format).toBe('CICFlowMeter 4 / flowsift');
    expect(t.warnings).toEqual([]);
    expect(t.firstSeenUs[0]).toBe(Date.UTC(2017, 6, 3, 13, 8, 11) * 1000);
    expect(value(t, 0, 'Idle Min')).toBe(cols.indexOf('Idle Min'));
  });
});

describe('flowsift\'s own extract CSV read back', () => {
  const names = createFeatureSet().features.map((f) => f.name);
  const textNames = createFeatureSet().textColumns.map((c) => c.name);
  const mem = new FlowRecords(names);
  const csv = { flowsift: join(tmp, 'extract.csv'), nfstream: join(tmp, 'extract-nfstream.csv') };
  beforeAll(async () => {
    const labeller = RuleLabeller.fromFile(join(REPO, 'datasets/lab-excerpt/labels.csv'));
    const sinks = { flowsift: OutputSink.open(csv.flowsift), nfstream: OutputSink.open(csv.nfstream) };
    const writers = {
      flowsift: new FlowCsvWriter(sinks.flowsift, names, textNames, true, csvLayout('flowsift', names)),
      nfstream: new FlowCsvWriter(sinks.nfstream, names, textNames, true, csvLayout('nfstream', names)),
    };
    await extractCapture(join(REPO, 'datasets/lab-excerpt/capture.pcap'), (f) => {
      const l = labeller.labelOf(f);
      writers.flowsift.write(f, l);
      writers.nfstream.write(f, l);
      mem.add(f, l, 0);
    });
    sinks.flowsift.close();
    sinks.nfstream.close();
  });

  it('gives the in-memory features, labels and identifiers back exactly (flowsift profile)', async () => {
    const t = await readFlowTable(csv.flowsift, { requireLabels: true });
    expect(t.rows).toBe(mem.rows);
    expect(t.rows).toBeGreaterThan(1000);
    expect([...t.names]).toEqual(CIC_FEATURE_ORDER);
    expect(t.data.subarray(0, t.rows * t.names.length)).toEqual(mem.select(t.names));
    expect(t.labels).toEqual(mem.labels);
    expect(new Set(t.labels).size).toBeGreaterThan(2);
    expect(t.srcIp).toEqual(mem.srcIp);
    expect(t.dstIp).toEqual(mem.dstIp);
    expect(t.srcPort.subarray(0, t.rows)).toEqual(mem.srcPort.subarray(0, mem.rows));
    expect(t.dstPort.subarray(0, t.rows)).toEqual(mem.dstPort.subarray(0, mem.rows));
    expect(t.protocol.subarray(0, t.rows)).toEqual(mem.protocol.subarray(0, mem.rows));
    expect(t.firstSeenUs.subarray(0, t.rows)).toEqual(mem.firstSeenUs.subarray(0, mem.rows));
    expect(t.warnings).toEqual([]); // text columns (service, conn_state, …) are flowsift's: not unknown
    expect(t.tables[0].format).toBe('CICFlowMeter 4 / flowsift');
  });

  it('reads the nfstream profile too (nfstream identifiers; start time from bidirectional_first_seen_ms)', async () => {
    const t = await readFlowTable(csv.nfstream);
    expect(t.rows).toBe(mem.rows);
    expect(t.names).toContain('bidirectional_packets');
    expect(t.names.length).toBeGreaterThan(CIC_FEATURE_ORDER.length);
    expect(t.data.subarray(0, t.rows * t.names.length)).toEqual(mem.select(t.names));
    expect(t.labels).toEqual(mem.labels);
    expect(t.srcIp).toEqual(mem.srcIp);
    expect(t.warnings).toEqual([]);
    for (let i = 0; i < t.rows; i++) expect(t.firstSeenUs[i]).toBe(Math.floor(mem.firstSeenUs[i] / 1000) * 1000);
  });

  it('reads a model\'s feature columns in the model\'s order, and several tables into one record set', async () => {
    const want = ['Flow IAT Max', 'Flow Duration', 'Total Fwd Packet'];
    const t = await readFlowTables([csv.flowsift, csv.nfstream], { features: want });
    expect([...t.names]).toEqual(want);
    expect(t.rows).toBe(2 * mem.rows);
    expect(t.sources).toEqual([csv.flowsift, csv.nfstream]);
    expect(t.source[0]).toBe(0);
    expect(t.source[t.rows - 1]).toBe(1);
    const m = mem.select(want);
    expect(t.data.subarray(0, m.length)).toEqual(m);
    expect(t.data.subarray(m.length, 2 * m.length)).toEqual(m);
  });

  it('reads a gzip-compressed table', async () => {
    const gz = file('extract.csv.gz', gzipSync(readFileSync(csv.flowsift)));
    const t = await readFlowTable(gz, { features: ['Flow Duration'] });
    expect(t.rows).toBe(mem.rows);
    expect(t.data.subarray(0, t.rows)).toEqual(mem.select(['Flow Duration']));
  });
});

describeShared('the shared CIC-IDS2017 sample (cic-ids2017-sample/cicflowmeter-flows.csv)', () => {
  let t: FlowTableRecords;
  beforeAll(async () => {
    t = await readFlowTable(sharedPath('cic-ids2017-sample', 'cicflowmeter-flows.csv'), { requireLabels: true, utcOffsetMinutes: -180 });
  });

  it('reads its 5,020 rows with the 76 features, labels and one warning', () => {
    expect(t.rows).toBe(5020);
    expect([...t.names]).toEqual(CIC_FEATURE_ORDER);
    const counts: Record<string, number> = {};
    for (const l of t.labels) counts[l] = (counts[l] ?? 0) + 1;
    expect(counts).toEqual({ BENIGN: 4518, ANOMALY: 418, BOT: 84 });
    expect(t.tables[0].unknownColumns).toEqual([]);
    expect(t.tables[0].nonFinite).toEqual({ 'Flow Bytes/s': 16, 'Flow Packets/s': 16 });
    expect(t.warnings).toEqual([
      `${sharedPath('cic-ids2017-sample', 'cicflowmeter-flows.csv')}: 32 Infinity/NaN/empty feature cell(s) read as 0: Flow Bytes/s 16, Flow Packets/s 16`,
    ]);
  });

  it('reads the first row exactly, and Infinity rates where the duration is 0', () => {
    expect([t.srcIp[0], t.srcPort[0], t.dstIp[0], t.dstPort[0], t.protocol[0]]).toEqual(['192.168.10.5', 49160, '192.168.10.3', 88, 6]);
    expect(new Date(t.firstSeenUs[0] / 1000).toISOString()).toBe('2017-07-03T12:08:11.000Z');
    expect(value(t, 0, 'Flow Duration')).toBe(650);
    expect(value(t, 0, 'Total Fwd Packet')).toBe(7);
    expect(value(t, 0, 'Total Bwd packets')).toBe(4);
    expect(value(t, 0, 'Flow Bytes/s')).toBe(1381538.4615384615);
    expect(value(t, 0, 'FWD Init Win Bytes')).toBe(8192);
    expect(value(t, 0, 'Bwd Init Win Bytes')).toBe(2053);
    expect(value(t, 0, 'Fwd Seg Size Min')).toBe(20);
    expect(t.labels[0]).toBe('BOT');
    // line 105 of the file: Flow Duration 0, Flow Bytes/s and Flow Packets/s Infinity
    expect(value(t, 103, 'Flow Duration')).toBe(0);
    expect(value(t, 103, 'Flow Bytes/s')).toBe(0);
    expect(value(t, 103, 'Flow Packets/s')).toBe(0);
  });

  it('has times in µs like flowsift: Flow Duration of the flows also in monday-excerpt.pcap agrees', async () => {
    // The excerpt holds only 192.168.10.5's packets (each 2–4 times, as mirrored): counts and lengths differ,
    // durations and inter-arrival totals do not.
    const mem = new FlowRecords(createFeatureSet().features.map((f) => f.name));
    await extractCapture(sharedPath('cic-ids2017-sample', 'monday-excerpt.pcap'), (f) => mem.add(f, '', 0));
    const byKey = new Map<string, number[]>();
    for (let j = 0; j < mem.rows; j++) {
      const k = `${mem.srcIp[j]} ${mem.srcPort[j]} ${mem.dstIp[j]} ${mem.dstPort[j]} ${mem.protocol[j]}`;
      byKey.set(k, [...(byKey.get(k) ?? []), j]);
    }
    const ratios: number[] = [];
    for (let i = 0; i < t.rows; i++) {
      const k = `${t.srcIp[i]} ${t.srcPort[i]} ${t.dstIp[i]} ${t.dstPort[i]} ${t.protocol[i]}`;
      for (const j of byKey.get(k) ?? []) {
        if (Math.abs(mem.firstSeenUs[j] - t.firstSeenUs[i]) > 1.5e6) continue; // CIC's timestamps have 1 s resolution
        const a = value(t, i, 'Flow Duration'), b = value(mem, j, 'Flow Duration');
        if (a > 0 && b > 0) ratios.push(a / b);
      }
    }
    ratios.sort((a, b) => a - b);
    expect(ratios.length).toBeGreaterThan(150);
    const median = ratios[ratios.length >> 1];
    expect(median).toBeGreaterThan(0.95);
    expect(median).toBeLessThan(1.05);
  });
});

describe('flow table errors: one line each, naming the file (and line, column)', () => {
  const expectError = async (p: Promise<unknown>, message: string): Promise<TableError> => {
    const e = await p.then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(TableError);
    expect((e as TableError).name).toBe('TableError');
    expect((e as TableError).message).toBe(message);
    expect((e as TableError).message).not.toContain('\n');
    return e as TableError;
  };
  const good = 'Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,Label\n';
  const row = (d: string, lab = 'BENIGN'): string => `a,10.0.0.1,1,10.0.0.2,2,6,2026-11-22T03:05:53.000001Z,${d},3,${lab}\n`;

  it('missing file', async () => {
    await expectError(readFlowTable(join(tmp, 'nope.csv')), `${join(tmp, 'nope.csv')}: flow table not found`);
  });
  it('a directory', async () => {
    mkdirSync(join(tmp, 'dir.csv'), { recursive: true });
    await expectError(readFlowTable(join(tmp, 'dir.csv')), `${join(tmp, 'dir.csv')}: is a directory, not a flow table`);
  });
  it('empty file, and one with only a byte-order mark and blank lines', async () => {
    await expectError(readFlowTable(file('empty.csv', '')), `${join(tmp, 'empty.csv')}: empty flow table: no header, no rows`);
    await expectError(readFlowTable(file('blank.csv', '\uFEFF\n\n')), `${join(tmp, 'blank.csv')}: empty flow table: no header, no rows`);
  });
  it('no header (values on the first line)', async () => {
    await expectError(readFlowTable(file('nohdr.csv', '1,2,3,4.5\n5,6,7,8\n')),
      `${join(tmp, 'nohdr.csv')}:1: no header: the first line holds values, not column names (flowsift and CICFlowMeter tables start with a header)`);
  });
  it('a header without any flow column', async () => {
    await expectError(readFlowTable(file('other.csv', 'name,age\nbob,3\n')),
      `${join(tmp, 'other.csv')}:1: no flow feature column: the header names 'name', 'age'; expected flowsift's or CICFlowMeter's column names (docs/features.md)`);
  });
  it('no Label column when labels are required', async () => {
    const p = file('nolabel.csv', 'Flow Duration,Total Fwd Packet\n1,2\n');
    await expectError(readFlowTable(p, { requireLabels: true }), `${p}:1: no Label column: labels are required (train, evaluate)`);
    expect((await readFlowTable(p)).labels).toEqual(['']);
  });
  it('an empty label when labels are required', async () => {
    const p = file('emptylabel.csv', good + row('5') + row('6', ''));
    await expectError(readFlowTable(p, { requireLabels: true }), `${p}:3: empty label: labels are required (train, evaluate)`);
  });
  it('a non-numeric feature cell: line, column and value', async () => {
    const p = file('nan.csv', good + row('5') + row('5') + row('12ms'));
    const e = await expectError(readFlowTable(p), `${p}:4: column 'Flow Duration', field 8: not a number: '12ms'`);
    expect(e.line).toBe(4);
    expect(e.column).toBe('Flow Duration');
    const q = file('nan2017.csv', ' Flow Duration, Total Fwd Packets\n1,x\n');
    await expectError(readFlowTable(q), `${q}:2: column 'Total Fwd Packets' (Total Fwd Packet), field 2: not a number: 'x'`);
  });
  it('cells and names in messages: control characters escaped, at most 40 characters (a binary file cannot drive the terminal)', async () => {
    const p = file('esc.csv', good + row('5') + row('1\x1b[31mred'));
    await expectError(readFlowTable(p), `${p}:3: column 'Flow Duration', field 8: not a number: '1\\x1b[31mred'`);
    // 300 bytes of every value but line breaks, quotes and commas, as the first column's name.
    const bin = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) % 256).map((b) => ([10, 13, 34, 44].includes(b) ? 45 : b)));
    const q = file('binary.csv', Buffer.concat([bin, Buffer.from(',x\n1,2\n')]));
    const e = await readFlowTable(q).then(() => null, (x: unknown) => x as TableError);
    expect(e).toBeInstanceOf(TableError);
    expect(e!.message).toMatch(/^.*binary\.csv:1: no flow feature column: the header names '[^']{1,200}…', 'x'; expected/);
    expect(e!.message).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    // Warnings too: an unknown column, a time not understood, a rewritten label.
    const w = file('warn.csv', `Flow Duration,Timestamp,Evil\x1b[31m,Label\n1,soon\x07,x,Web Attack \u0096 XSS\n`);
    const r = await readFlowTable(w);
    expect(r.warnings.join('\n')).toContain("unknown column(s) skipped: 'Evil\\x1b[31m'");
    expect(r.warnings.join('\n')).toContain("(first 'soon\\x07' on line 2)");
    expect(r.warnings.join('\n')).toContain("'Web Attack \\x96 XSS' → 'Web Attack - XSS' (1 rows)");
    expect(r.warnings.join('')).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });
  it('a row with a wrong number of fields', async () => {
    const p = file('short.csv', `${good}${row('5')}a,10.0.0.1,1\n`);
    await expectError(readFlowTable(p), `${p}:3: expected 10 fields as in the header, found 3`);
  });
  it('invalid CSV (a quote never closed)', async () => {
    const p = file('quote.csv', `${good}${row('5')}"a,10.0.0.1\n`);
    const e = await readFlowTable(p).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(TableError);
    expect((e as Error).message).toMatch(/: not valid CSV: .*quote/i);
    expect((e as Error).message.startsWith(`${p}:`)).toBe(true);
  });
  it('a table that lacks feature columns a model needs: all of them listed', async () => {
    const p = file('few.csv', good + row('5'));
    await expectError(readFlowTable(p, { features: ['Flow Duration', 'Flow IAT Max', 'Total Fwd Packet', 'Idle Min'] }),
      `${p}:1: lacks 2 of the 4 feature column(s) needed: Flow IAT Max, Idle Min`);
    const q = file('few2.csv', 'Flow Duration,Label\n1,BENIGN\n');
    await expectError(readFlowTables([p, q]), `${q}:1: lacks 1 of the 2 feature column(s) needed: Total Fwd Packet`);
  });
});

describe('flow table helpers', () => {
  it('isFlowTable: .csv / .csv.gz by name, otherwise text with commas that is no capture', () => {
    expect(isFlowTable('x.csv')).toBe(true);
    expect(isFlowTable('X.CSV.GZ')).toBe(true);
    expect(isFlowTable('-')).toBe(false);
    expect(isFlowTable(join(REPO, 'datasets/lab-excerpt/capture.pcap'))).toBe(false);
    expect(isFlowTable(file('flows.txt', 'Flow Duration,Label\n1,BENIGN\n'))).toBe(true);
    expect(isFlowTable(file('notes.txt', 'hello world\n'))).toBe(false);
    expect(isFlowTable(file('capture.bin', Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 44, 44, 44, 44])))).toBe(false);
    expect(isFlowTable(join(tmp, 'missing-file'))).toBe(false);
  });

  it("a table's start times are parseTableTimestamp's, row by row, whatever the form (the per-second cache of the ISO form included)", async () => {
    const times = [
      '2026-11-22T03:05:53.000001Z', '2026-11-22T03:05:53.999999Z', '2026-11-22T03:05:53.123456Z', // one second, cached
      '2026-11-22T03:05:54.000000Z', '2026-11-22T03:05:53.500000Z', // the next second, then back
      '2026-02-30T00:00:00.000001Z', '2026-02-30T00:00:00.000002Z', // an impossible date: NaN both times
      '2026-11-22T03:05:53.00000aZ', '2026-11-22T03:05:53.-00001Z', '2026-11-22 03:05:53.123456Z', // not the fast form
      '2026-11-22T03:05:53.123456z', '2026-11-22T03:05:53.1234567Z', '2026-11-22T03:05:53Z', '22/11/2026 03:05:53 AM',
      '1795315467.5', '', '2026-11-22T03:05:53.654321Z', '1969-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z',
    ];
    const lines = times.map((t, i) => `a,10.0.0.1,1,10.0.0.2,2,6,${t},${i},3,BENIGN`);
    const p = file('times.csv', `Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,Label\n${lines.join('\n')}\n`);
    for (const offset of [0, -180]) {
      const r = await readFlowTable(p, { utcOffsetMinutes: offset });
      expect(Array.from(r.firstSeenUs.subarray(0, times.length))).toEqual(times.map((t) => parseTableTimestamp(t, offset)));
    }
    expect(parseTableTimestamp(times[1]!) - parseTableTimestamp(times[0]!)).toBe(999998);
  });

  it("groupDigits writes counts as toLocaleString('en-US') does", () => {
    for (const n of [0, 7, 999, 1000, 25958, 100000, 999999, 1000000, 1234567890, 2 ** 53 - 1]) expect(groupDigits(n)).toBe(n.toLocaleString('en-US'));
  });

  it('parseTableTimestamp: flowsift ISO, CIC day-first with and without seconds and AM/PM, epoch numbers', () => {
    const utc = (...a: [number, number, number, number, number, number]): number => Date.UTC(...a) * 1000;
    expect(parseTableTimestamp('2026-11-22T03:05:53.123456Z')).toBe(utc(2026, 10, 22, 3, 5, 53) + 123456);
    expect(parseTableTimestamp('2017-07-03 09:08:11', -180)).toBe(utc(2017, 6, 3, 12, 8, 11));
    expect(parseTableTimestamp('2017-07-03T09:08:11-03:00')).toBe(utc(2017, 6, 3, 12, 8, 11));
    expect(parseTableTimestamp('03/07/2017 09:08:11')).toBe(utc(2017, 6, 3, 9, 8, 11));
    expect(parseTableTimestamp('3/7/2017 8:55', -180)).toBe(utc(2017, 6, 3, 11, 55, 0));
    expect(parseTableTimestamp('03/07/2017 01:08:11 PM')).toBe(utc(2017, 6, 3, 13, 8, 11));
    expect(parseTableTimestamp('03/07/2017 12:08:11 AM')).toBe(utc(2017, 6, 3, 0, 8, 11));
    expect(parseTableTimestamp('1499083691.205575')).toBe(1499083691205575);
    expect(parseTableTimestamp('1499083691205')).toBe(1499083691205000);
    expect(parseTableTimestamp('31/06/2017 09:00:00')).toBeNaN();
    expect(parseTableTimestamp('yesterday')).toBeNaN();
  });

  it('normalizeLabel: trims, repairs the Windows-1252 en dash, BENIGN in any case', () => {
    expect(normalizeLabel(' DoS Hulk ')).toBe('DoS Hulk');
    expect(normalizeLabel('Web Attack \uFFFD Brute Force')).toBe('Web Attack - Brute Force');
    expect(normalizeLabel('Web Attack \u0096 XSS')).toBe('Web Attack - XSS');
    expect(normalizeLabel('Web Attack \u00e2\u20ac\u201c Sql Injection')).toBe('Web Attack - Sql Injection');
    expect(normalizeLabel('Web Attack \u2013 Brute Force')).toBe('Web Attack - Brute Force');
    expect(normalizeLabel('Benign')).toBe('BENIGN');
    expect(normalizeLabel('FTP-Patator')).toBe('FTP-Patator');
  });

  it('warns once about timestamps and identifiers it does not understand', async () => {
    const p = file('ids.csv', 'Src Port,Protocol,Timestamp,Flow Duration\n70000,TCP,soon,1\n5,udp,later,2\n');
    const t = await readFlowTable(p);
    expect(Array.from(t.protocol.subarray(0, 2))).toEqual([6, 17]);
    expect(Array.from(t.srcPort.subarray(0, 2))).toEqual([0, 5]);
    expect(t.warnings).toEqual([
      `${p}: 2 Timestamp value(s) not understood (first 'soon' on line 2); their start time is unknown`,
      `${p}: identifier value(s) not understood, read as 0: Src Port 1`,
    ]);
  });
});

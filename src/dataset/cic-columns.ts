/**
 * Column names of flow tables written by other tools, mapped onto flowsift's: the registry's feature names
 * (src/features/registry.ts, which are CICFlowMeter 4's), the identifier columns and `Label`.
 *
 * Sources of the names, one column of {@link FEATURE_ALIAS_ROWS} each:
 * - `cicflowmeter4`: the CSV header of CICFlowMeter 4 (enum `FlowFeature` in
 *   src/main/java/cic/cs/unb/ca/jnetpcap/FlowFeature.java of github.com/ahlashkari/CICFlowMeter, copied in
 *   ../shared/reference/cicflowmeter4-columns.txt). flowsift's registry uses exactly these names, so they need no
 *   alias; flowsift's own `extract` CSV has this header too (plus text columns).
 * - `cic-ids2017`: the CSVs published with CIC-IDS2017 (www.unb.ca/cic/datasets/ids-2017.html:
 *   `MachineLearningCSV/MachineLearningCVE/*.pcap_ISCX.csv` and `GeneratedLabelledFlows/TrafficLabelling/*.csv`),
 *   written by CICFlowMeter-V3: `Total Fwd Packets`, `Total Backward Packets`, `Min Packet Length`,
 *   `Avg Fwd Segment Size`, `Fwd Avg Bytes/Bulk`, `Init_Win_bytes_forward`, `act_data_pkt_fwd`,
 *   `min_seg_size_forward`, `CWE Flag Count` (sic, the CWR count), `Source IP`, `Destination Port`, … with a
 *   leading space in most names, and `Fwd Header Length` written twice (pandas renames the second one
 *   `Fwd Header Length.1`; FlowFeature.java notes "62 is duplicated with 41, so has been deleted"). The copy in
 *   ../shared/datasets/cic-ids2017-sample/cicflowmeter-flows.csv has this header.
 * - `cse-cic-ids2018`: the CSVs of CSE-CIC-IDS2018 (registry.opendata.aws/cse-cic-ids2018, "Processed Traffic
 *   Data for ML Algorithms", e.g. `Wednesday-14-02-2018_TrafficForML_CICFlowMeter.csv`), abbreviated by the
 *   CICFlowMeter build used there: `Tot Fwd Pkts`, `TotLen Fwd Pkts`, `Fwd Pkt Len Max`, `Flow Byts/s`,
 *   `Pkt Len Var`, `FIN Flag Cnt`, `Init Fwd Win Byts`, `Dst Port`, … and again `CWE Flag Count`.
 * - `python-cicflowmeter`: the Python `cicflowmeter` package (github.com/hieulw/cicflowmeter,
 *   src/cicflowmeter/flow.py `Flow.get_data`): the 2018 abbreviations in snake_case (`tot_fwd_pkts`,
 *   `flow_byts_s`, …). Its `cwe_flag_count` is a copy of `fwd_urg_flags`, not a CWR count, so it is ignored.
 *
 * Values keep their meaning across these tools (times in µs, lengths in bytes, rates per second); where
 * CICFlowMeter's computation differs from flowsift's (its bugs), docs/features.md says how.
 *
 * Names are matched after trimming (spaces, byte-order mark), case-insensitively, with runs of white space read as
 * one space; `_` and `-` are kept, so `cwe_flag_count` and `CWE Flag Count` stay apart.
 */
import { END_REASON_COLUMN, IDENTIFIER_COLUMNS } from '../features/registry.js';

/** Tools whose column names are known. */
export type ColumnSource = 'cicflowmeter4' | 'cic-ids2017' | 'cse-cic-ids2018' | 'python-cicflowmeter' | 'nfstream' | 'pandas';

/** Human names of the {@link ColumnSource}s (for summaries). */
export const COLUMN_SOURCE_NAMES: Readonly<Record<ColumnSource, string>> = {
  cicflowmeter4: 'CICFlowMeter 4 / flowsift',
  'cic-ids2017': 'CIC-IDS2017 (CICFlowMeter-V3)',
  'cse-cic-ids2018': 'CSE-CIC-IDS2018',
  'python-cicflowmeter': 'Python cicflowmeter',
  nfstream: 'nfstream',
  pandas: 'pandas',
};

/**
 * One row per CICFlowMeter feature: the registry name (= CICFlowMeter 4's), then its name in CIC-IDS2017, in
 * CSE-CIC-IDS2018 and in the Python cicflowmeter (null where that tool has no such column). In CICFlowMeter 4's
 * column order.
 */
export const FEATURE_ALIAS_ROWS: readonly (readonly [registry: string, cicIds2017: string, cseCicIds2018: string, pythonCicflowmeter: string | null])[] = [
  ['Flow Duration', 'Flow Duration', 'Flow Duration', 'flow_duration'],
  ['Total Fwd Packet', 'Total Fwd Packets', 'Tot Fwd Pkts', 'tot_fwd_pkts'],
  ['Total Bwd packets', 'Total Backward Packets', 'Tot Bwd Pkts', 'tot_bwd_pkts'],
  ['Total Length of Fwd Packet', 'Total Length of Fwd Packets', 'TotLen Fwd Pkts', 'totlen_fwd_pkts'],
  ['Total Length of Bwd Packet', 'Total Length of Bwd Packets', 'TotLen Bwd Pkts', 'totlen_bwd_pkts'],
  ['Fwd Packet Length Max', 'Fwd Packet Length Max', 'Fwd Pkt Len Max', 'fwd_pkt_len_max'],
  ['Fwd Packet Length Min', 'Fwd Packet Length Min', 'Fwd Pkt Len Min', 'fwd_pkt_len_min'],
  ['Fwd Packet Length Mean', 'Fwd Packet Length Mean', 'Fwd Pkt Len Mean', 'fwd_pkt_len_mean'],
  ['Fwd Packet Length Std', 'Fwd Packet Length Std', 'Fwd Pkt Len Std', 'fwd_pkt_len_std'],
  ['Bwd Packet Length Max', 'Bwd Packet Length Max', 'Bwd Pkt Len Max', 'bwd_pkt_len_max'],
  ['Bwd Packet Length Min', 'Bwd Packet Length Min', 'Bwd Pkt Len Min', 'bwd_pkt_len_min'],
  ['Bwd Packet Length Mean', 'Bwd Packet Length Mean', 'Bwd Pkt Len Mean', 'bwd_pkt_len_mean'],
  ['Bwd Packet Length Std', 'Bwd Packet Length Std', 'Bwd Pkt Len Std', 'bwd_pkt_len_std'],
  ['Flow Bytes/s', 'Flow Bytes/s', 'Flow Byts/s', 'flow_byts_s'],
  ['Flow Packets/s', 'Flow Packets/s', 'Flow Pkts/s', 'flow_pkts_s'],
  ['Flow IAT Mean', 'Flow IAT Mean', 'Flow IAT Mean', 'flow_iat_mean'],
  ['Flow IAT Std', 'Flow IAT Std', 'Flow IAT Std', 'flow_iat_std'],
  ['Flow IAT Max', 'Flow IAT Max', 'Flow IAT Max', 'flow_iat_max'],
  ['Flow IAT Min', 'Flow IAT Min', 'Flow IAT Min', 'flow_iat_min'],
  ['Fwd IAT Total', 'Fwd IAT Total', 'Fwd IAT Tot', 'fwd_iat_tot'],
  ['Fwd IAT Mean', 'Fwd IAT Mean', 'Fwd IAT Mean', 'fwd_iat_mean'],
  ['Fwd IAT Std', 'Fwd IAT Std', 'Fwd IAT Std', 'fwd_iat_std'],
  ['Fwd IAT Max', 'Fwd IAT Max', 'Fwd IAT Max', 'fwd_iat_max'],
  ['Fwd IAT Min', 'Fwd IAT Min', 'Fwd IAT Min', 'fwd_iat_min'],
  ['Bwd IAT Total', 'Bwd IAT Total', 'Bwd IAT Tot', 'bwd_iat_tot'],
  ['Bwd IAT Mean', 'Bwd IAT Mean', 'Bwd IAT Mean', 'bwd_iat_mean'],
  ['Bwd IAT Std', 'Bwd IAT Std', 'Bwd IAT Std', 'bwd_iat_std'],
  ['Bwd IAT Max', 'Bwd IAT Max', 'Bwd IAT Max', 'bwd_iat_max'],
  ['Bwd IAT Min', 'Bwd IAT Min', 'Bwd IAT Min', 'bwd_iat_min'],
  ['Fwd PSH Flags', 'Fwd PSH Flags', 'Fwd PSH Flags', 'fwd_psh_flags'],
  ['Bwd PSH Flags', 'Bwd PSH Flags', 'Bwd PSH Flags', 'bwd_psh_flags'],
  ['Fwd URG Flags', 'Fwd URG Flags', 'Fwd URG Flags', 'fwd_urg_flags'],
  ['Bwd URG Flags', 'Bwd URG Flags', 'Bwd URG Flags', 'bwd_urg_flags'],
  ['Fwd Header Length', 'Fwd Header Length', 'Fwd Header Len', 'fwd_header_len'],
  ['Bwd Header Length', 'Bwd Header Length', 'Bwd Header Len', 'bwd_header_len'],
  ['Fwd Packets/s', 'Fwd Packets/s', 'Fwd Pkts/s', 'fwd_pkts_s'],
  ['Bwd Packets/s', 'Bwd Packets/s', 'Bwd Pkts/s', 'bwd_pkts_s'],
  ['Packet Length Min', 'Min Packet Length', 'Pkt Len Min', 'pkt_len_min'],
  ['Packet Length Max', 'Max Packet Length', 'Pkt Len Max', 'pkt_len_max'],
  ['Packet Length Mean', 'Packet Length Mean', 'Pkt Len Mean', 'pkt_len_mean'],
  ['Packet Length Std', 'Packet Length Std', 'Pkt Len Std', 'pkt_len_std'],
  ['Packet Length Variance', 'Packet Length Variance', 'Pkt Len Var', 'pkt_len_var'],
  ['FIN Flag Count', 'FIN Flag Count', 'FIN Flag Cnt', 'fin_flag_cnt'],
  ['SYN Flag Count', 'SYN Flag Count', 'SYN Flag Cnt', 'syn_flag_cnt'],
  ['RST Flag Count', 'RST Flag Count', 'RST Flag Cnt', 'rst_flag_cnt'],
  ['PSH Flag Count', 'PSH Flag Count', 'PSH Flag Cnt', 'psh_flag_cnt'],
  ['ACK Flag Count', 'ACK Flag Count', 'ACK Flag Cnt', 'ack_flag_cnt'],
  ['URG Flag Count', 'URG Flag Count', 'URG Flag Cnt', 'urg_flag_cnt'],
  ['CWR Flag Count', 'CWE Flag Count', 'CWE Flag Count', null],
  ['ECE Flag Count', 'ECE Flag Count', 'ECE Flag Cnt', 'ece_flag_cnt'],
  ['Down/Up Ratio', 'Down/Up Ratio', 'Down/Up Ratio', 'down_up_ratio'],
  ['Average Packet Size', 'Average Packet Size', 'Pkt Size Avg', 'pkt_size_avg'],
  ['Fwd Segment Size Avg', 'Avg Fwd Segment Size', 'Fwd Seg Size Avg', 'fwd_seg_size_avg'],
  ['Bwd Segment Size Avg', 'Avg Bwd Segment Size', 'Bwd Seg Size Avg', 'bwd_seg_size_avg'],
  ['Fwd Bytes/Bulk Avg', 'Fwd Avg Bytes/Bulk', 'Fwd Byts/b Avg', 'fwd_byts_b_avg'],
  ['Fwd Packet/Bulk Avg', 'Fwd Avg Packets/Bulk', 'Fwd Pkts/b Avg', 'fwd_pkts_b_avg'],
  ['Fwd Bulk Rate Avg', 'Fwd Avg Bulk Rate', 'Fwd Blk Rate Avg', 'fwd_blk_rate_avg'],
  ['Bwd Bytes/Bulk Avg', 'Bwd Avg Bytes/Bulk', 'Bwd Byts/b Avg', 'bwd_byts_b_avg'],
  ['Bwd Packet/Bulk Avg', 'Bwd Avg Packets/Bulk', 'Bwd Pkts/b Avg', 'bwd_pkts_b_avg'],
  ['Bwd Bulk Rate Avg', 'Bwd Avg Bulk Rate', 'Bwd Blk Rate Avg', 'bwd_blk_rate_avg'],
  ['Subflow Fwd Packets', 'Subflow Fwd Packets', 'Subflow Fwd Pkts', 'subflow_fwd_pkts'],
  ['Subflow Fwd Bytes', 'Subflow Fwd Bytes', 'Subflow Fwd Byts', 'subflow_fwd_byts'],
  ['Subflow Bwd Packets', 'Subflow Bwd Packets', 'Subflow Bwd Pkts', 'subflow_bwd_pkts'],
  ['Subflow Bwd Bytes', 'Subflow Bwd Bytes', 'Subflow Bwd Byts', 'subflow_bwd_byts'],
  ['FWD Init Win Bytes', 'Init_Win_bytes_forward', 'Init Fwd Win Byts', 'init_fwd_win_byts'],
  ['Bwd Init Win Bytes', 'Init_Win_bytes_backward', 'Init Bwd Win Byts', 'init_bwd_win_byts'],
  ['Fwd Act Data Pkts', 'act_data_pkt_fwd', 'Fwd Act Data Pkts', 'fwd_act_data_pkts'],
  ['Fwd Seg Size Min', 'min_seg_size_forward', 'Fwd Seg Size Min', 'fwd_seg_size_min'],
  ['Active Mean', 'Active Mean', 'Active Mean', 'active_mean'],
  ['Active Std', 'Active Std', 'Active Std', 'active_std'],
  ['Active Max', 'Active Max', 'Active Max', 'active_max'],
  ['Active Min', 'Active Min', 'Active Min', 'active_min'],
  ['Idle Mean', 'Idle Mean', 'Idle Mean', 'idle_mean'],
  ['Idle Std', 'Idle Std', 'Idle Std', 'idle_std'],
  ['Idle Max', 'Idle Max', 'Idle Max', 'idle_max'],
  ['Idle Min', 'Idle Min', 'Idle Min', 'idle_min'],
];

/** The identifier columns a flow table may carry (flowsift's {@link IDENTIFIER_COLUMNS}, by key). */
export type IdentifierKey = 'flowId' | 'srcIp' | 'srcPort' | 'dstIp' | 'dstPort' | 'protocol' | 'timestamp';

/**
 * Names of each identifier column: flowsift's / CICFlowMeter 4's first (`IDENTIFIER_COLUMNS`), then CIC-IDS2017's
 * (`Source IP`, `Destination Port`, …; CSE-CIC-IDS2018 uses CICFlowMeter 4's), then the Python cicflowmeter's and
 * nfstream's snake_case names. Identifiers are never read as features.
 */
export const IDENTIFIER_ALIASES: Readonly<Record<IdentifierKey, readonly { name: string; source: ColumnSource }[]>> = {
  flowId: [{ name: IDENTIFIER_COLUMNS[0], source: 'cicflowmeter4' }],
  srcIp: [{ name: IDENTIFIER_COLUMNS[1], source: 'cicflowmeter4' }, { name: 'Source IP', source: 'cic-ids2017' }, { name: 'src_ip', source: 'python-cicflowmeter' }],
  srcPort: [{ name: IDENTIFIER_COLUMNS[2], source: 'cicflowmeter4' }, { name: 'Source Port', source: 'cic-ids2017' }, { name: 'src_port', source: 'python-cicflowmeter' }],
  dstIp: [{ name: IDENTIFIER_COLUMNS[3], source: 'cicflowmeter4' }, { name: 'Destination IP', source: 'cic-ids2017' }, { name: 'dst_ip', source: 'python-cicflowmeter' }],
  dstPort: [{ name: IDENTIFIER_COLUMNS[4], source: 'cicflowmeter4' }, { name: 'Destination Port', source: 'cic-ids2017' }, { name: 'dst_port', source: 'python-cicflowmeter' }],
  protocol: [{ name: IDENTIFIER_COLUMNS[5], source: 'cicflowmeter4' }],
  timestamp: [{ name: IDENTIFIER_COLUMNS[6], source: 'cicflowmeter4' }],
};

/**
 * Columns read as neither feature, identifier nor label, and not reported as unknown: what each one is.
 * (flowsift's text columns — service, connection state, … — are skipped the same way, from the registry.)
 */
export const IGNORED_COLUMNS: readonly { name: string; source: ColumnSource; why: string }[] = [
  { name: 'Fwd Header Length.1', source: 'cic-ids2017', why: 'CICFlowMeter-V3 writes Fwd Header Length twice; pandas renames the copy' },
  { name: 'Unnamed: 0', source: 'pandas', why: 'the row index pandas writes with DataFrame.to_csv(index=True), header read back by pandas' },
  { name: '', source: 'pandas', why: 'the row index pandas writes with DataFrame.to_csv(index=True)' },
  { name: 'cwe_flag_count', source: 'python-cicflowmeter', why: 'a copy of fwd_urg_flags in the Python cicflowmeter, not a CWR count' },
  { name: 'id', source: 'nfstream', why: 'row number (flowsift extract --profile nfstream, nfstream)' },
  { name: 'expiration_id', source: 'nfstream', why: 'why the flow ended (nfstream)' },
  { name: 'ip_version', source: 'nfstream', why: 'IP version (nfstream)' },
  { name: 'vlan_id', source: 'nfstream', why: 'VLAN id (nfstream)' },
];

/** The label column's name (every source). */
export const LABEL_COLUMN = 'Label';

/**
 * The matching key of a column name: byte-order mark and surrounding white space removed, lower case, inner runs of
 * white space as one space.
 */
export function columnKey(name: string): string {
  return name.replace(/^\uFEFF/, '').trim().replace(/\s+/g, ' ').toLowerCase();
}

/** What a column of a flow table is. */
export type ColumnRole =
  | { kind: 'feature'; feature: string; source: ColumnSource }
  | { kind: 'identifier'; key: IdentifierKey; source: ColumnSource }
  | { kind: 'label' }
  | { kind: 'ignored'; why: string; source?: ColumnSource }
  | { kind: 'unknown' };

/**
 * A resolver of column names, built for a set of registry features and text columns.
 * @param featureNames registry feature names (every one maps to itself)
 * @param textColumns registry text-column names (ignored: they are flowsift's descriptive columns)
 * @throws Error when two different features would claim one name (a programming error in the tables above)
 */
export function columnResolver(featureNames: readonly string[], textColumns: readonly string[]): (name: string) => ColumnRole {
  const roles = new Map<string, ColumnRole>();
  const put = (name: string, role: ColumnRole): void => {
    const k = columnKey(name);
    const old = roles.get(k);
    if (old && JSON.stringify(old) !== JSON.stringify(role)) {
      if (old.kind === 'feature' && role.kind === 'feature' && old.feature === role.feature) return; // same target: keep the first source
      throw new Error(`column name '${name}' is claimed twice (${JSON.stringify(old)} vs ${JSON.stringify(role)})`);
    }
    roles.set(k, role);
  };
  for (const f of featureNames) put(f, { kind: 'feature', feature: f, source: 'cicflowmeter4' });
  const known = new Set(featureNames);
  for (const [reg, a2017, a2018, py] of FEATURE_ALIAS_ROWS) {
    if (!known.has(reg)) continue;
    put(a2017, { kind: 'feature', feature: reg, source: 'cic-ids2017' });
    put(a2018, { kind: 'feature', feature: reg, source: 'cse-cic-ids2018' });
    if (py) put(py, { kind: 'feature', feature: reg, source: 'python-cicflowmeter' });
  }
  for (const [key, names] of Object.entries(IDENTIFIER_ALIASES) as [IdentifierKey, (typeof IDENTIFIER_ALIASES)[IdentifierKey]][]) {
    for (const n of names) put(n.name, { kind: 'identifier', key, source: n.source });
  }
  put(LABEL_COLUMN, { kind: 'label' });
  for (const c of IGNORED_COLUMNS) put(c.name, { kind: 'ignored', why: c.why, source: c.source });
  for (const t of textColumns) if (!roles.has(columnKey(t))) roles.set(columnKey(t), { kind: 'ignored', why: 'flowsift text column' });
  put(END_REASON_COLUMN.name, { kind: 'ignored', why: 'why the flow ended (flowsift)' });
  return (name) => roles.get(columnKey(name)) ?? { kind: 'unknown' };
}

/**
 * The feature registry: every per-flow feature flowsift computes, in CICFlowMeter 4's column order
 * (reference: cicflowmeter4-columns.txt, FlowFeature.java of ahlashkari/CICFlowMeter), each with its unit
 * and definition, and the families that compute them.
 */
import type { FeatureDef, FeatureFamily, TextColumnDef, TextFamily } from './family.js';
import { ActiveIdleFamily } from './families/active-idle.js';
import { BulkFamily } from './families/bulk.js';
import { ConnStateFamily } from './families/conn-state.js';
import { FlagFamily } from './families/flags.js';
import { IatFamily } from './families/iat.js';
import { LengthFamily } from './families/lengths.js';
import { NfstreamFamily } from './families/nfstream.js';
import { NfstreamStatsFamily } from './families/nfstream-stats.js';
import { ServiceFamily } from './families/service.js';
import { SubflowFamily } from './families/subflow.js';
import { HeaderFamily } from './families/tcp-header.js';
import { END_REASON_NAMES } from '../flow/table.js';

/** Identifier columns written before the features; never model inputs by default. */
export const IDENTIFIER_COLUMNS = ['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp'] as const;

/**
 * The column `extract` writes after the text columns (before `Label`): why the flow ended, one of
 * {@link END_REASON_NAMES}. Not a model input. Flows cut short by `--max-flows` say `evicted` here, so that a reader can
 * tell a flow exported early (its features cover only the packets seen until then; a later packet with the same
 * 5-tuple starts a new flow) from one that ended on its own.
 */
export const END_REASON_COLUMN: TextColumnDef = {
  name: 'end_reason',
  description: `Why the flow ended: ${END_REASON_NAMES.map((n) => `\`${n}\``).join(', ')}. \`idle\`: no packet for the idle `
    + 'timeout; `active`: the active timeout passed since its first packet (the next packet starts a new flow); '
    + '`tcp_end`: FIN both ways or RST, then the linger time or a new SYN; `end_of_input`: still open when the '
    + 'capture ended; `evicted`: exported early because the flow table was full (`--max-flows`: the least recently '
    + 'active flow goes first). A flow ended by a timeout or eviction that sees more packets later is reported '
    + 'again as a new flow.',
};

/** CICFlowMeter 4's 76 numeric feature columns, in its CSV order (between "Timestamp" and "Label"). */
export const CIC_FEATURE_ORDER: readonly string[] = [
  'Flow Duration', 'Total Fwd Packet', 'Total Bwd packets', 'Total Length of Fwd Packet', 'Total Length of Bwd Packet',
  'Fwd Packet Length Max', 'Fwd Packet Length Min', 'Fwd Packet Length Mean', 'Fwd Packet Length Std',
  'Bwd Packet Length Max', 'Bwd Packet Length Min', 'Bwd Packet Length Mean', 'Bwd Packet Length Std',
  'Flow Bytes/s', 'Flow Packets/s', 'Flow IAT Mean', 'Flow IAT Std', 'Flow IAT Max', 'Flow IAT Min',
  'Fwd IAT Total', 'Fwd IAT Mean', 'Fwd IAT Std', 'Fwd IAT Max', 'Fwd IAT Min',
  'Bwd IAT Total', 'Bwd IAT Mean', 'Bwd IAT Std', 'Bwd IAT Max', 'Bwd IAT Min',
  'Fwd PSH Flags', 'Bwd PSH Flags', 'Fwd URG Flags', 'Bwd URG Flags', 'Fwd Header Length', 'Bwd Header Length',
  'Fwd Packets/s', 'Bwd Packets/s', 'Packet Length Min', 'Packet Length Max', 'Packet Length Mean',
  'Packet Length Std', 'Packet Length Variance', 'FIN Flag Count', 'SYN Flag Count', 'RST Flag Count',
  'PSH Flag Count', 'ACK Flag Count', 'URG Flag Count', 'CWR Flag Count', 'ECE Flag Count', 'Down/Up Ratio',
  'Average Packet Size', 'Fwd Segment Size Avg', 'Bwd Segment Size Avg', 'Fwd Bytes/Bulk Avg',
  'Fwd Packet/Bulk Avg', 'Fwd Bulk Rate Avg', 'Bwd Bytes/Bulk Avg', 'Bwd Packet/Bulk Avg', 'Bwd Bulk Rate Avg',
  'Subflow Fwd Packets', 'Subflow Fwd Bytes', 'Subflow Bwd Packets', 'Subflow Bwd Bytes', 'FWD Init Win Bytes',
  'Bwd Init Win Bytes', 'Fwd Act Data Pkts', 'Fwd Seg Size Min', 'Active Mean', 'Active Std', 'Active Max',
  'Active Min', 'Idle Mean', 'Idle Std', 'Idle Max', 'Idle Min',
];

/** Settings of the feature families. */
export interface FeatureOptions {
  /** Gap separating active periods, µs (CICFlowMeter: 5 s). */
  activityTimeoutUs?: number;
  /** Gap that starts a new subflow and breaks a bulk, µs (CICFlowMeter: 1 s). */
  subflowGapUs?: number;
}

/** A feature set: the families and where each family's features go in the output row. */
export interface FeatureSet {
  families: FeatureFamily[];
  /** All features in output order. */
  features: FeatureDef[];
  /** For each family, the output index of each of its features. */
  positions: Int32Array[];
  /** Text-column families (service, connection state, …). */
  textFamilies: TextFamily[];
  /** All text columns in output order. */
  textColumns: TextColumnDef[];
  /** For each text family, the output index of each of its columns. */
  textPositions: Int32Array[];
}

/**
 * Builds the families and the output order: CICFlowMeter's order first, then any feature without a
 * CICFlowMeter name in family order.
 * @throws Error when two families define the same column name (a programming error).
 */
export function createFeatureSet(opts: FeatureOptions = {}): FeatureSet {
  const families: FeatureFamily[] = [
    new LengthFamily(),
    new IatFamily(),
    new FlagFamily(),
    new HeaderFamily(),
    new BulkFamily(opts.subflowGapUs ?? 1e6),
    new SubflowFamily(opts.subflowGapUs ?? 1e6),
    new ActiveIdleFamily(opts.activityTimeoutUs ?? 5e6),
    new NfstreamFamily(opts), new NfstreamStatsFamily(opts),
    // @families:numeric (add further numeric families above this line)
  ];
  const textFamilies: TextFamily[] = [
    new ConnStateFamily(),
    new ServiceFamily(),
    // @families:text (add text families above this line)
  ];
  const byName = new Map<string, FeatureDef>();
  for (const f of families) for (const d of f.features) {
    if (byName.has(d.name)) throw new Error(`feature ${d.name} defined twice`);
    byName.set(d.name, d);
  }
  const order = CIC_FEATURE_ORDER.filter((n) => byName.has(n));
  for (const f of families) for (const d of f.features) if (!CIC_FEATURE_ORDER.includes(d.name)) order.push(d.name);
  const index = new Map(order.map((n, i) => [n, i]));
  const textColumns = textFamilies.flatMap((f) => [...f.columns]);
  let k = 0;
  return {
    families,
    features: order.map((n) => byName.get(n)!),
    positions: families.map((f) => Int32Array.from(f.features, (d) => index.get(d.name)!)),
    textFamilies,
    textColumns,
    textPositions: textFamilies.map((f) => Int32Array.from(f.columns, () => k++)),
  };
}

/** Names of the default model inputs (every registry feature; identifiers excluded). */
export function defaultModelFeatures(): string[] {
  return createFeatureSet().features.filter((d) => d.modelInput !== false).map((d) => d.name);
}

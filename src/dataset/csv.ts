/**
 * The flow CSV schema written by `flowsift extract`: one row per flow, identifier columns, then the
 * registry's numeric features (CICFlowMeter names and order first), then its text columns, then `end_reason`
 * ({@link END_REASON_COLUMN}), then `Label` when labels were given. Numbers are written in JavaScript's shortest
 * round-trip form; text is quoted per RFC 4180 when it holds a comma, quote or line break.
 *
 * A {@link CsvLayout} selects the identifier columns (CICFlowMeter's, or nfstream's for the nfstream profile) and
 * which features are written in which order.
 */
import { END_REASON_COLUMN, IDENTIFIER_COLUMNS } from '../features/registry.js';
import { END_REASON_NAMES, EndReason } from '../flow/table.js';
import type { OutputSink } from './output.js';
import { CELL_ROOM } from './shortest.js';

/**
 * Identifier columns in nfstream's names and order (nfstream/flow.py `NFlow` slots; MAC/OUI columns are not
 * produced): `id` = 0-based position of the flow in the output (nfstream numbers flows in export order),
 * `expiration_id` = 0 idle timeout or end of input, 1 active timeout (nfstream's values), then the initiator and
 * responder addresses and ports, IP protocol, IP version and VLAN id. nfstream's `tunnel_id` follows as the
 * first feature column (features/families/nfstream.ts).
 */
export const NFSTREAM_IDENTIFIER_COLUMNS = ['id', 'expiration_id', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'ip_version', 'vlan_id'] as const;

/** Which identifier columns and features a {@link FlowCsvWriter} writes. */
export interface CsvLayout {
  /** `cic` (default): {@link IDENTIFIER_COLUMNS}; `nfstream`: {@link NFSTREAM_IDENTIFIER_COLUMNS}. */
  identifiers?: 'cic' | 'nfstream';
  /** Indices into `FinishedFlow.features` of the feature columns to write, in order (default: all, in registry order). */
  featureIndices?: readonly number[];
  /** Write the header line (default true; false for parts appended after a header). */
  header?: boolean;
}

/**
 * What a CSV row is made of: a flow's identifiers, feature values and text columns. A
 * {@link import('../features/meter.js').FinishedFlow} is one; so is a row of a batch handed to the formatting
 * thread (csv-thread.ts).
 */
export interface CsvFlowRow {
  /** Initiator / responder address text. */
  readonly srcIp: string;
  readonly dstIp: string;
  /**
   * Initiator / responder address as a 32-bit value when the flow is IPv4, −1 otherwise (optional: the writer
   * then writes the dotted quad without building {@link srcIp} / {@link dstIp}).
   */
  readonly srcIpv4?: number;
  readonly dstIpv4?: number;
  readonly srcPort: number;
  readonly dstPort: number;
  /** IP protocol number. */
  readonly protocol: number;
  readonly ipVersion: number;
  readonly vlanId: number;
  /** Why the flow ended ({@link EndReason} code). */
  readonly reason: number;
  /** First packet time: whole seconds and nanoseconds (written as ISO 8601 UTC text with microseconds). */
  readonly firstSec: number;
  readonly firstNsec: number;
  /** Feature values in registry order, from index {@link featureOffset}. */
  readonly features: Float64Array;
  /** Where this row's features start in {@link features}. */
  readonly featureOffset: number;
  /** Text columns in registry order, from index {@link textOffset}. */
  readonly text: readonly string[];
  /** Where this row's text columns start in {@link text}. */
  readonly textOffset: number;
}

/** Quotes a CSV field when needed (RFC 4180 §2: it holds a comma, a double quote, CR or LF). */
export function csvField(s: string): string {
  // A loop over the code units: most fields are short (states, services, names), where it beats a RegExp test.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 44 || c === 34 || c === 10 || c === 13) return `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}

/**
 * The identifiers {@link writeCicIdentifiers} writes: a {@link import('../features/meter.js').FinishedFlow}, or a
 * {@link import('../features/meter.js').FlowIdsView} over copied identifiers.
 */
export type CicIdentifierRow = Pick<CsvFlowRow, 'srcIp' | 'dstIp' | 'srcIpv4' | 'dstIpv4' | 'srcPort' | 'dstPort' | 'protocol' | 'firstSec' | 'firstNsec'>;

/**
 * Writes CICFlowMeter's identifier columns of a flow ({@link IDENTIFIER_COLUMNS}: Flow ID
 * `src-dst-srcport-dstport-protocol`, Src IP, Src Port, Dst IP, Dst Port, Protocol, Timestamp as ISO 8601 UTC with
 * microseconds), comma-separated, without a trailing comma. IPv4 addresses are written from their values, without
 * building their text.
 * @throws RangeError for address texts too long for the sink's buffer (over ~600 characters; formatAddress writes 45
 *   at most)
 */
export function writeCicIdentifiers(sink: OutputSink, flow: CicIdentifierRow): void {
  const v4s = flow.srcIpv4 ?? -1, v4d = flow.dstIpv4 ?? -1;
  const src = v4s >= 0 ? '' : flow.srcIp, dst = v4d >= 0 ? '' : flow.dstIp;
  // Each identifier is formatted once, in the Flow ID, and its bytes copied for its own column: room for both copies
  // of the addresses (UTF-8: at most 3 bytes per code unit), five numbers with the room check number() makes, commas.
  sink.reserve(2 * (16 + 3 * (src.length + dst.length)) + 5 * CELL_ROOM + 16);
  const a = sink.position;
  address(sink, v4s, src);
  const b = sink.position;
  sink.byte(45); address(sink, v4d, dst);
  const c = sink.position;
  sink.byte(45); sink.number(flow.srcPort);
  const d = sink.position;
  sink.byte(45); sink.number(flow.dstPort);
  const e = sink.position;
  sink.byte(45); sink.number(flow.protocol);
  const f = sink.position;
  sink.byte(44); sink.repeat(a, b); // Src IP
  sink.byte(44); sink.repeat(c + 1, d); // Src Port
  sink.byte(44); sink.repeat(b + 1, c); // Dst IP
  sink.byte(44); sink.repeat(d + 1, e); // Dst Port
  sink.byte(44); sink.repeat(e + 1, f); // Protocol
  sink.byte(44); sink.isoTimestamp(flow.firstSec, flow.firstNsec);
}

/** An address: the IPv4 value `v4` when it is one (≥ 0), else the text. */
function address(sink: OutputSink, v4: number, text: string): void {
  if (v4 >= 0) sink.ipv4(v4);
  else sink.write(text);
}

/**
 * The {@link END_REASON_COLUMN} cells with their leading comma (`,idle`, …), by {@link EndReason} code, as bytes
 * copied with {@link OutputSink.shortBytes}. `extract` of the benchmark capture (a million rows), formatting-thread CPU
 * against the build without the column, paired medians of 8 alternating runs: +0.29 s with the cell written as a string
 * (`sink.write(name)`), +0.07 s with `sink.bytes`, −0.05 s (no cost measurable) with `shortBytes`.
 */
const END_REASON_CELLS: readonly Uint8Array[] = END_REASON_NAMES.map((n) => new TextEncoder().encode(`,${n}`));
/** An empty cell, for a code outside {@link END_REASON_NAMES} (none is written by the flow table). */
const EMPTY_CELL = new Uint8Array([44]);

/**
 * Appends `,` and the {@link END_REASON_COLUMN} text of end reason code `reason` ({@link EndReason}; an empty cell for
 * an unknown code), e.g. `,evicted`.
 */
export function writeEndReasonCell(sink: OutputSink, reason: number): void {
  sink.shortBytes(END_REASON_CELLS[reason | 0] ?? EMPTY_CELL);
}

/**
 * Writes flows as CSV rows to a sink: the identifier columns (CICFlowMeter's, or nfstream's with
 * {@link CsvLayout.identifiers}), the numeric features, the registry's text columns, {@link END_REASON_COLUMN} (why
 * the flow ended: `evicted` for a flow exported early by `--max-flows`), and `Label` when asked for.
 */
export class FlowCsvWriter {
  private readonly nText: number;
  /** Writes {@link NFSTREAM_IDENTIFIER_COLUMNS} instead of CICFlowMeter's. */
  private readonly nfstreamIds: boolean;
  /** Feature indices written, in order. */
  private readonly featureIndex: Int32Array;
  /** Rows written (nfstream's `id`). */
  private rows = 0;

  /**
   * @param sink where the text goes
   * @param featureNames registry feature names, in the order of `FinishedFlow.features`
   * @param textNames registry text-column names, in the order of `FinishedFlow.text`
   * @param withLabel add a `Label` column
   * @param layout identifier style and feature selection (default: CICFlowMeter identifiers, every feature)
   */
  constructor(
    private readonly sink: OutputSink, featureNames: readonly string[], textNames: readonly string[], private readonly withLabel: boolean,
    layout: CsvLayout = {},
  ) {
    this.nfstreamIds = layout.identifiers === 'nfstream';
    const ids: readonly string[] = this.nfstreamIds ? NFSTREAM_IDENTIFIER_COLUMNS : IDENTIFIER_COLUMNS;
    this.featureIndex = Int32Array.from(layout.featureIndices ?? featureNames.map((_, i) => i));
    featureNames = Array.from(this.featureIndex, (i) => featureNames[i]);
    this.nText = textNames.length;
    const header = [...ids, ...featureNames, ...textNames, END_REASON_COLUMN.name, ...(withLabel ? ['Label'] : [])];
    if (layout.header !== false) sink.write(`${header.map(csvField).join(',')}\n`);
  }

  /** Writes one flow (and its label when the writer has a Label column). */
  write(flow: CsvFlowRow, label?: string): void {
    const sink = this.sink, f = flow.features;
    if (this.nfstreamIds) this.writeNfstreamIds(flow, flow.srcIp, flow.dstIp);
    else writeCicIdentifiers(sink, flow);
    sink.commaNumbers(f, flow.featureOffset, this.featureIndex);
    const t = flow.text, to = flow.textOffset;
    for (let i = 0; i < this.nText; i++) { sink.byte(44); sink.write(csvField(t[to + i])); }
    // Not writeEndReasonCell(): that extra call level cost the formatting thread 0.24 s more CPU on the benchmark capture
    // (paired median of 8 alternating runs). Why was not investigated (V8's cumulative inlining budget is a guess).
    sink.shortBytes(END_REASON_CELLS[flow.reason | 0] ?? EMPTY_CELL);
    if (this.withLabel) { sink.byte(44); sink.write(csvField(label ?? '')); }
    sink.byte(10);
    this.rows++;
  }

  /** The {@link NFSTREAM_IDENTIFIER_COLUMNS} of `flow` (no trailing comma). */
  private writeNfstreamIds(flow: CsvFlowRow, src: string, dst: string): void {
    const sink = this.sink;
    sink.number(this.rows);
    sink.byte(44); sink.number(flow.reason === EndReason.ACTIVE ? 1 : 0);
    sink.byte(44); sink.write(src);
    sink.byte(44); sink.number(flow.srcPort);
    sink.byte(44); sink.write(dst);
    sink.byte(44); sink.number(flow.dstPort);
    sink.byte(44); sink.number(flow.protocol);
    sink.byte(44); sink.number(flow.ipVersion);
    sink.byte(44); sink.number(flow.vlanId);
  }

}

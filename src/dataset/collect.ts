/**
 * In-memory flow records: identifiers, the feature matrix (rows × features, row-major Float64) and labels,
 * filled flow by flow from a {@link FinishedFlow} stream. Used by train, evaluate and score.
 */
import type { FinishedFlow } from '../features/meter.js';

/**
 * What {@link FlowRecords.add} reads of a flow: a {@link FinishedFlow}, or a row of a flow table read from CSV
 * (dataset/table.ts). `features` holds one value per record feature name, in the records' order.
 */
export type FlowRow = Pick<FinishedFlow, 'features' | 'srcIp' | 'dstIp' | 'srcPort' | 'dstPort' | 'protocol' | 'firstSeenUs'>;

/**
 * Strings as their distinct values and one code per row (`values[codes[r]]` is row r's string). Structured clone
 * (postMessage) copies every string it meets, repeats included: coded, each distinct identifier or label crosses
 * between threads once.
 */
export interface CodedStrings {
  values: string[];
  /** One code per row (only the first `rows` of the part are meaningful). */
  codes: Int32Array;
}

/** `a[0, n)` as {@link CodedStrings}. */
function encodeStrings(a: readonly string[], n = a.length): CodedStrings {
  const index = new Map<string, number>();
  const values: string[] = [];
  const codes = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const s = a[r];
    let c = index.get(s);
    if (c === undefined) {
      c = values.length;
      index.set(s, c);
      values.push(s);
    }
    codes[r] = c;
  }
  return { values, codes };
}

/**
 * A {@link FlowRecords} of one source as another thread receives it ({@link FlowRecords.toPart},
 * {@link FlowRecords.appendPart}): the numbers in typed arrays whose buffers are transferred (not copied), the strings
 * coded. Arrays may be longer than `rows` (their capacity); only the first `rows` (× `names.length` for `data`) count.
 */
export interface FlowRecordsPart {
  names: readonly string[];
  rows: number;
  /** Row-major features, `rows × names.length` used. */
  data: Float64Array;
  srcIp: CodedStrings;
  dstIp: CodedStrings;
  srcPort: Uint16Array;
  dstPort: Uint16Array;
  protocol: Uint8Array;
  /** First packet time, µs since the epoch (NaN when unknown). */
  firstSeenUs: Float64Array;
  labels: CodedStrings;
}

/** Flow records collected from one or more captures. */
export class FlowRecords {
  rows = 0;
  /** Row-major feature values, `rows × names.length` (capacity may exceed `rows`). */
  data: Float64Array;
  readonly srcIp: string[] = [];
  readonly dstIp: string[] = [];
  srcPort = new Uint16Array(0);
  dstPort = new Uint16Array(0);
  protocol = new Uint8Array(0);
  /** First packet time, µs since the epoch. */
  firstSeenUs = new Float64Array(0);
  /** Capture index (into `sources`) of each flow. */
  source = new Uint16Array(0);
  readonly labels: string[] = [];
  readonly sources: string[] = [];

  /** @param names feature names, in the order of `FinishedFlow.features` */
  constructor(readonly names: readonly string[], initialRows = 1024) {
    this.data = new Float64Array(initialRows * names.length);
    this.grow(initialRows);
  }

  private grow(cap: number): void {
    const c = this.names.length;
    if (this.data.length < cap * c) {
      const d = new Float64Array(cap * c);
      d.set(this.data);
      this.data = d;
    }
    const g = <T extends Uint16Array | Uint8Array | Float64Array>(a: T, ctor: new (n: number) => T): T => {
      if (a.length >= cap) return a;
      const b = new ctor(cap);
      b.set(a);
      return b;
    };
    this.srcPort = g(this.srcPort, Uint16Array);
    this.dstPort = g(this.dstPort, Uint16Array);
    this.protocol = g(this.protocol, Uint8Array);
    this.firstSeenUs = g(this.firstSeenUs, Float64Array);
    this.source = g(this.source, Uint16Array);
  }

  /** Registers a capture; returns its index for {@link add}. */
  addSource(path: string): number {
    this.sources.push(path);
    return this.sources.length - 1;
  }

  /** Appends a flow (copies its features). */
  add(flow: FlowRow, label: string, source: number): void {
    const r = this.rows;
    if (r >= this.srcPort.length) this.grow(Math.max(1024, this.srcPort.length * 2));
    this.data.set(flow.features, r * this.names.length);
    this.srcIp.push(flow.srcIp);
    this.dstIp.push(flow.dstIp);
    this.srcPort[r] = flow.srcPort;
    this.dstPort[r] = flow.dstPort;
    this.protocol[r] = flow.protocol;
    this.firstSeenUs[r] = flow.firstSeenUs;
    this.source[r] = source;
    this.labels.push(label);
    this.rows = r + 1;
  }

  /**
   * These records as a {@link FlowRecordsPart} for `postMessage(part, transfer)`. The typed arrays are this object's
   * own: after the transfer they are detached here, so the records must not be used afterwards.
   */
  toPart(): { part: FlowRecordsPart; transfer: ArrayBuffer[] } {
    const part: FlowRecordsPart = {
      names: this.names, rows: this.rows, data: this.data,
      srcIp: encodeStrings(this.srcIp, this.rows), dstIp: encodeStrings(this.dstIp, this.rows),
      srcPort: this.srcPort, dstPort: this.dstPort, protocol: this.protocol, firstSeenUs: this.firstSeenUs,
      labels: encodeStrings(this.labels, this.rows),
    };
    const transfer = [part.data, part.srcPort, part.dstPort, part.protocol, part.firstSeenUs, part.srcIp.codes, part.dstIp.codes, part.labels.codes]
      .map((a) => a.buffer as ArrayBuffer);
    return { part, transfer };
  }

  /**
   * Appends every row of `part` as rows of source `source` (an index from {@link addSource}), in order: the same
   * records as {@link add} called row by row.
   * @throws Error when the part's feature names differ from these records'
   */
  appendPart(part: FlowRecordsPart, source: number): void {
    const c = this.names.length, n = part.rows, r0 = this.rows;
    if (part.names.length !== c || part.names.some((name, i) => name !== this.names[i])) {
      throw new Error(`flow records part has other feature columns (${part.names.length}) than the records (${c})`);
    }
    if (r0 + n > this.srcPort.length) this.grow(Math.max(r0 + n, this.srcPort.length * 2));
    this.data.set(part.data.subarray(0, n * c), r0 * c);
    this.srcPort.set(part.srcPort.subarray(0, n), r0);
    this.dstPort.set(part.dstPort.subarray(0, n), r0);
    this.protocol.set(part.protocol.subarray(0, n), r0);
    this.firstSeenUs.set(part.firstSeenUs.subarray(0, n), r0);
    this.source.fill(source, r0, r0 + n);
    const decode = (coded: CodedStrings, out: string[]): void => {
      const { values, codes } = coded;
      for (let r = 0; r < n; r++) out.push(values[codes[r]]);
    };
    decode(part.srcIp, this.srcIp);
    decode(part.dstIp, this.dstIp);
    decode(part.labels, this.labels);
    this.rows = r0 + n;
  }

  /**
   * Feature matrix restricted to `columns` (by name), row-major, `rows × columns.length`.
   * @throws Error naming the columns this record set does not have.
   */
  select(columns: readonly string[]): Float64Array {
    const idx = columns.map((c) => this.names.indexOf(c));
    const missing = columns.filter((_, i) => idx[i] < 0);
    if (missing.length) throw new Error(`flow records lack feature(s): ${missing.join(', ')}`);
    const c = this.names.length, k = columns.length;
    const out = new Float64Array(this.rows * k);
    for (let r = 0; r < this.rows; r++) for (let j = 0; j < k; j++) out[r * k + j] = this.data[r * c + idx[j]];
    return out;
  }

  /** A new record set holding rows `indices` (in that order), with the same feature names and sources. */
  subset(indices: ArrayLike<number>): FlowRecords {
    const out = new FlowRecords(this.names, Math.max(1, indices.length));
    out.sources.push(...this.sources);
    const c = this.names.length;
    for (let k = 0; k < indices.length; k++) {
      const r = indices[k];
      if (!(r >= 0 && r < this.rows)) throw new RangeError(`row ${r} out of range 0..${this.rows - 1}`);
      out.data.set(this.data.subarray(r * c, (r + 1) * c), k * c);
      out.srcIp.push(this.srcIp[r]);
      out.dstIp.push(this.dstIp[r]);
      out.srcPort[k] = this.srcPort[r];
      out.dstPort[k] = this.dstPort[r];
      out.protocol[k] = this.protocol[r];
      out.firstSeenUs[k] = this.firstSeenUs[r];
      out.source[k] = this.source[r];
      out.labels.push(this.labels[r]);
    }
    out.rows = indices.length;
    return out;
  }
}

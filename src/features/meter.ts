/**
 * The flow meter: decoded packets → flow table → feature families → one finished-flow record per flow.
 * This is flowsift's hot path; per packet it decodes into one reused {@link DecodedPacket}, looks the flow
 * up without building strings, and updates typed-array accumulators in place.
 */
import type { CapturedPacket } from '../capture/types.js';
import type { DecodeRules } from '../decode/decoder.js';
import { Decoder } from '../decode/decoder.js';
import { DecodedPacket } from '../decode/types.js';
import { formatAddress } from '../flow/key.js';
import type { EndReasonCode, FlowObserver, FlowRecordView, FlowTableOptions } from '../flow/table.js';
import { END_REASON_NAMES, FlowTable, OBSERVER_OFFSET, SLOT_RECORD_BYTES } from '../flow/table.js';
import type { NfstreamFeatureOptions } from './families/nfstream.js';
import type { TextFamily } from './family.js';
import type { FeatureOptions, FeatureSet } from './registry.js';
import { createFeatureSet } from './registry.js';
import { FlowState } from './state.js';

/** Settings of a {@link FlowMeter}. */
export interface MeterOptions extends FlowTableOptions, FeatureOptions, NfstreamFeatureOptions {
  /** Decode GRE/GTP-U/VXLAN/… to the inner packet (nfstream's decode_tunnels; default true). */
  decodeTunnels?: boolean;
  /** Decode rules: `flowsift` (default) or `nfstream` (nfstream's packet acceptance and key fields), see {@link DecodeRules}. */
  decodeRules?: DecodeRules;
  /**
   * Numeric families (by {@link FeatureFamily.name}) not to run, for a consumer that does not use their features
   * (e.g. `extract` does not write the nfstream columns in the flowsift profile): their features stay 0.
   */
  skipFamilies?: readonly string[];
  /**
   * Do not compute the numeric features when a flow ends: {@link FinishedFlow.features} is then NOT filled (it
   * holds stale values), and the consumer copies the flow's record with {@link FinishedFlow.writeRecord} and
   * computes the features elsewhere with a {@link import('./finalize.js').FeatureFinalizer} built with the same
   * options (extract's formatting thread does this, so the metering thread does less per flow). Text columns are
   * filled as usual.
   */
  deferNumeric?: boolean;
  /**
   * Do not compute, when a flow ends, the text columns of families whose text can be computed from a copy of their
   * record ({@link TextFamily.recordBytes}: connection state and history): those entries of
   * {@link FinishedFlow.text} are NOT filled; the consumer copies the records with
   * {@link FinishedFlow.writeTextRecord} and computes the text with a FeatureFinalizer.
   */
  deferText?: boolean;
  /**
   * Keep the per-flow records (flow table, numeric families' {@link FlowState}, text families with copyable
   * records) in shared memory, so that a consumer can hand a finished flow to another thread without copying it:
   * it calls {@link FinishedFlow.keep} during the callback, the other thread reads the records through
   * {@link FinishedFlow.records} (the flow's slot is {@link FinishedFlow.slot}), and the consumer gives the slot
   * back with {@link FinishedFlow.release} once that thread is done. Default false. Size the table for the flows
   * expected ({@link FlowTableOptions.initialCapacity}; extract uses dataset/csv-thread.ts `sharedTableCapacity`):
   * every growth of a shared table leaves the outgrown buffers in memory until each thread that saw them has
   * collected them.
   */
  shareRecords?: boolean;
  /**
   * Packets decoded ahead of the flow table (default 1: each packet is accounted as it is pushed). With k > 1,
   * {@link FlowMeter.push} decodes into a ring of k packets and accounts them together once it is full: first the
   * flow-key hash of each and a read of its hash-index bucket, so that the k buckets' cache misses overlap, then the
   * k packets in order. Flows and features are the same. The bytes of a pushed packet must then stay unchanged until
   * {@link FlowMeter.release} or {@link FlowMeter.finish} (extractCapture calls release from the capture parser's
   * CaptureParseOptions.onRelease, before a read buffer is reused).
   *
   * Why: on this 2-core VM a load from memory takes ~0.2 µs and the index (8 bytes per bucket, a quarter of them live
   * after a rebuild) is far larger than a core's cache, so the first packet of every flow (1M on the benchmark capture)
   * waited for its bucket. `extract` of the benchmark capture with 64, 12 alternating runs each against 1: metering
   * thread CPU median 2.857 -> 2.831 s, fastest 2.561 -> 2.497 s, wall paired median -0.100 s (a first version
   * measured 2.916 -> 2.766 s and -0.119 s; batches of 16 to 192 measured alike). Output byte-identical.
   */
  lookahead?: number;
}

/**
 * A meter's per-flow records in shared memory ({@link MeterOptions.shareRecords}), for reading kept flows on another
 * thread: the flow table's slot records (read them with a {@link FlowRecordView}), the numeric families' records
 * ({@link FlowState}: slot s at doubles [s · stateStride, …)) and the copyable text-family records (registry
 * order, as {@link import('./finalize.js').FeatureFinalizer.useShared} expects). Replaced when the table grows
 * (see {@link FinishedFlow.recordsVersion}); earlier buffers keep the kept flows' records.
 */
export interface SharedFlowRecords {
  table: SharedArrayBuffer;
  state: SharedArrayBuffer;
  stateStride: number;
  text: SharedArrayBuffer[];
}

/**
 * A finished flow as handed to the consumer. The object is reused for every flow and is valid only during
 * the callback: copy `features` (or the fields) you keep.
 */
export class FinishedFlow {
  slot = -1;
  reason: EndReasonCode = 0;
  /** Changes whenever {@link records} would return other buffers (the flow table grew). */
  recordsVersion = 0;
  /** {@link features} and {@link text} hold this flow only, from index 0. */
  readonly featureOffset = 0;
  readonly textOffset = 0;
  constructor(
    private readonly table: FlowTable,
    /** Feature values in registry order. */ readonly features: Float64Array,
    /** Text columns (service, connection state, …) in registry order. */ readonly text: string[],
    private readonly state: FlowState = new FlowState(),
    /** The text families with copyable records ({@link TextFamily.recordBytes}), in registry order. */
    private readonly textRecords: readonly TextFamily[] = [],
    /**
     * Doubles of a record {@link writeRecord} copies: the record's start up to the end of the last family that runs
     * (families skipped with {@link MeterOptions.skipFamilies} at the end of the record are not copied).
     */
    private readonly recordDoubles: number = state.size,
  ) {}

  /**
   * Keeps this flow's slot: its records stay unchanged (and the slot unused) until {@link release}, so another
   * thread can read them through {@link records}.
   * @throws Error unless the meter runs with {@link MeterOptions.shareRecords}
   */
  keep(): void {
    if (!this.table.sharedMemory) throw new Error('FinishedFlow.keep needs a meter with shareRecords');
    this.table.keep(this.slot);
  }

  /** Gives back a slot kept with {@link keep} (its flow has been read). @throws Error for a slot not kept */
  release(slot: number): void {
    this.table.release(slot);
  }

  /** The meter's current shared records (see {@link SharedFlowRecords}); allocates: call when {@link recordsVersion} changes. */
  records(): SharedFlowRecords {
    if (!this.table.sharedMemory) throw new Error('FinishedFlow.records needs a meter with shareRecords');
    return {
      table: this.table.recordsBuffer as SharedArrayBuffer,
      state: this.state.f64.buffer as SharedArrayBuffer,
      stateStride: this.state.stride,
      text: this.textRecords.map((f) => f.recordsBuffer!() as SharedArrayBuffer),
    };
  }

  /**
   * Copies the record of the `k`-th text family with a copyable record (registry order; see
   * {@link MeterOptions.deferText}) to `out` from 32-bit word `o` on (`recordBytes / 4` words).
   */
  writeTextRecord(k: number, out: Uint32Array, o: number): void {
    this.textRecords[k].writeRecord!(this.slot, out, o);
  }

  /**
   * Copies what the numeric families need to compute this flow's features, for a
   * {@link import('./finalize.js').FeatureFinalizer} built with the meter's options: the flow's record (the
   * {@link FlowState.size} doubles the families reserved) at `out[o …]`, then first and last packet time (µs)
   * and forward and backward packet counts ({@link RECORD_TOTALS} numbers) at `out[o + size …]`. The doubles of
   * skipped families at the record's end are not written (out keeps what it held there; the finalizer does not
   * read them).
   */
  writeRecord(out: Float64Array, o: number): void {
    const st = this.state, a = st.f64, n = st.size, from = this.slot * st.stride, t = this.table, s = this.slot;
    // memcpy. The copy's cost is mostly misses on `out` (memory the formatting thread read last): fewer doubles,
    // fewer lines to take over.
    out.set(a.subarray(from, from + this.recordDoubles), o);
    out[o + n] = t.firstSeenUs(s);
    out[o + n + 1] = t.lastSeenUs(s);
    out[o + n + 2] = t.fwdPackets(s);
    out[o + n + 3] = t.bwdPackets(s);
  }

  /** Initiator (forward source) address as text. */
  get srcIp(): string { const t = this.table; return formatAddress(t.words, t.srcAddrOffset(this.slot), t.ipVersion(this.slot)); }
  /** Responder address as text. */
  get dstIp(): string { const t = this.table; return formatAddress(t.words, t.dstAddrOffset(this.slot), t.ipVersion(this.slot)); }
  /** IPv4 initiator / responder address as a 32-bit value, −1 for IPv6. */
  get srcIpv4(): number { const t = this.table; return t.ipVersion(this.slot) === 4 ? t.words[t.srcAddrOffset(this.slot) + 3] : -1; }
  get dstIpv4(): number { const t = this.table; return t.ipVersion(this.slot) === 4 ? t.words[t.dstAddrOffset(this.slot) + 3] : -1; }
  get srcPort(): number { return this.table.srcPort(this.slot); }
  get dstPort(): number { return this.table.dstPort(this.slot); }
  /** IP protocol number. */
  get protocol(): number { return this.table.protocol(this.slot); }
  get ipVersion(): number { return this.table.ipVersion(this.slot); }
  get vlanId(): number { return this.table.vlanId(this.slot); }
  /** First/last packet time, µs since the epoch. */
  get firstSeenUs(): number { return this.table.firstSeenUs(this.slot); }
  get lastSeenUs(): number { return this.table.lastSeenUs(this.slot); }
  /** Exact first packet time: whole seconds and nanoseconds. */
  get firstSec(): number { return this.table.firstSec(this.slot); }
  get firstNsec(): number { return this.table.firstNsec(this.slot); }
  get packets(): number { return this.table.fwdPackets(this.slot) + this.table.bwdPackets(this.slot); }
  /** Sequence number of the flow within its capture (order of first packet). */
  get seq(): number { return this.table.seq(this.slot); }
  /** Why the flow ended: idle, active, tcp_end, end_of_input, evicted. */
  get endReason(): string { return END_REASON_NAMES[this.reason]; }
  /** Address words of the initiator/responder (4 each), for rule matching without strings. */
  srcWords(out: Uint32Array): Uint32Array { const a = this.table.srcAddrOffset(this.slot); out.set(this.table.words.subarray(a, a + 4)); return out; }
  dstWords(out: Uint32Array): Uint32Array { const a = this.table.dstAddrOffset(this.slot); out.set(this.table.words.subarray(a, a + 4)); return out; }
  /**
   * Writes the flow's identifiers as {@link FLOW_ID_WIDTH} numbers at `out[o …]`: initiator address words (4),
   * responder address words (4), IP version, initiator port, responder port, IP protocol, VLAN id, first packet
   * time (whole seconds, nanoseconds), end reason. {@link FlowIdsView} reads them back.
   */
  writeIds(out: Float64Array, o: number): void {
    writeFlowIds(this.table, this.slot, this.reason, out, o);
  }

  /** CICFlowMeter's Flow ID: `src-dst-srcport-dstport-protocol`. */
  get flowId(): string { return flowIdText(this); }
  /** First packet time as ISO 8601 UTC with microseconds, e.g. 2026-11-22T03:05:53.123456Z. */
  get timestamp(): string { return isoMicros(this.firstSec, this.firstNsec); }
}

/** CICFlowMeter's Flow ID of a flow: `src-dst-srcport-dstport-protocol` (FlowFeature.java's `fid`). */
export function flowIdText(f: { srcIp: string; dstIp: string; srcPort: number; dstPort: number; protocol: number }): string {
  return `${f.srcIp}-${f.dstIp}-${f.srcPort}-${f.dstPort}-${f.protocol}`;
}

/**
 * Writes the identifiers of the flow in `slot` of `t` as {@link FLOW_ID_WIDTH} numbers at `out[o …]` (see
 * {@link FinishedFlow.writeIds}), `reason` last.
 */
export function writeFlowIds(t: FlowRecordView, s: number, reason: number, out: Float64Array, o: number): void {
  const w = t.words, a = t.srcAddrOffset(s), b = t.dstAddrOffset(s);
  for (let k = 0; k < 4; k++) { out[o + k] = w[a + k]; out[o + 4 + k] = w[b + k]; }
  out[o + 8] = t.ipVersion(s);
  out[o + 9] = t.srcPort(s);
  out[o + 10] = t.dstPort(s);
  out[o + 11] = t.protocol(s);
  out[o + 12] = t.vlanId(s);
  out[o + 13] = t.firstSec(s);
  out[o + 14] = t.firstNsec(s);
  out[o + 15] = reason;
}

/** Numbers {@link FinishedFlow.writeRecord} writes after the record: first/last seen µs, forward/backward packets. */
export const RECORD_TOTALS = 4;

/** Numbers per flow written by {@link FinishedFlow.writeIds}. */
export const FLOW_ID_WIDTH = 16;

/**
 * A flow's identifiers read back from numbers written by {@link FinishedFlow.writeIds} at `ids[o …]` (for code
 * that formats flows away from the meter, e.g. on another thread). Set {@link at} to move to another row.
 */
export class FlowIdsView {
  /** Offset of the current row's identifiers. */
  at = 0;
  private readonly words = new Uint32Array(8);
  constructor(public ids: Float64Array) {}
  private addr(k: number): string {
    const w = this.words, o = this.at + k;
    for (let i = 0; i < 4; i++) w[i] = this.ids[o + i];
    return formatAddress(w, 0, this.ids[this.at + 8]);
  }
  get srcIp(): string { return this.addr(0); }
  get dstIp(): string { return this.addr(4); }
  /** IPv4 initiator / responder address as a 32-bit value, −1 for IPv6. */
  get srcIpv4(): number { return this.ids[this.at + 8] === 4 ? this.ids[this.at + 3] : -1; }
  get dstIpv4(): number { return this.ids[this.at + 8] === 4 ? this.ids[this.at + 7] : -1; }
  get ipVersion(): number { return this.ids[this.at + 8]; }
  get srcPort(): number { return this.ids[this.at + 9]; }
  get dstPort(): number { return this.ids[this.at + 10]; }
  get protocol(): number { return this.ids[this.at + 11]; }
  get vlanId(): number { return this.ids[this.at + 12]; }
  get reason(): number { return this.ids[this.at + 15]; }
  get firstSec(): number { return this.ids[this.at + 13]; }
  get firstNsec(): number { return this.ids[this.at + 14]; }
  /** CICFlowMeter's Flow ID: `src-dst-srcport-dstport-protocol`. */
  get flowId(): string { return flowIdText(this); }
  /** First packet time as ISO 8601 UTC with microseconds (see {@link isoMicros}). */
  get timestamp(): string { return isoMicros(this.firstSec, this.firstNsec); }
}

let isoSec = NaN;
let isoPrefix = '';

/** First and last second that ISO 8601's four-digit years can write: 0000-01-01T00:00:00Z, 9999-12-31T23:59:59Z. */
const ISO_MIN_SEC = -62167219200;
const ISO_MAX_SEC = 253402300799;

/**
 * ISO 8601 UTC text of (seconds, nanoseconds) with microsecond precision, e.g. 2026-11-22T03:05:53.123456Z.
 *
 * A time outside the years 0000–9999 (a corrupt or crafted capture: pcapng timestamps and `if_tsoffset` are
 * 64-bit, and JavaScript's Date stops at ±8.64e15 ms, where `toISOString` throws) is written as decimal epoch
 * seconds with six fractional digits instead, e.g. `18446744073709.551615`, which flow-table readers also accept.
 */
export function isoMicros(sec: number, nsec: number): string {
  let us = Math.floor(nsec / 1000);
  if (!(us >= 0)) us = 0;
  else if (us > 999999) us = 999999;
  if (!(sec >= ISO_MIN_SEC && sec <= ISO_MAX_SEC) || !Number.isInteger(sec)) return epochText(sec, us);
  if (sec !== isoSec) {
    isoSec = sec;
    isoPrefix = new Date(sec * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  }
  return `${isoPrefix}.${String(us + 1000000).slice(1)}Z`;
}

/** `sec + us / 1e6` as decimal text with six fractional digits (exact for integer `sec`, any sign). */
function epochText(sec: number, us: number): string {
  if (!Number.isFinite(sec)) return String(sec);
  const whole = Math.floor(sec);
  if (whole < 0 && us > 0) return `-${BigInt(-whole - 1)}.${String(2000000 - us).slice(1)}`;
  return `${whole < 0 ? '-' : ''}${BigInt(Math.abs(whole))}.${String(us + 1000000).slice(1)}`;
}

/**
 * A function that calls every family in turn as straight-line code, `call(name, i)` giving the statement for
 * family i (named `name` inside), with `params` as its parameters and `p` bound to `extra`. One call site per
 * family keeps each site monomorphic, so V8 inlines the family's method; a loop over the families has a single
 * call site that sees every family class (megamorphic: no inlining, a slow generic call per family per packet).
 * V8 inlines the families only while their bytecode fits its cumulative budget (920 bytes by default: the first few
 * families); the CLI raises the budget so that they all fit (cli/v8-tuning.ts; start node with
 * `--max-inlined-bytecode-size-cumulative=3500` to get the same as a library user).
 */
export function unrolled(
  families: readonly object[], call: (name: string, i: number) => string, params: string, extra: unknown = null,
): (...args: never[]) => void {
  const names = families.map((_, i) => `f${i}`);
  const body = families.map((_, i) => call(`f${i}`, i)).join('\n');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated from constant text, no input involved
  return new Function(...names, 'p', `return function familiesCall(${params}) {\n${body}\n};`)(...families, extra) as (...args: never[]) => void;
}

/** Packet counters of a meter run. */
export interface MeterCounters {
  /** Packets handed to the meter. */
  packets: number;
  /** Packets accounted in a flow (decoded IP packets). */
  ipPackets: number;
  /** Frames skipped because they carry no IP packet (ARP, LLDP, STP, …) or an unknown link type. */
  nonIpPackets: number;
  /** Flows exported. */
  flows: number;
}

/**
 * Packets in, finished flows out. Feed packets with {@link push} in capture order, call {@link finish} at
 * the end of input; `onFlow` runs once per flow as it expires (idle/active timeout, TCP end, eviction) and
 * for the remaining flows at {@link finish}.
 */
export class FlowMeter implements FlowObserver {
  readonly decoder: Decoder;
  readonly table: FlowTable;
  readonly featureSet: FeatureSet;
  readonly counters: MeterCounters = { packets: 0, ipPackets: 0, nonIpPackets: 0, flows: 0 };
  private readonly pkt = new DecodedPacket();
  /** With {@link MeterOptions.lookahead} k > 1: the ring of decoded packets not yet accounted, how many, their hashes. */
  private readonly ahead: DecodedPacket[] = [];
  private aheadCount = 0;
  private readonly aheadHash: Float64Array;
  /** Where the index reads' sum goes (so that they are not optimised away). */
  private touched = 0;
  private readonly row: Float64Array;
  private readonly textRow: string[];
  private readonly flow: FinishedFlow;
  /** Per-flow records of the numeric families. */
  private readonly state: FlowState;

  constructor(private readonly onFlow: (flow: FinishedFlow) => void, opts: MeterOptions = {}) {
    const shared = opts.shareRecords ?? false;
    const k = Math.floor(opts.lookahead ?? 1);
    if (!(k >= 1)) throw new RangeError('lookahead must be at least 1');
    if (k > 1) for (let i = 0; i < k; i++) this.ahead.push(new DecodedPacket());
    this.aheadHash = new Float64Array(k > 1 ? k : 0);
    this.state = new FlowState(shared);
    this.decoder = new Decoder({ decodeTunnels: opts.decodeTunnels ?? true, rules: opts.decodeRules });
    this.featureSet = createFeatureSet(opts);
    this.table = new FlowTable(this, { ...opts, sharedMemory: shared });
    this.row = new Float64Array(this.featureSet.features.length);
    this.textRow = new Array<string>(this.featureSet.textColumns.length).fill('');
    const skip = new Set(opts.skipFamilies ?? []);
    // Bind in registry order, noting where each family's doubles end: the record copy stops at the last running one.
    let recordDoubles = 0;
    for (const f of this.featureSet.families) {
      f.bind(this.state);
      if (!skip.has(f.name)) recordDoubles = this.state.size;
    }
    this.flow = new FinishedFlow(this.table, this.row, this.textRow, this.state,
      this.featureSet.textFamilies.filter((f) => f.recordBytes !== undefined), recordDoubles);
    // At most one family keeps its record in the flow table's observer bytes (the first that can).
    const inTable = this.featureSet.textFamilies.find((f) => f.useSlotRecords !== undefined);
    const resize = (cap: number): void => {
      this.state.resize(cap);
      inTable?.useSlotRecords!(this.table.recordsBuffer, SLOT_RECORD_BYTES, OBSERVER_OFFSET);
      for (const f of this.featureSet.textFamilies) f.resize(cap, shared);
      this.flow.recordsVersion++;
    };
    resize(this.table.capacity);
    this.table.onResize = resize;
    const fs = this.featureSet;
    const run = fs.families.map((_, i) => i).filter((i) => !skip.has(fs.families[i].name));
    const all = [...run.map((i) => fs.families[i]), ...fs.textFamilies];
    // At the end of a flow: the numeric families unless deferNumeric, the text families except those deferText
    // leaves to a FeatureFinalizer (the ones with copyable records).
    const numericAtEnd = opts.deferNumeric ? [] : run;
    // With deferText, a family whose record gives only some of its columns (recordColumns) writes the others here.
    const deferredText = (f: TextFamily): boolean => opts.deferText === true && f.recordBytes !== undefined;
    const textAtEnd = fs.textFamilies.map((_, i) => i)
      .filter((i) => !deferredText(fs.textFamilies[i]) || fs.textFamilies[i].recordColumns !== undefined);
    this.initAll = unrolled(all, (f) => `${f}.onInit(slot, pkt);`, 'slot, pkt') as typeof this.initAll;
    this.updateAll = unrolled(all, (f) => `${f}.onUpdate(slot, pkt, dir);`, 'slot, pkt, dir') as typeof this.updateAll;
    this.expireAll = unrolled(
      [...numericAtEnd.map((i) => fs.families[i]), ...textAtEnd.map((i) => fs.textFamilies[i])],
      (f, i) => i < numericAtEnd.length ? `${f}.onExpire(slot, table, row, p[${i}]);`
        : `${f}.${deferredText(fs.textFamilies[textAtEnd[i - numericAtEnd.length]]) ? 'onExpireRest' : 'onExpire'}(slot, table, text, p[${i}]);`,
      'slot, table, row, text',
      [...numericAtEnd.map((i) => fs.positions[i]), ...textAtEnd.map((i) => fs.textPositions[i])],
    ) as typeof this.expireAll;
  }

  /** Every family's onInit / onUpdate / onExpire, in registry order (see {@link unrolled}). */
  private readonly initAll: (slot: number, pkt: DecodedPacket) => void;
  private readonly updateAll: (slot: number, pkt: DecodedPacket, dir: 0 | 1) => void;
  private readonly expireAll: (slot: number, table: FlowTable, row: Float64Array, text: string[]) => void;

  /**
   * Accounts one captured packet (the object may be reused by the reader after this returns; with
   * {@link MeterOptions.lookahead} its bytes not until {@link release}).
   */
  push(captured: CapturedPacket): void {
    this.counters.packets++;
    const ahead = this.ahead;
    const pkt = ahead.length === 0 ? this.pkt : ahead[this.aheadCount];
    if (!this.decoder.decode(captured, pkt)) {
      this.counters.nonIpPackets++;
      return;
    }
    this.counters.ipPackets++;
    if (ahead.length === 0) this.table.process(pkt);
    else if (++this.aheadCount === ahead.length) this.release();
  }

  /**
   * Accounts the packets decoded ahead ({@link MeterOptions.lookahead}) and not yet accounted; after this the bytes of
   * every packet pushed so far may change. Nothing to do without lookahead.
   */
  release(): void {
    const n = this.aheadCount, ahead = this.ahead, hash = this.aheadHash, t = this.table;
    if (n === 0) return;
    this.aheadCount = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const h = t.keyHash(ahead[i]);
      hash[i] = h;
      sum = (sum + t.touchIndex(h)) | 0;
    }
    // Kept small integers (the sum in int32, the field below 2^20): with an unbounded sum and field, and tombstones of
    // 0xffffffff, `--trace-deopt` on the benchmark capture showed a cluster of deopts when the first tombstones were
    // read here: "lost precision" in push, "wrong map" in push, update, onPacket, start and release. With both kept
    // small and TOMB below 2^31 the cluster is gone (which of the two caused the "wrong map" ones was not measured).
    this.touched = (this.touched + sum) & 0xfffff;
    for (let i = 0; i < n; i++) t.process(ahead[i], hash[i]);
  }

  /** Accounts an already decoded IP packet (for callers with their own decoding, and tests). */
  pushDecoded(pkt: DecodedPacket): void {
    this.release(); // packets pushed before come first
    this.counters.packets++;
    this.counters.ipPackets++;
    this.table.process(pkt);
  }

  /** Ends every remaining flow (end of input), after accounting the packets decoded ahead. */
  finish(): void {
    this.release();
    this.table.flush();
  }

  onFlowStart(slot: number, pkt: DecodedPacket): void {
    this.initAll(slot, pkt);
  }

  onPacket(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    this.updateAll(slot, pkt, dir);
  }

  onFlowEnd(slot: number, reason: EndReasonCode): void {
    this.expireAll(slot, this.table, this.row, this.textRow);
    this.flow.slot = slot;
    this.flow.reason = reason;
    this.counters.flows++;
    this.onFlow(this.flow);
  }
}

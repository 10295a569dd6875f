/**
 * The flow table: bidirectional flows keyed by the canonical 5-tuple + VLAN, with idle and active
 * timeouts on packet time and TCP termination. Per-flow state lives in one fixed-size record per slot
 * ({@link SLOT_BYTES} bytes: times and counts as float64, address words, hash and list links as 32-bit words,
 * ports and small fields after them), all records in one ArrayBuffer, so starting or ending a flow in a cold
 * slot touches two or three cache lines instead of one per field. The hash index is open addressing over an
 * Int32Array, so a packet's lookup builds no string and allocates nothing.
 *
 * The table knows nothing about features: an {@link FlowObserver} (the feature stage) is told when a flow
 * starts, for every packet, and when it ends, and reads what it needs through the table's per-slot accessors
 * ({@link FlowTable.lastSeenUs}, {@link FlowTable.srcPort}, …).
 */
import type { DecodedPacket } from '../decode/types.js';
import { IpProto, TcpFlag } from '../decode/types.js';
import { biflowHash } from './key.js';

/** Why a flow was exported. */
export const EndReason = {
  /** No packet for `idleTimeoutUs` (nfstream/CICFlowMeter "flow timeout"). */
  IDLE: 0,
  /** Flow lasted `activeTimeoutUs`; the next packet starts a new flow with the same key. */
  ACTIVE: 1,
  /** TCP connection closed (FIN both ways or RST) and the linger time passed or a new SYN came. */
  TCP_END: 2,
  /** End of input: every remaining flow is flushed. */
  END_OF_INPUT: 3,
  /** Evicted to bound memory (least recently active flow). */
  EVICTED: 4,
} as const;
export type EndReasonCode = (typeof EndReason)[keyof typeof EndReason];
/** Text names of {@link EndReason} codes, by code. */
export const END_REASON_NAMES = ['idle', 'active', 'tcp_end', 'end_of_input', 'evicted'] as const;

/** Receives the life cycle of every flow (nfstream's on_init / on_update / on_expire split). */
export interface FlowObserver {
  /** A new flow takes `slot`; called before {@link onPacket} for the same packet. */
  onFlowStart(slot: number, pkt: DecodedPacket): void;
  /** Every packet of the flow, the first one included. `dir` 0 = forward (initiator → responder), 1 = backward. */
  onPacket(slot: number, pkt: DecodedPacket, dir: 0 | 1): void;
  /**
   * The flow ends. The slot's records are valid until this returns, then the slot is reused, unless the observer
   * calls {@link FlowTable.keep} during the call (e.g. another thread reads the records from shared memory, see
   * {@link FlowTableOptions.sharedMemory}): the records then stay unchanged until it gives the slot back with
   * {@link FlowTable.release}.
   */
  onFlowEnd(slot: number, reason: EndReasonCode): void;
}

/** Flow-table settings. Times in microseconds of packet time. */
export interface FlowTableOptions {
  /** Idle timeout, µs (default 120 s, nfstream's and CICFlowMeter's default); 0 is allowed, as in nfstream. */
  idleTimeoutUs?: number;
  /** Active timeout, µs (default 1800 s, nfstream's default); 0 is allowed, as in nfstream. */
  activeTimeoutUs?: number;
  /**
   * End TCP flows on FIN in both directions or on RST (default true). Packets that follow the end (the last
   * ACK, a late RST) stay in the flow for `tcpLingerUs`; a SYN without ACK after the end starts a new flow.
   */
  tcpTermination?: boolean;
  /** How long a terminated TCP flow waits for trailing packets, µs (default 5 s, as Zeek's tcp_close_delay). */
  tcpLingerUs?: number;
  /** Most flows held at once; beyond it the least recently active flow is evicted (default unlimited). */
  maxFlows?: number;
  /**
   * Initial slot capacity (default 65,536; grows by doubling). The records are zeroed allocations, which the system
   * maps lazily: slots never used take no memory, while each doubling copies every record (on the benchmark
   * capture, which holds up to ~70,000 flows at once, starting from 4,096 slots cost 5 doublings and ~0.1 s).
   */
  initialCapacity?: number;
  /**
   * Resolution of the clock the timeouts are compared on, µs (default 1: exact microseconds). With 1000, packet
   * times are truncated to whole milliseconds before the idle/active comparisons, as nfstream's meter, which keeps
   * packet time as `tv_sec * 1000 + tv_usec / 1000` (nfstream/engine/lib_engine.c, `capture_next`). Must divide
   * the timeouts.
   */
  clockResolutionUs?: number;
  /**
   * Timeouts expire at the limit (gap ≥ timeout) instead of after it (gap > timeout, the default for the idle
   * timeout). The active timeout is always inclusive. nfstream: `flow_expiration_handler` (lib_engine.c) tests
   * `time - last_seen >= idle_timeout` and `time - first_seen >= active_timeout`.
   */
  inclusiveIdleTimeout?: boolean;
  /**
   * Packets older than the clock are accounted at the clock's time (their time fields are rewritten in place),
   * as nfstream's `meter_workflow` (nfstream/meter.py: "Force time order"). Default false: a late packet keeps
   * its own time and does not move the clock back.
   */
  monotonicTime?: boolean;
  /**
   * The tunnel a packet came through ({@link DecodedPacket.tunnelKey}) is part of the flow key, as nfstream's
   * `get_flow_key` (nfstream/meter.py), which keys on (addresses, ports, protocol, vlan_id, tunnel_id). Default
   * false.
   */
  keyByTunnel?: boolean;
  /**
   * Keep the slot records in SharedArrayBuffers (also when the table grows), so that another thread can read the
   * records of flows kept by the observer ({@link FlowObserver.onFlowEnd}) through a {@link FlowRecordView} of
   * {@link FlowTable.recordsBuffer}. Default false.
   */
  sharedMemory?: boolean;
}

/** Rewrites the time fields of `pkt` to `us` µs since the epoch (for {@link FlowTableOptions.monotonicTime}). */
function setPacketTime(pkt: DecodedPacket, us: number): void {
  const sec = Math.floor(us / 1e6);
  const subUs = us - sec * 1e6;
  pkt.tsUs = us;
  pkt.tsSec = sec;
  pkt.tsNsec = subUs * 1000;
  pkt.tsSubUsNs = 0;
}

/** TCP termination bits kept per flow. */
const FIN_FWD = 1, FIN_BWD = 2, RST_SEEN = 4;

/** Lists: 0 = live flows by last activity, 1 = terminated TCP flows lingering. */
const LIVE = 0, LINGER = 1;

/**
 * Bytes of one slot's record. Layout (byte offsets): float64 first/last seen µs, first second, forward and
 * backward packets, sequence number (0–47); uint32 first nanoseconds (48), int32 LRU prev/next (52, 56), the
 * slot's hash-index bucket (60); uint32 initiator address words (64–79), responder address words (80–95), key hash
 * (96); uint16 initiator port (100), responder port (102), VLAN id (104); uint8 protocol (106), IP version (107),
 * tunnel key (108), TCP termination bits (109), list (110; 255 = free, 254 = kept by the observer or released by it
 * and not reused yet, 253 = ending); bytes 112–127 are the observer's ({@link OBSERVER_OFFSET}). The lookup's key
 * fields share the record's second 64 bytes.
 */
const SLOT_BYTES = 128;
/**
 * Bytes [{@link OBSERVER_OFFSET}, {@link OBSERVER_OFFSET} + {@link OBSERVER_BYTES}) of every slot record belong to
 * the observer: the table never reads or writes them (it keeps them across growth). A feature family with a small
 * per-flow record keeps it there, in the cache line the table touches on every packet of the flow anyway (the key),
 * instead of in a line of its own. See {@link FlowTable.recordsBuffer}, {@link SLOT_RECORD_BYTES}.
 */
export const OBSERVER_OFFSET = 112, OBSERVER_BYTES = 16;
/** Bytes of one slot record in {@link FlowTable.recordsBuffer} (slot s at byte s · SLOT_RECORD_BYTES). */
export const SLOT_RECORD_BYTES = SLOT_BYTES;
/** Record strides in elements of each view. */
const F_STRIDE = SLOT_BYTES / 8, W_STRIDE = SLOT_BYTES / 4, H_STRIDE = SLOT_BYTES / 2, B_STRIDE = SLOT_BYTES;
/** Float64 fields (index within the record's float64 view). */
const F_FIRST_US = 0, F_LAST_US = 1, F_FIRST_SEC = 2, F_FWD = 3, F_BWD = 4, F_SEQ = 5;
/** 32-bit fields (index within the record's uint32/int32 views). */
const W_FIRST_NSEC = 12, W_PREV = 13, W_NEXT = 14, W_POS = 15, W_SRC = 16, W_DST = 20, W_HASH = 24;
/** 16-bit fields. */
const H_SRC_PORT = 50, H_DST_PORT = 51, H_VLAN = 52;
/** 8-bit fields. */
const B_PROTO = 106, B_IPV = 107, B_TUNNEL = 108, B_TCP = 109, B_LIST = 110;

/**
 * {@link B_LIST} values of a slot that holds no live flow: free, kept by the observer after its flow ended, and
 * ending (during {@link FlowObserver.onFlowEnd}).
 */
const FREE = 255, KEPT = 254, ENDING = 253;
/** Smallest hash index (buckets). */
const MIN_BUCKETS = 1024;
/**
 * `buckets[2b]` of a deleted entry (a tombstone: probes go on past it, an insertion may take it). Below 2^31, as every
 * slot + 1 is: a Uint32Array load of 2^31 or more does not fit the int32 that V8's optimised code assumed from the
 * loads it had seen, and the first tombstones (0xffffffff before) dropped the optimised lookup ("lost precision",
 * `--trace-deopt`, `extract` of the benchmark capture).
 */
const TOMB = 0x7fffffff;

/**
 * A new buffer of `bytes` bytes starting with the bytes of `old` (absent: all zero), for per-slot records that grow
 * with the flow table (the table's own, and the families' in {@link FlowTable.onResize}); a SharedArrayBuffer when
 * `shared`.
 */
export function grownBuffer(old: Uint8Array<ArrayBufferLike> | undefined, bytes: number, shared = false): ArrayBuffer | SharedArrayBuffer {
  const buf = shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  if (old) new Uint8Array(buf).set(old);
  return buf;
}

/**
 * What a numeric feature family reads of a finished flow besides its own record: first and last packet time (µs
 * since the epoch) and packet counts per direction. {@link FlowTable} provides them per slot.
 */
export interface FlowTotals {
  firstSeenUs(slot: number): number;
  lastSeenUs(slot: number): number;
  fwdPackets(slot: number): number;
  bwdPackets(slot: number): number;
}

/**
 * Read access to flow-table slot records (identifiers, times, packet counts) by slot: the {@link FlowTable} itself,
 * or a view of its {@link FlowTable.recordsBuffer} on another thread (valid for the slots the observer kept).
 */
export class FlowRecordView implements FlowTotals {
  /** Float64 view of the slot records (replaced when the table grows: do not keep it across packets). */
  protected f64!: Float64Array;
  /**
   * Uint32 view of the slot records; a slot's address words are at {@link srcAddrOffset} / {@link dstAddrOffset}
   * (replaced when the table grows: read it afresh, do not keep it across packets).
   */
  words!: Uint32Array;
  protected i32!: Int32Array;
  protected u16!: Uint16Array;
  protected u8!: Uint8Array;

  /** @param buffer slot records ({@link FlowTable.recordsBuffer}); a FlowTable sets its own. */
  constructor(buffer?: ArrayBufferLike) {
    if (buffer) this.view(buffer);
  }

  /** Reads (and, in the table, writes) the records in `buf`. */
  protected view(buf: ArrayBufferLike): void {
    this.f64 = new Float64Array(buf);
    this.words = new Uint32Array(buf);
    this.i32 = new Int32Array(buf);
    this.u16 = new Uint16Array(buf);
    this.u8 = new Uint8Array(buf);
  }

  // ---- per-slot accessors (valid for a live slot, an ending one until onFlowEnd returns, and a kept one) ---------
  /** Word offset of the initiator's address in {@link words}. */
  srcAddrOffset(slot: number): number { return slot * W_STRIDE + W_SRC; }
  /** Word offset of the responder's address in {@link words}. */
  dstAddrOffset(slot: number): number { return slot * W_STRIDE + W_DST; }
  /** Initiator port. */
  srcPort(slot: number): number { return this.u16[slot * H_STRIDE + H_SRC_PORT]; }
  /** Responder port. */
  dstPort(slot: number): number { return this.u16[slot * H_STRIDE + H_DST_PORT]; }
  /** IP protocol number. */
  protocol(slot: number): number { return this.u8[slot * B_STRIDE + B_PROTO]; }
  /** IP version (4 or 6). */
  ipVersion(slot: number): number { return this.u8[slot * B_STRIDE + B_IPV]; }
  /** 802.1Q VLAN id (0 = none). */
  vlanId(slot: number): number { return this.u16[slot * H_STRIDE + H_VLAN]; }
  /** Tunnel key (0 unless {@link FlowTableOptions.keyByTunnel}). */
  tunnelKey(slot: number): number { return this.u8[slot * B_STRIDE + B_TUNNEL]; }
  /** First packet time, µs since the epoch. */
  firstSeenUs(slot: number): number { return this.f64[slot * F_STRIDE + F_FIRST_US]; }
  /** Last packet time, µs since the epoch. */
  lastSeenUs(slot: number): number { return this.f64[slot * F_STRIDE + F_LAST_US]; }
  /** First packet time: whole seconds. */
  firstSec(slot: number): number { return this.f64[slot * F_STRIDE + F_FIRST_SEC]; }
  /** First packet time: nanoseconds within the second. */
  firstNsec(slot: number): number { return this.words[slot * W_STRIDE + W_FIRST_NSEC]; }
  /** Packets from initiator to responder. */
  fwdPackets(slot: number): number { return this.f64[slot * F_STRIDE + F_FWD]; }
  /** Packets from responder to initiator. */
  bwdPackets(slot: number): number { return this.f64[slot * F_STRIDE + F_BWD]; }
  /** Sequence number of the flow within its capture (order of first packet). */
  seq(slot: number): number { return this.f64[slot * F_STRIDE + F_SEQ]; }

  /**
   * Reads one number from each of the slot's two cache lines and returns their sum (meaningless): a caller that
   * reads many cold records calls this for several slots first, so that their cache misses overlap (see
   * ThreadedFlowCsvWriter's worker), and keeps the sum somewhere so that the reads are not optimised away.
   */
  touch(slot: number): number {
    return this.f64[slot * F_STRIDE] + this.words[slot * W_STRIDE + W_SRC];
  }
}

/**
 * Bidirectional flow table. Call {@link process} for each decoded IP packet in capture order and
 * {@link flush} at the end of input.
 *
 * Complexity: O(1) expected per packet (hash lookup, O(1) list moves); expiry pops from the head of the
 * least-recently-active lists, so expired flows are exported as soon as packet time passes their deadline.
 */
export class FlowTable extends FlowRecordView {
  readonly idleTimeoutUs: number;
  readonly activeTimeoutUs: number;
  readonly tcpTermination: boolean;
  readonly tcpLingerUs: number;
  readonly maxFlows: number;
  /** See {@link FlowTableOptions.clockResolutionUs}. */
  readonly clockResolutionUs: number;
  /** See {@link FlowTableOptions.inclusiveIdleTimeout}. */
  readonly inclusiveIdleTimeout: boolean;
  /** See {@link FlowTableOptions.monotonicTime}. */
  readonly monotonicTime: boolean;
  /** See {@link FlowTableOptions.keyByTunnel}. */
  readonly keyByTunnel: boolean;
  /** True unless the options ask for coarse or inclusive timeout comparisons (then {@link expireCoarse} runs). */
  private readonly exactTimeouts: boolean;
  /** Timeouts in clock ticks ({@link clockResolutionUs}). */
  private readonly idleTicks: number;
  private readonly activeTicks: number;
  private readonly lingerTicks: number;

  /** Slot capacity (length of the per-slot arrays). */
  capacity = 0;
  /** Flows currently held. */
  size = 0;
  /** Flows started so far (also the next flow's sequence number). */
  flowsStarted = 0;
  /** Flows evicted because the table was full. */
  evictions = 0;
  /** Latest packet time seen, µs. */
  clockUs = -Infinity;

  // ---- per-slot state: one SLOT_BYTES record per slot, seen through the five views of FlowRecordView -------
  /** See {@link FlowTableOptions.sharedMemory}. */
  readonly sharedMemory: boolean;
  private readonly head = new Int32Array([-1, -1]);
  private readonly tail = new Int32Array([-1, -1]);
  /**
   * Free slots, a stack (the last freed is reused first, as the linked list through the records' W_NEXT that it
   * replaced). Dense and apart from the slot records: a slot the formatting thread has just read (shared records) is
   * given back without a store into its record, whose cache line is then in the other core's cache (a store there costs
   * a round trip between the cores). `extract` of the benchmark capture, output identical (issue 5): 18 pairs in two
   * sets, this build always second in each pair, gave metering thread CPU −0.049 and −0.055 s (paired medians); 14
   * pairs in ABBA order (the second run of a pair turned out to be favoured by ~0.1 s) gave −0.009 s CPU and −0.009 s
   * wall, so no gain is shown.
   */
  private freeStack = new Int32Array(0);
  private freeTop = 0;
  /** 1 for a slot kept by the observer ({@link keep}) and not yet released: dense, like {@link freeStack}. */
  private keptMark = new Uint8Array(0);
  private used = 0; // slots ever handed out (high-water mark)

  // ---- hash index: open addressing, linear probing. Bucket b is the pair buckets[2b] = slot + 1 (0 = empty, TOMB =
  // deleted), buckets[2b + 1] = the slot's key hash: probes compare by the hash kept beside the slot number, so they
  // never read the (usually cold) record of a slot that is not the one looked for. A slot's record keeps the index
  // of its bucket (W_POS), so deleting an entry is one store into a bucket the metering thread does not wait for:
  // flows end after an idle or linger timeout, when their bucket has long left the cache, and finding it by probing
  // from the hash (a load from memory, ~0.2 µs on this VM, after the load of the hash) was the largest single cost
  // of ending a flow. Tombstones are cleared by rebuilding the index (see start()).
  private buckets = new Uint32Array(2 * MIN_BUCKETS);
  private mask = MIN_BUCKETS - 1;
  /** Deleted entries (TOMB) in the index. */
  private tombstones = 0;

  constructor(private readonly observer: FlowObserver, opts: FlowTableOptions = {}) {
    super();
    this.sharedMemory = opts.sharedMemory ?? false;
    this.idleTimeoutUs = opts.idleTimeoutUs ?? 120e6;
    this.activeTimeoutUs = opts.activeTimeoutUs ?? 1800e6;
    this.tcpTermination = opts.tcpTermination ?? true;
    this.tcpLingerUs = opts.tcpLingerUs ?? 5e6;
    this.maxFlows = opts.maxFlows ?? Infinity;
    if (!(this.idleTimeoutUs >= 0) || !(this.activeTimeoutUs >= 0) || !(this.tcpLingerUs >= 0)) {
      throw new RangeError('flow timeouts must not be negative');
    }
    if (!(this.maxFlows >= 1)) throw new RangeError('maxFlows must be at least 1');
    this.clockResolutionUs = opts.clockResolutionUs ?? 1;
    this.inclusiveIdleTimeout = opts.inclusiveIdleTimeout ?? false;
    this.monotonicTime = opts.monotonicTime ?? false;
    this.keyByTunnel = opts.keyByTunnel ?? false;
    const r = this.clockResolutionUs;
    if (!(r >= 1) || !Number.isInteger(r)) throw new RangeError('clockResolutionUs must be a positive integer');
    if (this.idleTimeoutUs % r !== 0 || this.activeTimeoutUs % r !== 0 || this.tcpLingerUs % r !== 0) {
      throw new RangeError(`flow timeouts must be whole multiples of clockResolutionUs (${r} µs)`);
    }
    this.exactTimeouts = r === 1 && !this.inclusiveIdleTimeout;
    this.idleTicks = this.idleTimeoutUs / r;
    this.activeTicks = this.activeTimeoutUs / r;
    this.lingerTicks = this.tcpLingerUs / r;
    this.allocate(Math.max(16, opts.initialCapacity ?? 65536));
  }

  /** Observers that keep per-slot arrays size them with this (called on growth too). */
  onResize: ((capacity: number) => void) | null = null;

  private allocate(cap: number): void {
    const old = this.capacity;
    this.view(grownBuffer(this.u8, cap * SLOT_BYTES, this.sharedMemory));
    const stack = new Int32Array(cap), kept = new Uint8Array(cap);
    stack.set(this.freeStack.subarray(0, this.freeTop));
    kept.set(this.keptMark);
    this.freeStack = stack;
    this.keptMark = kept;
    this.capacity = cap;
    if (old !== cap && this.onResize) this.onResize(cap);
  }

  /**
   * Rebuilds the index with `nb` buckets (a power of two), without its tombstones. The index is sized by the live
   * flows, not by the slot capacity: a table with room for 1M flows that holds 70k keeps a 4 MB index, not a 32 MB
   * one. The entries are taken in bucket order from the old index, so the new one is written nearly in order (at the
   * same size, each entry's home bucket is the same; doubled, one of two), and only the slots' bucket numbers are
   * written at random.
   */
  private rebuildIndex(nb: number): void {
    const old = this.buckets, n = old.length >> 1, i32 = this.i32;
    const buckets = new Uint32Array(2 * nb), mask = nb - 1;
    for (let k = 0; k < n; k++) {
      const v = old[2 * k];
      if (v === 0 || v === TOMB) continue;
      const hash = old[2 * k + 1];
      let b = hash & mask;
      while (buckets[2 * b] !== 0) b = (b + 1) & mask;
      buckets[2 * b] = v;
      buckets[2 * b + 1] = hash;
      i32[(v - 1) * W_STRIDE + W_POS] = b;
    }
    this.buckets = buckets;
    this.mask = mask;
    this.tombstones = 0;
  }

  private isLive(slot: number): boolean {
    return this.u8[slot * B_STRIDE + B_LIST] <= LINGER;
  }

  /** The slot records (a SharedArrayBuffer with {@link FlowTableOptions.sharedMemory}); replaced when the table grows. */
  get recordsBuffer(): ArrayBufferLike {
    return this.u8.buffer;
  }

  /**
   * Keeps the slot of the flow that is ending (call from {@link FlowObserver.onFlowEnd}): its records stay as they
   * are, and the slot unused, until {@link release}.
   * @throws Error when `slot` is not the slot of an ending flow
   */
  keep(slot: number): void {
    const b = slot * B_STRIDE + B_LIST;
    if (!(slot >= 0 && slot < this.used) || this.u8[b] !== ENDING) throw new Error(`flow table: slot ${slot} is not ending`);
    this.u8[b] = KEPT;
    this.keptMark[slot] = 1;
  }

  /**
   * Gives back a slot kept with {@link keep} (possibly before its onFlowEnd call returns): a later flow reuses it.
   * @throws Error when `slot` is not a kept slot (released twice, or never kept)
   */
  release(slot: number): void {
    // The record keeps KEPT in its list byte until the slot is reused (start() sets it): not live, not ending.
    if (!(slot >= 0 && slot < this.used) || this.keptMark[slot] !== 1) throw new Error(`flow table: slot ${slot} is not kept`);
    this.keptMark[slot] = 0;
    this.freeStack[this.freeTop++] = slot;
  }

  /** Indexes `slot` (not indexed; its key hash written) in the first empty or deleted bucket from its home. */
  private indexInsert(slot: number): void {
    const hash = this.words[slot * W_STRIDE + W_HASH], buckets = this.buckets, mask = this.mask;
    let b = hash & mask;
    for (;;) {
      const v = buckets[2 * b];
      if (v === 0) break;
      if (v === TOMB) {
        this.tombstones--;
        break;
      }
      b = (b + 1) & mask;
    }
    buckets[2 * b] = slot + 1;
    buckets[2 * b + 1] = hash;
    this.i32[slot * W_STRIDE + W_POS] = b;
  }

  /** Deletes the index entry of the live `slot`: a tombstone in its bucket (W_POS), nothing read from the index. */
  private indexRemove(slot: number): void {
    this.buckets[2 * this.i32[slot * W_STRIDE + W_POS]] = TOMB;
    this.tombstones++;
  }

  /** Takes `slot` out of its list `l` (the slot's B_LIST, passed by callers that know it without reading it). */
  private listUnlink(slot: number, l: number): void {
    const i32 = this.i32, w = slot * W_STRIDE;
    const p = i32[w + W_PREV], n = i32[w + W_NEXT];
    if (p >= 0) i32[p * W_STRIDE + W_NEXT] = n; else this.head[l] = n;
    if (n >= 0) i32[n * W_STRIDE + W_PREV] = p; else this.tail[l] = p;
  }

  private listAppend(slot: number, l: number): void {
    const i32 = this.i32, w = slot * W_STRIDE, t = this.tail[l];
    this.u8[slot * B_STRIDE + B_LIST] = l;
    i32[w + W_PREV] = t;
    i32[w + W_NEXT] = -1;
    if (t >= 0) i32[t * W_STRIDE + W_NEXT] = slot; else this.head[l] = slot;
    this.tail[l] = slot;
  }

  /**
   * Finds the flow of `pkt`: returns slot * 2 + dir (dir 0 forward, 1 backward), or -1.
   */
  private lookup(pkt: DecodedPacket, hash: number, tunnel: number): number {
    const buckets = this.buckets, mask = this.mask, W = this.words, H = this.u16, U8 = this.u8;
    const s = pkt.src, d = pkt.dst, sp = pkt.srcPort, dp = pkt.dstPort;
    let b = hash & mask;
    for (;;) {
      const v = buckets[2 * b];
      if (v === 0) return -1;
      if (buckets[2 * b + 1] === hash && v !== TOMB) {
        // The slot's offsets only past the tombstone test: (TOMB - 1) times a stride overflows int32, and the first
        // tombstone probed had dropped the optimised lookup ("overflow", --trace-deopt).
        const slot = v - 1;
        const w = slot * W_STRIDE, h = slot * H_STRIDE, u = slot * B_STRIDE;
        if (U8[u + B_PROTO] === pkt.protocol && H[h + H_VLAN] === pkt.vlanId && U8[u + B_IPV] === pkt.ipVersion
          && U8[u + B_TUNNEL] === tunnel) {
          const A = w + W_SRC, B = w + W_DST, fp = H[h + H_SRC_PORT], bp = H[h + H_DST_PORT];
          if (fp === sp && bp === dp
            && W[A + 3] === s[3] && W[B + 3] === d[3] && W[A] === s[0] && W[A + 1] === s[1] && W[A + 2] === s[2]
            && W[B] === d[0] && W[B + 1] === d[1] && W[B + 2] === d[2]) return slot * 2;
          if (fp === dp && bp === sp
            && W[A + 3] === d[3] && W[B + 3] === s[3] && W[A] === d[0] && W[A + 1] === d[1] && W[A + 2] === d[2]
            && W[B] === s[0] && W[B + 1] === s[1] && W[B + 2] === s[2]) return slot * 2 + 1;
        }
      }
      b = (b + 1) & mask;
    }
  }

  /**
   * The flow-key hash {@link process} computes for `pkt` (direction-independent; see flow/key.ts biflowHash), for a
   * caller that looks a batch of packets up ahead ({@link touchIndex}) and passes each hash back to process.
   */
  keyHash(pkt: DecodedPacket): number {
    const tunnel = this.keyByTunnel ? pkt.tunnelKey : 0;
    return biflowHash(pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort, pkt.protocol, pkt.vlanId | (tunnel << 12));
  }

  /**
   * Reads the hash-index bucket where a lookup of `hash` starts and returns its content (meaningless to the caller):
   * done for the next packets before they are processed, their buckets' cache misses overlap instead of each stalling
   * the lookup (JavaScript has no prefetch instruction; independent loads are the nearest thing).
   */
  touchIndex(hash: number): number {
    return this.buckets[2 * (hash & this.mask)];
  }

  /**
   * Accounts one decoded IP packet (`pkt.ipVersion !== 0`). Packets must come in capture order; a packet
   * older than the clock is accounted at its own time but does not move the clock back (with
   * {@link FlowTableOptions.monotonicTime}, its time fields are set to the clock's first). With
   * {@link FlowTableOptions.keyByTunnel}, `pkt.tunnelKey` is part of the flow key.
   * @param keyHash {@link keyHash}(pkt) when the caller has it already, else computed here
   */
  process(pkt: DecodedPacket, keyHash = -1): void {
    let now = pkt.tsUs;
    if (now > this.clockUs) {
      this.clockUs = now;
      if (this.exactTimeouts) this.expireUntil(now);
      else this.expireCoarse(now);
    } else if (this.monotonicTime && now < this.clockUs) {
      now = this.clockUs;
      setPacketTime(pkt, now);
    }
    const tunnel = this.keyByTunnel ? pkt.tunnelKey : 0;
    const hash = keyHash >= 0 ? keyHash : this.keyHash(pkt);
    const found = this.lookup(pkt, hash, tunnel);
    if (found >= 0) {
      const slot = found >> 1;
      const dir = (found & 1) as 0 | 1;
      if (!this.exactTimeouts && this.idleExpired(this.ticks(now), slot)) {
        // Coarse clock: a packet in the same tick as the clock can still find its flow idle (timeout 0);
        // nfstream checks idle, then active, on every packet of a flow (lib_engine.c flow_expiration_handler).
        this.end(slot, EndReason.IDLE);
      } else if (this.exactTimeouts
        ? now - this.f64[slot * F_STRIDE + F_FIRST_US] >= this.activeTimeoutUs
        : this.ticks(now) - this.ticks(this.f64[slot * F_STRIDE + F_FIRST_US]) >= this.activeTicks) {
        this.end(slot, EndReason.ACTIVE);
      } else if (this.u8[slot * B_STRIDE + B_TCP] !== 0 && this.isTerminated(slot)
        && (pkt.tcpFlags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) {
        this.end(slot, EndReason.TCP_END);
      } else {
        this.update(slot, pkt, dir);
        return;
      }
    }
    this.start(pkt, hash, tunnel);
  }

  /** Packet time `us` in clock ticks (whole {@link clockResolutionUs} units, truncated). */
  private ticks(us: number): number {
    return Math.floor(us / this.clockResolutionUs);
  }

  private isTerminated(slot: number): boolean {
    const t = this.u8[slot * B_STRIDE + B_TCP];
    return (t & RST_SEEN) !== 0 || (t & (FIN_FWD | FIN_BWD)) === (FIN_FWD | FIN_BWD);
  }

  private start(pkt: DecodedPacket, hash: number, tunnel: number): void {
    if (this.size >= this.maxFlows) {
      const victim = this.head[LINGER] >= 0 ? this.head[LINGER] : this.head[LIVE];
      this.evictions++;
      this.end(victim, EndReason.EVICTED);
    }
    // Live entries and tombstones fill at most half of the index; past that it is rebuilt (before the new slot is
    // taken, so that the slot is inserted once) with live entries filling at most a quarter, which leaves room for
    // a quarter of its size of deletions before the next rebuild.
    if ((this.size + 1 + this.tombstones) * 2 > this.mask + 1) {
      let nb = this.mask + 1;
      while ((this.size + 1) * 4 > nb) nb *= 2;
      this.rebuildIndex(nb);
    }
    let slot: number;
    if (this.freeTop > 0) {
      slot = this.freeStack[--this.freeTop];
    } else {
      if (this.used === this.capacity) this.allocate(this.capacity * 2);
      slot = this.used++;
    }
    const f = slot * F_STRIDE, w = slot * W_STRIDE, h = slot * H_STRIDE, u = slot * B_STRIDE;
    const F = this.f64, W = this.words, H = this.u16, U8 = this.u8, src = pkt.src, dst = pkt.dst;
    F[f + F_FIRST_US] = pkt.tsUs;
    F[f + F_LAST_US] = pkt.tsUs;
    F[f + F_FIRST_SEC] = pkt.tsSec;
    F[f + F_FWD] = 0;
    F[f + F_BWD] = 0;
    F[f + F_SEQ] = this.flowsStarted++;
    W[w + W_FIRST_NSEC] = pkt.tsNsec;
    W[w + W_SRC] = src[0]; W[w + W_SRC + 1] = src[1]; W[w + W_SRC + 2] = src[2]; W[w + W_SRC + 3] = src[3];
    W[w + W_DST] = dst[0]; W[w + W_DST + 1] = dst[1]; W[w + W_DST + 2] = dst[2]; W[w + W_DST + 3] = dst[3];
    W[w + W_HASH] = hash;
    H[h + H_SRC_PORT] = pkt.srcPort;
    H[h + H_DST_PORT] = pkt.dstPort;
    H[h + H_VLAN] = pkt.vlanId;
    U8[u + B_PROTO] = pkt.protocol;
    U8[u + B_IPV] = pkt.ipVersion;
    U8[u + B_TUNNEL] = tunnel;
    U8[u + B_TCP] = 0;
    this.size++;
    this.indexInsert(slot);
    this.listAppend(slot, LIVE);
    this.observer.onFlowStart(slot, pkt);
    this.update(slot, pkt, 0);
  }

  private update(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const F = this.f64, fo = slot * F_STRIDE, u = slot * B_STRIDE;
    F[fo + (dir === 0 ? F_FWD : F_BWD)]++;
    if (pkt.tsUs > F[fo + F_LAST_US]) F[fo + F_LAST_US] = pkt.tsUs;
    this.observer.onPacket(slot, pkt, dir);
    const U8 = this.u8, cur = U8[u + B_LIST];
    let l = cur;
    if (this.tcpTermination && pkt.protocol === IpProto.TCP && l === LIVE) {
      const f = pkt.tcpFlags;
      if ((f & (TcpFlag.FIN | TcpFlag.RST)) !== 0) {
        let t = U8[u + B_TCP];
        if ((f & TcpFlag.RST) !== 0) t |= RST_SEEN;
        if ((f & TcpFlag.FIN) !== 0) t |= dir === 0 ? FIN_FWD : FIN_BWD;
        U8[u + B_TCP] = t;
        if (this.isTerminated(slot)) l = LINGER;
      }
    }
    // Move to the tail of its list (most recently active).
    if (this.tail[cur] !== slot || l !== cur) {
      this.listUnlink(slot, cur);
      this.listAppend(slot, l);
    }
  }

  /** Ends flows whose deadline is before `now`: idle timeout on live flows, linger on terminated ones. */
  private expireUntil(now: number): void {
    this.expireList(LIVE, now, this.idleTimeoutUs, EndReason.IDLE);
    this.expireList(LINGER, now, this.tcpLingerUs, EndReason.TCP_END);
  }

  /**
   * Ends the flows of list `l` last active more than `timeoutUs` before `now`, least recent first. One loop for both
   * lists: the lingering list's expiries start seconds into a capture, the live list's only after the idle timeout
   * (120 s of packet time). With a loop of its own, the live list's first expiry ran code compiled without type
   * feedback, and V8 dropped the optimised metering code mid-run (`extract` of the benchmark capture, --trace-deopt:
   * `process` and `expireUntil` 2.4 s into the run; with one loop, the metering thread has no deoptimisation there).
   */
  private expireList(l: number, now: number, timeoutUs: number, reason: EndReasonCode): void {
    let s = this.head[l];
    while (s >= 0 && now - this.f64[s * F_STRIDE + F_LAST_US] > timeoutUs) {
      this.end(s, reason, l);
      s = this.head[l];
    }
  }

  /**
   * {@link expireUntil} for a coarse clock or inclusive idle timeout: a live flow expires when
   * `ticks(now) − ticks(last) ≥ idle` (inclusive) or `> idle` (exclusive), in clock ticks; lingering TCP flows
   * when the linger time has passed (exclusive).
   */
  private expireCoarse(now: number): void {
    const t = this.ticks(now);
    let s = this.head[LIVE];
    while (s >= 0 && this.idleExpired(t, s)) {
      this.end(s, EndReason.IDLE, LIVE);
      s = this.head[LIVE];
    }
    s = this.head[LINGER];
    while (s >= 0 && t - this.ticks(this.f64[s * F_STRIDE + F_LAST_US]) > this.lingerTicks) {
      this.end(s, EndReason.TCP_END, LINGER);
      s = this.head[LINGER];
    }
  }

  /** Coarse-clock idle test of a live flow at tick `t` (see {@link expireCoarse}). */
  private idleExpired(t: number, slot: number): boolean {
    const gap = t - this.ticks(this.f64[slot * F_STRIDE + F_LAST_US]);
    return this.inclusiveIdleTimeout ? gap >= this.idleTicks : gap > this.idleTicks;
  }

  /**
   * Exports and frees `slot`, which is on list `l` (read from the slot unless given: the expiry loops know it, and the
   * ending flow's line that holds it is usually cold, see indexRemove).
   */
  private end(slot: number, reason: EndReasonCode, l: number = this.u8[slot * B_STRIDE + B_LIST]): void {
    this.indexRemove(slot);
    this.listUnlink(slot, l);
    this.size--;
    const b = slot * B_STRIDE + B_LIST;
    this.u8[b] = ENDING;
    this.observer.onFlowEnd(slot, reason);
    // Kept: the observer puts it on the free stack with release() (which may already have happened).
    if (this.u8[b] !== ENDING) return;
    this.u8[b] = FREE;
    this.freeStack[this.freeTop++] = slot;
  }

  /** True when the flow in `slot` saw FIN both ways or an RST. */
  terminated(slot: number): boolean {
    return this.isTerminated(slot);
  }

  /**
   * Ends every remaining flow (end of input), in the order the flows started, so output is deterministic.
   */
  flush(): void {
    for (const s of this.liveBySeq()) this.end(s, this.isTerminated(s) ? EndReason.TCP_END : EndReason.END_OF_INPUT);
  }

  /**
   * The live slots in the order their flows started. Sorted as numbers seq · scale + slot (exact below 2^53) with the
   * typed array's native sort: 70k slots (the live flows at the end of the benchmark capture, while the formatting
   * thread waits for them) took 9.5–17.6 ms against 57–65 ms with a comparator over the slots; the comparator only when
   * those numbers would not be exact. Returned as an Int32Array: handed the sorted keys' doubles, the functions that
   * take a slot (end, the observer's onFlowEnd, …) dropped their optimised code at the flush (V8 --trace-deopt, one
   * `extract` of the benchmark capture: 6 "not a Smi" and 6 "wrong map" deoptimisations, none with Int32Array; 36
   * deoptimisations in all against 28), and flush() took 68–75 ms against 37–51 ms (meter alone, 3 runs each).
   */
  private liveBySeq(): Iterable<number> {
    const F = this.f64;
    const scale = 2 ** Math.ceil(Math.log2(this.used + 1));
    if ((this.flowsStarted + 1) * scale >= 2 ** 53) {
      const live: number[] = [];
      for (let s = 0; s < this.used; s++) if (this.isLive(s)) live.push(s);
      return live.sort((a, b) => F[a * F_STRIDE + F_SEQ] - F[b * F_STRIDE + F_SEQ]);
    }
    const keys = new Float64Array(this.used);
    let n = 0;
    for (let s = 0; s < this.used; s++) if (this.isLive(s)) keys[n++] = F[s * F_STRIDE + F_SEQ] * scale + s;
    const sorted = keys.subarray(0, n).sort();
    // Slot numbers as small integers (see above).
    const slots = new Int32Array(n);
    for (let i = 0; i < n; i++) slots[i] = sorted[i] % scale;
    return slots;
  }
}

/**
 * The flow table: bidirectional flows keyed by the canonical 5-tuple + VLAN, with idle and active
 * timeouts on packet time and TCP termination. Per-flow state lives in typed arrays indexed by a slot
 * number (struct of arrays); the hash index is open addressing over an Int32Array, so a packet's lookup
 * builds no string and allocates nothing.
 *
 * The table knows nothing about features: an {@link FlowObserver} (the feature stage) is told when a flow
 * starts, for every packet, and when it ends, and reads what it needs from the table's arrays.
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
  /** The flow ends; the slot's arrays are valid until this returns, then the slot is reused. */
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
  /** Initial slot capacity (grows by doubling). */
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
 * Bidirectional flow table. Call {@link process} for each decoded IP packet in capture order and
 * {@link flush} at the end of input.
 *
 * Complexity: O(1) expected per packet (hash lookup, O(1) list moves); expiry pops from the head of the
 * least-recently-active lists, so expired flows are exported as soon as packet time passes their deadline.
 */
export class FlowTable {
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

  // ---- per-slot state (struct of arrays) -------------------------------------------------------------
  /** Initiator (forward source) address words, 4 per slot. */
  srcAddr!: Uint32Array;
  /** Responder address words, 4 per slot. */
  dstAddr!: Uint32Array;
  srcPort!: Uint16Array;
  dstPort!: Uint16Array;
  protocol!: Uint8Array;
  ipVersion!: Uint8Array;
  vlanId!: Uint16Array;
  /** Tunnel part of the key (0 unless {@link FlowTableOptions.keyByTunnel}). */
  tunnelKey!: Uint8Array;
  /** First/last packet time, µs since the epoch. */
  firstSeenUs!: Float64Array;
  lastSeenUs!: Float64Array;
  /** Exact first packet time: whole seconds and nanoseconds (for label rules with ns bounds). */
  firstSec!: Float64Array;
  firstNsec!: Uint32Array;
  /** Packets in each direction. */
  fwdPackets!: Float64Array;
  bwdPackets!: Float64Array;
  /** Sequence number of the flow (order of creation). */
  seq!: Float64Array;
  private hashOf!: Uint32Array;
  private tcpBits!: Uint8Array;
  private list!: Uint8Array;
  private prev!: Int32Array;
  private next!: Int32Array;
  private readonly head = new Int32Array([-1, -1]);
  private readonly tail = new Int32Array([-1, -1]);
  private freeHead = -1;
  private used = 0; // slots ever handed out (high-water mark)

  // ---- hash index: open addressing, linear probing, values are slot + 1 -----------------------------
  private buckets!: Int32Array;
  private mask = 0;

  constructor(private readonly observer: FlowObserver, opts: FlowTableOptions = {}) {
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
    this.allocate(Math.max(16, opts.initialCapacity ?? 4096));
  }

  /** Observers that keep per-slot arrays size them with this (called on growth too). */
  onResize: ((capacity: number) => void) | null = null;

  private allocate(cap: number): void {
    const old = this.capacity;
    const grow = <T extends Float64Array | Uint32Array | Uint16Array | Uint8Array | Int32Array>(a: T | undefined, per: number, ctor: new (n: number) => T): T => {
      const n = new ctor(cap * per);
      if (a) n.set(a);
      return n;
    };
    this.srcAddr = grow(this.srcAddr, 4, Uint32Array);
    this.dstAddr = grow(this.dstAddr, 4, Uint32Array);
    this.srcPort = grow(this.srcPort, 1, Uint16Array);
    this.dstPort = grow(this.dstPort, 1, Uint16Array);
    this.protocol = grow(this.protocol, 1, Uint8Array);
    this.ipVersion = grow(this.ipVersion, 1, Uint8Array);
    this.vlanId = grow(this.vlanId, 1, Uint16Array);
    this.tunnelKey = grow(this.tunnelKey, 1, Uint8Array);
    this.firstSeenUs = grow(this.firstSeenUs, 1, Float64Array);
    this.lastSeenUs = grow(this.lastSeenUs, 1, Float64Array);
    this.firstSec = grow(this.firstSec, 1, Float64Array);
    this.firstNsec = grow(this.firstNsec, 1, Uint32Array);
    this.fwdPackets = grow(this.fwdPackets, 1, Float64Array);
    this.bwdPackets = grow(this.bwdPackets, 1, Float64Array);
    this.seq = grow(this.seq, 1, Float64Array);
    this.hashOf = grow(this.hashOf, 1, Uint32Array);
    this.tcpBits = grow(this.tcpBits, 1, Uint8Array);
    this.list = grow(this.list, 1, Uint8Array);
    this.prev = grow(this.prev, 1, Int32Array);
    this.next = grow(this.next, 1, Int32Array);
    this.capacity = cap;
    // Rebuild the index at ≤ 50 % load.
    let nb = 16;
    while (nb < cap * 2) nb <<= 1;
    this.buckets = new Int32Array(nb);
    this.mask = nb - 1;
    for (let s = 0; s < this.used; s++) if (this.isLive(s)) this.indexInsert(s);
    if (old !== cap && this.onResize) this.onResize(cap);
  }

  private isLive(slot: number): boolean {
    return this.list[slot] !== 255;
  }

  private indexInsert(slot: number): void {
    let b = this.hashOf[slot] & this.mask;
    while (this.buckets[b] !== 0) b = (b + 1) & this.mask;
    this.buckets[b] = slot + 1;
  }

  /** Removes `slot` from the index (backward-shift deletion keeps probe chains intact). */
  private indexRemove(slot: number): void {
    const mask = this.mask, buckets = this.buckets;
    let b = this.hashOf[slot] & mask;
    while (buckets[b] !== slot + 1) {
      if (buckets[b] === 0) return; // not indexed (cannot happen for a live slot)
      b = (b + 1) & mask;
    }
    let hole = b;
    let j = (b + 1) & mask;
    while (buckets[j] !== 0) {
      const home = this.hashOf[buckets[j] - 1] & mask;
      // Move j into the hole when its home is not in the cyclic range (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        buckets[hole] = buckets[j];
        hole = j;
      }
      j = (j + 1) & mask;
    }
    buckets[hole] = 0;
  }

  private listUnlink(slot: number): void {
    const l = this.list[slot], p = this.prev[slot], n = this.next[slot];
    if (p >= 0) this.next[p] = n; else this.head[l] = n;
    if (n >= 0) this.prev[n] = p; else this.tail[l] = p;
  }

  private listAppend(slot: number, l: number): void {
    this.list[slot] = l;
    this.prev[slot] = this.tail[l];
    this.next[slot] = -1;
    if (this.tail[l] >= 0) this.next[this.tail[l]] = slot; else this.head[l] = slot;
    this.tail[l] = slot;
  }

  /**
   * Finds the flow of `pkt`: returns slot * 2 + dir (dir 0 forward, 1 backward), or -1.
   */
  private lookup(pkt: DecodedPacket, hash: number, tunnel: number): number {
    const buckets = this.buckets, mask = this.mask;
    const s = pkt.src, d = pkt.dst, sp = pkt.srcPort, dp = pkt.dstPort;
    let b = hash & mask;
    for (;;) {
      const v = buckets[b];
      if (v === 0) return -1;
      const slot = v - 1;
      if (this.hashOf[slot] === hash && this.protocol[slot] === pkt.protocol && this.vlanId[slot] === pkt.vlanId
        && this.ipVersion[slot] === pkt.ipVersion && this.tunnelKey[slot] === tunnel) {
        const o = slot * 4, A = this.srcAddr, B = this.dstAddr;
        if (this.srcPort[slot] === sp && this.dstPort[slot] === dp
          && A[o + 3] === s[3] && B[o + 3] === d[3] && A[o] === s[0] && A[o + 1] === s[1] && A[o + 2] === s[2]
          && B[o] === d[0] && B[o + 1] === d[1] && B[o + 2] === d[2]) return slot * 2;
        if (this.srcPort[slot] === dp && this.dstPort[slot] === sp
          && A[o + 3] === d[3] && B[o + 3] === s[3] && A[o] === d[0] && A[o + 1] === d[1] && A[o + 2] === d[2]
          && B[o] === s[0] && B[o + 1] === s[1] && B[o + 2] === s[2]) return slot * 2 + 1;
      }
      b = (b + 1) & mask;
    }
  }

  /**
   * Accounts one decoded IP packet (`pkt.ipVersion !== 0`). Packets must come in capture order; a packet
   * older than the clock is accounted at its own time but does not move the clock back (with
   * {@link FlowTableOptions.monotonicTime}, its time fields are set to the clock's first). With
   * {@link FlowTableOptions.keyByTunnel}, `pkt.tunnelKey` is part of the flow key.
   */
  process(pkt: DecodedPacket): void {
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
    const hash = biflowHash(pkt.src, pkt.srcPort, pkt.dst, pkt.dstPort, pkt.protocol, pkt.vlanId | (tunnel << 12));
    const found = this.lookup(pkt, hash, tunnel);
    if (found >= 0) {
      const slot = found >> 1;
      const dir = (found & 1) as 0 | 1;
      if (!this.exactTimeouts && this.idleExpired(this.ticks(now), slot)) {
        // Coarse clock: a packet in the same tick as the clock can still find its flow idle (timeout 0);
        // nfstream checks idle, then active, on every packet of a flow (lib_engine.c flow_expiration_handler).
        this.end(slot, EndReason.IDLE);
      } else if (this.exactTimeouts
        ? now - this.firstSeenUs[slot] >= this.activeTimeoutUs
        : this.ticks(now) - this.ticks(this.firstSeenUs[slot]) >= this.activeTicks) {
        this.end(slot, EndReason.ACTIVE);
      } else if (this.tcpBits[slot] !== 0 && this.isTerminated(slot)
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
    const t = this.tcpBits[slot];
    return (t & RST_SEEN) !== 0 || (t & (FIN_FWD | FIN_BWD)) === (FIN_FWD | FIN_BWD);
  }

  private start(pkt: DecodedPacket, hash: number, tunnel: number): void {
    if (this.size >= this.maxFlows) {
      const victim = this.head[LINGER] >= 0 ? this.head[LINGER] : this.head[LIVE];
      this.evictions++;
      this.end(victim, EndReason.EVICTED);
    }
    let slot: number;
    if (this.freeHead >= 0) {
      slot = this.freeHead;
      this.freeHead = this.next[slot];
    } else {
      if (this.used === this.capacity) this.allocate(this.capacity * 2);
      slot = this.used++;
    }
    const o = slot * 4;
    this.srcAddr.set(pkt.src, o);
    this.dstAddr.set(pkt.dst, o);
    this.srcPort[slot] = pkt.srcPort;
    this.dstPort[slot] = pkt.dstPort;
    this.protocol[slot] = pkt.protocol;
    this.ipVersion[slot] = pkt.ipVersion;
    this.vlanId[slot] = pkt.vlanId;
    this.tunnelKey[slot] = tunnel;
    this.firstSeenUs[slot] = pkt.tsUs;
    this.lastSeenUs[slot] = pkt.tsUs;
    this.firstSec[slot] = pkt.tsSec;
    this.firstNsec[slot] = pkt.tsNsec;
    this.fwdPackets[slot] = 0;
    this.bwdPackets[slot] = 0;
    this.seq[slot] = this.flowsStarted++;
    this.hashOf[slot] = hash;
    this.tcpBits[slot] = 0;
    this.size++;
    this.indexInsert(slot);
    this.listAppend(slot, LIVE);
    this.observer.onFlowStart(slot, pkt);
    this.update(slot, pkt, 0);
  }

  private update(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    if (dir === 0) this.fwdPackets[slot]++; else this.bwdPackets[slot]++;
    if (pkt.tsUs > this.lastSeenUs[slot]) this.lastSeenUs[slot] = pkt.tsUs;
    this.observer.onPacket(slot, pkt, dir);
    let l = this.list[slot];
    if (this.tcpTermination && pkt.protocol === IpProto.TCP && l === LIVE) {
      const f = pkt.tcpFlags;
      if ((f & (TcpFlag.FIN | TcpFlag.RST)) !== 0) {
        let t = this.tcpBits[slot];
        if ((f & TcpFlag.RST) !== 0) t |= RST_SEEN;
        if ((f & TcpFlag.FIN) !== 0) t |= dir === 0 ? FIN_FWD : FIN_BWD;
        this.tcpBits[slot] = t;
        if (this.isTerminated(slot)) l = LINGER;
      }
    }
    // Move to the tail of its list (most recently active).
    if (this.tail[this.list[slot]] !== slot || l !== this.list[slot]) {
      this.listUnlink(slot);
      this.listAppend(slot, l);
    }
  }

  /** Ends flows whose deadline is before `now`: idle timeout on live flows, linger on terminated ones. */
  private expireUntil(now: number): void {
    let s = this.head[LIVE];
    while (s >= 0 && now - this.lastSeenUs[s] > this.idleTimeoutUs) {
      this.end(s, EndReason.IDLE);
      s = this.head[LIVE];
    }
    s = this.head[LINGER];
    while (s >= 0 && now - this.lastSeenUs[s] > this.tcpLingerUs) {
      this.end(s, EndReason.TCP_END);
      s = this.head[LINGER];
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
      this.end(s, EndReason.IDLE);
      s = this.head[LIVE];
    }
    s = this.head[LINGER];
    while (s >= 0 && t - this.ticks(this.lastSeenUs[s]) > this.lingerTicks) {
      this.end(s, EndReason.TCP_END);
      s = this.head[LINGER];
    }
  }

  /** Coarse-clock idle test of a live flow at tick `t` (see {@link expireCoarse}). */
  private idleExpired(t: number, slot: number): boolean {
    const gap = t - this.ticks(this.lastSeenUs[slot]);
    return this.inclusiveIdleTimeout ? gap >= this.idleTicks : gap > this.idleTicks;
  }

  /** Exports and frees `slot`. */
  private end(slot: number, reason: EndReasonCode): void {
    this.observer.onFlowEnd(slot, reason);
    this.indexRemove(slot);
    this.listUnlink(slot);
    this.list[slot] = 255;
    this.next[slot] = this.freeHead;
    this.freeHead = slot;
    this.size--;
  }

  /** True when the flow in `slot` saw FIN both ways or an RST. */
  terminated(slot: number): boolean {
    return this.isTerminated(slot);
  }

  /**
   * Ends every remaining flow (end of input), in the order the flows started, so output is deterministic.
   */
  flush(): void {
    const live: number[] = [];
    for (let s = 0; s < this.used; s++) if (this.isLive(s)) live.push(s);
    live.sort((a, b) => this.seq[a] - this.seq[b]);
    for (const s of live) this.end(s, this.isTerminated(s) ? EndReason.TCP_END : EndReason.END_OF_INPUT);
  }
}

/**
 * Streaming push parser of pcapng (draft-ietf-opsawg-pcapng, "PCAP Now Generic (pcapng) Capture File
 * Format"): sections (SHB, §4.1) in either byte order, interfaces (IDB, §4.2) with link type, snaplen and the
 * options `if_tsresol` and `if_tsoffset`, packets from Enhanced Packet Blocks (EPB, §4.3), Simple Packet
 * Blocks (SPB, §4.4) and the obsolete Packet Block (type 2, Appendix A). Every other block (NRB, ISB, DSB,
 * custom, unknown) is skipped by its length after the same length checks.
 *
 * Timestamps are 64-bit counts of 10^-k or 2^-k s; they are converted to seconds + nanoseconds exactly
 * (floor) with 16-bit-limb arithmetic on doubles, without BigInt and without allocation per packet.
 */
import { CaptureError, corruptError, notCaptureError } from './errors.js';
import {
  MAXIMUM_SNAPLEN,
  type CaptureParseOptions,
  type CaptureParser,
  type CapturedPacket,
  type CaptureSummary,
  type PacketCallback,
} from './types.js';

/** pcapng block type codes (draft-ietf-opsawg-pcapng §11.1 "Block Type Codes"). */
export const PcapngBlock = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  /** Obsolete Packet Block (Appendix A). */
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  DSB: 0x0000000a,
} as const;

/** Byte-order magic of the SHB as read little-endian from a little-endian section (§4.1). */
const BOM_LE = 0x1a2b3c4d;
/** Byte-order magic as read little-endian from a big-endian section. */
const BOM_BE = 0x4d3c2b1a;

/** Smallest valid Block Total Length per block type, bytes (§4.1–4.4, Appendix A); 12 for the others (§3.1). */
function minBlockLen(type: number): number {
  switch (type) {
    case PcapngBlock.SHB:
      return 28;
    case PcapngBlock.IDB:
      return 20;
    case PcapngBlock.EPB:
    case PcapngBlock.PB:
      return 32;
    case PcapngBlock.SPB:
      return 16;
    default:
      return 12;
  }
}

/** Human name of a block type for messages. */
function blockName(type: number): string {
  switch (type) {
    case PcapngBlock.SHB:
      return 'section header block';
    case PcapngBlock.IDB:
      return 'interface description block';
    case PcapngBlock.EPB:
      return 'enhanced packet block';
    case PcapngBlock.SPB:
      return 'simple packet block';
    case PcapngBlock.PB:
      return 'packet block';
    default:
      return `block (type 0x${type.toString(16).padStart(8, '0')})`;
  }
}

/**
 * Default upper bound on a Block Total Length, bytes (16 MiB). Larger than any packet block
 * (262144 + options) and than Wireshark's limit; bounds the memory an attacker-chosen length can claim.
 */
export const PCAPNG_MAX_BLOCK_LEN = 16 * 1024 * 1024;

/** Timestamp conversion modes of an interface (see {@link Iface}). */
const MODE_DEC = 0; // 10^-k, k ≤ 9: divide by D = 10^k, nsec = r · 10^(9-k)
const MODE_BIN = 1; // 2^-k, k ≤ 23: divide by D = 2^k, nsec = floor(r · 1e9 / 2^k) (exact: r · 1e9 < 2^53)
const MODE_DEC_FINE = 2; // 10^-k, 10 ≤ k ≤ 19: divide by 10^(k-9), then by 1e9
const MODE_BIN_FINE = 3; // 2^-k, 24 ≤ k ≤ 63: shift, fraction by limb multiplication

/** One interface of the current section (created per IDB, never per packet). */
class Iface {
  constructor(
    readonly linkType: number,
    /** Snaplen from the IDB (0 = no limit). */
    readonly snaplen: number,
    readonly mode: number,
    /** Exponent k of the resolution 10^-k or 2^-k. */
    readonly exp: number,
    /** Divisor for MODE_DEC/MODE_BIN (10^k or 2^k), 10^(k-9) for MODE_DEC_FINE. */
    readonly div: number,
    /** Nanoseconds per tick for MODE_DEC (10^(9-k)). */
    readonly mul: number,
    /** if_tsoffset, seconds. */
    readonly offsetSec: number,
  ) {}
}

// Scratch limbs of the slow timestamp paths (module-level: no allocation per packet).
let q3 = 0;
let q2 = 0;
let q1 = 0;
let q0 = 0;
let rem = 0;

/** (a3,a2,a1,a0) 16-bit limbs (a3 most significant) divided by d < 2^37 → quotient limbs q3..q0, remainder `rem`. */
function divLimbs(a3: number, a2: number, a1: number, a0: number, d: number): void {
  let x = a3;
  q3 = Math.floor(x / d);
  let r = x - q3 * d;
  x = r * 65536 + a2;
  q2 = Math.floor(x / d);
  r = x - q2 * d;
  x = r * 65536 + a1;
  q1 = Math.floor(x / d);
  r = x - q1 * d;
  x = r * 65536 + a0;
  q0 = Math.floor(x / d);
  rem = x - q0 * d;
}

/**
 * Exact conversion of a 64-bit tick count (hi, lo) of resolution 10^-k (10 ≤ k ≤ 19) or 2^-k (24 ≤ k ≤ 63)
 * into pkt.tsSec (without if_tsoffset) and pkt.tsNsec = floor(fraction · 1e9).
 */
function slowTs(pkt: CapturedPacket, hi: number, lo: number, ifc: Iface): void {
  if (ifc.mode === MODE_DEC_FINE) {
    // ticks / 10^(k-9) = nanoseconds (floor), then / 1e9. floor(floor(t/a)/b) = floor(t/(ab)).
    divLimbs(hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff, ifc.div);
    divLimbs(q3, q2, q1, q0, 1e9);
    pkt.tsSec = ((q3 * 65536 + q2) * 65536 + q1) * 65536 + q0;
    pkt.tsNsec = rem;
    return;
  }
  const k = ifc.exp;
  pkt.tsSec = k >= 32 ? Math.floor(hi / 2 ** (k - 32)) : hi * 2 ** (32 - k) + Math.floor(lo / 2 ** k);
  // Fraction limbs (f0 least significant), masked to the low k bits.
  const f0 = lo & 0xffff;
  let f1 = lo >>> 16;
  let f2 = hi & 0xffff;
  let f3 = hi >>> 16;
  if (k < 32) f1 &= (1 << (k - 16)) - 1; // 24 ≤ k ≤ 63
  if (k <= 32) f2 = 0;
  else if (k < 48) f2 &= (1 << (k - 32)) - 1;
  if (k <= 48) f3 = 0;
  else f3 &= (1 << (k - 48)) - 1;
  // P = fraction · 1e9 in 16-bit limbs p0..p5 (each step < 2^46 + 2^31: exact in a double).
  let t = f0 * 1e9;
  let c = Math.floor(t / 65536);
  t = f1 * 1e9 + c;
  const p1 = t % 65536;
  c = Math.floor(t / 65536);
  t = f2 * 1e9 + c;
  const p2 = t % 65536;
  c = Math.floor(t / 65536);
  t = f3 * 1e9 + c;
  const p3 = t % 65536;
  c = Math.floor(t / 65536);
  const p4 = c % 65536;
  const p5 = Math.floor(c / 65536);
  // nsec = floor(P / 2^k): the limbs from j0 = floor(k/16) up, shifted by the remaining bits (< 2^46).
  // k ≥ 24 here, so j0 ≥ 1 and p0 never matters.
  const j0 = k >>> 4;
  let top = p5;
  if (j0 <= 4) top = top * 65536 + p4;
  if (j0 <= 3) top = top * 65536 + p3;
  if (j0 <= 2) top = top * 65536 + p2;
  if (j0 <= 1) top = top * 65536 + p1;
  pkt.tsNsec = Math.floor(top / 2 ** (k - 16 * j0));
}

/**
 * Sets pkt.tsSec/tsNsec from a 64-bit tick count (hi, lo: upper and lower 32 bits) of interface `ifc`:
 * tsSec = floor(ticks / ticksPerSecond) + if_tsoffset, tsNsec = floor((ticks mod ticksPerSecond) · 1e9 / ticksPerSecond).
 * Exact for every resolution; no allocation.
 */
function setTimestamp(pkt: CapturedPacket, hi: number, lo: number, ifc: Iface): void {
  const mode = ifc.mode;
  if (mode > MODE_BIN) {
    slowTs(pkt, hi, lo, ifc);
    pkt.tsSec += ifc.offsetSec;
    return;
  }
  const d = ifc.div;
  let sec: number;
  let r: number;
  if (hi < 0x100000) {
    // ticks < 2^52 (µs timestamps until 2112): one double division is exact after floor, because
    // d · (quotient + 1) ≤ ticks + d < 2^53 keeps the rounded quotient below the next integer.
    const t = hi * 4294967296 + lo;
    sec = Math.floor(t / d);
    r = t - sec * d;
  } else {
    // 64-bit ticks / d (d < 2^37) by 16-bit limbs: every partial dividend is < d · 2^16 ≤ 2^53, so each
    // double division is exact after floor (quotient limb < 2^16, remainder < d).
    let x = hi >>> 16;
    const a3 = Math.floor(x / d);
    r = x - a3 * d;
    x = r * 65536 + (hi & 0xffff);
    const a2 = Math.floor(x / d);
    r = x - a2 * d;
    x = r * 65536 + (lo >>> 16);
    const a1 = Math.floor(x / d);
    r = x - a1 * d;
    x = r * 65536 + (lo & 0xffff);
    const a0 = Math.floor(x / d);
    r = x - a0 * d;
    sec = ((a3 * 65536 + a2) * 65536 + a1) * 65536 + a0;
  }
  pkt.tsSec = sec + ifc.offsetSec;
  pkt.tsNsec = mode === MODE_DEC ? r * ifc.mul : Math.floor((r * 1e9) / d);
}

/**
 * Push parser of a pcapng stream (see {@link CaptureParser}). The first pushed byte must be byte 0 of the file
 * (a Section Header Block).
 *
 * Delivered fields: `tsSec`/`tsNsec` = the block's 64-bit timestamp in the interface's `if_tsresol` units
 * (default 10^-6 s), floor-converted to ns, plus the interface's `if_tsoffset` seconds; an SPB has no
 * timestamp (0, 0). `linkType` and `interfaceId` come from the interface (ids are per section, §4.2);
 * `recordOffset` is the offset of the block.
 *
 * Errors (`CaptureError`, `CORRUPT` at the block's offset unless noted): a Block Total Length not a multiple
 * of 4, below the minimum of its type, above {@link PCAPNG_MAX_BLOCK_LEN} or differing from the trailing copy;
 * a captured length above `maxCapLen` (default 262144) or beyond the block body; an option running past its
 * block; a packet for an interface id not declared in the section; a bad byte-order magic; SHB major version
 * ≠ 1 or an `if_tsresol` needing more than 64 bits (`UNSUPPORTED`).
 */
export class PcapngParser implements CaptureParser {
  private readonly cb: PacketCallback;
  /** See {@link CaptureParseOptions.onRelease}. */
  private readonly onRelease: (() => void) | undefined;
  private readonly pkt: CapturedPacket;
  private readonly file: string;
  private readonly strict: boolean;
  private readonly maxCapLen: number;
  private readonly maxBlockLen: number;

  /** Byte order of the current section. */
  private le = true;
  private sawShb = false;
  /** Interfaces of the current section, by interface id. */
  private ifaces: Iface[] = [];
  private readonly allLinkTypes: number[] = [];
  private firstSnaplen = -1;
  private nsResolution = false;
  private readonly warnings: string[] = [];

  private base = 0;
  private carry = new Uint8Array(0);
  private carryView = new DataView(this.carry.buffer);
  private carryLen = 0;
  private carryStart = 0;

  private packets = 0;
  private truncatedPackets = 0;
  private busy = false;
  private ended = false;

  /**
   * @param onPacket called once per packet block, in file order, with a reused packet object
   * @param opts strictness, name for messages, captured-length bound
   */
  constructor(onPacket: PacketCallback, opts: CaptureParseOptions = {}) {
    this.cb = onPacket;
    this.onRelease = opts.onRelease;
    this.file = opts.name ?? '<stream>';
    this.strict = opts.strict ?? false;
    this.maxCapLen = opts.maxCapLen ?? MAXIMUM_SNAPLEN;
    this.maxBlockLen = Math.max(PCAPNG_MAX_BLOCK_LEN, this.maxCapLen + 65536);
    this.pkt = {
      data: this.carry,
      offset: 0,
      capLen: 0,
      origLen: 0,
      tsSec: 0,
      tsNsec: 0,
      linkType: 0,
      interfaceId: 0,
      recordOffset: 0,
    };
  }

  /** {@inheritDoc CaptureParser.push} */
  push(chunk: Uint8Array): void {
    if (this.busy) throw new Error('PcapngParser: used after an exception (or re-entered from the packet callback)');
    if (this.ended) throw new Error('PcapngParser: push() after end()');
    const n = chunk.length;
    if (n === 0) return;
    this.busy = true;
    let pos = 0;
    if (this.carryLen > 0) {
      pos = this.drainCarry(chunk);
      if (this.carryLen > 0) {
        this.base += n;
        this.busy = false;
        return;
      }
    }
    const dv = new DataView(chunk.buffer, chunk.byteOffset, n);
    const base = this.base;
    const maxBlockLen = this.maxBlockLen;
    const maxCapLen = this.maxCapLen;
    const pkt = this.pkt;
    const cb = this.cb;
    while (pos + 12 <= n) {
      const type = dv.getUint32(pos, this.le);
      const le = type === PcapngBlock.SHB ? this.bomOrder(dv.getUint32(pos + 8, true), base + pos) : this.le;
      const total = dv.getUint32(pos + 4, le);
      if ((total & 3) !== 0 || total < 32 || total > maxBlockLen || !this.sawShb) this.checkTotal(type, total, base + pos);
      if (total > n - pos) break;
      if (dv.getUint32(pos + total - 4, le) !== total) throw this.trailerError(type, total, dv.getUint32(pos + total - 4, le), base + pos);
      if (type === PcapngBlock.EPB) {
        // Hot path, same as block(): §4.3 Interface ID, Timestamp (upper, lower), Captured Len, Original Len, data.
        const ifId = dv.getUint32(pos + 8, le);
        const ifc = this.ifaces[ifId];
        if (ifc === undefined) throw this.undeclaredInterface(type, ifId, base + pos);
        const capLen = dv.getUint32(pos + 20, le);
        if (capLen > maxCapLen || capLen > total - 32) throw this.capLenError(type, capLen, total - 32, base + pos);
        const origLen = dv.getUint32(pos + 24, le);
        pkt.data = chunk;
        pkt.offset = pos + 28;
        pkt.capLen = capLen;
        pkt.origLen = origLen;
        pkt.linkType = ifc.linkType;
        pkt.interfaceId = ifId;
        pkt.recordOffset = base + pos;
        setTimestamp(pkt, dv.getUint32(pos + 12, le), dv.getUint32(pos + 16, le), ifc);
        if (capLen < origLen) this.truncatedPackets++;
        this.packets++;
        cb(pkt);
      } else this.block(chunk, dv, pos, type, total, base + pos);
      pos += total;
    }
    // Before the carry buffer is rewritten and the caller reuses `chunk`.
    this.onRelease?.();
    if (pos < n) {
      this.carryStart = base + pos;
      this.carryLen = 0;
      this.appendCarry(chunk, pos, n - pos);
    }
    this.base += n;
    this.busy = false;
  }

  /** {@inheritDoc CaptureParser.end} */
  end(): CaptureSummary {
    if (this.busy) throw new Error('PcapngParser: used after an exception');
    this.ended = true;
    let truncatedAt: number | undefined;
    if (this.base === 0) throw notCaptureError(this.file, new Uint8Array(0));
    if (this.carryLen > 0) {
      if (!this.sawShb && this.carryLen < 4) throw notCaptureError(this.file, this.carry.subarray(0, this.carryLen));
      truncatedAt = this.carryStart;
      let what: string;
      if (this.carryLen < 12) what = `${this.carryLen} of at least 12 block header bytes`;
      else {
        const type = this.carryView.getUint32(0, this.le);
        const le = type === PcapngBlock.SHB ? this.carryView.getUint32(8, true) === BOM_LE : this.le;
        what = `${blockName(type)}, ${this.carryLen} of ${this.carryView.getUint32(4, le)} bytes`;
      }
      const detail = `truncated at byte ${truncatedAt}: the last block is incomplete (${what}); ${this.packets} packets read`;
      if (this.strict) {
        this.busy = true;
        throw new CaptureError(this.file, truncatedAt, 'TRUNCATED', detail);
      }
      this.warnings.push(`${this.file}: ${detail}`);
    }
    const summary: CaptureSummary = {
      format: 'pcapng',
      packets: this.packets,
      bytes: this.base,
      linkTypes: this.allLinkTypes,
      snaplen: this.firstSnaplen < 0 ? 0 : this.firstSnaplen,
      truncatedPackets: this.truncatedPackets,
      warnings: this.warnings,
      tsResolution: this.nsResolution ? 'ns' : 'us',
    };
    if (truncatedAt !== undefined) summary.truncatedAt = truncatedAt;
    return summary;
  }

  /** Byte order from an SHB's byte-order magic read little-endian (§4.1); throws on anything else. */
  private bomOrder(bomLe: number, offset: number): boolean {
    if (bomLe === BOM_LE) return true;
    if (bomLe === BOM_BE) return false;
    this.busy = true;
    throw corruptError(this.file, 'section header block', offset, `bad byte-order magic 0x${bomLe.toString(16).padStart(8, '0')}`);
  }

  /** Validates a Block Total Length (§3.1) before the block is read. */
  private checkTotal(type: number, total: number, offset: number): void {
    if ((total & 3) === 0 && total >= minBlockLen(type) && total <= this.maxBlockLen) {
      if (!this.sawShb && type !== PcapngBlock.SHB) {
        this.busy = true;
        throw notCaptureError(this.file, new Uint8Array([type & 0xff, (type >>> 8) & 0xff, (type >>> 16) & 0xff, type >>> 24]));
      }
      return;
    }
    this.busy = true;
    let why: string;
    if ((total & 3) !== 0) why = `block total length ${total} is not a multiple of 4`;
    else if (total < minBlockLen(type)) why = `block total length ${total} is below the minimum ${minBlockLen(type)}`;
    else why = `block total length ${total} exceeds ${this.maxBlockLen}`;
    throw corruptError(this.file, blockName(type), offset, why);
  }

  private trailerError(type: number, total: number, trailer: number, offset: number): CaptureError {
    this.busy = true;
    return corruptError(this.file, blockName(type), offset, `block total length ${total} differs from its trailing copy ${trailer}`);
  }

  private appendCarry(chunk: Uint8Array, from: number, len: number): void {
    const need = this.carryLen + len;
    if (need > this.carry.length) {
      const grown = new Uint8Array(Math.max(need, Math.min(2 * this.carry.length, this.maxBlockLen), 4096));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
      this.carryView = new DataView(grown.buffer);
    }
    this.carry.set(chunk.subarray(from, from + len), this.carryLen);
    this.carryLen = need;
  }

  /** Completes the block in the carry buffer from `chunk`; processes it when complete. Returns bytes of `chunk` used. */
  private drainCarry(chunk: Uint8Array): number {
    const n = chunk.length;
    let pos = 0;
    if (this.carryLen < 12) {
      const take = Math.min(12 - this.carryLen, n);
      this.appendCarry(chunk, 0, take);
      pos = take;
      if (this.carryLen < 12) return n;
    }
    const cv = this.carryView;
    const type = cv.getUint32(0, this.le);
    const offset = this.carryStart;
    const le = type === PcapngBlock.SHB ? this.bomOrder(cv.getUint32(8, true), offset) : this.le;
    const total = cv.getUint32(4, le);
    this.checkTotal(type, total, offset);
    const take = Math.min(total - this.carryLen, n - pos);
    if (take > 0) this.appendCarry(chunk, pos, take);
    pos += take;
    if (this.carryLen < total) return n;
    const cv2 = this.carryView; // appendCarry may have grown the buffer
    if (cv2.getUint32(total - 4, le) !== total) throw this.trailerError(type, total, cv2.getUint32(total - 4, le), offset);
    this.carryLen = 0;
    this.block(this.carry, cv2, 0, type, total, offset);
    return pos;
  }

  /** Processes one complete, length-checked block at `buf[pos .. pos + total)`; `recOff` is its stream offset. */
  private block(buf: Uint8Array, dv: DataView, pos: number, type: number, total: number, recOff: number): void {
    const le = this.le;
    if (type === PcapngBlock.EPB) {
      // §4.3: Interface ID, Timestamp (upper, lower), Captured Packet Length, Original Packet Length, data.
      const ifId = dv.getUint32(pos + 8, le);
      const ifc = this.ifaces[ifId];
      if (ifc === undefined) throw this.undeclaredInterface(type, ifId, recOff);
      const capLen = dv.getUint32(pos + 20, le);
      if (capLen > this.maxCapLen || capLen > total - 32) throw this.capLenError(type, capLen, total - 32, recOff);
      this.deliver(buf, pos + 28, capLen, dv.getUint32(pos + 24, le), ifId, ifc, dv.getUint32(pos + 12, le), dv.getUint32(pos + 16, le), recOff);
    } else if (type === PcapngBlock.SHB) {
      this.section(dv, pos, total, recOff);
    } else if (type === PcapngBlock.IDB) {
      this.interfaceBlock(dv, buf, pos, total, recOff);
    } else if (type === PcapngBlock.SPB) {
      // §4.4: Original Packet Length, data; captured length = min(original length, body, snaplen).
      const ifc = this.ifaces[0];
      if (ifc === undefined) throw this.undeclaredInterface(type, 0, recOff);
      const origLen = dv.getUint32(pos + 8, le);
      let capLen = Math.min(origLen, total - 16);
      if (ifc.snaplen !== 0 && ifc.snaplen < capLen) capLen = ifc.snaplen;
      if (capLen > this.maxCapLen) throw this.capLenError(type, capLen, total - 16, recOff);
      const pkt = this.pkt;
      pkt.data = buf;
      pkt.offset = pos + 12;
      pkt.capLen = capLen;
      pkt.origLen = origLen;
      pkt.tsSec = 0;
      pkt.tsNsec = 0;
      pkt.linkType = ifc.linkType;
      pkt.interfaceId = 0;
      pkt.recordOffset = recOff;
      if (capLen < origLen) this.truncatedPackets++;
      this.packets++;
      this.cb(pkt);
    } else if (type === PcapngBlock.PB) {
      // Appendix A: Interface ID (16 bits), Drops Count (16 bits), Timestamp (upper, lower), Captured Len, Packet Len, data.
      const ifId = dv.getUint16(pos + 8, le);
      const ifc = this.ifaces[ifId];
      if (ifc === undefined) throw this.undeclaredInterface(type, ifId, recOff);
      const capLen = dv.getUint32(pos + 20, le);
      if (capLen > this.maxCapLen || capLen > total - 32) throw this.capLenError(type, capLen, total - 32, recOff);
      this.deliver(buf, pos + 28, capLen, dv.getUint32(pos + 24, le), ifId, ifc, dv.getUint32(pos + 12, le), dv.getUint32(pos + 16, le), recOff);
    }
    // NRB, ISB, DSB, custom and unknown blocks: skipped.
  }

  /** Fills the reused packet from an EPB/PB and calls the callback. */
  private deliver(
    buf: Uint8Array,
    dataOff: number,
    capLen: number,
    origLen: number,
    ifId: number,
    ifc: Iface,
    hi: number,
    lo: number,
    recOff: number,
  ): void {
    const pkt = this.pkt;
    pkt.data = buf;
    pkt.offset = dataOff;
    pkt.capLen = capLen;
    pkt.origLen = origLen;
    pkt.linkType = ifc.linkType;
    pkt.interfaceId = ifId;
    pkt.recordOffset = recOff;
    setTimestamp(pkt, hi, lo, ifc);
    if (capLen < origLen) this.truncatedPackets++;
    this.packets++;
    this.cb(pkt);
  }

  /** SHB (§4.1): starts a new section (byte order, empty interface table). */
  private section(dv: DataView, pos: number, total: number, recOff: number): void {
    this.le = dv.getUint32(pos + 8, true) === BOM_LE;
    const major = dv.getUint16(pos + 12, this.le);
    if (major !== 1) {
      this.busy = true;
      throw new CaptureError(
        this.file,
        recOff,
        'UNSUPPORTED',
        `unsupported pcapng version ${major}.${dv.getUint16(pos + 14, this.le)} in the section header block at byte ${recOff} (expected 1.x)`,
      );
    }
    this.checkOptions(dv, pos + 24, pos + total - 4, PcapngBlock.SHB, recOff, null);
    this.sawShb = true;
    this.ifaces = [];
  }

  /** IDB (§4.2): LinkType (16 bits), Reserved (16), SnapLen (32), options (if_tsresol = 9, if_tsoffset = 14). */
  private interfaceBlock(dv: DataView, buf: Uint8Array, pos: number, total: number, recOff: number): void {
    const le = this.le;
    const linkType = dv.getUint16(pos + 8, le);
    const snaplen = dv.getUint32(pos + 12, le);
    const opts = this.checkOptions(dv, pos + 16, pos + total - 4, PcapngBlock.IDB, recOff, buf);
    const tsresol = opts.tsresol;
    const binary = (tsresol & 0x80) !== 0;
    const k = tsresol & 0x7f;
    if (binary ? k > 63 : k > 19) {
      this.busy = true;
      throw new CaptureError(
        this.file,
        recOff,
        'UNSUPPORTED',
        `interface description block at byte ${recOff}: if_tsresol ${binary ? '2' : '10'}^-${k} is finer than a 64-bit timestamp can use`,
      );
    }
    let mode: number;
    let div = 1;
    let mul = 0;
    if (!binary && k <= 9) {
      mode = MODE_DEC;
      div = 10 ** k;
      mul = 10 ** (9 - k);
    } else if (binary && k <= 23) {
      mode = MODE_BIN;
      div = 2 ** k;
    } else if (!binary) {
      mode = MODE_DEC_FINE;
      div = 10 ** (k - 9);
    } else mode = MODE_BIN_FINE;
    if (k > 6) this.nsResolution = true;
    this.ifaces.push(new Iface(linkType, snaplen, mode, k, div, mul, opts.tsoffset));
    this.allLinkTypes.push(linkType);
    if (this.firstSnaplen < 0) this.firstSnaplen = snaplen === 0 || snaplen > MAXIMUM_SNAPLEN ? MAXIMUM_SNAPLEN : snaplen;
  }

  private readonly optResult = { tsresol: 6, tsoffset: 0 };

  /**
   * Walks the options in `[o, end)` (§3.5: code 16 bits, length 16 bits, value padded to 32 bits, optional
   * opt_endofopt); throws when an option runs past the block. For an IDB (`buf` given) returns if_tsresol
   * (default 6, i.e. 10^-6 s) and if_tsoffset (seconds, default 0).
   */
  private checkOptions(dv: DataView, o: number, end: number, type: number, recOff: number, buf: Uint8Array | null) {
    const res = this.optResult;
    res.tsresol = 6;
    res.tsoffset = 0;
    const le = this.le;
    while (o + 4 <= end) {
      const code = dv.getUint16(o, le);
      const len = dv.getUint16(o + 2, le);
      if (code === 0) break;
      if (o + 4 + len > end) {
        this.busy = true;
        throw corruptError(this.file, blockName(type), recOff, `option ${code} of length ${len} runs past the end of the block`);
      }
      if (buf !== null && code === 9) {
        if (len !== 1) {
          this.busy = true;
          throw corruptError(this.file, blockName(type), recOff, `if_tsresol option has length ${len} (expected 1)`);
        }
        res.tsresol = buf[o + 4]!;
      } else if (buf !== null && code === 14) {
        if (len !== 8) {
          this.busy = true;
          throw corruptError(this.file, blockName(type), recOff, `if_tsoffset option has length ${len} (expected 8)`);
        }
        const hi = le ? dv.getInt32(o + 8, true) : dv.getInt32(o + 4, false);
        const lo = le ? dv.getUint32(o + 4, true) : dv.getUint32(o + 8, false);
        res.tsoffset = hi * 4294967296 + lo;
      }
      o += 4 + ((len + 3) & ~3);
    }
    return res;
  }

  private undeclaredInterface(type: number, ifId: number, recOff: number): CaptureError {
    this.busy = true;
    return corruptError(
      this.file,
      blockName(type),
      recOff,
      `interface id ${ifId} not declared (the section has ${this.ifaces.length} interface${this.ifaces.length === 1 ? '' : 's'})`,
    );
  }

  private capLenError(type: number, capLen: number, body: number, recOff: number): CaptureError {
    this.busy = true;
    const why =
      capLen > this.maxCapLen
        ? `captured length ${capLen} exceeds ${this.maxCapLen}`
        : `captured length ${capLen} exceeds the block body (${body} bytes)`;
    return corruptError(this.file, blockName(type), recOff, why);
  }
}

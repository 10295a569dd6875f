/**
 * Streaming push parser of classic pcap files (draft-ietf-opsawg-pcap, "PCAP Capture File Format";
 * libpcap sf-pcap.c): a 24-byte file header followed by records of a 16-byte header and the captured bytes.
 * Both byte orders, microsecond (magic 0xA1B2C3D4) and nanosecond (0xA1B23C4D) timestamps.
 *
 * Hot path: one DataView per pushed chunk, no allocation and no closure per packet; only a record that
 * straddles two chunks is copied (into a carry buffer).
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

/** Length of the pcap file header, bytes (draft-ietf-opsawg-pcap §4). */
export const PCAP_FILE_HEADER_LEN = 24;
/** Length of a pcap record header, bytes (draft-ietf-opsawg-pcap §5). */
export const PCAP_RECORD_HEADER_LEN = 16;

/** Magic numbers of classic pcap as the first 4 bytes read little-endian (draft-ietf-opsawg-pcap §4). */
export const PcapMagic = {
  /** Little-endian file, microsecond timestamps (bytes d4 c3 b2 a1). */
  US_LE: 0xa1b2c3d4,
  /** Big-endian file, microsecond timestamps (bytes a1 b2 c3 d4). */
  US_BE: 0xd4c3b2a1,
  /** Little-endian file, nanosecond timestamps (bytes 4d 3c b2 a1). */
  NS_LE: 0xa1b23c4d,
  /** Big-endian file, nanosecond timestamps (bytes a1 b2 3c 4d). */
  NS_BE: 0x4d3cb2a1,
  /** Modified ("Kuznetzov") pcap, little-endian: 24-byte record headers; not supported. */
  MODIFIED_LE: 0xa1b2cd34,
  /** Modified pcap, big-endian; not supported. */
  MODIFIED_BE: 0x34cdb2a1,
} as const;

/**
 * Classifies the first 4 bytes of a stream: `'pcap'`, `'pcapng'` (Section Header Block type 0x0A0D0D0A,
 * pcapng §4.1), or `null`. Needs `head.length ≥ 4` (returns null otherwise).
 */
export function sniffCaptureFormat(head: Uint8Array): 'pcap' | 'pcapng' | null {
  if (head.length < 4) return null;
  const m = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
  if (m === PcapMagic.US_LE || m === PcapMagic.US_BE || m === PcapMagic.NS_LE || m === PcapMagic.NS_BE) return 'pcap';
  if (m === PcapMagic.MODIFIED_LE || m === PcapMagic.MODIFIED_BE) return 'pcap'; // rejected with a clear message by the parser
  if (m === 0x0a0d0d0a) return 'pcapng';
  return null;
}

/**
 * Push parser of a classic pcap stream (see {@link CaptureParser}). The first pushed byte must be byte 0 of
 * the file.
 *
 * Delivered fields: `tsSec` = ts_sec; `tsNsec` = ts_usec·1000 (µs files) or ts_nsec (ns files); a sub-second
 * field ≥ 1 s (seen in fuzzed files) is carried into `tsSec` and reported in a warning. `linkType` is the low
 * 16 bits of the header's LinkType field (the upper bits carry FCS information), `interfaceId` is 0.
 *
 * Errors (`CaptureError`): bad magic → `NOT_CAPTURE`; major version ≠ 2 or modified pcap → `UNSUPPORTED`;
 * a record whose captured length exceeds `maxCapLen` (default 262144, libpcap's MAXIMUM_SNAPLEN) → `CORRUPT`
 * at the record's offset. The header's snaplen itself is only informative: 0 or > 262144 is clamped to 262144
 * as libpcap does, with a warning.
 */
export class PcapParser implements CaptureParser {
  private readonly cb: PacketCallback;
  /** See {@link CaptureParseOptions.onRelease}. */
  private readonly onRelease: (() => void) | undefined;
  private readonly pkt: CapturedPacket;
  private readonly file: string;
  private readonly strict: boolean;
  private readonly maxCapLen: number;

  private headerDone = false;
  private le = true;
  private nano = false;
  private linkType = 0;
  private snaplen = 0;
  private readonly warnings: string[] = [];

  /** Stream offset of the next byte to be pushed (= bytes consumed so far). */
  private base = 0;
  /** Carry buffer: the beginning of the header/record that straddles a chunk boundary. */
  private carry = new Uint8Array(0);
  private carryView = new DataView(this.carry.buffer);
  private carryLen = 0;
  /** Stream offset of `carry[0]`. */
  private carryStart = 0;

  private packets = 0;
  private truncatedPackets = 0;
  private fracOverflows = 0;
  private busy = false;
  private ended = false;

  /**
   * @param onPacket called once per record, in file order, with a reused packet object
   * @param opts strictness, name for messages, captured-length bound
   */
  constructor(onPacket: PacketCallback, opts: CaptureParseOptions = {}) {
    this.cb = onPacket;
    this.onRelease = opts.onRelease;
    this.file = opts.name ?? '<stream>';
    this.strict = opts.strict ?? false;
    this.maxCapLen = opts.maxCapLen ?? MAXIMUM_SNAPLEN;
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
    if (this.busy) throw new Error('PcapParser: used after an exception (or re-entered from the packet callback)');
    if (this.ended) throw new Error('PcapParser: push() after end()');
    const n = chunk.length;
    if (n === 0) return;
    this.busy = true;
    let pos = 0;
    if (this.carryLen > 0 || !this.headerDone) {
      if (!this.headerDone && this.carryLen === 0 && n >= PCAP_FILE_HEADER_LEN) {
        this.parseHeader(new DataView(chunk.buffer, chunk.byteOffset, PCAP_FILE_HEADER_LEN), chunk);
        pos = PCAP_FILE_HEADER_LEN;
      } else {
        pos = this.drainCarry(chunk);
        if (this.carryLen > 0) {
          // The whole chunk went into the carry buffer and the pending unit is still incomplete.
          this.base += n;
          this.busy = false;
          return;
        }
      }
    }

    const dv = new DataView(chunk.buffer, chunk.byteOffset, n);
    const le = this.le;
    const nano = this.nano;
    const fracLimit = nano ? 1e9 : 1e6;
    const fracMul = nano ? 1 : 1000;
    const maxCapLen = this.maxCapLen;
    const base = this.base;
    const pkt = this.pkt;
    const cb = this.cb;
    let packets = this.packets;
    let truncated = this.truncatedPackets;
    pkt.data = chunk;
    while (pos + PCAP_RECORD_HEADER_LEN <= n) {
      const capLen = dv.getUint32(pos + 8, le);
      if (capLen > maxCapLen) {
        this.packets = packets;
        this.truncatedPackets = truncated;
        throw this.capLenError(base + pos, capLen);
      }
      const end = pos + PCAP_RECORD_HEADER_LEN + capLen;
      if (end > n) break;
      const origLen = dv.getUint32(pos + 12, le);
      const frac = dv.getUint32(pos + 4, le);
      pkt.tsSec = dv.getUint32(pos, le);
      if (frac < fracLimit) pkt.tsNsec = frac * fracMul;
      else this.normaliseFrac(frac);
      pkt.offset = pos + PCAP_RECORD_HEADER_LEN;
      pkt.capLen = capLen;
      pkt.origLen = origLen;
      pkt.recordOffset = base + pos;
      if (capLen < origLen) truncated++;
      packets++;
      cb(pkt);
      pos = end;
    }
    this.packets = packets;
    this.truncatedPackets = truncated;
    // Before the carry buffer is rewritten and the caller reuses `chunk`.
    this.onRelease?.();
    if (pos < n) this.startCarry(chunk, pos);
    this.base += n;
    this.busy = false;
  }

  /** {@inheritDoc CaptureParser.end} */
  end(): CaptureSummary {
    if (this.busy) throw new Error('PcapParser: used after an exception');
    this.ended = true;
    let truncatedAt: number | undefined;
    if (!this.headerDone) {
      if (this.carryLen < 4) throw notCaptureError(this.file, this.carry.subarray(0, this.carryLen));
      truncatedAt = 0;
      this.truncation(0, `the file header is incomplete (${this.carryLen} of ${PCAP_FILE_HEADER_LEN} bytes)`);
    } else if (this.carryLen > 0) {
      truncatedAt = this.carryStart;
      const what =
        this.carryLen < PCAP_RECORD_HEADER_LEN
          ? `${this.carryLen} of ${PCAP_RECORD_HEADER_LEN} record header bytes`
          : `${this.carryLen - PCAP_RECORD_HEADER_LEN} of ${this.carryView.getUint32(8, this.le)} captured bytes`;
      this.truncation(this.carryStart, `the last record is incomplete (${what})`);
    }
    if (this.fracOverflows > 0) {
      this.warnings.push(
        `${this.file}: ${this.fracOverflows} record(s) with a sub-second timestamp field ≥ 1 s (carried into the seconds)`,
      );
    }
    const summary: CaptureSummary = {
      format: 'pcap',
      packets: this.packets,
      bytes: this.base,
      linkTypes: this.headerDone ? [this.linkType] : [],
      snaplen: this.snaplen,
      truncatedPackets: this.truncatedPackets,
      warnings: this.warnings,
      tsResolution: this.nano ? 'ns' : 'us',
    };
    if (truncatedAt !== undefined) summary.truncatedAt = truncatedAt;
    return summary;
  }

  /** Records a truncation: throws in strict mode, else adds a warning. */
  private truncation(offset: number, what: string): void {
    const detail = `truncated at byte ${offset}: ${what}; ${this.packets} packets read`;
    if (this.strict) {
      this.busy = true;
      throw new CaptureError(this.file, offset, 'TRUNCATED', detail);
    }
    this.warnings.push(`${this.file}: ${detail}`);
  }

  /** Slow path of the timestamp: a sub-second field ≥ 1 s is carried into the seconds. */
  private normaliseFrac(frac: number): void {
    const unit = this.nano ? 1e9 : 1e6;
    const carrySec = Math.floor(frac / unit);
    this.pkt.tsSec += carrySec;
    this.pkt.tsNsec = (frac - carrySec * unit) * (this.nano ? 1 : 1000);
    this.fracOverflows++;
  }

  private capLenError(offset: number, capLen: number): CaptureError {
    return corruptError(this.file, 'record', offset, `captured length ${capLen} exceeds ${this.maxCapLen}`);
  }

  /** Parses the 24-byte file header (draft-ietf-opsawg-pcap §4) from `dv` (offset 0 = byte 0 of the file). */
  private parseHeader(dv: DataView, head: Uint8Array): void {
    const magic = dv.getUint32(0, true);
    if (magic === PcapMagic.US_LE || magic === PcapMagic.NS_LE) this.le = true;
    else if (magic === PcapMagic.US_BE || magic === PcapMagic.NS_BE) this.le = false;
    else if (magic === PcapMagic.MODIFIED_LE || magic === PcapMagic.MODIFIED_BE) {
      this.busy = true;
      throw new CaptureError(this.file, 0, 'UNSUPPORTED', 'modified (Kuznetzov) pcap is not supported; convert it with editcap -F pcap');
    } else {
      this.busy = true;
      throw notCaptureError(this.file, head.subarray(0, 4));
    }
    this.nano = magic === PcapMagic.NS_LE || magic === PcapMagic.NS_BE;
    const major = dv.getUint16(4, this.le);
    if (major !== 2) {
      this.busy = true;
      throw new CaptureError(this.file, 4, 'UNSUPPORTED', `unsupported pcap version ${major}.${dv.getUint16(6, this.le)} (expected 2.x)`);
    }
    const snaplen = dv.getUint32(16, this.le);
    if (snaplen === 0 || snaplen > MAXIMUM_SNAPLEN) {
      this.warnings.push(`${this.file}: file header snaplen ${snaplen} is out of range, using ${MAXIMUM_SNAPLEN}`);
      this.snaplen = MAXIMUM_SNAPLEN;
    } else this.snaplen = snaplen;
    this.linkType = dv.getUint32(20, this.le) & 0xffff;
    this.pkt.linkType = this.linkType;
    this.pkt.interfaceId = 0;
    this.headerDone = true;
  }

  /** Copies `chunk[pos ..]` (the start of an incomplete unit) into the carry buffer. */
  private startCarry(chunk: Uint8Array, pos: number): void {
    this.carryStart = this.base + pos;
    this.carryLen = 0;
    this.appendCarry(chunk, pos, chunk.length - pos);
  }

  private appendCarry(chunk: Uint8Array, from: number, len: number): void {
    const need = this.carryLen + len;
    if (need > this.carry.length) {
      const grown = new Uint8Array(Math.max(need, Math.min(2 * this.carry.length, PCAP_RECORD_HEADER_LEN + this.maxCapLen), 4096));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
      this.carryView = new DataView(grown.buffer);
    }
    this.carry.set(chunk.subarray(from, from + len), this.carryLen);
    this.carryLen = need;
  }

  /** Moves bytes from `chunk` into the carry buffer until the pending unit (carry or file header) is
   * complete; processes it if so. Returns the number of bytes of `chunk` consumed. */
  private drainCarry(chunk: Uint8Array): number {
    const n = chunk.length;
    let pos = 0;
    if (this.carryLen === 0) this.carryStart = this.base;
    if (!this.headerDone) {
      const take = Math.min(PCAP_FILE_HEADER_LEN - this.carryLen, n);
      this.appendCarry(chunk, 0, take);
      pos = take;
      if (this.carryLen >= 4 && this.carryLen - take < 4) {
        // Check the magic as soon as it is complete, so that a non-capture fails on its first bytes.
        if (sniffCaptureFormat(this.carry.subarray(0, 4)) !== 'pcap') {
          this.busy = true;
          throw notCaptureError(this.file, this.carry.subarray(0, 4));
        }
      }
      if (this.carryLen < PCAP_FILE_HEADER_LEN) return n;
      this.parseHeader(this.carryView, this.carry);
      this.carryLen = 0;
      if (pos === n) return n;
      this.carryStart = this.base + pos;
      // A record may start right after the header in this chunk: fall back to the main loop.
      return pos;
    }
    // Complete the record header.
    if (this.carryLen < PCAP_RECORD_HEADER_LEN) {
      const take = Math.min(PCAP_RECORD_HEADER_LEN - this.carryLen, n);
      this.appendCarry(chunk, 0, take);
      pos = take;
      if (this.carryLen < PCAP_RECORD_HEADER_LEN) return n;
    }
    const cv = this.carryView;
    const capLen = cv.getUint32(8, this.le);
    if (capLen > this.maxCapLen) {
      this.busy = true;
      throw this.capLenError(this.carryStart, capLen);
    }
    const total = PCAP_RECORD_HEADER_LEN + capLen;
    const take = Math.min(total - this.carryLen, n - pos);
    this.appendCarry(chunk, pos, take);
    pos += take;
    if (this.carryLen < total) return n;
    // The record is complete in the carry buffer: deliver it from there.
    const cv2 = this.carryView;
    const pkt = this.pkt;
    pkt.data = this.carry;
    pkt.tsSec = cv2.getUint32(0, this.le);
    const frac = cv2.getUint32(4, this.le);
    if (frac < (this.nano ? 1e9 : 1e6)) pkt.tsNsec = frac * (this.nano ? 1 : 1000);
    else this.normaliseFrac(frac);
    pkt.offset = PCAP_RECORD_HEADER_LEN;
    pkt.capLen = capLen;
    pkt.origLen = cv2.getUint32(12, this.le);
    pkt.recordOffset = this.carryStart;
    if (capLen < pkt.origLen) this.truncatedPackets++;
    this.packets++;
    this.carryLen = 0;
    this.cb(pkt);
    return pos;
  }
}

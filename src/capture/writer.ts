/**
 * Classic pcap writer (draft-ietf-opsawg-pcap §4–5): little-endian file header with the microsecond
 * (0xA1B2C3D4) or nanosecond (0xA1B23C4D) magic, version 2.4, then one 16-byte record header + bytes per
 * packet. Records are copied into a large buffer written with `writeSync`; the file is written under a
 * temporary name in the same directory and renamed into place by `close()`, so that an interrupted or aborted
 * write never leaves a half-written file at the destination.
 */
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { PcapMagic, PCAP_FILE_HEADER_LEN, PCAP_RECORD_HEADER_LEN } from './pcap.js';
import { MAXIMUM_SNAPLEN, type CapturedPacket } from './types.js';

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet written (a classic pcap holds one link type). */
  linkType: number;
  /** Snapshot length written in the header, bytes (1 … 262144; default 262144). Longer packets are cut to it. */
  snaplen?: number;
  /**
   * Timestamp precision: 'us' (magic 0xA1B2C3D4, tsNsec truncated to whole µs) or 'ns' (magic 0xA1B23C4D,
   * exact). Default 'us'. Use the reader's `CaptureSummary.tsResolution` to preserve precision.
   */
  tsResolution?: 'us' | 'ns';
  /** Size of the output buffer, bytes (default 4 MiB). */
  bufferSize?: number;
}

/**
 * Writes packets to a classic pcap file at `path`.
 *
 * ```ts
 * const w = new PcapWriter('flagged.pcap', { linkType: summary.linkTypes[0], tsResolution: summary.tsResolution });
 * readCaptureSync('in.pcap', (p) => { if (flag(p)) w.write(p); });
 * w.close();
 * ```
 *
 * The constructor creates the temporary file `.<name>.<random>.tmp` beside `path` (throws the `fs` error if
 * that fails); `close()` flushes and renames it to `path` (replacing an existing file); `abort()` deletes it.
 */
export class PcapWriter {
  /** Destination path. */
  readonly path: string;
  /** Temporary path written until `close()`. */
  readonly tempPath: string;
  /** Link type written in the header. */
  readonly linkType: number;
  /** Snaplen written in the header, bytes. */
  readonly snaplen: number;
  /** Timestamp precision of the file. */
  readonly tsResolution: 'us' | 'ns';
  private fd: number;
  private readonly buf: Uint8Array;
  private readonly dv: DataView;
  private used = 0;
  private count = 0;
  private written = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';

  /**
   * @param path destination file
   * @param opts link type (required), snaplen, timestamp precision, buffer size
   * @throws RangeError for a snaplen outside 1 … 262144 or a link type outside 0 … 65535; the `fs` error when
   *   the temporary file cannot be created
   */
  constructor(path: string, opts: PcapWriterOptions) {
    const snaplen = opts.snaplen ?? MAXIMUM_SNAPLEN;
    if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > MAXIMUM_SNAPLEN) {
      throw new RangeError(`PcapWriter: snaplen ${snaplen} outside 1 … ${MAXIMUM_SNAPLEN}`);
    }
    if (!Number.isInteger(opts.linkType) || opts.linkType < 0 || opts.linkType > 0xffff) {
      throw new RangeError(`PcapWriter: link type ${opts.linkType} outside 0 … 65535`);
    }
    this.path = path;
    this.linkType = opts.linkType;
    this.snaplen = snaplen;
    this.tsResolution = opts.tsResolution ?? 'us';
    const size = Math.max(opts.bufferSize ?? 4 * 1024 * 1024, PCAP_FILE_HEADER_LEN, PCAP_RECORD_HEADER_LEN + snaplen);
    this.buf = new Uint8Array(size);
    this.dv = new DataView(this.buf.buffer);
    this.tempPath = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    this.fd = openSync(this.tempPath, 'wx', 0o644);
    const dv = this.dv;
    dv.setUint32(0, this.tsResolution === 'ns' ? PcapMagic.NS_LE : PcapMagic.US_LE, true);
    dv.setUint16(4, 2, true);
    dv.setUint16(6, 4, true);
    dv.setInt32(8, 0, true); // thiszone (always 0)
    dv.setUint32(12, 0, true); // sigfigs (always 0)
    dv.setUint32(16, snaplen, true);
    dv.setUint32(20, this.linkType, true);
    this.used = PCAP_FILE_HEADER_LEN;
  }

  /** Packets written so far. */
  get packets(): number {
    return this.count;
  }

  /** Bytes of the file so far (header + records, including what is still buffered). */
  get bytes(): number {
    return this.written + this.used;
  }

  /**
   * Appends one packet, copying `pkt.data[pkt.offset .. pkt.offset + pkt.capLen)` (cut to the snaplen; the
   * original length is kept). Timestamp: `tsSec` and `tsNsec` (µs files: floor(tsNsec / 1000)).
   * @throws RangeError when the packet's link type differs from the file's or tsSec is outside 0 … 2^32-1;
   *   Error after close()/abort()
   */
  write(pkt: CapturedPacket): void {
    if (pkt.linkType !== this.linkType) {
      throw new RangeError(`PcapWriter: packet link type ${pkt.linkType} differs from the file's ${this.linkType}`);
    }
    this.writeRecord(pkt.tsSec, pkt.tsNsec, pkt.data, pkt.offset, pkt.capLen, pkt.origLen);
  }

  /**
   * Appends one record from raw fields: `tsSec` (s, 0 … 2^32-1), `tsNsec` (ns, 0 … 999999999), the bytes
   * `data[offset .. offset + capLen)` (cut to the snaplen) and the original length `origLen` (bytes).
   * @throws RangeError for out-of-range fields; Error after close()/abort()
   */
  writeRecord(tsSec: number, tsNsec: number, data: Uint8Array, offset: number, capLen: number, origLen: number): void {
    if (this.state !== 'open') throw new Error(`PcapWriter: write after ${this.state === 'closed' ? 'close' : 'abort'}()`);
    if (!(tsSec >= 0 && tsSec <= 0xffffffff) || !(tsNsec >= 0 && tsNsec < 1e9)) {
      throw new RangeError(`PcapWriter: timestamp ${tsSec} s + ${tsNsec} ns cannot be written to a pcap`);
    }
    if (offset < 0 || capLen < 0 || offset + capLen > data.length) throw new RangeError('PcapWriter: packet bytes out of range');
    const len = capLen > this.snaplen ? this.snaplen : capLen;
    if (this.used + PCAP_RECORD_HEADER_LEN + len > this.buf.length) this.flush();
    const dv = this.dv;
    const p = this.used;
    dv.setUint32(p, tsSec, true);
    dv.setUint32(p + 4, this.tsResolution === 'ns' ? tsNsec : Math.floor(tsNsec / 1000), true);
    dv.setUint32(p + 8, len, true);
    dv.setUint32(p + 12, origLen >>> 0, true);
    this.buf.set(data.subarray(offset, offset + len), p + PCAP_RECORD_HEADER_LEN);
    this.used = p + PCAP_RECORD_HEADER_LEN + len;
    this.count++;
  }

  /** Writes the buffered bytes to the temporary file. */
  private flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off);
    this.written += this.used;
    this.used = 0;
  }

  /**
   * Flushes, closes and renames the temporary file to `path`. Idempotent after success.
   * @throws the `fs` error (the temporary file is then removed)
   */
  close(): void {
    if (this.state === 'closed') return;
    if (this.state === 'aborted') throw new Error('PcapWriter: close() after abort()');
    try {
      this.flush();
      closeSync(this.fd);
      this.fd = -1;
      renameSync(this.tempPath, this.path);
      this.state = 'closed';
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Discards the output: closes and deletes the temporary file; `path` is left untouched. Idempotent. */
  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
      this.fd = -1;
    }
    try {
      unlinkSync(this.tempPath);
    } catch {
      /* already gone */
    }
  }
}

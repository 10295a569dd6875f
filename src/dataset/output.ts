/**
 * Buffered output to a file or stdout, written as bytes into one reused buffer (numbers and ASCII are
 * formatted straight into it, so writing a million CSV rows builds no per-cell strings). A file is written
 * under a temporary name in the same directory and renamed into place by {@link OutputSink.close}, so an
 * interrupted or failed run never leaves a half-written file under the requested name.
 */
import { closeSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isoMicros } from '../features/meter.js';
import { borrowShortestBuffer, CELL_ROOM, commaCellsInPlace, DIGIT_PAIRS, MAX_CELLS, returnShortestBuffer, writeShortest } from './shortest.js';

/** Error writing an output (disk full, closed pipe, permission). */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  /**
   * @param file the output's path as given (`-` for stdout)
   * @param message the text after `file: `
   * @param code the system error code when there is one (`EPIPE`: the reader of a pipe went away, `ENOSPC`:
   *   disk full, `EACCES`, …), so that a caller can end quietly on a closed pipe as Unix tools do
   */
  constructor(readonly file: string, message: string, readonly code?: string) {
    super(`${file}: ${message}`);
    this.stack = `OutputError: ${this.message}`;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Writes `buf[0, len)` to `fd`, waiting out EAGAIN on non-blocking pipes. */
function writeAll(fd: number, buf: Uint8Array, len: number): void {
  let off = 0;
  while (off < len) {
    try {
      off += writeSync(fd, buf, off, len - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') { Atomics.wait(sleeper, 0, 0, 2); continue; }
      throw e;
    }
  }
}

/** Seconds whose timestamp prefix {@link OutputSink.isoTimestamp} keeps (a power of two). */
const ISO_CACHE = 512;

/** Most decimals written by the string-free path of {@link OutputSink.number}. */
const SHORT_DECIMALS = 4;

/**
 * Writes `x` as `String(x)` would, into `buf` at `pos`, without building a string, and returns the position after
 * it; −1 (nothing written) for values left to `String()`: |x| ≥ 2^53 or below 1e-4 and not 0, NaN, ±Infinity, and
 * the rare doubles {@link writeShortest} hands back. Paths: one digit, 32-bit integers, other safe integers,
 * decimals with at most {@link SHORT_DECIMALS} decimals, then {@link writeShortest}. Needs 34 bytes of room (see
 * writeShortest).
 */
export function writeNumber(buf: Uint8Array, pos: number, x: number): number {
  let v = x;
  if (v >= 0 && v < 10 && (v | 0) === v) {
    buf[pos] = 48 + v;
    return pos + 1;
  }
  if ((v | 0) === v) {
    // 32-bit integer (counts, bytes, ports, most µs values)
    if (v < 0) {
      if (v === -2147483648) return -1;
      buf[pos++] = 45;
      v = -v;
    }
    const n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6
      : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
    let p = pos + n;
    const end = p;
    // Two digits per division.
    while (v >= 10) {
      const q = (v / 100) | 0;
      const pair = (v - q * 100) << 1;
      buf[--p] = DIGIT_PAIRS[pair + 1];
      buf[--p] = DIGIT_PAIRS[pair];
      v = q;
      if (v === 0) return end;
    }
    buf[--p] = 48 + v;
    return end;
  }
  if (Number.isSafeInteger(v)) {
    if (v < 0) { buf[pos++] = 45; v = -v; }
    let n = 1;
    for (let t = v; t >= 10; t = Math.floor(t / 10)) n++;
    let p = pos + n;
    const end = p;
    while (v >= 10) {
      const q = Math.floor(v / 10);
      buf[--p] = 48 + (v - q * 10);
      v = q;
    }
    buf[--p] = 48 + v;
    return end;
  }
  // Short decimals first, but only when |x| · 10^4 is a whole number (a cheap necessary-in-practice test; a value it
  // lets through to writeShortest is still written exactly, only more slowly).
  const t = (v < 0 ? -v : v) * 10000;
  const end = t === Math.floor(t) ? shortDecimal(buf, pos, v) : -1;
  return end >= 0 ? end : writeShortest(buf, pos, v);
}

/**
 * Writes a finite non-integer `v` with at most {@link SHORT_DECIMALS} decimals (0.5, 140.25, 1187.648) and returns
 * the position after it, or −1 when `v` needs more digits. The text equals `String(v)`: with k decimals and
 * D = round(|v| · 10^k) < 2^53, D / 10^k is exactly what parsing the text gives (one correctly rounded division:
 * Clinger's fast path), so the first k whose D / 10^k === |v| yields a text that reads back as v with the fewest
 * digits, and at most one such D exists because 10^-k is far wider than v's ulp. That is ECMAScript's
 * Number::toString choice (shortest round-trip digits) for 1e-6 ≤ |v| < 1e21.
 */
function shortDecimal(buf: Uint8Array, pos: number, v: number): number {
  const a = v < 0 ? -v : v;
  if (!(a >= 1e-4 && a < 1e11)) return -1;
  let scale = 1, k = 0, d = 0;
  for (;;) {
    if (++k > SHORT_DECIMALS) return -1;
    scale *= 10;
    d = Math.round(a * scale);
    if (d / scale === a) break;
  }
  if (v < 0) buf[pos++] = 45;
  const ip = Math.floor(d / scale);
  let frac = d - ip * scale;
  pos = writeNumber(buf, pos, ip); // an integer below 1e11: never −1
  buf[pos++] = 46; // '.'
  let p = pos + k;
  const end = p;
  for (let i = 0; i < k; i++) {
    const q = Math.floor(frac / 10);
    buf[--p] = 48 + frac - q * 10;
    frac = q;
  }
  // k was the smallest exact count, so the last decimal is not 0.
  return end;
}

/** The write buffer of a closed sink. */
const EMPTY = Buffer.alloc(0);

/** Sinks still open, so an interrupted process can remove their temporary files. */
const openSinks = new Set<OutputSink>();

/** Aborts every open sink (for SIGINT/SIGTERM handlers): temporary files are removed. */
export function abortOpenSinks(): void {
  for (const s of [...openSinks]) s.abort();
}

/** A buffered byte sink with text and number writers. */
export class OutputSink {
  private buf: Buffer;
  private pos = 0;
  /** The buffer is the digit writer's lent region ({@link borrowShortestBuffer}): {@link commaNumbers} writes there. */
  private inPlace: boolean;
  private closed = false;
  /** The descriptor belongs to another sink ({@link borrow}): close() flushes but neither closes nor renames. */
  private borrowed = false;

  private constructor(
    /** Path as given ('-' for stdout). */
    readonly path: string,
    private readonly descriptor: number,
    private readonly tempPath: string | null,
    chunkBytes: number,
    /** File the temporary is renamed to on close (the path, or the regular file a symbolic link names). */
    private readonly finalPath: string = path,
  ) {
    // The first open sink of a thread writes into the digit writer's memory, where long numbers are written in place.
    const size = Math.max(4096, chunkBytes);
    const lent = borrowShortestBuffer(size);
    this.inPlace = lent !== null;
    this.buf = lent ?? Buffer.allocUnsafe(size);
    openSinks.add(this);
  }

  /**
   * Opens `path` for writing ('-' = stdout). A regular file (new or existing) is written under the temporary
   * name `.NAME.PID.tmp` beside it and renamed into place by {@link close}; an existing device, FIFO or socket
   * (`/dev/null`, `/dev/stdout`, a named pipe) is written in place.
   * @param chunkBytes size of the write buffer (default 1 MiB)
   * @throws OutputError when the file cannot be created (missing directory, permission, a directory).
   */
  static open(path: string, chunkBytes = 1 << 20): OutputSink {
    if (path === '-') return new OutputSink(path, 1, null, chunkBytes);
    // A path that exists and is not a regular file (/dev/null, /dev/stdout, a FIFO, a terminal) is written in
    // place: renaming a temporary over it would replace the device or FIFO with a regular file (this once
    // turned /dev/null into a plain file for the whole machine). A symbolic link to a regular file is
    // followed, so the link stays and its target is replaced.
    let target = path;
    try {
      const st = statSync(path);
      if (st.isDirectory()) throw new OutputError(path, 'cannot write: is a directory');
      if (!st.isFile()) {
        try {
          return new OutputSink(path, openSync(path, 'w'), null, chunkBytes);
        } catch (e) {
          throw new OutputError(path, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
        }
      }
      target = realpathSync(path);
    } catch (e) {
      if (e instanceof OutputError) throw e;
      // Absent (the usual case) or not stat-able: create it through a temporary below.
    }
    const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
    try {
      return new OutputSink(path, openSync(temp, 'w'), temp, chunkBytes, target);
    } catch (e) {
      throw new OutputError(path, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, (e as NodeJS.ErrnoException).code);
    }
  }

  /**
   * A sink writing to the already open descriptor `fd` of another sink (e.g. on a worker thread: descriptors are
   * per process). Its {@link close} only flushes; the owner closes and renames.
   * @param path the owner's path, for error messages
   */
  static borrow(fd: number, path: string, chunkBytes = 1 << 20): OutputSink {
    const s = new OutputSink(path, fd, null, chunkBytes);
    s.borrowed = true;
    openSinks.delete(s);
    return s;
  }

  /** The file descriptor written to (for {@link borrow} on another thread); flush this sink first. */
  get fd(): number {
    return this.descriptor;
  }

  /** Appends text (UTF-8). */
  write(s: string): void {
    const n = s.length;
    if (n <= 64) {
      // Short text (addresses, timestamps, service names): copy ASCII code units directly, which is several times
      // faster than a call into Buffer.write for a few bytes.
      if (this.pos + n > this.buf.length) this.flush();
      const buf = this.buf, start = this.pos;
      let p = start;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) { p = -1; break; }
        buf[p++] = c;
      }
      if (p >= 0) { this.pos = p; return; }
      this.pos = start; // not ASCII: encode below
    }
    // Worst case 3 bytes per UTF-16 unit.
    if (this.pos + n * 3 > this.buf.length) {
      this.flush();
      if (n * 3 > this.buf.length) {
        const b = Buffer.from(s, 'utf8');
        this.writeOut(b, b.length);
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /**
   * Appends the few bytes of `b` (a short constant cell, e.g. `,tcp_end`) with a loop: for a dozen bytes a call into the
   * typed-array copy builtin ({@link bytes}) costs more than the stores. `b` must fit the buffer (4 KiB at least).
   */
  shortBytes(b: Uint8Array): void {
    const n = b.length;
    if (this.pos + n > this.buf.length) this.flush();
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = b[i];
    this.pos = p;
  }

  /** Appends `b[0, n)`. */
  bytes(b: Uint8Array, n = b.length): void {
    if (this.pos + n > this.buf.length) {
      this.flush();
      if (n > this.buf.length) { this.writeOut(b, n); return; }
    }
    this.buf.set(n === b.length ? b : b.subarray(0, n), this.pos);
    this.pos += n;
  }

  /**
   * Appends the ISO 8601 text of a time, exactly `isoMicros(sec, nsec)` (features/meter.ts), e.g.
   * 2026-11-22T03:05:53.123456Z, writing the six microsecond digits directly and the date-time part from the text
   * cached for recent seconds (see {@link isoPrefixes}).
   */
  isoTimestamp(sec: number, nsec: number): void {
    let us = Math.floor(nsec / 1000);
    if (!(us >= 0)) us = 0;
    else if (us > 999999) us = 999999;
    const slot = sec & (ISO_CACHE - 1), at = slot * 20;
    if (this.isoSecs[slot] !== sec) {
      const text = isoMicros(sec, nsec);
      // Cache the part before the microseconds only for the usual form (…SS.uuuuuuZ); epoch-seconds text is rare.
      if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(text)) {
        this.isoSecs[slot] = sec;
        for (let i = 0; i < 20; i++) this.isoPrefixes[at + i] = text.charCodeAt(i);
      } else {
        this.isoSecs[slot] = NaN;
        this.write(text);
        return;
      }
    }
    if (this.pos + 28 > this.buf.length) this.flush();
    const buf = this.buf, pre = this.isoPrefixes;
    let p = this.pos;
    for (let i = 0; i < 20; i++) buf[p + i] = pre[at + i];
    p += 26;
    this.pos = p + 1;
    buf[p] = 90; // 'Z'
    for (let i = 0; i < 6; i++) {
      const q = Math.floor(us / 10);
      buf[--p] = 48 + us - q * 10;
      us = q;
    }
  }

  /**
   * `YYYY-MM-DDTHH:MM:SS.` of recent seconds, direct-mapped by second: rows come in flow-end order, so their start
   * seconds alternate between a few recent ones (e.g. TCP flows ending seconds after they start, UDP flows two
   * minutes later).
   */
  private readonly isoSecs = new Float64Array(ISO_CACHE).fill(NaN);
  private readonly isoPrefixes = new Uint8Array(ISO_CACHE * 20);

  /**
   * Appends an IPv4 address given as its 32-bit value (host order, e.g. 0x0a000001) in dotted-quad form, the text
   * {@link import('../flow/key.js').formatAddress} gives, without building a string.
   */
  ipv4(v: number): void {
    if (this.pos + 15 > this.buf.length) this.flush();
    const buf = this.buf;
    let p = this.pos;
    for (let shift = 24; shift >= 0; shift -= 8) {
      const o = (v >>> shift) & 255;
      if (o >= 100) {
        const h = (o / 100) | 0, t = o - h * 100;
        buf[p++] = 48 + h;
        buf[p++] = DIGIT_PAIRS[2 * t];
        buf[p++] = DIGIT_PAIRS[2 * t + 1];
      } else if (o >= 10) {
        buf[p++] = DIGIT_PAIRS[2 * o];
        buf[p++] = DIGIT_PAIRS[2 * o + 1];
      } else buf[p++] = 48 + o;
      if (shift !== 0) buf[p++] = 46; // '.'
    }
    this.pos = p;
  }

  /**
   * Flushes unless `n` more bytes fit in the buffer, so that appends of up to `n` bytes in all (each append's own room
   * check included) stay in the buffer, at the positions {@link position} gives, for {@link repeat}.
   * @throws RangeError when `n` exceeds the buffer (4 KiB at least)
   */
  reserve(n: number): void {
    if (n > this.buf.length) throw new RangeError(`OutputSink.reserve: ${n} bytes do not fit a ${this.buf.length}-byte buffer`);
    if (this.pos + n > this.buf.length) this.flush();
  }

  /** Position of the next byte in the buffer; meaningful until the next flush (see {@link reserve}). */
  get position(): number {
    return this.pos;
  }

  /** Appends a copy of the buffer's bytes [from, to), appended since the last flush (see {@link reserve}). */
  repeat(from: number, to: number): void {
    const buf = this.buf;
    let p = this.pos;
    for (let i = from; i < to; i++) buf[p++] = buf[i];
    this.pos = p;
  }

  /** Appends one byte (an ASCII character code). */
  byte(c: number): void {
    if (this.pos >= this.buf.length) this.flush();
    this.buf[this.pos++] = c;
  }

  /**
   * Appends a number in JavaScript's shortest round-trip form (the text `String(x)` gives); integers below
   * 2^53, short decimals and other doubles in [1e-4, 1e16) ({@link writeShortest}) are formatted without building
   * a string (see {@link writeNumber}).
   */
  number(x: number): void {
    if (this.pos + CELL_ROOM > this.buf.length) this.flush();
    const end = writeNumber(this.buf, this.pos, x);
    if (end >= 0) { this.pos = end; return; }
    const s = String(x), buf = this.buf;
    for (let i = 0; i < s.length; i++) buf[this.pos++] = s.charCodeAt(i);
  }

  /**
   * Appends `,v` for v = `values[offset + indices[i]]`, i = 0 … indices.length − 1 (a CSV row's feature cells):
   * a comma and then v as {@link number} writes it. In the lent buffer the WebAssembly module writes the cells
   * ({@link commaCellsInPlace}, {@link MAX_CELLS} at a time); elsewhere one loop here, which keeps the buffer position
   * local.
   */
  commaNumbers(values: Float64Array, offset: number, indices: Int32Array): void {
    const n = indices.length;
    if (this.inPlace) {
      // Cells per call: at most MAX_CELLS, and as many as the buffer has room for (≥ 113 with its 4 KiB minimum).
      const chunk = Math.min(MAX_CELLS, Math.floor(this.buf.length / CELL_ROOM));
      for (let i = 0; i < n; i += chunk) {
        const to = Math.min(n, i + chunk);
        if (this.pos + CELL_ROOM * (to - i) > this.buf.length) this.flush();
        this.pos = commaCellsInPlace(this.pos, values, offset, indices, i, to);
      }
      return;
    }
    let buf = this.buf, pos = this.pos;
    for (let i = 0; i < n; i++) {
      if (pos + CELL_ROOM > buf.length) {
        this.pos = pos;
        this.flush();
        buf = this.buf;
        pos = this.pos;
      }
      buf[pos++] = 44;
      const v = values[offset + indices[i]];
      if (v >= 0 && v < 10 && (v | 0) === v) { buf[pos++] = 48 + v; continue; } // one digit: most cells
      const end = writeNumber(buf, pos, v);
      if (end >= 0) { pos = end; continue; }
      const s = String(v);
      for (let c = 0; c < s.length; c++) buf[pos++] = s.charCodeAt(c);
    }
    this.pos = pos;
  }

  /** Writes buffered bytes now. @throws OutputError on a write error (e.g. ENOSPC, EPIPE). */
  flush(): void {
    if (this.pos === 0) return;
    const n = this.pos;
    this.pos = 0;
    this.writeOut(this.buf, n);
  }

  private writeOut(b: Uint8Array, n: number): void {
    if (this.closed) throw new OutputError(this.path, 'write after close');
    try {
      writeAll(this.descriptor, b, n);
    } catch (e) {
      this.abort();
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOSPC' ? 'no space left on device' : code === 'EPIPE' ? 'broken pipe (the reader went away)' : code ?? (e as Error).message;
      throw new OutputError(this.path, `write failed: ${why}${code && code !== why ? ` (${code})` : ''}`, code);
    }
  }

  /** Flushes and, for a file, renames the temporary file into place. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.giveBackBuffer();
    openSinks.delete(this);
    if (this.borrowed) return;
    try {
      if (this.tempPath) {
        closeSync(this.descriptor);
        renameSync(this.tempPath, this.finalPath);
      } else if (this.descriptor > 2) closeSync(this.descriptor);
    } catch (e) {
      if (this.tempPath) try { unlinkSync(this.tempPath); } catch { /* gone */ }
      const code = (e as NodeJS.ErrnoException).code;
      throw new OutputError(this.path, `cannot finish writing (${code ?? (e as Error).message})`, code);
    }
  }

  /**
   * Returns the write buffer to the digit writer when it was lent from there (another sink may then get it), and
   * keeps an empty one: a write after close reaches {@link writeOut}, which throws.
   */
  private giveBackBuffer(): void {
    returnShortestBuffer(this.buf);
    this.buf = EMPTY;
    this.inPlace = false;
  }

  /** Drops the output: a file's temporary is removed; nothing is renamed. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.pos = 0;
    this.giveBackBuffer();
    openSinks.delete(this);
    if (this.borrowed) return;
    if (this.tempPath) {
      try { closeSync(this.descriptor); } catch { /* already closed */ }
      try { unlinkSync(this.tempPath); } catch { /* gone */ }
    } else if (this.descriptor > 2) {
      try { closeSync(this.descriptor); } catch { /* already closed */ }
    }
  }
}

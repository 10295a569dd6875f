/**
 * Capture readers: format detection (classic pcap or pcapng, from the first 4 bytes) and reading a file,
 * standard input (`-`) or any byte stream through the push parsers of `pcap.ts` and `pcapng.ts`.
 */
import { closeSync, fstatSync, openSync, read, readSync, createReadStream } from 'node:fs';
import { CaptureError, notCaptureError } from './errors.js';
import { PcapParser, sniffCaptureFormat } from './pcap.js';
import { PcapngParser } from './pcapng.js';
import type { CaptureParseOptions, CaptureParser, CaptureSummary, PacketCallback } from './types.js';

/** Options of {@link readCapture} / {@link readCaptureSync}. */
export interface ReadCaptureOptions extends CaptureParseOptions {
  /** Size of the reused read buffer for regular files, bytes (default {@link DEFAULT_READ_BUFFER}, 64 KiB). */
  bufferSize?: number;
}

/**
 * Default read buffer size for regular files, bytes: 64 KiB, so that the packets the parser and decoder then walk
 * are still in the core's nearest caches when they get there (an 8 MiB buffer had left them in L3 at best). Measured
 * on the 486 MB benchmark capture (`flowsift extract`):
 * - 256 KiB against 8 MiB (13 runs each): system time median 0.64 s against 0.82 s, ~10 MB less peak RSS;
 * - 64 KiB against 256 KiB (8 alternating runs each): metering thread CPU median ~4.0 s against ~4.18 s, wall median
 *   4.47 s against 4.67 s; 32 KiB and 128 KiB were within the noise of 64 KiB (4 runs each).
 * One `read` per 64 KiB is about 7,400 system calls for that capture.
 */
export const DEFAULT_READ_BUFFER = 64 * 1024;

/**
 * A push parser that detects the format from the first 4 bytes (pcap magic a1b2c3d4/a1b23c4d in either byte
 * order, or the pcapng SHB type 0a0d0d0a) and then forwards every chunk to a {@link PcapParser} or
 * {@link PcapngParser}. The detection costs nothing per packet (one branch per chunk).
 *
 * @throws CaptureError `NOT_CAPTURE` from `push` once 4 bytes are known and match no magic; `EMPTY` or
 *   `NOT_CAPTURE` from `end` for input shorter than 4 bytes; otherwise as the format's parser
 */
export class AutoCaptureParser implements CaptureParser {
  private inner: CaptureParser | null = null;
  private head = new Uint8Array(4);
  private headLen = 0;
  private readonly cb: PacketCallback;
  private readonly opts: CaptureParseOptions;

  /** @param onPacket called once per packet with a reused object (see {@link CapturedPacket}) */
  constructor(onPacket: PacketCallback, opts: CaptureParseOptions = {}) {
    this.cb = onPacket;
    this.opts = opts;
  }

  /** Detected format, or null before 4 bytes have been pushed. */
  get format(): 'pcap' | 'pcapng' | null {
    return this.inner === null ? null : this.inner instanceof PcapParser ? 'pcap' : 'pcapng';
  }

  /** {@inheritDoc CaptureParser.push} */
  push(chunk: Uint8Array): void {
    if (this.inner !== null) {
      this.inner.push(chunk);
      return;
    }
    if (this.headLen === 0 && chunk.length >= 4) {
      this.start(chunk);
      this.inner!.push(chunk);
      return;
    }
    // Fewer than 4 bytes so far: collect them (rare: tiny first chunks).
    const take = Math.min(4 - this.headLen, chunk.length);
    this.head.set(chunk.subarray(0, take), this.headLen);
    this.headLen += take;
    if (this.headLen < 4) return;
    this.start(this.head);
    this.inner!.push(this.head);
    if (take < chunk.length) this.inner!.push(chunk.subarray(take));
  }

  /** {@inheritDoc CaptureParser.end} */
  end(): CaptureSummary {
    if (this.inner === null) throw notCaptureError(this.opts.name ?? '<stream>', this.head.subarray(0, this.headLen));
    return this.inner.end();
  }

  private start(head: Uint8Array): void {
    const fmt = sniffCaptureFormat(head);
    if (fmt === null) throw notCaptureError(this.opts.name ?? '<stream>', head.subarray(0, 4));
    this.inner = fmt === 'pcap' ? new PcapParser(this.cb, this.opts) : new PcapngParser(this.cb, this.opts);
  }
}

/**
 * Creates a format-detecting push parser (see {@link AutoCaptureParser}): feed it bytes with `push`, finish
 * with `end()` for the {@link CaptureSummary}.
 */
export function createCaptureParser(onPacket: PacketCallback, opts: CaptureParseOptions = {}): AutoCaptureParser {
  return new AutoCaptureParser(onPacket, opts);
}

/** Maps a Node.js file-system error to a CaptureError naming the path (no stack trace). */
function fsError(path: string, err: unknown): CaptureError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new CaptureError(path, -1, 'NOT_FOUND', 'cannot read: no such file or directory', { cause: err });
    case 'EISDIR':
      return new CaptureError(path, -1, 'IS_DIRECTORY', 'cannot read: is a directory', { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new CaptureError(path, -1, 'PERMISSION', 'cannot read: permission denied', { cause: err });
    default: {
      const msg = err instanceof Error ? err.message : String(err);
      return new CaptureError(path, -1, 'IO', `cannot read: ${msg}`, { cause: err });
    }
  }
}

/** Display name of a path for messages. */
function displayName(path: string, opts: CaptureParseOptions): string {
  return opts.name ?? (path === '-' ? 'stdin' : path);
}

/** Reads an open, blocking fd to its end through `parser` with one reused buffer. */
function pumpSync(fd: number, parser: CaptureParser, name: string, bufferSize: number): void {
  const buf = new Uint8Array(bufferSize);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, bufferSize, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
        throw new CaptureError(name, -1, 'IO', 'cannot read synchronously from a non-blocking input; use readCapture', { cause: err });
      }
      throw fsError(name, err);
    }
    if (n === 0) return;
    parser.push(n === bufferSize ? buf : buf.subarray(0, n));
  }
}

/** Bytes {@link pumpYielding} reads between two yields to the event loop: 1 MiB. */
const YIELD_BYTES = 1 << 20;

/**
 * {@link pumpSync} for the async readers: the same `readSync` loop, but it yields to the event loop each time it has
 * read {@link YIELD_BYTES} more (after every buffer when buffers are that large), so that signal handlers (Ctrl-C:
 * remove a half-written output and exit), timers and stream callbacks run during a long read; at the reading speed of
 * `extract` (~100 MB/s and more) that is every 10 ms or less. A yield costs one `setImmediate` and a poll of the event
 * loop: one per 64 KiB buffer had been ~7,400 `epoll_pwait` calls for the 486 MB benchmark capture (strace).
 */
async function pumpYielding(
  fd: number,
  parser: CaptureParser,
  name: string,
  bufferSize: number,
  ahead: PageCacheFiller | null = null,
): Promise<void> {
  const buf = new Uint8Array(bufferSize);
  let sinceYield = 0;
  let done = 0;
  ahead?.advance(0);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, bufferSize, null);
    } catch (err) {
      throw fsError(name, err);
    }
    if (n === 0) return;
    parser.push(n === bufferSize ? buf : buf.subarray(0, n));
    sinceYield += n;
    if (sinceYield >= YIELD_BYTES) {
      done += sinceYield;
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
      ahead?.advance(done);
    }
  }
}

/** How far {@link PageCacheFiller} keeps the page cache filled ahead of the reader, bytes: 16 MiB. */
const FILL_AHEAD_BYTES = 16 << 20;
/** Size of one {@link PageCacheFiller} read, bytes: 1 MiB. */
const FILL_CHUNK_BYTES = 1 << 20;
/** Most {@link PageCacheFiller} reads in flight at once (libuv's thread pool has 4 threads by default). */
const FILL_IN_FLIGHT = 4;

/**
 * Brings a regular file into the page cache ahead of a sequential reader, as argus does with its reading thread:
 * positional 1 MiB reads into a scratch buffer (their bytes are dropped) on libuv's thread pool, on a file
 * descriptor of its own (so that the reader's own readahead state is left alone), kept up to
 * {@link FILL_AHEAD_BYTES} ahead of the position the reader reports through {@link advance}.
 *
 * Why: the kernel's own readahead did not keep a reader that computes between reads out of disk waits on this
 * project's VM (`read_ahead_kb` 8192, DAMON reclaiming idle page cache): reading the 486 MB benchmark capture in
 * 64 KiB `read`s at extract's pace (~150 MB/s) after evicting it from the page cache (`posix_fadvise` DONTNEED), the
 * reads waited 0.23–0.67 s in all, against 0.03 s with the file cached, and 0.03 s cold with a thread filling the
 * cache 16 MiB ahead. argus, whose reading thread stays ahead, ran as fast cold as warm. `flowsift extract` of that
 * capture, 6 alternating runs each: evicted before every run, wall median 2.80 s without the filler, 2.65 s with it
 * (main thread CPU 2.46 against 2.23 s); cached, 2.65 against 2.67 s (paired median +0.02 s), the same total CPU.
 * Reads of pages already cached cost a copy on a thread-pool thread (486 MB for that capture).
 *
 * Errors (the file shrinking, EIO…) only stop the filling: the reader's own `read` reports them.
 */
export class PageCacheFiller {
  private fd: number;
  private readonly size: number;
  private readonly scratch = new Uint8Array(FILL_CHUNK_BYTES);
  /** Next offset to fill from, bytes. */
  private next = 0;
  /** Offset to fill up to, bytes. */
  private until = 0;
  private inFlight = 0;
  private stopped = false;
  private drained: (() => void) | null = null;
  /** Bytes the completed fill reads brought in (or found) in the page cache so far. */
  filledBytes = 0;
  private readonly onRead = (err: NodeJS.ErrnoException | null, n: number): void => {
    this.inFlight--;
    if (err || n === 0) this.stopped = true;
    else this.filledBytes += n;
    this.pump();
    if (this.inFlight === 0 && this.drained) this.drained();
  };

  /**
   * @param path the file to fill from (opened again, read-only)
   * @param size its size, bytes: filling stops there
   * @returns a filler that does nothing when the file cannot be opened again
   */
  constructor(path: string, size: number) {
    this.size = size;
    try {
      this.fd = openSync(path, 'r');
    } catch {
      this.fd = -1;
      this.stopped = true;
    }
  }

  /**
   * The reader has consumed the file up to byte `pos`: fills the cache up to `pos` + 16 MiB (at most 4 reads in
   * flight; each completed read starts the next).
   */
  advance(pos: number): void {
    this.until = Math.min(this.size, pos + FILL_AHEAD_BYTES);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.inFlight < FILL_IN_FLIGHT && this.next < this.until) {
      this.inFlight++;
      read(this.fd, this.scratch, 0, FILL_CHUNK_BYTES, this.next, this.onRead);
      this.next += FILL_CHUNK_BYTES;
    }
  }

  /** Stops filling, waits for the reads in flight and closes the file descriptor. Never rejects. */
  async close(): Promise<void> {
    this.stopped = true;
    if (this.fd < 0) return;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    try {
      closeSync(this.fd);
    } catch {
      // already closed: nothing to release
    }
    this.fd = -1;
  }
}

/** Opens `path` for reading and returns its fd and whether it is a regular file; CaptureError on failure. */
function openInput(path: string, name: string): { fd: number; regular: boolean; size: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fsError(name, err);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new CaptureError(name, -1, 'IS_DIRECTORY', 'cannot read: is a directory');
    return { fd, regular: st.isFile(), size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err instanceof CaptureError ? err : fsError(name, err);
  }
}

/**
 * Reads a whole capture synchronously (pcap or pcapng, detected), calling `onPacket` for every packet in file
 * order with a reused {@link CapturedPacket}. The fastest way to read a file: a `readSync` loop over one
 * reused buffer (`bufferSize`, default 64 KiB); records inside the buffer are delivered in place, only records
 * straddling two reads are copied.
 *
 * `path` `-` reads standard input (fd 0), which must then be a file or a blocking pipe; prefer
 * {@link readCapture} for pipes. FIFOs and devices given by path are read the same way.
 *
 * @returns the summary (packet count, link types, truncation, warnings…)
 * @throws CaptureError `NOT_FOUND`/`IS_DIRECTORY`/`PERMISSION`/`IO` when the input cannot be read; the
 *   parser's errors for bad or corrupt captures (packets before the error stay delivered); any error thrown by
 *   `onPacket`, unchanged
 */
export function readCaptureSync(path: string, onPacket: PacketCallback, opts: ReadCaptureOptions = {}): CaptureSummary {
  const name = displayName(path, opts);
  const parser = new AutoCaptureParser(onPacket, { ...opts, name });
  const bufferSize = opts.bufferSize ?? DEFAULT_READ_BUFFER;
  if (path === '-') {
    pumpSync(0, parser, name, bufferSize);
    return parser.end();
  }
  const { fd } = openInput(path, name);
  try {
    pumpSync(fd, parser, name, bufferSize);
  } finally {
    closeSync(fd);
  }
  return parser.end();
}

/**
 * Reads a capture from any async iterable of byte chunks (a Node.js `Readable`, `process.stdin`, a fetch
 * body…). Chunks are parsed as they arrive; the stream is not buffered whole.
 *
 * @param name file name for messages (default `<stream>`)
 * @throws CaptureError as {@link readCaptureSync}; errors of the stream itself become `IO` CaptureErrors
 */
export async function readCaptureStream(
  stream: AsyncIterable<Uint8Array | string>,
  onPacket: PacketCallback,
  opts: CaptureParseOptions = {},
): Promise<CaptureSummary> {
  const name = opts.name ?? '<stream>';
  const parser = new AutoCaptureParser(onPacket, { ...opts, name });
  try {
    for await (const chunk of stream) {
      if (typeof chunk === 'string') throw new CaptureError(name, -1, 'IO', 'the stream yields text, not bytes (set no encoding)');
      parser.push(chunk);
    }
  } catch (err) {
    if (err instanceof CaptureError || !(err instanceof Error) || !('code' in err) || typeof err.code !== 'string') throw err;
    throw fsError(name, err); // a stream/system error (EIO, EPIPE…)
  }
  return parser.end();
}

/**
 * Reads a whole capture (pcap or pcapng, detected from the first bytes), calling `onPacket` once per packet in
 * file order with a reused {@link CapturedPacket} (copy what you keep).
 *
 * - `path` `-`: standard input (e.g. `tcpdump -w - | flowsift …`); a redirected regular file is read with the
 *   synchronous loop, a pipe/terminal through the async stream.
 * - regular file: the `readSync` loop of {@link readCaptureSync} (fastest), yielding to the event loop after
 *   every MiB read so that signal handlers and timers run during a long read.
 * - FIFO/socket/device given by path (e.g. `<(tcpdump -w -)`): an async read stream.
 *
 * @returns the summary (see {@link CaptureSummary}); a truncated file is a warning + `truncatedAt` unless
 *   `strict`
 * @throws (rejects with) CaptureError for unreadable input or a bad/corrupt capture, with the path and byte
 *   offset; errors thrown by `onPacket` unchanged
 */
export async function readCapture(path: string, onPacket: PacketCallback, opts: ReadCaptureOptions = {}): Promise<CaptureSummary> {
  const name = displayName(path, opts);
  if (path === '-') {
    let regular = false;
    try {
      regular = fstatSync(0).isFile();
    } catch {
      regular = false;
    }
    if (regular) {
      const parser = new AutoCaptureParser(onPacket, { ...opts, name });
      await pumpYielding(0, parser, name, opts.bufferSize ?? DEFAULT_READ_BUFFER);
      return parser.end();
    }
    return readCaptureStream(process.stdin, onPacket, { ...opts, name });
  }
  const { fd, regular, size } = openInput(path, name);
  if (regular) {
    const parser = new AutoCaptureParser(onPacket, { ...opts, name });
    const ahead = size > FILL_AHEAD_BYTES ? new PageCacheFiller(path, size) : null;
    try {
      await pumpYielding(fd, parser, name, opts.bufferSize ?? DEFAULT_READ_BUFFER, ahead);
    } finally {
      closeSync(fd);
      await ahead?.close();
    }
    return parser.end();
  }
  const stream = createReadStream('', { fd, highWaterMark: 1024 * 1024, autoClose: true });
  try {
    return await readCaptureStream(stream, onPacket, { ...opts, name });
  } finally {
    stream.destroy();
  }
}

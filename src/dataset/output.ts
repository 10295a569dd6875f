/**
 * Buffered text output to a file or stdout. A file is written under a temporary name in the same directory
 * and renamed into place by {@link OutputSink.close}, so an interrupted or failed run never leaves a
 * half-written file under the requested name.
 */
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Error writing an output (disk full, closed pipe, permission). */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Writes all of `buf` to `fd`, waiting out EAGAIN on non-blocking pipes. */
function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') { Atomics.wait(sleeper, 0, 0, 2); continue; }
      throw e;
    }
  }
}

/** A buffered text sink: strings are joined into chunks of about `chunkBytes` and written synchronously. */
export class OutputSink {
  private parts: string[] = [];
  private pending = 0;
  private closed = false;

  private constructor(
    /** Path as given ('-' for stdout). */
    readonly path: string,
    private readonly fd: number,
    private readonly tempPath: string | null,
    private readonly chunkBytes: number,
  ) {}

  /**
   * Opens `path` for writing ('-' = stdout).
   * @throws OutputError when the directory is not writable.
   */
  static open(path: string, chunkBytes = 1 << 20): OutputSink {
    if (path === '-') return new OutputSink(path, 1, null, chunkBytes);
    const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    try {
      return new OutputSink(path, openSync(temp, 'w'), temp, chunkBytes);
    } catch (e) {
      throw new OutputError(path, `cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  /** Appends text. */
  write(s: string): void {
    this.parts.push(s);
    this.pending += s.length;
    if (this.pending >= this.chunkBytes) this.flush();
  }

  /** Writes buffered text now. @throws OutputError on a write error (e.g. ENOSPC, EPIPE). */
  flush(): void {
    if (this.pending === 0 && this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.pending = 0;
    try {
      writeAll(this.fd, buf);
    } catch (e) {
      this.abort();
      throw new OutputError(this.path, `write failed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }

  /** Flushes and, for a file, renames the temporary file into place. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.tempPath) {
      closeSync(this.fd);
      renameSync(this.tempPath, this.path);
    }
  }

  /** Drops the output: a file's temporary is removed; nothing is renamed. */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.parts = [];
    if (this.tempPath) {
      try { closeSync(this.fd); } catch { /* already closed */ }
      try { unlinkSync(this.tempPath); } catch { /* gone */ }
    }
  }
}

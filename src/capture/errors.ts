/**
 * Errors of the capture stage. Captures are untrusted input: every problem with the bytes of a capture
 * (or with opening it) is reported as a {@link CaptureError} with the file name, the byte offset and a
 * one-line message, e.g. `capture.pcap: corrupt record at byte 123456: captured length 4294967295 exceeds 262144`.
 */

/**
 * Machine-readable kind of a {@link CaptureError}.
 * - `EMPTY`: the input holds no byte at all.
 * - `NOT_CAPTURE`: the first 4 bytes are no pcap/pcapng magic number (or the input is shorter than 4 bytes).
 * - `UNSUPPORTED`: a recognised but unsupported variant (pcap major version ≠ 2, modified/Kuznetzov pcap,
 *   pcapng major version ≠ 1, a timestamp resolution beyond 64 bits).
 * - `CORRUPT`: a length field or structure that cannot be right (the error is at `offset`).
 * - `TRUNCATED`: the input ends inside a header or record (only thrown in strict mode).
 * - `NOT_FOUND`, `IS_DIRECTORY`, `PERMISSION`, `IO`: the file could not be opened or read.
 */
export type CaptureErrorCode =
  | 'EMPTY'
  | 'NOT_CAPTURE'
  | 'UNSUPPORTED'
  | 'CORRUPT'
  | 'TRUNCATED'
  | 'NOT_FOUND'
  | 'IS_DIRECTORY'
  | 'PERMISSION'
  | 'IO';

/**
 * An error in a capture or in access to it. `message` is a single line that starts with the file name
 * (`<file>: …`) and is meant to be shown to the user as is; `stack` is reduced to `CaptureError: <message>`
 * because the input, not the code, is at fault (no stack trace is printed for a bad file).
 */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  /** File name as given by the caller (`stdin` for standard input, `<stream>` when unnamed). */
  readonly file: string;
  /** Byte offset in the file/stream where the problem lies (start of the offending header or record); -1 when not applicable. */
  readonly offset: number;
  /** Kind of error. */
  readonly code: CaptureErrorCode;

  /**
   * @param file file name shown to the user
   * @param offset byte offset of the problem, or -1
   * @param code kind of error
   * @param detail the message after `<file>: ` (one line, no trailing period)
   */
  constructor(file: string, offset: number, code: CaptureErrorCode, detail: string, options?: { cause?: unknown }) {
    super(`${file}: ${detail}`, options);
    this.file = file;
    this.offset = offset;
    this.code = code;
    this.stack = `CaptureError: ${this.message}`;
  }
}

/**
 * A `CORRUPT` error for the header/record/block that starts at byte `offset`:
 * message `<file>: corrupt <what> at byte <offset>: <detail>`.
 */
export function corruptError(file: string, what: string, offset: number, detail: string): CaptureError {
  return new CaptureError(file, offset, 'CORRUPT', `corrupt ${what} at byte ${offset}: ${detail}`);
}

/** `0x` followed by the lowercase hex of `bytes[0 .. min(n, length))`, e.g. `0x7b226120`. */
export function hexBytes(bytes: Uint8Array, n = 4): string {
  let s = '0x';
  const end = Math.min(n, bytes.length);
  for (let i = 0; i < end; i++) s += (bytes[i]! < 16 ? '0' : '') + bytes[i]!.toString(16);
  return s;
}

/**
 * A `NOT_CAPTURE` (or `EMPTY`) error for input whose first bytes (`head`, at most 4 needed) are no capture
 * magic: `<file>: not a pcap or pcapng file (starts with 0x7b226120)`, with a hint for common look-alikes
 * (gzip, text).
 */
export function notCaptureError(file: string, head: Uint8Array): CaptureError {
  if (head.length === 0) return new CaptureError(file, 0, 'EMPTY', 'empty input: not a pcap or pcapng file (0 bytes)');
  let hint = '';
  if (head[0] === 0x1f && head[1] === 0x8b) hint = ': gzip-compressed, decompress it first';
  else if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) hint = ': zstd-compressed, decompress it first';
  else if (head.length >= 4 && head.subarray(0, 4).every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f))) {
    hint = ': looks like text';
  }
  const what = head.length < 4 ? `only ${head.length} byte${head.length === 1 ? '' : 's'}: ${hexBytes(head)}` : `starts with ${hexBytes(head)}`;
  return new CaptureError(file, 0, 'NOT_CAPTURE', `not a pcap or pcapng file (${what}${hint})`);
}

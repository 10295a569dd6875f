/**
 * Bounds-checked byte helpers shared by the service parsers. Every parser works on a window
 * `d[o, o + n)` of the captured payload and never reads outside it: callers pass `n` =
 * `capturedPayloadLen` (or less), never the length a header claims.
 */

/** The ASCII bytes of a constant pattern (built once at module load). */
export function ascii(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0x7f;
  return b;
}

/** True when `d[o, o + n)` starts with `pat` (exact bytes). */
export function startsWith(d: Uint8Array, o: number, n: number, pat: Uint8Array): boolean {
  const m = pat.length;
  if (n < m) return false;
  for (let i = 0; i < m; i++) if (d[o + i] !== pat[i]) return false;
  return true;
}

/** True when `d[o, o + n)` starts with `pat` ignoring ASCII case (`pat` must be lower case). */
export function startsWithCI(d: Uint8Array, o: number, n: number, pat: Uint8Array): boolean {
  const m = pat.length;
  if (n < m) return false;
  for (let i = 0; i < m; i++) {
    let c = d[o + i];
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== pat[i]) return false;
  }
  return true;
}

/** Index of the first occurrence of `pat` (case-insensitive, `pat` lower case) in `d[o, o + n)`, or -1. */
export function indexOfCI(d: Uint8Array, o: number, n: number, pat: Uint8Array): number {
  const m = pat.length, last = o + n - m;
  for (let i = o; i <= last; i++) if (startsWithCI(d, i, m, pat)) return i;
  return -1;
}

/** Big-endian unsigned 16-bit at `p` (caller checks bounds). */
export function u16(d: Uint8Array, p: number): number {
  return (d[p] << 8) | d[p + 1];
}

/** Big-endian unsigned 32-bit at `p` (caller checks bounds). */
export function u32(d: Uint8Array, p: number): number {
  return ((d[p] << 24) >>> 0) + ((d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]);
}

/** True for an ASCII decimal digit. */
export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** True for an ASCII upper-case letter. */
export function isUpper(c: number): boolean {
  return c >= 0x41 && c <= 0x5a;
}

/** True for an ASCII letter or digit. */
export function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a);
}

/** Longest server name kept (characters, after escaping); DNS names are at most 253 characters. */
export const MAX_NAME_CHARS = 255;

/**
 * Text of `d[s, s + len)` as a server name: printable ASCII as is, any other byte (and `\`) escaped as
 * `\xHH`, cut at {@link MAX_NAME_CHARS}. Allocates the string (the service family calls it through its NameCache,
 * so only for bytes not seen recently).
 */
export function nameText(d: Uint8Array, s: number, len: number): string {
  let out = '';
  const end = s + len;
  for (let i = s; i < end && out.length < MAX_NAME_CHARS; i++) {
    const c = d[i];
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return out.length > MAX_NAME_CHARS ? out.slice(0, MAX_NAME_CHARS) : out;
}

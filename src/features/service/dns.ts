/**
 * DNS message recognition (also mDNS, LLMNR and NetBIOS name service, which share the format) and the first
 * question's name.
 *
 * Formats:
 * - Header (RFC 1035 §4.1.1): ID(2), QR|Opcode(4)|AA|TC|RD, RA|Z|AD|CD|RCODE(4), QDCOUNT, ANCOUNT, NSCOUNT,
 *   ARCOUNT (2 each). Opcodes 0 QUERY, 1 IQUERY, 2 STATUS, 4 NOTIFY (RFC 1996), 5 UPDATE (RFC 2136).
 * - Question (RFC 1035 §4.1.2): QNAME as labels (length 1–63, then the bytes; a zero length ends the name,
 *   §3.1; a name is at most 255 bytes, §2.3.4), QTYPE(2), QCLASS(2). The first name of a message cannot
 *   use compression (§4.1.4 pointers point backwards, and before it there is only the header).
 * - Resource record (RFC 1035 §4.1.3): NAME, TYPE, CLASS, TTL(4), RDLENGTH(2): mDNS announcements
 *   (RFC 6762 §8.3) are responses without a question.
 * - mDNS sets the top bit of QCLASS for unicast responses / cache flush (RFC 6762 §5.4, §10.2).
 * - DNS over TCP: a 2-byte length before each message (RFC 1035 §4.2.2, RFC 7766 §8).
 *
 * Strict mode (used when no DNS port is involved) asks for exactly one question with a host-name-like
 * QNAME (letters, digits, `-`, `_`) and a registered QTYPE, so random UDP payloads are not taken for DNS.
 */
import { u16 } from './bytes.js';

/** Longest encoded name (RFC 1035 §2.3.4). */
const MAX_NAME = 255;

/**
 * Recognises a DNS message at `d[o]`.
 * @param strict require the tight form described in the module comment
 * @param q receives [offset in `d`, encoded length] of the first question's name (when the message has a
 *   question and its name is complete within the window), else [-1, 0]
 * @returns true when the bytes are a plausible DNS message
 */
export function dnsMessage(d: Uint8Array, o: number, n: number, strict: boolean, q: Int32Array): boolean {
  q[0] = -1;
  q[1] = 0;
  if (n < 12) return false;
  if (strict && (d[o + 4] !== 0 || d[o + 5] !== 1)) return false; // QDCOUNT 1, as below (the cheapest refusal first)
  const f1 = d[o + 2], f2 = d[o + 3];
  const qr = f1 >> 7, opcode = (f1 >> 3) & 0x0f, rcode = f2 & 0x0f;
  if (opcode !== 0 && opcode !== 1 && opcode !== 2 && opcode !== 4 && opcode !== 5) return false;
  const qd = u16(d, o + 4), an = u16(d, o + 6), ns = u16(d, o + 8), ar = u16(d, o + 10);
  if (strict) {
    if (qd !== 1 || opcode !== 0 || (f2 & 0x40) !== 0 || rcode > 5) return false;
    if (qr === 0 && (an !== 0 || ns !== 0 || ar > 1)) return false;
    if (qr === 1 && (an > 64 || ns > 64 || ar > 64)) return false;
  } else {
    if (qd > 32 || an > 1024 || ns > 1024 || ar > 1024 || rcode > 11) return false;
    if (qd === 0 && (qr === 0 || an + ns + ar === 0)) return false;
  }
  const nameEnd = skipName(d, o + 12, o + n, strict);
  if (nameEnd === -1) return false;
  if (nameEnd === -2) return !strict; // cut by the capture: the part seen is consistent
  const fixed = qd > 0 ? 4 : 10;
  if (nameEnd + fixed > o + n) return !strict;
  const type = u16(d, nameEnd), cls = u16(d, nameEnd + 2) & 0x7fff;
  if (type === 0) return false;
  if (cls !== 1 && cls !== 3 && cls !== 4 && cls !== 254 && cls !== 255) return false;
  if (strict && !knownType(type)) return false;
  if (qd > 0) {
    q[0] = o + 12;
    q[1] = nameEnd - (o + 12);
  }
  return true;
}

/**
 * Skips an uncompressed name starting at `p`: returns the offset after it, -1 when malformed, -2 when it
 * runs past `end` (cut).
 */
function skipName(d: Uint8Array, p: number, end: number, strict: boolean): number {
  const start = p;
  for (;;) {
    if (p >= end) return -2;
    const len = d[p];
    if (len === 0) return p + 1;
    if (len > 63) return -1; // pointer (0xc0) or reserved label type: impossible as the first name
    if (p + 1 + len - start > MAX_NAME) return -1;
    const lend = p + 1 + len;
    // Any byte is legal in a label (RFC 2181 §11); strict mode asks for host-name characters.
    if (strict) for (let i = p + 1; i < lend && i < end; i++) if (!hostChar(d[i])) return -1;
    p = lend; // advances by ≥ 2 per label, bounded by MAX_NAME
  }
}

function hostChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) || c === 0x2d || c === 0x5f;
}

/** RR types of the IANA "Resource Record (RR) TYPEs" registry in common use. */
function knownType(t: number): boolean {
  return (t >= 1 && t <= 65) || t === 99 || (t >= 249 && t <= 257);
}

/**
 * Text of the encoded name at `d[p, p + len)` (a name {@link dnsMessage} validated): labels joined by dots,
 * printable ASCII and space as is, other bytes (and `\`, and `.` inside a label) as `\xHH`, at most 255
 * characters; the root name is "".
 */
export function dnsNameText(d: Uint8Array, p: number, len: number): string {
  const end = p + len;
  let out = '';
  while (p < end && out.length <= MAX_NAME) {
    const l = d[p];
    if (l === 0 || l > 63) break;
    if (out.length > 0) out += '.';
    const lend = Math.min(p + 1 + l, end);
    for (let i = p + 1; i < lend; i++) {
      const c = d[i];
      out += c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x2e ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
    }
    p = p + 1 + l;
  }
  return out.length > MAX_NAME ? out.slice(0, MAX_NAME) : out;
}

/**
 * TLS and DTLS handshake recognition and the Server Name Indication of a ClientHello.
 *
 * Formats:
 * - TLS record header (RFC 8446 §5.1, RFC 5246 §6.2.1): type(1) = 22 handshake, legacy_record_version(2) =
 *   0x0300…0x0304, length(2) ≤ 2^14 + 2048.
 * - Handshake header (RFC 8446 §4): msg_type(1) (1 ClientHello, 2 ServerHello), length(3).
 * - ClientHello (RFC 8446 §4.1.2): legacy_version(2), random(32), legacy_session_id<0..32>,
 *   cipher_suites<2..2^16-2>, legacy_compression_methods<1..2^8-1>, extensions<8..2^16-1>; each extension
 *   type(2) length(2) data.
 * - server_name extension, type 0 (RFC 6066 §3): ServerNameList<1..2^16-1> of name_type(1) = 0 host_name,
 *   HostName<1..2^16-1>.
 * - SSL 2.0-compatible ClientHello (RFC 5246 Appendix E.2): 2-byte length with the high bit set,
 *   msg_type 1, version 0x0002 or 0x03xx.
 * - A connection seen from its middle shows records of any content type (RFC 8446 §5.1: 20
 *   change_cipher_spec, 21 alert, 22 handshake, 23 application_data) back to back.
 * - DTLS record (RFC 9147 §4, RFC 6347 §4.1): type(1), version(2) = 0xfeff / 0xfefd / 0xfefc (or 0x0100,
 *   OpenSSL's pre-standard DTLS 1.0 still used by Cisco AnyConnect), epoch(2),
 *   sequence_number(6), length(2); handshake msg_type at byte 13.
 *
 * Parsers read only `d[o, o + n)` (the captured payload: a snaplen-cut ClientHello yields the SNI only when
 * the whole name lies within the captured bytes), loop only forward over length-prefixed items, and never
 * throw.
 */
import { u16 } from './bytes.js';

/** What {@link tlsHello} found. */
export const TlsHello = {
  /** Not a TLS handshake record. */
  NONE: 0,
  /** A ClientHello (TLS 1.0–1.3 record or SSL 2.0-compatible). */
  CLIENT: 1,
  /** A ServerHello. */
  SERVER: 2,
} as const;

/**
 * Recognises a TLS handshake record carrying a ClientHello or ServerHello at `d[o]`, and for a ClientHello
 * finds the host_name of the server_name extension.
 * @param sni receives [offset in `d`, length] of the host name, or [-1, 0] when absent or not captured
 * @returns a {@link TlsHello} value
 */
export function tlsHello(d: Uint8Array, o: number, n: number, sni: Int32Array): number {
  sni[0] = -1;
  sni[1] = 0;
  if (n < 6) return TlsHello.NONE;
  const b0 = d[o];
  if (b0 !== 0x16) return sslv2ClientHello(d, o, n) ? TlsHello.CLIENT : TlsHello.NONE;
  if (d[o + 1] !== 3 || d[o + 2] > 4) return TlsHello.NONE;
  const recLen = u16(d, o + 3);
  if (recLen < 4 || recLen > 16384 + 2048) return TlsHello.NONE;
  const ht = d[o + 5];
  if (ht !== 1 && ht !== 2) return TlsHello.NONE;
  if (n >= 9) {
    const hl = (d[o + 6] << 16) | (d[o + 7] << 8) | d[o + 8];
    // ServerHello ≥ version + random + session id length + cipher + compression = 38; ClientHello ≥ 41.
    if (hl < (ht === 1 ? 41 : 38)) return TlsHello.NONE;
  }
  if (n >= 10 && d[o + 9] !== 3) return TlsHello.NONE; // legacy_version 0x03xx
  if (ht === 2) return TlsHello.SERVER;
  findSni(d, o, n, recLen, sni);
  return TlsHello.CLIENT;
}

/** Walks a ClientHello (record at `o`) to the server_name extension; leaves `sni` at [-1, 0] if not found. */
function findSni(d: Uint8Array, o: number, n: number, recLen: number, sni: Int32Array): void {
  if (n < 9) return;
  const hsLen = (d[o + 6] << 16) | (d[o + 7] << 8) | d[o + 8];
  let end = o + n;
  if (o + 5 + recLen < end) end = o + 5 + recLen;
  if (o + 9 + hsLen < end) end = o + 9 + hsLen;
  let p = o + 9 + 2 + 32; // legacy_session_id length
  if (p >= end) return;
  const sid = d[p];
  if (sid > 32) return;
  p += 1 + sid;
  if (p + 2 > end) return;
  const cs = u16(d, p);
  if (cs < 2 || (cs & 1) !== 0) return;
  p += 2 + cs;
  if (p + 1 > end) return;
  p += 1 + d[p];
  if (p + 2 > end) return;
  let extEnd = p + 2 + u16(d, p);
  if (extEnd > end) extEnd = end;
  p += 2;
  // Each step advances p by ≥ 4, so the loop is bounded by the captured length.
  while (p + 4 <= extEnd) {
    const type = u16(d, p), len = u16(d, p + 2);
    p += 4;
    if (type === 0) {
      // ServerNameList length(2), then the first entry: name_type(1), HostName length(2), HostName.
      if (len < 5 || p + 5 > extEnd || d[p + 2] !== 0) return;
      const nl = u16(d, p + 3), s = p + 5;
      if (nl === 0 || nl > len - 5 || s + nl > extEnd) return; // cut by the snaplen, or inconsistent
      sni[0] = s;
      sni[1] = nl;
      return;
    }
    p += len;
  }
}

/** SSL 2.0-compatible CLIENT-HELLO (RFC 5246 Appendix E.2; draft-hickman-netscape-ssl-00). */
function sslv2ClientHello(d: Uint8Array, o: number, n: number): boolean {
  if ((d[o] & 0x80) === 0 || n < 5) return false;
  const len = ((d[o] & 0x7f) << 8) | d[o + 1];
  if (len < 9 + 16 || d[o + 2] !== 1) return false; // msg type CLIENT-HELLO, 9 header bytes + challenge ≥ 16
  const major = d[o + 3], minor = d[o + 4];
  return (major === 0 && minor === 2) || (major === 3 && minor <= 4);
}

/**
 * Recognises a DTLS handshake record (ClientHello, ServerHello or HelloVerifyRequest) at `d[o]`
 * (RFC 9147 §4 / RFC 6347 §4.1–4.2).
 */
export function dtlsHandshake(d: Uint8Array, o: number, n: number): boolean {
  if (n < 14 || d[o] !== 0x16) return false;
  const major = d[o + 1], minor = d[o + 2];
  // 0xfeff DTLS 1.0, 0xfefd 1.2, 0xfefc 1.3; 0x0100 is OpenSSL's pre-RFC DTLS1_BAD_VER (Cisco AnyConnect).
  if (major === 0xfe ? minor !== 0xff && minor !== 0xfd && minor !== 0xfc : major !== 0x01 || minor !== 0x00) return false;
  const len = u16(d, o + 11);
  if (len < 12 || len > 16384 + 2048) return false; // handshake header alone is 12 bytes in DTLS
  const ht = d[o + 13];
  return ht === 1 || ht === 2 || ht === 3;
}

/**
 * Recognises TLS records of a connection seen from its middle (no hello captured): record headers (content
 * type 20–23, version 0x0300–0x0304, length ≤ 2^14 + 2048) back to back from `d[o]`, every header within the
 * captured bytes valid, the last record ending exactly at the end of the payload or running past it (a
 * record split over TCP segments).
 * @param wire the TCP payload length on the wire
 */
export function tlsRecords(d: Uint8Array, o: number, n: number, wire: number): boolean {
  const end = o + n, wend = o + wire;
  let p = o, prev = 0;
  // Each step advances p by ≥ 5; at most 16 records are looked at.
  for (let k = 0; k < 16; k++) {
    if (p === wend) return k > 0;
    if (p > wend || p + 5 > end) return k > 0;
    const t = d[p];
    if (t < 20 || t > 23 || d[p + 1] !== 3 || d[p + 2] > 4) return false;
    const len = u16(d, p + 3);
    if (len === 0 || len > 16384 + 2048) return false;
    // A handshake record not following change_cipher_spec is in clear: its message type must be valid
    // (RFC 8446 §4 / RFC 5246 §7.4 HandshakeType). Obfuscating protocols imitate only the record header.
    if (t === 22 && prev !== 20 && p + 5 < end && !HANDSHAKE_TYPES[d[p + 5]]) return false;
    prev = t;
    p += 5 + len;
  }
  return true;
}

/** Handshake message types (IANA "TLS HandshakeType" registry) that may appear in clear. */
const HANDSHAKE_TYPES = new Uint8Array(256);
for (const t of [0, 1, 2, 3, 4, 8, 11, 12, 13, 14, 15, 16, 20, 21, 22, 24]) HANDSHAKE_TYPES[t] = 1;

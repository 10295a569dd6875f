/**
 * QUIC recognition from the unencrypted invariant header fields (the Initial's payload, and with it the
 * ClientHello and its SNI, is encrypted with keys derived from the connection id, RFC 9001 §5.2, so the
 * server name is not read here).
 *
 * Formats:
 * - Long header (RFC 9000 §17.2, RFC 8999 §5.1): Header Form(1) = 1, Fixed Bit(1) = 1 (may be greased,
 *   RFC 9287), type/specific bits, Version(32), DCID Len(8), DCID(0..20 in v1), SCID Len(8), SCID.
 * - Versions: 1 (RFC 9000), 0x6b3343cf (QUIC v2, RFC 9369), 0x709a50c4 (v2 draft), 0xff0000xx (IETF drafts),
 *   0xfaceb00x (Facebook mvfst), Google QUIC on the long header `Q046`, `Q050`, `T050`, `T051`…
 * - Google QUIC up to Q043 (draft "QUIC Wire Layout", Chromium): public flags(1) with 0x01 = version present
 *   and 0x08 = 8-byte connection id, then the connection id, then the version `Q0dd`.
 */
import { u32 } from './bytes.js';

/** True when `v` is a QUIC version flowsift recognises (see the module comment). */
export function knownQuicVersion(v: number): boolean {
  if (v === 0x00000001 || v === 0x6b3343cf || v === 0x709a50c4) return true;
  if ((v & 0xffffff00) >>> 0 === 0xff000000) return (v & 0xff) >= 1 && (v & 0xff) <= 34;
  if ((v & 0xfffffff0) >>> 0 === 0xfaceb000) return true;
  return gquicVersion(v);
}

/** Google QUIC version tags: 'Q' or 'T', then '0' and two decimal digits (e.g. Q046, T051). */
function gquicVersion(v: number): boolean {
  const a = v >>> 24, b = (v >>> 16) & 0xff, c = (v >>> 8) & 0xff, e = v & 0xff;
  return (a === 0x51 || a === 0x54) && b === 0x30 && c >= 0x30 && c <= 0x39 && e >= 0x30 && e <= 0x39;
}

/** Reserved versions 0x?a?a?a?a that clients send to exercise version negotiation (RFC 9000 §6.3, §15). */
function greaseVersion(v: number): boolean {
  return (v & 0x0f0f0f0f) === 0x0a0a0a0a;
}

/**
 * Recognises, at `d[o]`: a QUIC packet with a long header and a known version; a client's Initial-sized
 * (≥ 1200 bytes on the wire, RFC 9000 §14.1) long-header packet with a reserved version; a Version
 * Negotiation packet (version 0, RFC 9000 §17.2.1) listing a known version; or a Google QUIC (≤ Q043)
 * packet with a version.
 * @param wire the UDP payload length on the wire
 */
export function quicLongHeader(d: Uint8Array, o: number, n: number, wire: number): boolean {
  if (n < 13) return false;
  const b0 = d[o];
  if ((b0 & 0x80) !== 0) {
    const v = u32(d, o + 1);
    if (v === 0) return versionNegotiation(d, o, n, wire);
    if (greaseVersion(v)) return wire >= 1200 && d[o + 5] <= 20;
    if (!knownQuicVersion(v)) return false;
    if (gquicVersion(v) || ((v & 0xffffff00) >>> 0 === 0xff000000 && (v & 0xff) < 22)) return true; // older CID encodings
    const dcil = d[o + 5];
    if (dcil > 20 || o + 6 + dcil >= o + n) return false;
    const scil = d[o + 6 + dcil];
    return scil <= 20 && 7 + dcil + scil <= n;
  }
  // Google QUIC public header: version flag set, reserved bit 0x80 clear (checked above), 8-byte CID.
  if ((b0 & 0x01) === 0) return false;
  const vo = (b0 & 0x08) !== 0 ? 9 : 1;
  return n >= vo + 4 && gquicVersion(u32(d, o + vo));
}

/** Version Negotiation: DCID and SCID (≤ 255 bytes each, RFC 8999 §6), then 4-byte versions, one of them known. */
function versionNegotiation(d: Uint8Array, o: number, n: number, wire: number): boolean {
  const dcil = d[o + 5];
  if (6 + dcil >= n) return false;
  const scil = d[o + 6 + dcil];
  const list = o + 7 + dcil + scil, listLen = wire - (7 + dcil + scil);
  if (listLen < 4 || (listLen & 3) !== 0) return false;
  for (let p = list; p + 4 <= o + n; p += 4) if (knownQuicVersion(u32(d, p))) return true;
  return false;
}

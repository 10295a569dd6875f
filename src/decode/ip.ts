/**
 * Network layer: IPv4 (RFC 791) and IPv6 with its extension-header chain (RFC 8200 §4).
 *
 * The functions read the header at `c.off`, write the IP fields of a {@link DecodedPacket} in place, leave `c.off`
 * at the transport header and `c.ipPayloadLen` at the transport length from the IP length fields, and return an
 * `IP_*` status. They never read at or beyond `c.end`.
 */
import type { Cursor } from './link.js';
import type { DecodedPacket } from './types.js';

/** The IP header was decoded and the transport header starts at `c.off`. */
export const IP_OK = 0;
/**
 * The IP header (addresses, protocol) was decoded but there is no transport header to read: non-first fragment,
 * IPv4 options or an IPv6 extension header cut by the capture, an extension chain that does not end in a
 * transport protocol within the bound, or ESP/no-next-header.
 */
export const IP_NO_L4 = 1;
/** The fixed IP header is cut by the capture length: nothing usable. */
export const IP_TRUNCATED = -1;
/** The IP header is malformed (wrong version, IHL < 5, total length < header length). */
export const IP_BAD = -2;

/** Maximum number of IPv6 extension headers walked before the chain is declared malformed. */
export const MAX_IPV6_EXT_HEADERS = 16;

/** IPv6 Next Header values walked as extension headers (RFC 8200 §4, RFC 4302 AH, RFC 6275 mobility). */
export const Ipv6Ext = {
  HOP_BY_HOP: 0,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  NO_NEXT: 59,
  DEST_OPTS: 60,
  MOBILITY: 135,
} as const;

function u16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

function u32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}

/**
 * Bytes of the frame from the IP header at relative offset `l3` to the end of the frame on the wire (the larger of
 * the wire and captured lengths, so that a bogus original length never hides captured bytes).
 */
function wireAvail(c: Cursor, l3: number): number {
  const cap = c.end - c.base;
  return (c.frameLen > cap ? c.frameLen : cap) - l3;
}

/**
 * Decodes an IPv4 header (RFC 791 §3.1) at `c.off`.
 *
 * Writes `ipVersion` 4, `src[3]`/`dst[3]` (words 0–2 zeroed), `protocol`, `ttl`, `ipTos`, `ipId`,
 * `dontFragment`, `moreFragments`, `fragOffset` (bytes = field × 8), `isFragment` (MF set or offset ≠ 0),
 * `l3Offset`, `ipHeaderLen` (IHL × 4), `ipTotalLen`. A total length of 0 (TCP segmentation offload captures) is
 * replaced by the frame's wire length minus the link headers. `c.ipPayloadLen` = total length − IHL × 4, where a
 * total length beyond the end of the frame (malformed, or a bogus length field) is clamped to the frame, as
 * Wireshark does.
 *
 * @returns {@link IP_OK}, {@link IP_NO_L4} (non-first fragment or options cut by the capture, `c.truncated`
 *   set), {@link IP_TRUNCATED} (fewer than 20 bytes captured) or {@link IP_BAD}.
 */
export function decodeIPv4(c: Cursor, out: DecodedPacket): number {
  const d = c.d;
  const o = c.off;
  if (o + 20 > c.end) {
    c.truncated = true;
    return IP_TRUNCATED;
  }
  const b0 = d[o]!;
  const hl = (b0 & 0x0f) << 2;
  if (b0 >> 4 !== 4 || hl < 20) return IP_BAD;
  let total = u16(d, o + 2);
  const l3 = o - c.base;
  if (total === 0) {
    total = c.frameLen - l3; // TSO/LRO capture: the length was left for the NIC to fill
    if (total < hl) total = hl;
  } else if (total < hl) return IP_BAD;
  setIPv4Fields(d, o, l3, hl, total, out);
  c.ipPayloadLen = ipv4PayloadLen(total, wireAvail(c, l3), hl);
  c.off = o + hl;
  if (o + hl > c.end) {
    c.truncated = true;
    return IP_NO_L4;
  }
  return out.fragOffset !== 0 ? IP_NO_L4 : IP_OK;
}

/**
 * Writes the IPv4 fields of `out` from the header at `d[o …]` (see {@link decodeIPv4}): addresses, version,
 * TOS, id, fragment fields, TTL, protocol, `l3Offset` = `l3`, `ipHeaderLen` = `hl`, `ipTotalLen` = `total` (the
 * length field, or its replacement for a TSO capture). The one definition of these fields for decodeIPv4 and the
 * decoder's fast path.
 */
export function setIPv4Fields(d: Uint8Array, o: number, l3: number, hl: number, total: number, out: DecodedPacket): void {
  const ff = u16(d, o + 6);
  const src = out.src;
  const dst = out.dst;
  src[0] = 0; src[1] = 0; src[2] = 0;
  dst[0] = 0; dst[1] = 0; dst[2] = 0;
  src[3] = u32(d, o + 12);
  dst[3] = u32(d, o + 16);
  out.ipVersion = 4;
  out.ipTos = d[o + 1]!;
  out.ipId = u16(d, o + 4);
  out.dontFragment = (ff & 0x4000) !== 0;
  const mf = (ff & 0x2000) !== 0;
  const fo = (ff & 0x1fff) << 3;
  out.moreFragments = mf;
  out.fragOffset = fo;
  out.isFragment = mf || fo !== 0;
  out.ttl = d[o + 8]!;
  out.protocol = d[o + 9]!;
  out.l3Offset = l3;
  out.ipHeaderLen = hl;
  out.ipTotalLen = total;
}

/**
 * Transport length of an IPv4 packet: the total length minus the header, where a total length beyond the `avail`
 * bytes from the IP header to the end of the frame on the wire is clamped to them (as Wireshark does), and never
 * below the header.
 */
export function ipv4PayloadLen(total: number, avail: number, hl: number): number {
  return (total <= avail ? total : avail > hl ? avail : hl) - hl;
}

/**
 * Decodes an IPv6 header (RFC 8200 §3) at `c.off` and walks its extension headers (§4): hop-by-hop (0),
 * routing (43), fragment (44, fixed 8 bytes), destination options (60), mobility (135, RFC 6275) — length
 * (Hdr Ext Len + 1) × 8 — and AH (51, RFC 4302: (Payload Len + 2) × 4). ESP (50) and no-next-header (59) end
 * the chain (`protocol` = 50/59, no transport header). At most {@link MAX_IPV6_EXT_HEADERS} headers are walked
 * (a longer chain is malformed: `c.bad`, no transport header); every step advances by ≥ 8 bytes, so a crafted
 * chain cannot loop.
 *
 * Writes `ipVersion` 6, `src`/`dst` (four big-endian words), `protocol` (the Next Header that ends the chain),
 * `ttl` (hop limit), `ipTos` (traffic class), `l3Offset`, `ipHeaderLen` (40 + extension headers), `ipTotalLen`
 * (40 + payload length), and from a fragment header `isFragment` (offset ≠ 0 or M set), `fragOffset` (bytes),
 * `moreFragments`, `ipId`. A payload length of 0 followed by a hop-by-hop header (RFC 2675 jumbogram, as in
 * Linux BIG TCP captures) is replaced by the frame's wire length minus the link headers and 40.
 * `c.ipPayloadLen` = payload length (clamped to the end of the frame) − extension headers (≥ 0).
 *
 * @returns {@link IP_OK}, {@link IP_NO_L4}, {@link IP_TRUNCATED} (fewer than 40 bytes captured) or {@link IP_BAD}.
 */
export function decodeIPv6(c: Cursor, out: DecodedPacket): number {
  const d = c.d;
  const o = c.off;
  const end = c.end;
  if (o + 40 > end) {
    c.truncated = true;
    return IP_TRUNCATED;
  }
  const w0 = u16(d, o);
  if (w0 >> 12 !== 6) return IP_BAD;
  let plen = u16(d, o + 4);
  let nh = d[o + 6]!;
  const l3 = o - c.base;
  if (plen === 0 && nh === Ipv6Ext.HOP_BY_HOP) {
    plen = c.frameLen - l3 - 40;
    if (plen < 0) plen = 0;
  }
  const src = out.src;
  const dst = out.dst;
  src[0] = u32(d, o + 8); src[1] = u32(d, o + 12); src[2] = u32(d, o + 16); src[3] = u32(d, o + 20);
  dst[0] = u32(d, o + 24); dst[1] = u32(d, o + 28); dst[2] = u32(d, o + 32); dst[3] = u32(d, o + 36);
  out.ipVersion = 6;
  out.ipTos = (w0 >> 4) & 0xff;
  out.ttl = d[o + 7]!;
  out.l3Offset = l3;
  out.ipTotalLen = 40 + plen;
  out.isFragment = false;
  out.fragOffset = 0;
  out.moreFragments = false;
  out.ipId = 0;
  out.dontFragment = false;

  let p = o + 40;
  let status = IP_OK;
  let n = 0;
  for (;;) {
    if (nh !== Ipv6Ext.HOP_BY_HOP && nh !== Ipv6Ext.ROUTING && nh !== Ipv6Ext.FRAGMENT && nh !== Ipv6Ext.DEST_OPTS
      && nh !== Ipv6Ext.AH && nh !== Ipv6Ext.MOBILITY) {
      if (nh === Ipv6Ext.ESP || nh === Ipv6Ext.NO_NEXT) status = IP_NO_L4;
      break;
    }
    if (++n > MAX_IPV6_EXT_HEADERS) {
      c.bad = true;
      status = IP_NO_L4;
      break;
    }
    if (nh === Ipv6Ext.FRAGMENT) {
      if (p + 8 > end) {
        c.truncated = true;
        status = IP_NO_L4;
        break;
      }
      const fw = u16(d, p + 2);
      const fo = fw & 0xfff8;
      const mf = (fw & 1) !== 0;
      out.fragOffset = fo;
      out.moreFragments = mf;
      out.isFragment = mf || fo !== 0;
      out.ipId = u32(d, p + 4);
      nh = d[p]!;
      p += 8;
      if (fo !== 0) {
        status = IP_NO_L4; // the rest of the chain is in the first fragment
        break;
      }
      continue;
    }
    if (p + 2 > end) {
      c.truncated = true;
      status = IP_NO_L4;
      break;
    }
    const len = nh === Ipv6Ext.AH ? (d[p + 1]! + 2) << 2 : (d[p + 1]! + 1) << 3;
    nh = d[p]!;
    p += len;
    if (p > end) {
      c.truncated = true;
      status = IP_NO_L4;
      break;
    }
  }
  const ext = p - o - 40;
  out.protocol = nh;
  out.ipHeaderLen = 40 + ext;
  const avail = wireAvail(c, l3) - 40;
  let pay = (plen <= avail ? plen : avail) - ext;
  if (pay < 0) {
    c.bad = true;
    pay = 0;
  }
  c.ipPayloadLen = pay;
  c.off = p;
  if (status === IP_OK && p > end) {
    c.truncated = true;
    status = IP_NO_L4;
  }
  return status;
}

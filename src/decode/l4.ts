/**
 * Transport layer: TCP (RFC 9293 §3.1), UDP (RFC 768), ICMP (RFC 792), ICMPv6 (RFC 4443 §2.1), SCTP common
 * header (RFC 9260 §3.1). Reads at `c.off` (set by the IP stage) and never at or beyond `c.end`.
 */
import type { Cursor } from './link.js';
import { IpProto, type DecodedPacket } from './types.js';

/** Nominal header lengths, bytes: TCP without options, UDP, ICMP/ICMPv6 (type, code, checksum, 4 bytes rest), SCTP common header. */
export const L4HeaderLen = { TCP: 20, UDP: 8, ICMP: 8, SCTP: 12 } as const;

function u16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

function u32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}

/**
 * Writes the transport fields of `out` for `out.protocol`, from the header at `c.off`, given the transport length
 * `c.ipPayloadLen` derived from the IP length fields:
 * - TCP: `srcPort`, `dstPort` (when the first 4 bytes are captured), `tcpSeq`, `tcpAck`, `tcpFlags` (byte 13),
 *   `tcpWindow` (unscaled) and `l4HeaderLen` = data offset × 4 (when the 20-byte fixed header is captured;
 *   otherwise 20 is assumed). A data offset < 5 is malformed (`c.bad`) and used as is.
 * - UDP: ports, `l4HeaderLen` 8. SCTP: ports, `l4HeaderLen` 12.
 * - ICMP (1) / ICMPv6 (58): `icmpType`, `icmpCode`, `l4HeaderLen` 8, ports 0.
 * - any other protocol: ports 0, `l4HeaderLen` 0.
 * Then `l4Offset`, `payloadOffset` (relative to the packet start), `payloadLen` = max(0, transport length −
 * `l4HeaderLen`) and `capturedPayloadLen` = payload bytes present in the capture (≤ `payloadLen`).
 * Sets `c.truncated` when the captured bytes end inside the transport header, `c.bad` when the IP length is
 * shorter than the header.
 */
export function decodeL4(c: Cursor, out: DecodedPacket): void {
  const d = c.d;
  const o = c.off;
  const end = c.end;
  const ipPay = c.ipPayloadLen;
  let hl = 0;
  let sp = 0;
  let dp = 0;
  let flags = 0;
  let win = 0;
  let seq = 0;
  let ack = 0;
  let it = -1;
  let ic = -1;
  switch (out.protocol) {
    case IpProto.TCP:
      hl = 20;
      if (o + 4 <= end) {
        sp = u16(d, o);
        dp = u16(d, o + 2);
        if (o + 20 <= end) {
          seq = u32(d, o + 4);
          ack = u32(d, o + 8);
          const doff = (d[o + 12]! >> 4) << 2;
          flags = d[o + 13]!;
          win = u16(d, o + 14);
          if (doff < 20) c.bad = true; // malformed: taken as is, as Wireshark and nfstream do
          hl = doff;
        }
      }
      break;
    case IpProto.UDP:
      hl = 8;
      if (o + 4 <= end) {
        sp = u16(d, o);
        dp = u16(d, o + 2);
      }
      break;
    case IpProto.ICMP:
    case IpProto.ICMPV6:
      hl = 8;
      if (o + 2 <= end) {
        it = d[o]!;
        ic = d[o + 1]!;
      }
      break;
    case IpProto.SCTP:
      hl = 12;
      if (o + 4 <= end) {
        sp = u16(d, o);
        dp = u16(d, o + 2);
      }
      break;
    default:
      break;
  }
  if (hl > ipPay) {
    c.bad = true;
    if (o + ipPay > end) c.truncated = true;
  } else if (o + hl > end) c.truncated = true;
  setTransportFields(out, sp, dp, flags, win, seq, ack, it, ic, hl, o - c.base, ipPay, end - o - hl);
}

/**
 * Writes the transport fields of `out`: ports, TCP flags/window/sequence/acknowledgement, ICMP type and code (−1 when
 * not ICMP), `l4HeaderLen` = `hl`, `l4Offset` = `l4` (relative to the packet start), `payloadOffset` = `l4 + hl`,
 * `payloadLen` = max(0, `ipPay` − `hl`) (`ipPay`: the transport length from the IP length fields) and
 * `capturedPayloadLen` = the part of it present in the capture, given the `captured` bytes after the header (may be
 * negative). The one definition of these fields for {@link decodeL4}, {@link noL4} and the decoder's fast path.
 */
export function setTransportFields(
  out: DecodedPacket, sp: number, dp: number, flags: number, win: number, seq: number, ack: number, icmpType: number,
  icmpCode: number, hl: number, l4: number, ipPay: number, captured: number,
): void {
  out.srcPort = sp;
  out.dstPort = dp;
  out.tcpFlags = flags;
  out.tcpWindow = win;
  out.tcpSeq = seq;
  out.tcpAck = ack;
  out.icmpType = icmpType;
  out.icmpCode = icmpCode;
  out.l4HeaderLen = hl;
  out.l4Offset = l4;
  out.payloadOffset = l4 + hl;
  const pay = ipPay > hl ? ipPay - hl : 0;
  out.payloadLen = pay;
  out.capturedPayloadLen = captured <= 0 ? 0 : captured < pay ? captured : pay;
}

/**
 * Writes the transport fields of `out` for a packet without a readable transport header (non-first fragment,
 * headers cut by the capture, ESP, no-next-header…): ports, TCP fields 0, ICMP fields −1, `l4HeaderLen` 0,
 * `l4Offset` = `payloadOffset` = `c.off` relative to the packet start, `payloadLen` = `c.ipPayloadLen`,
 * `capturedPayloadLen` = the part of it present in the capture.
 */
export function noL4(c: Cursor, out: DecodedPacket): void {
  setTransportFields(out, 0, 0, 0, 0, 0, 0, -1, -1, 0, c.off - c.base, c.ipPayloadLen, c.end - c.off);
}

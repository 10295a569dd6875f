/**
 * Builders for decoded packets in tests (bypassing capture and decode), so flow-table and feature tests
 * state exact inputs.
 */
import { DecodedPacket, IpProto, TcpFlag } from '../../src/decode/types.js';
import { parseAddress } from '../../src/flow/key.js';

export { IpProto, TcpFlag };

/** A packet description: time in µs, addresses as text. */
export interface PacketSpec {
  t: number;
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  proto?: number;
  flags?: number;
  payload?: number;
  window?: number;
  l4hdr?: number;
  vlan?: number;
}

/** Fills a DecodedPacket from a spec (a fresh object per call, for test convenience). */
export function pkt(s: PacketSpec): DecodedPacket {
  const p = new DecodedPacket();
  p.tsUs = s.t;
  p.tsSec = Math.floor(s.t / 1e6);
  p.tsNsec = (s.t - p.tsSec * 1e6) * 1000;
  p.ipVersion = parseAddress(s.src, p.src);
  if (parseAddress(s.dst, p.dst) !== p.ipVersion) throw new Error('address families differ');
  p.protocol = s.proto ?? IpProto.TCP;
  p.srcPort = s.sport ?? 0;
  p.dstPort = s.dport ?? 0;
  p.tcpFlags = p.protocol === IpProto.TCP ? (s.flags ?? TcpFlag.ACK) : 0;
  p.payloadLen = s.payload ?? 0;
  p.tcpWindow = s.window ?? 0;
  p.l4HeaderLen = s.l4hdr ?? (p.protocol === IpProto.TCP ? 20 : p.protocol === IpProto.UDP ? 8 : 0);
  p.vlanId = s.vlan ?? 0;
  p.ipHeaderLen = p.ipVersion === 4 ? 20 : 40;
  p.ipTotalLen = p.ipHeaderLen + p.l4HeaderLen + p.payloadLen;
  p.frameLen = 14 + p.ipTotalLen;
  p.capLen = p.frameLen;
  return p;
}

/** A TCP conversation helper: c = client→server, s = server→client, at µs times. */
export function tcpConversation(client: string, cport: number, server: string, sport: number) {
  return {
    c: (t: number, flags: number, payload = 0, window = 0): DecodedPacket =>
      pkt({ t, src: client, dst: server, sport: cport, dport: sport, flags, payload, window }),
    s: (t: number, flags: number, payload = 0, window = 0): DecodedPacket =>
      pkt({ t, src: server, dst: client, sport, dport: cport, flags, payload, window }),
  };
}

/**
 * Attaches payload bytes to a packet built by {@link pkt}, as the decoder would: `data` holds the packet
 * (here: `pad` filler bytes, a zeroed header block of the packet's IP + transport header length, the payload,
 * and trailing filler) with `dataOffset` at the packet start, `payloadOffset` after the headers and
 * `capturedPayloadLen` = `captured` (default: all of it; less simulates a snaplen cut). Lengths on the wire
 * (`payloadLen`, `ipTotalLen`, `frameLen`) follow the full payload. The filler is 0xEE so a parser reading
 * outside the payload sees bytes it cannot mistake for the payload's.
 */
export function withPayload(p: DecodedPacket, payload: Uint8Array | string, captured?: number): DecodedPacket {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const cap = Math.min(captured ?? bytes.length, bytes.length);
  const pad = 5, hdr = 14 + p.ipHeaderLen + p.l4HeaderLen;
  const data = new Uint8Array(pad + hdr + cap + 16).fill(0xee);
  data.fill(0, pad, pad + hdr);
  data.set(bytes.subarray(0, cap), pad + hdr);
  p.data = data;
  p.dataOffset = pad;
  p.l3Offset = 14;
  p.l4Offset = 14 + p.ipHeaderLen;
  p.payloadOffset = hdr;
  p.payloadLen = bytes.length;
  p.capturedPayloadLen = cap;
  p.ipTotalLen = p.ipHeaderLen + p.l4HeaderLen + bytes.length;
  p.frameLen = 14 + p.ipTotalLen;
  p.capLen = hdr + cap;
  return p;
}

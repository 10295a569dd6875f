/**
 * The packet decoder: link layer → (tunnels) → IP → transport, written in place into a reused
 * {@link DecodedPacket}. One {@link Decoder} per stream; not re-entrant.
 */
import type { CapturedPacket } from '../capture/types.js';
import { IP_BAD, IP_NO_L4, IP_OK, IP_TRUNCATED, decodeIPv4, decodeIPv6, ipv4PayloadLen, setIPv4Fields } from './ip.js';
import { decodeL4, noL4, setTransportFields } from './l4.js';
import {
  Cursor,
  EtherType,
  LINK_BAD,
  LINK_TRUNCATED,
  LINK_UNKNOWN,
  LinkTypes,
  NET_IP_BY_VERSION,
  decodeLink,
} from './link.js';
import { NfTunnel, NfstreamFields, nfstreamParse } from './nfstream.js';
import { TUN_NONE, TunnelPort, decapsulate } from './tunnel.js';
import { IpProto, Tunnel, type DecodedPacket } from './types.js';

/**
 * Which rules decide what the decoder accepts and how it fills the flow-key fields:
 * - `flowsift` (default): every link type, shim header and tunnel flowsift knows (Wireshark-like; see
 *   {@link Decoder}); the outer VLAN tag; fragments and truncated headers are reported, not dropped.
 * - `nfstream`: exactly the frames nfstream 6.5 accounts, with its VLAN id (innermost tag), tunnel id, protocol
 *   and port rules and its IP size (see decode/nfstream.ts, a transcription of nfstream's lib_engine.c
 *   `packet_process`); the other fields are decoded as usual at the IP header nfstream found.
 */
export type DecodeRules = 'flowsift' | 'nfstream';

/** Options of {@link Decoder}. */
export interface DecoderOptions {
  /**
   * Decode tunnels to the inner packet (IP-in-IP, GRE/ERSPAN/PPTP, GTP-U, VXLAN, Geneve, CAPWAP, TZSP), as
   * nfstream's `decode_tunnels=True`. Default true. When false the outer packet is reported.
   */
  decodeTunnels?: boolean;
  /** Maximum number of nested tunnels removed (default {@link DEFAULT_MAX_TUNNEL_DEPTH}); deeper ones are left encapsulated. */
  maxTunnelDepth?: number;
  /** Decode rules (default `flowsift`), see {@link DecodeRules}. */
  rules?: DecodeRules;
  /**
   * Decode the most common frame, Ethernet + IPv4 without options or fragmentation + a fully captured TCP or UDP
   * header (not on a tunnel port), in one straight function, with the same result as the general path (default
   * true; false runs every frame through the general path, for tests).
   */
  fastPath?: boolean;
}

/** Default bound on tunnel nesting. */
export const DEFAULT_MAX_TUNNEL_DEPTH = 4;

/** Snapshot of a {@link Decoder}'s counters (see the fields of the same names). */
export interface DecoderCounters {
  packets: number;
  ipv4: number;
  ipv6: number;
  nonIp: number;
  truncated: number;
  fragments: number;
  unknownLinkType: number;
  badHeader: number;
  tunneled: number;
  tunnelTooDeep: number;
  /** Frames ignored by the `nfstream` rules. */
  ignored: number;
  unknownLinkTypes: number[];
}

/**
 * Decodes captured packets into a {@link DecodedPacket}.
 *
 * Supported link types (tcpdump.org LINKTYPE_*): Ethernet (1, with 802.1Q/802.1ad tags, MPLS, PPPoE session,
 * LLC/SNAP, Cisco FabricPath/VN-Tag, 802.1ah PBB), raw IP (101, 228, 229, 12, 14), BSD NULL (0) / LOOP (108),
 * PPP (9, 50), Cisco HDLC (104), FDDI (10), Linux SLL (113) / SLL2 (276), IEEE 802.11 (105) and radiotap (127),
 * NFLOG (239).
 *
 * Counters are plain number fields, incremented per packet; `unknownLinkTypes` holds each unsupported link type
 * once. Not thread-safe, not re-entrant: one instance per stream.
 */
export class Decoder {
  /** Packets passed to {@link decode}. */
  packets = 0;
  /** Packets decoded as IPv4 / IPv6 (the inner version for tunnelled packets). */
  ipv4 = 0;
  ipv6 = 0;
  /** Frames without IP (ARP, LLDP, STP, 802.11 management, PPP control, a tunnel carrying non-IP…). */
  nonIp = 0;
  /** Packets whose capture ended inside a header the decoder needed (`DecodedPacket.truncated`). */
  truncated = 0;
  /** IP fragments (IPv4 MF/offset, IPv6 fragment header with M/offset); counted, not reassembled. */
  fragments = 0;
  /** Packets of an unsupported link type (each type also lands once in {@link unknownLinkTypes}). */
  unknownLinkType = 0;
  /** Packets with a malformed header (bad IP version/IHL/length, TCP data offset < 5, ext-header chain too long, bad radiotap…). */
  badHeader = 0;
  /** IP packets decoded through at least one tunnel. */
  tunneled = 0;
  /** Packets whose tunnel nesting exceeded `maxTunnelDepth` (reported at the deepest allowed level). */
  tunnelTooDeep = 0;
  /** Unsupported link types seen, each once. */
  readonly unknownLinkTypes = new Set<number>();
  /** Frames the `nfstream` rules ignore (non-IP, unsupported link types, fragments, truncated IPv6…); 0 otherwise. */
  ignored = 0;

  /** Whether tunnels are decapsulated. */
  readonly decodeTunnels: boolean;
  /** Maximum tunnel nesting removed. */
  readonly maxTunnelDepth: number;
  /** Decode rules in force. */
  readonly rules: DecodeRules;
  private readonly c = new Cursor();
  private readonly nf = new NfstreamFields();
  /** See {@link DecoderOptions.fastPath} (never with the nfstream rules). */
  private readonly fast: boolean;

  constructor(options: DecoderOptions = {}) {
    this.decodeTunnels = options.decodeTunnels ?? true;
    this.maxTunnelDepth = Math.max(0, Math.floor(options.maxTunnelDepth ?? DEFAULT_MAX_TUNNEL_DEPTH));
    this.rules = options.rules ?? 'flowsift';
    this.fast = (options.fastPath ?? true) && this.rules === 'flowsift';
  }

  /**
   * Decodes `pkt` into `out`, writing every field (fields that do not apply are reset). Never throws, never
   * allocates, never reads outside `pkt.data[pkt.offset, pkt.offset + pkt.capLen)`.
   *
   * @returns true when an IP packet was decoded (`out.ipVersion` 4 or 6; `out.truncated` may still be set when a
   *   transport or option header is cut), false for non-IP frames, unknown link types, malformed IP headers and IP
   *   headers cut by the snaplen (then `out.ipVersion` = 0 and the IP/transport fields hold their reset values).
   */
  decode(pkt: CapturedPacket, out: DecodedPacket): boolean {
    this.packets++;
    const ns = pkt.tsNsec;
    const us = (ns / 1000) | 0;
    out.tsSec = pkt.tsSec;
    out.tsNsec = ns;
    out.tsUs = pkt.tsSec * 1e6 + us;
    out.tsSubUsNs = ns - us * 1000;
    out.frameLen = pkt.origLen;
    out.capLen = pkt.capLen;
    out.linkType = pkt.linkType;
    out.interfaceId = pkt.interfaceId;
    out.data = pkt.data;
    out.dataOffset = pkt.offset;
    if (this.fast && pkt.linkType === LinkTypes.ETHERNET && this.decodeCommon(pkt, out)) return true;

    const c = this.c;
    c.d = pkt.data;
    const base = pkt.offset;
    c.base = base;
    c.off = base;
    let end = base + pkt.capLen;
    if (end > pkt.data.length) end = pkt.data.length;
    c.end = end;
    c.frameLen = pkt.origLen;
    c.vlanSeen = false;
    c.vlanId = 0;
    c.etherType = 0;
    c.truncated = false;
    c.bad = false;
    c.tun = 0;
    if (this.rules === 'nfstream') return this.decodeNfstream(pkt, out);

    let net = decodeLink(pkt.linkType, c);
    let depth = 0;
    let tunnel = 0;
    let ok = false;
    for (;;) {
      if (net !== EtherType.IPV4 && net !== EtherType.IPV6 && net !== NET_IP_BY_VERSION) {
        if (net === LINK_TRUNCATED) c.truncated = true;
        else if (net === LINK_BAD) c.bad = true;
        else if (net === LINK_UNKNOWN) {
          this.unknownLinkType++;
          if (!this.unknownLinkTypes.has(pkt.linkType)) this.unknownLinkTypes.add(pkt.linkType);
        } else this.nonIp++;
        break;
      }
      let r: number;
      const v = c.off < end ? c.d[c.off]! >> 4 : 0;
      if (c.off >= end) {
        c.truncated = true;
        r = IP_TRUNCATED;
      } else if (v === 4 && net !== EtherType.IPV6) r = decodeIPv4(c, out);
      else if (v === 6 && net !== EtherType.IPV4) r = decodeIPv6(c, out);
      else r = IP_BAD;
      if (r === IP_BAD) c.bad = true;
      if (r < 0) break;
      if (r === IP_OK) decodeL4(c, out);
      else noL4(c, out);
      if (r === IP_OK && this.decodeTunnels) {
        const truncatedBefore = c.truncated;
        const badBefore = c.bad;
        const vlanSeenBefore = c.vlanSeen;
        const etherBefore = c.etherType;
        c.etherType = 0;
        const next = decapsulate(c, out);
        if (next === TUN_NONE) c.etherType = etherBefore;
        else {
          if (depth >= this.maxTunnelDepth) {
            this.tunnelTooDeep++;
            c.truncated = truncatedBefore;
            c.bad = badBefore;
            c.etherType = etherBefore;
            if (!vlanSeenBefore) {
              c.vlanSeen = false;
              c.vlanId = 0;
            }
            ok = true;
            break;
          }
          depth++;
          if (tunnel === 0) tunnel = c.tun;
          net = next;
          continue;
        }
      }
      ok = true;
      break;
    }

    out.vlanId = c.vlanId;
    out.etherType = c.etherType;
    out.tunnel = tunnel;
    out.tunnelKey = tunnel;
    out.tunnelDepth = depth;
    out.truncated = c.truncated;
    if (c.truncated) this.truncated++;
    if (c.bad) this.badHeader++;
    if (ok) {
      if (out.ipVersion === 4) this.ipv4++;
      else this.ipv6++;
      if (out.isFragment) this.fragments++;
      if (depth > 0) this.tunneled++;
      return true;
    }
    resetNet(out);
    return false;
  }

  /**
   * The fast path ({@link DecoderOptions.fastPath}): Ethernet II + IPv4 (IHL 5, not a fragment, non-zero total
   * length) + TCP (data offset ≥ 5, header with its options captured) or UDP, within the IP length, and for UDP no
   * tunnel port when tunnels are decoded. Writes exactly what {@link decode}'s general path writes for such a
   * frame (ip.ts decodeIPv4, l4.ts decodeL4, tunnel.ts decapsulate) and returns true; returns false without
   * writing the IP and transport fields for any other frame (the general path then decodes it).
   */
  private decodeCommon(pkt: CapturedPacket, out: DecodedPacket): boolean {
    const d = pkt.data, base = pkt.offset;
    let end = base + pkt.capLen;
    if (end > d.length) end = d.length;
    const o = base + 14; // IPv4 header
    if (o + 28 > end || d[base + 12] !== 0x08 || d[base + 13] !== 0x00 || d[o] !== 0x45) return false;
    const total = (d[o + 2] << 8) | d[o + 3];
    const ff = (d[o + 6] << 8) | d[o + 7];
    const proto = d[o + 9];
    if (total < 20 || (ff & 0x3fff) !== 0 || (proto !== IpProto.TCP && proto !== IpProto.UDP)) return false;
    // IP payload length: the total length, clamped to the frame on the wire (ip.ts wireAvail).
    const cap = end - base, wire = pkt.origLen > cap ? pkt.origLen : cap;
    const ipPay = ipv4PayloadLen(total, wire - 14, 20);
    const l4 = o + 20;
    let hl: number, sp: number, dp: number, flags = 0, win = 0, seq = 0, ack = 0;
    sp = (d[l4] << 8) | d[l4 + 1];
    dp = (d[l4 + 2] << 8) | d[l4 + 3];
    if (proto === IpProto.TCP) {
      if (l4 + 20 > end) return false;
      hl = (d[l4 + 12] >> 4) << 2;
      if (hl < 20 || l4 + hl > end) return false;
      seq = ((d[l4 + 4] << 24) | (d[l4 + 5] << 16) | (d[l4 + 6] << 8) | d[l4 + 7]) >>> 0;
      ack = ((d[l4 + 8] << 24) | (d[l4 + 9] << 16) | (d[l4 + 10] << 8) | d[l4 + 11]) >>> 0;
      flags = d[l4 + 13];
      win = (d[l4 + 14] << 8) | d[l4 + 15];
    } else {
      hl = 8;
      if (this.decodeTunnels && (sp === TunnelPort.GTP_U || dp === TunnelPort.GTP_U || dp === TunnelPort.VXLAN
        || dp === TunnelPort.GENEVE || sp === TunnelPort.CAPWAP_DATA || dp === TunnelPort.CAPWAP_DATA
        || sp === TunnelPort.TZSP || dp === TunnelPort.TZSP)) return false;
    }
    if (hl > ipPay) return false;
    setIPv4Fields(d, o, 14, 20, total, out);
    setTransportFields(out, sp, dp, flags, win, seq, ack, -1, -1, hl, 34, ipPay, end - l4 - hl);
    out.vlanId = 0;
    out.etherType = EtherType.IPV4;
    out.tunnel = 0;
    out.tunnelKey = 0;
    out.tunnelDepth = 0;
    out.truncated = false;
    this.ipv4++;
    return true;
  }

  /**
   * The `nfstream` rules (see {@link DecodeRules}): nfstream's parser decides whether the frame counts and where its
   * IP header is; the IP and transport fields are then decoded there as usual, and the key fields (VLAN id, tunnel
   * id, protocol, ports) and `ipTotalLen` are replaced by nfstream's. `c` is set up by {@link decode}.
   */
  private decodeNfstream(pkt: CapturedPacket, out: DecodedPacket): boolean {
    const c = this.c, f = this.nf;
    out.etherType = 0;
    out.tunnelDepth = 0;
    out.truncated = false;
    if (!nfstreamParse(c.d, c.base, c.end - c.base, pkt.linkType, this.decodeTunnels, f)) {
      this.ignored++;
      out.vlanId = 0;
      out.tunnel = 0;
      out.tunnelKey = 0;
      resetNet(out);
      return false;
    }
    c.off = c.base + f.ipOffset;
    const r = f.ipVersion === 4 ? decodeIPv4(c, out) : decodeIPv6(c, out);
    if (r === IP_OK && out.protocol === f.protocol) decodeL4(c, out);
    else if (r >= 0 && out.protocol === f.protocol) noL4(c, out);
    else {
      // nfstream accepted a header flowsift finds malformed (IHL < 5…) or walked the IPv6 extension headers
      // differently (AH ends nDPI's walk): take the transport header where nfstream found it.
      if (r < 0) fillAddresses(c.d, c.base, f.ipOffset, f.ipVersion, out);
      out.protocol = f.protocol;
      c.off = c.base + f.l4Offset;
      c.ipPayloadLen = f.l4Len;
      if (c.off <= c.end) decodeL4(c, out);
      else noL4(c, out);
    }
    out.srcPort = f.srcPort;
    out.dstPort = f.dstPort;
    out.vlanId = f.vlanId;
    out.tunnelKey = f.tunnelId;
    out.tunnel = f.tunnelId === NfTunnel.GTP ? Tunnel.GTP_U : f.tunnelId === NfTunnel.CAPWAP ? Tunnel.CAPWAP
      : f.tunnelId === NfTunnel.TZSP ? Tunnel.TZSP : 0;
    out.ipTotalLen = f.ipSize;
    out.truncated = c.truncated;
    if (c.truncated) this.truncated++;
    if (c.bad) this.badHeader++;
    if (out.ipVersion === 4) this.ipv4++;
    else this.ipv6++;
    if (out.isFragment) this.fragments++;
    if (out.tunnel !== 0) this.tunneled++;
    return true;
  }

  /** A snapshot of the counters (allocates; not for the per-packet path). */
  counters(): DecoderCounters {
    return {
      packets: this.packets,
      ipv4: this.ipv4,
      ipv6: this.ipv6,
      nonIp: this.nonIp,
      truncated: this.truncated,
      fragments: this.fragments,
      unknownLinkType: this.unknownLinkType,
      badHeader: this.badHeader,
      tunneled: this.tunneled,
      tunnelTooDeep: this.tunnelTooDeep,
      ignored: this.ignored,
      unknownLinkTypes: [...this.unknownLinkTypes].sort((a, b) => a - b),
    };
  }

  /** Zeroes the counters and forgets the unknown link types. */
  resetCounters(): void {
    this.packets = this.ipv4 = this.ipv6 = this.nonIp = this.truncated = this.fragments = 0;
    this.unknownLinkType = this.badHeader = this.tunneled = this.tunnelTooDeep = this.ignored = 0;
    this.unknownLinkTypes.clear();
  }
}

/**
 * Writes version, addresses, IP header fields of the header at `o` without validating it (for headers the
 * `nfstream` rules accept and {@link decodeIPv4} rejects, e.g. IHL < 5).
 */
function fillAddresses(d: Uint8Array, base: number, l3: number, version: number, out: DecodedPacket): void {
  const s = out.src, t = out.dst, o = base + l3;
  out.ipVersion = version;
  out.l3Offset = l3;
  if (version === 4) {
    s[0] = 0; s[1] = 0; s[2] = 0; s[3] = be32(d, o + 12);
    t[0] = 0; t[1] = 0; t[2] = 0; t[3] = be32(d, o + 16);
    out.ttl = d[o + 8]!;
    out.ipHeaderLen = (d[o]! & 0x0f) << 2;
  } else {
    for (let i = 0; i < 4; i++) {
      s[i] = be32(d, o + 8 + 4 * i);
      t[i] = be32(d, o + 24 + 4 * i);
    }
    out.ttl = d[o + 7]!;
    out.ipHeaderLen = 40;
  }
  out.isFragment = false;
  out.fragOffset = 0;
  out.moreFragments = false;
}

function be32(d: Uint8Array, o: number): number {
  return ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
}

/** Resets the network and transport fields of `out` (used when no IP packet was decoded). */
function resetNet(out: DecodedPacket): void {
  out.ipVersion = 0;
  const s = out.src;
  const d = out.dst;
  s[0] = 0; s[1] = 0; s[2] = 0; s[3] = 0;
  d[0] = 0; d[1] = 0; d[2] = 0; d[3] = 0;
  out.protocol = 0;
  out.srcPort = 0;
  out.dstPort = 0;
  out.icmpType = -1;
  out.icmpCode = -1;
  out.ttl = 0;
  out.l3Offset = 0;
  out.ipHeaderLen = 0;
  out.ipTotalLen = 0;
  out.isFragment = false;
  out.fragOffset = 0;
  out.moreFragments = false;
  out.l4Offset = 0;
  out.l4HeaderLen = 0;
  out.payloadLen = 0;
  out.payloadOffset = 0;
  out.capturedPayloadLen = 0;
  out.tcpFlags = 0;
  out.tcpWindow = 0;
  out.tcpSeq = 0;
  out.tcpAck = 0;
  out.ipTos = 0;
  out.ipId = 0;
  out.dontFragment = false;
}

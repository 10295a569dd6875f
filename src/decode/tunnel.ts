/**
 * Tunnel decapsulation, following nfstream's `decode_tunnels=True` (nfstream/engine/lib_engine.c: GTP-U, CAPWAP
 * data, TZSP, IPv4/IPv6-in-IP; Teredo is left as UDP) and extended with GRE (incl. ERSPAN, transparent
 * Ethernet bridging, PPTP), VXLAN and Geneve.
 *
 * {@link decapsulate} is called after the outer IP and transport headers were decoded. It either declines
 * ({@link TUN_NONE}: not a tunnel, an unsupported variant, or a tunnel header cut by the capture — the outer
 * packet stands) or *commits*: it sets `c.tun`, moves `c.off` to the inner payload and returns the inner network
 * code (an EtherType, or a negative `LINK_*` code when the inner frame is not IP or is cut). Once committed the
 * decoder reports the inner packet or, failing that, no IP packet at all (as nfstream, which drops such packets).
 *
 * Sources: RFC 2003 / RFC 2473 / RFC 4213 (IP-in-IP), RFC 2784 + RFC 2890 (GRE), RFC 2637 §4.1 (PPTP enhanced
 * GRE), RFC 1701 (0x6558 transparent Ethernet bridging), draft-foschiano-erspan-03 (ERSPAN I/II/III),
 * 3GPP TS 29.281 §5 (GTP-U), RFC 7348 §5 (VXLAN), RFC 8926 §3.4 (Geneve), RFC 5415 §4.3 (CAPWAP header),
 * TZSP (the TaZmen Sniffer Protocol as documented by Wireshark's packet-tzsp.c).
 */
import {
  type Cursor,
  EtherType,
  LINK_NOT_IP,
  LINK_TRUNCATED,
  linkEthernet,
  linkIeee80211,
  readPppProtocol,
  walkEtherType,
} from './link.js';
import { IpProto, Tunnel, type DecodedPacket } from './types.js';

/** {@link decapsulate} declined: the outer packet stands. */
export const TUN_NONE = -10;

/** Well-known UDP ports of the UDP-based tunnels. */
export const TunnelPort = {
  /** GTP-U, 3GPP TS 29.281 §4.4.2 (matched on either port, as nfstream). */
  GTP_U: 2152,
  /** VXLAN, RFC 7348 §5 (destination port). */
  VXLAN: 4789,
  /** Geneve, RFC 8926 §3.3 (destination port). */
  GENEVE: 6081,
  /** CAPWAP data channel, RFC 5415 §3.1 (either port, as nfstream). */
  CAPWAP_DATA: 5247,
  /** TZSP (either port, as nfstream). */
  TZSP: 37008,
} as const;

/** IP protocol numbers carrying IP: IPv4 (4, RFC 2003) and IPv6 (41, RFC 2473/4213). */
const PROTO_IPIP = 4;
const PROTO_IPV6 = 41;

/** Maximum GTP-U extension headers / TZSP tags walked. */
const MAX_CHAIN = 32;

function u16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

/** Network code of a bare IP payload at `c.off`, from its version nibble (needs one captured byte). */
function ipByVersion(c: Cursor): number {
  if (c.off + 1 > c.end) return LINK_TRUNCATED;
  const v = c.d[c.off]! >> 4;
  if (v === 4) return (c.etherType = EtherType.IPV4);
  if (v === 6) return (c.etherType = EtherType.IPV6);
  return LINK_NOT_IP;
}

/**
 * GRE at `c.off` (IP protocol 47). Version 0 (RFC 2784/2890): 4-byte base header + 4 per C (checksum),
 * K (key), S (sequence) bit; packets with the RFC 1701 routing bit are declined. Payload types: IPv4, IPv6,
 * MPLS (EtherType walk), 0x6558 → Ethernet frame, 0x88BE → ERSPAN I (no header, S clear) / II (8-byte header),
 * 0x22EB → ERSPAN III (12 bytes + 8 with the O bit; frame type 0 Ethernet, 2 IP). Version 1 (PPTP): K required,
 * + S, + A (acknowledgement), payload type 0x880B then a PPP protocol; only PPP frames carrying IP commit
 * (compressed/encrypted or control PPP frames leave the outer GRE packet). Other versions/types: declined.
 */
function gre(c: Cursor): number {
  const d = c.d;
  const o = c.off;
  const end = c.end;
  if (o + 4 > end) {
    c.truncated = true;
    return TUN_NONE;
  }
  const w = u16(d, o);
  const proto = u16(d, o + 2);
  const ver = w & 7;
  if (ver === 0) {
    if ((w & 0x4000) !== 0) return TUN_NONE; // RFC 1701 source routing: not supported
    let hl = 4;
    if ((w & 0x8000) !== 0) hl += 4;
    if ((w & 0x2000) !== 0) hl += 4;
    if ((w & 0x1000) !== 0) hl += 4;
    let p = o + hl;
    switch (proto) {
      case EtherType.IPV4:
      case EtherType.IPV6:
      case EtherType.MPLS_UC:
      case EtherType.MPLS_MC:
        if (p > end) break;
        c.off = p;
        c.tun = Tunnel.GRE;
        return walkEtherType(c, proto);
      case EtherType.TEB:
        if (p > end) break;
        c.off = p;
        c.tun = Tunnel.GRE;
        return linkEthernet(c);
      case EtherType.ERSPAN_2:
        if ((w & 0x1000) !== 0) p += 8; // type II header (type I has no sequence number and no header)
        if (p > end) break;
        c.off = p;
        c.tun = Tunnel.ERSPAN;
        return linkEthernet(c);
      case EtherType.ERSPAN_3: {
        if (p + 12 > end) break;
        const ft = (d[p + 10]! >> 2) & 0x1f;
        const hasSub = (d[p + 11]! & 1) !== 0;
        p += hasSub ? 20 : 12;
        if (p > end) break;
        c.off = p;
        c.tun = Tunnel.ERSPAN;
        if (ft === 0) return linkEthernet(c);
        if (ft === 2) return ipByVersion(c);
        return LINK_NOT_IP;
      }
      default:
        return TUN_NONE;
    }
    c.truncated = true;
    return TUN_NONE;
  }
  if (ver === 1) {
    if (proto !== EtherType.PPP || (w & 0x2000) === 0) return TUN_NONE;
    let hl = 8;
    if ((w & 0x1000) !== 0) hl += 4;
    if ((w & 0x0080) !== 0) hl += 4;
    if (o + hl > end) {
      c.truncated = true;
      return TUN_NONE;
    }
    c.off = o + hl;
    const t = readPppProtocol(c);
    if (t === LINK_TRUNCATED) c.truncated = true;
    if (t < 0) return TUN_NONE;
    c.tun = Tunnel.PPTP;
    return walkEtherType(c, t);
  }
  return TUN_NONE;
}

/**
 * GTP-U at `u` (UDP payload, 3GPP TS 29.281 §5.1): version 1 and message type 255 (G-PDU) only; 8-byte header,
 * + 4 when any of E/S/PN is set, then with E the extension-header chain (length in 4-byte units, last byte =
 * next type, 0 ends; at most {@link MAX_CHAIN}). A zero-length or cut extension header declines (as nfstream);
 * so does a G-PDU without captured payload. Inner: IPv4/IPv6 by version nibble.
 */
function gtpU(c: Cursor, u: number): number {
  const d = c.d;
  const end = c.end;
  if (u + 8 > end) {
    c.truncated = true;
    return TUN_NONE;
  }
  const flags = d[u]!;
  if (flags >> 5 !== 1 || d[u + 1] !== 0xff) return TUN_NONE;
  let p = u + 8;
  if ((flags & 0x07) !== 0) p += 4;
  if ((flags & 0x04) !== 0) {
    let n = 0;
    for (;;) {
      if (p >= end) {
        c.truncated = true;
        return TUN_NONE;
      }
      const len = d[p]! << 2;
      if (len === 0 || ++n > MAX_CHAIN) {
        c.bad = true;
        return TUN_NONE;
      }
      p += len;
      if (p > end) {
        c.truncated = true;
        return TUN_NONE;
      }
      if (d[p - 1] === 0) break;
    }
  }
  if (p >= end) {
    c.truncated = true;
    return TUN_NONE;
  }
  c.off = p;
  c.tun = Tunnel.GTP_U;
  return ipByVersion(c);
}

/** VXLAN at `u` (RFC 7348 §5): 8-byte header with the I flag (0x08) set, then an Ethernet frame. */
function vxlan(c: Cursor, u: number): number {
  if (u + 8 > c.end) {
    c.truncated = true;
    return TUN_NONE;
  }
  if ((c.d[u]! & 0x08) === 0) return TUN_NONE;
  c.off = u + 8;
  c.tun = Tunnel.VXLAN;
  return linkEthernet(c);
}

/**
 * Geneve at `u` (RFC 8926 §3.4): version 0, 8 bytes + options (6-bit length in 4-byte units); control
 * messages (O bit) decline. Protocol 0x6558 → Ethernet frame, 0x0800/0x86DD → IP; others decline.
 */
function geneve(c: Cursor, u: number): number {
  const d = c.d;
  if (u + 8 > c.end) {
    c.truncated = true;
    return TUN_NONE;
  }
  const b0 = d[u]!;
  if (b0 >> 6 !== 0 || (d[u + 1]! & 0x80) !== 0) return TUN_NONE;
  const proto = u16(d, u + 2);
  const p = u + 8 + ((b0 & 0x3f) << 2);
  if (proto !== EtherType.TEB && proto !== EtherType.IPV4 && proto !== EtherType.IPV6) return TUN_NONE;
  if (p > c.end) {
    c.truncated = true;
    return TUN_NONE;
  }
  c.off = p;
  c.tun = Tunnel.GENEVE;
  return proto === EtherType.TEB ? linkEthernet(c) : walkEtherType(c, proto);
}

/**
 * CAPWAP data channel at `u` (RFC 5415 §4.3): preamble version 0 and type 0 (type 1 = DTLS-encrypted:
 * declined); HLEN (5 bits, 4-byte units) covers the whole header. Keep-alives (K) and non-first fragments
 * (F with a fragment offset) decline. T = 1 with WBID 1 → IEEE 802.11 frame (Frame Control accepted in either
 * byte order), T = 0 → IEEE 802.3 frame.
 */
function capwap(c: Cursor, u: number): number {
  const d = c.d;
  if (u + 8 > c.end) {
    c.truncated = true;
    return TUN_NONE;
  }
  if (d[u] !== 0) return TUN_NONE;
  const w = ((d[u + 1]! << 16) | (d[u + 2]! << 8) | d[u + 3]!) >>> 0; // bits 23..0 of the first word
  const hlen = ((w >> 19) & 0x1f) << 2;
  const wbid = (w >> 9) & 0x1f;
  const t = (w >> 8) & 1;
  const f = (w >> 7) & 1;
  const k = (w >> 3) & 1;
  if (hlen < 8 || k === 1) return TUN_NONE;
  if (f === 1 && u16(d, u + 6) >> 3 !== 0) return TUN_NONE;
  if (u + hlen > c.end) {
    c.truncated = true;
    return TUN_NONE;
  }
  c.off = u + hlen;
  c.tun = Tunnel.CAPWAP;
  if (t === 0) return linkEthernet(c);
  if (wbid !== 1) return LINK_NOT_IP;
  // Cisco controllers send the 802.11 Frame Control field byte-swapped (Wireshark's "Cisco Wireless Controller
  // Support" preference): the protocol-version bits, always 0, then sit in the first byte.
  const p = c.off;
  const swapped = p + 2 <= c.end && (d[p]! & 0x03) !== 0 && (d[p + 1]! & 0x03) === 0;
  return linkIeee80211(c, swapped);
}

/**
 * TZSP at `u`: version 1, type 0 (received tag list) or 1 (packet for transmit), 2-byte encapsulation
 * (1 Ethernet, 18 IEEE 802.11; others decline), then tags (0 padding: 1 byte, 1 end: 1 byte, else type, length,
 * value), then the frame.
 */
function tzsp(c: Cursor, u: number): number {
  const d = c.d;
  const end = c.end;
  if (u + 4 > end) {
    c.truncated = true;
    return TUN_NONE;
  }
  if (d[u] !== 1 || d[u + 1]! > 1) return TUN_NONE;
  const encap = u16(d, u + 2);
  if (encap !== 1 && encap !== 18) return TUN_NONE;
  let p = u + 4;
  for (let i = 0; ; i++) {
    if (p >= end || i >= MAX_CHAIN) {
      c.truncated = p >= end;
      return TUN_NONE;
    }
    const tag = d[p]!;
    if (tag === 1) {
      p += 1;
      break;
    }
    if (tag === 0) {
      p += 1;
      continue;
    }
    if (p + 2 > end) {
      c.truncated = true;
      return TUN_NONE;
    }
    p += 2 + d[p + 1]!;
  }
  c.off = p;
  c.tun = Tunnel.TZSP;
  return encap === 1 ? linkEthernet(c) : linkIeee80211(c);
}

/**
 * Looks through the packet just decoded (outer IP header and transport header in `out`, transport header at
 * `c.off`, which must be a first fragment or unfragmented) for a tunnel; see the module comment for the
 * contract. IP-in-IP (4) and IPv6-in-IP (41) start the inner packet at the transport offset; GRE (47) is
 * described at `gre`; UDP tunnels need the full 8-byte UDP header and are recognised by {@link TunnelPort}.
 */
export function decapsulate(c: Cursor, out: DecodedPacket): number {
  switch (out.protocol) {
    case PROTO_IPIP:
      c.tun = Tunnel.IPIP;
      return (c.etherType = EtherType.IPV4);
    case PROTO_IPV6:
      c.tun = Tunnel.IP6;
      return (c.etherType = EtherType.IPV6);
    case IpProto.GRE:
      return gre(c);
    case IpProto.UDP: {
      const u = c.off + 8;
      if (u > c.end) return TUN_NONE;
      const sp = out.srcPort;
      const dp = out.dstPort;
      if (sp === TunnelPort.GTP_U || dp === TunnelPort.GTP_U) return gtpU(c, u);
      if (dp === TunnelPort.VXLAN) return vxlan(c, u);
      if (dp === TunnelPort.GENEVE) return geneve(c, u);
      if (sp === TunnelPort.CAPWAP_DATA || dp === TunnelPort.CAPWAP_DATA) return capwap(c, u);
      if (sp === TunnelPort.TZSP || dp === TunnelPort.TZSP) return tzsp(c, u);
      return TUN_NONE;
    }
    default:
      return TUN_NONE;
  }
}

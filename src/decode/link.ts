/**
 * Link-layer decoding: from the first captured byte to the start of the network-layer header.
 *
 * Every function here reads `c.d[c.off .. c.end)` only (never beyond the captured length), advances `c.off`
 * past what it consumed and returns a *network code*: an EtherType (≥ 0, e.g. 0x0800 IPv4, 0x86DD IPv6,
 * 0x0806 ARP), {@link NET_IP_BY_VERSION} when the link says "IP" without the version (raw IP), or one of the
 * negative `LINK_*` codes. No allocation, no closure, no exception.
 *
 * Sources: tcpdump.org "Link-layer header types" (LINKTYPE_* values and header layouts), IEEE 802.3 (Ethernet II /
 * length field), IEEE 802.1Q (C-tag 0x8100, S-tag 0x88A8), RFC 1042 (LLC/SNAP), RFC 3032 (MPLS label stack),
 * RFC 2516 (PPPoE), RFC 1661/1662 (PPP, HDLC-like framing), radiotap.org (radiotap header), IEEE 802.11-2020 §9.2
 * (MAC frame format).
 */

/** LINKTYPE_* values handled by {@link decodeLink} (tcpdump.org link-layer header types). */
export const LinkTypes = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  FDDI: 10,
  /** DLT_RAW as written by some platforms (most use 12, OpenBSD 14); treated as raw IP. */
  RAW_DLT12: 12,
  RAW_DLT14: 14,
  PPP_HDLC: 50,
  RAW: 101,
  C_HDLC: 104,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  LINUX_SLL2: 276,
} as const;

/** EtherType values used by the decoder (IEEE "EtherType" registry). */
export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  /** Pre-standard QinQ tags still seen in the wild. */
  QINQ_9100: 0x9100,
  QINQ_9200: 0x9200,
  IPV6: 0x86dd,
  PPP: 0x880b,
  MPLS_UC: 0x8847,
  MPLS_MC: 0x8848,
  PPPOE_DISC: 0x8863,
  PPPOE_SESS: 0x8864,
  /** Transparent Ethernet bridging (GRE payload type, RFC 1701). */
  TEB: 0x6558,
  ERSPAN_2: 0x88be,
  ERSPAN_3: 0x22eb,
  /** Cisco FabricPath (DCE) outer header. */
  FABRICPATH: 0x8903,
  /** Cisco VN-Tag (IEEE 802.1Qbh pre-standard). */
  VNTAG: 0x8926,
  /** IEEE 802.1ah provider backbone bridging I-TAG (MAC-in-MAC). */
  PBB: 0x88e7,
} as const;

/** Network code: "IP, version given by the first nibble" (raw IP links, MPLS bottom of stack is resolved here). */
export const NET_IP_BY_VERSION = 0x10000;
/** The captured bytes end inside a link-layer header. */
export const LINK_TRUNCATED = -1;
/** The frame is valid but carries no IP (802.3/LLC, 802.11 management/control/protected, PPP control…). */
export const LINK_NOT_IP = -2;
/** The link type is not supported. */
export const LINK_UNKNOWN = -3;
/** A link-layer header is malformed (bad radiotap length, radiotap bad-FCS flag…). */
export const LINK_BAD = -4;

/** Upper bound on stacked VLAN tags / MPLS labels / FabricPath / VN-tag headers walked by {@link walkEtherType}. */
export const MAX_LINK_TAGS = 16;

const EMPTY = new Uint8Array(0);

/**
 * Mutable decode position shared by the decode functions (one per {@link Decoder}, reused for every packet).
 * All offsets are absolute indices into `d`.
 */
export class Cursor {
  /** Backing bytes of the packet. */
  d: Uint8Array = EMPTY;
  /** Index of the packet's first byte in `d`. */
  base = 0;
  /** Index one past the last captured byte (`base + capLen`): nothing at or beyond it is ever read. */
  end = 0;
  /** Index of the next header to decode. */
  off = 0;
  /** Original (wire) length of the frame, bytes; used for the IPv4 total-length-0 fallback. */
  frameLen = 0;
  /** Outermost VLAN id seen (valid when `vlanSeen`). */
  vlanId = 0;
  vlanSeen = false;
  /** Last EtherType seen (0 when none), see {@link DecodedPacket.etherType}. */
  etherType = 0;
  /** Set when a header the decoder needed was cut by the capture length. */
  truncated = false;
  /** Set when a header was malformed. */
  bad = false;
  /** IP payload length (after the IPv4 header / IPv6 extension headers) from the IP length fields, bytes. */
  ipPayloadLen = 0;
  /** Tunnel code set by the tunnel stage when it decapsulates (see {@link Tunnel}). */
  tun = 0;
}

/** Big-endian 16-bit read; the caller guarantees `o + 2 ≤ end`. */
function u16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

/**
 * Maps a PPP protocol number (RFC 1661 §2, IANA "PPP DLL Protocol Numbers") to an EtherType:
 * 0x0021 → IPv4, 0x0057 → IPv6, 0x0281/0x0283 → MPLS; anything else (LCP, IPCP, compressed data…) → {@link LINK_NOT_IP}.
 */
export function pppToEtherType(proto: number): number {
  switch (proto) {
    case 0x0021: return EtherType.IPV4;
    case 0x0057: return EtherType.IPV6;
    case 0x0281: return EtherType.MPLS_UC;
    case 0x0283: return EtherType.MPLS_MC;
    default: return LINK_NOT_IP;
  }
}

/**
 * Reads a PPP protocol field at `c.off` (RFC 1661 §2: 2 bytes, or 1 byte when protocol-field compression
 * made it odd), skipping an RFC 1662 address/control prefix 0xFF 0x03 when present. Returns an EtherType via
 * {@link pppToEtherType} or a `LINK_*` code.
 */
export function readPppProtocol(c: Cursor): number {
  const d = c.d;
  let o = c.off;
  if (o + 2 > c.end) return LINK_TRUNCATED;
  if (d[o] === 0xff && d[o + 1] === 0x03) {
    o += 2;
    if (o + 1 > c.end) return LINK_TRUNCATED;
  }
  let proto: number;
  if ((d[o]! & 1) === 1) {
    proto = d[o]!;
    o += 1;
  } else {
    if (o + 2 > c.end) return LINK_TRUNCATED;
    proto = u16(d, o);
    o += 2;
  }
  c.off = o;
  return pppToEtherType(proto);
}

/**
 * Walks EtherType-dispatched shim headers starting at `c.off` with EtherType `type` (the header that announced
 * `type` is already consumed) until a network-layer EtherType remains:
 * - IEEE 802.1Q / 802.1ad tags (0x8100, 0x88A8, 0x9100, 0x9200): 4 bytes each; the first tag seen in the
 *   packet sets `c.vlanId` (12-bit VID), later (inner) tags are skipped;
 * - MPLS (0x8847/0x8848, RFC 3032 §2.1): 4-byte labels until the bottom-of-stack bit, then IPv4/IPv6 by the
 *   version nibble (anything else, e.g. a pseudowire control word, is non-IP);
 * - PPPoE session (0x8864, RFC 2516 §4): 6-byte header then a PPP protocol (0x0021 IPv4, 0x0057 IPv6);
 * - Cisco FabricPath (0x8903: 2-byte FTag/TTL then a full inner Ethernet header), VN-Tag (0x8926, 6 bytes) and
 *   IEEE 802.1ah PBB (0x88E7: 4-byte I-TAG then the customer MAC header).
 * At most {@link MAX_LINK_TAGS} shim headers are walked (then the frame counts as malformed).
 * Returns the final EtherType (also stored in `c.etherType`) or a `LINK_*` code.
 */
export function walkEtherType(c: Cursor, type: number): number {
  const d = c.d;
  const end = c.end;
  for (let i = 0; i < MAX_LINK_TAGS; i++) {
    c.etherType = type;
    switch (type) {
      case EtherType.IPV4:
      case EtherType.IPV6:
        return type;
      case EtherType.VLAN:
      case EtherType.QINQ:
      case EtherType.QINQ_9100:
      case EtherType.QINQ_9200: {
        const o = c.off;
        if (o + 4 > end) return LINK_TRUNCATED;
        if (!c.vlanSeen) {
          c.vlanSeen = true;
          c.vlanId = u16(d, o) & 0x0fff;
        }
        type = u16(d, o + 2);
        c.off = o + 4;
        break;
      }
      case EtherType.MPLS_UC:
      case EtherType.MPLS_MC: {
        let o = c.off;
        let n = 0;
        for (;;) {
          if (o + 4 > end) return LINK_TRUNCATED;
          const bos = d[o + 2]! & 1;
          o += 4;
          if (bos === 1) break;
          if (++n >= MAX_LINK_TAGS) return LINK_BAD;
        }
        c.off = o;
        if (o + 1 > end) return LINK_TRUNCATED;
        const v = d[o]! >> 4;
        if (v === 4) type = EtherType.IPV4;
        else if (v === 6) type = EtherType.IPV6;
        else return LINK_NOT_IP;
        break;
      }
      case EtherType.PPPOE_SESS: {
        const o = c.off;
        if (o + 8 > end) return LINK_TRUNCATED;
        if (d[o] !== 0x11 || d[o + 1] !== 0) return LINK_NOT_IP; // version 1, type 1, code 0 = session data
        c.off = o + 6;
        const t = readPppProtocol(c);
        if (t < 0) return t;
        type = t;
        break;
      }
      case EtherType.FABRICPATH: {
        const o = c.off;
        if (o + 16 > end) return LINK_TRUNCATED;
        type = u16(d, o + 14);
        c.off = o + 16;
        if (type <= 1500) return LINK_NOT_IP;
        break;
      }
      case EtherType.PBB: {
        const o = c.off;
        if (o + 18 > end) return LINK_TRUNCATED;
        type = u16(d, o + 16); // 4-byte I-TAG, customer destination and source MACs, EtherType
        c.off = o + 18;
        if (type <= 1500) return LINK_NOT_IP;
        break;
      }
      case EtherType.VNTAG: {
        const o = c.off;
        if (o + 6 > end) return LINK_TRUNCATED;
        type = u16(d, o + 4);
        c.off = o + 6;
        break;
      }
      default:
        return type;
    }
  }
  return LINK_BAD;
}

/**
 * IEEE 802.2 LLC at `c.off` (an 802.3 length-field frame). Only RFC 1042 / 802.1H SNAP (AA AA 03, OUI
 * 00-00-00 or 00-00-F8) is followed to its EtherType; every other LLC frame (STP, NetBEUI, CDP…) is non-IP.
 */
function llcSnap(c: Cursor): number {
  const d = c.d;
  const o = c.off;
  if (o + 3 > c.end) return LINK_TRUNCATED;
  if (d[o] !== 0xaa || d[o + 1] !== 0xaa || d[o + 2] !== 0x03) return LINK_NOT_IP;
  if (o + 8 > c.end) return LINK_TRUNCATED;
  if (d[o + 3] !== 0 || d[o + 4] !== 0 || (d[o + 5] !== 0 && d[o + 5] !== 0xf8)) return LINK_NOT_IP;
  c.off = o + 8;
  return walkEtherType(c, u16(d, o + 6));
}

/**
 * Ethernet II / IEEE 802.3 frame at `c.off` (LINKTYPE_ETHERNET = 1): 6-byte destination, 6-byte source,
 * 2-byte EtherType (≥ 0x0600) or length (≤ 1500, then 802.2 LLC, see `llcSnap`), then the shim headers of
 * {@link walkEtherType}. The frame check sequence, if captured, is ignored (it lies beyond the IP length).
 */
export function linkEthernet(c: Cursor): number {
  const o = c.off;
  if (o + 14 > c.end) return LINK_TRUNCATED;
  const t = u16(c.d, o + 12);
  c.off = o + 14;
  if (t >= 0x0600) return walkEtherType(c, t);
  if (t <= 1500) return llcSnap(c);
  return LINK_NOT_IP;
}

/**
 * FDDI (LINKTYPE_FDDI = 10, ANSI X3.139): frame control 1, destination 6, source 6, then 802.2 LLC (SNAP to
 * reach an EtherType, see `llcSnap`).
 */
export function linkFddi(c: Cursor): number {
  const o = c.off;
  if (o + 13 > c.end) return LINK_TRUNCATED;
  c.off = o + 13;
  return llcSnap(c);
}

/**
 * Maps a Linux cooked-capture protocol field (an EtherType, or the kernel's 802.3/802.2 pseudo-values 0x0001,
 * 0x0004 and the like below 0x0600) and ARPHRD type to a network code.
 */
function sllProtocol(c: Cursor, hatype: number, proto: number): number {
  if (hatype === 824) return LINK_NOT_IP; // ARPHRD_NETLINK: protocol is a netlink family
  if (proto === 0x0004) return llcSnap(c); // ETH_P_802_2: payload starts with an LLC header
  if (proto < 0x0600) return LINK_NOT_IP;
  return walkEtherType(c, proto);
}

/**
 * Linux cooked capture v1 (LINKTYPE_LINUX_SLL = 113): 16-byte header (packet type 2, ARPHRD type 2, address
 * length 2, address 8, protocol 2), protocol = EtherType of the payload.
 */
export function linkSll(c: Cursor): number {
  const o = c.off;
  if (o + 16 > c.end) return LINK_TRUNCATED;
  c.off = o + 16;
  return sllProtocol(c, u16(c.d, o + 2), u16(c.d, o + 14));
}

/**
 * Linux cooked capture v2 (LINKTYPE_LINUX_SLL2 = 276): 20-byte header (protocol 2, reserved 2, interface index 4,
 * ARPHRD type 2, packet type 1, address length 1, address 8).
 */
export function linkSll2(c: Cursor): number {
  const o = c.off;
  if (o + 20 > c.end) return LINK_TRUNCATED;
  c.off = o + 20;
  return sllProtocol(c, u16(c.d, o + 8), u16(c.d, o));
}

/**
 * BSD loopback encapsulation: LINKTYPE_NULL (0, 4-byte address family in the *capturing host's* byte order,
 * detected here from which half is zero) and LINKTYPE_LOOP (108, network byte order). AF 2 → IPv4;
 * 24, 28, 30 (the BSDs' AF_INET6 values) → IPv6; other families are non-IP.
 */
export function linkNull(c: Cursor, networkOrder: boolean): number {
  const d = c.d;
  const o = c.off;
  if (o + 4 > c.end) return LINK_TRUNCATED;
  let fam: number;
  if (networkOrder) fam = ((d[o]! << 24) | (d[o + 1]! << 16) | u16(d, o + 2)) >>> 0;
  else {
    fam = (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
    if (fam > 0xffff) fam = ((d[o]! << 24) | (d[o + 1]! << 16) | u16(d, o + 2)) >>> 0; // big-endian writer
  }
  c.off = o + 4;
  if (fam === 2) return (c.etherType = EtherType.IPV4);
  if (fam === 24 || fam === 28 || fam === 30) return (c.etherType = EtherType.IPV6);
  return LINK_NOT_IP;
}

/**
 * PPP links: LINKTYPE_PPP (9) and LINKTYPE_PPP_HDLC (50), per RFC 1661/1662 (optional 0xFF 0x03 prefix, then
 * the PPP protocol). Frames starting with 0x0F/0x8F are Cisco HDLC (some captures label Cisco HDLC as PPP) and
 * go to {@link linkCiscoHdlc}.
 */
export function linkPpp(c: Cursor): number {
  const o = c.off;
  if (o + 1 > c.end) return LINK_TRUNCATED;
  const b = c.d[o];
  if (b === 0x0f || b === 0x8f) return linkCiscoHdlc(c);
  const t = readPppProtocol(c);
  if (t < 0) return t;
  return walkEtherType(c, t);
}

/** Cisco HDLC (LINKTYPE_C_HDLC = 104): address 1, control 1, EtherType 2 (0x8035 SLARP, 0x2000 CDP are non-IP). */
export function linkCiscoHdlc(c: Cursor): number {
  const o = c.off;
  if (o + 4 > c.end) return LINK_TRUNCATED;
  c.off = o + 4;
  const t = u16(c.d, o + 2);
  if (t < 0x0600) return LINK_NOT_IP;
  return walkEtherType(c, t);
}

/**
 * Raw IP (LINKTYPE_RAW 101, and the DLT values 12/14 found in old files): the packet starts with an IPv4 or
 * IPv6 header, told apart by the version nibble.
 */
export function linkRaw(c: Cursor): number {
  if (c.off + 1 > c.end) return LINK_TRUNCATED;
  const v = c.d[c.off]! >> 4;
  if (v === 4) return (c.etherType = EtherType.IPV4);
  if (v === 6) return (c.etherType = EtherType.IPV6);
  return NET_IP_BY_VERSION; // reported as a bad IP header by the IP stage
}

/**
 * IEEE 802.11 MAC frame at `c.off` (IEEE 802.11-2020 §9.2; LINKTYPE_IEEE802_11 = 105, and after radiotap,
 * CAPWAP or TZSP). Only data frames (type 2) that are not null-function, not protected and not A-MSDU
 * aggregates reach the LLC/SNAP header and its EtherType; everything else is non-IP. Header length: 24,
 * +6 when both To-DS and From-DS (address 4), +2 for QoS data, +4 HT control when QoS and the +HTC/Order bit.
 * `swappedFc`: the two Frame Control bytes are in reverse order (Cisco wireless controllers in CAPWAP).
 */
export function linkIeee80211(c: Cursor, swappedFc = false): number {
  const d = c.d;
  const o = c.off;
  if (o + 24 > c.end) return LINK_TRUNCATED;
  const fc0 = swappedFc ? d[o + 1]! : d[o]!;
  const fc1 = swappedFc ? d[o]! : d[o + 1]!;
  if ((fc0 & 0x03) !== 0) return LINK_BAD; // protocol version must be 0
  if (((fc0 >> 2) & 0x03) !== 2) return LINK_NOT_IP; // not a data frame
  const subtype = fc0 >> 4;
  if ((subtype & 0x04) !== 0) return LINK_NOT_IP; // null function: no body
  if ((fc1 & 0x40) !== 0) return LINK_NOT_IP; // protected (encrypted) body
  let hl = 24;
  if ((fc1 & 0x03) === 0x03) hl += 6;
  if ((subtype & 0x08) !== 0) {
    if (o + hl + 2 > c.end) return LINK_TRUNCATED;
    if ((d[o + hl]! & 0x80) !== 0) return LINK_NOT_IP; // A-MSDU present
    hl += 2;
    if ((fc1 & 0x80) !== 0) hl += 4;
  }
  c.off = o + hl;
  return llcSnap(c);
}

/**
 * Radiotap (LINKTYPE_IEEE802_11_RADIOTAP = 127, radiotap.org): version 0, pad, little-endian header length,
 * then present words (bit 31 = another word follows). The Flags field (present bit 1, after an 8-byte-aligned
 * TSFT when bit 0 is set) is read: bad FCS (0x40) → {@link LINK_BAD}. Then the 802.11 frame
 * ({@link linkIeee80211}).
 */
export function linkRadiotap(c: Cursor): number {
  const d = c.d;
  const o = c.off;
  if (o + 8 > c.end) return LINK_TRUNCATED;
  if (d[o] !== 0) return LINK_BAD;
  const len = d[o + 2]! | (d[o + 3]! << 8);
  if (len < 8) return LINK_BAD;
  if (o + len > c.end) return LINK_TRUNCATED;
  const present = (d[o + 4]! | (d[o + 5]! << 8) | (d[o + 6]! << 16) | (d[o + 7]! << 24)) >>> 0;
  let p = o + 8;
  let w = present;
  let words = 0;
  while ((w & 0x80000000) !== 0) {
    if (p + 4 > o + len || ++words > 32) return LINK_BAD;
    w = d[p + 3]! << 24;
    p += 4;
  }
  if ((present & 0x02) !== 0) {
    if ((present & 0x01) !== 0) {
      p = o + ((p - o + 7) & ~7); // TSFT: u64 aligned to 8 from the header start
      p += 8;
    }
    if (p + 1 > o + len) return LINK_BAD;
    if ((d[p]! & 0x40) !== 0) return LINK_BAD; // frame failed FCS check
  }
  c.off = o + len;
  return linkIeee80211(c);
}

/**
 * Linux NFLOG (LINKTYPE_NFLOG = 239): 4-byte header (address family, version, resource id) then TLVs (length and
 * type in the capturing host's byte order, read here as little-endian; length includes the 4-byte TLV header,
 * padded to 4). The NFULA_PAYLOAD TLV (type 9) holds the IP packet; AF_INET (2) → IPv4, AF_INET6 (10) → IPv6.
 */
export function linkNflog(c: Cursor): number {
  const d = c.d;
  const o = c.off;
  const end = c.end;
  if (o + 4 > end) return LINK_TRUNCATED;
  const fam = d[o];
  let p = o + 4;
  for (let i = 0; i < 64; i++) {
    if (p + 4 > end) return LINK_TRUNCATED;
    const tlen = d[p]! | (d[p + 1]! << 8);
    const ttype = d[p + 2]! | (d[p + 3]! << 8);
    if (tlen < 4) return LINK_BAD;
    if ((ttype & 0x3fff) === 9) { // without the NLA_F_NESTED / NLA_F_NET_BYTEORDER flags
      c.off = p + 4;
      if (fam === 2) return (c.etherType = EtherType.IPV4);
      if (fam === 10) return (c.etherType = EtherType.IPV6);
      return LINK_NOT_IP;
    }
    p += (tlen + 3) & ~3;
  }
  return LINK_BAD;
}

/**
 * Decodes the link layer of a packet of link type `linkType` (LINKTYPE_* value) from `c.off`; see the module
 * comment for the return convention. Unknown link types return {@link LINK_UNKNOWN}.
 */
export function decodeLink(linkType: number, c: Cursor): number {
  switch (linkType) {
    case LinkTypes.ETHERNET: return linkEthernet(c);
    case LinkTypes.RAW:
    case LinkTypes.IPV4:
    case LinkTypes.IPV6:
    case LinkTypes.RAW_DLT12:
    case LinkTypes.RAW_DLT14:
      return linkRaw(c);
    case LinkTypes.LINUX_SLL: return linkSll(c);
    case LinkTypes.LINUX_SLL2: return linkSll2(c);
    case LinkTypes.NULL: return linkNull(c, false);
    case LinkTypes.LOOP: return linkNull(c, true);
    case LinkTypes.PPP:
    case LinkTypes.PPP_HDLC:
      return linkPpp(c);
    case LinkTypes.C_HDLC: return linkCiscoHdlc(c);
    case LinkTypes.IEEE802_11_RADIOTAP: return linkRadiotap(c);
    case LinkTypes.IEEE802_11: return linkIeee80211(c);
    case LinkTypes.NFLOG: return linkNflog(c);
    case LinkTypes.FDDI: return linkFddi(c);
    default: return LINK_UNKNOWN;
  }
}

/**
 * nfstream's packet parser, for the `nfstream` decode rules: which frames nfstream accounts, where it finds the IP
 * header, and the fields of its flow key (VLAN id, tunnel id, protocol, ports). It is a transcription of
 * `packet_process` and the functions it calls in nfstream/engine/lib_engine.c (nfstream 6.5.4 with nDPI 5.0's
 * `ndpi_handle_ipv6_extension_headers`), including its quirks, because the point of the rules is to count the
 * same flows and bytes as nfstream:
 *
 * - link layer (`packet_datalink_checker`): libpcap DLT_NULL (address family 2 read big-endian → "IPv4",
 *   anything else → "IPv6"), DLT_PPP_SERIAL (50) / DLT_C_HDLC (104) / DLT_PPP (9), DLT_EN10MB (1, LLC/SNAP, STP
 *   dropped), DLT_LINUX_SLL (113), radiotap (127), DLT_RAW (LINKTYPE 101, or 12 as written by some tools),
 *   DLT_IPV4 / DLT_IPV6 (228/229); any other link type (SLL2, LOOP, 802.11 without radiotap, NFLOG…) is dropped.
 *   Frames shorter than 28 captured bytes after the link offset are dropped ("28 = min IP + min UDP").
 * - shim headers (`packet_ether_type_checker`): 802.1Q tags (0x8100 only) — the flow's VLAN id is the
 *   *innermost* tag —, MPLS (then IPv4 assumed), PPPoE session (8 bytes skipped, then IPv4 assumed).
 * - the IP header is recognised by its version nibble, whatever the EtherType said; IPv4 non-first fragments
 *   are dropped only when the EtherType was 0x0800; IPv4-in-IP and IPv6-in-IP (protocols 4 and 41) are
 *   followed to the inner header with tunnel id 0.
 * - IPv6: dropped when the captured bytes end before the payload length says, when the extension-header walk
 *   fails (no-next-header 59, a non-first fragment, a header running past the packet).
 * - with `decode_tunnels`, UDP on port 2152 (GTP-U G-PDU, tunnel id 1), 37008 (TZSP carrying Ethernet, tunnel
 *   id 3, re-parsed from the link layer) and 5247 (CAPWAP data carrying 802.11, tunnel id 2) are decapsulated.
 *   GRE, VXLAN, Geneve and the others are not: such packets are flows of the outer addresses.
 * - transport (`packet_get_ip_info`): ports are read for TCP with ≥ 20 bytes of IP payload and UDP with ≥ 8;
 *   every other packet (ICMP, SCTP, a short TCP segment…) has ports 0. An IPv4 total length below the header
 *   length (e.g. 0, as in segmentation-offload captures) drops the packet.
 *
 * {@link nfstreamParse} only walks the headers; `Decoder` (rules `nfstream`) then decodes the IP and transport
 * fields at the offset found and overrides the key fields with nfstream's.
 */

/** nDPI's `ndpi_packet_tunnel` values, nfstream's `tunnel_id` column (nDPI src/include/ndpi_typedefs.h). */
export const NfTunnel = { NONE: 0, GTP: 1, CAPWAP: 2, TZSP: 3 } as const;

/** libpcap DLT values nfstream's `packet_datalink_checker` handles (after libpcap's LINKTYPE → DLT mapping). */
const DLT_NULL = 0;
const DLT_EN10MB = 1;
const DLT_PPP = 9;
const DLT_RAW = 12;
const DLT_PPP_SERIAL = 50;
const DLT_C_HDLC = 104;
const DLT_LINUX_SLL = 113;
const DLT_IEEE802_11_RADIO = 127;
const DLT_IPV4 = 228;
const DLT_IPV6 = 229;
/** LINKTYPE_RAW, which libpcap reports as DLT_RAW. */
const LINKTYPE_RAW = 101;

const ETH_P_IP = 0x0800;
const ETH_P_IPV6 = 0x86dd;
const VLAN = 0x8100;
const MPLS_UNI = 0x8847;
const MPLS_MULTI = 0x8848;
const PPPOE = 0x8864;
const GTP_U_V1_PORT = 2152;
const CAPWAP_DATA_PORT = 5247;
const TZSP_PORT = 37008;

/** Result of {@link nfstreamParse}: the fields nfstream keys and counts a packet by. Reused per packet. */
export class NfstreamFields {
  /** Offset of the IP header nfstream accounts, relative to the packet's first byte. */
  ipOffset = 0;
  /** 4 or 6. */
  ipVersion = 0;
  /** Innermost 802.1Q VLAN id, 0 when untagged. */
  vlanId = 0;
  /** {@link NfTunnel} value. */
  tunnelId = 0;
  /** Transport protocol: IPv4 protocol field / IPv6 next header after nDPI's extension-header walk. */
  protocol = 0;
  /** Ports per nfstream's rules (0 unless TCP with ≥ 20 or UDP with ≥ 8 bytes of IP payload). */
  srcPort = 0;
  dstPort = 0;
  /** Offset of the transport header relative to the packet's first byte. */
  l4Offset = 0;
  /** Transport length from the IP length fields (nfstream's `l4_packet_len`), bytes. */
  l4Len = 0;
  /** IP size as nfstream counts it in accounting mode 1: IPv4 total length / IPv6 40 + payload length, mod 2^16. */
  ipSize = 0;
}

function u16(d: Uint8Array, o: number): number {
  return (d[o]! << 8) | d[o + 1]!;
}

// The frame being parsed (module state instead of closures: no allocation per packet; not re-entrant).
let D: Uint8Array = new Uint8Array(0);
let B = 0;
let E = 0;

/** Byte `x` of the frame; 0 beyond the captured bytes (nfstream reads past them; such packets are rare). */
function at(x: number): number {
  const i = B + x;
  return i < E ? D[i]! : 0;
}

/** Big-endian 16-bit field at byte `x` of the frame. */
function at16(x: number): number {
  return (at(x) << 8) | at(x + 1);
}

/**
 * nDPI's `ndpi_handle_ipv6_extension_headers` (nDPI src/lib/ndpi_main.c), on frame offsets: walks hop-by-hop (0),
 * routing (43), fragment (44, 8 bytes; a non-zero fragment offset fails: only first fragments are kept),
 * destination options (60) and mobility (135) headers while more than one byte of `l3len` remains; no-next-header
 * (59) fails. AH (51) and ESP (50) end the walk as the transport protocol.
 * @param p frame offset of the byte after the fixed IPv6 header
 * @returns the frame offset of the transport header, or -1 on failure; next header and remaining length in `ext`
 */
function ipv6ExtHeaders(p: number, l3len: number): number {
  let nh = ext.nh, len = ext.len;
  while (l3len > 1 && (nh === 0 || nh === 43 || nh === 44 || nh === 60 || nh === 135 || nh === 59)) {
    if (nh === 59) return -1;
    if (nh === 44) {
      if (len < 8 || l3len < 5) return -1;
      l3len -= 5;
      nh = at(p);
      if (at16(p + 2) >> 3 !== 0) return -1;
      len -= 8;
      p += 8;
      continue;
    }
    if (len < 2) return -1;
    const ehdr = at(p + 1) * 8 + 8;
    if (ehdr > l3len) return -1;
    l3len -= ehdr;
    if (len < ehdr) return -1;
    nh = at(p);
    len -= ehdr;
    p += ehdr;
  }
  ext.nh = nh;
  ext.len = len;
  return p;
}

const ext = { nh: 0, len: 0 };

/**
 * Parses a captured frame the way nfstream's `packet_process` does (see the module comment). Offsets in the
 * comments and in {@link NfstreamFields} are relative to the frame's first byte.
 *
 * @param d backing bytes; the frame is `d[base, base + capLen)` and nothing beyond it is read
 * @param linkType LINKTYPE_* of the record
 * @param decodeTunnels nfstream's `decode_tunnels` (GTP-U, TZSP, CAPWAP; IP-in-IP is always followed)
 * @param out written on success
 * @returns false when nfstream ignores the frame (`packet_process` returns 0)
 */
export function nfstreamParse(
  d: Uint8Array, base: number, capLen: number, linkType: number, decodeTunnels: boolean, out: NfstreamFields,
): boolean {
  D = d;
  B = base;
  E = Math.min(base + capLen, d.length);
  const caplen = capLen;
  const dlt = linkType === LINKTYPE_RAW ? DLT_RAW : linkType;
  let ethOffset = 0;
  let type = 0;
  let ipOffset = 0;
  let vlanId = 0;
  let tunnel = 0;
  let pyldEthLen = 0;
  let wifiLen = 0;
  let fragOff = 0;
  let proto = 0;
  let ipLen = 0;

  datalink: for (;;) {
    // packet_datalink_checker
    if (caplen < ethOffset + 28) return false; // "28 = min IP + min UDP"
    switch (dlt) {
      case DLT_NULL:
        type = (((at(ethOffset) << 24) | (at(ethOffset + 1) << 16) | at16(ethOffset + 2)) >>> 0) === 2 ? ETH_P_IP : ETH_P_IPV6;
        ipOffset = ethOffset + 4;
        break;
      case DLT_PPP_SERIAL:
        ipOffset = ethOffset + 4;
        type = at16(ethOffset + 2);
        break;
      case DLT_C_HDLC:
      case DLT_PPP:
        if (at(0) === 0x0f || at(0) === 0x8f) {
          ipOffset = ethOffset + 4;
          type = at16(ethOffset + 2);
        } else {
          ipOffset = ethOffset + 2;
          type = at16(ethOffset);
        }
        break;
      case DLT_IPV4:
        type = ETH_P_IP;
        ipOffset = ethOffset;
        break;
      case DLT_IPV6:
        type = ETH_P_IPV6;
        ipOffset = ethOffset;
        break;
      case DLT_EN10MB: {
        ipOffset = ethOffset + 14;
        const check = at16(ethOffset + 12);
        if (check <= 1500) pyldEthLen = check;
        else if (check >= 1536) type = check;
        if (pyldEthLen !== 0) {
          const dsap = at(ipOffset), ssap = at(ipOffset + 1);
          if (dsap === 0xaa || ssap === 0xaa) {
            type = at(ipOffset + 6) | (at(ipOffset + 7) << 8); // snap.proto_ID read without ntohs (sic)
            ipOffset += 8;
          } else if (dsap === 0x42 || ssap === 0x42) return false; // spanning tree
        }
        break;
      }
      case DLT_LINUX_SLL:
        type = at16(ethOffset + 14);
        ipOffset = ethOffset + 16;
        break;
      case DLT_IEEE802_11_RADIO: {
        const radioLen = at(ethOffset + 2) | (at(ethOffset + 3) << 8);
        if ((at(ethOffset + 16) & 0x50) === 0x50) return false; // BAD_FCS
        if (caplen < ethOffset + radioLen + 24) return false;
        const fc = at(ethOffset + radioLen) | (at(ethOffset + radioLen + 1) << 8);
        if (((fc >> 2) & 3) !== 2) return false; // not a data frame
        const toDs = (fc & 0x0100) !== 0, fromDs = (fc & 0x0200) !== 0;
        if (toDs !== fromDs) wifiLen = 26;
        if (caplen < ethOffset + wifiLen + radioLen + 8) return false;
        const llc = ethOffset + wifiLen + radioLen;
        if (at(llc) === 0xaa) type = at16(llc + 6);
        ipOffset = wifiLen + radioLen + 8 + ethOffset;
        break;
      }
      case DLT_RAW:
        ipOffset = ethOffset;
        if (caplen > ethOffset) {
          const v = at(ethOffset) >> 4;
          if (v === 4) type = ETH_P_IP;
          if (v === 6) type = ETH_P_IPV6;
        }
        break;
      default:
        return false;
    }

    // packet_ether_type_checker, repeated while it changes the type
    for (;;) {
      if (type === VLAN) {
        if (ipOffset + 4 >= caplen) return false;
        vlanId = at16(ipOffset) & 0xfff;
        type = at16(ipOffset + 2);
        ipOffset += 4;
        while (type === VLAN && ipOffset + 4 < caplen) { // QinQ with 0x8100 tags: the innermost id wins
          vlanId = at16(ipOffset) & 0xfff;
          type = at16(ipOffset + 2);
          ipOffset += 4;
        }
        continue;
      }
      if (type === MPLS_UNI || type === MPLS_MULTI) {
        if (ipOffset + 4 >= caplen) return false;
        let bos = at(ipOffset + 2) & 1;
        type = ETH_P_IP;
        ipOffset += 4;
        while (bos === 0 && ipOffset + 4 < caplen) {
          bos = at(ipOffset + 2) & 1;
          ipOffset += 4;
        }
        continue;
      }
      if (type === PPPOE) {
        type = ETH_P_IP;
        ipOffset += 8;
        continue;
      }
      break;
    }

    iph: for (;;) {
      // iph_check
      if (caplen < ipOffset + 20) return false;
      if (type === ETH_P_IP) {
        fragOff = at16(ipOffset + 6);
        proto = at(ipOffset + 9);
      }
      const version = at(ipOffset) >> 4;
      if (version === 4) {
        ipLen = (at(ipOffset) & 0x0f) * 4;
        const p = at(ipOffset + 9);
        if (p === 41 || p === 4) {
          ipOffset += ipLen;
          if (ipLen > 0) continue iph;
        }
        if ((fragOff & 0x1fff) !== 0) return false;
      } else if (version === 6) {
        if (caplen < ipOffset + 40) return false;
        proto = at(ipOffset + 6);
        ipLen = at16(ipOffset + 4);
        if (caplen < ipOffset + 40 + ipLen) return false;
        ext.nh = proto;
        ext.len = ipLen;
        const ipsize = (caplen - ipOffset) & 0xffff;
        const l4 = ipv6ExtHeaders(ipOffset + 40, (ipsize - 40) & 0xffff);
        if (l4 < 0) return false;
        proto = ext.nh;
        ipLen = ext.len;
        if (proto === 41 || proto === 4) {
          ipOffset = l4;
          continue iph;
        }
      } else return false;

      if (decodeTunnels && proto === 17) {
        if (caplen < ipOffset + ipLen + 8) return false;
        const udp = ipOffset + ipLen; // for IPv6 `ipLen` is the payload length, not the header length (sic)
        const sport = at16(udp), dport = at16(udp + 2);
        if ((sport === GTP_U_V1_PORT || dport === GTP_U_V1_PORT) && udp + 16 < caplen) {
          let offset = udp + 8;
          const flags = at(offset);
          if ((flags & 0xe0) >> 5 === 1 && at(offset + 1) === 0xff) { // GTPv1 T-PDU
            offset += 8;
            if ((flags & 0x07) !== 0) offset += 4;
            let extError = false;
            if ((flags & 0x04) !== 0) {
              while (offset < caplen) {
                const extLen = at(offset) << 2;
                offset += extLen;
                if (offset >= caplen || extLen === 0) {
                  extError = true;
                  break;
                }
                if (at(offset - 1) === 0) break;
              }
            }
            if (offset < caplen && !extError) {
              tunnel = NfTunnel.GTP;
              ipOffset = offset;
              const v = at(ipOffset) >> 4;
              if (v === 6) {
                if (caplen < ipOffset + 40) return false;
              } else if (v !== 4) return false;
              else if (caplen < ipOffset + 20) return false;
            }
          }
        } else if (sport === TZSP_PORT || dport === TZSP_PORT) {
          if (caplen < udp + 12) return false;
          let offset = udp + 8;
          tunnel = NfTunnel.TZSP;
          if (at(offset) === 1 && at(offset + 1) === 0 && at16(offset + 2) === 1) { // v1, received, Ethernet
            offset += 4;
            if (offset < caplen) {
              const tag = at(offset);
              let tagLen: number;
              if (tag === 0 || tag === 1) tagLen = 1;
              else {
                if (offset + 1 >= caplen) return false;
                tagLen = at(offset + 1);
              }
              offset += tagLen;
              if (offset >= caplen) return false;
              ethOffset = offset; // nfstream re-parses from the link layer after the first tag
              continue datalink;
            }
          }
        } else if (sport === CAPWAP_DATA_PORT || dport === CAPWAP_DATA_PORT) {
          let offset = udp + 8;
          if (offset + 1 < caplen && (at(offset) & 0x0f) === 0) {
            offset += (at(offset + 1) & 0xf8) >> 1;
            if (offset + 32 < caplen) {
              offset += 24; // 802.11 header, then 8 bytes of LLC/SNAP
              type = at16(offset + 6);
              ipOffset = offset + 8;
              tunnel = NfTunnel.CAPWAP;
              continue iph;
            }
          }
        }
      }
      return packetParse(caplen, ipOffset, vlanId, tunnel, out);
    }
  }
}

/**
 * `packet_parse` → `packet_get_ipv6_info` / `packet_get_ip_info` (lib_engine.c): header-size checks, protocol and
 * ports, for the IP header at frame offset `ipOffset`.
 */
function packetParse(caplen: number, ipOffset: number, vlanId: number, tunnel: number, out: NfstreamFields): boolean {
  const ipsize = (caplen - ipOffset) & 0xffff;
  let l4Offset: number, l4Len: number, proto: number, totLen: number;
  const version = at(ipOffset) >> 4;
  if (version === 4) {
    const ihl = (at(ipOffset) & 0x0f) * 4;
    totLen = at16(ipOffset + 2);
    l4Len = (totLen - ihl) & 0xffff;
    l4Offset = ihl;
    if (ipsize < 20) return false;
    if (ihl > ipsize) return false;
    proto = at(ipOffset + 9);
  } else {
    if (ipsize < 40) return false;
    const plen = at16(ipOffset + 4);
    if (ipsize < 40 + plen) return false;
    ext.nh = at(ipOffset + 6);
    ext.len = plen;
    const l4 = ipv6ExtHeaders(ipOffset + 40, ipsize - 40);
    if (l4 < 0) return false;
    proto = ext.nh;
    l4Len = ext.len;
    l4Offset = l4 - ipOffset;
    totLen = (40 + plen) & 0xffff;
    if (l4Offset > ipsize) return false;
  }
  // An IPv4 total length below the header length wraps l4_packet_len (uint16_t) and fails here.
  if ((totLen > ipsize ? totLen : ipsize) < l4Offset + l4Len) return false;
  let sp = 0, dp = 0;
  const l4 = ipOffset + l4Offset;
  if ((proto === 6 && l4Len >= 20) || (proto === 17 && l4Len >= 8)) {
    sp = at16(l4);
    dp = at16(l4 + 2);
  }
  out.ipOffset = ipOffset;
  out.ipVersion = version;
  out.vlanId = vlanId;
  out.tunnelId = tunnel;
  out.protocol = proto;
  out.srcPort = sp;
  out.dstPort = dp;
  out.l4Offset = l4;
  out.l4Len = l4Len;
  out.ipSize = totLen;
  return true;
}

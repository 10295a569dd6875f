/**
 * The decoded view of one packet: link, network and transport fields written in place into a reused
 * {@link DecodedPacket} (no allocation per packet). All lengths are in bytes, times in microseconds.
 */

/** IP protocol numbers used across flowsift (IANA "Assigned Internet Protocol Numbers"). */
export const IpProto = { ICMP: 1, TCP: 6, UDP: 17, GRE: 47, ICMPV6: 58, SCTP: 132 } as const;

/**
 * Tunnel encapsulations the decoder can see through (value of {@link DecodedPacket.tunnel}). Numbering is
 * flowsift's own (stable, small integers); 0 means the packet was not decapsulated.
 */
export const Tunnel = {
  NONE: 0,
  /** IPv4 payload in IPv4/IPv6 (IP protocol 4, RFC 2003 / RFC 2473). */
  IPIP: 1,
  /** IPv6 payload in IPv4/IPv6 (IP protocol 41, RFC 4213 / RFC 2473). */
  IP6: 2,
  /** Generic Routing Encapsulation (RFC 2784/2890), incl. transparent Ethernet bridging (0x6558) and MPLS. */
  GRE: 3,
  /** Cisco ERSPAN type I/II/III carried in GRE (protocol 0x88BE / 0x22EB). */
  ERSPAN: 4,
  /** PPTP enhanced GRE (version 1, RFC 2637 §4.1) carrying PPP. */
  PPTP: 5,
  /** GTP-U, 3GPP TS 29.281 (UDP 2152). */
  GTP_U: 6,
  /** VXLAN, RFC 7348 (UDP 4789). */
  VXLAN: 7,
  /** Geneve, RFC 8926 (UDP 6081). */
  GENEVE: 8,
  /** CAPWAP data channel, RFC 5415 (UDP 5247). */
  CAPWAP: 9,
  /** TaZmen Sniffer Protocol (UDP 37008). */
  TZSP: 10,
} as const;

/** TCP flag bits as in the TCP header byte 13 (RFC 9293 §3.1; CWR/ECE from RFC 3168). */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** Result of decoding one captured packet. Fields are only meaningful when `ipVersion !== 0`. */
export class DecodedPacket {
  /** Packet time in microseconds since the epoch (exact: < 2^53). */
  tsUs = 0;
  /** Nanoseconds within the microsecond (0..999), kept for nanosecond captures. */
  tsSubUsNs = 0;
  /** Whole seconds and nanoseconds of the timestamp, as read. */
  tsSec = 0;
  tsNsec = 0;
  /** Original (wire) frame length, bytes. */
  frameLen = 0;
  /** Captured length, bytes. */
  capLen = 0;
  /** 4, 6, or 0 when the frame carries no IP packet (ARP, LLDP, …). */
  ipVersion = 0;
  /** Outer 802.1Q VLAN id (0 when untagged). */
  vlanId = 0;
  /** Source address: IPv4 in `src[3]` with `src[0..2] = 0`; IPv6 as four big-endian 32-bit words. */
  readonly src = new Uint32Array(4);
  /** Destination address, same layout as `src`. */
  readonly dst = new Uint32Array(4);
  /** Transport protocol number (IPv6: after the extension-header chain). */
  protocol = 0;
  /** Source/destination ports for TCP/UDP/SCTP; 0 otherwise. */
  srcPort = 0;
  dstPort = 0;
  /** ICMP/ICMPv6 type and code (-1 when not ICMP). */
  icmpType = -1;
  icmpCode = -1;
  /** IPv4 TTL / IPv6 hop limit. */
  ttl = 0;
  /** Offset of the IP header in the captured bytes (relative to the packet start). */
  l3Offset = 0;
  /** IP header length including IPv4 options or IPv6 extension headers, bytes. */
  ipHeaderLen = 0;
  /** IP total length from the header (IPv4 total length; IPv6 40 + payload length), bytes. */
  ipTotalLen = 0;
  /** True for any IPv4/IPv6 fragment; `fragOffset` in bytes; non-first fragments carry no L4 header. */
  isFragment = false;
  fragOffset = 0;
  moreFragments = false;
  /** Offset of the L4 header in the captured bytes (relative to the packet start). */
  l4Offset = 0;
  /** Transport header length: TCP data offset × 4, UDP 8, ICMP 8; 0 if none. */
  l4HeaderLen = 0;
  /**
   * Transport payload length from the IP length fields (not the captured bytes), bytes: IP payload − transport
   * header, ≥ 0; an IP length running past the end of the frame is clamped to the frame.
   */
  payloadLen = 0;
  /** Offset of the transport payload in the captured bytes (relative to the packet start). */
  payloadOffset = 0;
  /** Payload bytes actually captured (≤ payloadLen when snaplen cut the packet). */
  capturedPayloadLen = 0;
  /** TCP flags byte (see {@link TcpFlag}); 0 for non-TCP. */
  tcpFlags = 0;
  /** TCP window field as sent (unscaled). */
  tcpWindow = 0;
  /** TCP sequence and acknowledgement numbers (unsigned 32-bit). */
  tcpSeq = 0;
  tcpAck = 0;
  /** True when the captured bytes end before the headers this decoder needed. */
  truncated = false;

  // ---- fields added by the decode stage (beyond the original contract) ----
  /** Link type of the record (LINKTYPE_* value, tcpdump.org list), copied from the capture. */
  linkType = 0;
  /** pcapng interface id of the record (0 for classic pcap), copied from the capture. */
  interfaceId = 0;
  /**
   * Last link-layer protocol identifier found before the network layer, as an EtherType: 0x0800 / 0x86DD for
   * IP (also for raw-IP, NULL, PPP links), e.g. 0x0806 for ARP; 0 when the frame carries no EtherType
   * (802.3/LLC, 802.11 management, unknown link type).
   */
  etherType = 0;
  /** Outermost tunnel decapsulated, a {@link Tunnel} code (0 = none). All IP/L4 fields describe the inner packet. */
  tunnel = 0;
  /** Number of tunnel encapsulations removed (0 = none; 2 = e.g. IP-in-IP inside GRE). */
  tunnelDepth = 0;
  /**
   * Tunnel part of the flow key (used when `FlowTableOptions.keyByTunnel` is set): {@link tunnel} under the default
   * decode rules; nfstream's `tunnel_id` under the `nfstream` rules (0 none or IP-in-IP, 1 GTP-U, 2 CAPWAP,
   * 3 TZSP: nDPI's `ndpi_packet_tunnel`, see decode/nfstream.ts).
   */
  tunnelKey = 0;
  /** IPv4 type-of-service byte / IPv6 traffic class (DSCP << 2 | ECN). */
  ipTos = 0;
  /** IPv4 identification field (16 bits, every IPv4 packet), or IPv6 fragment-header identification (32 bits; 0 without a fragment header). */
  ipId = 0;
  /** IPv4 Don't Fragment bit. */
  dontFragment = false;
  /**
   * The captured bytes (the reader's buffer; valid only while the packet is being processed) and the offset of
   * the packet's first byte in it: the transport payload is `data[dataOffset + payloadOffset …]`, of
   * `capturedPayloadLen` bytes. Empty for packets not built by the decoder.
   */
  data: Uint8Array = EMPTY;
  dataOffset = 0;
}

const EMPTY = new Uint8Array(0);

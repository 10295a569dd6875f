/**
 * The decoded view of one packet: link, network and transport fields written in place into a reused
 * {@link DecodedPacket} (no allocation per packet). All lengths are in bytes, times in microseconds.
 */

/** IP protocol numbers used across flowsift (IANA "Assigned Internet Protocol Numbers"). */
export const IpProto = { ICMP: 1, TCP: 6, UDP: 17, GRE: 47, ICMPV6: 58, SCTP: 132 } as const;

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
  /** Transport payload length from the IP length fields (not the captured bytes), bytes. */
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
}

/**
 * Decode stage: captured frames → {@link DecodedPacket} (link, tunnels, IP, transport), in place and without
 * allocation per packet. Start with {@link Decoder}.
 */
export { Decoder, DEFAULT_MAX_TUNNEL_DEPTH, type DecodeRules, type DecoderOptions, type DecoderCounters } from './decoder.js';
export { NfTunnel, NfstreamFields, nfstreamParse } from './nfstream.js';
export { DecodedPacket, IpProto, TcpFlag, Tunnel } from './types.js';
export {
  Cursor,
  EtherType,
  LinkTypes,
  LINK_BAD,
  LINK_NOT_IP,
  LINK_TRUNCATED,
  LINK_UNKNOWN,
  MAX_LINK_TAGS,
  NET_IP_BY_VERSION,
  decodeLink,
  linkCiscoHdlc,
  linkEthernet,
  linkFddi,
  linkIeee80211,
  linkNflog,
  linkNull,
  linkPpp,
  linkRadiotap,
  linkRaw,
  linkSll,
  linkSll2,
  pppToEtherType,
  readPppProtocol,
  walkEtherType,
} from './link.js';
export { IP_BAD, IP_NO_L4, IP_OK, IP_TRUNCATED, Ipv6Ext, MAX_IPV6_EXT_HEADERS, decodeIPv4, decodeIPv6 } from './ip.js';
export { L4HeaderLen, decodeL4, noL4 } from './l4.js';
export { TUN_NONE, TunnelPort, decapsulate } from './tunnel.js';

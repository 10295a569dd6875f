/**
 * Service codes and names, and the well-known-port fallback.
 *
 * Names follow nDPI (the engine behind nfstream's `application_name`) where nDPI has the protocol:
 * `HTTP`, `TLS`, `DNS`, `SSH`, `SMTP`, `FTP_CONTROL`, `QUIC`, `DHCP`, `NTP`, `MDNS`, `LLMNR`, `SSDP`, `SMBv1`,
 * `SMBv23`, `RDP`, … (protocol names and default ports from nDPI's `ndpi_init_protocol_defaults`,
 * src/lib/ndpi_main.c). A service code is a small integer so per-flow state fits a Uint8Array.
 */

/** Service codes (index into {@link SERVICE_NAMES}); 0 = unknown. */
export const Svc = {
  NONE: 0,
  HTTP: 1,
  TLS: 2,
  DNS: 3,
  SSH: 4,
  SMTP: 5,
  FTP: 6,
  QUIC: 7,
  DHCP: 8,
  NTP: 9,
  MDNS: 10,
  LLMNR: 11,
  SSDP: 12,
  SMB1: 13,
  SMB23: 14,
  RDP: 15,
  IMAP: 16,
  POP3: 17,
  SNMP: 18,
  SIP: 19,
  KERBEROS: 20,
  LDAP: 21,
  NETBIOS: 22,
  DHCPV6: 23,
  MYSQL: 24,
  REDIS: 25,
  BITTORRENT: 26,
  STUN: 27,
  DTLS: 28,
  TELNET: 29,
  RTSP: 30,
  POSTGRES: 31,
  IMAPS: 32,
  SMTPS: 33,
  POPS: 34,
  SYSLOG: 35,
  TFTP: 36,
  DNSCRYPT: 37,
  HTTP_PROXY: 38,
} as const;
export type SvcCode = (typeof Svc)[keyof typeof Svc];

/** nDPI's name of each service code, by code. */
export const SERVICE_NAMES: readonly string[] = [
  '', 'HTTP', 'TLS', 'DNS', 'SSH', 'SMTP', 'FTP_CONTROL', 'QUIC', 'DHCP', 'NTP', 'MDNS', 'LLMNR', 'SSDP', 'SMBv1',
  'SMBv23', 'RDP', 'IMAP', 'POP3', 'SNMP', 'SIP', 'Kerberos', 'LDAP', 'NetBIOS', 'DHCPV6', 'MySQL', 'Redis',
  'BitTorrent', 'STUN', 'DTLS', 'Telnet', 'RTSP', 'PostgreSQL', 'IMAPS', 'SMTPS', 'POPS', 'Syslog', 'TFTP',
  'DNScrypt', 'HTTP_Proxy',
];

/**
 * TCP well-known ports → service (nDPI's default TCP ports for these protocols; 587, message submission
 * (RFC 6409), is SMTP as in nfstream's results).
 */
const TCP_PORTS: ReadonlyArray<readonly [number, number]> = [
  [80, Svc.HTTP], [443, Svc.TLS], [53, Svc.DNS], [22, Svc.SSH], [25, Svc.SMTP], [21, Svc.FTP], [3389, Svc.RDP],
  [445, Svc.SMB23], [139, Svc.NETBIOS], [143, Svc.IMAP], [110, Svc.POP3], [993, Svc.IMAPS], [465, Svc.SMTPS],
  [587, Svc.SMTP], [995, Svc.POPS], [88, Svc.KERBEROS], [389, Svc.LDAP], [3306, Svc.MYSQL], [6379, Svc.REDIS],
  [5432, Svc.POSTGRES], [23, Svc.TELNET], [554, Svc.RTSP], [5060, Svc.SIP], [5061, Svc.SIP], [51413, Svc.BITTORRENT],
  [53646, Svc.BITTORRENT], [514, Svc.SYSLOG], [8080, Svc.HTTP_PROXY], [3128, Svc.HTTP_PROXY],
];

/** UDP well-known ports → service. */
const UDP_PORTS: ReadonlyArray<readonly [number, number]> = [
  [53, Svc.DNS], [443, Svc.QUIC], [123, Svc.NTP], [67, Svc.DHCP], [68, Svc.DHCP], [5353, Svc.MDNS],
  [5354, Svc.MDNS], [5355, Svc.LLMNR], [1900, Svc.SSDP], [137, Svc.NETBIOS], [138, Svc.NETBIOS],
  [139, Svc.NETBIOS], [161, Svc.SNMP], [162, Svc.SNMP], [5060, Svc.SIP], [5061, Svc.SIP], [88, Svc.KERBEROS],
  [389, Svc.LDAP], [546, Svc.DHCPV6], [547, Svc.DHCPV6], [3478, Svc.STUN], [6771, Svc.BITTORRENT],
  [51413, Svc.BITTORRENT], [3389, Svc.RDP], [514, Svc.SYSLOG], [69, Svc.TFTP],
];

const TCP_BY_PORT = new Uint8Array(65536);
const UDP_BY_PORT = new Uint8Array(65536);
for (const [p, s] of TCP_PORTS) TCP_BY_PORT[p] = s;
for (const [p, s] of UDP_PORTS) UDP_BY_PORT[p] = s;

/**
 * The port-only guess for a TCP (6) or UDP (17) flow: the responder's port first, then the initiator's
 * (a flow seen from its middle may have the server as initiator). 0 when neither port is listed.
 */
export function portService(protocol: number, srcPort: number, dstPort: number): number {
  const t = protocol === 6 ? TCP_BY_PORT : protocol === 17 ? UDP_BY_PORT : null;
  if (t === null) return Svc.NONE;
  return t[dstPort & 0xffff] || t[srcPort & 0xffff];
}

/** True when `port` is one of the two ports (either direction). */
export function eitherPort(srcPort: number, dstPort: number, port: number): boolean {
  return srcPort === port || dstPort === port;
}

/**
 * nDPI's name for TLS on the implicit-TLS mail ports (its `ndpi_tls_refine_master_protocol`): SMTPS on 465 and
 * 587, IMAPS on 993, POPS on 995; TLS elsewhere.
 */
export function tlsOnPort(srcPort: number, dstPort: number): number {
  const s = mailTls(dstPort);
  return s !== Svc.NONE ? s : mailTls(srcPort) || Svc.TLS;
}

function mailTls(port: number): number {
  return port === 465 || port === 587 ? Svc.SMTPS : port === 993 ? Svc.IMAPS : port === 995 ? Svc.POPS : Svc.NONE;
}

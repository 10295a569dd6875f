/**
 * One payload → service decision: runs the parsers of tls.ts, http.ts, dns.ts, quic.ts and signatures.ts in
 * a fixed order on the captured bytes of one packet. Allocation-free: inputs and outputs go through a reused
 * {@link ServiceProbe}.
 *
 * Order: strong byte signatures first (TLS, SSH, start lines, SMB, RDP, QUIC, DHCP…), protocols that need
 * their well-known port to be told apart from noise next (NTP, SNMP, Kerberos…), and a strict DNS parse
 * last. Greetings that only a server sends first (`220`, `+OK`, `* OK`) count only on the flow's first
 * payload packet.
 */
import { ascii, isAlnum, isUpper, startsWithCI, u16 } from './bytes.js';
import { dnsMessage } from './dns.js';
import { findHost, startLine } from './http.js';
import { Svc, tlsOnPort } from './names.js';
import { quicLongHeader } from './quic.js';
import {
  bittorrent, dhcpMessage, dhcpv6Message, greeting220, GREETING_220, Hint, kerberosMessage, ldapMessage, mailCommand,
  mailGreeting, mysqlGreeting, netbiosDatagram, netbiosSessionRequest, ntpPacket, postgresStartup, rdpUdpSyn, rdpX224,
  redisCommand, smbMessage, snmpMessage, sshBanner, stunMessage, syslogMessage, telnetNegotiation, tftpRequest,
} from './signatures.js';
import { dtlsHandshake, TlsHello, tlsHello, tlsRecords } from './tls.js';

/** How the name found in a payload is encoded. */
export const NameKind = {
  NONE: 0,
  /** Plain bytes (TLS SNI, HTTP Host). */
  TEXT: 1,
  /** A DNS wire-format name (labels). */
  DNS: 2,
} as const;

const EMPTY = new Uint8Array(0);

/** Inputs and outputs of {@link classify}; one reused instance per family. */
export class ServiceProbe {
  // ---- inputs ----
  /** Payload bytes are `d[o, o + n)`; `wire` is the payload length on the wire (≥ n). */
  d: Uint8Array = EMPTY;
  o = 0;
  n = 0;
  wire = 0;
  /** 6 TCP, 17 UDP. */
  protocol = 0;
  /** The packet's ports (checks on well-known ports look at either). */
  srcPort = 0;
  dstPort = 0;
  /** True when no payload was seen before in either direction of the flow. */
  firstPayload = false;
  /** The flow's {@link Hint} bits; updated in place. */
  hints = 0;
  // ---- outputs ----
  /** {@link Svc} code decided, 0 when undecided. */
  svc = 0;
  /** Name found: kind ({@link NameKind}), offset in `d` and length. */
  nameKind = 0;
  nameStart = -1;
  nameLen = 0;
  /** True when the payload is an HTTP request whose Host header was not within the captured bytes. */
  wantHost = false;
  readonly span = new Int32Array(2);
}

function either(p: ServiceProbe, port: number): boolean {
  return p.srcPort === port || p.dstPort === port;
}

function setName(p: ServiceProbe, kind: number): void {
  if (p.span[0] < 0) return;
  p.nameKind = kind;
  p.nameStart = p.span[0];
  p.nameLen = p.span[1];
}

/** Classifies the payload described by `p`'s inputs; writes `p.svc`, the name outputs and `p.hints`. */
export function classify(p: ServiceProbe): void {
  p.svc = Svc.NONE;
  p.nameKind = NameKind.NONE;
  p.nameStart = -1;
  p.nameLen = 0;
  p.wantHost = false;
  if (p.n <= 0) return;
  if (p.protocol === 6) classifyTcp(p);
  else if (p.protocol === 17) classifyUdp(p);
}

/*
 * First-byte guards: a check runs only when the payload's first byte `b0` is one its own code can accept (a
 * payload no signature recognises then skips most calls). Sets, from the checks' code:
 *   tlsHello 0x16 or ≥ 0x80 · tlsRecords 20–23 · sshBanner 'S' · startLine A–Z '-' '_' (methodStart) ·
 *   smbMessage, postgresStartup 0x00 (a PostgreSQL length is < 10000) · rdpX224 0x03 · redisCommand '*' ·
 *   bittorrent (TCP) 0x13 · telnetNegotiation 0xFF · greeting220 '2' · mailGreeting '+' '*' · mailCommand
 *   letters and digits · stunMessage 0x00–0x3F · dtlsHandshake 0x16 · dhcpMessage 1, 2 · quicLongHeader
 *   bit 0x80 or 0x01 · bittorrent (UDP) 'd' or 0x00.
 * The checks on a well-known port, mysqlGreeting and the DNS parses accept any first byte and are not guarded.
 * No guarded check writes `p.span` or `p.hints`, so skipping one changes no output.
 */

function classifyTcp(p: ServiceProbe): void {
  const { d, o, n, wire } = p;
  const b0 = d[o];
  if (b0 === 0x16 || (b0 & 0x80) !== 0) {
    const k = tlsHello(d, o, n, p.span);
    if (k !== TlsHello.NONE) {
      p.svc = tlsOnPort(p.srcPort, p.dstPort);
      if (k === TlsHello.CLIENT) setName(p, NameKind.TEXT);
      return;
    }
  }
  if (b0 >= 20 && b0 <= 23 && tlsRecords(d, o, n, wire)) { p.svc = tlsOnPort(p.srcPort, p.dstPort); return; }
  if (b0 === 0x53 && sshBanner(d, o, n)) { p.svc = Svc.SSH; return; }
  if (methodStart(b0)) {
    const sl = startLine(d, o, n, false);
    if (sl !== Svc.NONE) {
      p.svc = sl;
      if ((sl === Svc.HTTP || sl === Svc.HTTP_PROXY) && !(d[o] === 0x48 && d[o + 1] === 0x54)) { // a request, not "HTTP/…"
        if (findHost(d, o, n, false, p.span)) setName(p, NameKind.TEXT);
        else p.wantHost = true;
      }
      return;
    }
  }
  if (b0 === 0) {
    const smb = smbMessage(d, o, n);
    if (smb !== Svc.NONE) { p.svc = smb; return; }
  }
  if (b0 === 3 && !either(p, 102) && rdpX224(d, o, n)) { p.svc = Svc.RDP; return; }
  if (either(p, 53) || either(p, 5353) || either(p, 5355)) {
    if (n >= 14 && u16(d, o) >= 12 && dnsMessage(d, o + 2, n - 2, false, p.span)) {
      p.svc = either(p, 53) ? Svc.DNS : either(p, 5355) ? Svc.LLMNR : Svc.MDNS;
      setName(p, NameKind.DNS);
      return;
    }
  }
  if (either(p, 88) && kerberosMessage(d, o, n, true)) { p.svc = Svc.KERBEROS; return; }
  if ((either(p, 389) || either(p, 3268)) && ldapMessage(d, o, n)) { p.svc = Svc.LDAP; return; }
  if (either(p, 139) && netbiosSessionRequest(d, o, n)) { p.svc = Svc.NETBIOS; return; }
  if (b0 === 0 && postgresStartup(d, o, n, wire)) { p.svc = Svc.POSTGRES; return; }
  if (mysqlGreeting(d, o, n, wire)) { p.svc = Svc.MYSQL; return; }
  if (b0 === 0x2a && redisCommand(d, o, n)) { p.svc = Svc.REDIS; return; }
  if (b0 === 0x13 && bittorrent(d, o, n, false)) { p.svc = Svc.BITTORRENT; return; }
  if (b0 === 0xff && telnetNegotiation(d, o, n)) { p.svc = Svc.TELNET; return; }
  if (p.firstPayload) {
    if (b0 === 0x32) {
      const g = greeting220(d, o, n);
      if (g === GREETING_220) { p.hints |= Hint.G220; return; }
      if (g !== 0) { p.svc = g; return; }
    }
    if (b0 === 0x2b || b0 === 0x2a) {
      const m = mailGreeting(d, o, n);
      if (m === Svc.POP3) { p.hints |= Hint.POP_OK; p.svc = m; return; }
      if (m !== Svc.NONE) { p.svc = m; return; }
    }
  }
  if (isAlnum(b0)) {
    const c = mailCommand(d, o, n, p.hints);
    if (c !== Svc.NONE) { p.svc = c; return; }
  }
  if (b0 < 0x40 && stunMessage(d, o, n, wire, false)) p.svc = Svc.STUN;
}

/** A first byte {@link startLine} can accept: an upper-case letter, '-' or '_' (status lines start with a letter). */
function methodStart(c: number): boolean {
  return isUpper(c) || c === 0x2d || c === 0x5f;
}

function classifyUdp(p: ServiceProbe): void {
  const { d, o, n, wire } = p;
  const b0 = d[o];
  const dns53 = either(p, 53), mdns = either(p, 5353) || either(p, 5354), llmnr = either(p, 5355), nbns = either(p, 137);
  if (dns53 || mdns || llmnr || nbns) {
    if (dnsMessage(d, o, n, false, p.span)) {
      p.svc = dns53 ? dnsOrDnscrypt(p) : mdns ? Svc.MDNS : llmnr ? Svc.LLMNR : Svc.NETBIOS;
      if (p.svc !== Svc.NETBIOS) setName(p, NameKind.DNS);
      return;
    }
  }
  if ((b0 & 0x81) !== 0 && quicLongHeader(d, o, n, wire)) { p.svc = Svc.QUIC; return; }
  if (b0 === 0x16 && dtlsHandshake(d, o, n)) { p.svc = Svc.DTLS; return; }
  if ((b0 === 1 || b0 === 2) && dhcpMessage(d, o, n, wire, either(p, 67) || either(p, 68))) { p.svc = Svc.DHCP; return; }
  if (methodStart(b0)) {
    const sl = startLine(d, o, n, true);
    if (sl !== Svc.NONE) { p.svc = sl; return; }
  }
  if (b0 < 0x40 && stunMessage(d, o, n, wire, true)) { p.svc = Svc.STUN; return; }
  if (either(p, 123) && ntpPacket(d, o, n, wire)) { p.svc = Svc.NTP; return; }
  if (either(p, 3389) && rdpUdpSyn(d, o, n, wire)) { p.svc = Svc.RDP; return; }
  if ((either(p, 546) || either(p, 547)) && dhcpv6Message(d, o, n)) { p.svc = Svc.DHCPV6; return; }
  if ((either(p, 161) || either(p, 162)) && snmpMessage(d, o, n)) { p.svc = Svc.SNMP; return; }
  if (either(p, 88) && kerberosMessage(d, o, n, false)) { p.svc = Svc.KERBEROS; return; }
  if (either(p, 389) && ldapMessage(d, o, n)) { p.svc = Svc.LDAP; return; }
  if (either(p, 138) && netbiosDatagram(d, o, n)) { p.svc = Svc.NETBIOS; return; }
  if (either(p, 514) && syslogMessage(d, o, n)) { p.svc = Svc.SYSLOG; return; }
  if (either(p, 69) && tftpRequest(d, o, n)) { p.svc = Svc.TFTP; return; }
  if ((b0 === 0x64 || b0 === 0) && bittorrent(d, o, n, true)) { p.svc = Svc.BITTORRENT; return; }
  if (dnsMessage(d, o, n, true, p.span)) {
    p.svc = dnsOrDnscrypt(p);
    setName(p, NameKind.DNS);
  }
}

/** The first two labels of a DNSCrypt certificate query name (DNSCrypt v2 protocol §"Certificates"). */
const DNSCRYPT_CERT = ascii('\x012\x0ddnscrypt-cert');

/**
 * DNS, or DNScrypt (nDPI's name) when the question asks for a DNSCrypt resolver certificate: a TXT query for
 * `2.dnscrypt-cert.<provider>` in plain DNS.
 */
function dnsOrDnscrypt(p: ServiceProbe): number {
  const s = p.span[0];
  return s >= 0 && startsWithCI(p.d, s, p.span[1], DNSCRYPT_CERT) ? Svc.DNSCRYPT : Svc.DNS;
}

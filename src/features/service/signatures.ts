/**
 * Payload signatures of the protocols recognised without a dedicated parser file: each a fixed-shape check
 * on the first bytes of one payload, reading only `d[o, o + n)` (`n` = captured payload bytes) and, where a
 * length field is compared, the payload length on the wire (`wire` ≥ `n`).
 */
import { ascii, isAlnum, isDigit, startsWith, startsWithCI, u16, u32 } from './bytes.js';
import { Svc } from './names.js';

const SSH_ = ascii('SSH-');

/**
 * SSH identification string (RFC 4253 §4.2): `SSH-protoversion-softwareversion`, protoversion `2.0`
 * (or `1.99` / `1.5` for old peers).
 */
export function sshBanner(d: Uint8Array, o: number, n: number): boolean {
  if (n < 8 || !startsWith(d, o, n, SSH_)) return false;
  const end = o + n;
  let p = o + 4, k = 0;
  while (p < end && k < 3 && isDigit(d[p])) { p++; k++; }
  if (k === 0 || p >= end || d[p] !== 0x2e) return false;
  p++;
  k = 0;
  while (p < end && k < 3 && isDigit(d[p])) { p++; k++; }
  return k > 0 && (p >= end || d[p] === 0x2d);
}

/** What a `220` greeting names: SMTP, FTP, or {@link GREETING_220} when it does not say. */
export const GREETING_220 = -1;
const KW_SMTP = [ascii('smtp'), ascii('postfix'), ascii('exim'), ascii('sendmail')];
const KW_FTP = [ascii('ftp'), ascii('filezilla')];

/**
 * A `220` service-ready greeting (SMTP, RFC 5321 §4.2 / §3.1; FTP, RFC 959 §4.2): "220" SP or "220-".
 * @returns {@link Svc}.SMTP or FTP when the first line names the service, {@link GREETING_220} when it does
 *   not, 0 when the payload is not such a greeting
 */
export function greeting220(d: Uint8Array, o: number, n: number): number {
  if (n < 5 || d[o] !== 0x32 || d[o + 1] !== 0x32 || d[o + 2] !== 0x30 || (d[o + 3] !== 0x20 && d[o + 3] !== 0x2d)) return 0;
  let e = o + 4;
  const end = o + n;
  while (e < end && d[e] !== 0x0a) e++;
  for (let p = o + 4; p < e; p++) {
    for (const k of KW_SMTP) if (startsWithCI(d, p, e - p, k)) return Svc.SMTP;
    for (const k of KW_FTP) if (startsWithCI(d, p, e - p, k)) return Svc.FTP;
  }
  return GREETING_220;
}

const EHLO = ascii('ehlo '), HELO = ascii('helo ');
const USER = ascii('user '), AUTH_TLS = ascii('auth tls'), AUTH_SSL = ascii('auth ssl'), FEAT = ascii('feat\r\n');
const SYST = ascii('syst\r\n'), OPTS = ascii('opts ');
const CAPA = ascii('capa\r\n'), STLS = ascii('stls\r\n'), APOP = ascii('apop ');
const OK_POP = ascii('+OK'), OK_IMAP = ascii('* OK'), PREAUTH_IMAP = ascii('* PREAUTH'), BYE_IMAP = ascii('* BYE');
const IMAP_COMMANDS = ['capability', 'login ', 'starttls', 'authenticate ', 'id ', 'noop'].map(ascii);

/** Hints kept per flow between packets (bits). */
export const Hint = {
  /** A `220` greeting without a service name was seen (SMTP or FTP). */
  G220: 1,
  /** A POP3 `+OK` greeting was seen. */
  POP_OK: 2,
} as const;

/**
 * Client commands of the mail and file-transfer protocols at the start of a payload.
 * SMTP `EHLO`/`HELO` (RFC 5321 §4.1.1.1); FTP `USER` after a 220 greeting, `AUTH TLS` (RFC 4217 §4),
 * `FEAT` (RFC 2389 §3), `SYST`, `OPTS`; POP3 `CAPA` (RFC 2449 §5), `STLS` (RFC 2595 §4), `APOP`, `USER`
 * after `+OK` (RFC 1939 §7); IMAP `tag SP command` (RFC 9051 §2.2.1, §6).
 * @param hints the flow's {@link Hint} bits
 */
export function mailCommand(d: Uint8Array, o: number, n: number, hints: number): number {
  if (n < 4) return Svc.NONE;
  const ftp = (hints & Hint.POP_OK) !== 0 ? Svc.NONE : Svc.FTP; // FTP commands after a POP3 greeting are not FTP
  // By first letter, either case (`| 0x20` maps only 'A'–'Z' onto 'a'–'z'); no two commands overlap.
  switch (d[o] | 0x20) {
    case 0x65: if (startsWithCI(d, o, n, EHLO)) return Svc.SMTP; break;
    case 0x68: if (startsWithCI(d, o, n, HELO)) return Svc.SMTP; break;
    case 0x63: if (startsWithCI(d, o, n, CAPA)) return Svc.POP3; break;
    case 0x73:
      if (startsWithCI(d, o, n, STLS)) return Svc.POP3;
      if (startsWithCI(d, o, n, SYST)) return ftp;
      break;
    case 0x61:
      if (startsWithCI(d, o, n, APOP)) return Svc.POP3;
      if (startsWithCI(d, o, n, AUTH_TLS) || startsWithCI(d, o, n, AUTH_SSL)) return ftp;
      break;
    case 0x75:
      if (!startsWithCI(d, o, n, USER)) break;
      return (hints & Hint.POP_OK) !== 0 ? Svc.POP3 : (hints & Hint.G220) !== 0 ? Svc.FTP : Svc.NONE;
    case 0x66: if (startsWithCI(d, o, n, FEAT)) return ftp; break;
    case 0x6f: if (startsWithCI(d, o, n, OPTS)) return ftp; break;
  }
  // IMAP: an alphanumeric tag (≤ 16 chars), SP, a command.
  let p = o;
  const end = o + n, tmax = o + (n < 17 ? n : 17);
  while (p < tmax && isAlnum(d[p])) p++;
  if (p === o || p >= tmax || d[p] !== 0x20) return Svc.NONE;
  p++;
  for (const c of IMAP_COMMANDS) if (startsWithCI(d, p, end - p, c)) return Svc.IMAP;
  return Svc.NONE;
}

/** POP3 greeting `+OK` (RFC 1939 §4) or IMAP greeting `* OK` / `* PREAUTH` / `* BYE` (RFC 9051 §7.1). */
export function mailGreeting(d: Uint8Array, o: number, n: number): number {
  if (startsWith(d, o, n, OK_POP)) return Svc.POP3;
  if (startsWith(d, o, n, OK_IMAP) || startsWith(d, o, n, PREAUTH_IMAP) || startsWith(d, o, n, BYE_IMAP)) return Svc.IMAP;
  return Svc.NONE;
}

/**
 * MySQL server greeting (MySQL Client/Server Protocol, Protocol::HandshakeV10): payload_length(3, little
 * endian), sequence_id = 0, protocol_version = 10, server_version as printable text ending in NUL.
 */
export function mysqlGreeting(d: Uint8Array, o: number, n: number, wire: number): boolean {
  if (n < 8 || d[o + 3] !== 0 || d[o + 4] !== 10) return false;
  const len = d[o] | (d[o + 1] << 8) | (d[o + 2] << 16);
  if (len + 4 !== wire || len < 20) return false;
  if (!isDigit(d[o + 5])) return false;
  const end = o + n;
  for (let p = o + 6; p < end && p < o + 5 + 64; p++) {
    const c = d[p];
    if (c === 0) return true;
    if (c < 0x20 || c > 0x7e) return false;
  }
  return n < 5 + 64; // cut before the NUL
}

/**
 * PostgreSQL first client message (PostgreSQL frontend/backend protocol 3.0, "Message Formats"):
 * Int32 length, then Int32 196608 (StartupMessage), 80877103 (SSLRequest), 80877104 (GSSENCRequest) or
 * 80877102 (CancelRequest).
 */
export function postgresStartup(d: Uint8Array, o: number, n: number, wire: number): boolean {
  if (n < 8) return false;
  const len = u32(d, o), code = u32(d, o + 4);
  if (len !== wire) return false;
  if (code === 196608) return len > 8 && len < 10000;
  if (code === 80877103 || code === 80877104) return len === 8;
  return code === 80877102 && len === 16;
}

/** Redis RESP command from a client (RESP spec: an array `*N\r\n` of bulk strings `$len\r\n…`). */
export function redisCommand(d: Uint8Array, o: number, n: number): boolean {
  if (n < 8 || d[o] !== 0x2a) return false;
  const end = o + n;
  let p = o + 1, k = 0;
  while (p < end && k < 5 && isDigit(d[p])) { p++; k++; }
  if (k === 0 || p + 3 > end || d[p] !== 0x0d || d[p + 1] !== 0x0a || d[p + 2] !== 0x24) return false;
  p += 3;
  k = 0;
  while (p < end && k < 10 && isDigit(d[p])) { p++; k++; }
  return k > 0 && (p >= end || d[p] === 0x0d);
}

/**
 * SMB over TCP: a NetBIOS session message header (RFC 1002 §4.3.1: type 0x00, 24-bit length as used by
 * direct-hosted SMB, MS-SMB2 §2.1) followed by the SMB1 protocol id 0xFF 'SMB' (MS-CIFS §2.2.3.1) or the
 * SMB2/3 id 0xFE 'SMB' (MS-SMB2 §2.2.1), transform 0xFD 'SMB' (§2.2.41) or compression 0xFC 'SMB' (§2.2.42).
 * @returns {@link Svc}.SMB1, SMB23 or 0
 */
export function smbMessage(d: Uint8Array, o: number, n: number): number {
  if (n < 8 || d[o] !== 0 || d[o + 5] !== 0x53 || d[o + 6] !== 0x4d || d[o + 7] !== 0x42) return Svc.NONE;
  const len = (d[o + 1] << 16) | (d[o + 2] << 8) | d[o + 3];
  if (len < 32) return Svc.NONE;
  const id = d[o + 4];
  if (id === 0xff) return Svc.SMB1;
  return id === 0xfe || id === 0xfd || id === 0xfc ? Svc.SMB23 : Svc.NONE;
}

/**
 * RDP connection request/confirm: a TPKT header (RFC 1006 §6: version 3, reserved 0, length) around an
 * X.224 Connection Request (code 0xE0) or Connection Confirm (0xD0) TPDU whose length indicator is the TPKT
 * length − 5 (ITU-T X.224 §13.3–13.4; MS-RDPBCGR §2.2.1.1–2.2.1.2).
 */
export function rdpX224(d: Uint8Array, o: number, n: number): boolean {
  if (n < 11 || d[o] !== 3 || d[o + 1] !== 0) return false;
  const len = u16(d, o + 2);
  if (len < 11 || d[o + 4] !== len - 5) return false;
  const code = d[o + 5] & 0xf0;
  return code === 0xe0 || code === 0xd0;
}

/**
 * RDP over UDP, the SYN datagram (MS-RDPEUDP §2.2.2.1 RDPUDP_FEC_HEADER, §3.1.5.1.1): snSourceAck 0xFFFFFFFF,
 * uReceiveWindowSize, uFlags with RDPUDP_FLAG_SYN (0x0001), the datagram padded to at least 1232 bytes.
 * Caller checks port 3389.
 */
export function rdpUdpSyn(d: Uint8Array, o: number, n: number, wire: number): boolean {
  return n >= 8 && wire >= 1232 && u32(d, o) === 0xffffffff && (d[o + 7] & 0x01) !== 0;
}

/**
 * STUN message (RFC 8489 §5): the two top bits 0, message length a multiple of 4 and equal to the payload
 * after the 20-byte header (UDP), the magic cookie 0x2112A442.
 */
export function stunMessage(d: Uint8Array, o: number, n: number, wire: number, udp: boolean): boolean {
  if (n < 20 || (d[o] & 0xc0) !== 0 || u32(d, o + 4) !== 0x2112a442) return false;
  const len = u16(d, o + 2);
  if ((len & 3) !== 0) return false;
  return udp ? len + 20 === wire : len + 20 <= wire;
}

/**
 * DHCP/BOOTP message (RFC 2131 §2: op 1 BOOTREQUEST / 2 BOOTREPLY, htype, hlen ≤ 16; RFC 2131 §3 and
 * RFC 2132 §2: the magic cookie 99.130.83.99 at byte 236). When the capture ends before the cookie, the
 * fixed fields and the DHCP ports (67/68) decide.
 */
export function dhcpMessage(d: Uint8Array, o: number, n: number, wire: number, dhcpPorts: boolean): boolean {
  if (n < 4 || (d[o] !== 1 && d[o] !== 2) || d[o + 1] === 0 || d[o + 1] > 40 || d[o + 2] > 16) return false;
  if (wire < 240) return false;
  if (n >= 240) return d[o + 236] === 99 && d[o + 237] === 130 && d[o + 238] === 83 && d[o + 239] === 99;
  return dhcpPorts;
}

/** DHCPv6 client/server message (RFC 8415 §8: msg-type 1–13 or 14–37, transaction-id); caller checks ports 546/547. */
export function dhcpv6Message(d: Uint8Array, o: number, n: number): boolean {
  return n >= 4 && d[o] >= 1 && d[o] <= 37;
}

/**
 * NTP packet (RFC 5905 §7.3: LI(2) VN(3) Mode(3), 48-byte header for modes 1–5; control messages mode 6,
 * RFC 9327 §2, and private mode 7 are shorter); caller checks port 123.
 */
export function ntpPacket(d: Uint8Array, o: number, n: number, wire: number): boolean {
  if (n < 1) return false;
  const vn = (d[o] >> 3) & 7, mode = d[o] & 7;
  if (vn < 1 || vn > 4 || mode === 0) return false;
  return mode >= 6 ? wire >= 8 : wire >= 48;
}

const ber = new Int32Array(2);

/**
 * Reads the header of a BER TLV at `p` (X.690 §8.1: tag, then a short or long-form length of up to 3
 * octets) into `out` = [header length, content length]; false when not within `end` or not parseable.
 */
function berHeader(d: Uint8Array, p: number, end: number, out: Int32Array): boolean {
  if (p + 2 > end) return false;
  const l = d[p + 1];
  if (l < 0x80) { out[0] = 2; out[1] = l; return true; }
  const k = l & 0x7f;
  if (k === 0 || k > 3 || p + 2 + k > end) return false;
  let v = 0;
  for (let i = 0; i < k; i++) v = v * 256 + d[p + 2 + i];
  out[0] = 2 + k;
  out[1] = v;
  return true;
}

/**
 * SNMP message (RFC 1157 §4 / RFC 3416 §3: SEQUENCE { version INTEGER 0|1, community OCTET STRING, PDU };
 * RFC 3412 §6: version 3 with a header SEQUENCE); caller checks ports 161/162.
 */
export function snmpMessage(d: Uint8Array, o: number, n: number): boolean {
  const end = o + n;
  if (n < 7 || d[o] !== 0x30 || !berHeader(d, o, end, ber)) return false;
  const p = o + ber[0];
  if (p + 4 > end || d[p] !== 0x02 || d[p + 1] !== 1) return false;
  const v = d[p + 2];
  if (v === 0 || v === 1) return d[p + 3] === 0x04;
  return v === 3 && d[p + 3] === 0x30;
}

/**
 * LDAP message (RFC 4511 §4.1.1: LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp [APPLICATION n] … });
 * caller checks ports 389/3268.
 */
export function ldapMessage(d: Uint8Array, o: number, n: number): boolean {
  const end = o + n;
  if (n < 7 || d[o] !== 0x30 || !berHeader(d, o, end, ber)) return false;
  const p = o + ber[0];
  if (p + 2 > end || d[p] !== 0x02 || d[p + 1] < 1 || d[p + 1] > 4) return false;
  const q = p + 2 + d[p + 1];
  if (q >= end) return false;
  const t = d[q];
  return (t & 0xc0) === 0x40; // APPLICATION class
}

/**
 * Kerberos message (RFC 4120 §5.4.1, §5.4.2, §5.5.1, §5.5.2, §5.9.1: APPLICATION tags 10–15 and 30);
 * over TCP after a 4-byte length (RFC 4120 §7.2.2). Caller checks port 88.
 */
export function kerberosMessage(d: Uint8Array, o: number, n: number, tcp: boolean): boolean {
  if (tcp) {
    if (n < 5 || d[o] !== 0 || (d[o + 1] & 0x80) !== 0) return false;
    o += 4;
  } else if (n < 2) return false;
  const t = d[o];
  return (t >= 0x6a && t <= 0x6f) || t === 0x7e;
}

/**
 * NetBIOS session request and datagram service (RFC 1002 §4.3.2: session request 0x81 with a 32-byte
 * encoded called name; §4.4.1: datagram message types 0x10–0x16). Caller checks ports 139/138.
 */
export function netbiosSessionRequest(d: Uint8Array, o: number, n: number): boolean {
  return n >= 5 && d[o] === 0x81 && d[o + 4] === 0x20;
}
export function netbiosDatagram(d: Uint8Array, o: number, n: number): boolean {
  return n >= 10 && d[o] >= 0x10 && d[o] <= 0x16;
}

/** Telnet option negotiation at the start of a payload (RFC 854: IAC 0xFF, then WILL/WON'T/DO/DON'T and an option). */
export function telnetNegotiation(d: Uint8Array, o: number, n: number): boolean {
  return n >= 3 && d[o] === 0xff && d[o + 1] >= 0xfb && d[o + 1] <= 0xfe;
}

const BT_HANDSHAKE = ascii('\x13BitTorrent protocol');
const DHT_QUERY = ascii('d1:ad2:id20:'), DHT_RESPONSE = ascii('d1:rd2:id20:');

/**
 * BitTorrent: the peer handshake (BEP 3: pstrlen 19, "BitTorrent protocol"), a DHT KRPC message (BEP 5:
 * bencoded dictionary "d1:a…"/"d1:r…" with a 20-byte node id), or a UDP tracker connect request (BEP 15:
 * protocol id 0x41727101980, action 0).
 */
export function bittorrent(d: Uint8Array, o: number, n: number, udp: boolean): boolean {
  if (!udp) return startsWith(d, o, n, BT_HANDSHAKE);
  if (startsWith(d, o, n, DHT_QUERY) || startsWith(d, o, n, DHT_RESPONSE)) return true;
  return n >= 16 && u32(d, o) === 0x417 && u32(d, o + 4) === 0x27101980 && u32(d, o + 8) === 0;
}

/** Syslog message PRI `<0..191>` (RFC 5424 §6.2.1, RFC 3164 §4.1.1); caller checks port 514. */
export function syslogMessage(d: Uint8Array, o: number, n: number): boolean {
  if (n < 4 || d[o] !== 0x3c) return false;
  let p = o + 1, v = 0;
  const end = o + (n < 5 ? n : 5);
  while (p < end && isDigit(d[p])) { v = v * 10 + d[p] - 0x30; p++; }
  return p > o + 1 && p < o + n && d[p] === 0x3e && v <= 191;
}

/** TFTP read/write request (RFC 1350 §5: opcode 1/2, filename, 0, mode, 0); caller checks port 69. */
export function tftpRequest(d: Uint8Array, o: number, n: number): boolean {
  if (n < 4 || d[o] !== 0 || (d[o + 1] !== 1 && d[o + 1] !== 2)) return false;
  const end = o + n;
  let p = o + 2;
  while (p < end && d[p] !== 0) { if (d[p] < 0x20 || d[p] > 0x7e) return false; p++; }
  return p > o + 2;
}

/**
 * Zeek-style connection state: the `conn_state` and `history` columns of Zeek's conn.log, computed per flow by
 * replaying Zeek's TCP endpoint state machine and history bookkeeping on the flow's packets.
 *
 * Sources (zeek/zeek): `conn_state()` and the `conn_state` / `history` field docs in
 * scripts/base/protocols/conn/main.zeek; the endpoint state machine, `update_history`, `update_window`,
 * `update_last_seq`, `init_endpoint`, `init_peer` in src/packet_analysis/protocol/tcp/TCPSessionAdapter.cc;
 * `TCP_Endpoint::Size`, `DidRxmit`, `ZeroWindow`, `ChecksumError` in src/analyzer/protocol/tcp/TCP_Endpoint.cc;
 * `Connection::CheckHistory`, `ScaledHistoryEntry`, `FlipRoles` in src/Conn.{h,cc}; the role heuristics
 * `TCPAnalyzer::WantConnection` / `UDPAnalyzer::WantConnection` with `likely_server_ports`; UDP history in
 * src/packet_analysis/protocol/udp/UDP.cc.
 *
 * Zeek's conn_state values (main.zeek):
 * - S0: connection attempt seen, no reply. S1: established, not terminated. SF: normal establishment and
 *   termination. REJ: connection attempt rejected.
 * - S2: established and close attempt by originator seen (no reply from responder). S3: established and close
 *   attempt by responder seen (no reply from originator).
 * - RSTO: established, originator aborted (sent a RST). RSTR: responder sent a RST.
 * - RSTOS0: originator sent a SYN followed by a RST, never saw a SYN-ACK from the responder.
 * - RSTRH: responder sent a SYN-ACK followed by a RST, never saw a SYN from the (purported) originator.
 * - SH: originator sent a SYN followed by a FIN, never saw a SYN-ACK (half open). SHR: responder sent a SYN-ACK
 *   followed by a FIN, never saw a SYN from the originator.
 * - OTH: no SYN seen, just midstream traffic. UDP: SF both sides sent, S0 originator only, SHR responder only,
 *   OTH neither (every packet had a bad checksum). ICMP and other protocols: always OTH.
 *
 * Zeek's history letters (main.zeek): s a SYN without ACK; h a SYN-ACK; a a pure ACK; d a packet with payload;
 * f a FIN; r a RST; c a bad checksum (TCP and UDP); t a retransmitted payload; w a zero-window advertisement;
 * i an inconsistent packet (FIN+RST); q a multi-flag packet (SYN+FIN or SYN+RST); ^ the direction was flipped by
 * Zeek's heuristic. Upper case for the originator, lower case for the responder. a, d, i, q appear at most once
 * per direction; f, h, r, s repeat when the packet's relative sequence number differs from the last one of the
 * same flag; c, t, w are logarithmic: the letter is added on the 1st, 10th, 100th, … event of that endpoint.
 * UDP: D / d for the first datagram of each side, C / c for bad checksums. Not produced: g (content gap, needs
 * Zeek's reassembler) and x (analysis limits).
 *
 * Direction. flowsift's forward direction is the sender of the flow's first packet; Zeek may make the other
 * side the originator: (1) at the first packet, for a TCP packet that is not a plain SYN (or a UDP datagram)
 * whose source port is a likely server port and whose destination port is not (TCP: when both are, flip only a
 * non-SYN packet with source port < destination port), (2) on a SYN/SYN-ACK reversal, and (3) when a connection
 * that began with a SYN-ACK continues with an ACK or data segment (zeek/zeek#2191: history "H" is rewritten to
 * "^h"). The rendered values follow Zeek's roles (so upper case is Zeek's originator, which is then flowsift's
 * responder) and carry the `^`; the flow's own direction is unchanged.
 *
 * State per flow slot, in one 128-byte record (116 bytes used, 32 of them history letters): per endpoint the
 * TCP state and previous state, start / last / ack sequence numbers, the last SYN / FIN / RST relative sequence
 * numbers, retransmission / zero-window / bad-checksum counters and flags; per flow the role flags, the history "seen"
 * bits and up to {@link HISTORY_MAX} history letters (further letters are dropped; Zeek has no limit). Nothing
 * is allocated per packet; strings are built only in {@link ConnStateFamily.onExpire}.
 *
 * Not emulated (see docs/conn-state.md): Zeek's own connection boundaries and timers (a SYN with a new sequence
 * number on a live connection starts a new Zeek connection; a connection still waiting for its SYN-ACK is removed
 * 5 s after the SYN; one is removed 5 s after an unanswered FIN or a RST; TCP connections idle for 5 min and UDP /
 * ICMP ones for 1 min end) — flowsift's flow table decides where flows end; content gaps (g) and analysis limits
 * (x), which need Zeek's reassembler and application analyzers; IP reassembly (non-first fragments are ignored
 * here); sequence-number wrap counting (relative sequence numbers are taken modulo 2^32); application-analyzer
 * flips (DNS, NTP); ICMP connections per type (flowsift keys ICMP flows by addresses).
 */
import type { DecodedPacket } from '../../decode/types.js';
import { IpProto, TcpFlag } from '../../decode/types.js';
import { grownBuffer, type FlowTable } from '../../flow/table.js';
import type { TextColumnDef, TextFamily } from '../family.js';

/** Settings of {@link ConnStateFamily}. */
export interface ConnStateOptions {
  /**
   * Verify IPv4 header and TCP/UDP checksums of fully captured packets and treat bad ones as Zeek does (a bad IP
   * header: the packet is ignored; a bad TCP/UDP checksum: a `C`/`c` history letter, the packet otherwise
   * ignored). Default false, as Zeek with `-C` (`ignore_checksums=T`): captures
   * taken on the sending host or on virtual interfaces carry unfinished checksums (offload), which would turn
   * every connection into `OTH`.
   */
  validateChecksums?: boolean;
}

/** Most history letters kept per flow. */
export const HISTORY_MAX = 32;

/** Zeek's TCP endpoint states (TCP_ENDPOINT_*; same numbering). */
export const TcpEndpointState = {
  INACTIVE: 0, SYN_SENT: 1, SYN_ACK_SENT: 2, PARTIAL: 3, ESTABLISHED: 4, CLOSED: 5, RESET: 6,
} as const;
const { INACTIVE, SYN_SENT, SYN_ACK_SENT, PARTIAL, ESTABLISHED, CLOSED, RESET } = TcpEndpointState;

/**
 * Zeek's default `likely_server_ports` (the `ports` each base protocol script adds: conn, dce-rpc, dhcp(v6),
 * dnp3, dns, finger, ftp, http, imap, irc, krb, ldap, modbus, mqtt, mysql, ntp, pop3, postgresql, quic, radius,
 * rdp, redis, sip, smb, smtp, snmp, socks, ssh, ssl/dtls, syslog, xmpp, tunnels; DHCP adds only 67/udp, DHCPv6
 * none). Used only to decide Zeek's originator. Zeek run in bare mode (`-b`) has only the loaded scripts' ports.
 */
export const LIKELY_SERVER_PORTS = {
  tcp: [
    21, 22, 25, 53, 79, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631, 636, 989,
    990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 6379, 6666,
    6667, 6668, 6669, 8000, 8080, 8888, 20000,
  ],
  udp: [
    53, 67, 88, 123, 137, 161, 162, 389, 443, 514, 1812, 2123, 2152, 3389, 3544, 4789, 5060, 5072,
    5353, 5355, 6081, 20000,
  ],
} as const;
const LIKELY_TCP = new Uint8Array(65536);
const LIKELY_UDP = new Uint8Array(65536);
for (const p of LIKELY_SERVER_PORTS.tcp) LIKELY_TCP[p] = 1;
for (const p of LIKELY_SERVER_PORTS.udp) LIKELY_UDP[p] = 1;

export const CONN_STATE_COLUMNS: readonly TextColumnDef[] = [
  {
    name: 'conn_state',
    description: 'Zeek conn.log conn_state (scripts/base/protocols/conn/main.zeek): S0 attempt, no reply; S1 '
      + 'established, not terminated; SF normal establishment and termination; REJ attempt rejected; S2/S3 '
      + 'established, close attempt by originator/responder only; RSTO/RSTR established, originator/responder '
      + 'sent a RST; RSTOS0 originator SYN then RST, no SYN-ACK; RSTRH responder SYN-ACK then RST, no SYN; SH/SHR '
      + 'originator SYN / responder SYN-ACK then FIN, no answer; OTH midstream or other. UDP: SF both sides, S0 '
      + 'originator only, SHR responder only. ICMP and other protocols: OTH.',
  },
  {
    name: 'history',
    description: 'Zeek conn.log history: s SYN, h SYN-ACK, a pure ACK, d payload, f FIN, r RST, c bad checksum, '
      + 't retransmission, w zero window, i FIN+RST, q SYN+FIN/SYN+RST, ^ roles flipped; upper case originator, '
      + 'lower case responder (Zeek\'s roles, which may be the reverse of the flow\'s direction); a/d/i/q once per '
      + 'side, f/h/r/s again for a new sequence number, c/t/w at the 1st, 10th, 100th… event. UDP: D/d first '
      + 'datagram per side. Empty when nothing was recorded (Zeek writes "-").',
  },
];

// ---- per-slot layout ------------------------------------------------------------------------------------------
/** meta bits: transport kind (2 bits), roles flipped (Zeek's originator is the flow's responder). */
const KIND_MASK = 3, K_OTHER = 0, K_TCP = 1, K_UDP = 2, K_ICMP = 3;
const FLIPPED = 4;
/** Int32 sequence fields per endpoint: start, last, ack, last SYN, last FIN, last RST (relative). */
const SQ = 6, S_START = 0, S_LAST = 1, S_ACK = 2, S_HSYN = 3, S_HFIN = 4, S_HRST = 5;
/** Uint32 counters per endpoint: retransmissions, zero windows, bad checksums. */
const CN = 3, C_RXMT = 0, C_WIN0 = 1, C_CHK = 2;
/**
 * Bytes of a slot's record (a multiple of 4), and its length in 32-bit words. Layout: int32 sequence numbers,
 * {@link SQ} per endpoint (words 0–11); uint32 counters, {@link CN} per endpoint (words 12–17); uint32 history
 * bits (word 18); uint8 state per endpoint (bytes 76, 77), previous state (78, 79), endpoint bits (80, 81),
 * flow bits (82), history length (83), history codes ({@link HISTORY_MAX}, from byte 84).
 */
const RB = 128, RW = RB / 4;
const W_SEQ = 0, W_CNT = W_SEQ + 2 * SQ, W_SEEN = W_CNT + 2 * CN;
const B_ST = 76, B_PREV = 78, B_EP = 80, B_META = 82, B_HLEN = 83, B_HIST = 84;
/** Byte of endpoint `e`'s uint8 fields relative to a field's offset (add B_ST, B_PREV or B_EP). */
function ep8(e: number): number { return (e >> 1) * RB + (e & 1); }
/** Word of endpoint `e`'s sequence numbers (add S_START, …). */
function sqw(e: number): number { return (e >> 1) * RW + W_SEQ + (e & 1) * SQ; }
/** Endpoint flag bits: a FIN was sent (Zeek's FIN_cnt > 0), UDP side active. */
const E_FIN = 1, E_UDP_ACTIVE = 2;
/** History "seen" bits (Zeek's HIST_* masks), shifted by 8 for the responder. */
const H_SYN = 1, H_FIN = 2, H_RST = 4, H_FIN_RST = 8, H_DATA = 16, H_ACK = 32, H_MULTI = 64, H_RESP_SHIFT = 8;
/** Zeek's TOO_LARGE_SEQ_DELTA. */
const TOO_LARGE_SEQ_DELTA = 1048576;

/** History letters as character codes; `| LOWER` gives the responder's lower-case letter. */
const L_S = 0x53, L_H = 0x48, L_A = 0x41, L_D = 0x44, L_F = 0x46, L_R = 0x52, L_C = 0x43, L_T = 0x54, L_W = 0x57;
const L_I = 0x49, L_Q = 0x51, L_FLIP = 0x5e, LOWER = 0x20;
const LETTER = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i));
const RSTOS0_HISTORY = /^\^?S[^HAFGIQ]*R/;

/** True for 1, 10, 100, … (Zeek's ScaledHistoryEntry thresholds with base 10). */
function isPow10(n: number): boolean {
  while (n >= 10 && n % 10 === 0) n /= 10;
  return n === 1;
}

/** Ones'-complement sum of `len` bytes from `o` (big-endian 16-bit words, odd byte padded), added to `sum`. */
function onesSum(d: Uint8Array, o: number, len: number, sum: number): number {
  const end = o + (len & ~1);
  for (let i = o; i < end; i += 2) sum += (d[i]! << 8) | d[i + 1]!;
  if (len & 1) sum += d[end]! << 8;
  return sum;
}

/** Verifies the IPv4 header checksum: true good, false bad, null not verifiable (IPv6, no bytes, truncated). */
export function ipv4HeaderChecksumOk(p: DecodedPacket): boolean | null {
  if (p.ipVersion !== 4 || p.data.length === 0 || p.ipHeaderLen < 20) return null;
  const start = p.dataOffset + p.l3Offset;
  if (start + p.ipHeaderLen > p.data.length) return null;
  let sum = onesSum(p.data, start, p.ipHeaderLen, 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/**
 * Verifies the TCP/UDP checksum of a fully captured packet: true good, false bad, null not verifiable (segment
 * not fully captured, no bytes, IPv4 UDP without checksum).
 */
export function transportChecksumOk(p: DecodedPacket): boolean | null {
  const l4len = p.l4HeaderLen + p.payloadLen;
  if (p.data.length === 0 || p.truncated || p.isFragment || p.capturedPayloadLen < p.payloadLen || p.l4HeaderLen === 0) return null;
  const start = p.dataOffset + p.l4Offset;
  const d = p.data;
  if (start + l4len > d.length) return null;
  if (p.protocol === IpProto.UDP && p.ipVersion === 4 && d[start + 6] === 0 && d[start + 7] === 0) return null;
  let sum = 0;
  const from = p.ipVersion === 4 ? 3 : 0;
  for (let i = from; i < 4; i++) {
    const s = p.src[i]!, t = p.dst[i]!;
    sum += (s >>> 16) + (s & 0xffff) + (t >>> 16) + (t & 0xffff);
  }
  sum += p.protocol + (l4len >>> 16) + (l4len & 0xffff);
  sum = onesSum(d, start, l4len, sum);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

/**
 * Zeek's conn_state and history per flow (see the module comment). Register with `new ConnStateFamily()`.
 */
export class ConnStateFamily implements TextFamily {
  readonly name = 'conn-state';
  readonly columns = CONN_STATE_COLUMNS;
  private readonly validate: boolean;

  /**
   * Per-slot state, one {@link RB}-byte record per slot in one buffer, seen through three views: int32 sequence
   * numbers per endpoint, uint32 counters per endpoint and history bits, uint8 endpoint state, previous state,
   * endpoint bits, flow bits, history length and history codes (layout at {@link RB}). Endpoint `e` is
   * `slot * 2 + side` (side by flowsift direction).
   */
  private u8: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private i32: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private u32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  /** The per-slot record's size: the history and state can be computed from a copy (see TextFamily.recordBytes). */
  readonly recordBytes = RB;

  constructor(opts: ConnStateOptions = {}) {
    this.validate = opts.validateChecksums ?? false;
  }

  resize(capacity: number, shared = false): void {
    if (this.u8.length >= capacity * RB) return;
    this.useRecords(grownBuffer(this.u8, capacity * RB, shared));
  }

  onInit(slot: number, pkt: DecodedPacket): void {
    const r = slot * RB, w = slot * RW, u8 = this.u8;
    u8[r + B_ST] = u8[r + B_ST + 1] = INACTIVE;
    u8[r + B_PREV] = u8[r + B_PREV + 1] = INACTIVE;
    u8[r + B_EP] = u8[r + B_EP + 1] = 0;
    // Sequence numbers, counters and history bits: words W_SEQ … W_SEEN, contiguous. A loop, not fill(): fill is a
    // call into a builtin, about twice the cost of 19 stores, once per flow.
    const i32 = this.i32;
    for (let i = w + W_SEQ, e = w + W_SEEN; i <= e; i++) i32[i] = 0;
    u8[r + B_HLEN] = 0;
    const proto = pkt.protocol;
    // IPBasedAnalyzer::NewConn never flips towards the limited broadcast address.
    const broadcast = pkt.ipVersion === 4 && pkt.dst[3] === 0xffffffff;
    let m = K_OTHER;
    if (proto === IpProto.TCP) {
      m = K_TCP;
      // TCPAnalyzer::WantConnection: a first packet without SYN, or a SYN-ACK, may be from the responder.
      const f = pkt.tcpFlags;
      if ((f & TcpFlag.SYN) === 0 || (f & TcpFlag.ACK) !== 0) {
        let flip = false;
        if (LIKELY_TCP[pkt.srcPort]) {
          flip = LIKELY_TCP[pkt.dstPort] ? (f & TcpFlag.SYN) === 0 && pkt.srcPort < pkt.dstPort : true;
        }
        if (flip && !broadcast) {
          m |= FLIPPED;
          this.add(slot, L_FLIP);
        }
      }
    } else if (proto === IpProto.UDP) {
      m = K_UDP;
      // UDPAnalyzer::WantConnection
      if (LIKELY_UDP[pkt.srcPort] && !LIKELY_UDP[pkt.dstPort] && !broadcast) {
        m |= FLIPPED;
        this.add(slot, L_FLIP);
      }
    } else if (proto === IpProto.ICMP || proto === IpProto.ICMPV6) m = K_ICMP;
    this.u8[slot * RB + B_META] = m;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const kind = this.u8[slot * RB + B_META]! & KIND_MASK;
    if (kind === K_TCP) this.tcp(slot, pkt, dir);
    else if (kind === K_UDP) this.udp(slot, pkt, dir);
  }

  writeRecord(slot: number, out: Uint32Array, o: number): void {
    // 32 stores: for a 128-byte record, subarray() (an allocation) and set() cost more than the copy itself.
    const a = this.u32, from = slot * RW;
    for (let i = 0; i < RW; i++) out[o + i] = a[from + i];
  }

  recordsBuffer(): ArrayBufferLike {
    return this.u8.buffer;
  }

  useRecords(buf: ArrayBufferLike): void {
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.u32 = new Uint32Array(buf);
  }

  onExpire(slot: number, _t: FlowTable, out: string[], pos: Int32Array): void {
    const history = this.historyText(slot);
    out[pos[0]!] = this.connState(slot, history);
    out[pos[1]!] = history;
  }

  // ---- history ------------------------------------------------------------------------------------------------

  private add(slot: number, code: number): void {
    const n = this.u8[slot * RB + B_HLEN]!;
    if (n < HISTORY_MAX) {
      this.u8[slot * RB + B_HIST + n] = code;
      this.u8[slot * RB + B_HLEN] = n + 1;
    }
  }

  /** Zeek's Connection::CheckHistory: adds `code` the first time `bit` is seen; returns whether it was seen. */
  private check(slot: number, bit: number, code: number): boolean {
    const s = this.u32[slot * RW + W_SEEN]!;
    if ((s & bit) === 0) {
      this.u32[slot * RW + W_SEEN] = s | bit;
      this.add(slot, code);
      return false;
    }
    return true;
  }

  private historyText(slot: number): string {
    const n = this.u8[slot * RB + B_HLEN]!, o = slot * RB + B_HIST;
    // Histories repeat (ShADadFf, Sr, …): up to 7 letters, the text is kept per 7-bit-per-letter key, so every flow
    // with the same history gets the same string (no building, and cheap to hash downstream).
    let key = n;
    if (n <= 7) {
      for (let i = 0; i < n; i++) key = key * 128 + this.u8[o + i]!;
      const cached = this.historyCache.get(key);
      if (cached !== undefined) return cached;
    }
    let s = '';
    for (let i = 0; i < n; i++) s += LETTER[this.u8[o + i]!];
    if (n <= 7) {
      if (this.historyCache.size >= 4096) this.historyCache.clear();
      this.historyCache.set(key, s);
    }
    return s;
  }

  /** History text by key (see {@link historyText}). */
  private readonly historyCache = new Map<number, string>();

  /** Zeek's ScaledHistoryEntry (base 10) on counter `k` of endpoint `e`. */
  private scaled(slot: number, e: number, k: number, code: number): void {
    const i = (e >> 1) * RW + W_CNT + (e & 1) * CN + k;
    const n = this.u32[i]! + 1;
    this.u32[i] = n;
    if (isPow10(n)) this.add(slot, code);
  }

  // ---- UDP ----------------------------------------------------------------------------------------------------

  private udp(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    if (pkt.protocol !== IpProto.UDP || pkt.l4HeaderLen === 0) return;
    const isOrig = (dir === 0) !== ((this.u8[slot * RB + B_META]! & FLIPPED) !== 0);
    const e = slot * 2 + dir;
    if (this.validate && ipv4HeaderChecksumOk(pkt) === false) return; // Zeek drops it at the IP layer
    if (this.validate && transportChecksumOk(pkt) === false) {
      this.scaled(slot, e, C_CHK, isOrig ? L_C : L_C | LOWER);
      return;
    }
    this.check(slot, isOrig ? H_DATA : H_DATA << H_RESP_SHIFT, isOrig ? L_D : L_D | LOWER);
    this.u8[ep8(e) + B_EP] = this.u8[ep8(e) + B_EP]! | E_UDP_ACTIVE;
  }

  // ---- TCP ----------------------------------------------------------------------------------------------------

  private setState(e: number, s: number): void {
    if (this.u8[ep8(e) + B_ST] !== s) {
      this.u8[ep8(e) + B_PREV] = this.u8[ep8(e) + B_ST]!;
      this.u8[ep8(e) + B_ST] = s;
    }
  }

  private initSeqs(e: number, start: number, last: number): void {
    const o = sqw(e), q = this.i32;
    q[o + S_START] = start;
    q[o + S_ACK] = start;
    q[o + S_LAST] = last;
  }

  /** One TCP packet, following TCPSessionAdapter::Process (the parts that drive state and history). */
  private tcp(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    if (pkt.protocol !== IpProto.TCP || pkt.truncated || pkt.l4HeaderLen < 20) return;
    let meta = this.u8[slot * RB + B_META]!;
    const E = slot * 2 + dir, P = slot * 2 + (1 - dir);
    const f = pkt.tcpFlags;
    const SYN = (f & TcpFlag.SYN) !== 0, FIN = (f & TcpFlag.FIN) !== 0, RST = (f & TcpFlag.RST) !== 0;
    const ACK = (f & TcpFlag.ACK) !== 0;
    const len = pkt.payloadLen;

    if (this.validate && ipv4HeaderChecksumOk(pkt) === false) return; // Zeek drops it at the IP layer
    if (this.validate && transportChecksumOk(pkt) === false) {
      const isOrig = (dir === 0) !== ((meta & FLIPPED) !== 0);
      this.scaled(slot, E, C_CHK, isOrig ? L_C : L_C | LOWER); // TCP_Endpoint::ChecksumError; packet dropped
      return;
    }

    const o = slot * RB + B_HIST;
    if ((meta & FLIPPED) === 0 && !SYN && !FIN && !RST && (ACK || len > 0) && this.u8[slot * RB + B_HLEN] === 1
      && this.u8[o] === L_H) {
      // zeek/zeek#2191: a connection that began with a SYN-ACK (history still "H") and continues with an ACK or
      // data segment is flipped as if the SYN-ACK had come from the responder: history "H" becomes "^h".
      meta |= FLIPPED;
      this.u8[slot * RB + B_META] = meta;
      this.u8[o] = L_FLIP;
      this.u8[o + 1] = L_H | LOWER;
      this.u8[slot * RB + B_HLEN] = 2;
      this.u32[slot * RW + W_SEEN] = (this.u32[slot * RW + W_SEEN]! & ~H_SYN) | (H_SYN << H_RESP_SHIFT);
      // The SYN-ACK's sender (the flow's first sender, direction 0) is then an established responder.
      this.u8[ep8(slot * 2) + B_ST] = ESTABLISHED;
      this.u8[ep8(slot * 2) + B_PREV] = INACTIVE;
    }

    const isOrig = (dir === 0) !== ((meta & FLIPPED) !== 0);
    const q = this.i32, eo = sqw(E), po = sqw(P);
    const base = pkt.tcpSeq | 0, ackSeq = pkt.tcpAck | 0;
    let segLen = len + (SYN ? 1 : 0) + (FIN ? 1 : 0);
    if (RST) segLen -= len;
    const pastSeg = (base + segLen) | 0;

    // init_endpoint
    const est = this.u8[ep8(E) + B_ST]!;
    if (est === INACTIVE) {
      if (SYN) this.initSeqs(E, base, pastSeg);
      else this.initSeqs(E, (base - 1) | 0, base);
    } else if (est === SYN_SENT || est === SYN_ACK_SENT) {
      if (SYN && base !== q[eo + S_START]) this.initSeqs(E, base, pastSeg);
    } else if (est === ESTABLISHED || est === PARTIAL) {
      if (SYN) this.initSeqs(E, base, pastSeg);
    } else if (est === RESET) {
      if (SYN && this.u8[ep8(E) + B_PREV] === INACTIVE) this.initSeqs(E, base, pastSeg);
    }
    const relSeq = (base - q[eo + S_START]!) | 0;

    // update_history
    const shift = isOrig ? 0 : H_RESP_SHIFT, lower = isOrig ? 0 : LOWER;
    const bits = (SYN ? 1 : 0) + (FIN ? 1 : 0) + (RST ? 1 : 0);
    if (bits > 1) {
      if (FIN && RST) this.check(slot, H_FIN_RST << shift, L_I | lower);
      else this.check(slot, H_MULTI << shift, L_Q | lower);
    } else if (bits === 1) {
      if (SYN) {
        const code = (ACK ? L_H : L_S) | lower;
        if (this.check(slot, H_SYN << shift, code) && relSeq !== q[eo + S_HSYN]) this.add(slot, code);
        q[eo + S_HSYN] = relSeq;
      }
      if (FIN) {
        const k = (relSeq + len) | 0;
        if (this.check(slot, H_FIN << shift, L_F | lower) && k !== q[eo + S_HFIN]) this.add(slot, L_F | lower);
        q[eo + S_HFIN] = k;
      }
      if (RST) {
        if (this.check(slot, H_RST << shift, L_R | lower) && relSeq !== q[eo + S_HRST]) this.add(slot, L_R | lower);
        q[eo + S_HRST] = relSeq;
      }
    } else if (len > 0) this.check(slot, H_DATA << shift, L_D | lower);
    else if (ACK) this.check(slot, H_ACK << shift, L_A | lower);

    // update_window: zero windows (scaling cannot make a non-zero window zero)
    if (pkt.tcpWindow === 0 && !RST && this.u8[ep8(P) + B_ST] !== CLOSED && this.u8[ep8(E) + B_ST] !== RESET) {
      this.scaled(slot, E, C_WIN0, L_W | lower);
    }

    if (FIN) this.u8[ep8(E) + B_EP] = this.u8[ep8(E) + B_EP]! | E_FIN;

    if (ACK) {
      if (this.u8[ep8(P) + B_ST] === INACTIVE) this.initSeqs(P, (ackSeq - 1) | 0, (ackSeq - 1) | 0); // init_peer
      else if (!RST) {
        // update_ack_seq (ack underflow leaves it alone as well: delta ≤ 0)
        const d = (ackSeq - q[po + S_ACK]!) | 0;
        if (!(ackSeq === 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0) q[po + S_ACK] = ackSeq;
      }
    }

    // update_last_seq
    const deltaLast = (pastSeg - q[eo + S_LAST]!) | 0;
    if ((SYN || RST) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
      // untrusted jump
    } else if (FIN && q[eo + S_LAST] === ((q[eo + S_START]! + 1) | 0)) q[eo + S_LAST] = pastSeg;
    else if (this.u8[ep8(E) + B_ST] === RESET) {
      // no trust in sequence numbers after a RST
    } else if (deltaLast > 0) q[eo + S_LAST] = pastSeg;
    else if (len > 0) this.scaled(slot, E, C_RXMT, L_T | lower); // DidRxmit

    // UpdateStateMachine
    switch (this.u8[ep8(E) + B_ST]) {
      case INACTIVE: this.inactive(slot, E, P, base, len, isOrig, SYN, FIN, RST, ACK); break;
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (FIN) this.setState(E, CLOSED);
        if (RST) this.setState(E, RESET);
        break;
      case ESTABLISHED:
      case PARTIAL:
        if (SYN && this.u8[ep8(E) + B_ST] === PARTIAL && this.u8[ep8(P) + B_ST] === INACTIVE && !ACK) this.setState(E, SYN_SENT);
        if (FIN && !RST) {
          this.setState(E, CLOSED);
          // A FIN after the peer's FIN-then-RST: that was a normal termination.
          if (this.u8[ep8(P) + B_ST] === RESET && this.u8[ep8(P) + B_PREV] === CLOSED) this.setState(P, CLOSED);
        }
        if (RST) this.setState(E, RESET);
        break;
      case CLOSED:
        if (RST && this.u8[ep8(P) + B_ST] !== CLOSED) this.setState(E, RESET);
        break;
      default: // RESET: no change
        break;
    }
  }

  /** TCPSessionAdapter::UpdateInactiveState (`isOrig`: the sender's role when the packet arrived). */
  private inactive(
    slot: number, E: number, P: number, base: number, len: number, isOrig: boolean,
    SYN: boolean, FIN: boolean, RST: boolean, ACK: boolean,
  ): void {
    if (SYN) {
      if (isOrig) this.setState(E, ACK ? SYN_ACK_SENT : SYN_SENT);
      else {
        if (!ACK && this.u8[ep8(P) + B_ST] === SYN_ACK_SENT && base === this.i32[sqw(E) + S_START]) {
          // SYN/SYN-ACK reversal: flip the roles and establish the connection.
          this.u8[slot * RB + B_META] = this.u8[slot * RB + B_META]! ^ FLIPPED;
          this.add(slot, L_FLIP);
          this.setState(P, ESTABLISHED);
        }
        if (this.u8[ep8(P) + B_ST] === SYN_SENT) this.setState(P, ESTABLISHED);
        this.setState(E, ESTABLISHED);
      }
    }
    if (FIN) this.setState(E, CLOSED);
    if (RST) this.setState(E, RESET);
    if (this.u8[ep8(E) + B_ST] === INACTIVE) {
      const origState = this.u8[ep8(isOrig ? E : P) + B_ST];
      if (!isOrig && len === 0 && origState === SYN_SENT) {
        // an ACK of the SYN before the SYN-ACK ("eccentric TCPs"): not a partial connection
      } else if (ACK && this.u8[ep8(P) + B_ST] === ESTABLISHED) this.setState(E, ESTABLISHED);
      else this.setState(E, PARTIAL);
    }
  }

  // ---- rendering ----------------------------------------------------------------------------------------------

  /** TCP_Endpoint::Size: payload bytes from sequence numbers (SYN and FIN octets excluded). */
  private size(e: number, peer: number): number {
    const o = sqw(e), q = this.i32;
    const start = q[o + S_START]!, ack = q[o + S_ACK]!;
    if (this.u8[ep8(e) + B_PREV] === SYN_SENT && this.u8[ep8(e) + B_ST] === RESET && this.u8[ep8(peer) + B_ST] === INACTIVE
      && !(ack === start || ack === ((start + 1) | 0))) return 0;
    const rl = (q[o + S_LAST]! - start) >>> 0, ra = (ack - start) >>> 0;
    let size = rl > ra ? rl : ra;
    if (size !== 0) size--;
    if ((this.u8[ep8(e) + B_EP]! & E_FIN) !== 0 && size !== 0) size--;
    return size;
  }

  private connState(slot: number, history: string): string {
    const kind = this.u8[slot * RB + B_META]! & KIND_MASK;
    const flipped = (this.u8[slot * RB + B_META]! & FLIPPED) !== 0;
    const oe = slot * 2 + (flipped ? 1 : 0), re = slot * 2 + (flipped ? 0 : 1);
    if (kind === K_UDP) {
      const oa = (this.u8[ep8(oe) + B_EP]! & E_UDP_ACTIVE) !== 0, ra = (this.u8[ep8(re) + B_EP]! & E_UDP_ACTIVE) !== 0;
      if (oa) return ra ? 'SF' : 'S0';
      return ra ? 'SHR' : 'OTH';
    }
    if (kind !== K_TCP) return 'OTH';
    const os = this.u8[ep8(oe) + B_ST]!, rs = this.u8[ep8(re) + B_ST]!;
    const oInactive = os === INACTIVE || os === PARTIAL, rInactive = rs === INACTIVE || rs === PARTIAL;
    if (rs === RESET) {
      if (os === SYN_SENT || os === SYN_ACK_SENT
        || (os === RESET && this.size(oe, re) === 0 && this.size(re, oe) === 0)) return 'REJ';
      return oInactive ? 'RSTRH' : 'RSTR';
    }
    if (os === RESET) {
      if (rInactive) return RSTOS0_HISTORY.test(history) ? 'RSTOS0' : 'OTH';
      return 'RSTO';
    }
    if (rs === CLOSED && os === CLOSED) return 'SF';
    if (os === CLOSED) return rInactive ? 'SH' : 'S2';
    if (rs === CLOSED) return oInactive ? 'SHR' : 'S3';
    if (os === SYN_SENT && rs === INACTIVE) return 'S0';
    if (os === ESTABLISHED && rs === ESTABLISHED) return 'S1';
    return 'OTH';
  }
}

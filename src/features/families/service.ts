/**
 * Service family: the application protocol of each flow (`service`), how it was decided
 * (`service_source`: `payload` or `port`) and the server name the client asked for (`server_name`: TLS SNI,
 * HTTP Host, DNS query name).
 *
 * The first {@link INSPECT_PACKETS} payload packets of each direction go through the payload parsers of
 * src/features/service/ (see classify.ts); the first one that recognises its protocol decides. A flow no
 * payload decided gets the service of its well-known port (nDPI's default ports), marked `port`. Names
 * follow nDPI, so `service` compares with nfstream's `application_name` (its master protocol, before the dot).
 *
 * Per-flow state: an 80-byte record per slot. Its first 16 bytes (the flow's frame bytes, service, status bits,
 * payload packets seen per direction) are updated per packet and kept in the flow table's slot record when the meter
 * offers it ({@link ServiceFamily.useSlotRecords}); the other 64 hold the server name's bytes as captured, turned into
 * text only when the flow is exported ({@link NAME_MAX} bytes at most: a longer name is kept as a string instead).
 * Once a flow is decided or past its inspection window, a packet costs one addition and one test.
 */
import type { DecodedPacket } from '../../decode/types.js';
import { grownBuffer, OBSERVER_BYTES, type FlowTable } from '../../flow/table.js';
import type { TextColumnDef, TextFamily } from '../family.js';
import type { FinishedFlow } from '../meter.js';
import { classify, NameKind, ServiceProbe } from '../service/classify.js';
import { NameCache } from '../service/names-cache.js';
import { findHost } from '../service/http.js';
import { portService, SERVICE_NAMES, Svc } from '../service/names.js';

/** Payload packets inspected per direction. */
export const INSPECT_PACKETS = 8;

export const SERVICE_COLUMNS: readonly TextColumnDef[] = [
  {
    name: 'service',
    description: 'Application protocol, named as nDPI/nfstream name it (HTTP, TLS, DNS, SSH, SMTP, FTP_CONTROL, QUIC, '
      + 'DHCP, NTP, MDNS, LLMNR, SSDP, SMBv1, SMBv23, RDP, IMAP, POP3, SNMP, SIP, Kerberos, LDAP, NetBIOS, DHCPV6, '
      + 'MySQL, PostgreSQL, Redis, BitTorrent, STUN, DTLS, Telnet, RTSP, Syslog, TFTP, HTTP_Proxy, DNScrypt, IMAPS, …), decided from payload '
      + `signatures of the first ${INSPECT_PACKETS} payload packets of each direction, else from the well-known `
      + 'port; empty when unknown.',
  },
  {
    name: 'service_source',
    description: '`payload` when a payload signature decided `service`, `port` when only the well-known port did; '
      + 'empty when `service` is empty.',
  },
  {
    name: 'server_name',
    description: 'Server name requested by the client: TLS SNI (RFC 6066 §3) of the ClientHello when captured, '
      + 'HTTP Host header (RFC 9110 §7.2), or the first question name of a DNS/mDNS/LLMNR message (RFC 1035 §4.1.2); '
      + 'empty otherwise (QUIC SNI is encrypted).',
  },
];

// Status bits per slot.
const DONE = 0x80;
/** An HTTP request was seen in direction 0 / 1 whose Host header was not captured yet. */
const WANT_HOST_FWD = 0x40, WANT_HOST_BWD = 0x20;
/** The slot has a server name in {@link ServiceFamily.names}. */
const HAS_NAME = 0x10;
/** Low bits: the parsers' hints (see signatures.ts `Hint`). */
const HINT_MASK = 0x0f;

/**
 * Bytes of a slot's per-packet state (see {@link ServiceFamily}), byte offsets of its uint8 fields (the float64 is at 0).
 */
const STATE_BYTES = 16, R_SVC = 8, R_ST = 9, R_SEEN = 10, R_PORT = 12, R_LONG = 13;
/**
 * The server name part of a record, after the state: byte N_LEN the name's length in bytes (0: none; {@link LONG_NAME}:
 * longer than {@link NAME_MAX}, kept as a string), N_KIND 1 for a DNS-encoded name (labels) and 0 for text, then the
 * bytes.
 */
const NAME_AT = STATE_BYTES, N_LEN = 0, N_KIND = 1, N_BYTES = 2, NAME_BYTES = 64;
/** Longest server name kept as bytes in the record. */
export const NAME_MAX = NAME_BYTES - N_BYTES;
const LONG_NAME = 255;
/** Bytes of a slot's whole record: state, then name. */
const REC_BYTES = STATE_BYTES + NAME_BYTES;

/** The family that last exported a flow into a given text row (see {@link flowFrameBytes}). */
const OWNERS = new WeakMap<string[], ServiceFamily>();

/** Service classification per flow (see the module comment). */
export class ServiceFamily implements TextFamily {
  readonly name = 'service';
  readonly columns = SERVICE_COLUMNS;
  /**
   * The record gives `service` and `service_source` (the payload's service, else the port's, both kept in it) and the
   * server name's bytes, so with {@link import('../meter.js').MeterOptions.deferText} they are computed from the record
   * elsewhere ({@link onExpireRecord}); a server name longer than {@link NAME_MAX} bytes (rare) is a string kept on the
   * meter ({@link onExpireRest}).
   */
  readonly recordBytes = REC_BYTES;
  readonly recordColumns = 2;
  /**
   * Per-packet state, {@link STATE_BYTES} bytes per slot: float64 frame bytes (byte 0), uint8 service (8), state bits
   * (9), payload packets inspected forward (10) and backward (11), service of the well-known port (12), 1 when the
   * server name is a long one kept in {@link names} (13). Slot s's state
   * starts at byte s · {@link stride} + {@link base}: in the family's own records (stride {@link REC_BYTES}), or in the
   * flow table's slot records ({@link useSlotRecords}).
   */
  private bytes: Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** The same state as 32-bit words (for {@link writeRecord}). */
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  /** The same state as bytes. */
  private rec: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private stride = REC_BYTES;
  private base = 0;
  /** True once the state lives in the flow table's records ({@link useSlotRecords}). */
  private inTable = false;
  /** The family's own records ({@link REC_BYTES} per slot), where the server names are (at {@link NAME_AT}). */
  private own: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private ownWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  /**
   * Server names longer than {@link NAME_MAX} bytes per slot (read only while the slot's HAS_NAME and R_LONG are set);
   * an array indexed by slot, as a Map's inserts cost more, grown when such a name is stored.
   */
  private names: string[] = [];
  private readonly probe = new ServiceProbe();
  /** The strings of recent server names by their bytes (repeated names are not rebuilt). */
  private readonly nameCache = new NameCache();
  private row: string[] | null = null;

  resize(capacity: number, shared = false): void {
    if (this.own.length >= capacity * REC_BYTES) return;
    const buf = grownBuffer(this.own, capacity * REC_BYTES, shared);
    if (this.inTable) this.useOwn(buf); // the state stays in the flow table's records
    else this.useRecords(buf);
  }

  /** Reads records from `buf` from now on (record i at byte i · {@link REC_BYTES}): copies, or another meter's own. */
  useRecords(buf: ArrayBufferLike): void {
    this.rec = new Uint8Array(buf);
    this.bytes = new Float64Array(buf);
    this.words = new Uint32Array(buf);
    this.stride = REC_BYTES;
    this.base = 0;
    this.inTable = false;
    this.useOwn(buf);
  }

  private useOwn(buf: ArrayBufferLike): void {
    this.own = new Uint8Array(buf);
    this.ownWords = new Uint32Array(buf);
  }

  /** The buffer of the family's own records (whose state part is unused after {@link useSlotRecords}). */
  recordsBuffer(): ArrayBufferLike {
    return this.own.buffer;
  }

  /** Copies the record of `slot` ({@link REC_BYTES} bytes: state, then name) to `out` from word `o` on. */
  writeRecord(slot: number, out: Uint32Array, o: number): void {
    const w = this.words, i = (slot * this.stride + this.base) >>> 2;
    out[o] = w[i]; out[o + 1] = w[i + 1]; out[o + 2] = w[i + 2]; out[o + 3] = w[i + 3];
    if ((this.rec[slot * this.stride + this.base + R_ST] & HAS_NAME) === 0) return; // the name part is not read
    const nw = this.ownWords, n = (slot * REC_BYTES + NAME_AT) >>> 2, len = this.own[slot * REC_BYTES + NAME_AT + N_LEN];
    // The name's words in use (its length and kind bytes, then its bytes); the rest of the copy is not read.
    const used = len === LONG_NAME ? 1 : (N_BYTES + len + 3) >>> 2;
    for (let k = 0; k < used; k++) out[o + 4 + k] = nw[n + k];
  }

  /**
   * Keeps the per-packet state part of the records in the flow table's slot records from now on: `buffer` is
   * {@link FlowTable.recordsBuffer} (call again after the table grew), each slot's state at byte slot · `stride` +
   * `offset` (the observer bytes, {@link import('../../flow/table.js').OBSERVER_OFFSET}). The table's line is in cache
   * whenever the flow is touched, so the state costs no cache line of its own. The server names stay in the family's
   * own records. Call before the first flow, or with a grown copy of the same buffer.
   */
  useSlotRecords(buffer: ArrayBufferLike, stride: number, offset: number): void {
    if (STATE_BYTES > OBSERVER_BYTES || offset % 8 !== 0 || stride % 8 !== 0) throw new Error('service record does not fit the slot records');
    this.rec = new Uint8Array(buffer);
    this.bytes = new Float64Array(buffer);
    this.words = new Uint32Array(buffer);
    this.stride = stride;
    this.base = offset;
    this.inTable = true;
  }

  onInit(slot: number, pkt: DecodedPacket): void {
    const r = this.rec, o = slot * this.stride + this.base;
    if ((r[o + R_ST] & HAS_NAME) !== 0 && slot < this.names.length) this.names[slot] = ''; // the last flow's long name
    // The name part is not cleared: it is read only while HAS_NAME is set, and setName writes it whole (a write here
    // would cost a cache miss per flow).
    r[o + R_SVC] = 0;
    r[o + R_LONG] = 0;
    r[o + R_ST] = pkt.protocol === 6 || pkt.protocol === 17 ? 0 : DONE;
    r[o + R_SEEN] = 0;
    r[o + R_SEEN + 1] = 0;
    r[o + R_PORT] = portService(pkt.protocol, pkt.srcPort, pkt.dstPort); // ports of the flow's first packet, its key
    this.bytes[o >>> 3] = 0;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const r = this.rec, ro = slot * this.stride + this.base;
    this.bytes[ro >>> 3] += pkt.frameLen;
    const st = r[ro + R_ST];
    if ((st & DONE) !== 0) return;
    const n = pkt.capturedPayloadLen;
    if (n <= 0 || pkt.fragOffset !== 0) return;
    const k = ro + R_SEEN + dir;
    if (r[k] >= INSPECT_PACKETS) return;
    const first = r[ro + R_SEEN] + r[ro + R_SEEN + 1] === 0;
    r[k]++;
    const d = pkt.data, o = pkt.dataOffset + pkt.payloadOffset;
    if (o + n > d.length) return; // packets not built by the decoder carry no bytes
    let next = st;
    if (r[ro + R_SVC] !== Svc.NONE) {
      // Decided: only an HTTP Host header split into a later segment is still wanted.
      const want = dir === 0 ? WANT_HOST_FWD : WANT_HOST_BWD;
      if ((st & want) !== 0) {
        const span = this.probe.span;
        if (findHost(d, o, n, true, span)) {
          this.setName(slot, d, span[0], span[1], false);
          next = DONE | HAS_NAME;
        }
      }
    } else {
      const p = this.probe;
      p.d = d;
      p.o = o;
      p.n = n;
      p.wire = pkt.payloadLen > n ? pkt.payloadLen : n;
      p.protocol = pkt.protocol;
      p.srcPort = pkt.srcPort;
      p.dstPort = pkt.dstPort;
      p.firstPayload = first;
      p.hints = st & HINT_MASK;
      classify(p);
      next = (st & ~HINT_MASK) | (p.hints & HINT_MASK);
      if (p.svc !== Svc.NONE) {
        r[ro + R_SVC] = p.svc;
        if (p.nameKind !== NameKind.NONE) {
          next = DONE;
          if (p.nameLen > 0) {
            this.setName(slot, d, p.nameStart, p.nameLen, p.nameKind === NameKind.DNS);
            next |= HAS_NAME;
          }
        } else if (p.wantHost) {
          next |= dir === 0 ? WANT_HOST_FWD : WANT_HOST_BWD;
        } else {
          next = DONE;
        }
      }
      p.d = EMPTY;
    }
    if (r[ro + R_SEEN] >= INSPECT_PACKETS && r[ro + R_SEEN + 1] >= INSPECT_PACKETS) next |= DONE;
    r[ro + R_ST] = next;
  }

  /**
   * Stores the server name of `slot` (the caller sets HAS_NAME): the bytes `d[s, s + len)` (a DNS-encoded name when
   * `dns`) go to the slot's record, to be turned into text when the flow is exported; a name longer than
   * {@link NAME_MAX} bytes is turned into text now and kept as a string.
   */
  private setName(slot: number, d: Uint8Array, s: number, len: number, dns: boolean): void {
    const own = this.own, at = slot * REC_BYTES + NAME_AT;
    if (len <= NAME_MAX) {
      own[at + N_LEN] = len;
      own[at + N_KIND] = dns ? 1 : 0;
      for (let i = 0; i < len; i++) own[at + N_BYTES + i] = d[s + i];
      return;
    }
    own[at + N_LEN] = LONG_NAME;
    this.rec[slot * this.stride + this.base + R_LONG] = 1;
    const names = this.names;
    while (names.length <= slot) names.push('');
    names[slot] = this.nameCache.text(d, s, len, dns);
  }

  onExpire(slot: number, table: FlowTable, out: string[], pos: Int32Array): void {
    this.onExpireRest(slot, table, out, pos);
    this.onExpireRecord(slot, out, pos);
  }

  /**
   * Writes `service` and `service_source` (columns 0 and 1) of `slot` from its record alone, and `server_name` (column
   * 2, when `pos` has it) when the record holds the name's bytes; a long name (kept as a string) and no name are left
   * to {@link onExpireRest}.
   */
  onExpireRecord(slot: number, out: string[], pos: Int32Array): void {
    const r = this.rec, o = slot * this.stride + this.base;
    let s = r[o + R_SVC], source = 'payload';
    if (s === Svc.NONE) {
      s = r[o + R_PORT];
      source = 'port';
    }
    out[pos[0]] = SERVICE_NAMES[s];
    out[pos[1]] = s === Svc.NONE ? '' : source;
    if (pos.length > 2 && (r[o + R_ST] & HAS_NAME) !== 0) {
      const own = this.own, at = slot * REC_BYTES + NAME_AT, len = own[at + N_LEN];
      if (len !== 0 && len !== LONG_NAME) out[pos[2]] = this.nameCache.text(own, at + N_BYTES, len, own[at + N_KIND] === 1);
    }
  }

  /**
   * Writes `server_name` (column 2) of `slot` when the meter keeps it as a string (longer than {@link NAME_MAX} bytes),
   * and forgets it; else '' ({@link onExpireRecord} writes a name kept as bytes). HAS_NAME stays set: a copy of the
   * record, or another thread reading it, needs it (the next flow's onInit clears it).
   */
  onExpireRest(slot: number, _table: FlowTable, out: string[], pos: Int32Array): void {
    if (this.row !== out) {
      this.row = out;
      OWNERS.set(out, this);
    }
    // A long name is in `names` exactly while the slot's HAS_NAME and R_LONG are set (setName sets both with it;
    // onInit clears it with them; this clears it once written): the slot's state is not read here, where its line is
    // usually cold (a flow ends after an idle or linger timeout) and the metering thread would wait for it.
    const names = this.names;
    if (slot < names.length && names[slot] !== '') {
      out[pos[2]] = names[slot];
      names[slot] = '';
    } else {
      out[pos[2]] = '';
    }
  }

  /** Sum of the frame (wire) lengths of the flow's packets in `slot`, bytes (nfstream's bidirectional_bytes). */
  frameBytes(slot: number): number {
    return this.bytes[(slot * this.stride + this.base) >>> 3];
  }
}

const EMPTY = new Uint8Array(0);

/**
 * Frame bytes of a finished flow (sum of wire frame lengths, nfstream's `bidirectional_bytes` with its default
 * accounting), valid during the meter's `onFlow` callback; NaN when the meter has no service family.
 */
export function flowFrameBytes(flow: FinishedFlow): number {
  const f = OWNERS.get(flow.text);
  return f === undefined ? NaN : f.frameBytes(flow.slot);
}

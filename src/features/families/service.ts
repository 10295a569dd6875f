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
 * Per-flow state: one 16-byte record per slot (the flow's frame bytes, service, status bits, payload packets
 * seen per direction), kept in the flow table's slot record when the meter offers it ({@link
 * ServiceFamily.useSlotRecords}), and a string only for flows that produced a server name.
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

/** Bytes of a slot's record (see {@link ServiceFamily}), byte offsets of its uint8 fields (the float64 is at 0). */
const REC_BYTES = 16, R_SVC = 8, R_ST = 9, R_SEEN = 10, R_PORT = 12;

/** The family that last exported a flow into a given text row (see {@link flowFrameBytes}). */
const OWNERS = new WeakMap<string[], ServiceFamily>();

/** Service classification per flow (see the module comment). */
export class ServiceFamily implements TextFamily {
  readonly name = 'service';
  readonly columns = SERVICE_COLUMNS;
  /**
   * The record gives `service` and `service_source` (the payload's service, else the port's, both kept in it), so with
   * {@link import('../meter.js').MeterOptions.deferText} they are computed from the record elsewhere
   * ({@link onExpireRecord}); `server_name`, a string kept on the meter, is not ({@link onExpireRest}).
   */
  readonly recordBytes = REC_BYTES;
  readonly recordColumns = 2;
  /**
   * Per-slot state, one {@link REC_BYTES}-byte record per slot: float64 frame bytes (byte 0), uint8 service (8),
   * state bits (9), payload packets inspected forward (10) and backward (11), service of the well-known port (12).
   * Slot s's record starts at byte s · {@link stride} + {@link base}: in a buffer of its own (stride 16, four slots per
   * cache line), or in the flow table's slot records ({@link useSlotRecords}).
   */
  private bytes: Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** The same records as 32-bit words (for {@link writeRecord}). */
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  /** The same records as bytes. */
  private rec: Uint8Array<ArrayBufferLike> = new Uint8Array(0);
  private stride = REC_BYTES;
  private base = 0;
  /** True once the records live in the flow table's ({@link useSlotRecords}). */
  private inTable = false;
  /**
   * Server name per slot (read only while the slot's HAS_NAME is set); an array indexed by slot, as a Map's inserts
   * cost more. Grown when a name is stored ({@link setName}), not to the table's capacity: extract's shared table has
   * room for 2^20 flows, and filling that many entries took 16 ms of start-up.
   */
  private names: string[] = [];
  private readonly probe = new ServiceProbe();
  /** The strings of recent server names by their bytes (repeated names are not rebuilt). */
  private readonly nameCache = new NameCache();
  private row: string[] | null = null;

  resize(capacity: number, shared = false): void {
    if (this.inTable || this.rec.length >= capacity * REC_BYTES) return;
    this.useRecords(grownBuffer(this.rec, capacity * REC_BYTES, shared));
  }

  /** Reads records from `buf` from now on (record i at byte i · {@link REC_BYTES}): copies, or another meter's own. */
  useRecords(buf: ArrayBufferLike): void {
    this.rec = new Uint8Array(buf);
    this.bytes = new Float64Array(buf);
    this.words = new Uint32Array(buf);
    this.stride = REC_BYTES;
    this.base = 0;
    this.inTable = false;
  }

  /** The buffer holding the records (the flow table's after {@link useSlotRecords}). */
  recordsBuffer(): ArrayBufferLike {
    return this.rec.buffer;
  }

  /** Copies the record of `slot` ({@link REC_BYTES} bytes) to `out` from word `o` on. */
  writeRecord(slot: number, out: Uint32Array, o: number): void {
    const w = this.words, i = (slot * this.stride + this.base) >>> 2;
    out[o] = w[i]; out[o + 1] = w[i + 1]; out[o + 2] = w[i + 2]; out[o + 3] = w[i + 3];
  }

  /**
   * Keeps the records in the flow table's slot records from now on: `buffer` is {@link FlowTable.recordsBuffer}
   * (call again after the table grew), each slot's record at byte slot · `stride` + `offset` (the observer bytes,
   * {@link import('../../flow/table.js').OBSERVER_OFFSET}). The table's line is in cache whenever the flow is
   * touched, so the record costs no cache line of its own. Call before the first flow, or with a grown copy of the
   * same buffer.
   */
  useSlotRecords(buffer: ArrayBufferLike, stride: number, offset: number): void {
    if (REC_BYTES > OBSERVER_BYTES || offset % 8 !== 0 || stride % 8 !== 0) throw new Error('service record does not fit the slot records');
    this.rec = new Uint8Array(buffer);
    this.bytes = new Float64Array(buffer);
    this.words = new Uint32Array(buffer);
    this.stride = stride;
    this.base = offset;
    this.inTable = true;
  }

  onInit(slot: number, pkt: DecodedPacket): void {
    const r = this.rec, o = slot * this.stride + this.base;
    if ((r[o + R_ST] & HAS_NAME) !== 0) this.names[slot] = ''; // a name left by a flow never exported
    r[o + R_SVC] = 0;
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
          this.setName(slot, this.nameCache.text(d, span[0], span[1], false));
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
          const name = this.nameCache.text(d, p.nameStart, p.nameLen, p.nameKind === NameKind.DNS);
          next = DONE;
          if (name !== '') {
            this.setName(slot, name);
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

  /** Stores the server name of `slot` (the caller sets HAS_NAME), growing {@link names} up to the slot. */
  private setName(slot: number, name: string): void {
    const names = this.names;
    while (names.length <= slot) names.push('');
    names[slot] = name;
  }

  onExpire(slot: number, table: FlowTable, out: string[], pos: Int32Array): void {
    this.onExpireRecord(slot, out, pos);
    this.onExpireRest(slot, table, out, pos);
  }

  /** Writes `service` and `service_source` (columns 0 and 1) of `slot` from its record alone. */
  onExpireRecord(slot: number, out: string[], pos: Int32Array): void {
    const r = this.rec, o = slot * this.stride + this.base;
    let s = r[o + R_SVC], source = 'payload';
    if (s === Svc.NONE) {
      s = r[o + R_PORT];
      source = 'port';
    }
    out[pos[0]] = SERVICE_NAMES[s];
    out[pos[1]] = s === Svc.NONE ? '' : source;
  }

  /** Writes `server_name` (column 2) of `slot`, which the meter keeps, and forgets it. */
  onExpireRest(slot: number, _table: FlowTable, out: string[], pos: Int32Array): void {
    if (this.row !== out) {
      this.row = out;
      OWNERS.set(out, this);
    }
    const r = this.rec, o = slot * this.stride + this.base;
    const st = r[o + R_ST];
    if ((st & HAS_NAME) !== 0) {
      out[pos[2]] = this.names[slot];
      this.names[slot] = '';
      r[o + R_ST] = st & ~HAS_NAME;
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

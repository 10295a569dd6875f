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
 * Per-flow state: 4 bytes of typed arrays (service, status bits, payload packets seen per direction), the
 * flow's frame bytes (8 bytes), and a string only for flows that produced a server name (a sparse map).
 * Once a flow is decided or past its inspection window, a packet costs one addition and one test.
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTable } from '../../flow/table.js';
import type { TextColumnDef, TextFamily } from '../family.js';
import { growArray } from '../family.js';
import type { FinishedFlow } from '../meter.js';
import { nameText } from '../service/bytes.js';
import { classify, NameKind, ServiceProbe } from '../service/classify.js';
import { dnsNameText } from '../service/dns.js';
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
/** The slot has an entry in the names map (so flows without a name never touch the map). */
const HAS_NAME = 0x10;
/** Low bits: the parsers' hints (see signatures.ts `Hint`). */
const HINT_MASK = 0x0f;

/** The family that last exported a flow into a given text row (see {@link flowFrameBytes}). */
const OWNERS = new WeakMap<string[], ServiceFamily>();

/** Service classification per flow (see the module comment). */
export class ServiceFamily implements TextFamily {
  readonly name = 'service';
  readonly columns = SERVICE_COLUMNS;
  private svc = new Uint8Array(0);
  private st = new Uint8Array(0);
  /** Payload packets inspected, 2 per slot (forward, backward). */
  private seen = new Uint8Array(0);
  private bytes = new Float64Array(0);
  private readonly names = new Map<number, string>();
  private readonly probe = new ServiceProbe();
  private row: string[] | null = null;

  resize(capacity: number): void {
    this.svc = growArray(this.svc, capacity, Uint8Array);
    this.st = growArray(this.st, capacity, Uint8Array);
    this.seen = growArray(this.seen, capacity * 2, Uint8Array);
    this.bytes = growArray(this.bytes, capacity, Float64Array);
  }

  onInit(slot: number, pkt: DecodedPacket): void {
    if ((this.st[slot] & HAS_NAME) !== 0) this.names.delete(slot); // a name left by a flow never exported
    this.svc[slot] = 0;
    this.st[slot] = pkt.protocol === 6 || pkt.protocol === 17 ? 0 : DONE;
    this.seen[slot * 2] = 0;
    this.seen[slot * 2 + 1] = 0;
    this.bytes[slot] = 0;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    this.bytes[slot] += pkt.frameLen;
    const st = this.st[slot];
    if ((st & DONE) !== 0) return;
    const n = pkt.capturedPayloadLen;
    if (n <= 0 || pkt.fragOffset !== 0) return;
    const k = slot * 2 + dir, seen = this.seen;
    if (seen[k] >= INSPECT_PACKETS) return;
    const first = seen[slot * 2] + seen[slot * 2 + 1] === 0;
    seen[k]++;
    const d = pkt.data, o = pkt.dataOffset + pkt.payloadOffset;
    if (o + n > d.length) return; // packets not built by the decoder carry no bytes
    let next = st;
    if (this.svc[slot] !== Svc.NONE) {
      // Decided: only an HTTP Host header split into a later segment is still wanted.
      const want = dir === 0 ? WANT_HOST_FWD : WANT_HOST_BWD;
      if ((st & want) !== 0) {
        const span = this.probe.span;
        if (findHost(d, o, n, true, span)) {
          this.names.set(slot, nameText(d, span[0], span[1]));
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
        this.svc[slot] = p.svc;
        if (p.nameKind !== NameKind.NONE) {
          const name = p.nameKind === NameKind.DNS ? dnsNameText(d, p.nameStart, p.nameLen) : nameText(d, p.nameStart, p.nameLen);
          next = DONE;
          if (name !== '') {
            this.names.set(slot, name);
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
    if (seen[slot * 2] >= INSPECT_PACKETS && seen[slot * 2 + 1] >= INSPECT_PACKETS) next |= DONE;
    this.st[slot] = next;
  }

  onExpire(slot: number, table: FlowTable, out: string[], pos: Int32Array): void {
    if (this.row !== out) {
      this.row = out;
      OWNERS.set(out, this);
    }
    let s = this.svc[slot], source = 'payload';
    if (s === Svc.NONE) {
      s = portService(table.protocol[slot], table.srcPort[slot], table.dstPort[slot]);
      source = 'port';
    }
    out[pos[0]] = SERVICE_NAMES[s];
    out[pos[1]] = s === Svc.NONE ? '' : source;
    const st = this.st[slot];
    if ((st & HAS_NAME) !== 0) {
      out[pos[2]] = this.names.get(slot) ?? '';
      this.names.delete(slot);
      this.st[slot] = st & ~HAS_NAME;
    } else {
      out[pos[2]] = '';
    }
  }

  /** Sum of the frame (wire) lengths of the flow's packets in `slot`, bytes (nfstream's bidirectional_bytes). */
  frameBytes(slot: number): number {
    return this.bytes[slot];
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

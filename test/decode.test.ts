/**
 * Decode stage on hand-built packets: every link type, IPv4/IPv6 (options, fragments, extension chains), TCP,
 * UDP, ICMP, ICMPv6, SCTP, every tunnel type, and a truncation sweep proving that the decoder never throws and
 * never reads beyond the captured length. Packets are written with DataView, field by field.
 */
import { describe, expect, it } from 'vitest';
import type { CapturedPacket } from '../src/capture/types.js';
import { Decoder, DecodedPacket, IpProto, TcpFlag, Tunnel, type DecoderOptions } from '../src/decode/index.js';
import { describeShared, sharedPath } from './helpers/shared.js';

// ---------------------------------------------------------------------------------------------------------------
// Packet builders

type Part = Uint8Array | number[];

function cat(...parts: Part[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const b = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    b.set(p, o);
    o += p.length;
  }
  return b;
}

function buf(n: number): [Uint8Array, DataView] {
  const b = new Uint8Array(n);
  return [b, new DataView(b.buffer)];
}

function ip4addr(s: string): number {
  return s.split('.').reduce((a, x) => a * 256 + Number(x), 0);
}

/** IPv6 text → 8 16-bit groups (supports one `::`). */
function ip6groups(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':').map((x) => parseInt(x, 16)) : [];
  return [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
}

function ip6words(s: string): number[] {
  const g = ip6groups(s);
  return [0, 1, 2, 3].map((i) => ((g[2 * i]! << 16) | g[2 * i + 1]!) >>> 0);
}

interface V4 {
  src?: string;
  dst?: string;
  proto: number;
  ttl?: number;
  tos?: number;
  id?: number;
  /** Flag bits of the fragment word (DF 0x4000, MF 0x2000). */
  flags?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragOff?: number;
  options?: number[];
  totalLen?: number;
}

function ipv4(o: V4, payload: Part): Uint8Array {
  const opt = o.options ?? [];
  const hl = 20 + opt.length;
  const [b, v] = buf(hl + payload.length);
  v.setUint8(0, 0x40 | (hl >> 2));
  v.setUint8(1, o.tos ?? 0);
  v.setUint16(2, o.totalLen ?? hl + payload.length);
  v.setUint16(4, o.id ?? 0x1234);
  v.setUint16(6, (o.flags ?? 0) | ((o.fragOff ?? 0) >> 3));
  v.setUint8(8, o.ttl ?? 64);
  v.setUint8(9, o.proto);
  v.setUint32(12, ip4addr(o.src ?? '10.0.0.1'));
  v.setUint32(16, ip4addr(o.dst ?? '10.0.0.2'));
  b.set(opt, 20);
  b.set(payload, hl);
  return b;
}

interface V6 {
  src?: string;
  dst?: string;
  nh: number;
  hlim?: number;
  tc?: number;
  plen?: number;
}

function ipv6(o: V6, payload: Part): Uint8Array {
  const [b, v] = buf(40 + payload.length);
  v.setUint32(0, (0x60000000 | ((o.tc ?? 0) << 20) | 0x12345) >>> 0);
  v.setUint16(4, o.plen ?? payload.length);
  v.setUint8(6, o.nh);
  v.setUint8(7, o.hlim ?? 64);
  ip6groups(o.src ?? '2001:db8::1').forEach((g, i) => v.setUint16(8 + 2 * i, g));
  ip6groups(o.dst ?? '2001:db8::2').forEach((g, i) => v.setUint16(24 + 2 * i, g));
  b.set(payload, 40);
  return b;
}

/** Generic IPv6 extension header (hop-by-hop, routing, destination options, mobility): (hdrExtLen + 1) × 8 bytes. */
function ext6(nh: number, hdrExtLen = 0): Uint8Array {
  const [b, v] = buf((hdrExtLen + 1) * 8);
  v.setUint8(0, nh);
  v.setUint8(1, hdrExtLen);
  if (b.length >= 8) {
    v.setUint8(2, 1); // PadN option filling the rest
    v.setUint8(3, b.length - 4);
  }
  return b;
}

function frag6(nh: number, offsetBytes: number, more: boolean, id: number): Uint8Array {
  const [b, v] = buf(8);
  v.setUint8(0, nh);
  v.setUint16(2, offsetBytes | (more ? 1 : 0));
  v.setUint32(4, id);
  return b;
}

function ah(nh: number, payloadLenField = 4): Uint8Array {
  const [b, v] = buf((payloadLenField + 2) * 4);
  v.setUint8(0, nh);
  v.setUint8(1, payloadLenField);
  v.setUint32(4, 0x100); // SPI
  return b;
}

interface Tcp {
  sp: number;
  dp: number;
  seq?: number;
  ack?: number;
  flags?: number;
  win?: number;
  options?: number[];
}

function tcp(o: Tcp, payload: Part = []): Uint8Array {
  const opt = o.options ?? [];
  const hl = 20 + opt.length;
  const [b, v] = buf(hl + payload.length);
  v.setUint16(0, o.sp);
  v.setUint16(2, o.dp);
  v.setUint32(4, o.seq ?? 1000);
  v.setUint32(8, o.ack ?? 0);
  v.setUint8(12, (hl >> 2) << 4);
  v.setUint8(13, o.flags ?? TcpFlag.ACK);
  v.setUint16(14, o.win ?? 512);
  b.set(opt, 20);
  b.set(payload, hl);
  return b;
}

function udp(sp: number, dp: number, payload: Part = []): Uint8Array {
  const [b, v] = buf(8 + payload.length);
  v.setUint16(0, sp);
  v.setUint16(2, dp);
  v.setUint16(4, 8 + payload.length);
  b.set(payload, 8);
  return b;
}

function icmp(type: number, code: number, payload: Part = []): Uint8Array {
  const [b, v] = buf(8 + payload.length);
  v.setUint8(0, type);
  v.setUint8(1, code);
  v.setUint16(4, 0x77); // identifier
  v.setUint16(6, 1); // sequence
  b.set(payload, 8);
  return b;
}

function sctp(sp: number, dp: number, payload: Part = []): Uint8Array {
  const [b, v] = buf(12 + payload.length);
  v.setUint16(0, sp);
  v.setUint16(2, dp);
  v.setUint32(4, 0xdeadbeef);
  b.set(payload, 12);
  return b;
}

const MAC_A = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const MAC_B = [0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb];

/** Ethernet II frame; `tags` are [TPID, TCI] pairs inserted after the source MAC, outermost first. */
function eth(type: number, payload: Part, tags: [number, number][] = []): Uint8Array {
  const [b, v] = buf(14 + 4 * tags.length + payload.length);
  b.set(MAC_A, 0);
  b.set(MAC_B, 6);
  let o = 12;
  for (const [tpid, tci] of tags) {
    v.setUint16(o, tpid);
    v.setUint16(o + 2, tci);
    o += 4;
  }
  v.setUint16(o, type);
  b.set(payload, o + 2);
  return b;
}

function be16(x: number): number[] {
  return [(x >> 8) & 255, x & 255];
}

function payload(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255;
  return b;
}

/** A CapturedPacket holding `bytes` at `offset` in a larger buffer. */
function capture(linkType: number, bytes: Uint8Array, o: Partial<CapturedPacket> & { pad?: number } = {}): CapturedPacket {
  const offset = o.offset ?? 5;
  const data = new Uint8Array(offset + bytes.length + 16).fill(o.pad ?? 0xee);
  data.set(bytes, offset);
  return {
    data,
    offset,
    capLen: o.capLen ?? bytes.length,
    origLen: o.origLen ?? bytes.length,
    tsSec: o.tsSec ?? 1_700_000_000,
    tsNsec: o.tsNsec ?? 123_456_789,
    linkType,
    interfaceId: o.interfaceId ?? 0,
    recordOffset: 0,
  };
}

function decode(linkType: number, bytes: Uint8Array, opts: DecoderOptions = {}, cap: Partial<CapturedPacket> = {}) {
  const d = new Decoder(opts);
  const out = new DecodedPacket();
  const ok = d.decode(capture(linkType, bytes, cap), out);
  return { ok, out, d };
}

/** Every decoded field of a DecodedPacket as a plain object (typed arrays copied; the byte view left out). */
function snap(ok: boolean, out: DecodedPacket): Record<string, unknown> {
  const o: Record<string, unknown> = { ok };
  for (const [k, v] of Object.entries(out)) {
    if (k === 'data' || k === 'dataOffset') continue;
    o[k] = v instanceof Uint32Array ? Array.from(v) : v;
  }
  return o;
}

const ETH = 1;
const TCP_OPTS = [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]; // MSS, SACK-perm, TS, NOP, WS

// ---------------------------------------------------------------------------------------------------------------

describe('Decoder: Ethernet, IPv4, TCP', () => {
  it('decodes every field of an Ethernet/IPv4/TCP packet with options', () => {
    const seg = tcp({ sp: 43210, dp: 443, seq: 0xfffffff0, ack: 0x80000001, flags: TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR, win: 64240, options: TCP_OPTS }, payload(11));
    const frame = eth(0x0800, ipv4({ src: '192.168.1.10', dst: '93.184.216.34', proto: IpProto.TCP, ttl: 63, tos: 0xb8, id: 0xabcd, flags: 0x4000 }, seg));
    const { ok, out, d } = decode(ETH, frame, {}, { origLen: frame.length + 4 });
    expect(ok).toBe(true);
    expect(out.tsSec).toBe(1_700_000_000);
    expect(out.tsNsec).toBe(123_456_789);
    expect(out.tsUs).toBe(1_700_000_000_123_456);
    expect(out.tsSubUsNs).toBe(789);
    expect(out.frameLen).toBe(frame.length + 4);
    expect(out.capLen).toBe(frame.length);
    expect(out.linkType).toBe(1);
    expect(out.etherType).toBe(0x0800);
    expect(out.ipVersion).toBe(4);
    expect(Array.from(out.src)).toEqual([0, 0, 0, ip4addr('192.168.1.10')]);
    expect(Array.from(out.dst)).toEqual([0, 0, 0, ip4addr('93.184.216.34')]);
    expect(out.protocol).toBe(IpProto.TCP);
    expect(out.ttl).toBe(63);
    expect(out.ipTos).toBe(0xb8);
    expect(out.ipId).toBe(0xabcd);
    expect(out.dontFragment).toBe(true);
    expect(out.isFragment).toBe(false);
    expect(out.l3Offset).toBe(14);
    expect(out.ipHeaderLen).toBe(20);
    expect(out.ipTotalLen).toBe(20 + 40 + 11);
    expect(out.srcPort).toBe(43210);
    expect(out.dstPort).toBe(443);
    expect(out.tcpSeq).toBe(0xfffffff0);
    expect(out.tcpAck).toBe(0x80000001);
    expect(out.tcpFlags).toBe(TcpFlag.SYN | TcpFlag.ECE | TcpFlag.CWR);
    expect(out.tcpWindow).toBe(64240);
    expect(out.l4Offset).toBe(34);
    expect(out.l4HeaderLen).toBe(40);
    expect(out.payloadOffset).toBe(74);
    expect(out.payloadLen).toBe(11);
    expect(out.capturedPayloadLen).toBe(11);
    expect(out.icmpType).toBe(-1);
    expect(out.vlanId).toBe(0);
    expect(out.tunnel).toBe(Tunnel.NONE);
    expect(out.truncated).toBe(false);
    expect(d.packets).toBe(1);
    expect(d.ipv4).toBe(1);
  });

  it('ignores Ethernet padding and a captured FCS (payload from the IP length)', () => {
    const frame = cat(eth(0x0800, ipv4({ proto: IpProto.TCP }, tcp({ sp: 1, dp: 2 }))), new Array(6 + 4).fill(0));
    const { out } = decode(ETH, frame);
    expect(out.payloadLen).toBe(0);
    expect(out.capturedPayloadLen).toBe(0);
  });

  it('counts snaplen-cut payload in capturedPayloadLen only', () => {
    const frame = eth(0x0800, ipv4({ proto: IpProto.UDP }, udp(53, 5353, payload(300))));
    const { ok, out } = decode(ETH, frame, {}, { capLen: 100 });
    expect(ok).toBe(true);
    expect(out.truncated).toBe(false);
    expect(out.payloadLen).toBe(300);
    expect(out.capturedPayloadLen).toBe(100 - 42);
    expect(out.capLen).toBe(100);
  });

  it('IPv4 options: IHL > 5', () => {
    const opts = [0x94, 0x04, 0, 0, 0x01, 0x01, 0x01, 0x00]; // router alert, NOP, NOP, NOP, EOL
    const { out } = decode(ETH, eth(0x0800, ipv4({ proto: IpProto.UDP, options: opts }, udp(1000, 2000, payload(5)))));
    expect(out.ipHeaderLen).toBe(28);
    expect(out.l4Offset).toBe(14 + 28);
    expect([out.srcPort, out.dstPort, out.payloadLen]).toEqual([1000, 2000, 5]);
  });

  it('IPv4 fragments: first carries the ports, later ones none; counted, not reassembled', () => {
    const d = new Decoder();
    const out = new DecodedPacket();
    const first = eth(0x0800, ipv4({ proto: IpProto.UDP, flags: 0x2000, id: 77 }, udp(5000, 53, payload(24)).subarray(0, 16)));
    expect(d.decode(capture(ETH, first), out)).toBe(true);
    expect([out.isFragment, out.moreFragments, out.fragOffset, out.ipId]).toEqual([true, true, 0, 77]);
    expect([out.srcPort, out.dstPort, out.l4HeaderLen]).toEqual([5000, 53, 8]);
    const second = eth(0x0800, ipv4({ proto: IpProto.UDP, fragOff: 16, id: 77 }, payload(16)));
    expect(d.decode(capture(ETH, second), out)).toBe(true);
    expect([out.isFragment, out.moreFragments, out.fragOffset]).toEqual([true, false, 16]);
    expect([out.srcPort, out.dstPort, out.l4HeaderLen, out.payloadLen, out.protocol]).toEqual([0, 0, 0, 16, IpProto.UDP]);
    expect(out.payloadOffset).toBe(34);
    expect(d.fragments).toBe(2);
  });

  it('IPv4 total length 0 (TSO capture) falls back to the frame length', () => {
    const seg = tcp({ sp: 80, dp: 5555 }, payload(3000));
    const { ok, out } = decode(ETH, eth(0x0800, ipv4({ proto: IpProto.TCP, totalLen: 0 }, seg)));
    expect(ok).toBe(true);
    expect(out.ipTotalLen).toBe(20 + 20 + 3000);
    expect(out.payloadLen).toBe(3000);
  });

  it('IPv4 total length beyond the frame is clamped to the frame; below the header is malformed', () => {
    const frame = eth(0x0800, ipv4({ proto: IpProto.TCP, totalLen: 4000 }, tcp({ sp: 1, dp: 2 }, payload(10))));
    const { out } = decode(ETH, frame);
    expect(out.ipTotalLen).toBe(4000);
    expect(out.payloadLen).toBe(10);
    const bad = decode(ETH, eth(0x0800, ipv4({ proto: IpProto.TCP, totalLen: 12 }, tcp({ sp: 1, dp: 2 }))));
    expect(bad.ok).toBe(false);
    expect(bad.d.badHeader).toBe(1);
    const ihl = eth(0x0800, ipv4({ proto: IpProto.TCP }, tcp({ sp: 1, dp: 2 })));
    ihl[14] = 0x44;
    expect(decode(ETH, ihl).ok).toBe(false);
    const ver = eth(0x0800, ipv4({ proto: IpProto.TCP }, tcp({ sp: 1, dp: 2 })));
    ver[14] = 0x65; // EtherType IPv4 but version 6
    expect(decode(ETH, ver).ok).toBe(false);
  });

  it('TCP data offset < 5 is malformed but decoded', () => {
    const seg = tcp({ sp: 1, dp: 2 }, payload(8));
    seg[12] = 0x30;
    const { ok, out, d } = decode(ETH, eth(0x0800, ipv4({ proto: IpProto.TCP }, seg)));
    expect(ok).toBe(true);
    expect(out.l4HeaderLen).toBe(12);
    expect(d.badHeader).toBe(1);
  });

  it('UDP, ICMP echo, SCTP and other protocols', () => {
    let r = decode(ETH, eth(0x0800, ipv4({ proto: IpProto.UDP }, udp(68, 67, payload(300)))));
    expect([r.out.srcPort, r.out.dstPort, r.out.l4HeaderLen, r.out.payloadLen, r.out.icmpType]).toEqual([68, 67, 8, 300, -1]);
    r = decode(ETH, eth(0x0800, ipv4({ proto: IpProto.ICMP }, icmp(8, 0, payload(56)))));
    expect([r.out.srcPort, r.out.dstPort, r.out.icmpType, r.out.icmpCode, r.out.l4HeaderLen, r.out.payloadLen]).toEqual([0, 0, 8, 0, 8, 56]);
    r = decode(ETH, eth(0x0800, ipv4({ proto: IpProto.ICMP }, icmp(3, 3, ipv4({ proto: IpProto.UDP }, udp(1, 2))))));
    expect([r.out.srcPort, r.out.icmpType, r.out.icmpCode]).toEqual([0, 3, 3]);
    r = decode(ETH, eth(0x0800, ipv4({ proto: IpProto.SCTP }, sctp(2905, 2906, payload(16)))));
    expect([r.out.srcPort, r.out.dstPort, r.out.l4HeaderLen, r.out.payloadLen]).toEqual([2905, 2906, 12, 16]);
    r = decode(ETH, eth(0x0800, ipv4({ proto: 89 }, payload(44)))); // OSPF
    expect([r.out.protocol, r.out.srcPort, r.out.l4HeaderLen, r.out.payloadLen, r.out.icmpType]).toEqual([89, 0, 0, 44, -1]);
  });

  it('resets every field between packets (IP then ARP)', () => {
    const d = new Decoder();
    const out = new DecodedPacket();
    d.decode(capture(ETH, eth(0x0800, ipv4({ proto: IpProto.TCP }, tcp({ sp: 1, dp: 2 }, payload(4))))), out);
    const arp = eth(0x0806, new Array(28).fill(1));
    expect(d.decode(capture(ETH, arp), out)).toBe(false);
    const fresh = new DecodedPacket();
    d.decode(capture(ETH, arp), fresh);
    expect(snap(false, out)).toEqual(snap(false, fresh));
    expect(out.etherType).toBe(0x0806);
    expect(out.ipVersion).toBe(0);
    expect(Array.from(out.src)).toEqual([0, 0, 0, 0]);
    expect(d.nonIp).toBe(2);
  });
});

describe('Decoder: link layers', () => {
  const inner4 = ipv4({ proto: IpProto.UDP, src: '1.2.3.4', dst: '5.6.7.8' }, udp(1111, 2222, payload(7)));
  const inner6 = ipv6({ nh: IpProto.TCP }, tcp({ sp: 3333, dp: 80 }, payload(9)));
  const expect4 = (r: { ok: boolean; out: DecodedPacket }, l3: number) => {
    expect(r.ok).toBe(true);
    expect(r.out.ipVersion).toBe(4);
    expect(r.out.l3Offset).toBe(l3);
    expect([r.out.src[3], r.out.dst[3], r.out.srcPort, r.out.dstPort, r.out.payloadLen]).toEqual([ip4addr('1.2.3.4'), ip4addr('5.6.7.8'), 1111, 2222, 7]);
  };
  const expect6 = (r: { ok: boolean; out: DecodedPacket }, l3: number) => {
    expect(r.ok).toBe(true);
    expect(r.out.ipVersion).toBe(6);
    expect(r.out.l3Offset).toBe(l3);
    expect(Array.from(r.out.src)).toEqual(ip6words('2001:db8::1'));
    expect([r.out.srcPort, r.out.dstPort, r.out.payloadLen]).toEqual([3333, 80, 9]);
  };

  it('802.1Q, 802.1ad QinQ and several tags: vlanId is the outer tag', () => {
    expect4(decode(ETH, eth(0x0800, inner4, [[0x8100, 0x2064]])), 18); // PCP 1, VID 100
    const q = decode(ETH, eth(0x0800, inner4, [[0x8100, 0x2064]]));
    expect(q.out.vlanId).toBe(100);
    const qinq = decode(ETH, eth(0x86dd, inner6, [[0x88a8, 0x0fff], [0x8100, 0x0002]]));
    expect6(qinq, 22);
    expect(qinq.out.vlanId).toBe(4095);
    const three = decode(ETH, eth(0x0800, inner4, [[0x9100, 7], [0x88a8, 8], [0x8100, 9]]));
    expect4(three, 26);
    expect(three.out.vlanId).toBe(7);
  });

  it('802.3/LLC frames are non-IP; RFC 1042 SNAP carrying IP is decoded', () => {
    const stp = cat(MAC_A, MAC_B, be16(38), [0x42, 0x42, 0x03], new Array(35).fill(0));
    const r = decode(ETH, stp);
    expect(r.ok).toBe(false);
    expect(r.d.nonIp).toBe(1);
    expect(r.out.etherType).toBe(0);
    const snapIp = cat(MAC_A, MAC_B, be16(8 + inner4.length), [0xaa, 0xaa, 0x03, 0, 0, 0], be16(0x0800), inner4);
    expect4(decode(ETH, snapIp), 22);
  });

  it('ARP, LLDP and unknown EtherTypes are non-IP', () => {
    for (const t of [0x0806, 0x88cc, 0x8863, 0x88e5]) {
      const r = decode(ETH, eth(t, new Array(46).fill(0)));
      expect(r.ok).toBe(false);
      expect(r.out.etherType).toBe(t);
      expect(r.d.nonIp).toBe(1);
    }
  });

  it('Linux SLL (113) and SLL2 (276)', () => {
    const sll = cat(be16(0), be16(1), be16(6), MAC_A, [0, 0], be16(0x0800), inner4);
    expect4(decode(113, sll), 16);
    const sllVlan = cat(be16(4), be16(1), be16(6), MAC_A, [0, 0], be16(0x8100), be16(42), be16(0x86dd), inner6);
    const rv = decode(113, sllVlan);
    expect6(rv, 20);
    expect(rv.out.vlanId).toBe(42);
    const sll2 = cat(be16(0x86dd), [0, 0], [0, 0, 0, 3], be16(1), [0], [6], MAC_A, [0, 0], inner6);
    expect6(decode(276, sll2), 20);
    const netlink = cat(be16(0), be16(824), be16(0), new Array(8).fill(0), be16(0x0800), inner4);
    expect(decode(113, netlink).ok).toBe(false);
  });

  it('BSD NULL (0, host order) and LOOP (108, network order)', () => {
    expect4(decode(0, cat([2, 0, 0, 0], inner4)), 4);
    expect4(decode(0, cat([0, 0, 0, 2], inner4)), 4); // written by a big-endian host
    for (const af of [24, 28, 30]) expect6(decode(0, cat([af, 0, 0, 0], inner6)), 4);
    expect(decode(0, cat([7, 0, 0, 0], inner4)).ok).toBe(false);
    expect4(decode(108, cat([0, 0, 0, 2], inner4)), 4);
    expect6(decode(108, cat([0, 0, 0, 30], inner6)), 4);
  });

  it('raw IP (101, 228, 229, 12, 14)', () => {
    for (const lt of [101, 228, 12, 14]) expect4(decode(lt, inner4), 0);
    for (const lt of [101, 229]) expect6(decode(lt, inner6), 0);
    const junk = decode(101, cat([0x20], inner4.subarray(1)));
    expect(junk.ok).toBe(false);
    expect(junk.d.badHeader).toBe(1);
  });

  it('PPP (9, 50): HDLC-like framing, protocol compression, control protocols, Cisco HDLC', () => {
    expect4(decode(9, cat([0xff, 0x03], be16(0x0021), inner4)), 4);
    expect6(decode(9, cat(be16(0x0057), inner6)), 2);
    expect4(decode(9, cat([0x21], inner4)), 1);
    expect4(decode(50, cat([0xff, 0x03], be16(0x0021), inner4)), 4);
    expect(decode(9, cat([0xff, 0x03], be16(0xc021), new Array(20).fill(0))).ok).toBe(false);
    expect4(decode(9, cat([0x0f, 0x00], be16(0x0800), inner4)), 4);
    expect4(decode(104, cat([0x8f, 0x00], be16(0x0800), inner4)), 4);
    expect(decode(104, cat([0x8f, 0x00], be16(0x8035), new Array(20).fill(0))).ok).toBe(false);
  });

  it('PPPoE session (0x8864) with PPP IPv4/IPv6; discovery is non-IP', () => {
    const pppoe = (proto: number, body: Uint8Array) => cat([0x11, 0x00], be16(0x1234), be16(body.length + 2), be16(proto), body);
    expect4(decode(ETH, eth(0x8864, pppoe(0x0021, inner4))), 22);
    expect6(decode(ETH, eth(0x8864, pppoe(0x0057, inner6), [[0x88a8, 10], [0x8100, 20]])), 30);
    expect(decode(ETH, eth(0x8864, pppoe(0xc021, payload(10)))).ok).toBe(false);
  });

  it('MPLS label stacks until bottom of stack, then IP by version nibble', () => {
    const label = (l: number, bos: boolean) => [(l >> 12) & 255, (l >> 4) & 255, ((l & 15) << 4) | (bos ? 1 : 0), 64];
    expect4(decode(ETH, eth(0x8847, cat(label(100, false), label(200, false), label(300, true), inner4))), 26);
    expect6(decode(ETH, eth(0x8848, cat(label(16, true), inner6), [[0x8100, 5]])), 22);
    const pw = decode(ETH, eth(0x8847, cat(label(100, true), [0, 0, 0, 0], eth(0x0800, inner4))));
    expect(pw.ok).toBe(false);
    const endless = decode(ETH, eth(0x8847, cat(...new Array(40).fill(label(1, false)), inner4)));
    expect(endless.ok).toBe(false);
  });

  it('Cisco FabricPath, VN-Tag and 802.1ah PBB headers', () => {
    const fp = cat(MAC_A, MAC_B, be16(0x8903), [0x40, 0x20], MAC_B, MAC_A, be16(0x8100), be16(7), be16(0x0800), inner4);
    const r = decode(ETH, fp);
    expect4(r, 34);
    expect(r.out.vlanId).toBe(7);
    expect4(decode(ETH, eth(0x8926, cat([0x80, 0x01, 0x00, 0x02], be16(0x0800), inner4))), 20);
    expect4(decode(ETH, eth(0x88e7, cat([0, 0, 0, 1], MAC_A, MAC_B, be16(0x0800), inner4))), 32);
  });

  const llcIp = cat([0xaa, 0xaa, 0x03, 0, 0, 0], be16(0x0800), inner4);
  const wifiData = (fc0: number, fc1: number, qos = false) =>
    cat([fc0, fc1, 0, 0], MAC_A, MAC_B, MAC_A, [0, 0], (fc1 & 3) === 3 ? MAC_B : [], qos ? [0, 0] : []);
  const radiotap = (flags: number) => {
    const [b, v] = buf(8 + 8 + 1 + 1 + 2);
    v.setUint16(2, b.length, true);
    v.setUint32(4, 0x00000003 | 0x4, true); // TSFT, Flags, Rate
    v.setUint8(16, flags);
    return b;
  };

  it('802.11 radiotap (127) and plain 802.11 (105): data frames with LLC/SNAP', () => {
    expect4(decode(127, cat(radiotap(0), wifiData(0x08, 0x01), llcIp)), 20 + 24 + 8);
    expect4(decode(127, cat(radiotap(0x10), wifiData(0x88, 0x03, true), llcIp)), 20 + 32 + 8); // QoS, 4 addresses
    expect4(decode(105, cat(wifiData(0x08, 0x02), llcIp)), 24 + 8);
  });

  it('802.11 management, null, protected and bad-FCS frames are not IP', () => {
    const beacon = decode(127, cat(radiotap(0), [0x80, 0x00, 0, 0], MAC_A, MAC_B, MAC_A, [0, 0], new Array(40).fill(0)));
    expect(beacon.ok).toBe(false);
    expect(beacon.d.nonIp).toBe(1);
    expect(decode(127, cat(radiotap(0), wifiData(0x48, 0x01), new Array(20).fill(0))).ok).toBe(false);
    expect(decode(127, cat(radiotap(0), wifiData(0x08, 0x41), llcIp)).ok).toBe(false);
    const badFcs = decode(127, cat(radiotap(0x40), wifiData(0x08, 0x01), llcIp));
    expect(badFcs.ok).toBe(false);
    expect(badFcs.d.badHeader).toBe(1);
  });

  it('NFLOG (239): the payload TLV', () => {
    const tlv = (type: number, value: Uint8Array) => {
      const len = 4 + value.length;
      const b = new Uint8Array((len + 3) & ~3);
      new DataView(b.buffer).setUint16(0, len, true);
      new DataView(b.buffer).setUint16(2, type, true);
      b.set(value, 4);
      return b;
    };
    const nflog = cat([2, 0, 0, 0], tlv(1, new Uint8Array(4)), tlv(10, new Uint8Array(5)), tlv(9, inner4));
    expect4(decode(239, nflog), 4 + 8 + 12 + 4);
  });

  it('unknown link types are counted and each is remembered once', () => {
    const d = new Decoder();
    const out = new DecodedPacket();
    for (let i = 0; i < 3; i++) expect(d.decode(capture(147, inner4), out)).toBe(false);
    d.decode(capture(148, inner4), out);
    expect(d.unknownLinkType).toBe(4);
    expect([...d.unknownLinkTypes]).toEqual([147, 148]);
    expect(d.counters().unknownLinkTypes).toEqual([147, 148]);
  });
});

describe('Decoder: IPv6', () => {
  it('hop-by-hop + fragment header (first fragment) + UDP', () => {
    const body = cat(ext6(44, 0), frag6(IpProto.UDP, 0, true, 0xcafe0001), udp(546, 547, payload(20)));
    const { ok, out, d } = decode(ETH, eth(0x86dd, ipv6({ nh: 0, tc: 0xa1, hlim: 255 }, body)));
    expect(ok).toBe(true);
    expect(out.protocol).toBe(IpProto.UDP);
    expect(out.ipHeaderLen).toBe(56);
    expect(out.ipTotalLen).toBe(40 + body.length);
    expect([out.isFragment, out.moreFragments, out.fragOffset, out.ipId]).toEqual([true, true, 0, 0xcafe0001]);
    expect([out.srcPort, out.dstPort, out.payloadLen, out.l4Offset]).toEqual([546, 547, 20, 14 + 56]);
    expect([out.ttl, out.ipTos]).toEqual([255, 0xa1]);
    expect(d.fragments).toBe(1);
  });

  it('non-first fragment: protocol from the fragment header, no ports', () => {
    const { out } = decode(ETH, eth(0x86dd, ipv6({ nh: 44 }, cat(frag6(IpProto.TCP, 1448, false, 9), payload(100)))));
    expect([out.protocol, out.srcPort, out.dstPort, out.l4HeaderLen, out.payloadLen, out.fragOffset, out.isFragment]).toEqual([IpProto.TCP, 0, 0, 0, 100, 1448, true]);
  });

  it('routing, destination options, AH, mobility; ESP and no-next-header end the chain', () => {
    let r = decode(ETH, eth(0x86dd, ipv6({ nh: 43 }, cat(ext6(60, 1), ext6(51, 0), ah(IpProto.TCP), tcp({ sp: 7, dp: 8 }, payload(3))))));
    expect([r.out.protocol, r.out.ipHeaderLen, r.out.srcPort, r.out.payloadLen]).toEqual([IpProto.TCP, 40 + 16 + 8 + 24, 7, 3]);
    r = decode(ETH, eth(0x86dd, ipv6({ nh: 135 }, cat(ext6(59, 1)))));
    expect([r.ok, r.out.protocol, r.out.payloadLen]).toEqual([true, 59, 0]);
    r = decode(ETH, eth(0x86dd, ipv6({ nh: 0 }, cat(ext6(50, 0), payload(64)))));
    expect([r.ok, r.out.protocol, r.out.srcPort, r.out.payloadLen, r.out.ipHeaderLen]).toEqual([true, 50, 0, 64, 48]);
    r = decode(ETH, eth(0x86dd, ipv6({ nh: 59 }, [])));
    expect([r.ok, r.out.protocol, r.out.payloadLen]).toEqual([true, 59, 0]);
  });

  it('ICMPv6', () => {
    const { out } = decode(ETH, eth(0x86dd, ipv6({ nh: IpProto.ICMPV6 }, icmp(128, 0, payload(32)))));
    expect([out.protocol, out.icmpType, out.icmpCode, out.srcPort, out.l4HeaderLen, out.payloadLen]).toEqual([58, 128, 0, 0, 8, 32]);
  });

  it('a crafted endless extension-header chain is bounded (no hang), flagged malformed', () => {
    const chain = cat(...new Array(5000).fill(0).map(() => ext6(60, 0)), udp(1, 2));
    // The walk stops at the bound: the transport header is never reached and the chain is flagged.
    const { ok, out, d } = decode(ETH, eth(0x86dd, ipv6({ nh: 60 }, chain)));
    expect(ok).toBe(true);
    expect(out.protocol).toBe(60);
    expect([out.srcPort, out.l4HeaderLen]).toEqual([0, 0]);
    expect(d.badHeader).toBe(1);
    // A chain whose lengths point past the payload length is malformed too.
    const over = decode(ETH, eth(0x86dd, ipv6({ nh: 0, plen: 8 }, cat(ext6(60, 3), udp(1, 2)))));
    expect(over.d.badHeader).toBe(1);
    expect(over.out.payloadLen).toBe(0);
  });

  it('payload length 0 with a hop-by-hop header (jumbogram) falls back to the frame', () => {
    const body = cat(ext6(IpProto.TCP, 0), tcp({ sp: 1, dp: 2 }, payload(100)));
    const { out } = decode(ETH, eth(0x86dd, ipv6({ nh: 0, plen: 0 }, body)));
    expect(out.ipTotalLen).toBe(40 + body.length);
    expect(out.payloadLen).toBe(100);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Tunnels

const INNER = ipv4({ src: '172.16.0.1', dst: '172.16.0.2', proto: IpProto.TCP, ttl: 7 }, tcp({ sp: 50000, dp: 8080, flags: TcpFlag.PSH | TcpFlag.ACK }, payload(13)));
const INNER6 = ipv6({ src: 'fd00::1', dst: 'fd00::2', nh: IpProto.UDP }, udp(5353, 5353, payload(21)));
const outer4 = (proto: number, body: Part) => eth(0x0800, ipv4({ src: '198.51.100.1', dst: '198.51.100.2', proto }, body));
const outerUdp = (sp: number, dp: number, body: Part) => outer4(IpProto.UDP, udp(sp, dp, body));

function gre(flagsVer: number, proto: number, extra: number[], body: Part): Uint8Array {
  return cat(be16(flagsVer), be16(proto), extra, body);
}

function expectInner(r: { ok: boolean; out: DecodedPacket }, tunnel: number, depth = 1) {
  expect(r.ok).toBe(true);
  expect(r.out.tunnel).toBe(tunnel);
  expect(r.out.tunnelDepth).toBe(depth);
  expect(r.out.ipVersion).toBe(4);
  expect([r.out.src[3], r.out.dst[3], r.out.protocol, r.out.ttl]).toEqual([ip4addr('172.16.0.1'), ip4addr('172.16.0.2'), IpProto.TCP, 7]);
  expect([r.out.srcPort, r.out.dstPort, r.out.tcpFlags, r.out.payloadLen]).toEqual([50000, 8080, TcpFlag.PSH | TcpFlag.ACK, 13]);
}

function expectInner6(r: { ok: boolean; out: DecodedPacket }, tunnel: number) {
  expect(r.ok).toBe(true);
  expect(r.out.tunnel).toBe(tunnel);
  expect(r.out.ipVersion).toBe(6);
  expect(Array.from(r.out.src)).toEqual(ip6words('fd00::1'));
  expect([r.out.protocol, r.out.srcPort, r.out.payloadLen]).toEqual([IpProto.UDP, 5353, 21]);
}

const GTP_EXT = cat([0x34, 0xff], be16(4 + 4 + INNER.length), [0, 0, 0, 1], [0, 0, 0, 0x85], [1, 0x09, 0x01, 0x00]); // E flag, PDU session container
const VXLAN = (inner: Uint8Array) => cat([0x08, 0, 0, 0], [0, 0x12, 0x34, 0], inner);
const CAPWAP_80211 = (fc: [number, number]) =>
  cat([0x00, 0x20, 0x43, 0x20], [0, 0, 0, 0], [1, 4, 0, 0], [0, 0, 0, 0], [fc[0], fc[1], 0, 0], MAC_A, MAC_B, MAC_A, [0, 0], [0xaa, 0xaa, 0x03, 0, 0, 0], be16(0x0800), INNER);
const TZSP = (inner: Uint8Array) => cat([1, 0], be16(1), [0, 10, 4, 0, 0, 0, 5], [1], inner);

/** Every tunnel sample: [name, frame, tunnel code, inner version]. */
const TUNNELS: [string, Uint8Array, number, 4 | 6][] = [
  ['IPv4 in IPv4', outer4(4, INNER), Tunnel.IPIP, 4],
  ['IPv6 in IPv4', outer4(41, INNER6), Tunnel.IP6, 6],
  ['IPv4 in IPv6', eth(0x86dd, ipv6({ nh: 4 }, INNER)), Tunnel.IPIP, 4],
  ['IPv6 in IPv6 (after a dest-opts header)', eth(0x86dd, ipv6({ nh: 60 }, cat(ext6(41, 0), INNER6))), Tunnel.IP6, 6],
  ['GRE IPv4', outer4(47, gre(0x0000, 0x0800, [], INNER)), Tunnel.GRE, 4],
  ['GRE checksum+key+seq IPv6', outer4(47, gre(0xb000, 0x86dd, [0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 9], INNER6)), Tunnel.GRE, 6],
  ['GRE transparent Ethernet bridging', outer4(47, gre(0x2000, 0x6558, [0, 0, 0, 1], eth(0x0800, INNER, [[0x8100, 33]]))), Tunnel.GRE, 4],
  ['GRE MPLS', outer4(47, gre(0, 0x8847, [], cat([0, 0x10, 0x01, 0x40], INNER))), Tunnel.GRE, 4],
  ['ERSPAN type I', outer4(47, gre(0x0000, 0x88be, [], eth(0x0800, INNER))), Tunnel.ERSPAN, 4],
  ['ERSPAN type II', outer4(47, gre(0x1000, 0x88be, [0, 0, 0, 5], cat([0x10, 0x01, 0x00, 0x64, 0, 0, 0, 0], eth(0x0800, INNER)))), Tunnel.ERSPAN, 4],
  ['ERSPAN type III + platform subheader', outer4(47, gre(0x1000, 0x22eb, [0, 0, 0, 5], cat([0x20, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0x01], new Array(8).fill(0), eth(0x86dd, INNER6)))), Tunnel.ERSPAN, 6],
  ['PPTP enhanced GRE (S, A) with PPP', outer4(47, gre(0x3081, 0x880b, [...be16(INNER.length + 4), 0, 7, 0, 0, 0, 1, 0, 0, 0, 2], cat([0xff, 0x03], be16(0x0021), INNER))), Tunnel.PPTP, 4],
  ['GTP-U with extension header', outerUdp(2152, 2152, cat(GTP_EXT, INNER)), Tunnel.GTP_U, 4],
  ['GTP-U plain, IPv6 inside', outerUdp(40000, 2152, cat([0x30, 0xff], be16(INNER6.length), [0, 0, 0, 9], INNER6)), Tunnel.GTP_U, 6],
  ['VXLAN', outerUdp(51000, 4789, VXLAN(eth(0x0800, INNER))), Tunnel.VXLAN, 4],
  ['Geneve with an option', outerUdp(51000, 6081, cat([0x01, 0x00], be16(0x6558), [0, 0, 1, 0], [0x01, 0x02, 0x80, 0x00], eth(0x86dd, INNER6))), Tunnel.GENEVE, 6],
  ['CAPWAP data, 802.11', outerUdp(5247, 12223, CAPWAP_80211([0x08, 0x01])), Tunnel.CAPWAP, 4],
  ['CAPWAP data, 802.11 with byte-swapped Frame Control (Cisco)', outerUdp(12223, 5247, CAPWAP_80211([0x01, 0x08])), Tunnel.CAPWAP, 4],
  ['CAPWAP data, 802.3', outerUdp(5247, 12223, cat([0x00, 0x10, 0x00, 0x00], [0, 0, 0, 0], eth(0x0800, INNER))), Tunnel.CAPWAP, 4],
  ['TZSP Ethernet', outerUdp(40000, 37008, TZSP(eth(0x0800, INNER))), Tunnel.TZSP, 4],
];

describe('Decoder: tunnels', () => {
  for (const [name, frame, code, v] of TUNNELS) {
    it(`${name} → inner packet`, () => {
      const r = decode(ETH, frame);
      if (v === 4) expectInner(r, code);
      else expectInner6(r, code);
      expect(r.d.tunneled).toBe(1);
      expect(r.out.l3Offset).toBeGreaterThan(14);
      // decodeTunnels: false reports the outer packet.
      const o = decode(ETH, frame, { decodeTunnels: false });
      expect(o.ok).toBe(true);
      expect([o.out.tunnel, o.out.tunnelDepth]).toEqual([0, 0]);
      expect(o.out.l3Offset).toBe(14);
    });
  }

  it('Teredo (UDP 3544) is not decoded: it stays a UDP packet', () => {
    const r = decode(ETH, outerUdp(3544, 40000, INNER6));
    expect([r.ok, r.out.tunnel, r.out.protocol, r.out.srcPort]).toEqual([true, 0, IpProto.UDP, 3544]);
  });

  it('tunnel headers that do not carry a decodable payload leave the outer packet', () => {
    const cases: Uint8Array[] = [
      outerUdp(2152, 2152, cat([0x32, 0x01], be16(4), [0, 0, 0, 0], [0, 1, 0, 0])), // GTP echo request
      outerUdp(2152, 2152, cat([0x34, 0xff], be16(8), [0, 0, 0, 1], [0, 0, 0, 0x85], [0, 0, 0, 0])), // zero-length ext header
      outerUdp(5247, 5247, cat([0x01, 0, 0, 0], payload(40))), // CAPWAP DTLS
      outerUdp(5247, 5247, cat([0x00, 0x10, 0x00, 0x08], [0, 0, 0, 0], payload(40))), // CAPWAP keep-alive
      outerUdp(1, 4789, cat([0x00, 0, 0, 0], [0, 0, 0, 0], eth(0x0800, INNER))), // VXLAN without the I flag
      outer4(47, gre(0x4000, 0x0800, [0, 0, 0, 0], INNER)), // GRE with RFC 1701 routing
      outer4(47, gre(0x0000, 0x8200, [], payload(40))), // GRE with an unknown payload type
      outer4(47, gre(0x3001, 0x880b, [...be16(10), 0, 7, 0, 0, 0, 1], cat([0x00, 0xfd], payload(10)))), // PPTP compressed PPP
    ];
    for (const f of cases) {
      const r = decode(ETH, f);
      expect(r.ok).toBe(true);
      expect(r.out.tunnel).toBe(0);
      expect(r.out.l3Offset).toBe(14);
    }
  });

  it('a tunnel carrying a non-IP frame reports no IP packet (as nfstream drops it)', () => {
    const r = decode(ETH, outerUdp(1, 4789, VXLAN(eth(0x0806, new Array(28).fill(0)))));
    expect(r.ok).toBe(false);
    expect([r.out.tunnel, r.out.etherType, r.out.ipVersion]).toEqual([Tunnel.VXLAN, 0x0806, 0]);
    expect(r.d.nonIp).toBe(1);
  });

  it('nesting is bounded: the deepest allowed level is reported', () => {
    let pkt: Uint8Array = INNER;
    for (let i = 0; i < 7; i++) pkt = ipv4({ proto: 4, src: `10.0.0.${i}` }, pkt);
    const frame = eth(0x0800, pkt);
    const r = decode(ETH, frame);
    expect([r.ok, r.out.tunnelDepth, r.out.protocol, r.out.tunnel]).toEqual([true, 4, 4, Tunnel.IPIP]);
    expect(r.d.tunnelTooDeep).toBe(1);
    expect(r.d.tunneled).toBe(1);
    expectInner(decode(ETH, frame, { maxTunnelDepth: 7 }), Tunnel.IPIP, 7);
    // Mixed nesting: IPv4 in GRE in VXLAN; the outermost tunnel is reported.
    const mixed = outerUdp(1, 4789, VXLAN(eth(0x0800, ipv4({ proto: 47 }, gre(0, 0x0800, [], INNER)))));
    expectInner(decode(ETH, mixed), Tunnel.VXLAN, 2);
  });

  it('fragmented outer packets: only a first fragment is decapsulated', () => {
    const later = eth(0x0800, ipv4({ proto: 4, fragOff: 8 }, INNER));
    const r = decode(ETH, later);
    expect([r.ok, r.out.tunnel, r.out.protocol]).toEqual([true, 0, 4]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Truncation sweep

const SAMPLES: [string, number, Uint8Array][] = [
  ['Ethernet/QinQ/IPv4 options/TCP options', ETH, eth(0x0800, ipv4({ proto: IpProto.TCP, options: [1, 1, 1, 0] }, tcp({ sp: 1, dp: 2, options: TCP_OPTS }, payload(5))), [[0x88a8, 1], [0x8100, 2]])],
  ['Ethernet/IPv4 fragment', ETH, eth(0x0800, ipv4({ proto: IpProto.UDP, fragOff: 64 }, payload(20)))],
  ['Ethernet/IPv6 hop-by-hop/fragment/UDP', ETH, eth(0x86dd, ipv6({ nh: 0 }, cat(ext6(44, 1), frag6(IpProto.UDP, 0, true, 1), udp(1, 2, payload(4)))))],
  ['Ethernet/IPv6 AH/ICMPv6', ETH, eth(0x86dd, ipv6({ nh: 51 }, cat(ah(IpProto.ICMPV6), icmp(129, 0, payload(4)))))],
  ['Ethernet/IPv4/ICMP', ETH, eth(0x0800, ipv4({ proto: IpProto.ICMP }, icmp(0, 0, payload(4))))],
  ['Ethernet/IPv4/SCTP', ETH, eth(0x0800, ipv4({ proto: IpProto.SCTP }, sctp(1, 2, payload(4))))],
  ['SLL/IPv4/UDP', 113, cat(be16(0), be16(1), be16(6), MAC_A, [0, 0], be16(0x0800), ipv4({ proto: IpProto.UDP }, udp(1, 2, payload(3))))],
  ['SLL2/IPv6/TCP', 276, cat(be16(0x86dd), [0, 0], [0, 0, 0, 3], be16(1), [0], [6], MAC_A, [0, 0], ipv6({ nh: IpProto.TCP }, tcp({ sp: 1, dp: 2 })))],
  ['NULL/IPv6', 0, cat([30, 0, 0, 0], ipv6({ nh: IpProto.UDP }, udp(1, 2)))],
  ['raw/IPv4', 101, ipv4({ proto: IpProto.TCP }, tcp({ sp: 1, dp: 2 }))],
  ['PPP/IPv4', 9, cat([0xff, 0x03], be16(0x0021), ipv4({ proto: IpProto.UDP }, udp(1, 2)))],
  ['PPPoE/IPv6', ETH, eth(0x8864, cat([0x11, 0], be16(1), be16(62), be16(0x0057), ipv6({ nh: IpProto.UDP }, udp(1, 2, payload(6)))))],
  ['MPLS/IPv4', ETH, eth(0x8847, cat([0, 0x10, 0x00, 0x40], [0, 0x20, 0x01, 0x40], ipv4({ proto: IpProto.UDP }, udp(1, 2))))],
  ['radiotap/802.11 QoS/IPv4', 127, cat([0, 0], [20, 0], [0x07, 0, 0, 0], new Array(12).fill(0), [0x88, 0x01, 0, 0], MAC_A, MAC_B, MAC_A, [0, 0], [0, 0], [0xaa, 0xaa, 3, 0, 0, 0], be16(0x0800), ipv4({ proto: IpProto.UDP }, udp(1, 2)))],
  ...TUNNELS.map(([n, f]): [string, number, Uint8Array] => [`tunnel ${n}`, ETH, f]),
];

describe('Decoder: truncation at every byte offset', () => {
  for (const [name, lt, bytes] of SAMPLES) {
    it(name, () => {
      const full = decode(lt, bytes);
      expect(full.ok).toBe(true);
      expect(full.out.truncated).toBe(false);
      const fullSnap = snap(true, full.out);
      const headersEnd = full.out.payloadOffset;
      for (let k = 0; k <= bytes.length; k++) {
        // The same k bytes inside buffers whose other bytes differ (and one buffer ending exactly at capLen):
        // identical results prove that nothing outside [offset, offset + capLen) was read.
        const results = [0x00, 0xff, 0x5a].map((pad) => {
          const d = new Decoder();
          const out = new DecodedPacket();
          const ok = d.decode(capture(lt, bytes.subarray(0, k), { pad, offset: 9, origLen: bytes.length }), out);
          return snap(ok, out);
        });
        const tight = new DecodedPacket();
        const tightOk = new Decoder().decode({ ...capture(lt, bytes, { origLen: bytes.length }), data: bytes.slice(0, k), offset: 0, capLen: k }, tight);
        expect(results[1]).toEqual(results[0]);
        expect(results[2]).toEqual(results[0]);
        expect(snap(tightOk, tight)).toEqual(results[0]);
        const r = results[0]!;
        expect(r.capLen).toBe(k);
        if (k < headersEnd) expect(r.truncated, `cut at ${k} < ${headersEnd}`).toBe(true);
        else {
          expect(r.truncated).toBe(false);
          expect({ ...r, capLen: 0, capturedPayloadLen: 0 }).toEqual({ ...fullSnap, capLen: 0, capturedPayloadLen: 0 });
          expect(r.capturedPayloadLen).toBe(Math.min(k - headersEnd, full.out.payloadLen));
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// The fast path (Ethernet + IPv4 + TCP/UDP in one function) against the general path, field by field.

/** Every field of a decoded packet (addresses as arrays; the data reference left out), and the return value. */
function snapshot(d: Decoder, p: CapturedPacket): Record<string, unknown> {
  const out = new DecodedPacket();
  // Stale values from an earlier packet must be overwritten the same way by both paths.
  Object.assign(out, { srcPort: 999, tcpSeq: 7, icmpType: 3, vlanId: 5, tunnel: 9, truncated: true, payloadLen: 77 });
  const ok = d.decode(p, out);
  const s: Record<string, unknown> = { ok };
  for (const [k, v] of Object.entries(out)) if (k !== 'data') s[k] = v instanceof Uint32Array ? [...v] : v;
  return s;
}

describe('Decoder fast path', () => {
  it('gives the general path\'s fields and counters for common frames and thousands of damaged ones', () => {
    let seed = 99;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const frames: { data: Uint8Array; origLen?: number; capLen?: number }[] = [];
    const base = [
      eth(0x0800, ipv4({ proto: IpProto.TCP, flags: 0x4000 }, tcp({ sp: 40000, dp: 443, flags: TcpFlag.SYN }))),
      eth(0x0800, ipv4({ proto: IpProto.TCP }, tcp({ sp: 80, dp: 5000, options: [1, 1, 1, 1, 2, 4, 5, 0xb4] }, [1, 2, 3, 4, 5]))),
      eth(0x0800, ipv4({ proto: IpProto.UDP }, udp(5353, 53, [9, 9, 9]))),
      eth(0x0800, ipv4({ proto: IpProto.UDP }, udp(1234, 4789, new Array(60).fill(0)))), // VXLAN port: general path
      eth(0x0800, ipv4({ proto: IpProto.UDP }, udp(2152, 2152, new Array(40).fill(0)))), // GTP-U port
      eth(0x0800, ipv4({ proto: IpProto.TCP, totalLen: 0 }, tcp({ sp: 1, dp: 2 }, [1, 2]))), // TSO: length 0
      eth(0x0800, ipv4({ proto: IpProto.TCP, totalLen: 4000 }, tcp({ sp: 1, dp: 2 }, [1, 2]))), // beyond the frame
      eth(0x0800, ipv4({ proto: IpProto.TCP, totalLen: 30 }, tcp({ sp: 1, dp: 2 }, [1, 2]))), // shorter than TCP
      eth(0x0800, ipv4({ proto: IpProto.TCP, totalLen: 39 }, tcp({ sp: 1, dp: 2 }, [1, 2]))), // one byte short
      eth(0x0800, ipv4({ proto: IpProto.TCP, totalLen: 40 }, tcp({ sp: 1, dp: 2 }, [1, 2]))), // header, no payload
      eth(0x0800, ipv4({ proto: IpProto.UDP, totalLen: 27 }, udp(1, 2, [1]))), // one byte short of UDP's
      eth(0x0800, ipv4({ proto: IpProto.TCP, flags: 0x2000 }, tcp({ sp: 1, dp: 2 }))), // first fragment
      eth(0x0800, ipv4({ proto: IpProto.UDP, fragOff: 64 }, udp(1, 2))), // later fragment
      eth(0x0800, ipv4({ proto: IpProto.TCP, options: [1, 1, 1, 0] }, tcp({ sp: 1, dp: 2 }))), // IP options
      eth(0x0800, ipv4({ proto: IpProto.ICMP }, icmp(8, 0, [1, 2, 3]))),
      eth(0x8100, [0, 7, 0x08, 0x00, ...ipv4({ proto: IpProto.TCP }, tcp({ sp: 1, dp: 2 }))]), // VLAN
    ];
    for (const b of base) {
      frames.push({ data: b });
      for (let cut = 0; cut <= b.length; cut++) frames.push({ data: b, capLen: cut }); // every truncation
      frames.push({ data: b, origLen: b.length + 1000 }); // snaplen-cut frame
      for (let k = 0; k < 300; k++) {
        // Damage 1–3 header bytes (Ethernet type, IP and TCP/UDP headers).
        const m = b.slice();
        for (let j = 0, n = 1 + Math.floor(rnd() * 3); j < n; j++) m[Math.floor(rnd() * Math.min(m.length, 70))] = Math.floor(rnd() * 256);
        frames.push({ data: m, capLen: rnd() < 0.2 ? Math.floor(rnd() * m.length) : m.length });
      }
    }
    for (const opts of [{}, { decodeTunnels: false }] as DecoderOptions[]) {
      const fast = new Decoder(opts), general = new Decoder({ ...opts, fastPath: false });
      let plain = 0;
      for (const f of frames) {
        const p: CapturedPacket = { data: f.data, offset: 0, capLen: f.capLen ?? f.data.length, origLen: f.origLen ?? f.data.length,
          tsSec: 1700000000, tsNsec: 123456789, linkType: 1, interfaceId: 0, recordOffset: 0 };
        const g = snapshot(general, p);
        expect(snapshot(fast, p)).toEqual(g);
        // Frames of the kind the fast path decodes: untagged IPv4 without options or fragmentation, whole TCP/UDP header.
        if (g.ok && g.ipVersion === 4 && g.vlanId === 0 && g.ipHeaderLen === 20 && !g.isFragment && !g.truncated
          && (g.protocol === IpProto.TCP || g.protocol === IpProto.UDP) && g.tunnelDepth === 0) plain++;
      }
      expect(fast.counters()).toEqual(general.counters());
      expect(plain).toBeGreaterThan(1000); // the comparison covered many frames the fast path takes
    }
  });

  it('gives the general path\'s fields on every packet of the shipped capture', async () => {
    const { readCaptureSync } = await import('../src/capture/reader.js');
    const { join } = await import('node:path');
    const { REPO } = await import('./helpers/shared.js');
    const fast = new Decoder(), general = new Decoder({ fastPath: false });
    let n = 0;
    readCaptureSync(join(REPO, 'datasets/lab-excerpt/capture.pcap'), (p) => {
      n++;
      expect(snapshot(fast, p)).toEqual(snapshot(general, p));
    });
    expect(n).toBeGreaterThan(10_000);
    expect(fast.counters()).toEqual(general.counters());
  });
});

describeShared('Decoder fast path on shared captures', () => {
  it('gives the general path\'s fields on every packet of nfstream\'s 220 test captures (all link types, tunnels, IPv6)', async () => {
    const { readCaptureSync } = await import('../src/capture/reader.js');
    const { readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const dir = sharedPath('peers', 'nfstream', 'pcaps');
    let packets = 0, files = 0;
    const differing: unknown[] = [];
    for (const name of readdirSync(dir).sort()) {
      const fast = new Decoder(), general = new Decoder({ fastPath: false });
      try {
        readCaptureSync(join(dir, name), (p) => {
          packets++;
          const a = snapshot(fast, p), b = snapshot(general, p);
          if (JSON.stringify(a) !== JSON.stringify(b) && differing.length < 3) differing.push({ name, fast: a, general: b });
        });
      } catch {
        // A capture damaged on purpose: the packets before the damage were compared.
      }
      files++;
      if (JSON.stringify(fast.counters()) !== JSON.stringify(general.counters())) differing.push({ name, fast: fast.counters(), general: general.counters() });
    }
    expect(differing).toEqual([]);
    expect(files).toBe(220);
    expect(packets).toBeGreaterThan(100_000);
  });
});

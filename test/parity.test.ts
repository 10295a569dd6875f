/**
 * The nfstream profile (src/flow/profiles.ts): its flow-table rules and decode rules on hand-built packets, then
 * parity with nfstream's own ground truth on a subset of its test corpus (../shared/datasets/peers/nfstream:
 * every link type and tunnel of the corpus) and the exact per-field values nfstream's tests.py asserts for
 * google_ssl.pcap. The whole corpus is compared by `npm run parity` (docs/parity.md).
 */
import { describe, expect, it } from 'vitest';
import type { CapturedPacket } from '../src/capture/types.js';
import { Decoder, DecodedPacket, IpProto, TcpFlag, Tunnel } from '../src/decode/index.js';
import type { DecodeRules } from '../src/decode/index.js';
import { extractCapture } from '../src/features/extract.js';
import { FlowMeter, type FinishedFlow } from '../src/features/meter.js';
import { createFeatureSet } from '../src/features/registry.js';
import { PROFILES, profileOptions } from '../src/flow/profiles.js';
import { EndReason } from '../src/flow/table.js';
import { captureParity } from '../scripts/parity.js';
import { flowsift } from './helpers/cli.js';
import { pkt, tcpConversation } from './helpers/packets.js';
import { describeShared, sharedPath } from './helpers/shared.js';

const NAMES = createFeatureSet().features.map((f) => f.name);
const col = (flow: { features: Float64Array }, name: string): number => flow.features[NAMES.indexOf(name)];

interface Row { packets: number; bytes: number; firstMs: number; reason: number; src: string; vlan: number; tunnel: number }

/** Runs decoded packets through a meter with a profile; returns one summary per flow in export order. */
function meter(profile: 'flowsift' | 'nfstream', packets: DecodedPacket[], overrides = {}): Row[] {
  const rows: Row[] = [];
  const m = new FlowMeter((f: FinishedFlow) => rows.push({
    packets: col(f, 'bidirectional_packets'), bytes: col(f, 'bidirectional_bytes'), firstMs: col(f, 'bidirectional_first_seen_ms'),
    reason: f.reason, src: f.srcIp, vlan: f.vlanId, tunnel: col(f, 'tunnel_id'),
  }), profileOptions(profile, overrides));
  for (const p of packets) m.pushDecoded(p);
  m.finish();
  return rows;
}

const udp = (t: number, src = '10.0.0.1', dst = '10.0.0.2'): DecodedPacket => pkt({ t, src, dst, sport: 5000, dport: 53, proto: IpProto.UDP, payload: 30 });

describe('nfstream profile: flow-table rules', () => {
  it('expires on an idle gap equal to the timeout (>=), flowsift only beyond it (>)', () => {
    const p = [udp(0), udp(120e6)];
    expect(meter('nfstream', p).map((r) => r.packets)).toEqual([1, 1]);
    expect(meter('flowsift', p).map((r) => r.packets)).toEqual([2]);
  });

  it('compares timeouts on whole milliseconds, truncated (nfstream capture_next)', () => {
    // 119.999001 s apart in µs, but 120000 ms apart once truncated to ms.
    const p = [udp(999), udp(120_000_000)];
    expect(meter('nfstream', p).map((r) => r.packets)).toEqual([1, 1]);
    expect(meter('flowsift', p).map((r) => r.packets)).toEqual([2]);
    // Active timeout: 1800 s after the first packet, inclusive, in ms (packets every 100 s, under the idle timeout).
    const a = [...Array.from({ length: 18 }, (_, i) => udp(i * 100e6)), udp(1799_999_999), udp(1800e6)];
    expect(meter('nfstream', a).map((r) => [r.packets, r.reason])).toEqual([[19, EndReason.ACTIVE], [1, EndReason.END_OF_INPUT]]);
  });

  it('accounts a late packet at the clock time (nfstream meter.py "Force time order")', () => {
    // (The nfstream profile rewrites the late packet's time in place: fresh packets for each run.)
    const p = (): DecodedPacket[] => [udp(10_000, '10.0.0.1'), udp(5_000, '10.0.0.9')];
    expect(meter('nfstream', p()).map((r) => r.firstMs)).toEqual([10, 10]);
    expect(meter('flowsift', p()).map((r) => r.firstMs)).toEqual([10, 5]);
  });

  it('keys flows by tunnel id too (nfstream get_flow_key)', () => {
    const a = udp(0), b = udp(10);
    b.tunnelKey = 1;
    expect(meter('nfstream', [a, b]).map((r) => [r.packets, r.tunnel])).toEqual([[1, 0], [1, 1]]);
    expect(meter('flowsift', [a, b]).map((r) => r.packets)).toEqual([2]);
  });

  it('does not end TCP flows on FIN/RST: a new SYN on the same ports stays in the flow', () => {
    const k = tcpConversation('10.0.0.1', 40000, '10.0.0.2', 80);
    const { SYN, ACK, FIN } = TcpFlag;
    const p = [k.c(0, SYN), k.s(10, SYN | ACK), k.c(20, FIN | ACK), k.s(30, FIN | ACK), k.c(40, ACK), k.c(1000, SYN)];
    expect(meter('nfstream', p).map((r) => r.packets)).toEqual([6]);
    expect(meter('flowsift', p).map((r) => r.packets)).toEqual([5, 1]);
  });

  it('takes idle/active timeouts of 0 (every packet its own flow, as nfstream)', () => {
    const p = [udp(0), udp(0), udp(1000)];
    expect(meter('nfstream', p, { idleTimeoutUs: 0 })).toHaveLength(3);
    expect(meter('nfstream', p, { activeTimeoutUs: 0 })).toHaveLength(3);
  });

  it("computes nfstream's statistical columns only with statisticalAnalysis (0 otherwise, as features are never NaN)", () => {
    const run = (statisticalAnalysis: boolean): number[] => {
      const out: number[] = [];
      const m = new FlowMeter((f) => out.push(col(f, 'bidirectional_max_ps'), col(f, 'bidirectional_mean_piat_ms')),
        profileOptions('nfstream', { statisticalAnalysis }));
      for (const p of [udp(0), udp(2000), udp(5000)]) m.pushDecoded(p);
      m.finish();
      return out;
    };
    expect(run(false)).toEqual([0, 0]);
    expect(run(true)).toEqual([14 + 20 + 8 + 30, 2.5]);
  });

  it('lets explicit options override the profile', () => {
    expect(profileOptions('nfstream', { idleTimeoutUs: 30e6, tcpTermination: undefined })).toMatchObject({
      idleTimeoutUs: 30e6, tcpTermination: false, clockResolutionUs: 1000, decodeRules: 'nfstream',
    });
    expect(profileOptions('flowsift')).toMatchObject({ ...PROFILES.flowsift.table, ...PROFILES.flowsift.decode });
    expect(() => profileOptions('cicflowmeter')).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Hand-built frames for the decode rules

const hex = (s: string): number[] => s.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16));
const u16 = (v: number): number[] => [v >> 8, v & 255];

function ipv4(proto: number, payload: number[], o: { frag?: number; total?: number; src?: number[] } = {}): number[] {
  const total = o.total ?? 20 + payload.length;
  const h = [0x45, 0, ...u16(total), 0x12, 0x34, ...u16(o.frag ?? 0), 64, proto, 0, 0, ...(o.src ?? [10, 0, 0, 1]), 10, 0, 0, 2];
  return [...h, ...payload];
}
function ipv6(nh: number, payload: number[], plen = payload.length): number[] {
  const a = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
  const b = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2];
  return [0x60, 0, 0, 0, ...u16(plen), nh, 64, ...a, ...b, ...payload];
}
const udpHdr = (sp: number, dp: number, payload: number[]): number[] => [...u16(sp), ...u16(dp), ...u16(8 + payload.length), 0, 0, ...payload];
const tcpHdr = (sp: number, dp: number): number[] => [...u16(sp), ...u16(dp), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0];
const sctpHdr = (sp: number, dp: number): number[] => [...u16(sp), ...u16(dp), 0, 0, 0, 0, 0, 0, 0, 0];
const eth = (type: number, payload: number[]): number[] => [...hex('000000000002 000000000001'), ...u16(type), ...payload];
const vlanTag = (vid: number, type: number): number[] => [...u16(vid), ...u16(type)];

function decode(rules: DecodeRules, frame: number[], linkType = 1, capLen = frame.length): DecodedPacket | null {
  const data = Uint8Array.from(frame);
  const cap: CapturedPacket = { data, offset: 0, capLen, origLen: frame.length, tsSec: 1, tsNsec: 0, linkType, interfaceId: 0, recordOffset: 0 };
  const out = new DecodedPacket();
  return new Decoder({ rules }).decode(cap, out) ? out : null;
}

describe('nfstream decode rules (nfstream lib_engine.c packet_process)', () => {
  const payload = new Array(20).fill(0x61);
  const udp4 = ipv4(IpProto.UDP, udpHdr(1234, 53, payload));

  it('keys by the innermost 802.1Q tag (flowsift: the outer one)', () => {
    const f = eth(0x8100, [...vlanTag(10, 0x8100), ...vlanTag(20, 0x0800), ...udp4]);
    expect(decode('nfstream', f)?.vlanId).toBe(20);
    expect(decode('flowsift', f)?.vlanId).toBe(10);
  });

  it('reads ports only for TCP and UDP (SCTP flows have ports 0)', () => {
    const f = eth(0x0800, ipv4(IpProto.SCTP, sctpHdr(2905, 2906)));
    expect(decode('nfstream', f)).toMatchObject({ protocol: IpProto.SCTP, srcPort: 0, dstPort: 0 });
    expect(decode('flowsift', f)).toMatchObject({ srcPort: 2905, dstPort: 2906 });
    expect(decode('nfstream', eth(0x0800, ipv4(IpProto.TCP, tcpHdr(40000, 443))))).toMatchObject({ srcPort: 40000, dstPort: 443, tcpFlags: TcpFlag.SYN });
  });

  it('drops IPv4 non-first fragments and keeps first fragments with their ports', () => {
    expect(decode('nfstream', eth(0x0800, ipv4(IpProto.UDP, payload, { frag: 0x0003 })))).toBeNull();
    expect(decode('flowsift', eth(0x0800, ipv4(IpProto.UDP, payload, { frag: 0x0003 })))).not.toBeNull();
    expect(decode('nfstream', eth(0x0800, ipv4(IpProto.UDP, udpHdr(1, 2, payload), { frag: 0x2000 })))).toMatchObject({ srcPort: 1, dstPort: 2 });
  });

  it('drops frames under 28 captured bytes, IPv4 total length 0 and truncated IPv6', () => {
    const short = ipv4(IpProto.UDP, udpHdr(1, 2, []));
    expect(short.length).toBe(28);
    expect(decode('nfstream', short, 101, 27)).toBeNull();
    expect(decode('flowsift', short, 101, 27)).not.toBeNull();
    expect(decode('nfstream', eth(0x0800, ipv4(IpProto.UDP, udpHdr(1, 2, payload), { total: 0 })))).toBeNull();
    const v6 = eth(0x86dd, ipv6(IpProto.UDP, udpHdr(1, 2, payload)));
    expect(decode('nfstream', v6)).toMatchObject({ ipVersion: 6, srcPort: 1, ipTotalLen: 40 + 28 });
    expect(decode('nfstream', v6, 1, v6.length - 1)).toBeNull();
    expect(decode('nfstream', eth(0x86dd, ipv6(59, new Array(8).fill(0))))).toBeNull(); // no next header
  });

  it('recognises IP by the version nibble whatever the EtherType says', () => {
    const f = eth(0x88b5, udp4);
    expect(decode('nfstream', f)).toMatchObject({ ipVersion: 4, srcPort: 1234 });
    expect(decode('flowsift', f)).toBeNull();
  });

  it('decodes GTP-U (tunnel id 1) and IP-in-IP (tunnel id 0), not GRE', () => {
    const gtp = eth(0x0800, ipv4(IpProto.UDP, udpHdr(2152, 2152, [0x30, 0xff, ...u16(udp4.length), 0, 0, 0, 1, ...udp4]), { src: [192, 168, 0, 1] }));
    expect(decode('nfstream', gtp)).toMatchObject({ tunnelKey: 1, tunnel: Tunnel.GTP_U, srcPort: 1234, protocol: IpProto.UDP });
    const ipip = eth(0x0800, ipv4(4, udp4, { src: [192, 168, 0, 1] }));
    expect(decode('nfstream', ipip)).toMatchObject({ tunnelKey: 0, srcPort: 1234 });
    const gre = eth(0x0800, ipv4(IpProto.GRE, [0, 0, 0x08, 0x00, ...udp4], { src: [192, 168, 0, 1] }));
    expect(decode('nfstream', gre)).toMatchObject({ protocol: IpProto.GRE, srcPort: 0, tunnelKey: 0 });
    expect(decode('flowsift', gre)).toMatchObject({ protocol: IpProto.UDP, tunnel: Tunnel.GRE });
  });

  it('counts the frame length modulo 2^16 (nfstream holds it in a uint16_t)', () => {
    const p = pkt({ t: 0, src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.UDP, sport: 1, dport: 2 });
    p.frameLen = 65536 + 100;
    expect(meter('nfstream', [p]).map((r) => r.bytes)).toEqual([100]);
  });
});

describe('extract --profile (CLI, built dist/)', () => {
  const EXAMPLE = 'datasets/lab-excerpt/capture.pcap';
  const header = (args: string[]): string[] => {
    const r = flowsift(['extract', EXAMPLE, '-q', ...args]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.slice(0, r.stdout.indexOf('\n')).split(',');
  };

  it("writes nfstream's identifier and counter columns first with --profile nfstream", () => {
    const h = header(['--profile', 'nfstream']);
    expect(h.slice(0, 16)).toEqual(['id', 'expiration_id', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'protocol', 'ip_version',
      'vlan_id', 'tunnel_id', 'bidirectional_first_seen_ms', 'bidirectional_last_seen_ms', 'bidirectional_duration_ms',
      'bidirectional_packets', 'bidirectional_bytes', 'src2dst_first_seen_ms']);
    expect(h).toContain('Flow Duration');
    expect(h).not.toContain('bidirectional_mean_ps');
    expect(header(['--profile', 'nfstream', '--statistical-analysis'])).toContain('bidirectional_mean_ps');
  });

  it('keeps the CICFlowMeter header in the flowsift profile (no nfstream column)', () => {
    const h = header([]);
    expect(h.slice(0, 7)).toEqual(['Flow ID', 'Src IP', 'Src Port', 'Dst IP', 'Dst Port', 'Protocol', 'Timestamp']);
    expect(h.filter((c) => /^(bidirectional|src2dst|dst2src)_|^tunnel_id$/.test(c))).toEqual([]);
  });

  it('rejects an unknown profile and sub-millisecond timeouts with the nfstream profile (usage errors)', () => {
    expect(flowsift(['extract', EXAMPLE, '--profile', 'cic']).code).toBe(2);
    expect(flowsift(['extract', EXAMPLE, '--profile', 'nfstream', '--idle-timeout', '0.0005']).code).toBe(2);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// nfstream's corpus

const NF = (...p: string[]): string => sharedPath('peers', 'nfstream', ...p);

/** A dozen-odd captures covering the corpus' link types, shim headers, tunnels and the rules that matter. */
const SUBSET = [
  'google_ssl.pcap', // Ethernet, one TCP flow (tests.py's statistical capture)
  'BGP_Cisco_hdlc_slarp.pcap', // LINKTYPE_PPP carrying Cisco HDLC
  'BGP_redist.pcap', // Cisco HDLC, MPLS
  'dlt_ppp.pcap', // PPP
  'KakaoTalk_talk.pcap', // Linux SLL
  'reasm_crash_anon.pcapng', // pcapng, Linux SLL; TCP termination would split its flow
  'nats.pcap', // BSD NULL
  'raw.pcap', // raw IP
  'ajp.pcap', // 802.1Q
  '4in4tunnel.pcap', '6in4tunnel.pcap', '4in6tunnel.pcap', '6in6tunnel.pcap', // IP-in-IP
  'gtp-u.pcap', 'ipv6_in_gtp.pcap', // GTP-U (+ VLAN, IPv6)
  'capwap.pcap', // CAPWAP data
  'teredo.pcap', // Teredo is left as UDP
  'dns_fragmented.pcap', 'ip_fragmented_garbage.pcap', // IPv4 fragments
  'wechat.pcap', // TCP connections reusing ports
];

describeShared("nfstream parity on a subset of nfstream's corpus", () => {
  it.each(SUBSET)('%s: same multiset of (packets, bytes) as nfstream', async (capture) => {
    const r = await captureParity(NF(), capture);
    expect({ missing: Object.fromEntries(r.missing), extra: Object.fromEntries(r.extra) }).toEqual({ missing: {}, extra: {} });
    expect([r.produced, r.matched]).toEqual([r.expected, r.expected]);
  });

  it("reproduces tests.py's test_statistical values for google_ssl.pcap (accounting_mode=1)", async () => {
    const flows: Record<string, number | string>[] = [];
    await extractCapture(NF('pcaps', 'google_ssl.pcap'), (f) => {
      const o: Record<string, number | string> = {
        src_ip: f.srcIp, src_port: f.srcPort, dst_ip: f.dstIp, dst_port: f.dstPort, protocol: f.protocol,
        ip_version: f.ipVersion, vlan_id: f.vlanId, expiration_id: f.reason === EndReason.ACTIVE ? 1 : 0,
      };
      NAMES.forEach((n, i) => { o[n] = f.features[i]; });
      flows.push(o);
    }, profileOptions('nfstream', { accountingMode: 1, statisticalAnalysis: true }));
    expect(flows).toHaveLength(1);
    const f = flows[0];
    // Exact values (tests.py asserts equality).
    expect(f).toMatchObject({
      expiration_id: 0, src_ip: '172.31.3.224', src_port: 42835, dst_ip: '216.58.212.100', dst_port: 443, protocol: 6,
      ip_version: 4, vlan_id: 0, tunnel_id: 0,
      bidirectional_first_seen_ms: 1434443394683, bidirectional_last_seen_ms: 1434443401353, bidirectional_duration_ms: 6670,
      bidirectional_packets: 28, bidirectional_bytes: 8696,
      src2dst_first_seen_ms: 1434443394683, src2dst_last_seen_ms: 1434443401353, src2dst_duration_ms: 6670,
      src2dst_packets: 16, src2dst_bytes: 1288,
      dst2src_first_seen_ms: 1434443394717, dst2src_last_seen_ms: 1434443401308, dst2src_duration_ms: 6591,
      dst2src_packets: 12, dst2src_bytes: 7408,
      bidirectional_min_ps: 40, bidirectional_max_ps: 1470, src2dst_min_ps: 40, src2dst_max_ps: 354,
      dst2src_min_ps: 40, dst2src_max_ps: 1470,
      bidirectional_min_piat_ms: 0, bidirectional_max_piat_ms: 995, src2dst_min_piat_ms: 76, src2dst_max_piat_ms: 1185,
      dst2src_min_piat_ms: 66, dst2src_max_piat_ms: 1213,
      bidirectional_syn_packets: 2, bidirectional_cwr_packets: 0, bidirectional_ece_packets: 0, bidirectional_urg_packets: 0,
      bidirectional_ack_packets: 27, bidirectional_psh_packets: 8, bidirectional_rst_packets: 0, bidirectional_fin_packets: 2,
      src2dst_syn_packets: 1, src2dst_cwr_packets: 0, src2dst_ece_packets: 0, src2dst_urg_packets: 0,
      src2dst_ack_packets: 15, src2dst_psh_packets: 4, src2dst_rst_packets: 0, src2dst_fin_packets: 1,
      dst2src_syn_packets: 1, dst2src_cwr_packets: 0, dst2src_ece_packets: 0, dst2src_urg_packets: 0,
      dst2src_ack_packets: 12, dst2src_psh_packets: 4, dst2src_rst_packets: 0, dst2src_fin_packets: 1,
    });
    // tests.py gives these to 3 decimals: `(value - expected) < 0.001`; here both ways.
    const approx: Record<string, number> = {
      bidirectional_mean_ps: 310.571, bidirectional_stddev_ps: 500.546, src2dst_mean_ps: 80.499, src2dst_stddev_ps: 89.555,
      dst2src_mean_ps: 617.333, dst2src_stddev_ps: 651.452, bidirectional_mean_piat_ms: 247.037,
      bidirectional_stddev_piat_ms: 324.045, src2dst_mean_piat_ms: 444.666, src2dst_stddev_piat_ms: 397.603,
      dst2src_mean_piat_ms: 599.181, dst2src_stddev_piat_ms: 384.784,
    };
    for (const [k, v] of Object.entries(approx)) expect(Math.abs((f[k] as number) - v), k).toBeLessThan(0.001);
  });

  it("gives every gtp-u.pcap flow tunnel_id 1 (tests.py test_tunnel_decoding)", async () => {
    const ids: number[] = [];
    await extractCapture(NF('pcaps', 'gtp-u.pcap'), (f) => { ids.push(col(f, 'tunnel_id')); }, profileOptions('nfstream'));
    expect(ids.length).toBeGreaterThan(0);
    expect(new Set(ids)).toEqual(new Set([1]));
  });

  it('makes 28 flows of google_ssl.pcap with idle_timeout=0 or active_timeout=0 (tests.py test_expiration_management)', async () => {
    for (const o of [{ idleTimeoutUs: 0 }, { activeTimeoutUs: 0 }]) {
      let n = 0;
      await extractCapture(NF('pcaps', 'google_ssl.pcap'), () => { n++; }, profileOptions('nfstream', o));
      expect(n, JSON.stringify(o)).toBe(28);
    }
  });
});

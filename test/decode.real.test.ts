/**
 * Decode stage on real captures, checked packet by packet against tshark: IP version, addresses, protocol, TTL,
 * IP lengths, fragment fields, ports, TCP flags/window/header length, payload length, ICMP type/code, VLAN id,
 * and for tunnels the inner packet. Needs ../shared (describeShared) and tshark on PATH (skipped visibly
 * otherwise). Captures are read with a small local pcap/pcapng reader (this test must not depend on the capture
 * stage).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CapturedPacket } from '../src/capture/types.js';
import { Decoder, DecodedPacket, Tunnel } from '../src/decode/index.js';
import { describeShared, sharedPath } from './helpers/shared.js';

// ---------------------------------------------------------------------------------------------------------------
// Minimal capture reader (classic pcap µs/ns both byte orders; pcapng SHB/IDB/EPB/SPB/PB with if_tsresol).

function readRecords(path: string, max = Infinity): CapturedPacket[] {
  const buf = new Uint8Array(readFileSync(path));
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: CapturedPacket[] = [];
  const m = dv.getUint32(0, true);
  if (m === 0xa1b2c3d4 || m === 0xd4c3b2a1 || m === 0xa1b23c4d || m === 0x4d3cb2a1) {
    const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
    const ns = m === 0xa1b23c4d || m === 0x4d3cb2a1;
    const linkType = dv.getUint32(20, le) & 0xffff;
    for (let p = 24; p + 16 <= buf.length && out.length < max;) {
      const capLen = dv.getUint32(p + 8, le);
      if (p + 16 + capLen > buf.length) break;
      const f = dv.getUint32(p + 4, le);
      out.push({ data: buf, offset: p + 16, capLen, origLen: dv.getUint32(p + 12, le), tsSec: dv.getUint32(p, le), tsNsec: ns ? f : f * 1000, linkType, interfaceId: 0, recordOffset: p });
      p += 16 + capLen;
    }
    return out;
  }
  if (m !== 0x0a0d0d0a) throw new Error(`not a capture: ${path}`);
  let le = true;
  let ifaces: { linkType: number; res: bigint }[] = [];
  for (let p = 0; p + 12 <= buf.length && out.length < max;) {
    if (dv.getUint32(p, true) === 0x0a0d0d0a) {
      le = dv.getUint32(p + 8, true) === 0x1a2b3c4d;
      ifaces = [];
    }
    const type = dv.getUint32(p, le);
    const len = dv.getUint32(p + 4, le);
    if (len < 12 || p + len > buf.length) break;
    if (type === 1) {
      let res = 1_000_000n;
      for (let q = p + 16; q + 4 <= p + len - 4;) {
        const code = dv.getUint16(q, le);
        const olen = dv.getUint16(q + 2, le);
        if (code === 0) break;
        if (code === 9) {
          const b = buf[q + 4]!;
          res = b & 0x80 ? 1n << BigInt(b & 0x7f) : 10n ** BigInt(b);
        }
        q += 4 + ((olen + 3) & ~3);
      }
      ifaces.push({ linkType: dv.getUint16(p + 8, le), res });
    } else if (type === 6 || type === 2) {
      const ifid = type === 6 ? dv.getUint32(p + 8, le) : dv.getUint16(p + 8, le);
      const ts = (BigInt(dv.getUint32(p + 12, le)) << 32n) | BigInt(dv.getUint32(p + 16, le));
      const ifc = ifaces[ifid]!;
      out.push({
        data: buf, offset: p + 28, capLen: dv.getUint32(p + 20, le), origLen: dv.getUint32(p + 24, le),
        tsSec: Number(ts / ifc.res), tsNsec: Number(((ts % ifc.res) * 1_000_000_000n) / ifc.res),
        linkType: ifc.linkType, interfaceId: ifid, recordOffset: p,
      });
    } else if (type === 3) {
      const origLen = dv.getUint32(p + 8, le);
      out.push({ data: buf, offset: p + 12, capLen: Math.min(origLen, len - 16), origLen, tsSec: 0, tsNsec: 0, linkType: ifaces[0]!.linkType, interfaceId: 0, recordOffset: p });
    }
    p += len;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// tshark comparison

const FIELDS = [
  'frame.protocols', 'ip.src', 'ip.dst', 'ip.proto', 'ip.ttl', 'ip.len', 'ip.hdr_len', 'ip.flags.mf', 'ip.frag_offset',
  'ipv6.src', 'ipv6.dst', 'ipv6.hlim', 'ipv6.plen', 'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'tcp.window_size_value',
  'tcp.len', 'tcp.hdr_len', 'udp.srcport', 'udp.dstport', 'udp.length', 'icmp.type', 'icmp.code', 'icmpv6.type',
  'icmpv6.code', 'sctp.srcport', 'sctp.dstport', 'vlan.id',
] as const;
type Field = (typeof FIELDS)[number];
const COL = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<Field, number>;
const L4_NAMES: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, sctp: 132 };

function hasTshark(): boolean {
  try {
    execFileSync('tshark', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function v4text(x: number): string {
  return [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255].join('.');
}

/** RFC 5952 text of four big-endian words (the form tshark prints). */
function v6text(a: Uint32Array): string {
  const g: string[] = [];
  for (let i = 0; i < 4; i++) g.push((a[i]! >>> 16).toString(16), (a[i]! & 0xffff).toString(16));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return g.join(':');
  return `${g.slice(0, best).join(':')}::${g.slice(best + bestLen).join(':')}`;
}

interface Comparison {
  packets: number;
  compared: number;
  mismatches: Record<string, string[]>;
  tunnels: Set<number>;
  /** Deepest tunnel nesting decoded. */
  maxDepth: number;
  decoder: Decoder;
}

/**
 * Decodes every packet (the first `max`) and compares it with tshark's dissection of the same packet. The IP
 * layer compared is the (tunnelDepth)-th IP layer of `frame.protocols` (tshark shows outer and inner layers),
 * the transport layer is the one right after it, and each field's occurrence index is the number of layers of
 * the same name before it (so that ICMP-quoted headers and outer headers are skipped).
 */
function compareWithTshark(file: string, max = Infinity): Comparison {
  const recs = readRecords(file, max);
  const args = ['-r', file, '-n', '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.analyze_sequence_numbers:FALSE',
    '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  if (Number.isFinite(max)) args.push('-c', String(max));
  for (const f of FIELDS) args.push('-e', f);
  const rows = execFileSync('tshark', args, { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })
    .toString().split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
  const dec = new Decoder();
  const out = new DecodedPacket();
  const mismatches: Record<string, string[]> = {};
  const tunnels = new Set<number>();
  const bad = (kind: string, msg: string) => {
    const l = (mismatches[kind] ??= []);
    if (l.length < 5) l.push(msg);
  };
  if (rows.length !== recs.length) bad('packet count', `tshark ${rows.length}, reader ${recs.length}`);
  let compared = 0;
  let maxDepth = 0;
  for (let i = 0; i < Math.min(rows.length, recs.length); i++) {
    const row = rows[i]!;
    const n = i + 1;
    const badBefore = dec.badHeader;
    const ok = dec.decode(recs[i]!, out);
    const malformed = out.truncated || dec.badHeader !== badBefore;
    const get = (f: Field, occ: number) => (row[COL[f]] ?? '').split(',')[occ] ?? '';
    const protos = row[COL['frame.protocols']]!.split(':');
    const ipLayers: number[] = [];
    protos.forEach((p, j) => {
      if (p === 'ip' || p === 'ipv6') ipLayers.push(j);
    });
    if (!ok) {
      // tshark lists an IP layer even for a header cut by the snaplen or malformed; we must have said so.
      if (ipLayers.length > out.tunnelDepth && !malformed) bad('not decoded', `#${n} ${protos.join(':')}`);
      continue;
    }
    tunnels.add(out.tunnel);
    if (out.tunnelDepth > maxDepth) maxDepth = out.tunnelDepth;
    if (ipLayers.length <= out.tunnelDepth) {
      bad('not IP for tshark', `#${n} ${protos.join(':')} depth ${out.tunnelDepth}`);
      continue;
    }
    compared++;
    const L = ipLayers[out.tunnelDepth]!;
    const name = protos[L]!;
    const occ = protos.slice(0, L).filter((p) => p === name).length;
    if (out.ipVersion !== (name === 'ip' ? 4 : 6)) {
      bad('ip version', `#${n} ${protos.join(':')} ours ${out.ipVersion}`);
      continue;
    }
    // Wireshark's FabricPath dissector assumes a trailing FCS and trims 4 bytes that are IP payload: compare
    // only the source address there.
    const cfp = protos.includes('cfp');
    if (name === 'ip') {
      if (get('ip.src', occ) !== v4text(out.src[3]!)) bad('ip.src', `#${n} ${get('ip.src', occ)} ours ${v4text(out.src[3]!)}`);
      if (cfp) continue;
      if (get('ip.dst', occ) !== v4text(out.dst[3]!)) bad('ip.dst', `#${n}`);
      if (Number(get('ip.proto', occ)) !== out.protocol) bad('ip.proto', `#${n} ${get('ip.proto', occ)} ours ${out.protocol}`);
      if (Number(get('ip.ttl', occ)) !== out.ttl) bad('ip.ttl', `#${n}`);
      if (Number(get('ip.len', occ)) !== out.ipTotalLen) bad('ip.len', `#${n} ${get('ip.len', occ)} ours ${out.ipTotalLen}`);
      if (Number(get('ip.hdr_len', occ)) !== out.ipHeaderLen) bad('ip.hdr_len', `#${n}`);
      if (Number(get('ip.frag_offset', occ)) * 8 !== out.fragOffset || (get('ip.flags.mf', occ) === '1') !== out.moreFragments) bad('fragment', `#${n}`);
    } else {
      if (get('ipv6.src', occ) !== v6text(out.src)) bad('ipv6.src', `#${n} ${get('ipv6.src', occ)} ours ${v6text(out.src)}`);
      if (cfp) continue;
      if (get('ipv6.dst', occ) !== v6text(out.dst)) bad('ipv6.dst', `#${n}`);
      if (Number(get('ipv6.hlim', occ)) !== out.ttl) bad('ipv6.hlim', `#${n}`);
      if (Number(get('ipv6.plen', occ)) !== out.ipTotalLen - 40) bad('ipv6.plen', `#${n} ${get('ipv6.plen', occ)} ours ${out.ipTotalLen - 40}`);
    }
    const firstTag = protos.findIndex((p) => p === 'vlan' || p === 'ieee8021ad');
    if (firstTag >= 0 && firstTag < L && protos[firstTag] === 'vlan' && Number(get('vlan.id', 0)) !== out.vlanId) bad('vlan.id', `#${n} ${get('vlan.id', 0)} ours ${out.vlanId}`);
    if (out.isFragment && out.fragOffset !== 0) continue; // no transport header in a later fragment
    let T = L + 1;
    while (T < protos.length && (protos[T]!.startsWith('ipv6.') || protos[T] === 'ah')) T++;
    const tn = protos[T] ?? '';
    if (!(tn in L4_NAMES)) {
      if (out.protocol in { 6: 1, 17: 1, 1: 1, 58: 1, 132: 1 } && !malformed) bad('transport missing in tshark', `#${n} ${protos.join(':')} ours ${out.protocol}`);
      continue;
    }
    if (L4_NAMES[tn] !== out.protocol) {
      bad('protocol', `#${n} ${protos.join(':')} ours ${out.protocol}`);
      continue;
    }
    const to = protos.slice(0, T).filter((p) => p === tn).length;
    if (tn === 'tcp') {
      if (Number(get('tcp.srcport', to)) !== out.srcPort || Number(get('tcp.dstport', to)) !== out.dstPort) bad('tcp ports', `#${n}`);
      if (get('tcp.flags', to) === '' || get('tcp.len', to) === '') {
        // tshark stops at a bogus TCP header (data offset < 5, header longer than the IP payload): so must we.
        if (!malformed) bad('tcp header not dissected by tshark', `#${n}`);
        continue;
      }
      if ((parseInt(get('tcp.flags', to), 16) & 0xff) !== out.tcpFlags) bad('tcp.flags', `#${n} ${get('tcp.flags', to)} ours ${out.tcpFlags}`);
      if (Number(get('tcp.window_size_value', to)) !== out.tcpWindow) bad('tcp.window', `#${n}`);
      if (Number(get('tcp.hdr_len', to)) !== out.l4HeaderLen) bad('tcp.hdr_len', `#${n}`);
      if (Number(get('tcp.len', to)) !== out.payloadLen) bad('tcp.len', `#${n} ${get('tcp.len', to)} ours ${out.payloadLen}`);
    } else if (tn === 'udp') {
      if (Number(get('udp.srcport', to)) !== out.srcPort || Number(get('udp.dstport', to)) !== out.dstPort) bad('udp ports', `#${n}`);
      if (!out.isFragment && Number(get('udp.length', to)) - 8 !== out.payloadLen) bad('udp.length', `#${n} ${get('udp.length', to)} ours ${out.payloadLen}`);
    } else if (tn === 'sctp') {
      if (Number(get('sctp.srcport', to)) !== out.srcPort || Number(get('sctp.dstport', to)) !== out.dstPort) bad('sctp ports', `#${n}`);
    } else {
      if (Number(get(`${tn}.type` as Field, to)) !== out.icmpType || Number(get(`${tn}.code` as Field, to)) !== out.icmpCode) bad('icmp type/code', `#${n}`);
      if (out.srcPort !== 0 || out.dstPort !== 0) bad('icmp ports', `#${n}`);
      if (name === 'ip' && out.payloadLen !== Math.max(0, out.ipTotalLen - out.ipHeaderLen - 8)) bad('icmp payload', `#${n}`);
    }
  }
  return { packets: recs.length, compared, mismatches, tunnels, maxDepth, decoder: dec };
}

// ---------------------------------------------------------------------------------------------------------------

interface Case {
  /** Path under ../shared/datasets. */
  path: string;
  /** What the capture exercises. */
  what: string;
  /** Tunnel codes that must be seen. */
  tunnels?: number[];
  /** Expected deepest tunnel nesting (default: 1 when `tunnels` lists a tunnel, else 0). */
  depth?: number;
  /** Minimum share of packets decoded as IP and compared (default 0.5). */
  minCompared?: number;
  max?: number;
}

const NF = 'peers/nfstream/pcaps/';
const ZK = 'peers/zeek/testing/btest/Traces/';

const CASES: Case[] = [
  { path: 'lab/train/capture.pcap', what: 'lab: Ethernet, IPv4, snaplen 256 (first 20k packets)', max: 20_000, minCompared: 0.99 },
  { path: `${NF}KakaoTalk_talk.pcap`, what: 'Linux SLL', minCompared: 0.99 },
  { path: `${NF}mdns.pcap`, what: 'Linux SLL, IPv4+IPv6 multicast' },
  { path: `${NF}reasm_crash_anon.pcapng`, what: 'pcapng, Linux SLL, bogus IP lengths' },
  { path: `${NF}rdp.pcap`, what: 'BSD NULL', minCompared: 0.99 },
  { path: `${NF}nats.pcap`, what: 'BSD NULL' },
  { path: `${NF}dlt_ppp.pcap`, what: 'PPP' },
  { path: `${NF}BGP_Cisco_hdlc_slarp.pcap`, what: 'PPP link type carrying Cisco HDLC' },
  { path: `${NF}BGP_redist.pcap`, what: 'Cisco HDLC + MPLS' },
  { path: `${NF}raw.pcap`, what: 'raw IP' },
  { path: `${NF}ja3_lots_of_cipher_suites.pcap`, what: 'double 802.1Q tags' },
  { path: `${NF}ajp.pcap`, what: '802.1Q, Cisco FabricPath' },
  { path: `${NF}android.pcap`, what: 'IPv6 hop-by-hop' },
  { path: `${NF}http_ipv6.pcap`, what: 'IPv6 TCP' },
  { path: `${NF}dhcp_big_endian.pcapng`, what: 'big-endian pcapng' },
  { path: `${NF}dns_fragmented.pcap`, what: 'IPv4 and IPv6 fragments' },
  { path: `${NF}ip_fragmented_garbage.pcap`, what: 'fragment garbage' },
  { path: `${NF}badpackets.pcap`, what: 'malformed packets' },
  { path: `${NF}malformed_icmp.pcap`, what: 'malformed ICMP' },
  { path: `${NF}4in4tunnel.pcap`, what: 'IPv4 in IPv4 over QinQ', tunnels: [Tunnel.IPIP] },
  { path: `${NF}4in6tunnel.pcap`, what: 'IPv4 in IPv6', tunnels: [Tunnel.IPIP] },
  { path: `${NF}6in4tunnel.pcap`, what: 'IPv6 in IPv4', tunnels: [Tunnel.IP6] },
  { path: `${NF}6in6tunnel.pcap`, what: 'IPv6 in IPv6', tunnels: [Tunnel.IP6] },
  { path: `${NF}gtp-u.pcap`, what: 'GTP-U', tunnels: [Tunnel.GTP_U] },
  { path: `${NF}ipv6_in_gtp.pcap`, what: 'IPv6 in GTP-U over QinQ', tunnels: [Tunnel.GTP_U] },
  { path: `${NF}capwap.pcap`, what: 'CAPWAP data with 802.11', tunnels: [Tunnel.CAPWAP], minCompared: 0.4 },
  { path: `${NF}teredo.pcap`, what: 'Teredo stays UDP', tunnels: [Tunnel.NONE] },
  { path: `${ZK}erspanI.pcap`, what: 'ERSPAN I', tunnels: [Tunnel.ERSPAN] },
  { path: `${ZK}erspanII.pcap`, what: 'ERSPAN II', tunnels: [Tunnel.ERSPAN] },
  { path: `${ZK}erspanIII.pcap`, what: 'ERSPAN III', tunnels: [Tunnel.ERSPAN] },
  { path: `${ZK}erspan.pcap`, what: 'GRE transparent Ethernet bridging, fragments', tunnels: [Tunnel.GRE] },
  { path: `${ZK}tunnels/gre-sample.pcap`, what: 'GRE', tunnels: [Tunnel.GRE] },
  { path: `${ZK}tunnels/gre-pptp.pcap`, what: 'IPv4-in-IPv6 carrying PPTP enhanced GRE', tunnels: [Tunnel.IPIP], depth: 2 },
  { path: `${ZK}tunnels/gre-within-gre.pcap`, what: 'GRE in GRE', tunnels: [Tunnel.GRE], depth: 2 },
  { path: `${ZK}tunnels/gre-erspan3-dot1q.pcap`, what: 'ERSPAN III with 802.1Q', tunnels: [Tunnel.ERSPAN] },
  { path: `${ZK}tunnels/vxlan.pcap`, what: 'VXLAN', tunnels: [Tunnel.VXLAN] },
  { path: `${ZK}tunnels/vxlan-triple-v2.pcap`, what: 'VXLAN nested', tunnels: [Tunnel.VXLAN], depth: 3 },
  { path: `${ZK}tunnels/geneve.pcap`, what: 'Geneve', tunnels: [Tunnel.GENEVE] },
  { path: `${ZK}tunnels/6in6in6.pcap`, what: 'IPv6 in IPv6 in IPv6', tunnels: [Tunnel.IP6], depth: 2 },
  { path: `${ZK}tunnels/ping6-in-ipv4.pcap`, what: 'ICMPv6 in IPv4', tunnels: [Tunnel.IP6] },
  { path: `${ZK}tunnels/Teredo.pcap`, what: 'Teredo stays UDP', tunnels: [Tunnel.NONE] },
  { path: `${ZK}tunnels/gtp/gtp_ext_header.pcap`, what: 'GTP-U extension headers', tunnels: [Tunnel.GTP_U] },
  { path: `${ZK}tunnels/gtp/gtp7_ipv6.pcap`, what: 'GTP-U IPv6', tunnels: [Tunnel.GTP_U] },
  { path: `${ZK}linux_dlt_sll2.pcap`, what: 'Linux SLL2' },
  { path: `${ZK}radiotap.pcap`, what: '802.11 radiotap' },
  { path: `${ZK}wlanmon.pcap`, what: '802.11' },
  { path: `${ZK}pppoe.pcap`, what: 'PPPoE session', minCompared: 0.3 },
  { path: `${ZK}vlan-qinqinq.pcap`, what: 'three VLAN tags' },
  { path: `${ZK}mpls-in-vlan.pcap`, what: 'MPLS in 802.1Q' },
  { path: `${ZK}mixed-vlan-mpls.pcap`, what: 'VLAN and MPLS mixed' },
  { path: `${ZK}nflog-http.pcap`, what: 'NFLOG' },
  { path: `${ZK}llc.pcap`, what: 'FDDI with LLC/SNAP' },
  { path: `${ZK}pbb.pcap`, what: '802.1ah PBB' },
  { path: `${ZK}cisco-fabric-path.pcap`, what: 'Cisco FabricPath, SCTP' },
  { path: `${ZK}ipv6-hbh-routing0.pcap`, what: 'IPv6 hop-by-hop + routing' },
  { path: `${ZK}ip6_esp.pcap`, what: 'IPv6 ESP' },
  { path: `${ZK}ipv6_zero_len_ah.pcap`, what: 'IPv6 AH' },
  { path: `${ZK}ipv6-fragmented-dns.pcap`, what: 'IPv6 fragments' },
  { path: `${ZK}vntag_vlan_sandwich_clean.pcap`, what: 'VN-Tag' },
];

describeShared('decode: real captures', () => {
  it('decodes every nfstream test capture without an exception or an unknown link type', () => {
    const dir = sharedPath('peers', 'nfstream', 'pcaps');
    const out = new DecodedPacket();
    let packets = 0;
    let ip = 0;
    const dec = new Decoder();
    for (const f of readdirSync(dir)) {
      for (const p of readRecords(`${dir}/${f}`)) {
        packets++;
        if (dec.decode(p, out)) ip++;
      }
    }
    expect(packets).toBeGreaterThan(50_000);
    expect(ip / packets).toBeGreaterThan(0.98);
    expect(dec.counters().unknownLinkTypes).toEqual([]);
  }, 120_000);

  const tshark = hasTshark();
  const suite = tshark ? describe : describe.skip;
  suite(tshark ? 'per packet against tshark' : 'per packet against tshark [skipped: tshark not found on PATH]', () => {
    for (const c of CASES) {
      const file = sharedPath(...c.path.split('/'));
      const run = existsSync(file) ? it : it.skip;
      run(`${c.path} (${c.what})`, () => {
        const r = compareWithTshark(file, c.max);
        expect(r.mismatches).toEqual({});
        expect(r.compared / r.packets).toBeGreaterThanOrEqual(c.minCompared ?? 0.5);
        for (const t of c.tunnels ?? []) expect(r.tunnels.has(t), `tunnel ${t} seen`).toBe(true);
        if (c.tunnels && !c.tunnels.includes(Tunnel.NONE)) expect(r.decoder.tunneled).toBeGreaterThan(0);
        expect(r.maxDepth).toBe(c.depth ?? (c.tunnels?.some((t) => t !== Tunnel.NONE) ? 1 : 0));
      }, 120_000);
    }
  });
});

/**
 * Zeek-style conn_state and history (src/features/families/conn-state.ts): hand-built TCP/UDP exchanges for every
 * conn_state value with the history Zeek writes for them (scripts/base/protocols/conn/main.zeek), and on shared
 * data agreement with Zeek's conn.log baselines and the expected states of the lab capture's attacks.
 */
import { describe, expect, it } from 'vitest';
import { readCaptureSync } from '../src/capture/reader.js';
import { Decoder } from '../src/decode/decoder.js';
import { DecodedPacket } from '../src/decode/types.js';
import { ConnStateFamily, type ConnStateOptions } from '../src/features/families/conn-state.js';
import { FlowMeter } from '../src/features/meter.js';
import { FlowTable, type FlowObserver } from '../src/flow/table.js';
import type { BaselineResult } from '../scripts/zeek-conn-agreement.js';
import {
  connLabel, reasonFor, runAgreement, summarize, zeekLikeOptions, ZEEK_DIR,
} from '../scripts/zeek-conn-agreement.js';
import { IpProto, pkt, TcpFlag, tcpConversation } from './helpers/packets.js';
import { describeShared, sharedPath } from './helpers/shared.js';
import { join } from 'node:path';

const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

/** Runs packets through a meter; returns each flow's conn_state and history, in expiry order. */
function run(packets: DecodedPacket[]): { state: string; history: string }[] {
  const out: { state: string; history: string }[] = [];
  const meter = new FlowMeter((f) => {
    const cols = meter.featureSet.textColumns.map((c) => c.name);
    out.push({ state: f.text[cols.indexOf('conn_state')]!, history: f.text[cols.indexOf('history')]! });
  });
  for (const p of packets) meter.pushDecoded(p);
  meter.finish();
  return out;
}

/**
 * A TCP exchange with real sequence numbers: `c(...)` / `s(...)` send from the client / server at 1 ms steps,
 * acknowledging everything the peer sent; `seq` overrides the sequence number (retransmissions).
 */
function exchange(client = '10.0.0.1', cport = 40000, server = '10.0.0.2', sport = 8080) {
  const k = tcpConversation(client, cport, server, sport);
  const next = { c: 1000, s: 900000 };
  let t = 0;
  const send = (side: 'c' | 's', flags: number, payload = 0, o: { seq?: number; window?: number } = {}) => {
    t += 1000;
    const p = k[side](t, flags, payload, o.window ?? 29200);
    const seq = o.seq ?? next[side];
    p.tcpSeq = seq >>> 0;
    p.tcpAck = flags & ACK ? next[side === 'c' ? 's' : 'c'] >>> 0 : 0;
    const end = seq + payload + (flags & SYN ? 1 : 0) + (flags & FIN ? 1 : 0);
    if (!(flags & RST) && end > next[side]) next[side] = end;
    return p;
  };
  return {
    c: (flags: number, payload = 0, o = {}) => send('c', flags, payload, o),
    s: (flags: number, payload = 0, o = {}) => send('s', flags, payload, o),
  };
}

/** The 3-way handshake of an exchange. */
const handshake = (x: ReturnType<typeof exchange>) => [x.c(SYN), x.s(SYN | ACK), x.c(ACK)];

describe('conn_state values with Zeek\'s history (hand-built TCP)', () => {
  it('S0: a SYN, retransmitted with the same sequence number, no reply', () => {
    const x = exchange();
    const syn = x.c(SYN);
    expect(run([syn, x.c(SYN, 0, { seq: syn.tcpSeq })])).toEqual([{ state: 'S0', history: 'S' }]);
  });

  it('S1: established, data both ways, not closed (a data segment with ACK is d, not a)', () => {
    const x = exchange();
    expect(run([...handshake(x), x.c(PSH | ACK, 100), x.s(PSH | ACK, 300)])).toEqual([{ state: 'S1', history: 'ShADd' }]);
    const y = exchange();
    expect(run([...handshake(y), y.c(PSH | ACK, 100), y.s(ACK), y.s(PSH | ACK, 300)])).toEqual([{ state: 'S1', history: 'ShADad' }]);
  });

  it('SF: established and closed by FIN both ways (the last ACK adds nothing)', () => {
    const x = exchange();
    expect(run([
      ...handshake(x), x.c(PSH | ACK, 100), x.s(ACK), x.s(PSH | ACK, 300), x.c(ACK),
      x.c(FIN | ACK), x.s(FIN | ACK), x.c(ACK),
    ])).toEqual([{ state: 'SF', history: 'ShADadFf' }]);
  });

  it('REJ: SYN answered by RST-ACK', () => {
    const x = exchange();
    expect(run([x.c(SYN), x.s(RST | ACK)])).toEqual([{ state: 'REJ', history: 'Sr' }]);
  });

  it('S2: established, the originator closed, no reply', () => {
    const x = exchange();
    expect(run([...handshake(x), x.c(FIN | ACK)])).toEqual([{ state: 'S2', history: 'ShAF' }]);
  });

  it('S3: established, the responder closed, no reply', () => {
    const x = exchange();
    expect(run([...handshake(x), x.s(FIN | ACK)])).toEqual([{ state: 'S3', history: 'ShAf' }]);
  });

  it('RSTO: established, the originator aborts', () => {
    const x = exchange();
    expect(run([...handshake(x), x.c(PSH | ACK, 10), x.c(RST | ACK)])).toEqual([{ state: 'RSTO', history: 'ShADR' }]);
  });

  it('RSTO also for SYN, SYN-ACK, RST (a SYN flood from a host whose kernel resets the SYN-ACK)', () => {
    const x = exchange();
    expect(run([x.c(SYN), x.s(SYN | ACK), x.c(RST)])).toEqual([{ state: 'RSTO', history: 'ShR' }]);
  });

  it('RSTR: established, the responder aborts', () => {
    const x = exchange();
    expect(run([...handshake(x), x.s(RST | ACK)])).toEqual([{ state: 'RSTR', history: 'ShAr' }]);
  });

  it('RSTOS0: SYN then RST from the originator, no SYN-ACK', () => {
    const x = exchange();
    expect(run([x.c(SYN), x.c(RST)])).toEqual([{ state: 'RSTOS0', history: 'SR' }]);
  });

  it('RSTRH: SYN-ACK then RST from the responder, no SYN (the SYN-ACK\'s server port makes Zeek flip: ^)', () => {
    const x = exchange('10.0.0.1', 40000, '10.0.0.2', 80);
    expect(run([x.s(SYN | ACK), x.s(RST)])).toEqual([{ state: 'RSTRH', history: '^hr' }]);
  });

  it('SH: SYN then FIN from the originator, no SYN-ACK', () => {
    const x = exchange();
    expect(run([x.c(SYN), x.c(FIN)])).toEqual([{ state: 'SH', history: 'SF' }]);
  });

  it('SHR: SYN-ACK then FIN from the responder, no SYN', () => {
    const x = exchange('10.0.0.1', 40000, '10.0.0.2', 443);
    expect(run([x.s(SYN | ACK), x.s(FIN | ACK)])).toEqual([{ state: 'SHR', history: '^hf' }]);
  });

  it('OTH: midstream data, no SYN (both sides partial)', () => {
    const x = exchange();
    expect(run([x.c(PSH | ACK, 50), x.s(PSH | ACK, 80), x.c(ACK)])).toEqual([{ state: 'OTH', history: 'DdA' }]);
  });
});

describe('history letters', () => {
  it('t/T are logarithmic: the 1st and the 10th retransmission add a letter, the 2nd … 9th do not', () => {
    const x = exchange();
    const hs = handshake(x);
    const data = x.c(PSH | ACK, 100);
    const again = Array.from({ length: 10 }, () => x.c(PSH | ACK, 100, { seq: data.tcpSeq }));
    expect(run([...hs, data, ...again.slice(0, 9)])[0]!.history).toBe('ShADT');
    expect(run([...hs, data, ...again])[0]!.history).toBe('ShADTT');
  });

  it('w: zero-window advertisements (1st and 10th), not with a RST', () => {
    const x = exchange();
    const start = [...handshake(x), x.c(PSH | ACK, 10)];
    const zw = Array.from({ length: 10 }, () => x.s(ACK, 0, { window: 0 }));
    expect(run([...start, ...zw, x.s(RST | ACK, 0, { window: 0 })]))
      .toEqual([{ state: 'RSTR', history: 'ShADawwr' }]);
  });

  it('a, d, q, i at most once per side; r (f, s, h) again for a new relative sequence number', () => {
    const x = exchange();
    const h = run([
      ...handshake(x), x.c(PSH | ACK, 10), x.c(PSH | ACK, 10), x.s(ACK), x.s(ACK),
      x.c(SYN | FIN), x.c(SYN | FIN), x.s(FIN | RST | ACK), x.s(FIN | RST | ACK),
    ])[0]!.history;
    expect(h).toBe('ShADaQi');
    const y = exchange();
    const hs = handshake(y);
    const rst = y.c(RST);
    expect(run([...hs, rst, y.c(RST, 0, { seq: rst.tcpSeq }), y.c(RST, 0, { seq: rst.tcpSeq + 5 })]))
      .toEqual([{ state: 'RSTO', history: 'ShARR' }]);
    // A new SYN re-bases the sequence space (Zeek's init_endpoint), so its relative number is 0 again: one S.
    const z = exchange();
    expect(run([z.c(SYN), z.c(SYN, 0, { seq: 77 })])[0]!.history).toBe('S');
  });

  it('^ when a connection that began with a SYN-ACK continues with an ACK (zeek/zeek#2191): history "^h…"', () => {
    const x = exchange('10.0.0.1', 40001, '10.0.0.2', 40002); // no likely server port: no flip at the first packet
    expect(run([x.s(SYN | ACK), x.c(ACK), x.c(PSH | ACK, 20), x.s(PSH | ACK, 30)]))
      .toEqual([{ state: 'S1', history: '^hADd' }]);
  });

  it('^ at the first packet when it comes from a likely server port (missing SYN)', () => {
    const x = exchange('10.0.0.1', 40000, '10.0.0.2', 80);
    expect(run([x.s(SYN | ACK), x.c(ACK), x.c(PSH | ACK, 20), x.s(FIN | ACK), x.c(FIN | ACK)]))
      .toEqual([{ state: 'SF', history: '^hADfF' }]);
  });

  it('a SYN/SYN-ACK reversal flips the roles during the connection', () => {
    const x = exchange('10.0.0.1', 40001, '10.0.0.2', 40002);
    expect(run([x.s(SYN | ACK), x.c(SYN), x.s(ACK)])).toEqual([{ state: 'S1', history: 'Hs^a' }]);
  });
});

describe('UDP, ICMP and other protocols', () => {
  const u = (t: number, src: string, dst: string, sport: number, dport: number, payload = 20) =>
    pkt({ t, src, dst, sport, dport, proto: IpProto.UDP, payload });
  it('UDP: SF both sides, S0 originator only, SHR (with ^) when only a likely server port spoke', () => {
    expect(run([u(0, '10.0.0.1', '10.0.0.2', 5555, 53), u(1000, '10.0.0.2', '10.0.0.1', 53, 5555)]))
      .toEqual([{ state: 'SF', history: 'Dd' }]);
    expect(run([u(0, '10.0.0.1', '10.0.0.2', 5555, 9999), u(1000, '10.0.0.1', '10.0.0.2', 5555, 9999)]))
      .toEqual([{ state: 'S0', history: 'D' }]);
    expect(run([u(0, '10.0.0.2', '10.0.0.1', 53, 5555)])).toEqual([{ state: 'SHR', history: '^d' }]);
  });
  it('ICMP and SCTP: OTH with an empty history', () => {
    expect(run([pkt({ t: 0, src: '10.0.0.1', dst: '10.0.0.2', proto: IpProto.ICMP, payload: 56 })]))
      .toEqual([{ state: 'OTH', history: '' }]);
    expect(run([pkt({ t: 0, src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, proto: IpProto.SCTP })]))
      .toEqual([{ state: 'OTH', history: '' }]);
  });
});

/**
 * Runs a capture through the decoder and a flow table with Zeek-like settings and a ConnStateFamily built with
 * `opts` (the registry's instance ignores checksums).
 */
function connStates(path: string, opts: ConnStateOptions): { key: string; state: string; history: string }[] {
  const fam = new ConnStateFamily(opts);
  const out: { key: string; state: string; history: string }[] = [];
  const row = ['', ''];
  const pos = Int32Array.of(0, 1);
  const observer: FlowObserver = {
    onFlowStart: (s, p) => fam.onInit(s, p),
    onPacket: (s, p, d) => fam.onUpdate(s, p, d),
    onFlowEnd: (s) => {
      fam.onExpire(s, table, row, pos);
      out.push({ key: `${table.srcPort(s)}>${table.dstPort(s)}`, state: row[0]!, history: row[1]! });
    },
  };
  const table: FlowTable = new FlowTable(observer, zeekLikeOptions());
  fam.resize(table.capacity);
  table.onResize = (c) => fam.resize(c);
  const dec = new Decoder({ decodeTunnels: true });
  const p = new DecodedPacket();
  readCaptureSync(path, (c) => { if (dec.decode(c, p)) table.process(p); });
  table.flush();
  return out;
}

describeShared('Zeek conn.log agreement (peers/zeek baselines)', () => {
  let cached: Promise<BaselineResult[]> | null = null;
  const agreement = () => (cached ??= runAgreement(zeekLikeOptions()));

  it('conn_state agrees on ≥ 95 % of matched connections, and every disagreement has a known reason', async () => {
    const results = await agreement();
    const s = summarize(results);
    expect(s.matched).toBeGreaterThan(500);
    expect(s.stateAgree / s.stateCompared).toBeGreaterThanOrEqual(0.95);
    expect(s.historyAgree / s.historyCompared).toBeGreaterThanOrEqual(0.9);
    const unexplained = results.flatMap((r) => r.matches)
      .filter((m) => (m.stateOk === false || m.historyOk === false) && !reasonFor(m.baseline, connLabel(m.zeek)))
      .map((m) => `${m.baseline} ${connLabel(m.zeek)}: ${m.zeek.connState} ${m.zeek.history} vs ${m.sift.connState} ${m.sift.history}`);
    expect(unexplained).toEqual([]);
  });

  it('exact agreement (every row, conn_state and history) on traces covering every kind of state', async () => {
    const exact = new Set(summarize(await agreement()).exact);
    for (const b of [
      'opt.basic', 'core.history-flip', 'core.tcp.missing-syn', 'core.tcp.flip-without-syn', 'core.local-flip',
      'core.vlan-mpls', 'core.pppoe-over-qinq', 'core.cisco-fabric-path', 'core.mpls-in-vlan', 'core.unknown-ip-protocol',
      'scripts.base.protocols.pop3.basic', 'scripts.base.protocols.pop3.bad-list-retr-crafted',
      'scripts.base.protocols.modbus.modbus_and_non_modbus_on_port_502', 'scripts.base.protocols.ssh.basic',
      'scripts.base.protocols.ssh.half-duplex-server', 'scripts.base.protocols.http.http-connect',
      'scripts.base.protocols.dhcp.dhcp-all-msg-types', 'scripts.base.protocols.irc.starttls',
      'scripts.base.protocols.krb.krb-service-name', 'scripts.base.protocols.ftp.ftp-ipv6',
      'scripts.base.protocols.redis.django-cloud', 'scripts.base.protocols.http.http-connect-with-header',
    ]) expect(exact.has(b), b).toBe(true);
  });

  it('with validateChecksums, bad checksums give Zeek\'s c letters and OTH (Zeek run without -C)', () => {
    const traces = join(ZEEK_DIR, 'testing', 'btest', 'Traces');
    // core.udp-corrupt: both datagrams have bad UDP checksums → OTH Cc; default (zeek -C): SF Dd.
    expect(connStates(join(traces, 'dns', 'dns-corrupt.pcap'), { validateChecksums: true }).map((f) => [f.state, f.history]))
      .toEqual([['OTH', 'Cc']]);
    expect(connStates(join(traces, 'dns', 'dns-corrupt.pcap'), {}).map((f) => [f.state, f.history])).toEqual([['SF', 'Dd']]);
    // core.tcp.bad-checksum-syn: a lone SYN with a bad checksum → OTH C.
    expect(connStates(join(traces, 'tcp', 'syn-bad.pcap'), { validateChecksums: true }).map((f) => [f.state, f.history]))
      .toEqual([['OTH', 'C']]);
    // field-name-map2: the responder's packets have a zero IPv4 header checksum and are dropped → S0 SAD.
    expect(connStates(join(traces, 'auth_change_session_keys.pcap'), { validateChecksums: true }).map((f) => [f.state, f.history]))
      .toEqual([['S0', 'SAD']]);
  });
});

describeShared('lab capture (lab/train/capture.pcap): the attacks\' connection states', () => {
  it('nmap SYN scan from 10.77.0.66 is REJ Sr (closed ports) and RSTO ShR (the 4 open ports); the hping3 SYN '
    + 'flood from 10.77.0.67 is RSTO ShR (the flooding host\'s kernel resets each SYN-ACK)', async () => {
    const { extractCapture } = await import('../src/features/extract.js');
    const { createFeatureSet } = await import('../src/features/registry.js');
    const cols = createFeatureSet().textColumns.map((c) => c.name);
    const si = cols.indexOf('conn_state'), hi = cols.indexOf('history');
    const byHost = new Map<string, Map<string, number>>();
    await extractCapture(sharedPath('lab', 'train', 'capture.pcap'), (f) => {
      const host = f.srcIp === '10.77.0.10' ? f.dstIp : f.srcIp;
      const k = `${f.text[si]} ${f.text[hi]}`;
      const m = byHost.get(host) ?? new Map<string, number>();
      byHost.set(host, m);
      m.set(k, (m.get(k) ?? 0) + 1);
    });
    expect(Object.fromEntries(byHost.get('10.77.0.66')!)).toEqual({ 'REJ Sr': 1996, 'RSTO ShR': 4 });
    expect(Object.fromEntries(byHost.get('10.77.0.67')!)).toEqual({ 'RSTO ShR': 20000 });
    // Benign clients: mostly normal closes; no attempt, rejection or half-open state.
    for (const c of ['10.77.0.21', '10.77.0.22', '10.77.0.23']) {
      const m = byHost.get(c)!;
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      const sf = [...m].filter(([k]) => k.startsWith('SF ')).reduce((a, [, v]) => a + v, 0);
      expect(sf / total, c).toBeGreaterThan(0.95);
      expect([...m.keys()].filter((k) => /^(S0|REJ|SH|SHR|RSTOS0|RSTRH|OTH) /.test(k)), c).toEqual([]);
    }
  }, 60_000);
});

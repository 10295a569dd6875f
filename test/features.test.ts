/**
 * Feature families on hand-built flows whose values are computed by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import type { DecodedPacket } from '../src/decode/types.js';
import { FlowMeter } from '../src/features/meter.js';
import { CIC_FEATURE_ORDER, createFeatureSet } from '../src/features/registry.js';
import { IpProto, pkt, TcpFlag, tcpConversation } from './helpers/packets.js';
import { readFileSync, existsSync } from 'node:fs';
import { SHARED } from './helpers/shared.js';
import { join } from 'node:path';

const { SYN, ACK, FIN, PSH } = TcpFlag;

/** Runs packets through a meter; returns each flow's features by name. */
function flows(packets: DecodedPacket[], opts = {}): Record<string, number>[] {
  const out: Record<string, number>[] = [];
  const meter = new FlowMeter((f) => {
    const names = meter.featureSet.features.map((d) => d.name);
    out.push(Object.fromEntries(names.map((n, i) => [n, f.features[i]])));
  }, opts);
  for (const p of packets) meter.pushDecoded(p);
  meter.finish();
  return out;
}

describe('feature registry', () => {
  it('has CICFlowMeter 4\'s 76 numeric features in its column order', () => {
    const names = createFeatureSet().features.map((f) => f.name);
    expect(names.slice(0, 76)).toEqual([...CIC_FEATURE_ORDER]);
    expect(CIC_FEATURE_ORDER).toHaveLength(76);
    const ref = join(SHARED, 'reference', 'cicflowmeter4-columns.txt');
    if (existsSync(ref)) {
      const cols = readFileSync(ref, 'utf8').trim().split('\n');
      expect(cols.slice(7, 83)).toEqual([...CIC_FEATURE_ORDER]);
    }
  });

  it('documents every feature with a unit and a definition', () => {
    for (const f of createFeatureSet().features) {
      expect(f.unit, f.name).toBeTruthy();
      expect(f.description.length, f.name).toBeGreaterThan(10);
    }
  });
});

describe('CICFlowMeter features on a hand-computed TCP connection', () => {
  // c→s: t=0 SYN (hdr 40, win 64240), 2000 ACK, 3000 PSH|ACK 100 B, 8000 FIN|ACK, 10000 ACK
  // s→c: t=1000 SYN|ACK (hdr 40, win 65160), 5000 ACK (win 509), 6000 PSH|ACK 300 B, 9000 FIN|ACK
  const k = tcpConversation('192.168.1.5', 50000, '192.168.1.9', 443);
  const P = (p: DecodedPacket, hdr: number) => { p.l4HeaderLen = hdr; return p; };
  const [f] = flows([
    P(k.c(0, SYN, 0, 64240), 40), P(k.s(1000, SYN | ACK, 0, 65160), 40), P(k.c(2000, ACK, 0, 502), 32),
    P(k.c(3000, PSH | ACK, 100, 502), 32), P(k.s(5000, ACK, 0, 509), 32), P(k.s(6000, PSH | ACK, 300, 509), 32),
    P(k.c(8000, FIN | ACK, 0, 502), 32), P(k.s(9000, FIN | ACK, 0, 509), 32), P(k.c(10000, ACK, 0, 502), 32),
  ]);

  it('counts, lengths and rates', () => {
    expect(f['Flow Duration']).toBe(10000);
    expect([f['Total Fwd Packet'], f['Total Bwd packets']]).toEqual([5, 4]);
    expect([f['Total Length of Fwd Packet'], f['Total Length of Bwd Packet']]).toEqual([100, 300]);
    // fwd payloads 0,0,100,0,0: mean 20, sample var (4·400 + 6400)/4 = 2000
    expect([f['Fwd Packet Length Max'], f['Fwd Packet Length Min'], f['Fwd Packet Length Mean']]).toEqual([100, 0, 20]);
    expect(f['Fwd Packet Length Std']).toBeCloseTo(Math.sqrt(2000), 10);
    // bwd payloads 0,0,300,0: mean 75, sample var (3·5625 + 50625)/3 = 22500
    expect(f['Bwd Packet Length Mean']).toBe(75);
    expect(f['Bwd Packet Length Std']).toBeCloseTo(150, 10);
    expect(f['Flow Bytes/s']).toBeCloseTo(400 / 0.01, 6);
    expect(f['Flow Packets/s']).toBeCloseTo(900, 8);
    expect(f['Fwd Packets/s']).toBeCloseTo(500, 8);
    expect(f['Bwd Packets/s']).toBeCloseTo(400, 8);
    // all 9 payloads: mean 400/9; sample variance (100000 − 9·(400/9)²)/8
    expect(f['Packet Length Mean']).toBeCloseTo(400 / 9, 10);
    expect(f['Packet Length Variance']).toBeCloseTo((100000 - 160000 / 9) / 8, 8);
    expect(f['Packet Length Std']).toBeCloseTo(Math.sqrt((100000 - 160000 / 9) / 8), 8);
    expect(f['Down/Up Ratio']).toBe(0.8);
    expect(f['Average Packet Size']).toBeCloseTo(400 / 9, 10);
    expect([f['Fwd Segment Size Avg'], f['Bwd Segment Size Avg']]).toEqual([20, 75]);
    expect(f['Fwd Act Data Pkts']).toBe(1);
  });

  it('inter-arrival times', () => {
    // flow gaps: six of 1000 µs, two of 2000 µs
    expect([f['Flow IAT Mean'], f['Flow IAT Max'], f['Flow IAT Min']]).toEqual([1250, 2000, 1000]);
    expect(f['Flow IAT Std']).toBeCloseTo(Math.sqrt(1_500_000 / 7), 8);
    // fwd gaps 2000, 1000, 5000, 2000
    expect([f['Fwd IAT Total'], f['Fwd IAT Mean'], f['Fwd IAT Max'], f['Fwd IAT Min']]).toEqual([10000, 2500, 5000, 1000]);
    expect(f['Fwd IAT Std']).toBeCloseTo(Math.sqrt(3_000_000), 8);
    // bwd gaps 4000, 1000, 3000
    expect([f['Bwd IAT Total'], f['Bwd IAT Max'], f['Bwd IAT Min']]).toEqual([8000, 4000, 1000]);
    expect(f['Bwd IAT Mean']).toBeCloseTo(8000 / 3, 8);
    expect(f['Bwd IAT Std']).toBeCloseTo(Math.sqrt(7_000_000 / 3), 6);
  });

  it('flags, headers and initial windows', () => {
    expect([f['Fwd PSH Flags'], f['Bwd PSH Flags'], f['Fwd URG Flags'], f['Bwd URG Flags']]).toEqual([1, 1, 0, 0]);
    expect([f['FIN Flag Count'], f['SYN Flag Count'], f['RST Flag Count'], f['PSH Flag Count'], f['ACK Flag Count'],
      f['URG Flag Count'], f['CWR Flag Count'], f['ECE Flag Count']]).toEqual([2, 2, 0, 2, 8, 0, 0, 0]);
    expect([f['Fwd Header Length'], f['Bwd Header Length']]).toEqual([40 + 4 * 32, 40 + 3 * 32]);
    // The FIRST window of each side, not the last (CICFlowMeter's backward bug).
    expect([f['FWD Init Win Bytes'], f['Bwd Init Win Bytes']]).toEqual([64240, 65160]);
    expect(f['Fwd Seg Size Min']).toBe(32);
  });

  it('one active period, no idle, one subflow, no bulk', () => {
    expect([f['Active Mean'], f['Active Std'], f['Active Max'], f['Active Min']]).toEqual([10000, 0, 10000, 10000]);
    expect([f['Idle Mean'], f['Idle Max'], f['Idle Min']]).toEqual([0, 0, 0]);
    expect([f['Subflow Fwd Packets'], f['Subflow Fwd Bytes'], f['Subflow Bwd Packets'], f['Subflow Bwd Bytes']]).toEqual([5, 100, 4, 300]);
    expect([f['Fwd Bytes/Bulk Avg'], f['Bwd Bytes/Bulk Avg']]).toEqual([0, 0]);
  });
});

describe('active/idle and subflows (5 s activity timeout, 1 s subflow gap)', () => {
  // UDP packets at 0, 1 s, 7 s, 8 s, 20 s: active [0,1 s], [7 s,8 s], [20 s] (zero, skipped); idle 6 s, 12 s.
  const u = (s: number, dir = 0) => pkt({ t: s * 1e6, src: dir ? '10.0.0.2' : '10.0.0.1', dst: dir ? '10.0.0.1' : '10.0.0.2', sport: dir ? 53 : 999, dport: dir ? 999 : 53, proto: IpProto.UDP, payload: 10 });
  const [f] = flows([u(0), u(1, 1), u(7), u(8, 1), u(20)]);
  it('active and idle statistics', () => {
    expect([f['Active Mean'], f['Active Std'], f['Active Max'], f['Active Min']]).toEqual([1e6, 0, 1e6, 1e6]);
    expect([f['Idle Mean'], f['Idle Max'], f['Idle Min']]).toEqual([9e6, 12e6, 6e6]);
    expect(f['Idle Std']).toBeCloseTo(Math.sqrt(18e12), 3);
  });
  it('subflows split at gaps > 1 s (a 1 s gap does not split): 3 subflows', () => {
    expect(f['Subflow Fwd Packets']).toBeCloseTo(3 / 3, 12);
    expect(f['Subflow Bwd Packets']).toBeCloseTo(2 / 3, 12);
    expect(f['Subflow Fwd Bytes']).toBeCloseTo(30 / 3, 12);
    expect(f['Subflow Bwd Bytes']).toBeCloseTo(20 / 3, 12);
  });
  it('UDP flows have no TCP window: Init Win Bytes is -1, header length 8 per packet', () => {
    expect([f['FWD Init Win Bytes'], f['Bwd Init Win Bytes']]).toEqual([-1, -1]);
    expect([f['Fwd Header Length'], f['Bwd Header Length'], f['Fwd Seg Size Min']]).toEqual([24, 16, 8]);
  });
});

describe('bulk transfer (≥ 4 data packets one way, gaps ≤ 1 s, broken by the other side)', () => {
  const k = tcpConversation('10.0.0.1', 40000, '10.0.0.2', 80);
  // fwd data at 0, .1, .2, .3, .4 s (1000 B each) → one bulk of 5 packets, 5000 B, 0.4 s;
  // bwd data at .5 s breaks it; fwd data at .6, .7 s is only a candidate (2 packets).
  const [f] = flows([
    k.c(0, ACK, 1000), k.c(100_000, ACK, 1000), k.c(200_000, ACK, 1000), k.c(300_000, ACK, 1000), k.c(400_000, ACK, 1000),
    k.s(500_000, ACK, 10), k.c(600_000, ACK, 1000), k.c(700_000, ACK, 1000),
  ]);
  it('forward bulk averages', () => {
    expect([f['Fwd Bytes/Bulk Avg'], f['Fwd Packet/Bulk Avg']]).toEqual([5000, 5]);
    expect(f['Fwd Bulk Rate Avg']).toBeCloseTo(5000 / 0.4, 6);
    expect([f['Bwd Bytes/Bulk Avg'], f['Bwd Packet/Bulk Avg'], f['Bwd Bulk Rate Avg']]).toEqual([0, 0, 0]);
  });
});

describe('degenerate flows never give NaN or Infinity', () => {
  it('a single-packet flow', () => {
    const [f] = flows([pkt({ t: 5, src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, flags: SYN })]);
    for (const [name, v] of Object.entries(f)) expect(Number.isFinite(v), name).toBe(true);
    expect([f['Flow Duration'], f['Flow Bytes/s'], f['Flow Packets/s'], f['Flow IAT Mean']]).toEqual([0, 0, 0, 0]);
    expect(f['Down/Up Ratio']).toBe(0);
  });
});

describe('docs/features.md', () => {
  it('is the registry rendered (regenerate with npm run docs)', async () => {
    const { featuresMarkdown } = await import('../src/features/doc.js');
    const { REPO } = await import('./helpers/shared.js');
    expect(readFileSync(join(REPO, 'docs', 'features.md'), 'utf8')).toBe(featuresMarkdown());
  });
});

describe('statUnionVariance', () => {
  it('equals the variance of one block fed both sets of values, and is 0 below two values', async () => {
    const { STAT_SIZE, statAdd, statReset, statUnionVariance, statVariance } = await import('../src/features/stats.js');
    let seed = 7;
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32; };
    const a = new Float64Array(3 * STAT_SIZE);
    for (let trial = 0; trial < 200; trial++) {
      for (let b = 0; b < 3; b++) statReset(a, b * STAT_SIZE);
      // Either side may be empty; packet-length-like integers or wide-ranging reals.
      const nx = Math.floor(rnd() * 6), ny = Math.floor(rnd() * 6), wide = trial % 2 === 1;
      for (let k = 0; k < nx + ny; k++) {
        const v = wide ? (rnd() - 0.3) * 10 ** Math.floor(rnd() * 8) : Math.floor(rnd() * 1500);
        statAdd(a, k < nx ? 0 : STAT_SIZE, v);
        statAdd(a, 2 * STAT_SIZE, v);
      }
      const expected = statVariance(a, 2 * STAT_SIZE), got = statUnionVariance(a, 0, STAT_SIZE);
      if (nx + ny < 2) expect(got).toBe(0);
      else expect(Math.abs(got - expected)).toBeLessThanOrEqual(1e-12 * Math.max(1, expected));
    }
  });
});

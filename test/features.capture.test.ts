/**
 * The CICFlowMeter families end to end on a capture built byte by byte in the test (Ethernet/IPv4/TCP frames
 * written with flowsift's PcapWriter, read back by the reader, decoded, metered), so the hand-computed values
 * of test/features.test.ts also hold through capture parsing and decoding, snaplen truncation included.
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PcapWriter } from '../src/capture/writer.js';
import { extractCapture } from '../src/features/extract.js';
import { createFeatureSet } from '../src/features/registry.js';
import { testDir } from './helpers/tmp.js';

const FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10;

/** An Ethernet II + IPv4 + TCP frame (TCP header `tcpHdr` bytes: 20 + options, payload of `payload` bytes). */
function frame(src: number[], dst: number[], sport: number, dport: number, flags: number, win: number, tcpHdr: number, payload: number): Uint8Array {
  const ipLen = 20 + tcpHdr + payload;
  const b = new Uint8Array(14 + ipLen);
  const v = new DataView(b.buffer);
  b.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
  v.setUint16(12, 0x0800);
  b[14] = 0x45;
  v.setUint16(16, ipLen);
  b[22] = 64;
  b[23] = 6;
  b.set(src, 26);
  b.set(dst, 30);
  v.setUint16(34, sport);
  v.setUint16(36, dport);
  b[46] = (tcpHdr / 4) << 4;
  b[47] = flags;
  v.setUint16(48, win);
  for (let i = 0; i < payload; i++) b[14 + 20 + tcpHdr + i] = 0x41;
  return b;
}

describe('CICFlowMeter features through capture → decode → flow', () => {
  let f: Record<string, number>;
  beforeAll(async () => {
    const path = join(testDir('flowsift-feat-'), 'conn.pcap');
    // snaplen 96: the two data packets are cut, its original length stays in the record.
    const w = new PcapWriter(path, { linkType: 1, snaplen: 96 });
    const C = [192, 168, 1, 5], S = [192, 168, 1, 9];
    const t0 = 1_700_000_000;
    const rec = (us: number, fr: Uint8Array) => w.writeRecord(t0, us * 1000, fr, 0, Math.min(96, fr.length), fr.length);
    rec(0, frame(C, S, 50000, 443, SYN, 64240, 40, 0));
    rec(1000, frame(S, C, 443, 50000, SYN | ACK, 65160, 40, 0));
    rec(2000, frame(C, S, 50000, 443, ACK, 502, 32, 0));
    rec(3000, frame(C, S, 50000, 443, PSH | ACK, 502, 32, 100));
    rec(5000, frame(S, C, 443, 50000, ACK, 509, 32, 0));
    rec(6000, frame(S, C, 443, 50000, PSH | ACK, 509, 32, 300));
    rec(8000, frame(C, S, 50000, 443, FIN | ACK, 502, 32, 0));
    rec(9000, frame(S, C, 443, 50000, FIN | ACK, 509, 32, 0));
    rec(10000, frame(C, S, 50000, 443, ACK, 502, 32, 0));
    w.close();
    const names = createFeatureSet().features.map((d) => d.name);
    const flows: Record<string, number>[] = [];
    const s = await extractCapture(path, (fl) => flows.push(Object.fromEntries(names.map((n, i) => [n, fl.features[i]]))));
    expect(s.capture.truncatedPackets).toBe(2);
    expect(flows).toHaveLength(1);
    f = flows[0];
  });

  it('lengths come from the IP header, not the snaplen-cut bytes', () => {
    expect([f['Total Fwd Packet'], f['Total Bwd packets'], f['Total Length of Fwd Packet'], f['Total Length of Bwd Packet']]).toEqual([5, 4, 100, 300]);
    expect(f['Bwd Packet Length Max']).toBe(300);
    expect(f['Bwd Packet Length Std']).toBeCloseTo(150, 10);
  });

  it('times, flags, headers, windows as computed by hand', () => {
    expect(f['Flow Duration']).toBe(10000);
    expect([f['Flow IAT Mean'], f['Flow IAT Max'], f['Flow IAT Min']]).toEqual([1250, 2000, 1000]);
    expect([f['Fwd IAT Total'], f['Fwd IAT Max'], f['Bwd IAT Total']]).toEqual([10000, 5000, 8000]);
    expect([f['FIN Flag Count'], f['SYN Flag Count'], f['PSH Flag Count'], f['ACK Flag Count']]).toEqual([2, 2, 2, 8]);
    expect([f['Fwd Header Length'], f['Bwd Header Length'], f['Fwd Seg Size Min']]).toEqual([168, 136, 32]);
    expect([f['FWD Init Win Bytes'], f['Bwd Init Win Bytes']]).toEqual([64240, 65160]);
    expect(f['Down/Up Ratio']).toBe(0.8);
    expect(f['Flow Bytes/s']).toBeCloseTo(40000, 6);
  });
});

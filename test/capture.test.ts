/**
 * Capture stage on captures built byte by byte in the test (DataView): classic pcap (µs/ns, both byte
 * orders), pcapng (both byte orders, several sections and interfaces, if_tsresol 10^-k and 2^-k, if_tsoffset,
 * EPB/SPB/obsolete PB, skipped blocks), chunk boundaries, truncation, corrupt length fields, file errors and
 * the pcap writer.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, readdirSync, existsSync, rmSync, mkdirSync, readFileSync, chmodSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { spawn, spawnSync } from 'node:child_process';
import {
  CaptureError,
  createCaptureParser,
  PcapParser,
  PcapngParser,
  PcapWriter,
  readCapture,
  readCaptureStream,
  readCaptureSync,
  type CapturedPacket,
  type CaptureParseOptions,
  type CaptureSummary,
} from '../src/capture/index.js';
import { REPO } from './helpers/shared.js';

// ---------------------------------------------------------------------------------------------------------
// Builders

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Deterministic bytes for packet payloads. */
function payload(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

interface PcapRec {
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
}

/** Classic pcap file (draft-ietf-opsawg-pcap): header + records. */
function pcapFile(o: { le: boolean; nano: boolean; linkType?: number; snaplen?: number }, recs: PcapRec[]): Uint8Array {
  const h = new DataView(new ArrayBuffer(24));
  h.setUint32(0, o.nano ? 0xa1b23c4d : 0xa1b2c3d4, o.le);
  h.setUint16(4, 2, o.le);
  h.setUint16(6, 4, o.le);
  h.setUint32(16, o.snaplen ?? 65535, o.le);
  h.setUint32(20, o.linkType ?? 1, o.le);
  const parts: Uint8Array[] = [new Uint8Array(h.buffer)];
  for (const r of recs) {
    const rh = new DataView(new ArrayBuffer(16));
    rh.setUint32(0, r.sec, o.le);
    rh.setUint32(4, r.frac, o.le);
    rh.setUint32(8, r.data.length, o.le);
    rh.setUint32(12, r.origLen ?? r.data.length, o.le);
    parts.push(new Uint8Array(rh.buffer), r.data);
  }
  return concat(...parts);
}

/** Generic pcapng block (§3.1): type, total length, body padded to 32 bits, total length. */
function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const total = 12 + padded;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, total, le);
  b.set(body, 8);
  dv.setUint32(total - 4, total, le);
  return b;
}

/** Options (§3.5) with opt_endofopt. */
function options(le: boolean, opts: [code: number, value: Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [code, value] of opts) {
    const h = new DataView(new ArrayBuffer(4));
    h.setUint16(0, code, le);
    h.setUint16(2, value.length, le);
    parts.push(new Uint8Array(h.buffer), value, new Uint8Array(((value.length + 3) & ~3) - value.length));
  }
  if (opts.length > 0) parts.push(new Uint8Array(4));
  return concat(...parts);
}

function u8(...bytes: number[]): Uint8Array {
  return new Uint8Array(bytes);
}

function shb(le: boolean, opts: Uint8Array = new Uint8Array(0)): Uint8Array {
  const body = new DataView(new ArrayBuffer(16));
  body.setUint32(0, 0x1a2b3c4d, le);
  body.setUint16(4, 1, le);
  body.setUint16(6, 0, le);
  body.setInt32(8, -1, le);
  body.setInt32(12, -1, le);
  return block(le, 0x0a0d0d0a, concat(new Uint8Array(body.buffer), opts));
}

function i64(le: boolean, v: bigint): Uint8Array {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigInt64(0, v, le);
  return new Uint8Array(dv.buffer);
}

function idb(le: boolean, linkType: number, snaplen: number, o: { tsresol?: number; tsoffset?: bigint } = {}): Uint8Array {
  const h = new DataView(new ArrayBuffer(8));
  h.setUint16(0, linkType, le);
  h.setUint32(4, snaplen, le);
  const opts: [number, Uint8Array][] = [[2, new TextEncoder().encode('eth0')]];
  if (o.tsresol !== undefined) opts.push([9, u8(o.tsresol)]);
  if (o.tsoffset !== undefined) opts.push([14, i64(le, o.tsoffset)]);
  return block(le, 1, concat(new Uint8Array(h.buffer), options(le, opts)));
}

function epb(le: boolean, ifId: number, ticks: bigint, data: Uint8Array, origLen = data.length, withOpts = false): Uint8Array {
  const h = new DataView(new ArrayBuffer(20));
  h.setUint32(0, ifId, le);
  h.setUint32(4, Number(ticks >> 32n), le);
  h.setUint32(8, Number(ticks & 0xffffffffn), le);
  h.setUint32(12, data.length, le);
  h.setUint32(16, origLen, le);
  const pad = new Uint8Array(((data.length + 3) & ~3) - data.length);
  const opts = withOpts ? options(le, [[1, new TextEncoder().encode('a comment')]]) : new Uint8Array(0);
  return block(le, 6, concat(new Uint8Array(h.buffer), data, pad, opts));
}

function spb(le: boolean, origLen: number, data: Uint8Array): Uint8Array {
  const h = new DataView(new ArrayBuffer(4));
  h.setUint32(0, origLen, le);
  return block(le, 3, concat(new Uint8Array(h.buffer), data));
}

/** Obsolete Packet Block (pcapng Appendix A). */
function pb(le: boolean, ifId: number, ticks: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
  const h = new DataView(new ArrayBuffer(20));
  h.setUint16(0, ifId, le);
  h.setUint16(2, 7, le); // drops count
  h.setUint32(4, Number(ticks >> 32n), le);
  h.setUint32(8, Number(ticks & 0xffffffffn), le);
  h.setUint32(12, data.length, le);
  h.setUint32(16, origLen, le);
  return block(le, 2, concat(new Uint8Array(h.buffer), data));
}

// ---------------------------------------------------------------------------------------------------------
// Reading helpers

interface Rec {
  tsSec: number;
  tsNsec: number;
  capLen: number;
  origLen: number;
  linkType: number;
  interfaceId: number;
  recordOffset: number;
  hex: string;
}

function snapshot(p: CapturedPacket): Rec {
  return {
    tsSec: p.tsSec,
    tsNsec: p.tsNsec,
    capLen: p.capLen,
    origLen: p.origLen,
    linkType: p.linkType,
    interfaceId: p.interfaceId,
    recordOffset: p.recordOffset,
    hex: Buffer.from(p.data.subarray(p.offset, p.offset + p.capLen)).toString('hex'),
  };
}

/** Parses `bytes` pushed in the given chunk sizes (cycled), through the auto-detecting parser. */
function parse(bytes: Uint8Array, chunkSizes: number[] = [bytes.length], opts: CaptureParseOptions = {}): { recs: Rec[]; summary: CaptureSummary } {
  const recs: Rec[] = [];
  const parser = createCaptureParser((p) => recs.push(snapshot(p)), { name: 'test.cap', ...opts });
  let pos = 0;
  let i = 0;
  while (pos < bytes.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
    // Copy each chunk into a fresh, reused-looking buffer at an odd offset: the parser must not rely on
    // alignment or on the chunk staying intact after push returns.
    const buf = new Uint8Array(n + 3);
    buf.set(bytes.subarray(pos, pos + n), 3);
    parser.push(buf.subarray(3, 3 + Math.min(n, bytes.length - pos)));
    buf.fill(0xee);
    pos += n;
  }
  return { recs, summary: parser.end() };
}

/** The CaptureError thrown by `fn` (fails the test if none). */
function captureErrorOf(fn: () => unknown): CaptureError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CaptureError);
    return err as CaptureError;
  }
  throw new Error('expected a CaptureError, nothing was thrown');
}

/** Expected (sec, nsec) of `ticks` at resolution 10^-k or 2^-k (BigInt reference, floor), plus offset seconds. */
function refTs(ticks: bigint, tsresol: number, offset = 0n): [number, number] {
  const k = BigInt(tsresol & 0x7f);
  const per = tsresol & 0x80 ? 1n << k : 10n ** k;
  const sec = ticks / per + offset;
  const ns = ((ticks % per) * 1_000_000_000n) / per;
  return [Number(sec), Number(ns)];
}

// ---------------------------------------------------------------------------------------------------------

describe('classic pcap', () => {
  const recs: PcapRec[] = [
    { sec: 1700000000, frac: 123456, data: payload(60, 1) },
    { sec: 1700000001, frac: 999999, data: payload(54, 2), origLen: 1514 },
    { sec: 4294967295, frac: 0, data: payload(1, 3) },
    { sec: 0, frac: 1, data: new Uint8Array(0), origLen: 40 },
  ];

  it('little-endian µs: fields, offsets, tsNsec = usec·1000, summary', () => {
    const file = pcapFile({ le: true, nano: false, linkType: 1, snaplen: 256 }, recs);
    const { recs: got, summary } = parse(file);
    expect(got.map((r) => [r.tsSec, r.tsNsec, r.capLen, r.origLen, r.linkType, r.interfaceId])).toEqual([
      [1700000000, 123456000, 60, 60, 1, 0],
      [1700000001, 999999000, 54, 1514, 1, 0],
      [4294967295, 0, 1, 1, 1, 0],
      [0, 1000, 0, 40, 1, 0],
    ]);
    expect(got.map((r) => r.recordOffset)).toEqual([24, 24 + 76, 24 + 76 + 70, 24 + 76 + 70 + 17]);
    expect(got[0]!.hex).toBe(Buffer.from(payload(60, 1)).toString('hex'));
    expect(summary).toEqual({
      format: 'pcap',
      packets: 4,
      bytes: file.length,
      linkTypes: [1],
      snaplen: 256,
      truncatedPackets: 2,
      warnings: [],
      tsResolution: 'us',
    });
  });

  it('big-endian ns: exact nanoseconds, link type from the header', () => {
    const nsRecs: PcapRec[] = [
      { sec: 1700000000, frac: 999999999, data: payload(40, 4) },
      { sec: 1700000000, frac: 1, data: payload(41, 5), origLen: 100 },
    ];
    const file = pcapFile({ le: false, nano: true, linkType: 101, snaplen: 65535 }, nsRecs);
    expect(Array.from(file.subarray(0, 4))).toEqual([0xa1, 0xb2, 0x3c, 0x4d]);
    const { recs: got, summary } = parse(file);
    expect(got.map((r) => [r.tsSec, r.tsNsec, r.capLen, r.origLen, r.linkType])).toEqual([
      [1700000000, 999999999, 40, 40, 101],
      [1700000000, 1, 41, 100, 101],
    ]);
    expect(got[1]!.hex).toBe(Buffer.from(payload(41, 5)).toString('hex'));
    expect(summary.tsResolution).toBe('ns');
    expect(summary.snaplen).toBe(65535);
  });

  it('big-endian µs and little-endian ns give the same packets as their counterparts', () => {
    const a = parse(pcapFile({ le: false, nano: false }, recs)).recs;
    const b = parse(pcapFile({ le: true, nano: false }, recs)).recs;
    expect(a).toEqual(b);
    const nsRecs = recs.map((r) => ({ ...r, frac: r.frac * 1000 }));
    const c = parse(pcapFile({ le: true, nano: true }, nsRecs)).recs;
    expect(c).toEqual(b);
  });

  it('a sub-second field ≥ 1 s is carried into the seconds, with a warning', () => {
    const { recs: got, summary } = parse(pcapFile({ le: true, nano: false }, [{ sec: 10, frac: 2_500_000, data: payload(4, 1) }]));
    expect([got[0]!.tsSec, got[0]!.tsNsec]).toEqual([12, 500_000_000]);
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings[0]).toMatch(/sub-second/);
  });

  it('the FCS bits of the LinkType field are masked; an out-of-range header snaplen is clamped with a warning', () => {
    const file = pcapFile({ le: true, nano: false, linkType: 0x14000001, snaplen: 0 }, recs.slice(0, 1));
    const { recs: got, summary } = parse(file);
    expect(got[0]!.linkType).toBe(1);
    expect(summary.snaplen).toBe(262144);
    expect(summary.warnings.join('\n')).toMatch(/snaplen 0/);
  });
});

// A pcapng file: little-endian section with 2 interfaces, then a big-endian section with 2 interfaces of
// different resolutions, with every packet block type and skipped blocks in between.
const T_NS_BIG = 1700000000n * 1_000_000_000n + 123456789n; // epoch ns, far above 2^53
const T_BIN = (1700000000n << 10n) + 1023n; // 2^-10 s ticks, fraction 1023/1024 s
const pcapngCases = (() => {
  const LE = true;
  const BE = false;
  const parts: Uint8Array[] = [];
  const expected: Omit<Rec, 'recordOffset' | 'hex'>[] = [];
  const datas: Uint8Array[] = [];
  const push = (b: Uint8Array) => parts.push(b);
  push(shb(LE, options(LE, [[3, new TextEncoder().encode('Linux')]])));
  push(idb(LE, 1, 262144)); // interface 0: default 10^-6
  push(idb(LE, 101, 128, { tsresol: 9, tsoffset: -3n })); // interface 1: ns, offset -3 s
  push(block(LE, 4, payload(19, 9))); // NRB (contents irrelevant: skipped)
  let d = payload(64, 10);
  push(epb(LE, 0, 1700000000123456n, d, 64, true));
  expected.push({ tsSec: 1700000000, tsNsec: 123456000, capLen: 64, origLen: 64, linkType: 1, interfaceId: 0 });
  datas.push(d);
  d = payload(61, 11);
  push(epb(LE, 1, 1700000000999999999n, d, 1500));
  expected.push({ tsSec: 1700000000 - 3, tsNsec: 999999999, capLen: 61, origLen: 1500, linkType: 101, interfaceId: 1 });
  datas.push(d);
  push(block(LE, 5, payload(24, 12))); // ISB
  push(block(LE, 0x0a, payload(33, 13))); // DSB
  push(block(LE, 0x40000bad, payload(8, 14))); // custom block
  push(block(LE, 0x7eadbeef, new Uint8Array(0))); // unknown block type, empty body
  d = payload(57, 15);
  push(spb(LE, 57, d)); // SPB on interface 0 (snaplen 262144): capLen = origLen
  expected.push({ tsSec: 0, tsNsec: 0, capLen: 57, origLen: 57, linkType: 1, interfaceId: 0 });
  datas.push(d);
  d = payload(30, 16);
  push(pb(LE, 1, 1700000001000000001n, d, 31));
  expected.push({ tsSec: 1700000001 - 3, tsNsec: 1, capLen: 30, origLen: 31, linkType: 101, interfaceId: 1 });
  datas.push(d);
  // Second section, big-endian: interface ids restart at 0.
  push(shb(BE));
  push(idb(BE, 113, 96, { tsresol: 9 })); // 10^-9
  push(idb(BE, 228, 0, { tsresol: 0x80 | 10 })); // 2^-10, snaplen 0 (unlimited)
  d = payload(96, 17);
  push(epb(BE, 0, T_NS_BIG, d, 1000));
  {
    const [s, ns] = refTs(T_NS_BIG, 9);
    expected.push({ tsSec: s, tsNsec: ns, capLen: 96, origLen: 1000, linkType: 113, interfaceId: 0 });
  }
  datas.push(d);
  d = payload(45, 18);
  push(epb(BE, 1, T_BIN, d));
  {
    const [s, ns] = refTs(T_BIN, 0x80 | 10);
    expected.push({ tsSec: s, tsNsec: ns, capLen: 45, origLen: 45, linkType: 228, interfaceId: 1 });
  }
  datas.push(d);
  // SPB on interface 0 (snaplen 96): original length 200, 150 bytes in the block → captured 96.
  const spbData = payload(150, 19);
  push(spb(BE, 200, spbData));
  expected.push({ tsSec: 0, tsNsec: 0, capLen: 96, origLen: 200, linkType: 113, interfaceId: 0 });
  datas.push(spbData.subarray(0, 96));
  // SPB whose body holds padding beyond the original length: captured = original length (5).
  push(spb(BE, 5, payload(5, 20)));
  expected.push({ tsSec: 0, tsNsec: 0, capLen: 5, origLen: 5, linkType: 113, interfaceId: 0 });
  datas.push(payload(5, 20));
  const file = concat(...parts);
  return { file, expected, datas };
})();

describe('pcapng', () => {
  it('two sections (LE then BE), four interfaces, EPB/SPB/PB, skipped NRB/ISB/DSB/custom/unknown blocks', () => {
    const { file, expected, datas } = pcapngCases;
    const { recs, summary } = parse(file);
    expect(recs.map(({ recordOffset: _r, hex: _h, ...rest }) => rest)).toEqual(expected);
    expect(recs.map((r) => r.hex)).toEqual(datas.map((d) => Buffer.from(d).toString('hex')));
    // recordOffset points at each packet block's type field.
    const dv = new DataView(file.buffer, file.byteOffset);
    for (const r of recs) {
      const t = dv.getUint32(r.recordOffset, true);
      expect([6, 3, 2, 0x06000000, 0x03000000]).toContain(t);
    }
    expect(summary).toEqual({
      format: 'pcapng',
      packets: expected.length,
      bytes: file.length,
      linkTypes: [1, 101, 113, 228],
      snaplen: 262144,
      truncatedPackets: 4,
      warnings: [],
      tsResolution: 'ns',
    });
  });

  it('a timestamp above 2^53 ns and a 2^-10 s timestamp are exact', () => {
    const { recs } = parse(pcapngCases.file);
    const big = recs.find((r) => r.linkType === 113 && r.capLen === 96 && r.tsSec !== 0)!;
    expect(T_NS_BIG > 2n ** 53n).toBe(true);
    expect(`${big.tsSec}.${String(big.tsNsec).padStart(9, '0')}`).toBe('1700000000.123456789');
    expect(BigInt(big.tsSec) * 1_000_000_000n + BigInt(big.tsNsec)).toBe(T_NS_BIG);
    const bin = recs.find((r) => r.linkType === 228)!;
    // 1023/1024 s = 0.9990234375 s → floor to ns.
    expect([bin.tsSec, bin.tsNsec]).toEqual([1700000000, 999023437]);
  });

  it('µs resolution only → tsResolution us; snaplen 0 reported as 262144', () => {
    const f = concat(shb(true), idb(true, 1, 0), epb(true, 0, 1n, payload(8, 1)));
    const { recs, summary } = parse(f);
    expect(summary.tsResolution).toBe('us');
    expect(summary.snaplen).toBe(262144);
    expect([recs[0]!.tsSec, recs[0]!.tsNsec]).toEqual([0, 1000]);
  });

  it('exact timestamps for every if_tsresol 10^-0…10^-19 and 2^-0…2^-63 (random 64-bit ticks vs BigInt)', () => {
    let seed = 0x12345678n;
    const rnd64 = (): bigint => {
      seed = (seed * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      return seed;
    };
    const resols = [...Array.from({ length: 20 }, (_, k) => k), ...Array.from({ length: 64 }, (_, k) => 0x80 | k)];
    for (const le of [true, false]) {
      const parts = [shb(le)];
      const want: [number, number][] = [];
      resols.forEach((r) => parts.push(idb(le, 1, 0, { tsresol: r, tsoffset: 1000n })));
      resols.forEach((r, ifId) => {
        const samples = [0n, 1n, 0xffffffffffffffffn, (1n << 52n) - 1n, 1n << 52n, rnd64(), rnd64() >> 11n, rnd64() >> 30n];
        for (const t of samples) {
          parts.push(epb(le, ifId, t, u8(1)));
          want.push(refTs(t, r, 1000n));
        }
      });
      const { recs } = parse(concat(...parts));
      expect(recs.length).toBe(want.length);
      recs.forEach((x, i) => {
        const [sec, ns] = want[i]!;
        expect(x.tsNsec, `packet ${i}`).toBe(ns);
        // Seconds above 2^53 (only with resolutions of 1 s … 2^-10 s and huge tick counts) cannot be exact
        // in a double: there, allow the rounding of the double; everywhere else exact.
        if (sec < 2 ** 53) expect(x.tsSec, `packet ${i}`).toBe(sec);
        else expect(Math.abs(x.tsSec - sec) / sec).toBeLessThan(1e-15);
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

const smallPcap = pcapFile({ le: true, nano: false, snaplen: 256 }, [
  { sec: 1, frac: 1, data: payload(20, 1) },
  { sec: 2, frac: 2, data: payload(0, 2), origLen: 60 },
  { sec: 3, frac: 3, data: payload(33, 3) },
  { sec: 4, frac: 4, data: payload(7, 4) },
]);
const smallPcapng = pcapngCases.file;

describe.each([
  ['pcap', smallPcap],
  ['pcapng', smallPcapng],
])('%s chunk boundaries and truncation', (_name, file) => {
  const whole = parse(file);
  // End of each packet's record/block: the start of the next unit (record or block), or the end of the file.
  const starts = unitStarts(file);
  const ends = whole.recs.map((r) => starts.find((s) => s > r.recordOffset) ?? file.length);

  it('every split point into two chunks gives the same packets', () => {
    expect(whole.recs.length).toBeGreaterThan(3);
    for (let c = 1; c < file.length; c++) {
      const got = parse(file, [c, file.length]);
      expect(got.recs, `split at ${c}`).toEqual(whole.recs);
      expect(got.summary).toEqual(whole.summary);
    }
  });

  it('1-byte chunks, and mixed small chunk sizes, give the same packets', () => {
    expect(parse(file, [1])).toEqual(whole);
    expect(parse(file, [3, 1, 7, 2, 13, 5])).toEqual(whole);
    expect(parse(file, [4, 4, 8])).toEqual(whole);
  });

  it('truncation at every byte offset: earlier packets delivered, truncatedAt, strict throws', () => {
    const packetEnds = whole.recs.map((r, i) => ({ start: r.recordOffset, end: ends[i]! }));
    for (let c = 0; c <= file.length; c++) {
      const cut = file.subarray(0, c);
      if (c < 4) {
        const e = captureErrorOf(() => parse(cut));
        expect(e.code).toBe(c === 0 ? 'EMPTY' : 'NOT_CAPTURE');
        continue;
      }
      const { recs, summary } = parse(cut);
      const complete = packetEnds.filter((p) => p.end <= c).length;
      expect(recs.length, `cut at ${c}`).toBe(complete);
      expect(recs).toEqual(whole.recs.slice(0, complete));
      // Units (header, records, blocks) that end at or before the cut are complete; otherwise truncatedAt
      // is the start of the unit containing the cut.
      const atBoundary = c === file.length || isUnitBoundary(file, c);
      if (atBoundary) {
        expect(summary.truncatedAt, `cut at ${c}`).toBeUndefined();
        expect(summary.warnings).toEqual([]);
      } else {
        expect(summary.truncatedAt, `cut at ${c}`).toBe(unitStart(file, c));
        expect(summary.warnings).toHaveLength(1);
        expect(summary.warnings[0]).toMatch(new RegExp(`^test\\.cap: truncated at byte ${summary.truncatedAt}: `));
        const e = captureErrorOf(() => parse(cut, [cut.length], { strict: true }));
        expect(e.code).toBe('TRUNCATED');
        expect(e.offset).toBe(summary.truncatedAt);
      }
      expect(summary.bytes).toBe(c);
    }
  });
});

/** Start offsets of the units (file header + records, or blocks) of a well-formed pcap or pcapng file. */
function unitStarts(file: Uint8Array): number[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const starts: number[] = [];
  if (dv.getUint32(0, true) === 0x0a0d0d0a) {
    let le = true;
    for (let p = 0; p < file.length; ) {
      starts.push(p);
      if (dv.getUint32(p, true) === 0x0a0d0d0a) le = dv.getUint32(p + 8, true) === 0x1a2b3c4d;
      p += dv.getUint32(p + 4, le);
    }
  } else {
    starts.push(0);
    for (let p = 24; p < file.length; p += 16 + dv.getUint32(p + 8, true)) starts.push(p);
  }
  return starts;
}
function isUnitBoundary(file: Uint8Array, c: number): boolean {
  return unitStarts(file).includes(c);
}
function unitStart(file: Uint8Array, c: number): number {
  return unitStarts(file)
    .filter((s) => s < c)
    .pop()!;
}

// ---------------------------------------------------------------------------------------------------------

describe('corrupt and foreign input', () => {
  function expectCorrupt(file: Uint8Array, offset: number, message: RegExp, packetsBefore: number) {
    for (const chunks of [[file.length], [1], [offset + 5]]) {
      const recs: Rec[] = [];
      const parser = createCaptureParser((p) => recs.push(snapshot(p)), { name: 'bad.cap' });
      const e = captureErrorOf(() => {
        let pos = 0;
        while (pos < file.length) {
          const n = chunks[0]!;
          parser.push(file.subarray(pos, pos + n));
          pos += n;
        }
        parser.end();
      });
      expect(e.code).toBe('CORRUPT');
      expect(e.offset).toBe(offset);
      expect(e.file).toBe('bad.cap');
      expect(e.message).toMatch(message);
      expect(e.message).not.toContain('\n');
      expect(e.stack).toBe(`CaptureError: ${e.message}`);
      expect(recs.length).toBe(packetsBefore);
      // The parser is unusable afterwards.
      expect(() => parser.push(u8(0))).toThrow();
    }
  }

  it('pcap: captured length 4294967295 → CORRUPT at the record, earlier packets delivered', () => {
    const file = pcapFile({ le: true, nano: false }, [
      { sec: 1, frac: 0, data: payload(10, 1) },
      { sec: 2, frac: 0, data: payload(10, 2) },
    ]);
    new DataView(file.buffer).setUint32(24 + 26 + 8, 0xffffffff, true);
    expectCorrupt(file, 50, /^bad\.cap: corrupt record at byte 50: captured length 4294967295 exceeds 262144$/, 1);
  });

  it('pcap: captured length 262145 is rejected, 262144 accepted; maxCapLen lowers the bound', () => {
    const mk = (n: number) => pcapFile({ le: false, nano: false }, [{ sec: 1, frac: 0, data: new Uint8Array(n) }]);
    expect(parse(mk(262144)).recs[0]!.capLen).toBe(262144);
    expectCorrupt(mk(262145), 24, /captured length 262145 exceeds 262144/, 0);
    const e = captureErrorOf(() => parse(mk(2000), [100000], { maxCapLen: 1500 }));
    expect(e.message).toMatch(/captured length 2000 exceeds 1500/);
  });

  const base = () => concat(shb(true), idb(true, 1, 0), epb(true, 0, 5n, payload(9, 1)));
  const firstLen = () => base().length;

  it('pcapng: huge block total length → CORRUPT at once (not buffered)', () => {
    const bad = epb(true, 0, 6n, payload(8, 2));
    new DataView(bad.buffer).setUint32(4, 0x7ffffffc, true);
    expectCorrupt(concat(base(), bad), firstLen(), /corrupt enhanced packet block at byte \d+: block total length 2147483644 exceeds 16777216/, 1);
  });

  it('pcapng: total length not a multiple of 4, below the minimum, or unequal to its trailing copy', () => {
    let bad = epb(true, 0, 6n, payload(8, 2));
    new DataView(bad.buffer).setUint32(4, 42, true);
    expectCorrupt(concat(base(), bad), firstLen(), /block total length 42 is not a multiple of 4/, 1);
    bad = block(true, 6, new Uint8Array(16)); // 28 bytes: below the EPB minimum of 32
    expectCorrupt(concat(base(), bad), firstLen(), /enhanced packet block at byte \d+: block total length 28 is below the minimum 32/, 1);
    bad = idb(true, 1, 0);
    new DataView(bad.buffer).setUint32(bad.length - 4, 999, true);
    expectCorrupt(concat(base(), bad), firstLen(), /interface description block at byte \d+: block total length \d+ differs from its trailing copy 999/, 1);
  });

  it('pcapng: captured length beyond the block body, undeclared interface, option past the block, bad byte-order magic', () => {
    let bad = epb(true, 0, 6n, payload(8, 2));
    new DataView(bad.buffer).setUint32(20, 12, true); // body holds 8 (+ padding 0) bytes
    expectCorrupt(concat(base(), bad), firstLen(), /captured length 12 exceeds the block body \(8 bytes\)/, 1);
    bad = epb(true, 1, 6n, payload(8, 2));
    expectCorrupt(concat(base(), bad), firstLen(), /interface id 1 not declared \(the section has 1 interface\)/, 1);
    bad = epb(true, 0, 6n, payload(8, 2));
    new DataView(bad.buffer).setUint32(20, 300000, true);
    expectCorrupt(concat(base(), bad), firstLen(), /captured length 300000 exceeds 262144/, 1);
    bad = idb(true, 1, 0);
    new DataView(bad.buffer).setUint16(16 + 2, 200, true); // first option claims 200 bytes
    expectCorrupt(concat(base(), bad), firstLen(), /option 2 of length 200 runs past the end of the block/, 1);
    bad = shb(true);
    new DataView(bad.buffer).setUint32(8, 0x11223344, true);
    expectCorrupt(concat(base(), bad), firstLen(), /bad byte-order magic 0x11223344/, 1);
    // A new section forgets the previous section's interfaces.
    expectCorrupt(concat(base(), shb(false), epb(false, 0, 1n, u8(1))), firstLen() + 28, /interface id 0 not declared \(the section has 0 interfaces\)/, 1);
  });

  it('pcapng: SPB without an interface', () => {
    expectCorrupt(concat(shb(true), spb(true, 4, u8(1, 2, 3, 4))), 28, /simple packet block at byte 28: interface id 0 not declared/, 0);
  });

  it('not a capture: names the first bytes', () => {
    const cases: [Uint8Array, string, RegExp][] = [
      [new TextEncoder().encode('{"a \n'), 'NOT_CAPTURE', /^x: not a pcap or pcapng file \(starts with 0x7b226120: looks like text\)$/],
      [u8(0x1f, 0x8b, 8, 0, 0, 0), 'NOT_CAPTURE', /starts with 0x1f8b0800: gzip-compressed/],
      [u8(0xde, 0xad), 'NOT_CAPTURE', /\(only 2 bytes: 0xdead\)/],
      [new Uint8Array(0), 'EMPTY', /^x: empty input/],
      [u8(0x34, 0xcd, 0xb2, 0xa1, ...new Uint8Array(20)), 'UNSUPPORTED', /modified \(Kuznetzov\) pcap/],
    ];
    for (const [bytes, code, re] of cases) {
      for (const chunks of [[Math.max(1, bytes.length)], [1]]) {
        const e = captureErrorOf(() => parse(bytes, chunks, { name: 'x' }));
        expect(e.code).toBe(code);
        expect(e.offset).toBe(0);
        expect(e.message).toMatch(re);
      }
    }
    const v3 = pcapFile({ le: true, nano: false }, []);
    new DataView(v3.buffer).setUint16(4, 3, true);
    expect(captureErrorOf(() => parse(v3)).message).toMatch(/unsupported pcap version 3\.4/);
  });

  it('the format parsers can be used directly', () => {
    const n: number[] = [];
    const p = new PcapParser((x) => n.push(x.capLen));
    p.push(smallPcap);
    expect(p.end().packets).toBe(4);
    const q = new PcapngParser((x) => n.push(x.capLen));
    q.push(smallPcapng);
    expect(q.end().packets).toBe(pcapngCases.expected.length);
    expect(() => new PcapParser(() => {}).push(smallPcapng)).toThrow(CaptureError);
  });
});

// ---------------------------------------------------------------------------------------------------------

const dir = mkdtempSync(join(tmpdir(), 'flowsift-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readers', () => {
  const file = join(dir, 'small.pcapng');
  writeFileSync(file, smallPcapng);

  it('readCaptureSync / readCapture on a file, with a tiny buffer (records across reads)', async () => {
    const want = parse(smallPcapng).recs;
    for (const bufferSize of [undefined, 1, 7, 64]) {
      const a: Rec[] = [];
      const sa = readCaptureSync(file, (p) => a.push(snapshot(p)), { bufferSize });
      expect(a).toEqual(want);
      const b: Rec[] = [];
      const sb = await readCapture(file, (p) => b.push(snapshot(p)), { bufferSize });
      expect(b).toEqual(want);
      expect(sb).toEqual(sa);
    }
  });

  it('readCaptureStream: a Readable of small chunks', async () => {
    const chunks = Array.from({ length: Math.ceil(smallPcap.length / 5) }, (_, i) => Buffer.from(smallPcap.subarray(i * 5, i * 5 + 5)));
    const got: Rec[] = [];
    const s = await readCaptureStream(Readable.from(chunks), (p) => got.push(snapshot(p)));
    expect(got).toEqual(parse(smallPcap).recs);
    expect(s.packets).toBe(4);
  });

  it('missing file, directory → CaptureError with the path and no stack', async () => {
    const missing = join(dir, 'nope.pcap');
    let e = captureErrorOf(() => readCaptureSync(missing, () => {}));
    expect([e.code, e.file, e.message]).toEqual(['NOT_FOUND', missing, `${missing}: cannot read: no such file or directory`]);
    expect(e.stack).toBe(`CaptureError: ${e.message}`);
    await expect(readCapture(missing, () => {})).rejects.toMatchObject({ code: 'NOT_FOUND', file: missing });
    const sub = join(dir, 'adir');
    mkdirSync(sub);
    e = captureErrorOf(() => readCaptureSync(sub, () => {}));
    expect(e.code).toBe('IS_DIRECTORY');
    await expect(readCapture(sub, () => {})).rejects.toMatchObject({ code: 'IS_DIRECTORY' });
  });

  it.skipIf(process.getuid?.() === 0)('unreadable file → PERMISSION [skipped when running as root: root reads mode-000 files]', () => {
    const f = join(dir, 'secret.pcap');
    writeFileSync(f, smallPcap);
    chmodSync(f, 0);
    expect(captureErrorOf(() => readCaptureSync(f, () => {})).code).toBe('PERMISSION');
  });

  it.skipIf(spawnSync('mkfifo', ['--version']).status !== 0)('a FIFO given by path (like <(tcpdump -w -)) is read as a stream', async () => {
    const fifo = join(dir, 'capture.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', file, fifo], { stdio: 'ignore' });
    const exited = new Promise((resolve) => writer.on('exit', resolve));
    const got: Rec[] = [];
    const s = await readCapture(fifo, (p) => got.push(snapshot(p)));
    expect(got).toEqual(parse(smallPcapng).recs);
    expect(s.bytes).toBe(smallPcapng.length);
    expect(await exited).toBe(0);
  });

  it('an error thrown by the callback propagates unchanged', () => {
    const boom = new Error('boom');
    expect(() =>
      readCaptureSync(file, () => {
        throw boom;
      }),
    ).toThrow(boom);
  });

  it("path '-' reads standard input: a pipe, and a redirected file", () => {
    const script = [
      `import { readCapture } from ${JSON.stringify(join(REPO, 'src/capture/index.ts'))};`,
      `let n = 0, s = 0;`,
      `const sum = await readCapture('-', (p) => { n++; s += p.capLen + p.tsNsec; });`,
      `console.log(JSON.stringify({ n, s, packets: sum.packets, format: sum.format }));`,
    ].join('\n');
    const want = parse(smallPcapng).recs;
    const expected = { n: want.length, s: want.reduce((a, r) => a + r.capLen + r.tsNsec, 0), packets: want.length, format: 'pcapng' };
    const run = (input: Uint8Array | number) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: REPO,
        input: typeof input === 'number' ? undefined : input,
        stdio: typeof input === 'number' ? [input, 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    const piped = run(smallPcapng);
    expect(piped.stderr).toBe('');
    expect(JSON.parse(piped.stdout)).toEqual(expected);
    const fd = openSync(file, 'r');
    const redirected = run(fd);
    expect(redirected.stderr).toBe('');
    expect(JSON.parse(redirected.stdout)).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('PcapWriter', () => {
  it('round trip: µs and ns files read back identical (pcapng source with two link types split per link type)', () => {
    const src = parse(pcapngCases.file).recs;
    for (const tsResolution of ['us', 'ns'] as const) {
      const out = join(dir, `out-${tsResolution}.pcap`);
      const w = new PcapWriter(out, { linkType: 113, snaplen: 65535, tsResolution, bufferSize: 1 });
      const parser = createCaptureParser((p) => {
        if (p.linkType === 113) w.write(p);
      });
      parser.push(pcapngCases.file);
      parser.end();
      expect(existsSync(out)).toBe(false); // not before close()
      w.close();
      w.close(); // idempotent
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const back: Rec[] = [];
      const s = readCaptureSync(out, (p) => back.push(snapshot(p)));
      const want = src.filter((r) => r.linkType === 113);
      expect(back.length).toBe(want.length);
      expect(s).toMatchObject({ format: 'pcap', linkTypes: [113], snaplen: 65535, tsResolution });
      back.forEach((r, i) => {
        const wr = want[i]!;
        expect([r.tsSec, r.capLen, r.origLen, r.hex]).toEqual([wr.tsSec, wr.capLen, wr.origLen, wr.hex]);
        expect(r.tsNsec).toBe(tsResolution === 'ns' ? wr.tsNsec : Math.floor(wr.tsNsec / 1000) * 1000);
      });
      expect(w.packets).toBe(want.length);
      expect(w.bytes).toBe(readFileSync(out).length);
    }
  });

  it('a pcap read and written again is byte-identical', () => {
    const out = join(dir, 'copy.pcap');
    const w = new PcapWriter(out, { linkType: 1, snaplen: 256 });
    const { summary } = parse(smallPcap);
    createCaptureParser((p) => w.write(p)).push(smallPcap);
    w.close();
    expect(summary.snaplen).toBe(256);
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(smallPcap))).toBe(true);
  });

  it('cuts packets to the snaplen, keeps the original length; rejects a foreign link type', () => {
    const out = join(dir, 'cut.pcap');
    const w = new PcapWriter(out, { linkType: 1, snaplen: 10 });
    const data = payload(30, 7);
    w.writeRecord(5, 999_999_999, data, 3, 25, 1500);
    const pkt: CapturedPacket = { data, offset: 0, capLen: 30, origLen: 30, tsSec: 0, tsNsec: 0, linkType: 101, interfaceId: 0, recordOffset: 0 };
    expect(() => w.write(pkt)).toThrow(RangeError);
    expect(() => w.writeRecord(-1, 0, data, 0, 1, 1)).toThrow(RangeError);
    w.close();
    const back: Rec[] = [];
    readCaptureSync(out, (p) => back.push(snapshot(p)));
    expect(back).toEqual([
      { tsSec: 5, tsNsec: 999_999_000, capLen: 10, origLen: 1500, linkType: 1, interfaceId: 0, recordOffset: 24, hex: Buffer.from(data.subarray(3, 13)).toString('hex') },
    ]);
  });

  it('abort() leaves no file (and an existing destination untouched)', () => {
    const out = join(dir, 'aborted.pcap');
    writeFileSync(out, 'previous');
    const w = new PcapWriter(out, { linkType: 1, snaplen: 100, bufferSize: 1 }); // flushes every record
    for (let i = 0; i < 100; i++) w.writeRecord(i, 0, payload(100, i), 0, 100, 100);
    expect(existsSync(w.tempPath)).toBe(true);
    expect(readFileSync(w.tempPath).length).toBeGreaterThan(24 + 98 * 116);
    w.abort();
    w.abort();
    expect(existsSync(w.tempPath)).toBe(false);
    expect(readFileSync(out, 'utf8')).toBe('previous');
    expect(() => w.writeRecord(0, 0, u8(1), 0, 1, 1)).toThrow(/after abort/);
  });
});

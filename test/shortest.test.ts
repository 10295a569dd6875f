/**
 * writeShortest (src/dataset/shortest.ts): the string-free shortest round-trip formatter of CSV numbers must
 * write byte for byte what String() writes, wherever it does not hand the value back (−1).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputSink } from '../src/dataset/output.js';
import { borrowShortestBuffer, MAX_CELLS, returnShortestBuffer, writeShortest } from '../src/dataset/shortest.js';
import { prng } from './helpers/python.js';
import { testDir } from './helpers/tmp.js';

const buf = new Uint8Array(64);

/** writeShortest's text of `v`, or null when it hands `v` back to String(). */
function text(v: number): string | null {
  buf.fill(120); // 'x': catches bytes left unwritten inside the text
  const end = writeShortest(buf, 3, v);
  return end < 0 ? null : Buffer.from(buf.subarray(3, end)).toString('latin1');
}

/** Values of `vs` whose text differs from String(), and how many were handed back. */
function compare(vs: Iterable<number>): { wrong: string[]; handedBack: number; total: number } {
  const wrong: string[] = [];
  let handedBack = 0, total = 0;
  for (const v of vs) {
    total++;
    const t = text(v);
    if (t === null) handedBack++;
    else if (t !== String(v)) wrong.push(`${String(v)} written as ${t}`);
  }
  return { wrong, handedBack, total };
}

describe('writeShortest', () => {
  it('writes String()\'s text for random doubles of every bit pattern in [1e-4, 1e16), both signs', () => {
    const rnd = prng(11);
    const f64 = new Float64Array(1), u32 = new Uint32Array(f64.buffer);
    function* values(): Generator<number> {
      for (let i = 0; i < 150_000; i++) {
        u32[0] = Math.floor(rnd() * 2 ** 32) >>> 0;
        // biased exponents 1023 − 14 … 1023 + 53: 2^-14 … 2^54, mostly inside the covered range
        u32[1] = ((1009 + Math.floor(rnd() * 68)) << 20) | Math.floor(rnd() * 2 ** 20);
        yield f64[0];
        yield -f64[0];
      }
    }
    const r = compare(values());
    expect(r.wrong.slice(0, 5)).toEqual([]);
    // Hand-backs: the part of the bit patterns outside [1e-4, 1e16) (about 7 % of the exponents) and ties.
    expect(r.handedBack / r.total).toBeLessThan(0.1);
  });

  it('writes String()\'s text for flow-feature-like values: means, rates, square roots, 1–17 digits', () => {
    const rnd = prng(5);
    function* values(): Generator<number> {
      for (let i = 0; i < 100_000; i++) {
        const a = Math.floor(rnd() * 1e6), b = 1 + Math.floor(rnd() * 1000);
        yield a / b; // Packet Length Mean
        yield Math.sqrt(a); // Std
        yield (a * 1e6) / (b * 37 + 1); // Flow Bytes/s
      }
      for (let d = 1; d <= 17; d++) {
        for (let i = 0; i < 5000; i++) {
          const m = Math.floor(rnd() * 10 ** Math.min(d, 15));
          yield Number(`${m}e${Math.floor(rnd() * 20) - 4 - d}`); // exactly d or fewer significant digits
        }
      }
    }
    const r = compare(values());
    expect(r.wrong.slice(0, 5)).toEqual([]);
    expect(r.handedBack / r.total).toBeLessThan(0.02);
  });

  it('writes String()\'s text next to powers of ten and for 17-digit values with a 16-digit neighbour', () => {
    const vs: number[] = [0.30000000000000004, 0.1, 0.2, 0.7, 1e-4, 9.999999999999999e15, 92083932.07493591, 0.8106697605830959,
      16268.380718011409, 0.46435484276469197, 122951418.25640869, 1187.6484560570073, 140.33333333333334];
    for (let e = -4; e < 16; e++) {
      const p = 10 ** e;
      for (let u = -60; u <= 60; u++) vs.push(p + u * p * 2 ** -52);
    }
    const r = compare(vs);
    expect(r.wrong).toEqual([]);
    // Handed back: the 60 values below 1e-4, exact powers of ten (hi = 1e16 or 1e17) and, near 1e13–1e16, doubles
    // exactly halfway between two shortest candidates (999999999999987.75): 117 of 2,433 when measured.
    expect(r.handedBack).toBeLessThan(130);
  });

  it('writes String()\'s text for 15–17-digit decimals, their neighbouring doubles, and next to 1e16 and powers of two', () => {
    // The writer's paths: the shortest candidate a multiple of 100 (15 digits or fewer), of 10 (16) or neither (17),
    // with and without a carry out of the last two digits, the point anywhere from "0.000" to after the 16th digit.
    const rnd = prng(17);
    const f64 = new Float64Array(1), bits = new BigInt64Array(f64.buffer);
    /** v and the doubles `ulps` steps above and below it that lie in [1e-4, 1e16). */
    const around = (v: number, ulps: number): number[] => {
      const out: number[] = [];
      f64[0] = v;
      const b = bits[0];
      for (let d = -ulps; d <= ulps; d++) {
        bits[0] = b + BigInt(d);
        if (f64[0] >= 1e-4 && f64[0] < 1e16) out.push(f64[0]);
      }
      return out;
    };
    const vs: number[] = [];
    for (let i = 0; i < 60_000; i++) {
      const digits = 15 + (i % 3);
      let m = String(1 + Math.floor(rnd() * 9));
      for (let j = 1; j < digits; j++) m += String(Math.floor(rnd() * 10));
      // m · 10^e ∈ [1e-4, 1e16): a decimal of exactly `digits` significant digits (or its nearest double)
      const v = Number(`${m}e${Math.floor(rnd() * 20) - 3 - digits}`);
      const sign = rnd() < 0.25 ? -1 : 1;
      vs.push(sign * v);
      f64[0] = v;
      bits[0] += BigInt(1 + Math.floor(rnd() * 3)) * (rnd() < 0.5 ? -1n : 1n); // a neighbour: mostly 16 digits
      vs.push(sign * f64[0]);
    }
    vs.push(...around(1e16, 300), ...around(1e-4, 300));
    for (let k = -13; k <= 53; k++) vs.push(...around(2 ** k, 40));
    for (let e = -4; e < 16; e++) vs.push(...around(Number(`1e${e}`), 40));

    const written = new Map<number, number>(); // significant digits of the text → values written
    const wrong: string[] = [];
    let handedBack = 0;
    for (const v of vs) {
      const t = text(v);
      if (t === null) { handedBack++; continue; }
      if (t !== String(v)) wrong.push(`${String(v)} written as ${t}`);
      const d = t.replace(/[-.]/g, '').replace(/^0+/, '').length;
      written.set(d, (written.get(d) ?? 0) + 1);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    // Each length was written many times (measured: 15 digits 24,056, 16 digits 74,262, 17 digits 25,366 of 127,608).
    expect(written.get(15) ?? 0).toBeGreaterThan(15_000);
    expect(written.get(16) ?? 0).toBeGreaterThan(50_000);
    expect(written.get(17) ?? 0).toBeGreaterThan(15_000);
    // Handed back: the 67 powers of two and exact ties between two shortest candidates (1,428 of 127,608 measured).
    expect(handedBack / vs.length).toBeLessThan(0.02);
  });

  it('hands back values outside [1e-4, 1e16), powers of two and non-finite values', () => {
    for (const v of [0, 5e-5, 1e-7, 1e16, 1.5e17, 1e21, 0.5, 0.25, 1024, 2 ** -10, NaN, Infinity, -Infinity, Number.MIN_VALUE]) {
      expect(text(v), String(v)).toBeNull();
    }
    expect(text(2 ** -10 * 3)).toBe(String(2 ** -10 * 3));
  });
});

describe('writeShortest in a buffer lent from the WebAssembly module (written in place)', () => {
  it('writes the same text as into any other buffer, at every position up to the end of the buffer', () => {
    // No open sink holds the region in this test file's thread: borrow it directly.
    const lent = borrowShortestBuffer(1 << 20);
    expect(lent).not.toBeNull();
    try {
      expect(borrowShortestBuffer(4096)).toBeNull(); // one at a time
      const rnd = prng(5);
      let checked = 0;
      for (let i = 0; i < 20_000; i++) {
        const v = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 20 - 4);
        const want = text(v);
        // Positions from the start to the last one with the room writeShortest needs (34 bytes).
        const pos = i % 3 === 0 ? lent!.length - 34 : Math.floor(rnd() * (lent!.length - 34));
        lent!.fill(120, pos, pos + 25);
        const end = writeShortest(lent!, pos, v);
        const got = end < 0 ? null : lent!.toString('latin1', pos, end);
        if (got !== want) throw new Error(`${String(v)} at ${pos}: ${got} against ${want}`);
        if (got !== null) checked++;
      }
      expect(checked).toBeGreaterThan(15_000);
    } finally {
      returnShortestBuffer(lent!);
    }
    const again = borrowShortestBuffer(4096);
    expect(again).not.toBeNull();
    returnShortestBuffer(again!);
  });

  it('is lent to the first open output sink, given back when it closes, and a write after close fails', () => {
    const dir = testDir('flowsift-shortest-');
    const a = OutputSink.open(join(dir, 'a.csv'));
    const b = OutputSink.open(join(dir, 'b.csv')); // a holds the region: b has a buffer of its own
    expect(borrowShortestBuffer(4096)).toBeNull();
    for (const s of [a, b]) { s.number(2375.2969121140145); s.byte(44); s.number(-0.1234567890123456); s.byte(10); }
    a.close();
    const c = OutputSink.open(join(dir, 'c.csv')); // gets the region back
    c.number(1187.6484560570073);
    b.close();
    c.close();
    expect(readFileSync(join(dir, 'a.csv'), 'latin1')).toBe('2375.2969121140145,-0.1234567890123456\n');
    expect(readFileSync(join(dir, 'b.csv'), 'latin1')).toBe('2375.2969121140145,-0.1234567890123456\n');
    expect(readFileSync(join(dir, 'c.csv'), 'latin1')).toBe('1187.6484560570073');
    const free = borrowShortestBuffer(4096);
    expect(free).not.toBeNull(); // every sink gave it back
    returnShortestBuffer(free!);
    expect(() => { c.byte(65); c.byte(66); c.flush(); }).toThrow(/write after close/);
  });

  it('writes a row\'s cells (OutputSink.commaNumbers) as String() does, in the lent buffer and in a sink\'s own', () => {
    const dir = testDir('flowsift-cells-');
    const rnd = prng(21);
    // Every path of the writers: one digit, −0, 32-bit and wider safe integers, short decimals, 16–17-digit values,
    // and the cells left to String() (non-finite, 2^53 and beyond, below 1e-4, powers of two, ties).
    const special = [0, -0, 7, 10, -3, 2147483647, -2147483648, 2147483648, -2147483649, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53,
      2 ** 60, 1e21, 0.5, -0.25, 140.25, 1187.648, -0.0001, 1e-4, 5e-5, 1e-7, 0.30000000000000004, 999999999999987.75, 1e16,
      NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, 1187.6484560570073, -122951418.25640869];
    const random = (): number => {
      const k = Math.floor(rnd() * 6), sign = rnd() < 0.2 ? -1 : 1;
      if (k === 0) return Math.floor(rnd() * 10);
      if (k === 1) return sign * Math.floor(rnd() * 2 ** (1 + Math.floor(rnd() * 52)));
      if (k === 2) return sign * Math.floor(rnd() * 1e6) / 2 ** Math.floor(rnd() * 5);
      if (k === 3) return sign * Math.floor(rnd() * 1e9) / (1 + Math.floor(rnd() * 1000));
      if (k === 4) return special[Math.floor(rnd() * special.length)];
      return sign * Math.sqrt(rnd() * 1e12);
    };
    const values = Float64Array.from({ length: 40_000 }, random);
    const rows: Int32Array[] = [];
    for (let r = 0; r < 400; r++) rows.push(Int32Array.from({ length: 1 + Math.floor(rnd() * 100) }, () => Math.floor(rnd() * 30_000)));
    rows.push(Int32Array.from({ length: MAX_CELLS * 2 + 7 }, (_, i) => i)); // more cells than the module takes at once
    rows.push(Int32Array.from(special.keys(), (i) => i));
    const offsets = rows.map((_, r) => (r === rows.length - 1 ? 0 : r * 17));
    values.set(special, 0);
    let want = '';
    rows.forEach((ix, r) => { for (const i of ix) want += `,${String(values[offsets[r] + i])}`; want += '\n'; });
    const inPlace = OutputSink.open(join(dir, 'lent.csv'), 4096); // the first open sink: the module's lent region
    const own = OutputSink.open(join(dir, 'own.csv'), 4096); // a buffer of its own: the JavaScript loop
    for (const s of [inPlace, own]) {
      rows.forEach((ix, r) => { s.commaNumbers(values, offsets[r], ix); s.byte(10); });
      s.close();
    }
    expect(readFileSync(join(dir, 'lent.csv'), 'latin1')).toBe(want);
    expect(readFileSync(join(dir, 'own.csv'), 'latin1')).toBe(want);
  });

  it('writes the current contents of one row buffer reused at one offset, and of another array at that offset', () => {
    // The formatting thread passes one row buffer at offset 0 for every row (its consecutive cells copied through one
    // view kept across calls): each row must still come out with the values the buffer holds at that call.
    const dir = testDir('flowsift-cells-');
    const sink = OutputSink.open(join(dir, 'reuse.csv'), 4096);
    const ix = Int32Array.from({ length: 12 }, (_, i) => i); // consecutive: the block copy
    const row = new Float64Array(16), other = new Float64Array(16);
    let want = '';
    for (let r = 0; r < 50; r++) {
      for (let i = 0; i < 16; i++) row[i] = (r * 16 + i) / 7;
      for (let i = 0; i < 16; i++) other[i] = r * 1000 + i;
      sink.commaNumbers(row, 0, ix);
      sink.commaNumbers(other, 0, ix);
      sink.commaNumbers(row, 2, ix); // same array, another offset
      sink.byte(10);
      for (const [a, o] of [[row, 0], [other, 0], [row, 2]] as const) for (let i = 0; i < 12; i++) want += `,${String(a[o + i])}`;
      want += '\n';
    }
    sink.close();
    expect(readFileSync(join(dir, 'reuse.csv'), 'latin1')).toBe(want);
  });

  it('runs the module built from the AssemblyScript source (src/dataset/wasm/shortest.ts)', async () => {
    // @ts-expect-error -- a plain .mjs script without type declarations
    const { compileShortest, embeddedShortest } = await import('../scripts/build-wasm.mjs');
    expect(embeddedShortest()).toBe(compileShortest());
  });
});

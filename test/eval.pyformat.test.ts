/**
 * formatFixed / pyLen / comparePyStrings / pairwiseSum against Python and NumPy (one
 * /usr/bin/python3 process per suite; skipped with the reason in the suite name when unavailable).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { comparePyStrings, formatFixed, pairwiseSum, pyLen, pyRjust } from '../src/eval/index.js';
import { runPython, prng } from './helpers/python.js';

const PY = '/usr/bin/python3';
const HAS_PYTHON = spawnSync(PY, ['-c', 'pass'], { stdio: 'ignore' }).status === 0;
const HAS_NUMPY = HAS_PYTHON && spawnSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
const describeIf = (ok: boolean, why: string, name: string, fn: () => void): void => {
  if (ok) describe(name, fn);
  else describe.skip(`${name} [skipped: ${why}]`, fn);
};



describe('formatFixed (known Python outputs)', () => {
  it('rounds exact binary ties to even, unlike toFixed', () => {
    expect(formatFixed(0.125, 2)).toBe('0.12');
    expect((0.125).toFixed(2)).toBe('0.13');
    expect(formatFixed(0.375, 2)).toBe('0.38');
    expect(formatFixed(0.625, 2)).toBe('0.62');
    expect(formatFixed(2.5, 0)).toBe('2');
    expect(formatFixed(3.5, 0)).toBe('4');
    expect(formatFixed(0.5, 0)).toBe('0');
    expect(formatFixed(1.5, 0)).toBe('2');
    expect(formatFixed(0.0625, 3)).toBe('0.062');
    expect(formatFixed(0.1875, 3)).toBe('0.188');
  });

  it('rounds the exact binary value of non-ties', () => {
    expect(formatFixed(0.995, 2)).toBe('0.99'); // 0.99499999999999999555910790149937…
    expect(formatFixed(0.005, 2)).toBe('0.01'); // 0.005000000000000000104083408558608…
    expect(formatFixed(1.005, 2)).toBe('1.00');
    expect(formatFixed(2.675, 2)).toBe('2.67');
    expect(formatFixed(0.1, 20)).toBe('0.10000000000000000555');
    expect(formatFixed(1e-7, 2)).toBe('0.00');
    expect(formatFixed(1e-7, 10)).toBe('0.0000001000');
    expect(formatFixed(5e-324, 2)).toBe('0.00');
    expect(formatFixed(2 / 3, 2)).toBe('0.67');
    expect(formatFixed(1, 2)).toBe('1.00');
    expect(formatFixed(0, 4)).toBe('0.0000');
    expect(formatFixed(123.456, 0)).toBe('123');
  });

  it('large values, signs and specials as Python', () => {
    expect(formatFixed(1e22, 2)).toBe('10000000000000000000000.00');
    expect(formatFixed(2 ** 70, 1)).toBe('1180591620717411303424.0');
    expect(formatFixed(Number.MAX_VALUE, 0)).toBe((2n ** 1024n - 2n ** 971n).toString());
    expect(formatFixed(-0, 2)).toBe('-0.00');
    expect(formatFixed(-0.001, 2)).toBe('-0.00');
    expect(formatFixed(-0.125, 2)).toBe('-0.12');
    expect(formatFixed(-1.5, 0)).toBe('-2');
    expect(formatFixed(NaN, 2)).toBe('nan');
    expect(formatFixed(Infinity, 2)).toBe('inf');
    expect(formatFixed(-Infinity, 2)).toBe('-inf');
  });

  it('rejects bad digits', () => {
    expect(() => formatFixed(1, -1)).toThrow(RangeError);
    expect(() => formatFixed(1, 0.5)).toThrow(RangeError);
    expect(() => formatFixed(1, NaN)).toThrow(RangeError);
  });
});

describe('pyLen / pyRjust / comparePyStrings / pairwiseSum (known values)', () => {
  it('counts code points', () => {
    expect(pyLen('BENIGN')).toBe(6);
    expect(pyLen('\u{1F480}x')).toBe(2);
    expect(pyLen('Web Attack \u2013 XSS')).toBe(16);
    expect(pyRjust('\u{1F480}', 3)).toBe('  \u{1F480}');
    expect(pyRjust('toolong', 3)).toBe('toolong');
  });

  it('orders by code point', () => {
    const xs = ['\u{1F600}', '\uFF21', 'b', 'B', 'a', 'ab', '', 'Z'];
    expect([...xs].sort(comparePyStrings)).toEqual(['', 'B', 'Z', 'a', 'ab', 'b', '\uFF21', '\u{1F600}']);
    expect([...xs].sort()).not.toEqual([...xs].sort(comparePyStrings)); // JS: astral before U+FF21
  });

  it('pairwise summation differs from a naive loop exactly as NumPy does', () => {
    expect(pairwiseSum([])).toBe(0);
    expect(pairwiseSum([1, 2, 3])).toBe(6);
    // 1e16 + 1 + 1 … : sequential loses the ones, 8 accumulators keep some.
    const xs = [1e16, ...Array<number>(15).fill(1)];
    let naive = 0;
    for (const x of xs) naive += x;
    expect(naive).toBe(1e16);
    expect(pairwiseSum(xs)).toBe(1e16 + 14);
  });
});

describeIf(HAS_PYTHON, `${PY} not found`, 'formatFixed vs Python str.format (batched)', () => {
  it('matches on ~14k values: ties k/2^n, decimal-looking values, all magnitudes', () => {
    const rnd = prng(7);
    const values: number[] = [];
    const digitsOf: number[] = [];
    const push = (x: number, d: number): void => {
      values.push(x);
      digitsOf.push(d);
    };
    // exact binary ties at the rounding digit: k/8 (2 digits), k/16 (3), k/2^n (n-1 digits)
    for (let k = 0; k <= 80; k++) {
      push(k / 8, 2);
      push(k / 16, 3);
      if (k > 0) push(-k / 8, 2); // (-0 would reach Python as 0: JSON has no negative zero)
      push(k / 2, 0);
      push(k / 4, 1);
    }
    for (let n = 1; n <= 30; n++) {
      for (let t = 0; t < 40; t++) {
        const k = Math.floor(rnd() * 2 ** Math.min(n, 20)) * 2 + 1;
        push(k / 2 ** n, Math.max(0, n - 1));
        push(k / 2 ** n, Math.max(0, n - 2));
        push(k / 2 ** n, n);
      }
    }
    // decimal-looking values x.xx5 (never exact in binary)
    for (let k = 0; k < 2000; k++) {
      push(Number(`${Math.floor(k / 100)}.${String(k % 100).padStart(2, '0')}5`), 2);
      push(Number(`0.${String(k).padStart(3, '0')}5`), 3);
    }
    for (const x of [0.995, 0.005, 1e-7, 0.015, 0.025, 0.045, 1.005, 2.675, 0.1, 0.2, 0.3, 1 / 3, 2 / 3]) {
      for (let d = 0; d <= 20; d++) push(x, d);
    }
    // random doubles across magnitudes, random digits
    for (let i = 0; i < 4000; i++) {
      const mag = Math.floor(rnd() * 60) - 30;
      const x = (rnd() - 0.3) * 10 ** mag;
      push(x, Math.floor(rnd() * 12));
    }
    // random ratios like the metrics produce
    for (let i = 0; i < 3000; i++) {
      const den = 1 + Math.floor(rnd() * 2000);
      push(Math.floor(rnd() * (den + 1)) / den, pick([2, 3, 4]));
    }
    // extremes
    for (const x of [5e-324, 2.2250738585072014e-308, 1e-300, 1e300, Number.MAX_VALUE, 2 ** 53, 2 ** 53 + 2, 1e21, 1e22, 123456789.125]) {
      push(x, 0);
      push(x, 3);
      push(-x, 25);
    }
    function pick(xs: number[]): number {
      return xs[Math.floor(rnd() * xs.length)]!;
    }
    expect(values.length).toBeGreaterThan(10000);
    const py = runPython<string[]>(
      "import sys, json\nv, d = json.load(sys.stdin)\njson.dump(['{:.{d}f}'.format(x, d=k) for x, k in zip(v, d)], sys.stdout)",
      [values, digitsOf],
    );
    let differsFromToFixed = 0;
    for (let i = 0; i < values.length; i++) {
      const mine = formatFixed(values[i]!, digitsOf[i]!);
      if (mine !== py[i]) expect({ x: values[i], digits: digitsOf[i], mine }).toEqual({ x: values[i], digits: digitsOf[i], mine: py[i] });
      if (digitsOf[i]! <= 100 && Math.abs(values[i]!) < 1e21 && mine !== values[i]!.toFixed(digitsOf[i])) differsFromToFixed++;
    }
    // The reason formatFixed exists: toFixed disagrees with Python on many of these.
    expect(differsFromToFixed).toBeGreaterThan(100);
  });

  it('pyLen and comparePyStrings match Python len() and sorted()', () => {
    const rnd = prng(11);
    const alphabet = ['a', 'B', ' ', '-', '\u00e9', '\u2013', '\uFF21', '\uE000', '\uD7FF', '\u{1F480}', '\u{1F600}', '\u{10FFFF}', '0'];
    const strs: string[] = [];
    for (let i = 0; i < 500; i++) {
      const len = Math.floor(rnd() * 5);
      let s = '';
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      strs.push(s);
    }
    const [lens, sorted] = runPython<[number[], string[]]>(
      'import sys, json\ns = json.load(sys.stdin)\njson.dump([[len(x) for x in s], sorted(s)], sys.stdout)',
      strs,
    );
    expect(strs.map(pyLen)).toEqual(lens);
    expect([...strs].sort(comparePyStrings)).toEqual(sorted);
  });
});

describeIf(HAS_NUMPY, `${PY} cannot import numpy`, 'pairwiseSum vs numpy.sum (batched)', () => {
  it('is bit-identical for lengths 0..3000', () => {
    const rnd = prng(3);
    const arrays: number[][] = [];
    for (let t = 0; t < 300; t++) {
      const n = t < 150 ? t : Math.floor(rnd() * 3000);
      const scale = [1, 1e10, 1e-5][t % 3]!;
      arrays.push(Array.from({ length: n }, () => (rnd() - 0.2) * scale));
    }
    const sums = runPython<number[]>(
      'import sys, json, numpy as np\njson.dump([float(np.sum(np.array(a, dtype=np.float64))) for a in json.load(sys.stdin)], sys.stdout)',
      arrays,
    );
    let naiveDiffers = 0;
    arrays.forEach((a, i) => {
      expect(pairwiseSum(a)).toBe(sums[i]);
      expect(pairwiseSum(Float64Array.from(a))).toBe(sums[i]);
      if (a.reduce((s, x) => s + x, 0) !== sums[i]) naiveDiffers++;
    });
    expect(naiveDiffers).toBeGreaterThan(50);
  });
});

/**
 * Python / NumPy numeric compatibility helpers for the evaluation stage.
 *
 * scikit-learn's text reports are produced by Python's `str.format` and its sums by NumPy's
 * reductions; reproducing them byte for byte needs the exact same rounding (`formatFixed`),
 * the same string widths (`pyLen`, `pyRjust`), the same label order (`comparePyStrings`) and the
 * same floating-point summation order (`pairwiseSum`).
 */

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** Cache of 10^k as bigint. */
const POW10: bigint[] = [1n];
function pow10(k: number): bigint {
  while (POW10.length <= k) POW10.push(POW10[POW10.length - 1]! * 10n);
  return POW10[k]!;
}

/**
 * Format a number with a fixed count of digits after the decimal point, exactly as Python's
 * `'{:.{digits}f}'.format(x)` (equivalently `format(x, f'.{digits}f')` or `'%.*f' % (digits, x)`).
 *
 * The result is the correctly rounded decimal representation of the EXACT binary value of the
 * double, ties resolved to even — unlike JavaScript's `Number.prototype.toFixed`, which rounds
 * exact binary ties away from zero (`(0.125).toFixed(2) === '0.13'` but Python gives `'0.12'`),
 * switches to exponential notation at 1e21 and rejects more than 100 digits.
 *
 * Other Python behaviours reproduced: `nan` → `'nan'`, `±Infinity` → `'inf'` / `'-inf'`, the sign
 * of negative zero and of negative values that round to zero is kept (`-0.0` → `'-0.00'`,
 * `-0.001` → `'-0.00'`), `digits = 0` prints no decimal point (`2.5` → `'2'`).
 *
 * @param x - any JavaScript number.
 * @param digits - digits after the decimal point, a non-negative integer.
 * @returns the formatted string.
 * @throws RangeError when `digits` is not a non-negative safe integer.
 */
export function formatFixed(x: number, digits: number): string {
  if (!Number.isSafeInteger(digits) || digits < 0) {
    throw new RangeError(`formatFixed: digits must be a non-negative integer, got ${digits}`);
  }
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';

  F64[0] = x;
  const bits = U64[0]!;
  const negative = bits >> 63n === 1n;
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  // |x| = mant * 2^exp exactly
  let mant: bigint;
  let exp: number;
  if (expBits === 0) {
    mant = frac;
    exp = -1074;
  } else {
    mant = frac | 0x10000000000000n;
    exp = expBits - 1075;
  }

  // Exact decimal: |x| = num / 10^scale
  let num: bigint;
  let scale: number;
  if (mant === 0n) {
    num = 0n;
    scale = 0;
  } else if (exp >= 0) {
    num = mant << BigInt(exp);
    scale = 0;
  } else {
    // Strip factors of two first to keep the numbers small (exact either way).
    while (exp < 0 && (mant & 1n) === 0n) {
      mant >>= 1n;
      exp += 1;
    }
    if (exp >= 0) {
      num = mant;
      scale = 0;
    } else {
      scale = -exp;
      num = mant * 5n ** BigInt(scale); // mant / 2^k = mant * 5^k / 10^k
    }
  }

  // Round to `digits` decimals, half to even.
  let q: bigint; // |x| rounded = q / 10^digits
  if (scale <= digits) {
    q = num * pow10(digits - scale);
  } else {
    const div = pow10(scale - digits);
    q = num / div;
    const twiceRem = (num % div) * 2n;
    if (twiceRem > div || (twiceRem === div && (q & 1n) === 1n)) q += 1n;
  }

  let s = q.toString();
  if (digits > 0) {
    if (s.length <= digits) s = '0'.repeat(digits - s.length + 1) + s;
    s = `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
  }
  return negative ? `-${s}` : s;
}

/**
 * Python's `len(s)` for a `str`: the number of Unicode code points (a JavaScript string's
 * `.length` counts UTF-16 code units, so astral characters count twice there).
 */
export function pyLen(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Count a high surrogate followed by a low surrogate once.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/**
 * Python's `'{:>{width}}'.format(s)` / `s.rjust(width)`: left-pad with spaces to `width` code
 * points (never truncates).
 */
export function pyRjust(s: string, width: number): string {
  const n = pyLen(s);
  return n >= width ? s : ' '.repeat(width - n) + s;
}

/** Map a UTF-16 code unit so that code-unit order of the mapped values equals code-point order. */
function fixup(c: number): number {
  if (c >= 0xe000) return c - 0x800;
  if (c >= 0xd800) return c + 0x2000;
  return c;
}

/**
 * Compare two strings the way Python compares `str` values (and `sorted()` orders them): by
 * Unicode code point. JavaScript's default `Array.prototype.sort` compares UTF-16 code units,
 * which orders astral characters (emoji…) before U+E000–U+FFFF; this comparator does not.
 *
 * @returns a negative number, zero or a positive number, for use with `Array.prototype.sort`.
 */
export function comparePyStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca !== cb) return fixup(ca) - fixup(cb);
  }
  return a.length - b.length;
}

/** NumPy's pairwise-summation block size (`PW_BLOCKSIZE` in numpy/core/src/umath/loops_utils.h). */
const PW_BLOCKSIZE = 128;

function pairwise(a: ArrayLike<number>, start: number, n: number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= PW_BLOCKSIZE) {
    let r0 = a[start]!;
    let r1 = a[start + 1]!;
    let r2 = a[start + 2]!;
    let r3 = a[start + 3]!;
    let r4 = a[start + 4]!;
    let r5 = a[start + 5]!;
    let r6 = a[start + 6]!;
    let r7 = a[start + 7]!;
    let i = 8;
    const end = n - (n % 8);
    for (; i < end; i += 8) {
      const p = start + i;
      r0 += a[p]!;
      r1 += a[p + 1]!;
      r2 += a[p + 2]!;
      r3 += a[p + 3]!;
      r4 += a[p + 4]!;
      r5 += a[p + 5]!;
      r6 += a[p + 6]!;
      r7 += a[p + 7]!;
    }
    // prettier-ignore
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, start, n2) + pairwise(a, start + n2, n - n2);
}

/**
 * Sum of `a` in exactly NumPy's order (`np.sum` / `np.add.reduce` on a contiguous float64 array:
 * pairwise summation with 8 accumulators and blocks of 128, starting from the identity 0.0), so
 * that means and averages computed from it are bit-identical to NumPy's (`np.mean(a)` is
 * `pairwiseSum(a) / a.length`). The empty sum is 0.
 */
export function pairwiseSum(a: ArrayLike<number>): number {
  return 0 + pairwise(a, 0, a.length);
}

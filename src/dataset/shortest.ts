/**
 * Shortest round-trip decimal text of a double, written as ASCII bytes without building a string: the text
 * ECMAScript's Number::toString gives (ECMA-262 §6.1.6.1.20: the fewest significant digits that read back as
 * the same double, and of those the closest to it), for the fixed-notation range this module covers.
 *
 * Method (all steps exact in double arithmetic):
 * 1. x = f · 2^e (f the 53-bit significand). Pick k with N = x · 10^k in (1e16, 1e17), so N's integer part has
 *    17 digits; 10^k (k ≤ 20) is an exact double.
 * 2. Dekker's TwoProduct (Dekker 1971; Ogita, Rump & Oishi 2005 "Accurate sum and dot product", Alg. 3.3)
 *    gives hi + lo = x · 10^k exactly: hi > 2^53 is an integer, |lo| ≤ ulp(hi)/2 ≤ 8.
 * 3. Half the gap to the neighbouring doubles, in the same units, is H = 2^(e−1) · 10^k ∈ [0.55, 11.2]. A
 *    candidate C (an integer multiple of 10^j) reads back as x iff |C − N| < H, or = H when f is even
 *    (round-half-even when parsing). Only multiples of 10^j within 20 of hi can qualify, so each test is a
 *    comparison of small exact numbers.
 * 4. The largest j that passes gives 17 − j significant digits (the shortest); of the two candidates the
 *    nearer is taken, as Number::toString does.
 * Cases left to `String()` (the caller's fallback, signalled by −1): |x| outside [1e-4, 1e16), a power of two
 * (its lower gap is half the upper one), exact ties between two candidates, and a carry to 18 digits.
 */

/** 10^i for i ∈ [0, 22], each an exact double. */
const POW10: Float64Array = new Float64Array(23);
/** High and low halves (Veltkamp split) of POW10, for TwoProduct. */
const POW10_HI: Float64Array = new Float64Array(23);
const POW10_LO: Float64Array = new Float64Array(23);
/** 10^i for i ∈ [0, 8] as int32 (for integer remainders). */
const POW10_INT: Int32Array = Int32Array.from([1, 10, 100, 1000, 1e4, 1e5, 1e6, 1e7, 1e8]);
/** 2^i for i ∈ [−80, 10] at index i + 80 (exact: repeated halving). */
const POW2: Float64Array = new Float64Array(91);
const SPLITTER = 134217729; // 2^27 + 1
{
  let p = 1;
  for (let i = 0; i < 23; i++) {
    POW10[i] = p;
    const c = SPLITTER * p;
    POW10_HI[i] = c - (c - p);
    POW10_LO[i] = p - POW10_HI[i];
    p *= 10;
  }
  let t = 1;
  for (let i = 0; i <= 10; i++) { POW2[i + 80] = t; t *= 2; }
  t = 1;
  for (let i = 0; i >= -80; i--) { POW2[i + 80] = t; t /= 2; }
}

/** Bits of the double being formatted (one reused scratch: no allocation per call). */
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** "00" … "99" as ASCII pairs: the digits of n ∈ [0, 100) at [2n, 2n + 1]. */
export const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) { DIGIT_PAIRS[2 * i] = 48 + ((i / 10) | 0); DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10); }

/**
 * Writes `v` (finite) in ECMAScript's shortest round-trip form into `buf` at `pos` and returns the position after
 * the last byte, or −1 (nothing written) when `v` is outside what this method covers (see the module comment):
 * then `String(v)` is the answer. Up to 25 bytes from `pos` may be touched (sign, "0.", three zeros, 17 digits,
 * '.'), so `buf` needs that room.
 * Integers are formatted correctly but the caller's integer paths are faster.
 */
export function writeShortest(buf: Uint8Array, pos: number, v: number): number {
  const a = v < 0 ? -v : v;
  if (!(a >= 1e-4 && a < 1e16)) return -1;
  F64[0] = a;
  const lo32 = U32[0], hi32 = U32[1];
  if ((hi32 & 0xfffff) === 0 && lo32 === 0) return -1; // power of two: asymmetric rounding interval
  const e = ((hi32 >>> 20) & 0x7ff) - 1075; // a = f · 2^e, f ∈ [2^52, 2^53)
  const even = (lo32 & 1) === 0;

  // 10^E ≤ a < 10^(E+1) with E = ⌊b·log10 2⌋ or one more (b = ⌊log2 a⌋): k is right or one too large.
  let k = 16 - Math.floor((e + 52) * 0.30102999566398120);
  let hi = a * POW10[k];
  if (hi <= 1e16) hi = a * POW10[++k];
  else if (hi >= 1e17) hi = a * POW10[--k];
  if (!(hi > 1e16 && hi < 1e17) || k < 0 || k > 20) return -1;
  // TwoProduct: lo = a · 10^k − hi exactly.
  const c = SPLITTER * a;
  const ah = c - (c - a), al = a - ah;
  const bh = POW10_HI[k], bl = POW10_LO[k];
  const lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
  const H = POW10[k] * POW2[e - 1 + 80];

  // hi = q · 1e8 + r, r ∈ [0, 1e8): q has 9 digits.
  let qd = Math.floor(hi / 1e8);
  let rd = hi - qd * 1e8;
  if (rd < 0) { rd += 1e8; qd--; } else if (rd >= 1e8) { rd -= 1e8; qd++; }
  const q = qd | 0, r = rd | 0; // q < 1e9 and r < 1e8 fit int32

  // Largest j whose candidate reads back as `a` (monotone: if j digits can go, so can j − 1). The candidates
  // for t dropped digits are the multiples of 10^t; with |N − hi| ≤ 8 and H < 11.2 only those within 20 of hi
  // can qualify: hi + δ, δ ≡ −(hi mod 10^t), |δ| < 20. Distance to N: |lo − δ| (exact: every term is a
  // multiple of 2^(e−1+k) below 32, which fits a double's 53 bits for k ≤ 20).
  let cq = 0, cr = 0, j = 0; // the candidate hi + δ as cq · 1e8 + cr
  for (let t = 1; t <= 16; t++) {
    let best = 99, bestDelta = 0, tie = false;
    if (t <= 8) {
      const m = POW10_INT[t];
      const R = r % m;
      for (let delta = -R - m; delta < 20; delta += m) {
        if (delta <= -20) continue;
        const d = Math.abs(lo - delta);
        if (d < H || (even && d === H)) {
          if (d < best) { best = d; bestDelta = delta; tie = false; } else if (d === best) tie = true;
        }
      }
    } else {
      const m = POW10_INT[t - 8];
      const qm = q % m;
      let delta = 99;
      if (qm === 0 && r < 20) delta = -r;
      else if (qm === m - 1 && 1e8 - r < 20) delta = 1e8 - r;
      if (delta !== 99) {
        const d = Math.abs(lo - delta);
        if (d < H || (even && d === H)) { best = d; bestDelta = delta; }
      }
    }
    if (best === 99) break;
    if (tie) return -1; // two candidates equally near: left to String()
    j = t;
    cq = q;
    cr = r + bestDelta;
    if (cr < 0) { cr += 1e8; cq--; } else if (cr >= 1e8) { cr -= 1e8; cq++; }
  }
  if (j === 0) {
    // 17 digits: round N = hi + lo to the nearest integer (an exact .5 tie is left to String()).
    const fl = Math.floor(lo);
    if (lo - fl === 0.5) return -1;
    const L = lo - fl > 0.5 ? fl + 1 : fl;
    cq = q;
    cr = r + L;
    if (cr < 0) { cr += 1e8; cq--; } else if (cr >= 1e8) { cr -= 1e8; cq++; }
  }
  if (cq >= 1e9) return -1; // carried to 18 digits (x just below a power of ten)

  // The candidate's 17 digits, two at a time, right to left; the first p = 17 − j are significant and go to
  // their place in the text: after a sign, "0." and zeros when a < 1, with '.' after `intDigits` digits.
  const p = 17 - j;
  const intDigits = 17 - k; // digits before the point (≤ 0: a < 1)
  if (v < 0) buf[pos++] = 45;
  let start = pos; // where digit 0 goes
  if (intDigits <= 0) {
    buf[pos++] = 48;
    buf[pos++] = 46;
    for (let i = intDigits; i < 0; i++) buf[pos++] = 48;
    start = pos;
  }
  // Digit i (0-based from the left) lands at start + i, one further when i ≥ point (after the '.'); the
  // dropped trailing digits land past the end and are overwritten by later output.
  const point = intDigits > 0 && intDigits < p ? intDigits : 99;
  const end = start + p + (point === 99 ? 0 : 1);
  let x = cr;
  for (let i = 16; i >= 1; i -= 2) {
    if (i === 8) x = cq; // digits 9–16 are cr's 8 digits, 0–8 cq's 9
    const d = (x / 100) | 0;
    const pair = (x - d * 100) << 1;
    buf[start + i + (i >= point ? 1 : 0)] = DIGIT_PAIRS[pair + 1];
    buf[start + i - 1 + (i > point ? 1 : 0)] = DIGIT_PAIRS[pair];
    x = d;
  }
  buf[start] = 48 + x;
  if (point !== 99) buf[start + point] = 46;
  else for (let i = p; i < intDigits; i++) buf[start + i] = 48; // an integer (not reached for non-integers)
  return point === 99 && intDigits > p ? start + intDigits : end;
}

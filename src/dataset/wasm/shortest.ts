/**
 * AssemblyScript source of the shortest round-trip digit writer (dataset/shortest.ts loads the compiled module,
 * embedded in dataset/shortest-wasm.ts; `npm run build:wasm` regenerates it, and test/shortest.test.ts checks that the
 * embedded module is this source's build). The method is described in dataset/shortest.ts.
 */
/** 10^i for i ∈ [0, 22], each an exact double. */
const POW10 = new StaticArray<f64>(23);
/** High and low halves (Veltkamp split) of POW10, for TwoProduct. */
const POW10_HI = new StaticArray<f64>(23);
const POW10_LO = new StaticArray<f64>(23);
/** 10^i for i ∈ [0, 8] (for integer remainders). */
const POW10_INT = new StaticArray<i32>(9);
/** 2^i for i ∈ [−80, 10] at index i + 80 (exact: repeated halving). */
const POW2 = new StaticArray<f64>(91);
/** "00" … "99" as ASCII pairs: the digits of n ∈ [0, 100) at [2n, 2n + 1]. */
const DIGIT_PAIRS = new StaticArray<u8>(200);
const SPLITTER: f64 = 134217729; // 2^27 + 1

/** Fills the tables; the loader calls it once. */
export function init(): void {
  let p: f64 = 1;
  for (let i = 0; i < 23; i++) {
    POW10[i] = p;
    const c = SPLITTER * p;
    POW10_HI[i] = c - (c - p);
    POW10_LO[i] = p - POW10_HI[i];
    p *= 10;
  }
  let q: i32 = 1;
  for (let i = 0; i < 9; i++) { POW10_INT[i] = q; q *= 10; }
  let t: f64 = 1;
  for (let i = 0; i <= 10; i++) { POW2[i + 80] = t; t *= 2; }
  t = 1;
  for (let i = 0; i >= -80; i--) { POW2[i + 80] = t; t /= 2; }
  for (let i = 0; i < 100; i++) { DIGIT_PAIRS[2 * i] = <u8>(48 + i / 10); DIGIT_PAIRS[2 * i + 1] = <u8>(48 + i % 10); }
}

/** 32 bytes for {@link shortestAt}'s text when the caller's buffer is not in this module's memory. */
const SCRATCH = new StaticArray<u8>(32);

/** Address of {@link SCRATCH} in this module's memory. */
export function scratch(): usize {
  return changetype<usize>(SCRATCH);
}

/**
 * Writes `v` (finite) as ECMAScript's Number::toString would at address `base` of this module's memory (25 bytes at
 * most) and returns the text's length, or −1 (nothing written) when `v` is outside what the method covers (|v|
 * outside [1e-4, 1e16), a power of two, an exact tie, a carry to 18 digits): then `String(v)` is the answer.
 */
export function shortestAt(base: usize, v: f64): i32 {
  let pos: i32 = 0;
  const a = v < 0 ? -v : v;
  if (!(a >= 1e-4 && a < 1e16)) return -1;
  const bits = reinterpret<u64>(a);
  const lo32 = <u32>bits, hi32 = <u32>(bits >>> 32);
  if ((hi32 & 0xfffff) == 0 && lo32 == 0) return -1; // power of two: asymmetric rounding interval
  const e: i32 = <i32>((hi32 >>> 20) & 0x7ff) - 1075; // a = f · 2^e, f ∈ [2^52, 2^53)
  const even = (lo32 & 1) == 0;

  // 10^E ≤ a < 10^(E+1) with E = ⌊b·log10 2⌋ or one more (b = ⌊log2 a⌋): k is right or one too large.
  let k: i32 = 16 - <i32>Math.floor(<f64>(e + 52) * 0.30102999566398120);
  let hi = a * unchecked(POW10[k]);
  if (hi <= 1e16) { k++; hi = a * unchecked(POW10[k]); }
  else if (hi >= 1e17) { k--; hi = a * unchecked(POW10[k]); }
  if (!(hi > 1e16 && hi < 1e17) || k < 0 || k > 20) return -1;
  // TwoProduct: lo = a · 10^k − hi exactly.
  const c = SPLITTER * a;
  const ah = c - (c - a), al = a - ah;
  const bh = unchecked(POW10_HI[k]), bl = unchecked(POW10_LO[k]);
  const lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
  const H = unchecked(POW10[k]) * unchecked(POW2[e - 1 + 80]);

  // hi = q · 1e8 + r, r ∈ [0, 1e8): q has 9 digits (hi is an integer below 1e17).
  const hiInt = <i64>hi;
  const q = <i32>(hiInt / 100000000), r = <i32>(hiInt % 100000000);

  // Largest j whose candidate reads back as `a` (monotone: if j digits can go, so can j − 1). The candidates
  // for t dropped digits are the multiples of 10^t; with |N − hi| ≤ 8 and H < 11.2 only those within 20 of hi
  // can qualify: hi + δ, δ ≡ −(hi mod 10^t), |δ| < 20. Distance to N: |lo − δ| (exact: every term is a
  // multiple of 2^(e−1+k) below 32, which fits a double's 53 bits for k ≤ 20).
  let cq: i32 = 0, cr: i32 = 0, j: i32 = 0; // the candidate hi + δ as cq · 1e8 + cr
  for (let t = 1; t <= 16; t++) {
    let best: f64 = 99, bestDelta: i32 = 0, tie = false;
    if (t <= 8) {
      const m = unchecked(POW10_INT[t]);
      const R = r % m;
      for (let delta = -R - m; delta < 20; delta += m) {
        if (delta <= -20) continue;
        const d = Math.abs(lo - <f64>delta);
        if (d < H || (even && d == H)) {
          if (d < best) { best = d; bestDelta = delta; tie = false; } else if (d == best) tie = true;
        }
      }
    } else {
      const m = unchecked(POW10_INT[t - 8]);
      const qm = q % m;
      let delta: i32 = 99;
      if (qm == 0 && r < 20) delta = -r;
      else if (qm == m - 1 && 100000000 - r < 20) delta = 100000000 - r;
      if (delta != 99) {
        const d = Math.abs(lo - <f64>delta);
        if (d < H || (even && d == H)) { best = d; bestDelta = delta; }
      }
    }
    if (best == 99) break;
    if (tie) return -1; // two candidates equally near: left to String()
    j = t;
    cq = q;
    cr = r + bestDelta;
    if (cr < 0) { cr += 100000000; cq--; } else if (cr >= 100000000) { cr -= 100000000; cq++; }
  }
  if (j == 0) {
    // 17 digits: round N = hi + lo to the nearest integer (an exact .5 tie is left to String()).
    const fl = Math.floor(lo);
    if (lo - fl == 0.5) return -1;
    const L: i32 = <i32>(lo - fl > 0.5 ? fl + 1 : fl);
    cq = q;
    cr = r + L;
    if (cr < 0) { cr += 100000000; cq--; } else if (cr >= 100000000) { cr -= 100000000; cq++; }
  }
  if (cq >= 1000000000) return -1; // carried to 18 digits (x just below a power of ten)

  // The candidate's 17 digits, two at a time, right to left; the first p = 17 − j are significant and go to
  // their place in the text: after a sign, "0." and zeros when a < 1, with '.' after `intDigits` digits.
  const p = 17 - j;
  const intDigits = 17 - k; // digits before the point (≤ 0: a < 1)
  if (v < 0) { store<u8>(base + pos, 45); pos++; }
  let start = pos; // where digit 0 goes
  if (intDigits <= 0) {
    store<u8>(base + pos, 48); pos++;
    store<u8>(base + pos, 46); pos++;
    for (let i = intDigits; i < 0; i++) { store<u8>(base + pos, 48); pos++; }
    start = pos;
  }
  // Digit i (0-based from the left) lands at start + i, one further when i ≥ point (after the '.'); the
  // dropped trailing digits land past the end and are overwritten by later output.
  const point = intDigits > 0 && intDigits < p ? intDigits : 99;
  const end = start + p + (point == 99 ? 0 : 1);
  let x = cr;
  for (let i = 16; i >= 1; i -= 2) {
    if (i == 8) x = cq; // digits 9–16 are cr's 8 digits, 0–8 cq's 9
    const d = x / 100;
    const pair = (x - d * 100) << 1;
    store<u8>(base + start + i + (i >= point ? 1 : 0), unchecked(DIGIT_PAIRS[pair + 1]));
    store<u8>(base + start + i - 1 + (i > point ? 1 : 0), unchecked(DIGIT_PAIRS[pair]));
    x = d;
  }
  store<u8>(base + start, <u8>(48 + x));
  if (point != 99) store<u8>(base + start + point, 46);
  else for (let i = p; i < intDigits; i++) store<u8>(base + start + i, 48); // an integer (not reached for non-integers)
  return point == 99 && intDigits > p ? start + intDigits : end;
}

/**
 * Start of the output region, 1 MiB from byte 65,536 (the statics above take less than one page): the module is built
 * with 18 pages of memory (scripts/build-wasm.mjs) and never grows it, since growing detaches the memory's
 * ArrayBuffer, and one detached ArrayBuffer makes V8 add a detach check to every typed-array access of the process's
 * optimised code.
 */
export function region(): usize {
  return 65536;
}

/**
 * AssemblyScript source of the number writer of CSV output: the shortest round-trip digit writer ({@link shortestAt})
 * and the writer of a row's numeric cells ({@link commaCells}) that uses it. dataset/shortest.ts loads the compiled
 * module, embedded in dataset/shortest-wasm.ts; `npm run build:wasm` regenerates it, and test/shortest.test.ts checks
 * that the embedded module is this source's build. The method is described in dataset/shortest.ts.
 */
// The tables are static memory at fixed addresses (constants in the compiled code, no global to load), filled by
// init().
/** 10^i for i ∈ [0, 22], each an exact double. */
const POW10 = memory.data(23 * 8, 8);
/** High and low halves (Veltkamp split) of POW10, for TwoProduct. */
const POW10_HI = memory.data(23 * 8, 8);
const POW10_LO = memory.data(23 * 8, 8);
/** 2^i for i ∈ [−80, 10] at index i + 80 (exact: repeated halving). */
const POW2 = memory.data(91 * 8, 8);
/**
 * By b = ⌊log2 a⌋ ∈ [−14, 53] at index b + 14: K0 = 16 − E0 with E0 = ⌊b · log10 2⌋ (so 10^E0 ≤ a < 10^(E0+2)), and
 * TEN_ABOVE = 10^(E0+1) (the nearest double): a ≥ TEN_ABOVE means one digit more before the point, k = K0 − 1.
 */
const K0 = memory.data(68 * 4, 4);
const TEN_ABOVE = memory.data(68 * 8, 8);
/** "00" … "99" as ASCII pairs: the digits of n ∈ [0, 100) at [2n, 2n + 1]. */
const DIGIT_PAIRS = memory.data(200, 8);
const SPLITTER: f64 = 134217729; // 2^27 + 1
/** Bit patterns of 1e-4, 1e16, 1e17, 5 and 0.5. */
const BITS_1E_4: u64 = 0x3f1a36e2eb1c432d, BITS_1E16: u64 = 0x4341c37937e08000, BITS_1E17: u64 = 0x4376345785d8a000;
const BITS_5: u64 = 0x4014000000000000, BITS_HALF: u64 = 0x3fe0000000000000;
/**
 * 1.5 · 2^52: for |x| < 2^51, x + ROUNDER lies in [2^52, 2^53), where doubles are the integers, so the addition rounds
 * x to the nearest integer (ties to even); that integer is x + ROUNDER − ROUNDER exactly, and the low 32 bits of
 * x + ROUNDER's bit pattern hold it as an i32.
 */
const ROUNDER: f64 = 6755399441055744;

/** Entry i of a table of doubles. */
@inline function f64At(table: usize, i: i32): f64 {
  return load<f64>(table + (<usize>i << 3));
}

/** Fills the tables; the loader calls it once. */
export function init(): void {
  let p: f64 = 1;
  for (let i = 0; i < 23; i++) {
    const at = <usize>i << 3;
    const c = SPLITTER * p, h = c - (c - p);
    store<f64>(POW10 + at, p);
    store<f64>(POW10_HI + at, h);
    store<f64>(POW10_LO + at, p - h);
    p *= 10;
  }
  let t: f64 = 1;
  for (let i = 0; i <= 10; i++) { store<f64>(POW2 + (<usize>(i + 80) << 3), t); t *= 2; }
  t = 1;
  for (let i = 0; i >= -80; i--) { store<f64>(POW2 + (<usize>(i + 80) << 3), t); t /= 2; }
  for (let b = -14; b <= 53; b++) {
    const e0 = (b * 78913) >> 18; // ⌊b · log10 2⌋ for |b| < 1650 (Ryū's log10Pow2)
    store<i32>(K0 + (<usize>(b + 14) << 2), 16 - e0);
    store<f64>(TEN_ABOVE + (<usize>(b + 14) << 3), e0 + 1 >= 0 ? f64At(POW10, e0 + 1) : 1 / f64At(POW10, -(e0 + 1)));
  }
  for (let i = 0; i < 100; i++) store<u16>(DIGIT_PAIRS + (<usize>i << 1), <u16>((48 + i / 10) | ((48 + i % 10) << 8)));
}

/** 32 bytes for {@link shortestAt}'s text when the caller's buffer is not in this module's memory. */
const SCRATCH = new StaticArray<u8>(48);

/** Address of {@link SCRATCH} in this module's memory. */
export function scratch(): usize {
  return changetype<usize>(SCRATCH);
}

/**
 * Writes `v` (finite) as ECMAScript's Number::toString would at address `base` of this module's memory (a text of 25
 * bytes at most; up to 34 bytes from `base` are touched) and returns the text's length, or −1 (nothing written) when
 * `v` is outside what the method covers (|v| outside [1e-4, 1e16), a power of two, an exact tie, a carry to 18
 * digits): then `String(v)` is the answer.
 *
 * Method (dataset/shortest.ts has it in full): N = a · 10^k ∈ (1e16, 1e17) exactly as hi + lo (Dekker's TwoProduct);
 * a candidate C (an integer) reads back as a iff |C − N| < H (≤ H for an even significand), H = half the gap to the
 * neighbouring doubles scaled by 10^k ∈ [0.55, 11.2]. With hi = Q · 100 + r2 and z = lo + r2 (N = hi − r2 + z), the
 * shortest candidate is, without a loop: the multiple of 100 within H of z if there is one (then its trailing zeros
 * make it shorter still), else the multiple of 10 nearest to z if within H (16 digits), else z rounded (17 digits);
 * of equally long candidates the nearest, as Number::toString takes. Its 17 digits are Q's 15 and two more, made
 * eight at a time in a 64-bit word (ascii8), and stored 8 bytes at a time.
 * Why not Ryū (Adams 2018), Schubfach (Giulietti) or Dragonbox (Jeon): they scale by a 128-bit power of ten, and
 * WebAssembly has no 64 × 64 → 128-bit multiplication (each would be four 32-bit-half products); here the exact
 * double-double product already places N within 8 of an integer hi, so only three candidates are possible and each
 * test is a comparison of small exact doubles. The earlier form of this function tried the lengths 1 … 16 in a loop
 * with integer remainders by table values (real divisions): 56–72 ns per 15–17-digit value, now 36–48.
 */
export function shortestAt(base: usize, v: f64): i32 {
  const a = Math.abs(v);
  const bits = reinterpret<u64>(a);
  // a ∈ [1e-4, 1e16) (NaN is above), by the bit patterns (ordered as the values for positive doubles); and not a power
  // of two (its lower gap is half the upper one).
  if (bits - BITS_1E_4 >= BITS_1E16 - BITS_1E_4 || (bits & 0xfffffffffffff) == 0) return -1;
  const e: i32 = <i32>(bits >>> 52) - 1075; // a = f · 2^e, f ∈ [2^52, 2^53)
  const even = (<i32>bits & 1) == 0;

  // k with N = a · 10^k ∈ (1e16, 1e17), from the tables by b = e + 52 without a branch (k ≤ 20: 10^k is exact).
  const b = e + 52 + 14;
  let k = load<i32>(K0 + (<usize>b << 2)) - <i32>(a >= f64At(TEN_ABOVE, b));
  let hi = a * f64At(POW10, k);
  let hb = reinterpret<u64>(hi);
  if (hb - BITS_1E16 - 1 >= BITS_1E17 - BITS_1E16 - 1) {
    // hi outside (1e16, 1e17): a next to a power of ten (TEN_ABOVE inexact, or a · 10^k rounded to one).
    if (hi <= 1e16) { k++; hi = a * f64At(POW10, k); }
    else { k--; hi = a * f64At(POW10, k); }
    if (!(hi > 1e16 && hi < 1e17)) return -1;
    hb = reinterpret<u64>(hi);
  }
  if (k > 20) return -1;
  // TwoProduct (Dekker 1971; Ogita, Rump & Oishi 2005, Alg. 3.3): lo = a · 10^k − hi exactly, |lo| ≤ ulp(hi)/2 ≤ 8.
  const c = SPLITTER * a;
  const ah = c - (c - a), al = a - ah;
  const bh = f64At(POW10_HI, k), bl = f64At(POW10_LO, k);
  const lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
  // Half the gap to the neighbouring doubles, scaled by 10^k: N's rounding interval is (N − H, N + H). A candidate at
  // distance d from N reads back as a iff d < H, or d = H when f is even (round-half-even when parsing): iff d < Hx,
  // Hx = H or the next double above it.
  const H = f64At(POW10, k) * f64At(POW2, e - 1 + 80);
  const Hx = reinterpret<f64>(reinterpret<u64>(H) + <u64>even);

  // hi as an integer (hi ∈ (2^53, 2^57): its significand shifted left by 1–4 bits) = Q · 100 + r2.
  const hiInt = ((hb & 0xfffffffffffff) | 0x10000000000000) << ((hb >>> 52) - 1075);
  const Q = hiInt / 100;
  const r2 = <i32>(hiInt - Q * 100);
  // N = hi − r2 + z, z ∈ [−8, 108) exact (a multiple of 2^−46 below 2^7: k ≤ 20 and a ≥ 1e-4), and so are the
  // distances below. Each candidate is hi − r2 + (its last two digits), chosen without branches (which one wins
  // depends on the value, so branches would mispredict).
  const z = lo + <f64>r2;
  // A multiple of 100 within the interval (hi − r2 or hi − r2 + 100): rare for the long values.
  const d2a = Math.abs(z), d2b = Math.abs(z - 100);
  const pass2a = d2a < Hx, pass2 = pass2a | (d2b < Hx);
  // The multiple of 10 nearest to z, 10 · m1: m1 = z · 0.1 rounded, one off at most, when z is within 3e−15 of a
  // multiple of 10 plus 5 (then |w1| > 5: corrected); w1 = z − 10 · m1 exactly. Within the interval: 16 digits.
  const y1 = z * 0.1 + ROUNDER;
  let m1 = <i32>reinterpret<u64>(y1);
  let w1 = z - (y1 - ROUNDER) * 10;
  if (Math.abs(w1) > 5) { const s = w1 > 0 ? 1 : -1; m1 += s; w1 -= <f64>(10 * s); }
  const d1 = Math.abs(w1);
  const pass1 = d1 < Hx;
  // The integer e0 nearest to z, w0 = z − e0: always within the interval (H > 0.55), 17 digits.
  const y0 = z + ROUNDER;
  const e0 = <i32>reinterpret<u64>(y0);
  const w0 = z - (y0 - ROUNDER);
  // Ties (two candidates of the chosen length equally near) are left to String(): |w1| = 5 or |w0| = 0.5.
  const tie = select<bool>(reinterpret<u64>(d1) == BITS_5, reinterpret<u64>(Math.abs(w0)) == BITS_HALF, pass1);
  if (tie & !pass2) return -1;
  // The candidate's last two digits e2 (outside [0, 100): a carry into Q) and its significant digits p (0: a multiple
  // of 100, counted below).
  const e2 = select<i32>(select<i32>(0, 100, pass2a), select<i32>(10 * m1, e0, pass1), pass2);
  let p = select<i32>(0, select<i32>(16, 17, pass1), pass2);

  let W0: u64, W1: u64, W2: u64; // the 17 digits s0 … s16 as ASCII: W0 = s0 … s7, W1 = s8 … s15, W2 = s16
  if (<u32>e2 < 100) {
    // The candidate is Q · 100 + e2: Q's 15 digits (1e14 ≤ Q < 1e15), then e2's two.
    const qa = <u32>(hiInt / 10000000000), qb = <u32>(Q - <u64>qa * 100000000);
    const A = ascii8(qa), B = ascii8(qb); // A = '0' s0 … s6, B = s7 … s14
    if (p == 0) {
      // Q · 100: 15 − (Q's trailing zeros) significant digits: the '0' bytes at the top of B and then of A (s0 is not
      // 0), counted as the leading zero bits, by 8, of the words with '0' made 0.
      const zb = B ^ 0x3030303030303030, za = A ^ 0x3030303030303030;
      p = 15 - <i32>(clz(zb) >> 3) - select<i32>(<i32>(clz(za) >> 3), 0, zb == 0);
    }
    const pair = <u64>load<u16>(DIGIT_PAIRS + (<usize>e2 << 1));
    W0 = (A >>> 8) | (B << 56);
    W1 = (B >>> 8) | (pair << 56);
    W2 = pair >>> 8;
  } else {
    // A carry out of the last two digits: the candidate C in full (at least 1e16: the interval lies above 1e16 − 1).
    const C = hiInt - <u64>r2 + <u64>(<i64>e2);
    if (C >= 100000000000000000) return -1; // carried to 18 digits (a just below a power of ten)
    const cq = <u32>(C / 100000000), cr = <u32>(C - <u64>cq * 100000000);
    const s0 = cq / 100000000;
    const A = ascii8(cq - s0 * 100000000), B = ascii8(cr); // A = s1 … s8, B = s9 … s16
    if (p == 0) {
      // 17 − (trailing zeros of C) significant digits, counted as above (s0 is not 0).
      const zb = B ^ 0x3030303030303030, za = A ^ 0x3030303030303030;
      p = 17 - <i32>(clz(zb) >> 3) - select<i32>(<i32>(clz(za) >> 3), 0, zb == 0);
    }
    W0 = <u64>(48 + s0) | (A << 8);
    W1 = (A >>> 56) | (B << 8);
    W2 = B >>> 56;
  }

  // The first p digits go to their place: after a sign, "0." and zeros when a < 1, with '.' after `intDigits` digits.
  // Only stores (a load of bytes just stored would wait for them); bytes past the text's end are overwritten by later
  // output.
  const intDigits = 17 - k; // digits before the point (≤ 0: a < 1)
  store<u8>(base, 45); // '-', kept only when v < 0
  const at = base + <usize>(v < 0);
  if (intDigits <= 0) {
    // 0.000ddd: at most three zeros after the point (a ≥ 1e-4).
    store<u64>(at, 0x3030303030302e30); // "0.000000"
    const d = at + 2 + <usize>(-intDigits);
    store<u64>(d, W0);
    store<u64>(d + 8, W1);
    store<u8>(d + 16, <u8>W2);
    return <i32>(d + <usize>p - base);
  }
  store<u64>(at, W0);
  store<u64>(at + 8, W1);
  store<u8>(at + 16, <u8>W2);
  if (intDigits < p) {
    // s_i … s16 (i = intDigits ∈ [1, 16]) one byte further, after the '.' at i: the words shifted right by i bytes
    // (two 128-bit funnel shifts of W0, W1, W2), stored at i + 1 and i + 9 (up to byte 33 from `base`).
    const i = intDigits;
    const first = i < 8, last = i == 16;
    const L = select<u64>(W0, select<u64>(W2, W1, last), first), M = select<u64>(W1, select<u64>(0, W2, last), first);
    const T = select<u64>(W2, 0, first);
    const sh = <u64>((i & 7) << 3);
    store<u8>(at + <usize>i, 46);
    store<u64>(at + <usize>i + 1, (L >>> sh) | ((M << (63 - sh)) << 1));
    store<u64>(at + <usize>i + 9, (M >>> sh) | ((T << (63 - sh)) << 1));
    return <i32>(at + <usize>p + 1 - base);
  }
  // An integer (not reached for non-integers): p digits and zeros up to intDigits.
  for (let i = p; i < intDigits; i++) store<u8>(at + <usize>i, 48);
  return <i32>(at + <usize>intDigits - base);
}

/**
 * The 8 decimal digits of `x` (below 10^8, zero-padded) as ASCII, first digit in the lowest byte, without a table or a
 * division instruction: "SIMD within a register" (as in D. Lemire, "Converting integers to fix-digit representations
 * quickly", 2021): x's two 4-digit halves in 32-bit lanes are split into 2-digit parts in 16-bit lanes, those into
 * digits in bytes, each lane's division by 100 or 10 a multiplication and shift ((y · 10486) >> 20 = ⌊y/100⌋ for
 * y < 10^4, (y · 103) >> 10 = ⌊y/10⌋ for y < 100, both checked for every y), all lanes at once.
 */
@inline function ascii8(x: u32): u64 {
  const h = x / 10000;
  let v: u64 = <u64>h | (<u64>(x - h * 10000) << 32);
  const v100 = ((v * 10486) >>> 20) & 0x0000007f0000007f;
  v = ((v - v100 * 100) << 16) | v100;
  const v10 = ((v * 103) >>> 10) & 0x000f000f000f000f;
  v = ((v - v10 * 10) << 8) | v10;
  return v | 0x3030303030303030;
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

/** Most cells {@link commaCells} takes at once. */
const MAX_CELLS: i32 = 2048;
/** The cells {@link commaCells} writes: the caller stores a row's numbers here. */
const CELLS = new StaticArray<f64>(MAX_CELLS);
/** Index of the first cell the last {@link commaCells} call did not write (set when it returns a negative address). */
let stopped: i32 = 0;

/** Address of the cells {@link commaCells} writes ({@link maxCells} doubles). */
export function cells(): usize {
  return changetype<usize>(CELLS);
}

/** How many cells fit at {@link cells}. */
export function maxCells(): i32 {
  return MAX_CELLS;
}

/** After {@link commaCells} returned a negative address: the index of the cell it stopped before. */
export function stoppedAt(): i32 {
  return stopped;
}

/** Decimal digits of `v` (1–10). */
@inline function digits32(v: u32): i32 {
  return v < 100000
    ? (v < 100 ? (v < 10 ? 1 : 2) : v < 1000 ? 3 : v < 10000 ? 4 : 5)
    : v < 10000000 ? (v < 1000000 ? 6 : 7) : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
}

/** Writes the decimal digits of `v` at `p` and returns the address after them. */
@inline function writeU32(p: usize, v: u32): usize {
  const end = p + <usize>digits32(v);
  let q = end;
  const pairs = DIGIT_PAIRS;
  while (v >= 100) {
    const t = v / 100;
    q -= 2;
    store<u16>(q, load<u16>(pairs + (<usize>(v - t * 100) << 1)));
    v = t;
  }
  if (v >= 10) store<u16>(q - 2, load<u16>(pairs + (<usize>v << 1)));
  else store<u8>(q - 1, <u8>(48 + v));
  return end;
}

/** Writes `v` (below 10^8) as exactly 8 digits, zero-padded, at `p`. */
@inline function write8(p: usize, v: u32): void {
  const pairs = DIGIT_PAIRS;
  for (let i = 6; i >= 0; i -= 2) {
    const t = v / 100;
    store<u16>(p + <usize>i, load<u16>(pairs + (<usize>(v - t * 100) << 1)));
    v = t;
  }
}

/** Writes the decimal digits of `v` (below 2^53) at `p` and returns the address after them. */
function writeU64(p: usize, v: u64): usize {
  if (v <= 0xffffffff) return writeU32(p, <u32>v);
  // The digits above the last eight (v / 10^8 < 2^27, not 0 here), then the last eight.
  const q = writeU32(p, <u32>(v / 100000000));
  write8(q, <u32>(v % 100000000));
  return q + 8;
}

/**
 * Writes a finite non-integer `v` with at most 4 decimals at `p` (dataset/output.ts shortDecimal: the first k ≤ 4
 * whose D = round(|v| · 10^k) gives D / 10^k == |v| exactly) and returns the address after it, or 0 when `v` needs
 * more digits or |v| is outside [1e-4, 1e11).
 */
function shortDecimalAt(p: usize, v: f64): usize {
  const a = v < 0 ? -v : v;
  if (!(a >= 1e-4 && a < 1e11)) return 0;
  let scale: f64 = 1, k: i32 = 0, d: f64 = 0;
  for (;;) {
    if (++k > 4) return 0;
    scale *= 10;
    d = Math.round(a * scale);
    if (d / scale == a) break;
  }
  if (v < 0) { store<u8>(p, 45); p++; }
  const ip = Math.floor(d / scale);
  let frac = <u32>(d - ip * scale);
  p = writeU64(p, <u64>ip);
  store<u8>(p, 46);
  const end = p + 1 + <usize>k;
  let q = end;
  for (let i = 0; i < k; i++) {
    const t = frac / 10;
    store<u8>(--q, <u8>(48 + frac - t * 10));
    frac = t;
  }
  return end;
}

/**
 * Writes `v` as ECMAScript's `String(v)` would at `p` and returns the address after it, or 0 (nothing written) for the
 * values left to `String()`: non-finite, |v| ≥ 2^53 integers, below 1e-4 and not 0, and those {@link shortestAt}
 * hands back. The paths of dataset/output.ts writeNumber: 32-bit and other safe integers, short decimals, then
 * {@link shortestAt}. Needs 34 bytes.
 */
function numberAt(p: usize, v: f64): usize {
  if (v >= -2147483648 && v <= 2147483647) {
    const i = <i32>v;
    if (<f64>i == v) {
      if (i < 0) { store<u8>(p, 45); return writeU32(p + 1, <u32>(-(<i64>i))); }
      return writeU32(p, <u32>i);
    }
  } else if (v >= -9007199254740991 && v <= 9007199254740991) {
    const i = <i64>v;
    if (<f64>i == v) {
      if (i < 0) { store<u8>(p, 45); return writeU64(p + 1, <u64>(-i)); }
      return writeU64(p, <u64>i);
    }
  }
  const t = (v < 0 ? -v : v) * 10000;
  if (t == Math.floor(t)) {
    const e = shortDecimalAt(p, v);
    if (e != 0) return e;
  }
  const n = shortestAt(p, v);
  return n < 0 ? 0 : p + <usize>n;
}

/**
 * Writes `,v` for each of the cells [from, n) at {@link cells}, from address `out`, and returns the address after the
 * last. Stops before the first cell it cannot write ({@link numberAt} gives 0: `String()` is the answer) and then
 * returns minus the address where that cell's comma goes, {@link stoppedAt} giving its index. Needs 36 bytes of room
 * per cell.
 */
export function commaCells(from: i32, n: i32, out: usize): isize {
  let p = out;
  const base = changetype<usize>(CELLS);
  for (let i = from; i < n; i++) {
    const v = load<f64>(base + (<usize>i << 3));
    store<u8>(p, 44);
    if (v >= 0 && v < 10) {
      const d = <i32>v;
      if (<f64>d == v) {
        // one digit: most cells
        store<u8>(p + 1, <u8>(48 + d));
        p += 2;
        continue;
      }
    }
    const e = numberAt(p + 1, v);
    if (e == 0) {
      stopped = i;
      return -<isize>p;
    }
    p = e;
  }
  return <isize>p;
}

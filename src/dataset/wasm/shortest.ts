/**
 * AssemblyScript source of the number writer of CSV output: the shortest round-trip digit writer ({@link shortestAt})
 * and the writer of a row's numeric cells ({@link commaCells}) that uses it. dataset/shortest.ts loads the compiled
 * module, embedded in dataset/shortest-wasm.ts; `npm run build:wasm` regenerates it, and test/shortest.test.ts checks
 * that the embedded module is this source's build. The method is described in dataset/shortest.ts.
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
const SCRATCH = new StaticArray<u8>(48);
/** The 17 digits of a candidate (shortestAt), with room for the 8-byte copies that read past them. */
const DIGITS17 = new StaticArray<u8>(32);

/** Address of {@link SCRATCH} in this module's memory. */
export function scratch(): usize {
  return changetype<usize>(SCRATCH);
}

/**
 * Writes `v` (finite) as ECMAScript's Number::toString would at address `base` of this module's memory (a text of 25
 * bytes at most; up to 34 bytes from `base` are touched) and returns the text's length, or −1 (nothing written) when `v` is outside what the method covers (|v|
 * outside [1e-4, 1e16), a power of two, an exact tie, a carry to 18 digits): then `String(v)` is the answer.
 */
export function shortestAt(base: usize, v: f64): i32 {
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
  // The candidate's 17 digits, two at a time, right to left, into DIGITS17; then its first p (the significant ones)
  // go to their place: after a sign, "0." and zeros when a < 1, with '.' after `intDigits` digits. The copies move
  // 8 bytes at a time and may write up to 34 bytes from `base`: bytes past the text's end are overwritten by later
  // output.
  const s = changetype<usize>(DIGITS17), pairs = changetype<usize>(DIGIT_PAIRS);
  let x = cr;
  for (let i = 15; i >= 9; i -= 2) {
    const d = x / 100;
    store<u16>(s + i, load<u16>(pairs + (<usize>(x - d * 100) << 1)));
    x = d;
  }
  x = cq;
  for (let i = 7; i >= 1; i -= 2) {
    const d = x / 100;
    store<u16>(s + i, load<u16>(pairs + (<usize>(x - d * 100) << 1)));
    x = d;
  }
  store<u8>(s, <u8>(48 + x));
  let at = base;
  if (v < 0) { store<u8>(at, 45); at++; }
  if (intDigits <= 0) {
    // 0.000ddd: at most three zeros after the point (a ≥ 1e-4).
    store<u64>(at, 0x3030303030302e30); // "0.000000"
    at += 2 + <usize>(-intDigits);
    store<u64>(at, load<u64>(s));
    store<u64>(at + 8, load<u64>(s + 8));
    store<u8>(at + 16, load<u8>(s + 16));
    return <i32>(at + <usize>p - base);
  }
  if (intDigits < p) {
    const i = <usize>intDigits;
    store<u64>(at, load<u64>(s));
    store<u64>(at + 8, load<u64>(s + 8));
    store<u8>(at + i, 46);
    store<u64>(at + i + 1, load<u64>(s + i));
    store<u64>(at + i + 9, load<u64>(s + i + 8));
    return <i32>(at + <usize>p + 1 - base);
  }
  // An integer (not reached for non-integers): p digits and zeros up to intDigits.
  for (let i = 0; i < intDigits; i++) store<u8>(at + <usize>i, i < p ? load<u8>(s + <usize>i) : 48);
  return <i32>(at + <usize>intDigits - base);
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
  const pairs = changetype<usize>(DIGIT_PAIRS);
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
  const pairs = changetype<usize>(DIGIT_PAIRS);
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

/**
 * AssemblyScript source of the shortest round-trip digit writer (dataset/shortest.ts loads the compiled module,
 * embedded in dataset/shortest-wasm.ts; `npm run build:wasm` regenerates it, and test/shortest.test.ts checks that the
 * embedded module is this source's build). The method is described in dataset/shortest.ts.
 */
const POW10 = new StaticArray<f64>(23);
const POW10_HI = new StaticArray<f64>(23);
const POW10_LO = new StaticArray<f64>(23);
const POW10_INT = new StaticArray<i32>(9);
const POW2 = new StaticArray<f64>(91);
const DIGIT_PAIRS = new StaticArray<u8>(200);
const SPLITTER: f64 = 134217729;

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

/** Where {@link shortest} writes (25 bytes at most: sign, "0.", three zeros, 17 digits, '.'). */
const SCRATCH = new StaticArray<u8>(32);

/** Address of the text {@link shortest} writes, in this module's memory. */
export function scratch(): usize {
  return changetype<usize>(SCRATCH);
}

/** {@link shortestAt} at {@link scratch}. */
export function shortest(v: f64): i32 {
  return shortestAt(changetype<usize>(SCRATCH), v);
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
  if ((hi32 & 0xfffff) == 0 && lo32 == 0) return -1;
  const e: i32 = <i32>((hi32 >>> 20) & 0x7ff) - 1075;
  const even = (lo32 & 1) == 0;
  let k: i32 = 16 - <i32>Math.floor(<f64>(e + 52) * 0.30102999566398120);
  let hi = a * unchecked(POW10[k]);
  if (hi <= 1e16) { k++; hi = a * unchecked(POW10[k]); }
  else if (hi >= 1e17) { k--; hi = a * unchecked(POW10[k]); }
  if (!(hi > 1e16 && hi < 1e17) || k < 0 || k > 20) return -1;
  const c = SPLITTER * a;
  const ah = c - (c - a), al = a - ah;
  const bh = unchecked(POW10_HI[k]), bl = unchecked(POW10_LO[k]);
  const lo = ((ah * bh - hi) + ah * bl + al * bh) + al * bl;
  const H = unchecked(POW10[k]) * unchecked(POW2[e - 1 + 80]);
  const hiInt = <i64>hi;
  const q = <i32>(hiInt / 100000000), r = <i32>(hiInt % 100000000);
  let cq: i32 = 0, cr: i32 = 0, j: i32 = 0;
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
    if (tie) return -1;
    j = t;
    cq = q;
    cr = r + bestDelta;
    if (cr < 0) { cr += 100000000; cq--; } else if (cr >= 100000000) { cr -= 100000000; cq++; }
  }
  if (j == 0) {
    const fl = Math.floor(lo);
    if (lo - fl == 0.5) return -1;
    const L: i32 = <i32>(lo - fl > 0.5 ? fl + 1 : fl);
    cq = q;
    cr = r + L;
    if (cr < 0) { cr += 100000000; cq--; } else if (cr >= 100000000) { cr -= 100000000; cq++; }
  }
  if (cq >= 1000000000) return -1;
  const p = 17 - j;
  const intDigits = 17 - k;
  if (v < 0) { store<u8>(base + pos, 45); pos++; }
  let start = pos;
  if (intDigits <= 0) {
    store<u8>(base + pos, 48); pos++;
    store<u8>(base + pos, 46); pos++;
    for (let i = intDigits; i < 0; i++) { store<u8>(base + pos, 48); pos++; }
    start = pos;
  }
  const point = intDigits > 0 && intDigits < p ? intDigits : 99;
  const end = start + p + (point == 99 ? 0 : 1);
  let x = cr;
  for (let i = 16; i >= 1; i -= 2) {
    if (i == 8) x = cq;
    const d = x / 100;
    const pair = (x - d * 100) << 1;
    store<u8>(base + start + i + (i >= point ? 1 : 0), unchecked(DIGIT_PAIRS[pair + 1]));
    store<u8>(base + start + i - 1 + (i > point ? 1 : 0), unchecked(DIGIT_PAIRS[pair]));
    x = d;
  }
  store<u8>(base + start, <u8>(48 + x));
  if (point != 99) store<u8>(base + start + point, 46);
  else for (let i = p; i < intDigits; i++) store<u8>(base + start + i, 48);
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

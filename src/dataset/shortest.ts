/**
 * Shortest round-trip decimal text of a double, written as ASCII bytes without building a string: the text
 * ECMAScript's Number::toString gives (ECMA-262 §6.1.6.1.20: the fewest significant digits that read back as
 * the same double, and of those the closest to it), for the fixed-notation range this module covers.
 *
 * Method (all steps exact in double or integer arithmetic):
 * 1. x = f · 2^e (f the 53-bit significand). k with N = x · 10^k in (1e16, 1e17), so N's integer part has 17 digits,
 *    comes from a table by ⌊log2 x⌋ and one comparison; 10^k (k ≤ 20) is an exact double.
 * 2. Dekker's TwoProduct (Dekker 1971; Ogita, Rump & Oishi 2005 "Accurate sum and dot product", Alg. 3.3)
 *    gives hi + lo = x · 10^k exactly: hi > 2^53 is an integer, |lo| ≤ ulp(hi)/2 ≤ 8.
 * 3. Half the gap to the neighbouring doubles, in the same units, is H = 2^(e−1) · 10^k ∈ [0.55, 11.2]. A
 *    candidate C (an integer) reads back as x iff |C − N| < H, or = H when f is even (round-half-even when
 *    parsing).
 * 4. The shortest candidate, found directly instead of trying one length after another: with hi = 100 · Q + r2 and
 *    z = lo + r2 ∈ [−8, 108) (N = hi − r2 + z; z and each distance below are exact doubles), it is the multiple of
 *    100 within H of z if there is one (hi − r2 or hi − r2 + 100; the interval, narrower than 23, holds at most one;
 *    its trailing zeros make it shorter still), else the multiple of 10 nearest to z if within H (16 significant
 *    digits; the interval is symmetric around N, so it holds a multiple of 10 only if it holds the nearest one), else
 *    z rounded to an integer (17 digits; always within H). Of equally short candidates that is the nearest, as
 *    Number::toString takes; the choice is made with selects rather than branches.
 * 5. Its 17 digits are Q's 15 and its last two: each group of eight made in one 64-bit word by multiplications
 *    ("SIMD within a register", see D. Lemire, "Converting integers to fix-digit representations quickly", 2021),
 *    and stored 8 bytes at a time.
 * Cases left to `String()` (the caller's fallback, signalled by −1): |x| outside [1e-4, 1e16), a power of two
 * (its lower gap is half the upper one), exact ties between two candidates, and a carry to 18 digits.
 *
 * These steps run in WebAssembly, compiled from AssemblyScript (src/dataset/wasm/shortest.ts, embedded in
 * shortest-wasm.ts). On the 16–17-digit values of the benchmark capture's CSV (issue 5; about ten per row) an earlier
 * form of them took 115 ns per value in JavaScript, and 68 ns in WebAssembly written in place into an output buffer lent
 * from the module's memory ({@link borrowShortestBuffer}). That form tried one length after another in step 4 (integer
 * remainders by table values in a loop); with the direct choice, one JavaScript call per value (about 6 ns of it),
 * median of 6 runs: 36 ns per 17-digit value against 56, 40 against 65 for 16 digits, 48 against 72 for 15, and the
 * module's row writer below 0.93 µs per row of that CSV against 1.29 µs.
 *
 * The module also writes whole rows of numeric cells ({@link commaCellsInPlace}, used by OutputSink.commaNumbers for
 * the lent buffer): on 200,000 rows of that CSV (76 numeric cells each) 1.46 µs per row against 1.97 µs for the
 * JavaScript loop, and about 0.6 s less CPU for the formatting thread of `extract` on the benchmark capture (measured
 * with the earlier step 4; with the direct choice the module's row writer takes 0.92–0.93 µs per row on 119,499 rows
 * of that CSV, against 1.28–1.31 µs before it).
 */

import { SHORTEST_WASM } from './shortest-wasm.js';

/** The part of the WebAssembly JavaScript API used here (the compiler's ES2022 library does not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

/** The compiled writer ({@link SHORTEST_WASM}): one instance per thread. */
const wasm = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(SHORTEST_WASM, 'base64')), {}).exports as {
  memory: { buffer: ArrayBuffer };
  init(): void; scratch(): number; region(): number; shortestAt(at: number, v: number): number;
  cells(): number; maxCells(): number; commaCells(from: number, n: number, out: number): number; stoppedAt(): number;
};
wasm.init();
const shortestAt = wasm.shortestAt, commaCells = wasm.commaCells;
/**
 * The module's memory: its size is fixed when it is built (never grown: growing would detach this ArrayBuffer, and a
 * single detached ArrayBuffer makes V8 check for detachment on every typed-array access in the process's optimised
 * code, which cost the metering thread 3–13 % in a test). Where {@link shortestAt} writes for a buffer elsewhere,
 * and the output region lent by {@link borrowShortestBuffer}.
 */
const MEM_BUFFER = wasm.memory.buffer;
const MEM = new Uint8Array(MEM_BUFFER);
const SCRATCH = wasm.scratch();
const REGION_AT = wasm.region();
const REGION_BYTES = Math.min(1 << 20, MEM_BUFFER.byteLength - REGION_AT);
/** The cells {@link commaCellsInPlace} hands to the module (a row's numbers, copied). */
const CELLS = new Float64Array(MEM_BUFFER, wasm.cells(), wasm.maxCells());
if (SCRATCH + 48 > REGION_AT || CELLS.byteOffset + CELLS.byteLength > REGION_AT) {
  throw new Error('shortest-wasm: the output region overlaps the module\'s statics');
}
/** Most cells one {@link commaCellsInPlace} call takes. */
export const MAX_CELLS = CELLS.length;
/** Bytes of room {@link commaCellsInPlace} needs per cell (a comma and up to 34 bytes touched by a number). */
export const CELL_ROOM = 36;
/** The buffer lent out ({@link borrowShortestBuffer}), or null. */
let lent: Buffer | null = null;

/**
 * Lends the module's output region (up to 1 MiB) as a Buffer of `size` bytes, or returns null when it is lent already
 * or too small: numbers that {@link writeShortest} writes into it go straight to their place, without a copy. One per
 * thread; give it back with {@link returnShortestBuffer} and stop using it then.
 */
export function borrowShortestBuffer(size: number): Buffer | null {
  if (lent !== null || size > REGION_BYTES) return null;
  lent = Buffer.from(MEM_BUFFER, REGION_AT, size);
  return lent;
}

/** Gives back a buffer from {@link borrowShortestBuffer} (any other buffer is ignored). */
export function returnShortestBuffer(buf: Uint8Array): void {
  if (buf === lent) lent = null;
}

/** "00" … "99" as ASCII pairs: the digits of n ∈ [0, 100) at [2n, 2n + 1]. */
export const DIGIT_PAIRS = new Uint8Array(200);
for (let i = 0; i < 100; i++) { DIGIT_PAIRS[2 * i] = 48 + ((i / 10) | 0); DIGIT_PAIRS[2 * i + 1] = 48 + (i % 10); }

/**
 * Writes `v` (finite) in ECMAScript's shortest round-trip form into `buf` at `pos` and returns the position after
 * the last byte, or −1 (nothing written) when `v` is outside what this method covers (see the module comment):
 * then `String(v)` is the answer. The text has at most 25 bytes (sign, "0.", three zeros, 17 digits, '.'), but up to
 * 34 bytes from `pos` may be touched (the digits are moved 8 bytes at a time), so `buf` needs that room.
 * Integers are formatted correctly but the caller's integer paths are faster.
 */
export function writeShortest(buf: Uint8Array, pos: number, v: number): number {
  if (buf === lent) {
    // The lent region (see borrowShortestBuffer): written in place.
    const n = shortestAt(REGION_AT + pos, v);
    return n < 0 ? -1 : pos + n;
  }
  const n = shortestAt(SCRATCH, v);
  if (n < 0) return -1;
  const m = MEM, from = SCRATCH;
  for (let i = 0; i < n; i++) buf[pos + i] = m[from + i];
  return pos + n;
}

/** The last cells [from, to) of `indices` {@link commaCellsInPlace} gathered, and their first index when consecutive (else −1). */
let gatherIndices: Int32Array | null = null, gatherFrom = 0, gatherTo = 0, gatherStart = -1;
/**
 * The view of the last consecutive block copied (`values`, `offset + gatherStart`, length), kept while those stay the
 * same: the formatting thread passes one row buffer at offset 0 for every row, and a new subarray per row had been a
 * million typed-array objects (Builtins_CreateTypedArray and TypedArrayPrototypeSubArray ~0.8 % of `extract`'s
 * samples on the benchmark capture, perf) and most of the young generation's garbage.
 */
let blockValues: Float64Array | null = null, blockAt = -1, blockLength = -1, block: Float64Array = new Float64Array(0);

/**
 * Writes `,v` for v = `values[offset + indices[i]]`, i ∈ [from, to), into the lent buffer ({@link borrowShortestBuffer})
 * at `pos`, each v as `String(v)` would, and returns the position after the last: a row's numeric cells written by the
 * module in one call (the values are copied into its memory first), with `String()` only for the cells it hands back
 * (non-finite, integers of 2^53 or more, below 1e-4 and not 0, ties). `to − from` must be at most {@link MAX_CELLS},
 * and the buffer needs {@link CELL_ROOM} bytes per cell from `pos`. Whether `indices[from, to)` are consecutive is
 * remembered for the last array and range seen: do not change an array's contents between calls.
 * @throws RangeError when no buffer is lent, or too many cells are given
 */
export function commaCellsInPlace(pos: number, values: Float64Array, offset: number, indices: Int32Array, from: number, to: number): number {
  const n = to - from;
  if (lent === null || n > MAX_CELLS) throw new RangeError('commaCellsInPlace: no lent buffer, or too many cells');
  const cells = CELLS;
  if (indices !== gatherIndices || from !== gatherFrom || to !== gatherTo) {
    gatherIndices = indices;
    gatherFrom = from;
    gatherTo = to;
    gatherStart = -1;
    let k = 0;
    while (k < n && indices[from + k] === indices[from] + k) k++;
    if (k === n && n > 0) gatherStart = indices[from];
  }
  // Consecutive indices (the CICFlowMeter columns are the registry's first features, in order): one block copy, about
  // half the time of the loop (95 -> 50 ms per million 80-cell rows, subarray included).
  if (gatherStart >= 0) {
    const at = offset + gatherStart;
    if (values !== blockValues || at !== blockAt || n !== blockLength) {
      blockValues = values;
      blockAt = at;
      blockLength = n;
      block = values.subarray(at, at + n);
    }
    cells.set(block);
  }
  else for (let i = 0; i < n; i++) cells[i] = values[offset + indices[from + i]];
  let at = REGION_AT + pos, next = 0;
  for (;;) {
    const end = commaCells(next, n, at);
    if (end >= 0) return end - REGION_AT;
    // The module stopped before a cell it leaves to String().
    const k = wasm.stoppedAt(), text = String(cells[k]), m = MEM;
    at = -end;
    m[at++] = 44;
    for (let c = 0; c < text.length; c++) m[at++] = text.charCodeAt(c);
    next = k + 1;
  }
}

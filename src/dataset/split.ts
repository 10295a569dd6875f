/**
 * Train/test splits of flow records: stratified (each class split in the same proportion, as scikit-learn's
 * `train_test_split(stratify=y)`) or time-ordered (the latest flows by first-packet time are the test part, so
 * a model is tested on traffic that came after its training traffic).
 */
import type { FlowRecords } from './collect.js';

/** How to split. */
export type SplitMode = 'stratified' | 'time';

/** mulberry32: a small seeded PRNG (Tommy Ettinger, public domain), uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Row indices of the train and test parts. `stratified`: each class split in proportion, in a seeded random order.
 * `time`: within each source (input file) of the records, its latest flows (by first packet time) are the test
 * part, so a split of several captures holds out the end of every capture rather than the last files.
 * @param testFraction share of rows in the test part, 0 < f < 1 (per class when stratified; each class with at
 *   least 2 rows keeps at least one row on each side)
 * @param seed shuffling seed (stratified mode)
 * @throws RangeError for a fraction outside (0, 1)
 */
export function splitRows(records: FlowRecords, testFraction: number, mode: SplitMode, seed = 0): { train: Int32Array; test: Int32Array } {
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`test fraction must be in (0, 1), got ${testFraction}`);
  const n = records.rows;
  const test: number[] = [];
  const train: number[] = [];
  if (mode === 'time') {
    // Within each source (capture or table): captures from different recordings have unrelated clocks, and one
    // global time order would put whole files, and so whole classes, on one side.
    const bySource = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const s = records.source[i];
      const list = bySource.get(s);
      if (list) list.push(i); else bySource.set(s, [i]);
    }
    for (const rows of bySource.values()) {
      rows.sort((a, b) => records.firstSeenUs[a] - records.firstSeenUs[b] || a - b);
      const cut = rows.length - Math.round(rows.length * testFraction);
      train.push(...rows.slice(0, cut));
      test.push(...rows.slice(cut));
    }
    train.sort((a, b) => a - b);
    test.sort((a, b) => a - b);
  } else {
    const rnd = prng(seed);
    const byClass = new Map<string, number[]>();
    for (let i = 0; i < n; i++) {
      const l = records.labels[i];
      const list = byClass.get(l);
      if (list) list.push(i); else byClass.set(l, [i]);
    }
    for (const rows of [...byClass.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, r]) => r)) {
      for (let i = rows.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [rows[i], rows[j]] = [rows[j], rows[i]];
      }
      let k = Math.round(rows.length * testFraction);
      if (rows.length >= 2) k = Math.min(Math.max(k, 1), rows.length - 1);
      test.push(...rows.slice(0, k));
      train.push(...rows.slice(k));
    }
    train.sort((a, b) => a - b);
    test.sort((a, b) => a - b);
  }
  return { train: Int32Array.from(train), test: Int32Array.from(test) };
}

/**
 * Holds out a seeded share of the rows of one class (e.g. BENIGN flows for calibrating an alert threshold):
 * the class's rows in a seeded random order (the same shuffle as {@link splitRows}), the first
 * `round(n · fraction)` of them held out — at least 1 and at most n − 1 when the class has n ≥ 2 rows.
 * @returns `held` (rows of the class held out) and `rest` (every other row), both in increasing order
 * @throws RangeError for a fraction outside (0, 1) or a class with fewer than 2 rows
 */
export function holdOutClass(records: FlowRecords, label: string, fraction: number, seed = 0): { held: Int32Array; rest: Int32Array } {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`held-out fraction must be in (0, 1), got ${fraction}`);
  const rows: number[] = [];
  for (let i = 0; i < records.rows; i++) if (records.labels[i] === label) rows.push(i);
  if (rows.length < 2) throw new RangeError(`class ${label} has ${rows.length} row(s); holding some out needs at least 2`);
  const rnd = prng(seed);
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  const k = Math.min(Math.max(Math.round(rows.length * fraction), 1), rows.length - 1);
  const held = Int32Array.from(rows.slice(0, k)).sort();
  const isHeld = new Uint8Array(records.rows);
  for (const r of held) isHeld[r] = 1;
  const rest: number[] = [];
  for (let i = 0; i < records.rows; i++) if (!isHeld[i]) rest.push(i);
  return { held, rest: Int32Array.from(rest) };
}

/**
 * Holds out whole groups (e.g. capture files) of one class's rows, so that the held-out rows come from groups
 * none of the remaining rows of the class come from: flows of one capture resemble each other more than flows
 * of another, and a threshold calibrated on flows of the captures it was fitted on is optimistic on new ones.
 * The groups holding rows of the class are taken in a seeded random order; a group joins the held-out part
 * when that keeps it at most twice the target `round(n · fraction)`, until the target is reached.
 * @param group group index of each row (e.g. `records.source`)
 * @returns as {@link holdOutClass}, with `groups` (held-out groups) and `groupsOfClass` (groups holding rows of
 *   the class); null when fewer than 2 groups hold rows of the class or no group fits (then use
 *   {@link holdOutClass})
 * @throws RangeError for a fraction outside (0, 1)
 */
export function holdOutClassByGroup(
  records: FlowRecords, label: string, fraction: number, group: ArrayLike<number>, seed = 0,
): { held: Int32Array; rest: Int32Array; groups: number; groupsOfClass: number } | null {
  if (!(fraction > 0 && fraction < 1)) throw new RangeError(`held-out fraction must be in (0, 1), got ${fraction}`);
  const size = new Map<number, number>();
  let n = 0;
  for (let i = 0; i < records.rows; i++) {
    if (records.labels[i] !== label) continue;
    size.set(group[i]!, (size.get(group[i]!) ?? 0) + 1);
    n++;
  }
  if (size.size < 2) return null;
  const order = [...size.keys()].sort((a, b) => a - b);
  const rnd = prng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const target = Math.max(1, Math.round(n * fraction));
  const chosen = new Set<number>();
  let held = 0;
  for (const g of order) {
    if (held >= target) break;
    const s = size.get(g)!;
    if (held + s <= 2 * target && held + s < n) {
      chosen.add(g);
      held += s;
    }
  }
  if (held === 0) return null;
  const h: number[] = [], rest: number[] = [];
  for (let i = 0; i < records.rows; i++) (records.labels[i] === label && chosen.has(group[i]!) ? h : rest).push(i);
  return { held: Int32Array.from(h), rest: Int32Array.from(rest), groups: chosen.size, groupsOfClass: size.size };
}

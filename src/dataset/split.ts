/**
 * Train/test splits of flow records: stratified (each class split in the same proportion, as scikit-learn's
 * `train_test_split(stratify=y)`) or time-ordered (the latest flows by first-packet time are the test part, so
 * a model is tested on traffic that came after its training traffic).
 */
import type { FlowRecords } from './collect.js';

/** How to split. */
export type SplitMode = 'stratified' | 'time';

/** mulberry32: a small seeded PRNG (Tommy Ettinger, public domain), uniform in [0, 1). */
function prng(seed: number): () => number {
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
 * Row indices of the train and test parts.
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
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => records.firstSeenUs[a] - records.firstSeenUs[b] || a - b);
    const cut = n - Math.round(n * testFraction);
    train.push(...order.slice(0, cut));
    test.push(...order.slice(cut));
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

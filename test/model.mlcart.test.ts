/**
 * (a) ml-cart (an independent, quadratic CART implementation, devDependency) as a small-data oracle: on
 * ≤ 2k rows of real data (scikit-learn's CSV copies of breast cancer, wine and a digits subset), both trees
 * grown to the same depth reach held-out accuracies within 1 point.
 *
 * Both are CART with Gini; ml-cart cuts only between rows whose labels differ and sends `x < mean` left,
 * which may place cuts differently among equally good ones when many values tie (digits' integer pixels),
 * so digits is compared on shallow trees. Skipped, with the reason, when the datasets are not installed
 * (they come with Debian's python3-sklearn).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DecisionTreeClassifier, createMatrix } from '../src/model/index.js';

const DATA = process.env.FLOWSIFT_SKLEARN_DATA ?? '/usr/lib/python3/dist-packages/sklearn/datasets/data';
const HAVE = existsSync(join(DATA, 'breast_cancer.csv')) && existsSync(join(DATA, 'digits.csv.gz'));
const suite = HAVE ? describe : describe.skip;
const tag = HAVE ? '' : ` [skipped: scikit-learn's datasets not found in ${DATA}; apt-get install python3-sklearn]`;

interface MlCart {
  train(X: number[][], y: number[]): void;
  predict(X: number[][]): number[];
}
type MlCartCtor = new (opts: { maxDepth: number; minNumSamples: number; gainThreshold: number }) => MlCart;
const { DecisionTreeClassifier: Cart } = createRequire(import.meta.url)('ml-cart') as { DecisionTreeClassifier: MlCartCtor };

function load(name: string, limit = Infinity): number[][] {
  const lines =
    name === 'digits'
      ? gunzipSync(readFileSync(join(DATA, 'digits.csv.gz'))).toString().trim().split('\n')
      : readFileSync(join(DATA, `${name}.csv`), 'utf8').trim().split('\n').slice(1);
  return lines.slice(0, limit).map((l) => l.split(',').map(Number));
}

function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

suite(`CART vs ml-cart oracle${tag}`, () => {
  const cases: Array<[string, number, number]> = [];
  for (const depth of [1, 2, 3, 4, 8]) cases.push(['breast_cancer', Infinity, depth]);
  for (const depth of [1, 2, 3, 6]) cases.push(['wine_data', Infinity, depth]);
  for (const depth of [1, 2, 3]) cases.push(['digits', 700, depth]);

  it.each(cases)('%s (first %s rows), depth %s: held-out accuracy within 1 point', (name, limit, depth) => {
    const rows = load(name, limit);
    const d = rows[0]!.length - 1;
    const r = prng(42);
    const order = rows.map((_, i) => [r(), i] as const).sort((a, b) => a[0] - b[0]).map(([, i]) => i);
    const nTr = Math.round(rows.length * 0.7);
    const train = order.slice(0, nTr).map((i) => rows[i]!);
    const test = order.slice(nTr).map((i) => rows[i]!);
    const k = Math.max(...rows.map((x) => x[d]!)) + 1;

    const X = createMatrix(train.length, d, undefined, Float64Array.from(train.flatMap((x) => x.slice(0, d))));
    const Xt = createMatrix(test.length, d, undefined, Float64Array.from(test.flatMap((x) => x.slice(0, d))));
    const ours = new DecisionTreeClassifier({ maxDepth: depth }).fit(X, Int32Array.from(train.map((x) => x[d]!)), k).predict(Xt);

    const cart = new Cart({ maxDepth: depth, minNumSamples: 1, gainThreshold: 0 });
    cart.train(train.map((x) => x.slice(0, d)), train.map((x) => x[d]!));
    const theirs = cart.predict(test.map((x) => x.slice(0, d)));

    const acc = (p: ArrayLike<number>) => test.filter((x, i) => p[i] === x[d]).length / test.length;
    expect(Math.abs(acc(ours) - acc(theirs))).toBeLessThanOrEqual(0.01);
    expect(acc(ours)).toBeGreaterThan(1 / k);
  });
});

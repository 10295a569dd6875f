#!/usr/bin/env node
/**
 * flowsift's side of the tree-training figures of `npm run bench` (scripts/bench.mjs, sections `train`
 * and `curve`): fits dist/model/tree.js's DecisionTreeClassifier (no depth limit, scikit-learn's defaults)
 * in this process and prints one JSON line.
 *
 *   node scripts/tree-curve.mjs (--data FILE | --csv FILE [--label NAME]) [--scale] [--repeat R] [--random-state S]
 *
 * --data: a data file of scripts/tree-curve.py (raw float64 X then int32 y, FILE.json beside it); --csv: a
 * CSV of numeric feature columns and a label column (default 'Label'; classes numbered in sorted order).
 * --scale: each timed fit is StandardScaler fit + transform, then the tree fit (what `flowsift train`
 * reports as "scale + fit"). `--random-state` is the seed scikit-learn's fit used (tree-curve.py prints it
 * as flowsift_random_state), so both grow the same tree.
 *
 * Timing: with --csv the first fit of the process on the whole data is reported as `cold_*` (the JIT
 * compiles the training loops while it runs, as in a fresh `flowsift train`), then three untimed fits let
 * the JIT finish (the fits right after the first still get faster: about 45, 33, 26 ms on the lab flows);
 * with --data three untimed warm-up fits on the first 20,000 rows come first instead, so that no timed fit
 * is cold. Then R timed
 * fits: fit_seconds (median wall), fit_cpu_seconds (median process CPU, all threads), runs (wall),
 * node_count, depth. Each fit includes the float32 conversion and presorting, as scikit-learn's fit
 * includes its own float32 copy.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The V8 settings the CLI starts with (src/cli/v8-tuning.ts), so that these fits run as `flowsift train`'s do.
if (!process.env.NO_TUNING) (await import(join(REPO, 'dist', 'cli', 'v8-tuning.js'))).applyV8Tuning();
const { DecisionTreeClassifier } = await import(join(REPO, 'dist', 'model', 'tree.js'));
const { createMatrix } = await import(join(REPO, 'dist', 'model', 'matrix.js'));
const { StandardScaler } = await import(join(REPO, 'dist', 'model', 'scaler.js'));

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const die = (msg, code = 1) => {
  process.stderr.write(`tree-curve.mjs: ${msg}\n`);
  process.exit(code);
};
const dataFile = opt('data');
const csvFile = opt('csv');
if (!dataFile === !csvFile) die('usage: tree-curve.mjs (--data FILE | --csv FILE [--label NAME]) [--scale] [--repeat R] [--random-state S]', 2);
const repeat = Math.max(1, Number(opt('repeat', '3')));
const randomState = Number(opt('random-state', '0'));
const scale = args.includes('--scale');

/** The data as { M (FeatureMatrix), y (Int32Array), classes }. */
function loadData() {
  if (dataFile) {
    const meta = JSON.parse(readFileSync(`${dataFile}.json`, 'utf8'));
    const { rows, cols, classes } = meta;
    const buf = readFileSync(dataFile);
    if (buf.length !== rows * cols * 8 + rows * 4) die(`${dataFile}: ${buf.length} bytes, expected ${rows * cols * 8 + rows * 4} for ${rows} × ${cols}`);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
    const X = new Float64Array(bytes.slice(0, rows * cols * 8).buffer);
    const y = new Int32Array(bytes.slice(rows * cols * 8).buffer);
    return { M: createMatrix(rows, cols, undefined, X), y, classes };
  }
  const label = opt('label', 'Label');
  const lines = readFileSync(csvFile, 'utf8').split('\n').filter((l) => l.length > 0);
  const header = lines[0].split(',').map((h) => h.trim());
  const li = header.indexOf(label);
  if (li < 0) die(`${csvFile}: no column named '${label}'`);
  const names = header.filter((_, i) => i !== li);
  const rows = lines.length - 1;
  const cols = names.length;
  const X = new Float64Array(rows * cols);
  const labels = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const cells = lines[r + 1].split(',');
    if (cells.length !== header.length) die(`${csvFile}: line ${r + 2} has ${cells.length} cells, expected ${header.length}`);
    for (let i = 0, j = 0; i < cells.length; i++) {
      if (i === li) labels[r] = cells[i];
      else {
        const v = Number(cells[i]);
        if (cells[i].trim() === '' || Number.isNaN(v)) die(`${csvFile}: line ${r + 2}, column '${header[i]}': not a number: '${cells[i]}'`);
        X[r * cols + j++] = v;
      }
    }
  }
  const classNames = [...new Set(labels)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const index = new Map(classNames.map((c, i) => [c, i]));
  return { M: createMatrix(rows, cols, names, X), y: Int32Array.from(labels, (l) => index.get(l)), classes: classNames.length };
}

const { M, y, classes } = loadData();
/** One timed fit: { wall s, cpu s, tree }. */
function timedFit(m, yy) {
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  const Xs = scale ? new StandardScaler().fit(m).transform(m) : m;
  const tree = new DecisionTreeClassifier({ randomState }).fit(Xs, yy, classes);
  const wall = (performance.now() - w0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e6, tree };
}

let cold = null;
if (dataFile) {
  const warm = Math.min(M.rows, 20000);
  const part = createMatrix(warm, M.cols, M.names, M.data.subarray(0, warm * M.cols));
  for (let i = 0; i < 3; i++) timedFit(part, y.subarray(0, warm));
} else {
  cold = timedFit(M, y);
  for (let i = 0; i < 3; i++) timedFit(M, y);
}
const runs = [];
let last = null;
for (let r = 0; r < repeat; r++) {
  last = null; // let the previous tree go before the next fit
  last = timedFit(M, y);
  runs.push(last);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({
  ...(cold ? { cold_seconds: cold.wall, cold_cpu_seconds: cold.cpu } : {}),
  fit_seconds: median(runs.map((r) => r.wall)),
  fit_cpu_seconds: median(runs.map((r) => r.cpu)),
  runs: runs.map((r) => r.wall),
  node_count: last.tree.nodeCount,
  depth: last.tree.depth,
}));

#!/usr/bin/env node
/**
 * Bundles the compiled CLI (dist/, from `tsc -p tsconfig.build.json`) into dist/bundle/ with esbuild: the entry of
 * bin/flowsift.js (main.js) and the scripts it starts or has imported by URL next to it (csv-thread-worker.js,
 * parallel-extract-worker.js, table-worker.js, score-rows.js), their shared code in chunks.
 *
 * Why: Node 20 resolves and loads each ES module separately, and loading the CLI's modules from dist/ took ~40 ms more
 * of every run's start-up than from the bundle (`flowsift extract` of an empty capture: 0.20–0.21 s against 0.17 s).
 * The npm packages are bundled in too, except TensorFlow.js (large, and loaded only by the models that use it): Node
 * loads a CommonJS package imported from an ES module by first parsing its source for its exports (commander and
 * papaparse, at every start). Bundled, the same empty extract took 0.14–0.18 s (median 0.145) against 0.16–0.21 s
 * (median 0.175), 8 alternating runs each. Code reached only through import() (TensorFlow.js, model training) stays
 * in chunks of its own, loaded when used.
 *
 *   node scripts/bundle.mjs    (part of `npm run build`)
 */
import { buildSync } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const OUT = join(DIST, 'bundle');

rmSync(OUT, { recursive: true, force: true });
buildSync({
  entryPoints: ['cli/main.js', 'dataset/csv-thread-worker.js', 'dataset/parallel-extract-worker.js', 'dataset/table-worker.js', 'model/score-rows.js'].map((f) => join(DIST, f)),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['@tensorflow/*'],
  // The CommonJS packages bundled in (commander, papaparse) require() Node's built-ins: give ES modules a require.
  banner: { js: "import { createRequire as __flowsiftRequire } from 'node:module'; const require = __flowsiftRequire(import.meta.url);" },
  outdir: OUT,
  // Flat: the workers are found as './csv-thread-worker.js' and './parallel-extract-worker.js' beside the code that
  // starts them, score's row writer as './score-rows.js' (the formatting thread imports it by URL), and package.json
  // as '../../package.json', as in dist/cli and dist/dataset.
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  logLevel: 'warning',
});

#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/bundle/ (built by `npm ci` through the `prepare` script: tsc, then
// scripts/bundle.mjs).
import('../dist/bundle/main.js').then((m) => m.run(), (err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('flowsift: not built yet; run `npm ci` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw err;
});

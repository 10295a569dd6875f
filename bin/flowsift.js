#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node
// Thin launcher: the compiled CLI lives in dist/bundle/ (built by `npm ci` through the `prepare` script: tsc, then
// scripts/bundle.mjs).
//
// The first line runs node with glibc's malloc asking the kernel for transparent huge pages (madvise(MADV_HUGEPAGE) on
// the large blocks it maps; glibc ≥ 2.35, where transparent_hugepage is `madvise` or `always`; ignored elsewhere): the
// flow table and the families' per-flow records (~100 MB on the benchmark capture) are read at random, one flow per
// packet, and with 4 KiB pages nearly every access also missed the TLB. `extract` of the benchmark capture, 6 alternating
// runs each: metering thread CPU median 4.32 s against 4.57 s, wall 4.73 s against 4.99 s (issue 5). Only when run as
// an executable (`flowsift`, `npx flowsift`, `bin/flowsift.js`); `node bin/flowsift.js` reads the shebang as a comment.
import('../dist/bundle/main.js').then((m) => m.run(), (err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('flowsift: not built yet; run `npm ci` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw err;
});

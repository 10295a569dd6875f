#!/bin/sh
":" //; GLIBC_TUNABLES=glibc.malloc.hugetlb=1 exec node "$0" "$@"
// The two lines above are both shell and JavaScript: run as an executable (`flowsift`, `npx flowsift`,
// `bin/flowsift.js`), /bin/sh starts node on this file with glibc's malloc asking the kernel for transparent huge pages
// (madvise(MADV_HUGEPAGE) on the large blocks it maps; glibc ≥ 2.35, where transparent_hugepage is `madvise` or
// `always`; ignored elsewhere); node reads the second line as a string and a comment. Why: the flow table and the
// families' per-flow records (~100 MB on the benchmark capture) are read at random, one flow per packet, and with 4 KiB
// pages nearly every access also missed the TLB. `extract` of the benchmark capture, 6 alternating runs each: metering
// thread CPU median 4.32 s against 4.57 s, wall 4.73 s against 4.99 s (issue 5). `node bin/flowsift.js` runs without it.
//
// Thin launcher: the compiled CLI lives in dist/bundle/ (built by `npm ci` through the `prepare` script: tsc, then
// scripts/bundle.mjs).
import('../dist/bundle/main.js').then((m) => m.run(), (err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
    process.stderr.write('flowsift: not built yet; run `npm ci` (or `npm run build`) first\n');
    process.exit(1);
  }
  throw err;
});

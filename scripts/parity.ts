/**
 * Parity harness: flowsift's `nfstream` profile against nfstream's own ground truth.
 *
 * For every capture of nfstream's test corpus (`pcaps/`, with a reference `results/<capture>` CSV written by
 * nfstream's generate_results.py: `NFStreamer(source, n_dissections=20, n_meters=1)`, one row per flow), runs
 * flowsift in-process with the nfstream profile (features/extract.ts `extractCapture`) and compares the MULTISET
 * of (bidirectional_packets, bidirectional_bytes) pairs (nfstream exports flows in its own order, so rows are
 * not compared by position). Prints, per capture, flows expected / produced / matched, then the totals.
 *
 *   npm run parity [-- [--corpus DIR] [--details] [--json FILE] [CAPTURE-NAME...]]
 *
 * `--corpus` defaults to ../shared/datasets/peers/nfstream (or $FLOWSIFT_SHARED/datasets/peers/nfstream);
 * `--details` lists the unmatched pairs of each capture below 100 %; `--json` writes the per-capture results.
 * Exit code 0 (the report is the product), 2 for a usage error.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'csv-parse/sync';
import { extractCapture } from '../src/features/extract.js';
import { createFeatureSet } from '../src/features/registry.js';
import { profileOptions } from '../src/flow/profiles.js';

/** Repository root. */
const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Default location of nfstream's corpus (`pcaps/`, `results/`). */
export const DEFAULT_CORPUS = join(process.env.FLOWSIFT_SHARED ?? resolve(REPO, '..', 'shared'), 'datasets', 'peers', 'nfstream');

/** One capture's comparison. */
export interface CaptureParity {
  /** File name in `pcaps/`. */
  capture: string;
  /** Flows in nfstream's reference. */
  expected: number;
  /** Flows flowsift produced. */
  produced: number;
  /** Size of the multiset intersection of (packets, bytes) pairs. */
  matched: number;
  /** Pairs only in the reference / only in flowsift's output, as "packets/bytes" → count. */
  missing: Map<string, number>;
  extra: Map<string, number>;
  /** Wall time of flowsift's run, seconds. */
  seconds: number;
}

/** (packets, bytes) pairs of a reference CSV (`id,bidirectional_packets,bidirectional_bytes,…`). */
export function referencePairs(csvPath: string): string[] {
  const rows = parse(readFileSync(csvPath), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((r) => `${Number(r.bidirectional_packets)}/${Number(r.bidirectional_bytes)}`);
}

/**
 * Runs flowsift's nfstream profile on `pcapPath` and returns its flows' (packets, bytes) pairs, in export order.
 * @param overrides options on top of the nfstream profile (e.g. `{ accountingMode: 1 }`)
 */
export async function flowsiftPairs(pcapPath: string, overrides: Parameters<typeof profileOptions>[1] = {}): Promise<string[]> {
  const opts = profileOptions('nfstream', overrides);
  const names = createFeatureSet().features.map((f) => f.name);
  const ip = names.indexOf('bidirectional_packets'), ib = names.indexOf('bidirectional_bytes');
  const pairs: string[] = [];
  await extractCapture(pcapPath, (flow) => { pairs.push(`${flow.features[ip]}/${flow.features[ib]}`); }, opts);
  return pairs;
}

function counts(items: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

/** Compares the multisets of reference and produced pairs. */
export function compareMultisets(capture: string, expected: readonly string[], produced: readonly string[], seconds = 0): CaptureParity {
  const e = counts(expected), p = counts(produced);
  let matched = 0;
  const missing = new Map<string, number>(), extra = new Map<string, number>();
  for (const [k, n] of e) {
    const m = Math.min(n, p.get(k) ?? 0);
    matched += m;
    if (n > m) missing.set(k, n - m);
  }
  for (const [k, n] of p) {
    const m = Math.min(n, e.get(k) ?? 0);
    if (n > m) extra.set(k, n - m);
  }
  return { capture, expected: expected.length, produced: produced.length, matched, missing, extra, seconds };
}

/** Runs one capture of the corpus. */
export async function captureParity(corpus: string, capture: string): Promise<CaptureParity> {
  const t0 = performance.now();
  const produced = await flowsiftPairs(join(corpus, 'pcaps', capture));
  const seconds = (performance.now() - t0) / 1000;
  return compareMultisets(capture, referencePairs(join(corpus, 'results', capture)), produced, seconds);
}

/** Captures of the corpus that have a reference result, sorted by name (as generate_results.py). */
export function corpusCaptures(corpus: string): string[] {
  return readdirSync(join(corpus, 'pcaps'))
    .filter((f) => existsSync(join(corpus, 'results', f)))
    .sort();
}

function pct(a: number, b: number): string {
  return b === 0 ? '100.00' : ((100 * a) / b).toFixed(2);
}

function fmtPairs(m: Map<string, number>, max = 12): string {
  const items = [...m].sort((a, b) => b[1] - a[1]).map(([k, n]) => (n > 1 ? `${k}×${n}` : k));
  return items.length > max ? `${items.slice(0, max).join(' ')} … (+${items.length - max})` : items.join(' ');
}

async function main(argv: string[]): Promise<number> {
  let corpus = DEFAULT_CORPUS, details = false, json: string | undefined;
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--corpus') corpus = argv[++i] ?? '';
    else if (a === '--details') details = true;
    else if (a === '--json') json = argv[++i];
    else if (a.startsWith('-')) {
      process.stderr.write(`parity: unknown option ${a}\n`);
      return 2;
    } else only.push(a);
  }
  if (!existsSync(join(corpus, 'pcaps')) || !existsSync(join(corpus, 'results'))) {
    process.stderr.write(`parity: no nfstream corpus at ${corpus} (expected pcaps/ and results/)\n`);
    return 2;
  }
  const all = corpusCaptures(corpus);
  const captures = only.length ? all.filter((c) => only.includes(c)) : all;
  const skipped = readdirSync(join(corpus, 'pcaps')).filter((f) => !existsSync(join(corpus, 'results', f)));
  const w = Math.max(...captures.map((c) => c.length), 7);
  process.stdout.write(`${'capture'.padEnd(w)}  expected  produced   matched        %\n`);
  const results: CaptureParity[] = [];
  let exp = 0, prod = 0, match = 0, exact = 0, secs = 0;
  for (const c of captures) {
    let r: CaptureParity;
    try {
      r = await captureParity(corpus, c);
    } catch (e) {
      const expected = referencePairs(join(corpus, 'results', c));
      r = compareMultisets(c, expected, []);
      process.stdout.write(`${c}: flowsift failed: ${(e as Error).message}\n`);
    }
    results.push(r);
    exp += r.expected; prod += r.produced; match += r.matched; secs += r.seconds;
    const ok = r.matched === r.expected && r.produced === r.expected;
    if (ok) exact++;
    process.stdout.write(`${c.padEnd(w)}  ${String(r.expected).padStart(8)}  ${String(r.produced).padStart(8)}  ${String(r.matched).padStart(8)}  ${pct(r.matched, r.expected).padStart(7)}${ok ? '' : '  ≠'}\n`);
    if (details && !ok) {
      if (r.missing.size) process.stdout.write(`    only nfstream: ${fmtPairs(r.missing)}\n`);
      if (r.extra.size) process.stdout.write(`    only flowsift: ${fmtPairs(r.extra)}\n`);
    }
  }
  process.stdout.write(`\ncaptures matched exactly: ${exact} / ${captures.length}\n`);
  process.stdout.write(`flows matched: ${match} / ${exp} expected (${pct(match, exp)} %), ${prod} produced\n`);
  process.stdout.write(`flowsift time: ${secs.toFixed(1)} s\n`);
  if (skipped.length) process.stdout.write(`without a reference result (not compared): ${skipped.join(', ')}\n`);
  if (json) {
    writeFileSync(json, `${JSON.stringify(results.map((r) => ({
      capture: r.capture, expected: r.expected, produced: r.produced, matched: r.matched,
      missing: Object.fromEntries(r.missing), extra: Object.fromEntries(r.extra),
    })), null, 1)}\n`);
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    process.stderr.write(`parity: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  });
}

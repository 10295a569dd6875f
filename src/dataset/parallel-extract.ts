/**
 * Several captures extracted at once, one per worker thread, into one CSV in input order.
 *
 * Each worker meters a whole capture (flows never span captures: each file has its own flow table, as on one
 * thread) and writes its rows, without a header, to a part file in a private temporary folder. The main thread
 * appends the parts to the output strictly in input order as they become available, so the output is
 * byte-identical to a one-thread run whatever the workers' timing, and prints each capture's summary in input
 * order. Memory is bounded by the workers' flow tables; the parts take disk space until they are appended.
 *
 * An error in a capture (corrupt, missing) is reported after the captures before it have been appended, as on
 * one thread: the same error class and message (the CLI's exit code is chosen by class name).
 */
import { mkdtempSync, openSync, readSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ExtractSummary } from '../features/extract.js';
import type { MeterOptions } from '../features/meter.js';
import type { CsvLayout } from './csv.js';
import { FlowCsvWriter } from './csv.js';
import type { OutputSink } from './output.js';

/** What every capture of a run is extracted with. */
export interface PartSettings {
  meter: MeterOptions & { strict?: boolean };
  /** `--label NAME` or `--labels FILE` (at most one). */
  label?: string;
  labels?: string;
  featureNames: readonly string[];
  textNames: readonly string[];
  layout: CsvLayout;
}

/** One capture for a worker. */
export interface PartJob extends PartSettings {
  index: number;
  path: string;
  /** Part file to write (headerless CSV). */
  part: string;
}

/** A worker's answer: the capture's summary, or its error. */
export interface PartResult {
  index: number;
  summary?: ExtractSummary;
  seconds?: number;
  error?: { name: string; message: string; code?: string };
}

/** What {@link extractFilesInParallel} needs besides the paths. */
export interface ParallelExtractOptions extends PartSettings {
  /** Worker threads (at most one per capture). */
  threads: number;
  /** Called in input order once capture `index` has been appended. */
  onCapture?: (index: number, summary: ExtractSummary, seconds: number) => void;
}

/**
 * Extracts `paths` (regular files; not stdin) on `opts.threads` worker threads into `sink` as one CSV (header
 * first, then each capture's rows in input order).
 * @returns the summaries in input order
 * @throws the first failing capture's error (same class name and message as on one thread), after the captures
 *   before it were appended; OutputError from the sink
 */
export async function extractFilesInParallel(
  paths: readonly string[], sink: OutputSink, opts: ParallelExtractOptions,
): Promise<ExtractSummary[]> {
  const { threads, onCapture, ...settings } = opts;
  // The header, exactly as a one-thread writer writes it.
  new FlowCsvWriter(sink, opts.featureNames, opts.textNames, opts.label !== undefined || opts.labels !== undefined, opts.layout);
  const dir = mkdtempSync(join(tmpdir(), 'flowsift-parts-'));
  // Removed on every way out, process.exit() included (e.g. the CLI ending on a closed stderr or a signal).
  const removeDir = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const results = new Array<PartResult | undefined>(paths.length);
  const summaries: ExtractSummary[] = [];
  let next = 0; // next capture to hand out
  let appended = 0; // captures appended to the sink so far
  let failure: PartResult | null = null;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const part = (i: number): string => join(dir, `${i}.csv`);
      const flushInOrder = (): void => {
        while (appended < paths.length && results[appended] && !failure) {
          const r = results[appended]!;
          if (r.error) { failure = r; return; }
          appendFile(part(appended), sink);
          rmSync(part(appended), { force: true });
          summaries.push(r.summary!);
          onCapture?.(appended, r.summary!, r.seconds!);
          appended++;
        }
      };
      const give = (w: Worker): boolean => {
        if (next >= paths.length || failure) return false;
        const i = next++;
        const job: PartJob = { ...settings, index: i, path: paths[i], part: part(i) };
        w.postMessage(job);
        return true;
      };
      let busy = 0;
      const n = Math.max(1, Math.min(threads, paths.length));
      for (let k = 0; k < n; k++) {
        const w = new Worker(new URL('./parallel-extract-worker.js', import.meta.url));
        workers.push(w);
        w.on('error', reject);
        w.on('message', (r: PartResult) => {
          busy--;
          results[r.index] = r;
          try {
            flushInOrder();
          } catch (e) {
            reject(e);
            return;
          }
          if (give(w)) busy++;
          if (busy === 0) resolve();
        });
        if (give(w)) busy++;
      }
      if (busy === 0) resolve();
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    process.off('exit', removeDir);
    removeDir();
  }
  const failed = failure as PartResult | null;
  if (failed?.error) {
    const e = new Error(failed.error.message) as Error & { code?: string };
    e.name = failed.error.name;
    if (failed.error.code) e.code = failed.error.code;
    e.stack = `${e.name}: ${e.message}`;
    throw e;
  }
  return summaries;
}

/** Copies a part file to the sink in 1 MiB reads. */
function appendFile(path: string, sink: OutputSink): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      sink.bytes(buf, n);
    }
  } finally {
    closeSync(fd);
  }
}

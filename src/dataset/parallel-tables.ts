/**
 * Several flow tables read at once, one per worker thread, into one record set in input order — what
 * {@link readFlowTables} gives on one thread, row for row, with the same warnings, summaries and errors.
 *
 * Why: reading a table is CPU-bound (CSV parsing and number conversion, ~90,000 rows/s of CICFlowMeter's width on this
 * project's 2-core test machine), and datasets come as several tables (CIC-IDS2017: 8 CSVs, 2.8 million flows).
 *
 * How: the first table's header fixes the feature columns ({@link tableFeatureNames}); each worker reads one whole
 * table with those columns ({@link readFlowTables}, so every per-table rule, message and warning is the one-thread
 * code's) and sends its records back with their buffers transferred, not copied ({@link FlowRecords.toPart}). The
 * main thread appends the tables strictly in input order as they arrive. Memory: the records are sized once for all
 * tables, as on one thread; at most 2 × threads tables are read ahead of the one being appended, so the parts waiting
 * behind a slow table stay bounded.
 *
 * An error in a table (missing, corrupt, a bad cell) is thrown after the tables before it were appended, as on one
 * thread: the same class name, message and file/line fields (the CLI chooses its exit code by class name).
 */
import { Worker } from 'node:worker_threads';
import type { FlowRecordsPart } from './collect.js';
import type { ReadFlowTableOptions, TableSummary } from './table.js';
import { estimateRows, FlowTableRecords, tableFeatureNames } from './table.js';

/** One table for a worker. */
export interface TableJob {
  index: number;
  path: string;
  /** The feature columns of every table (the first table's, or the requested ones). */
  names: readonly string[];
  opts: Omit<ReadFlowTableOptions, 'features'>;
}

/** A worker's answer: the table's records, warnings and summary, or its error. */
export interface TableResult {
  index: number;
  part?: FlowRecordsPart;
  warnings?: string[];
  summary?: TableSummary;
  error?: { name: string; message: string; code?: string; file?: string; line?: number; column?: string };
}

/** Options of {@link readFlowTablesParallel}. */
export interface ParallelTableOptions extends ReadFlowTableOptions {
  /** Worker threads (at most one per table; at least 1). */
  threads: number;
  /** The worker script (tests); default table-worker.js beside this module. */
  workerUrl?: URL;
}

/**
 * Reads `paths` (plain or gzip CSV flow tables) on `opts.threads` worker threads into one record set: the same
 * records, warnings and table summaries, in the same order, as `readFlowTables(paths, opts)` (only the summaries'
 * `seconds` differ: each is its table's read time on its thread).
 * @throws TableError as {@link readFlowTables}: the first failing table's in input order; Error when a worker cannot
 *   start or stops
 */
export async function readFlowTablesParallel(paths: readonly string[], opts: ParallelTableOptions): Promise<FlowTableRecords> {
  const { threads, workerUrl, ...readOpts } = opts;
  const { features: _features, ...jobOpts } = readOpts; // every option but the columns, which the job names
  if (paths.length === 0) return new FlowTableRecords(readOpts.features ?? [], 1);
  const names = await tableFeatureNames(paths[0], readOpts);
  const records = new FlowTableRecords(names, paths.reduce((n, p) => n + estimateRows(p), 0));
  const results = new Array<TableResult | undefined>(paths.length);
  const n = Math.max(1, Math.min(threads, paths.length));
  const ahead = 2 * n;
  const workers: Worker[] = [];
  let next = 0; // next table to hand out
  let merged = 0; // tables appended so far
  let failure: TableResult | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      const idle: Worker[] = [];
      let busy = 0;
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      const appendInOrder = (): void => {
        while (merged < paths.length && results[merged] && !failure) {
          const r = results[merged]!;
          results[merged] = undefined; // the part's memory goes with it once appended
          if (r.error) { failure = r; return; }
          records.appendPart(r.part!, records.addSource(paths[merged]));
          records.warnings.push(...r.warnings!);
          records.tables.push(r.summary!);
          merged++;
        }
      };
      const dispatch = (): void => {
        while (idle.length > 0 && next < paths.length && next < merged + ahead && !failure) {
          const job: TableJob = { index: next, path: paths[next], names, opts: jobOpts };
          next++;
          busy++;
          idle.pop()!.postMessage(job);
        }
        if (busy === 0 && !settled) {
          settled = true;
          resolve();
        }
      };
      for (let k = 0; k < n; k++) {
        const w = new Worker(workerUrl ?? new URL('./table-worker.js', import.meta.url));
        workers.push(w);
        w.on('error', fail);
        w.on('exit', (code) => fail(new Error(`flow table reader thread stopped (exit code ${code})`)));
        w.on('message', (r: TableResult) => {
          busy--;
          results[r.index] = r;
          idle.push(w);
          try {
            appendInOrder();
          } catch (e) {
            fail(e);
            return;
          }
          dispatch();
        });
        idle.push(w);
      }
      dispatch();
    });
  } finally {
    for (const w of workers) w.removeAllListeners('exit');
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const failed = failure as TableResult | null;
  if (failed?.error) throw rebuildError(failed.error);
  return records;
}

/** The worker's error as an Error with the same name, message and fields (and no stack beyond its first line). */
function rebuildError(e: NonNullable<TableResult['error']>): Error {
  const err = new Error(e.message) as Error & Record<string, unknown>;
  err.name = e.name;
  for (const k of ['code', 'file', 'line', 'column'] as const) if (e[k] !== undefined) err[k] = e[k];
  err.stack = `${e.name}: ${e.message}`;
  return err;
}

/**
 * Several flow tables read at once, one per worker thread, into one record set in input order — what
 * {@link readFlowTables} gives on one thread, row for row, with the same warnings, summaries and errors.
 *
 * Why: reading a table is CPU-bound (CSV parsing and number conversion: 70,000–72,000 rows/s with CICFlowMeter's 76
 * features on this project's 2-core test machine), and datasets come as several tables (CIC-IDS2017: 8 CSVs, 2.8
 * million flows). 8 tables of 125,000 rows: 13.9–14.2 s on one thread, 9.2–9.3 s on two.
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
import type { FlowRecordsPart } from './collect.js';
import type { ReadFlowTableOptions, TableSummary } from './table.js';
import { estimateRows, FlowTableRecords, readFlowTables, tableFeatureNames } from './table.js';
import { runInOrder } from './worker-pool.js';
import type { OrderedResult } from './worker-pool.js';

/** One table for a worker. */
export interface TableJob {
  index: number;
  path: string;
  /** The feature columns of every table (the first table's, or the requested ones). */
  names: readonly string[];
  opts: Omit<ReadFlowTableOptions, 'features'>;
}

/** A worker's answer: the table's records, warnings and summary, or its error. */
export interface TableResult extends OrderedResult {
  part?: FlowRecordsPart;
  warnings?: string[];
  summary?: TableSummary;
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
  if (paths.length < 2) return readFlowTables(paths, readOpts); // nothing to share out
  const names = await tableFeatureNames(paths[0], readOpts);
  const records = new FlowTableRecords(names, paths.reduce((n, p) => n + estimateRows(p), 0));
  const jobs = paths.map((path, index): TableJob => ({ index, path, names, opts: jobOpts }));
  await runInOrder<TableJob, TableResult>(workerUrl ?? new URL('./table-worker.js', import.meta.url), jobs, threads, (r) => {
    records.appendPart(r.part!, records.addSource(paths[r.index]));
    records.warnings.push(...r.warnings!);
    records.tables.push(r.summary!);
  }, 'flow table reader');
  return records;
}

/**
 * A worker of {@link import('./parallel-tables.js').readFlowTablesParallel}: reads one flow table at a time with
 * {@link readFlowTables} and sends its records back as a {@link import('./collect.js').FlowRecordsPart} (buffers
 * transferred), with the table's warnings and summary, or its error.
 */
import { parentPort } from 'node:worker_threads';
import type { TableJob, TableResult } from './parallel-tables.js';
import { readFlowTables } from './table.js';

parentPort!.on('message', async (job: TableJob) => {
  try {
    const records = await readFlowTables([job.path], { ...job.opts, features: job.names });
    const { part, transfer } = records.toPart();
    const r: TableResult = { index: job.index, part, warnings: records.warnings, summary: records.tables[0] };
    parentPort!.postMessage(r, transfer);
  } catch (e) {
    const err = (e instanceof Error ? e : new Error(String(e))) as Error & { code?: string; file?: string; line?: number; column?: string };
    const r: TableResult = {
      index: job.index,
      error: { name: err.name, message: err.message, code: err.code, file: err.file, line: err.line, column: err.column },
    };
    parentPort!.postMessage(r);
  }
});

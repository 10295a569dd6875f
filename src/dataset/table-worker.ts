/**
 * A worker of {@link import('./parallel-tables.js').readFlowTablesParallel}: reads one flow table at a time with
 * {@link readFlowTables} and sends its records back as a {@link import('./collect.js').FlowRecordsPart} (buffers
 * transferred), with the table's warnings and summary, or its error.
 */
import { parentPort } from 'node:worker_threads';
import type { TableJob, TableResult } from './parallel-tables.js';
import { readFlowTables } from './table.js';
import { errorInfo } from './worker-pool.js';

parentPort!.on('message', async (job: TableJob) => {
  try {
    const records = await readFlowTables([job.path], { ...job.opts, features: job.names });
    const { part, transfer } = records.toPart();
    const r: TableResult = { index: job.index, part, warnings: records.warnings, summary: records.tables[0] };
    parentPort!.postMessage(r, transfer);
  } catch (e) {
    const r: TableResult = { index: job.index, error: errorInfo(e) };
    parentPort!.postMessage(r);
  }
});

/**
 * The formatting thread of {@link import('./csv-thread.js').ThreadedFlowCsvWriter}: reads batches of flows (numbers
 * in a shared ring, strings in the messages; with a meter that shares its records, each flow's slot, whose records
 * it reads where the meter keeps them) and writes them as CSV rows, with {@link FlowCsvWriter}, to the output
 * descriptor it was given (or to the writer of the caller's {@link import('./csv-thread.js').RowConsumer}). After a
 * write error it records the error for the main thread and drops later batches.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { FeatureFinalizer } from '../features/finalize.js';
import { FLOW_ID_WIDTH, FlowIdsView, writeFlowIds } from '../features/meter.js';
import { FlowRecordView } from '../flow/table.js';
import { BATCH_ROWS, type CsvBatch, type CsvThreadInit, finalizedRowWidth, type FlowRowWriter } from './csv-thread.js';
import type { CsvFlowRow } from './csv.js';
import { FlowCsvWriter } from './csv.js';
import { OutputError, OutputSink } from './output.js';

const init = workerData as CsvThreadInit;

/**
 * Niceness of this thread (Linux): when the metering thread and this one are both runnable (V8's compiler and GC
 * threads make three or more on a 2-core machine), the scheduler gives the metering thread, which decides the run's
 * length, the larger share; this thread has slack and catches up when the meter waits. 5 alternating extract runs of
 * the benchmark capture: the metering thread waited 0.16–0.27 s on the run queue instead of 0.28–0.31 s, wall median
 * 4.27 s against 4.41 s (issue 5).
 */
const FORMATTING_NICE = 10;

/** Lowers this thread's priority to {@link FORMATTING_NICE} where threads have their own (Linux); else nothing. */
function lowerPriority(): void {
  try {
    // /proc/thread-self → "PID/task/TID"; setpriority(PRIO_PROCESS, TID) applies to that thread only on Linux.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, FORMATTING_NICE);
  } catch {
    // Not Linux, or not permitted: the default priority.
  }
}
lowerPriority();
const control = new Int32Array(init.control);
const errorText = new Uint8Array(init.error);
const sink = OutputSink.borrow(init.fd, init.path);
let failed = false;

/** Records the first error for the main thread. */
function fail(e: unknown): void {
  if (failed) return;
  failed = true;
  const code = e instanceof OutputError ? e.code : (e as NodeJS.ErrnoException).code;
  const message = e instanceof OutputError ? e.message.slice(init.path.length + 2) : `${init.consumer?.task ?? 'formatting'} failed: ${(e as Error).message}`;
  const bytes = new TextEncoder().encode(JSON.stringify({ message, code }));
  const n = Math.min(bytes.length, errorText.length);
  errorText.set(bytes.subarray(0, n));
  Atomics.store(control, 1, n);
  Atomics.notify(control, 0);
}

let writer: FlowRowWriter | null = null;
try {
  if (init.consumer) {
    const m = await import(init.consumer.module) as { createRowWriter(sink: OutputSink, options: unknown): FlowRowWriter | Promise<FlowRowWriter> };
    writer = await m.createRowWriter(sink, init.consumer.options);
  } else writer = new FlowCsvWriter(sink, init.featureNames, init.textNames, init.withLabel, init.layout);
} catch (e) {
  fail(e);
}

/** One batch row seen as a {@link CsvFlowRow}. */
class BatchRow extends FlowIdsView implements CsvFlowRow {
  featureOffset = 0;
  textOffset = 0;
  constructor(public features: Float64Array, public text: string[]) { super(new Float64Array(0)); }
}

const nFeatures = init.featureNames.length;
const textWidth = init.textNames.length + (init.withLabel ? 1 : 0);
const ids = new Float64Array(init.ids), features = new Float64Array(init.features), codes = new Int32Array(init.text);
/** With a deferring meter: computes each row's features from its record (see FeatureFinalizer). */
const finalizer = init.deferred ? new FeatureFinalizer(init.deferred) : null;
const rowFeatures = new Float64Array(finalizer ? finalizer.featureCount : 0);
/** Doubles per row of a batch the main thread finalized (see CsvBatch.finalized). */
const finalizedWidth = finalizer ? finalizedRowWidth(init.layout, finalizer.featureCount) : 0;
/** Text columns computed here from record copies (deferText), not sent as codes. */
const textDeferred = new Uint8Array(textWidth);
/** With a meter that shares its records: records are read where the meter keeps them (see CsvBatch.records). */
const shared = init.deferred?.shareRecords === true;
if (finalizer && (init.deferred?.deferText || shared)) {
  if (!shared) finalizer.useTextRecords(init.textRecords);
  for (const p of finalizer.deferredTextPositions) textDeferred[p] = 1;
}
const deferText = textDeferred.includes(1);
/** With a meter that shares its records: the (slot, reason) ring, the meter's table records, one row's identifiers. */
const slots = new Int32Array(init.slots);
let table: FlowRecordView | null = null;
const rowIds = new Float64Array(FLOW_ID_WIDTH);
/** Rows whose records are touched ahead of formatting, and where the sum of the touched numbers goes. */
const TOUCH_ROWS = 32;
const touched = new Float64Array(1);
const row = new BatchRow(new Float64Array(0), []);
/** The string table (see CsvBatch), and one row's text columns + label decoded from it. */
let strings: string[] = [];
const rowText = new Array<string>(textWidth).fill('');

// Started (see csv-thread.ts START_TIMEOUT_S): the writer stops waiting for a worker that never got here.
Atomics.store(control, 2, 1);
Atomics.notify(control, 0);

parentPort!.on('message', (m: CsvBatch | { end: true }) => {
  if ('end' in m) {
    let result: unknown;
    try {
      if (!failed) {
        result = writer?.finish?.();
        sink.close();
      }
    } catch (e) {
      fail(e);
    }
    parentPort!.postMessage({ done: true, result });
    return;
  }
  try {
    if (!failed && writer) {
      if (m.reset) strings = [];
      for (const s of m.newStrings) strings.push(s);
      row.text = rowText;
      if (shared) {
        if (m.records) {
          finalizer!.useShared(m.records);
          table = new FlowRecordView(m.records.table);
        }
        row.ids = rowIds;
        row.at = 0;
        // Features computed by the main thread (CsvBatch.finalized) are in the features ring, else computed here.
        const finalized = m.finalized;
        row.features = finalized ? features : rowFeatures;
        row.featureOffset = 0;
        for (let r0 = m.slot * BATCH_ROWS, end = r0 + m.rows; r0 < end; r0 += TOUCH_ROWS) {
          const r1 = Math.min(end, r0 + TOUCH_ROWS);
          // The flows ended after an idle or linger timeout: their records are cold. Reading one number per cache
          // line of the next rows first lets those misses overlap (independent loads) instead of stalling the
          // formatting one at a time.
          let sum = 0;
          for (let r = r0; r < r1; r++) sum += table!.touch(slots[2 * r]) + finalizer!.touchSlot(slots[2 * r], !finalized);
          touched[0] = sum;
          for (let r = r0; r < r1; r++) {
            const slot = slots[2 * r];
            writeFlowIds(table!, slot, slots[2 * r + 1], rowIds, 0);
            // The offset is computed for every row: a multiplication first reached when the first finalized batch
            // came (after the handler was optimised) dropped the optimised code ('insufficient type feedback').
            const offset = r * finalizedWidth;
            if (finalized) row.featureOffset = offset;
            else finalizer!.finalizeSlot(slot, rowFeatures);
            for (let i = 0, o = r * textWidth; i < textWidth; i++) if (textDeferred[i] === 0) rowText[i] = strings[codes[o + i]];
            finalizer!.finalizeText(slot, rowText);
            writer.write(row, init.withLabel ? rowText[textWidth - 1] : undefined);
          }
        }
        return;
      }
      row.ids = ids;
      row.features = features;
      for (let r = m.slot * BATCH_ROWS, end = r + m.rows; r < end; r++) {
        row.at = r * FLOW_ID_WIDTH;
        if (finalizer) {
          finalizer.finalize(features, r, rowFeatures);
          row.features = rowFeatures;
        } else row.featureOffset = r * nFeatures;
        for (let i = 0, o = r * textWidth; i < textWidth; i++) if (textDeferred[i] === 0) rowText[i] = strings[codes[o + i]];
        if (deferText) finalizer!.finalizeText(r, rowText);
        writer.write(row, init.withLabel ? rowText[textWidth - 1] : undefined);
      }
    }
  } catch (e) {
    fail(e);
  } finally {
    Atomics.sub(control, 0, 1);
    Atomics.notify(control, 0);
  }
});

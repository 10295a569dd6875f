/**
 * Flow CSV rows formatted and written on a worker thread, so that number formatting (about half of `extract`'s
 * time on large captures: every feature value becomes text) runs on a second core while the main thread meters
 * packets. The output bytes are exactly those of {@link FlowCsvWriter} on the main thread.
 *
 * The main thread copies each finished flow into a batch: identifiers and the written features (only those, in
 * column order) as numbers, text columns and labels as codes into a string table. Batches live in a ring of
 * {@link MAX_BATCHES_IN_FLIGHT} slots of shared memory (allocated once and small enough to stay in cache: fresh
 * transferred buffers per batch cost page faults and memory traffic that slowed the metering thread); a short
 * message tells the worker a slot is ready. The worker formats the batch with a {@link FlowCsvWriter} into the
 * output's file descriptor (the {@link OutputSink} opened on the main thread, which keeps the
 * temporary-file-and-rename behaviour and signal clean-up). Batches are written in the order they were sent. Before
 * filling a slot the main thread waits (Atomics.wait) until the worker has finished the batch that used it last, so
 * memory stays bounded whatever the speed of the disk or pipe.
 *
 * With a meter that shares its records ({@link MeterOptions.shareRecords}) nothing of the flow is copied: the batch
 * holds each flow's slot and end reason, the main thread keeps the slot ({@link FinishedFlow.keep}) and the worker
 * reads the flow's identifiers, numeric records and connection-state record where the meter left them. Flows end
 * after their idle or linger timeout, when their records have long left the cache: reading them (cache misses, about
 * 0.7 s of the main thread on the 1M-flow benchmark capture when they were copied) is then the worker's. Once the
 * worker has finished a batch, the main thread gives its slots back to the meter ({@link FinishedFlow.release}).
 * When the ring is full (the worker is the slower thread: at the end of input, when the flows still live end at once,
 * or in a phase where formatting falls behind), the main thread computes the numeric features of the batch it is
 * about to send itself instead of only waiting, and the worker formats them (about a quarter of its work per row
 * done elsewhere). `extract` of the benchmark capture: 112–310 of 1,954 batches, most at the end of input; the wall
 * time fell by a paired median of 0.10 s and 0.18 s in two sets of alternating runs (12 and 10 pairs).
 *
 * A write error on the worker (disk full, closed pipe) is reported on the main thread as the same
 * {@link OutputError} the single-thread path raises: at the next batch, or at {@link ThreadedFlowCsvWriter.close}.
 */
import { Worker } from 'node:worker_threads';
import type { FinishedFlow, SharedFlowRecords } from '../features/meter.js';
import { FeatureFinalizer } from '../features/finalize.js';
import type { MeterOptions } from '../features/meter.js';
import { FLOW_ID_WIDTH } from '../features/meter.js';
import type { FlowIdsView } from '../features/meter.js';
import type { CsvFlowRow, CsvLayout } from './csv.js';
import { OutputError, type OutputSink } from './output.js';

/** Flows per batch sent to the worker. */
export const BATCH_ROWS = 512;
/** Batches the worker may be behind before the main thread waits (batches of copied flows). */
export const MAX_BATCHES_IN_FLIGHT = 8;
/**
 * The same with shared records, where a batch is a few kilobytes: more room absorbs bursts of flows (many expiring
 * at once) without stopping the metering thread. On the benchmark capture the main thread waited 0.31 s with 8,
 * 0.16 s with 32 (one profile each). The kept slots (up to 33 · {@link BATCH_ROWS}) are part of
 * {@link sharedTableCapacity}.
 */
export const MAX_SHARED_BATCHES_IN_FLIGHT = 32;

/** Upper bound of {@link sharedTableCapacity}: 2^20 slots, about 1.1 GiB of per-flow records reserved (not used). */
export const MAX_SHARED_TABLE_CAPACITY = 1 << 20;

/**
 * Slots a meter that shares its records with a {@link ThreadedFlowCsvWriter} should start its flow table with
 * ({@link import('../flow/table.js').FlowTableOptions.initialCapacity}): `maxFlows` live flows plus the most slots
 * the writer keeps (the batches in flight and the one being filled), at most {@link MAX_SHARED_TABLE_CAPACITY}.
 * The records are zeroed allocations mapped lazily, so unused slots cost no memory; growing a shared table
 * instead keeps every outgrown buffer until both threads have collected it (the 10M-flow SYN flood peaked at
 * 998 MiB with growth from 65,536 slots, 674 MiB without).
 */
export function sharedTableCapacity(maxFlows: number): number {
  const kept = (MAX_SHARED_BATCHES_IN_FLIGHT + 1) * BATCH_ROWS;
  return Math.min(MAX_SHARED_TABLE_CAPACITY, Math.max(65536, maxFlows + kept));
}

/** Shared control words: [batches in flight, error text length (0 = no error), 1 once the worker has started]. */
const IN_FLIGHT = 0, ERROR_LEN = 1, STARTED = 2;
/**
 * Seconds the writer waits for ring space from a worker that has not started before it gives up: a worker whose script
 * fails to load (a half-built dist/) never answers, and its `error` event cannot be delivered while this thread waits.
 */
const START_TIMEOUT_S = 30;
/** Bytes reserved for the worker's error text (JSON {message, code}). */
const ERROR_BYTES = 4096;

/** What the worker is started with. */
export interface CsvThreadInit {
  fd: number;
  path: string;
  featureNames: readonly string[];
  textNames: readonly string[];
  withLabel: boolean;
  /**
   * Without `deferred`: the layout with `featureIndices` already applied (batches hold the written features only,
   * in column order). With it: the caller's layout, batches hold flow records and the worker computes the features.
   */
  layout: CsvLayout;
  /** The meter's options when its numeric features are computed here ({@link MeterOptions.deferNumeric}). */
  deferred: MeterOptions | null;
  /** With `deferred.deferText`: per text family with a copyable record, the ring of record copies (see CsvBatch). */
  textRecords: SharedArrayBuffer[];
  /** With `deferred.shareRecords`: the ring of (slot, end reason) pairs, Int32, two per row (see CsvBatch). */
  slots: SharedArrayBuffer;
  /** The batch ring: {@link MAX_BATCHES_IN_FLIGHT} (shared records: {@link MAX_SHARED_BATCHES_IN_FLIGHT}) slots of ids (Float64), features (Float64) and text codes (Int32). */
  ids: SharedArrayBuffer;
  features: SharedArrayBuffer;
  text: SharedArrayBuffer;
  /** Int32 control words ({@link IN_FLIGHT}, {@link ERROR_LEN}). */
  control: SharedArrayBuffer;
  /** UTF-8 JSON of the first write error. */
  error: SharedArrayBuffer;
  /** Where the rows go instead of a {@link FlowCsvWriter} (see {@link RowConsumer}), or null. */
  consumer: RowConsumer | null;
}

/**
 * What the worker hands each row to: a {@link import('./csv.js').FlowCsvWriter} (CSV rows), or the object a
 * {@link RowConsumer} module makes.
 */
export interface FlowRowWriter {
  /**
   * One flow: identifiers (also as `flowId` and `timestamp` text), features from `featureOffset` (registry order; only
   * the layout's `featureIndices` when the meter does not defer its features), text columns; its label if any.
   */
  write(row: CsvFlowRow & Pick<FlowIdsView, 'flowId' | 'timestamp'>, label?: string): void;
  /** After the last row, before the sink closes: a structured-cloneable result for the main thread, if any. */
  finish?(): unknown;
}

/**
 * Another destination for the rows of a {@link ThreadedFlowCsvWriter}, chosen by the caller without this module
 * knowing it (e.g. `score`'s predictions, src/model/score-rows.ts): the URL of an ES module whose
 * `createRowWriter(sink: OutputSink, options): FlowRowWriter | Promise<FlowRowWriter>` the worker calls once, and
 * its options (structured-cloneable). The worker then gives every row to that writer, and
 * {@link ThreadedFlowCsvWriter.close} returns what its `finish()` returned.
 */
export interface RowConsumer {
  module: string;
  options: unknown;
  /** What the rows are for, as errors of the thread name it (`scoring failed: …`). Default `formatting`. */
  task?: string;
}

/**
 * A batch of rows in ring slot `slot`: row r's identifiers at `ids[(slot * BATCH_ROWS + r) * FLOW_ID_WIDTH …]`,
 * written features at `features[(slot * BATCH_ROWS + r) * nFeatures …]` (or, for a meter with
 * {@link MeterOptions.deferNumeric}, the flow's record at `features[(slot * BATCH_ROWS + r) * recordWidth …]`,
 * see {@link FeatureFinalizer}; with {@link MeterOptions.deferText} also the connection-state record copies at
 * `textRecords[k][(slot * BATCH_ROWS + r) * words …]`), and text columns (+ label last) as codes
 * at `text[(slot * BATCH_ROWS + r) * textWidth …]` into the worker's string table. Text values repeat (connection
 * states, services, labels), so each distinct string crosses to the worker once: `newStrings` extends the table
 * (after clearing it when `reset`); sending the strings of every row instead made the structured clone cost more
 * than the formatting.
 */
export interface CsvBatch {
  slot: number;
  rows: number;
  newStrings: string[];
  reset: boolean;
  /**
   * With a meter that shares its records: the meter's records, when they are not those of the previous batch (first
   * batch, table growth, next capture); null otherwise. Row r's flow is then slot `slots[2 · (slot · BATCH_ROWS + r)]`
   * of them, its end reason the next number.
   */
  records: SharedFlowRecords | null;
  /**
   * With shared records: the main thread computed the rows' numeric features itself (see
   * ThreadedFlowCsvWriter.finalizeHere): row r's are `features[(slot · BATCH_ROWS + r) · w …]` (registry order, the
   * first w = {@link finalizedRowWidth} features), and the worker only formats them.
   */
  finalized: boolean;
}

/**
 * Doubles per row of a batch the main thread finalized ({@link CsvBatch.finalized}): the registry's features up to the
 * last one `layout` writes (all `featureCount` without a selection), so that the features ring holds, for `extract`'s
 * default profile, the CICFlowMeter columns (the registry's first) and not the nfstream ones it does not write.
 */
export function finalizedRowWidth(layout: CsvLayout, featureCount: number): number {
  const idx = layout.featureIndices;
  if (idx === undefined) return featureCount;
  let w = 0;
  for (const i of idx) w = Math.max(w, i + 1);
  return w;
}

/** Distinct strings remembered per text column (see ThreadedFlowCsvWriter.recentText). */
const RECENT = 8;

/** Distinct strings kept in the string table before it is cleared (bounds memory with unique server names). */
const MAX_STRINGS = 1 << 16;

/** Writes flows as CSV rows to a sink through a formatting thread (see the module comment). */
export class ThreadedFlowCsvWriter {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  private readonly errorText: Uint8Array;
  /** Written features per row, and their indices in `FinishedFlow.features`. */
  private readonly nFeatures: number;
  private readonly featureIndex: Int32Array;
  /**
   * Doubles per row in the features ring: nFeatures, or a record's width when the worker computes the features from
   * copied records; with shared records, a feature row (for batches the main thread finalizes, {@link finalizeHere}).
   */
  private readonly featureWidth: number;
  /**
   * With shared records: the main thread's own finalizer, for batches it finalizes instead of waiting for ring space
   * ({@link finalizeHere}), one feature row of scratch, and the meter and records version it was last pointed at.
   */
  private readonly here: FeatureFinalizer | null = null;
  private readonly hereRow: Float64Array = new Float64Array(0);
  private hereOwner: FinishedFlow | null = null;
  private hereVersion = -1;
  /** Batches whose features the main thread computed ({@link finalizeHere}). */
  finalizedHere = 0;
  /** With deferText: rings of text-family record copies, their words per row, and which text columns they give. */
  private readonly textRecords: Uint32Array[] = [];
  private readonly textRecordWords: readonly number[] = [];
  private readonly textDeferred: Uint8Array;
  private readonly textWidth: number;
  /** Rows in the batch being filled, its ring slot, and batches sent so far. */
  private rows = 0;
  private slot = 0;
  private sent = 0;
  /** The ring (see {@link CsvBatch}). */
  private readonly ids: Float64Array;
  private readonly features: Float64Array;
  private readonly text: Int32Array;
  /** Shared-records mode (see the module comment): the (slot, reason) ring, and per ring slot the flow whose slots it holds. */
  private readonly shared: boolean;
  private readonly slots: Int32Array;
  private readonly ringOwner: (FinishedFlow | null)[];
  private readonly ringRows: Int32Array;
  /** Ring slots: {@link MAX_SHARED_BATCHES_IN_FLIGHT} with shared records, else {@link MAX_BATCHES_IN_FLIGHT}. */
  private readonly maxInFlight: number;
  /** Batches whose slots went back to their meter. */
  private released = 0;
  /** The meter (its reused FinishedFlow) of the rows being batched, its records' version, records to send. */
  private owner: FinishedFlow | null = null;
  private version = -1;
  private recordsToSend: SharedFlowRecords | null = null;
  /** String → code in the worker's table, and the strings added since the last batch. */
  private readonly codes = new Map<string, number>();
  private newStrings: string[] = [];
  private reset = false;
  /**
   * Per text column, the last {@link RECENT} distinct strings and their codes (`recentText[col * RECENT + k]`),
   * valid until the table restarts. Used for the label column, whose values are a handful of constants that alternate
   * from row to row: comparing a few references is cheaper than hashing.
   */
  private readonly recentText: (string | undefined)[] = [];
  private readonly recentCode: number[] = [];
  private readonly recentNext: number[] = [];
  /** Code of '' in the string table, −1 until used (again after the table restarts). */
  private emptyCode = -1;
  private readonly finished: Promise<unknown>;
  private closed = false;
  /** See {@link START_TIMEOUT_S}. */
  private readonly startTimeoutS: number;

  /**
   * @param sink the open output (header and rows go to its descriptor; the caller closes or aborts the sink after
   *   {@link close} / {@link abort})
   * @param featureNames, textNames, withLabel, layout as {@link FlowCsvWriter}'s
   * @param maxStrings distinct text values kept before the string table restarts
   */
  constructor(
    private readonly sink: OutputSink, featureNames: readonly string[], textNames: readonly string[], private readonly withLabel: boolean,
    layout: CsvLayout = {},
    /** Distinct strings before the string table is cleared (tests use a small value). */
    private readonly maxStrings = MAX_STRINGS,
    /**
     * The meter's options when it runs with {@link MeterOptions.deferNumeric}: flows' records cross to the worker,
     * which computes their numeric features ({@link FeatureFinalizer}).
     */
    private readonly deferred: MeterOptions | null = null,
    /**
     * `consumer`: the rows go there instead of CSV (see {@link RowConsumer}; with it, `featureNames`, `textNames` and
     * `layout` still say what the meter computes). For tests: another worker script, another {@link START_TIMEOUT_S},
     * another ring size (`batchesInFlight`; 1 makes the main thread finalize every batch of shared records).
     */
    options: { consumer?: RowConsumer; workerUrl?: URL; startTimeoutS?: number; batchesInFlight?: number } = {},
  ) {
    sink.flush();
    this.featureIndex = Int32Array.from(layout.featureIndices ?? featureNames.map((_, i) => i));
    this.nFeatures = this.featureIndex.length;
    const finalizer = deferred ? new FeatureFinalizer(deferred) : null;
    this.shared = deferred?.shareRecords === true;
    this.maxInFlight = options.batchesInFlight ?? (this.shared ? MAX_SHARED_BATCHES_IN_FLIGHT : MAX_BATCHES_IN_FLIGHT);
    this.ringOwner = new Array<FinishedFlow | null>(this.maxInFlight).fill(null);
    this.ringRows = new Int32Array(this.maxInFlight);
    // Shared records: no record crosses in the batch.
    this.featureWidth = this.shared ? finalizedRowWidth(layout, finalizer!.featureCount)
      : finalizer ? finalizer.recordWidth : this.nFeatures;
    if (this.shared) {
      this.here = finalizer;
      this.hereRow = new Float64Array(finalizer!.featureCount);
    }
    this.textDeferred = new Uint8Array(textNames.length);
    if (finalizer && (deferred?.deferText || this.shared)) {
      if (!this.shared) this.textRecordWords = finalizer.textRecordWords;
      for (const p of finalizer.deferredTextPositions) this.textDeferred[p] = 1;
    }
    this.textWidth = textNames.length + (withLabel ? 1 : 0);
    for (let i = 0; i < this.textWidth * RECENT; i++) { this.recentText.push(undefined); this.recentCode.push(0); }
    for (let i = 0; i < this.textWidth; i++) this.recentNext.push(0);
    this.startTimeoutS = options.startTimeoutS ?? START_TIMEOUT_S;
    const consumer = options.consumer ?? null;
    const control = new SharedArrayBuffer(12), error = new SharedArrayBuffer(ERROR_BYTES);
    this.control = new Int32Array(control);
    this.errorText = new Uint8Array(error);
    const slots = this.maxInFlight * BATCH_ROWS;
    const ids = new SharedArrayBuffer(this.shared ? 8 : slots * FLOW_ID_WIDTH * 8);
    const slotRing = new SharedArrayBuffer(this.shared ? slots * 2 * 4 : 4);
    this.slots = new Int32Array(slotRing);
    const features = new SharedArrayBuffer(slots * Math.max(1, this.featureWidth) * 8);
    const text = new SharedArrayBuffer(slots * Math.max(1, this.textWidth) * 4);
    const textRecords = this.textRecordWords.map((w) => new SharedArrayBuffer(slots * w * 4));
    for (const b of textRecords) this.textRecords.push(new Uint32Array(b));
    this.ids = new Float64Array(ids);
    this.features = new Float64Array(features);
    this.text = new Int32Array(text);
    const init: CsvThreadInit = deferred
      ? { fd: sink.fd, path: sink.path, featureNames, textNames, withLabel, layout, deferred, textRecords, slots: slotRing, ids, features, text, control, error, consumer }
      : {
        fd: sink.fd, path: sink.path, featureNames: Array.from(this.featureIndex, (i) => featureNames[i]), textNames, withLabel,
        layout: { ...layout, featureIndices: undefined }, deferred: null, textRecords: [], slots: slotRing, ids, features, text, control, error, consumer,
      };
    this.worker = new Worker(options.workerUrl ?? new URL('./csv-thread-worker.js', import.meta.url), { workerData: init });
    this.finished = new Promise<unknown>((resolve, reject) => {
      this.worker.on('message', (m: { done?: boolean; result?: unknown }) => { if (m.done) resolve(m.result); });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => { if (code !== 0) reject(new OutputError(sink.path, `formatting thread stopped (exit code ${code})`)); });
    });
    this.finished.catch(() => { /* reported by close() */ });
    this.newBatch();
  }

  /**
   * Starts the next batch in the next ring slot, first waiting until the worker has finished the batch that used
   * the slot before (fewer than {@link maxInFlight} batches in flight).
   */
  private newBatch(): void {
    let idle = 0; // seconds waited without an answer
    for (;;) {
      const n = Atomics.load(this.control, IN_FLIGHT);
      this.releaseFinished(this.sent - n);
      if (n < this.maxInFlight) break;
      if (Atomics.wait(this.control, IN_FLIGHT, n, 1000) === 'timed-out') idle++;
      this.checkError();
      if (idle >= this.startTimeoutS && Atomics.load(this.control, STARTED) === 0) {
        throw new OutputError(this.sink.path, `formatting thread did not start within ${idle} s`);
      }
    }
    this.rows = 0;
    this.slot = this.sent % this.maxInFlight;
    this.newStrings = [];
    this.reset = false;
  }

  /** Gives the slots of batches the worker has finished (the first `done` sent) back to their meter. */
  private releaseFinished(done: number): void {
    for (; this.released < done; this.released++) {
      const k = this.released % this.maxInFlight, owner = this.ringOwner[k];
      if (owner === null) continue;
      const slots = this.slots, base = k * BATCH_ROWS * 2;
      for (let r = 0, n = this.ringRows[k]; r < n; r++) owner.release(slots[base + 2 * r]);
      this.ringOwner[k] = null;
    }
  }

  /** Code of `s` in the worker's string table, adding it to the batch's new strings when unseen. */
  private code(s: string): number {
    let c = this.codes.get(s);
    if (c === undefined) {
      c = this.codes.size;
      this.codes.set(s, c);
      this.newStrings.push(s);
    }
    return c;
  }

  /** Queues one flow (and its label when the writer has a Label column). @throws OutputError after a write error */
  write(flow: Pick<FinishedFlow, 'writeIds' | 'features' | 'text'> & Partial<Pick<FinishedFlow, 'writeRecord' | 'writeTextRecord'>>, label?: string): void {
    if (this.codes.size + this.textWidth > this.maxStrings) {
      // The row could overflow the string table: send the rows coded so far, restart the table with the next batch.
      this.send();
      this.codes.clear();
      this.emptyCode = -1;
      this.recentText.fill(undefined);
      this.reset = true;
    }
    if (this.shared) {
      const f = flow as FinishedFlow;
      if (f !== this.owner) {
        this.send(); // the rows so far are another meter's slots
        this.owner = f;
        this.version = -1;
      }
      if (f.recordsVersion !== this.version) {
        this.version = f.recordsVersion;
        this.recordsToSend = f.records();
      }
      const r = this.slot * BATCH_ROWS + this.rows;
      this.slots[2 * r] = f.slot;
      this.slots[2 * r + 1] = f.reason;
      f.keep();
      this.writeText(f, r, label);
      return;
    }
    const r = this.slot * BATCH_ROWS + this.rows;
    flow.writeIds(this.ids, r * FLOW_ID_WIDTH);
    if (this.deferred) flow.writeRecord!(this.features, r * this.featureWidth);
    else {
      const fi = this.featureIndex, f = flow.features, out = this.features, fo = r * this.nFeatures;
      for (let i = 0; i < fi.length; i++) out[fo + i] = f[fi[i]];
    }
    for (let k = 0; k < this.textRecords.length; k++) flow.writeTextRecord!(k, this.textRecords[k], r * this.textRecordWords[k]);
    this.writeText(flow, r, label);
  }

  /** Codes row r's text columns the worker does not compute, and the label; ends the batch when it is full. */
  private writeText(flow: Pick<FinishedFlow, 'text'>, r: number, label: string | undefined): void {
    const t = this.text, o = r * this.textWidth, src = flow.text, deferredText = this.textDeferred;
    for (let i = 0; i < src.length; i++) {
      if (deferredText[i] !== 0) continue; // computed by the worker
      const s = src[i];
      // With the meter's deferred text these cells are server names the service family keeps as strings (those longer
      // than its record holds): '' in nearly every row (its code is kept apart), else names that seldom repeat from one
      // row to the next, so a scan of the column's recent values ({@link columnCode}) would only add string compares.
      t[o + i] = s === '' ? (this.emptyCode >= 0 ? this.emptyCode : (this.emptyCode = this.code(''))) : this.code(s);
    }
    if (this.withLabel) t[o + src.length] = this.columnCode(src.length, label ?? '');
    if (++this.rows === BATCH_ROWS) this.send();
  }

  /** Code of `s` in text column `col` (the label last): from the column's recent values, else {@link code}. */
  private columnCode(col: number, s: string): number {
    const recent = this.recentText, base = col * RECENT;
    let k = 0;
    while (k < RECENT && recent[base + k] !== s) k++;
    if (k < RECENT) return this.recentCode[base + k];
    const c = this.code(s);
    const at = base + this.recentNext[col];
    this.recentNext[col] = (this.recentNext[col] + 1) % RECENT;
    recent[at] = s;
    this.recentCode[at] = c;
    return c;
  }

  private send(): void {
    this.checkError();
    if (this.rows === 0) return;
    // The ring is full: the next batch would wait for the worker. Computing this batch's features here instead gives
    // the worker less to do per row while this thread would only have waited.
    const finalized = this.here !== null && Atomics.load(this.control, IN_FLIGHT) >= this.maxInFlight - 1;
    if (finalized) {
      this.finalizeHere();
      this.finalizedHere++;
    }
    // The worker decrements and notifies after each batch.
    Atomics.add(this.control, IN_FLIGHT, 1);
    // Every batch message has the same properties, so that the worker's handler sees one object shape (a message with
    // a property the first ones lacked dropped its optimised code: 'wrong map' in V8's --trace-deopt).
    const batch: CsvBatch = {
      slot: this.slot, rows: this.rows, newStrings: this.newStrings, reset: this.reset, records: this.recordsToSend, finalized,
    };
    this.recordsToSend = null;
    this.ringOwner[this.slot] = this.owner;
    this.ringRows[this.slot] = this.rows;
    this.worker.postMessage(batch);
    this.sent++;
    this.newBatch();
  }

  /**
   * Computes the numeric features of the batch being filled (shared records) into its rows of the features ring, as
   * the worker's finalizer would from the same records; the worker then only formats them ({@link CsvBatch.finalized}).
   * Called when the ring is full, i.e. when the worker is the slower thread: in `extract` of the benchmark capture at
   * the end of input (tens of thousands of flows still live end at once) and wherever the formatting falls behind.
   */
  private finalizeHere(): void {
    const f = this.here!, row = this.hereRow, out = this.features, w = this.featureWidth, slots = this.slots;
    if (this.hereOwner !== this.owner || this.hereVersion !== this.version) {
      f.useShared(this.owner!.records());
      this.hereOwner = this.owner;
      this.hereVersion = this.version;
    }
    for (let r = 0, base = this.slot * BATCH_ROWS; r < this.rows; r++) {
      f.finalizeSlot(slots[2 * (base + r)], row);
      for (let i = 0, o = (base + r) * w; i < w; i++) out[o + i] = row[i];
    }
  }

  /** Throws the worker's write error, if it had one. */
  private checkError(): void {
    const n = Atomics.load(this.control, ERROR_LEN);
    if (n === 0) return;
    const e = JSON.parse(new TextDecoder().decode(this.errorText.slice(0, n))) as { message: string; code?: string };
    throw new OutputError(this.sink.path, e.message, e.code);
  }

  /**
   * Sends the last rows and waits until the worker has written everything (the caller then closes the sink).
   * @returns what the {@link RowConsumer}'s writer returned from `finish()` (undefined for CSV rows)
   * @throws OutputError on a write error
   */
  async close(): Promise<unknown> {
    if (this.closed) return undefined;
    this.send();
    this.closed = true;
    this.worker.postMessage({ end: true });
    let result: unknown;
    try {
      result = await this.finished;
    } finally {
      await this.worker.terminate();
    }
    this.checkError();
    return result;
  }

  /** Stops the worker without waiting for queued rows (the caller aborts the sink). */
  async abort(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}

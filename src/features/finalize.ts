/**
 * The numeric features (and the connection-state text) of flows computed from copied records, away from the meter:
 * with {@link MeterOptions.deferNumeric} / {@link MeterOptions.deferText} the meter hands each finished flow's records
 * over ({@link FinishedFlow.writeRecord}, {@link FinishedFlow.writeTextRecord}) instead of running the families'
 * end-of-flow code, and a FeatureFinalizer built with the same options runs that code on the copies (on `extract`'s
 * formatting thread, so the metering thread does less per flow). The values are the ones the meter computes: the
 * same family code reads the same record values.
 */
import type { FlowTotals } from '../flow/table.js';
import { FlowRecordView, OBSERVER_OFFSET, SLOT_RECORD_BYTES } from '../flow/table.js';
import type { TextFamily } from './family.js';
import type { MeterOptions, SharedFlowRecords } from './meter.js';
import { RECORD_TOTALS, unrolled } from './meter.js';
import { createFeatureSet } from './registry.js';
import { FlowState } from './state.js';

/** Computes flows' numeric features (registry order) from records written by {@link FinishedFlow.writeRecord}. */
export class FeatureFinalizer implements FlowTotals {
  /** Doubles per record in a batch of records (the families' record plus {@link RECORD_TOTALS}, rounded up to 8). */
  readonly recordWidth: number;
  /** Length of a feature row (the registry's feature count). */
  readonly featureCount: number;
  private readonly state = new FlowState();
  /** Offset of the totals (first/last seen µs, forward/backward packets) in a record. */
  private readonly totalsAt: number;
  private readonly expireAll: (slot: number, table: FlowTotals, row: Float64Array) => void;
  /** Text families with copyable records (registry order), their 32-bit words per record, and text positions. */
  private readonly textFamilies: TextFamily[];
  readonly textRecordWords: readonly number[];
  /** Text-row positions the deferred text families fill (the others come from elsewhere). */
  readonly deferredTextPositions: readonly number[];
  private readonly textExpire: (slot: number, table: FlowTotals, text: string[]) => void;
  /** After {@link useShared}: the meter's flow-table records, which give the totals instead of a copied record. */
  private table: FlowRecordView | null = null;
  /** The text family whose records the meter keeps in the flow table's observer bytes, if any. */
  private readonly inTable: TextFamily | null;
  /** After {@link useShared}: the text families' records as words ({@link textRecordWords} per record). */
  private textWords: Uint32Array[] = [];

  /**
   * @param opts the meter's options (feature options and skipFamilies must match the meter's, so the record
   *   layout and the features computed are the same)
   */
  constructor(opts: MeterOptions = {}) {
    const fs = createFeatureSet(opts);
    for (const f of fs.families) f.bind(this.state);
    this.totalsAt = this.state.reserve(RECORD_TOTALS);
    this.recordWidth = this.state.stride;
    this.featureCount = fs.features.length;
    const skip = new Set(opts.skipFamilies ?? []);
    const run = fs.families.map((_, i) => i).filter((i) => !skip.has(fs.families[i].name));
    this.expireAll = unrolled(run.map((i) => fs.families[i]), (f, i) => `${f}.onExpire(slot, table, row, p[${i}]);`,
      'slot, table, row', run.map((i) => fs.positions[i])) as typeof this.expireAll;
    const texts = fs.textFamilies.map((_, i) => i).filter((i) => fs.textFamilies[i].recordBytes !== undefined);
    this.textFamilies = texts.map((i) => fs.textFamilies[i]);
    this.textRecordWords = this.textFamilies.map((f) => f.recordBytes! / 4);
    // A family whose record gives only its first recordColumns columns: those positions are deferred; its
    // onExpireRecord gets all its positions (it may fill a later column from the record too, over what the meter sent).
    const positions = texts.map((i) => fs.textPositions[i]);
    this.deferredTextPositions = texts.flatMap((i) => {
      const p = fs.textPositions[i];
      return [...p.subarray(0, fs.textFamilies[i].recordColumns ?? p.length)];
    });
    this.textExpire = unrolled(this.textFamilies, (f, i) => this.textFamilies[i].recordColumns !== undefined
      ? `${f}.onExpireRecord(slot, text, p[${i}]);` : `${f}.onExpire(slot, table, text, p[${i}]);`,
    'slot, table, text', positions) as typeof this.textExpire;
    // The family the meter keeps in the flow table's observer bytes (FlowMeter's rule: the first text family that
    // can): its records are read there when shared.
    const inTable = fs.textFamilies.find((f) => f.useSlotRecords !== undefined);
    this.inTable = inTable !== undefined && this.textFamilies.includes(inTable) ? inTable : null;
  }

  /**
   * Sets where the text families' record copies are read: `buffers[k]` holds records of the k-th text family with a
   * copyable record ({@link FinishedFlow.writeTextRecord}), record i at word i · {@link textRecordWords}[k].
   */
  useTextRecords(buffers: readonly ArrayBufferLike[]): void {
    this.textFamilies.forEach((f, k) => f.useRecords!(buffers[k]));
  }

  /**
   * Reads records from a meter's shared memory from now on ({@link import('./meter.js').MeterOptions.shareRecords}):
   * {@link finalizeSlot} and {@link finalizeText} then take the kept flow's slot. Call again with the buffers the
   * meter hands out after its table grew; {@link finalize} is not to be used afterwards.
   */
  useShared(records: SharedFlowRecords): void {
    this.state.f64 = new Float64Array(records.state);
    this.state.stride = records.stateStride;
    this.table = new FlowRecordView(records.table);
    this.useTextRecords(records.text);
    // The meter keeps one family's per-packet state in the table's observer bytes (see FlowMeter): read it there. Its
    // cache line is the table record's, which the caller touches already.
    this.inTable?.useSlotRecords!(records.table, SLOT_RECORD_BYTES, OBSERVER_OFFSET);
    this.textWords = records.text.map((b) => new Uint32Array(b));
  }

  /**
   * Reads one number from every cache line of the records of the kept flow in `slot` (after {@link useShared}) and
   * returns their sum (meaningless): called for several slots before they are finalized, so that the cache misses of
   * these usually cold records overlap instead of stalling one after another. Keep the sum somewhere (the reads must
   * not be optimised away). `numeric` false: only the text families' records (the numeric features are computed
   * already).
   */
  touchSlot(slot: number, numeric = true): number {
    const a = this.state.f64, stride = this.state.stride;
    let sum = 0;
    if (numeric) for (let i = slot * stride, end = i + stride; i < end; i += 8) sum += a[i];
    for (let k = 0; k < this.textWords.length; k++) {
      const w = this.textWords[k], n = this.textRecordWords[k];
      for (let i = slot * n, end = i + n; i < end; i += 16) sum += w[i];
    }
    return sum;
  }

  /** Writes the numeric features of the kept flow in `slot` (see {@link useShared}) into `row` (registry order). */
  finalizeSlot(slot: number, row: Float64Array): void {
    this.expireAll(slot, this.table!, row);
  }

  /**
   * Writes the deferred text columns of record `index` into `text` (registry text order; see useTextRecords), or
   * of the kept flow in slot `index` after {@link useShared}.
   */
  finalizeText(index: number, text: string[]): void {
    this.textExpire(index, this.table ?? this, text);
  }

  /**
   * Writes the numeric features of record `index` of `records` (record i at `records[i * recordWidth …]`) into
   * `row` (registry order; features of skipped families are left as they are).
   */
  finalize(records: Float64Array, index: number, row: Float64Array): void {
    this.state.f64 = records;
    this.expireAll(index, this, row);
  }

  firstSeenUs(slot: number): number { return this.state.f64[slot * this.recordWidth + this.totalsAt]; }
  lastSeenUs(slot: number): number { return this.state.f64[slot * this.recordWidth + this.totalsAt + 1]; }
  fwdPackets(slot: number): number { return this.state.f64[slot * this.recordWidth + this.totalsAt + 2]; }
  bwdPackets(slot: number): number { return this.state.f64[slot * this.recordWidth + this.totalsAt + 3]; }
}

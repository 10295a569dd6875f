/**
 * The numeric features of flows computed from copied records, away from the meter: with
 * {@link MeterOptions.deferNumeric} the meter hands each finished flow's record over
 * ({@link FinishedFlow.writeRecord}) instead of running the families' end-of-flow code, and a FeatureFinalizer
 * built with the same options runs that code on the copy (on `extract`'s formatting thread, so the metering thread
 * does less per flow). The features are the same numbers the meter computes: the same family code reads the same
 * record values.
 */
import type { FlowTotals } from '../flow/table.js';
import type { MeterOptions } from './meter.js';
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

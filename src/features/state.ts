/**
 * Per-flow numeric state of the feature families, one contiguous record per flow slot (array of structs): the
 * record of slot `s` is `f64[s * stride, (s + 1) * stride)`. Each family reserves its doubles once
 * ({@link FlowState.reserve}, before the first {@link FlowState.resize}) and addresses them as
 * `f64[slot * stride + base + k]`.
 *
 * Why one record and not one typed array per quantity: a packet updates about a hundred per-flow values. With
 * one array per value each lands in its own cache line, and a new flow's slot (reused from a flow that ended
 * seconds ago) is cold in every one of them; in one record they share 13 adjacent lines, which the hardware
 * prefetches together. On the 1M-flow benchmark capture this layout cut the meter's time per flow by more than
 * half (npm run bench, issue 5).
 */
export class FlowState {
  /** The records, `capacity * stride` doubles. Replaced (values kept) by {@link resize}. */
  f64: Float64Array<ArrayBufferLike> = new Float64Array(0);
  /** Doubles per flow record (a multiple of 8, so records start on 64-byte boundaries of the buffer). */
  stride = 0;
  /** Slots covered. */
  capacity = 0;
  private reserved = 0;

  /** @param shared keep the records in a SharedArrayBuffer (another thread reads them; see MeterOptions.shareRecords) */
  constructor(readonly shared = false) {}

  /** Doubles reserved so far (the used part of each record; {@link stride} rounds it up). */
  get size(): number { return this.reserved; }

  /**
   * Reserves `n` doubles in every flow's record; returns their offset in the record.
   * @throws Error after the first {@link resize} (records cannot grow once laid out)
   */
  reserve(n: number): number {
    if (this.capacity > 0) throw new Error('FlowState.reserve after resize');
    const base = this.reserved;
    this.reserved += n;
    this.stride = (this.reserved + 7) & ~7;
    return base;
  }

  /** Makes the records cover slots [0, capacity), keeping existing values (new records are zero). */
  resize(capacity: number): void {
    if (capacity <= this.capacity) return;
    const n = capacity * this.stride;
    const b = this.shared ? new Float64Array(new SharedArrayBuffer(n * 8)) : new Float64Array(n);
    b.set(this.f64);
    this.f64 = b;
    this.capacity = capacity;
  }
}

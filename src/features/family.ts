/**
 * The feature-family contract (nfstream's plugin split: on_init / on_update / on_expire). Each family is a
 * small accumulator in its own file that keeps per-flow state in typed arrays indexed by the flow table's
 * slot, so updating a flow allocates nothing.
 */
import type { DecodedPacket } from '../decode/types.js';
import type { FlowTable, FlowTotals } from '../flow/table.js';
import type { FlowState } from './state.js';

/** Units used in feature definitions. */
export type FeatureUnit =
  | 'µs' | 'ms' | 'bytes' | 'packets' | 'count' | 'bytes/s' | 'packets/s' | 'ratio' | 'protocol number' | 'bytes/bulk'
  | 'packets/bulk' | 'flag';

/** One output column of the feature registry. */
export interface FeatureDef {
  /** Column name: CICFlowMeter 4's name where one exists (reference/cicflowmeter4-columns.txt). */
  name: string;
  /** Unit of the value. */
  unit: FeatureUnit;
  /** Definition, with its source. */
  description: string;
  /** Where flowsift deliberately differs from CICFlowMeter 4, if it does. */
  differsFromCic?: string;
  /** False for columns that are not model inputs by default (none of the families' features are identifiers). */
  modelInput?: boolean;
}

/** A family of features computed by one accumulator. */
export interface FeatureFamily {
  /** Short name (for documentation). */
  readonly name: string;
  /** Features this family writes, in the order of its `write` positions. */
  readonly features: readonly FeatureDef[];
  /**
   * Reserves the family's per-flow numbers in the shared flow record ({@link FlowState.reserve}) and keeps
   * `state` to address them. Called once, before the first flow.
   */
  bind(state: FlowState): void;
  /** A flow starts in `slot` with `pkt` (forward direction); reset the slot's state. */
  onInit(slot: number, pkt: DecodedPacket): void;
  /** Every packet of the flow, the first included; `dir` 0 forward, 1 backward. */
  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void;
  /**
   * Writes the family's features for `slot`: feature i goes to `out[pos[i]]`. `table` gives first/last seen and
   * packet counts (the flow table in the meter; a {@link import('./finalize.js').FeatureFinalizer} when the
   * features are computed from a copied record on another thread). Reads the slot's record only: it must not
   * change it, and must not read other per-slot state.
   */
  onExpire(slot: number, table: FlowTotals, out: Float64Array, pos: Int32Array): void;
}

/** A text column of the flow record (application/service, connection state, …); never a model input. */
export interface TextColumnDef {
  /** Column name (nfstream's or Zeek's name where one exists). */
  name: string;
  /** Definition, with its source. */
  description: string;
}

/**
 * A family of text columns, with the same life cycle as {@link FeatureFamily}: per-slot state in typed
 * arrays (or small per-flow objects where unavoidable), updated per packet, rendered when the flow ends.
 */
export interface TextFamily {
  readonly name: string;
  readonly columns: readonly TextColumnDef[];
  /** Makes the per-slot state cover slots [0, capacity); records in SharedArrayBuffers when `shared` (and recordBytes is set). */
  resize(capacity: number, shared?: boolean): void;
  onInit(slot: number, pkt: DecodedPacket): void;
  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void;
  /** Writes column i's text to `out[pos[i]]`. */
  onExpire(slot: number, table: FlowTable, out: string[], pos: Int32Array): void;
  /**
   * Set when the family's text can be computed from a copy of the slot's record on another thread (see
   * {@link import('./meter.js').MeterOptions.deferText}): the record's size in bytes (a multiple of 4). Such a
   * family's onExpire reads only the slot's record (not `table`, not other per-slot state).
   */
  readonly recordBytes?: number;
  /**
   * With recordBytes: how many of the family's first columns the record always gives, when not all of them; the others
   * come, at least for some flows, from per-slot state the meter keeps (strings). The record's columns are then
   * written by {@link onExpireRecord} (elsewhere, from a copy), the others by {@link onExpireRest} (in the meter).
   */
  readonly recordColumns?: number;
  /**
   * With {@link recordColumns}: writes the record's columns of `slot` (reads the record only). `pos` has all the
   * family's positions: a later column's value that the record holds for this flow is written too, over what
   * {@link onExpireRest} wrote there.
   */
  onExpireRecord?(slot: number, out: string[], pos: Int32Array): void;
  /** With {@link recordColumns}: writes the other columns of `slot` (from `pos[recordColumns]` on). */
  onExpireRest?(slot: number, table: FlowTable, out: string[], pos: Int32Array): void;
  /** Copies the record of `slot` ({@link recordBytes} bytes) to `out` from 32-bit word `o` on. */
  writeRecord?(slot: number, out: Uint32Array, o: number): void;
  /**
   * From now on reads records from `buf` (record i at byte i · {@link recordBytes}): copies in a batch, or the
   * meter's own records shared with another thread ({@link import('./meter.js').SharedFlowRecords}).
   */
  useRecords?(buf: ArrayBufferLike): void;
  /** The buffer of the family's own per-slot records (record of slot s at byte s · {@link recordBytes}). */
  recordsBuffer?(): ArrayBufferLike;
  /**
   * Set by a family whose per-packet state (the start of its per-slot record) fits the flow table's observer bytes
   * ({@link import('../flow/table.js').OBSERVER_BYTES}): the meter then has it keep that state there (slot s's at
   * byte s · `stride` + `offset` of `buffer`, the table's records), and calls this again whenever the table grows. The
   * rest of the record stays in the family's own records ({@link recordsBuffer}).
   */
  useSlotRecords?(buffer: ArrayBufferLike, stride: number, offset: number): void;
}

/**
 * Bulk family: runs of at least four consecutive payload-carrying packets in one direction, with no payload
 * packet from the other side in between and gaps of at most 1 s (CICFlowMeter's `updateForwardBulk` /
 * `updateBackwardBulk`, after Cisco's "bulk transfer" definition).
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';

const DIFF = 'CICFlowMeter 4 compares the packet source with the flow source by object identity, so every packet lands in the backward bulk state, and writes the forward bytes/bulk in the backward column; it also divides integers. flowsift assigns packets by direction and divides real numbers.';

export const BULK_FEATURES: readonly FeatureDef[] = (['Fwd', 'Bwd'] as const).flatMap((d): FeatureDef[] => [
  { name: `${d} Bytes/Bulk Avg`, unit: 'bytes/bulk', description: `${d === 'Fwd' ? 'Forward' : 'Backward'} payload bytes in bulks / number of bulks (0 without bulks).`, differsFromCic: DIFF },
  { name: `${d} Packet/Bulk Avg`, unit: 'packets/bulk', description: 'Packets in bulks / number of bulks.', differsFromCic: DIFF },
  { name: `${d} Bulk Rate Avg`, unit: 'bytes/s', description: 'Payload bytes in bulks / total bulk duration in seconds (0 when the duration is 0).', differsFromCic: DIFF },
]);

/** Bulk detector and totals per direction (8 numbers per direction per slot). */
export class BulkFamily implements FeatureFamily {
  readonly name = 'bulk';
  readonly features = BULK_FEATURES;
  /** Per direction (8 doubles each): [startHelper, countHelper, sizeHelper, lastBulkTs, bulks, packets, bytes, durationUs]. */
  private static readonly W = 16;
  private state!: FlowState;
  private base = 0;
  /** Longest gap inside a bulk, µs (CICFlowMeter: 1 s). */
  constructor(private readonly maxGapUs = 1e6) {}

  bind(state: FlowState): void {
    this.state = state;
    this.base = state.reserve(BulkFamily.W);
  }

  onInit(slot: number): void {
    const st = this.state.f64, o = slot * this.state.stride + this.base;
    for (let i = o; i < o + BulkFamily.W; i++) st[i] = 0; // not fill(): a builtin call costs more than the stores
    st[o] = -1; st[o + 3] = -1;
    st[o + 8] = -1; st[o + 11] = -1;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const st = this.state.f64, r = slot * this.state.stride + this.base;
    const o = r + dir * 8;
    const other = r + (1 - dir) * 8;
    // A payload packet from the other side since this candidate bulk started breaks it.
    if (st[other + 3] > st[o]) st[o] = -1;
    const size = pkt.payloadLen;
    if (size <= 0) return;
    const t = pkt.tsUs;
    if (st[o] < 0 || t - st[o + 3] > this.maxGapUs) {
      st[o] = t; st[o + 1] = 1; st[o + 2] = size; st[o + 3] = t;
      return;
    }
    const count = ++st[o + 1];
    st[o + 2] += size;
    if (count === 4) {
      st[o + 4]++;
      st[o + 5] += count;
      st[o + 6] += st[o + 2];
      st[o + 7] += t - st[o];
    } else if (count > 4) {
      st[o + 5]++;
      st[o + 6] += size;
      st[o + 7] += t - st[o + 3];
    }
    st[o + 3] = t;
  }

  onExpire(s: number, _t: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const st = this.state.f64, r = s * this.state.stride + this.base;
    for (let d = 0; d < 2; d++) {
      const o = r + d * 8;
      const bulks = st[o + 4], bytes = st[o + 6], dur = st[o + 7] / 1e6;
      out[pos[3 * d]] = bulks > 0 ? bytes / bulks : 0;
      out[pos[3 * d + 1]] = bulks > 0 ? st[o + 5] / bulks : 0;
      out[pos[3 * d + 2]] = dur > 0 ? bytes / dur : 0;
    }
  }
}

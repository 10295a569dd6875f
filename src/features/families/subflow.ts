/**
 * Subflow family: a flow is cut into subflows at every gap of more than 1 s between consecutive packets;
 * the features are per-subflow averages (CICFlowMeter "Subflow Fwd Packets" …, after Lashkari et al. 2017).
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';

const DIFF = 'CICFlowMeter 4 compares a µs timestamp with seconds, so nearly every packet opens a subflow, and divides integers: its values are mostly 0 or 1. flowsift counts gaps > 1 s and divides real numbers.';

export const SUBFLOW_FEATURES: readonly FeatureDef[] = [
  { name: 'Subflow Fwd Packets', unit: 'packets', description: 'Forward packets / number of subflows (gaps > 1 s split subflows).', differsFromCic: DIFF },
  { name: 'Subflow Fwd Bytes', unit: 'bytes', description: 'Forward payload bytes / number of subflows.', differsFromCic: DIFF },
  { name: 'Subflow Bwd Packets', unit: 'packets', description: 'Backward packets / number of subflows.', differsFromCic: DIFF },
  { name: 'Subflow Bwd Bytes', unit: 'bytes', description: 'Backward payload bytes / number of subflows.', differsFromCic: DIFF },
];

/** Subflow counts and per-direction payload totals (see {@link SUBFLOW_FEATURES}). */
export class SubflowFamily implements FeatureFamily {
  readonly name = 'subflow';
  readonly features = SUBFLOW_FEATURES;
  private state!: FlowState;
  /** Record part: [subflows, lastTs, fwdBytes, bwdBytes]. */
  private base = 0;

  /** Gap that starts a new subflow, µs (CICFlowMeter: 1 s). */
  constructor(private readonly gapUs = 1e6) {}

  bind(state: FlowState): void {
    this.state = state;
    this.base = state.reserve(4);
  }

  onInit(slot: number, pkt: DecodedPacket): void {
    const st = this.state.f64, o = slot * this.state.stride + this.base;
    st[o] = 1;
    st[o + 1] = pkt.tsUs;
    st[o + 2] = 0;
    st[o + 3] = 0;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const st = this.state.f64, o = slot * this.state.stride + this.base;
    if (pkt.tsUs - st[o + 1] > this.gapUs) st[o]++;
    st[o + 1] = pkt.tsUs;
    st[o + 2 + dir] += pkt.payloadLen;
  }

  onExpire(s: number, t: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const st = this.state.f64, o = s * this.state.stride + this.base, n = st[o];
    out[pos[0]] = t.fwdPackets(s) / n;
    out[pos[1]] = st[o + 2] / n;
    out[pos[2]] = t.bwdPackets(s) / n;
    out[pos[3]] = st[o + 3] / n;
  }
}

/**
 * Header family: transport header bytes per direction, the initial TCP window of each side and the smallest
 * forward transport header (CICFlowMeter "Fwd Header Length", "FWD Init Win Bytes", "Fwd Seg Size Min").
 */
import type { DecodedPacket } from '../../decode/types.js';
import { IpProto } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';

export const HEADER_FEATURES: readonly FeatureDef[] = [
  { name: 'Fwd Header Length', unit: 'bytes', description: 'Sum of forward transport header lengths (TCP data offset × 4, UDP 8), as CICFlowMeter\'s getHeaderBytes().' },
  { name: 'Bwd Header Length', unit: 'bytes', description: 'Sum of backward transport header lengths.' },
  { name: 'FWD Init Win Bytes', unit: 'bytes', description: 'TCP window field of the first forward packet (unscaled); -1 when the flow has no forward TCP packet.',
    differsFromCic: 'CICFlowMeter 4 writes 0 for none; CIC-IDS2017 data uses -1, as flowsift does.' },
  { name: 'Bwd Init Win Bytes', unit: 'bytes', description: 'TCP window field of the FIRST backward packet (unscaled); -1 when there is none.',
    differsFromCic: 'CICFlowMeter 4 overwrites it with every backward packet (the last window); flowsift keeps the initial one, as the name says.' },
  { name: 'Fwd Seg Size Min', unit: 'bytes', description: 'Smallest forward transport header length (CICFlowMeter\'s min_seg_size_forward, despite its name).' },
];

/** Header lengths and initial windows (see {@link HEADER_FEATURES}). */
export class HeaderFamily implements FeatureFamily {
  readonly name = 'tcp-header';
  readonly features = HEADER_FEATURES;
  private state!: FlowState;
  /** Record part: header bytes fwd/bwd, first window fwd/bwd (-1 = none yet), smallest forward header. */
  private base = 0;

  bind(state: FlowState): void {
    this.state = state;
    this.base = state.reserve(5);
  }

  onInit(slot: number): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    a[o] = 0;
    a[o + 1] = 0;
    a[o + 2] = -1;
    a[o + 3] = -1;
    a[o + 4] = Infinity;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    const h = pkt.l4HeaderLen;
    a[o + dir] += h;
    if (dir === 0 && h < a[o + 4]) a[o + 4] = h;
    if (pkt.protocol === IpProto.TCP && a[o + 2 + dir] < 0 && !pkt.truncated) a[o + 2 + dir] = pkt.tcpWindow;
  }

  onExpire(s: number, _t: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const a = this.state.f64, o = s * this.state.stride + this.base;
    out[pos[0]] = a[o];
    out[pos[1]] = a[o + 1];
    out[pos[2]] = a[o + 2];
    out[pos[3]] = a[o + 3];
    out[pos[4]] = a[o + 4] === Infinity ? 0 : a[o + 4];
  }
}

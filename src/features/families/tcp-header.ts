/**
 * Header family: transport header bytes per direction, the initial TCP window of each side and the smallest
 * forward transport header (CICFlowMeter "Fwd Header Length", "FWD Init Win Bytes", "Fwd Seg Size Min").
 */
import type { DecodedPacket } from '../../decode/types.js';
import { IpProto } from '../../decode/types.js';
import type { FlowTable } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import { growArray } from '../family.js';

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
  private hdr = new Float64Array(0); // 2 per slot
  private win = new Int32Array(0); // 2 per slot, -1 = none
  private minFwd = new Float64Array(0);

  resize(capacity: number): void {
    this.hdr = growArray(this.hdr, capacity * 2, Float64Array);
    this.win = growArray(this.win, capacity * 2, Int32Array);
    this.minFwd = growArray(this.minFwd, capacity, Float64Array);
  }

  onInit(slot: number): void {
    this.hdr[2 * slot] = 0;
    this.hdr[2 * slot + 1] = 0;
    this.win[2 * slot] = -1;
    this.win[2 * slot + 1] = -1;
    this.minFwd[slot] = Infinity;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const h = pkt.l4HeaderLen;
    this.hdr[2 * slot + dir] += h;
    if (dir === 0 && h < this.minFwd[slot]) this.minFwd[slot] = h;
    if (pkt.protocol === IpProto.TCP && this.win[2 * slot + dir] < 0 && !pkt.truncated) this.win[2 * slot + dir] = pkt.tcpWindow;
  }

  onExpire(s: number, _t: FlowTable, out: Float64Array, pos: Int32Array): void {
    out[pos[0]] = this.hdr[2 * s];
    out[pos[1]] = this.hdr[2 * s + 1];
    out[pos[2]] = this.win[2 * s];
    out[pos[3]] = this.win[2 * s + 1];
    out[pos[4]] = this.minFwd[s] === Infinity ? 0 : this.minFwd[s];
  }
}

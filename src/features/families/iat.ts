/**
 * Inter-arrival-time family: gaps between consecutive packets of the flow, and of each direction, in µs
 * (CICFlowMeter "Flow IAT *", "Fwd IAT *", "Bwd IAT *").
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTable } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import { growArray } from '../family.js';
import { RunningStats } from '../stats.js';

const stat = (scope: string, what: string): FeatureDef[] => [
  { name: `${scope} IAT Mean`, unit: 'µs', description: `Mean gap between consecutive ${what} (0 with fewer than two).` },
  { name: `${scope} IAT Std`, unit: 'µs', description: `Sample standard deviation of the gaps between consecutive ${what}.` },
  { name: `${scope} IAT Max`, unit: 'µs', description: `Largest gap between consecutive ${what}.` },
  { name: `${scope} IAT Min`, unit: 'µs', description: `Smallest gap between consecutive ${what}.` },
];

export const IAT_FEATURES: readonly FeatureDef[] = [
  ...stat('Flow', 'packets of the flow (either direction)'),
  { name: 'Fwd IAT Total', unit: 'µs', description: 'Sum of the gaps between consecutive forward packets (first to last forward packet).' },
  ...stat('Fwd', 'forward packets'),
  { name: 'Bwd IAT Total', unit: 'µs', description: 'Sum of the gaps between consecutive backward packets.' },
  ...stat('Bwd', 'backward packets'),
];

/** Inter-arrival times (see {@link IAT_FEATURES}). */
export class IatFamily implements FeatureFamily {
  readonly name = 'iat';
  readonly features = IAT_FEATURES;
  private readonly flow = new RunningStats();
  private readonly fwd = new RunningStats();
  private readonly bwd = new RunningStats();
  /** Last packet time per direction (NaN = none yet) and for the flow, µs. */
  private lastFwd = new Float64Array(0);
  private lastBwd = new Float64Array(0);
  private lastAny = new Float64Array(0);

  resize(capacity: number): void {
    this.flow.resize(capacity);
    this.fwd.resize(capacity);
    this.bwd.resize(capacity);
    this.lastFwd = growArray(this.lastFwd, capacity, Float64Array);
    this.lastBwd = growArray(this.lastBwd, capacity, Float64Array);
    this.lastAny = growArray(this.lastAny, capacity, Float64Array);
  }

  onInit(slot: number): void {
    this.flow.reset(slot);
    this.fwd.reset(slot);
    this.bwd.reset(slot);
    this.lastFwd[slot] = NaN;
    this.lastBwd[slot] = NaN;
    this.lastAny[slot] = NaN;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const t = pkt.tsUs;
    if (this.lastAny[slot] === this.lastAny[slot]) this.flow.add(slot, t - this.lastAny[slot]);
    this.lastAny[slot] = t;
    if (dir === 0) {
      if (this.lastFwd[slot] === this.lastFwd[slot]) this.fwd.add(slot, t - this.lastFwd[slot]);
      this.lastFwd[slot] = t;
    } else {
      if (this.lastBwd[slot] === this.lastBwd[slot]) this.bwd.add(slot, t - this.lastBwd[slot]);
      this.lastBwd[slot] = t;
    }
  }

  onExpire(s: number, _t: FlowTable, out: Float64Array, pos: Int32Array): void {
    let i = writeStats(this.flow, s, out, pos, 0);
    out[pos[i++]] = this.fwd.sum[s];
    i = writeStats(this.fwd, s, out, pos, i);
    out[pos[i++]] = this.bwd.sum[s];
    writeStats(this.bwd, s, out, pos, i);
  }
}

/** Writes mean, std, max, min of slot `s` at positions pos[i..i+3]; returns the next position index. */
function writeStats(st: RunningStats, s: number, out: Float64Array, pos: Int32Array, i: number): number {
  out[pos[i]] = st.avg(s);
  out[pos[i + 1]] = st.std(s);
  out[pos[i + 2]] = st.max[s];
  out[pos[i + 3]] = st.min[s];
  return i + 4;
}

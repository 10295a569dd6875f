/**
 * Inter-arrival-time family: gaps between consecutive packets of the flow, and of each direction, in µs
 * (CICFlowMeter "Flow IAT *", "Fwd IAT *", "Bwd IAT *").
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';
import { STAT_MAX, STAT_MIN, STAT_SIZE, STAT_SUM, statAdd, statAvg, statReset, statStd } from '../stats.js';

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
  private state!: FlowState;
  private base = 0;

  bind(state: FlowState): void {
    this.state = state;
    this.base = state.reserve(3 * STAT_SIZE + 3);
  }

  onInit(slot: number): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    statReset(a, o + FLOW); statReset(a, o + FWD); statReset(a, o + BWD);
    a[o + LAST_ANY] = NaN;
    a[o + LAST_FWD] = NaN;
    a[o + LAST_BWD] = NaN;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    const t = pkt.tsUs;
    const lastAny = a[o + LAST_ANY];
    if (lastAny === lastAny) statAdd(a, o + FLOW, t - lastAny);
    a[o + LAST_ANY] = t;
    const k = o + (dir === 0 ? LAST_FWD : LAST_BWD);
    const last = a[k];
    if (last === last) statAdd(a, o + (dir === 0 ? FWD : BWD), t - last);
    a[k] = t;
  }

  onExpire(s: number, _t: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const a = this.state.f64, o = s * this.state.stride + this.base;
    let i = writeStats(a, o + FLOW, out, pos, 0);
    out[pos[i++]] = a[o + FWD + STAT_SUM];
    i = writeStats(a, o + FWD, out, pos, i);
    out[pos[i++]] = a[o + BWD + STAT_SUM];
    writeStats(a, o + BWD, out, pos, i);
  }
}

/** Offsets in the family's record part: flow, forward, backward gap statistics; last packet times (NaN = none yet), µs. */
const FLOW = 0, FWD = STAT_SIZE, BWD = 2 * STAT_SIZE, LAST_ANY = 3 * STAT_SIZE, LAST_FWD = LAST_ANY + 1, LAST_BWD = LAST_ANY + 2;

/** Writes mean, std, max, min of the block at `a[o …]` at positions pos[i..i+3]; returns the next position index. */
function writeStats(a: Float64Array, o: number, out: Float64Array, pos: Int32Array, i: number): number {
  out[pos[i]] = statAvg(a, o);
  out[pos[i + 1]] = statStd(a, o);
  out[pos[i + 2]] = a[o + STAT_MAX];
  out[pos[i + 3]] = a[o + STAT_MIN];
  return i + 4;
}

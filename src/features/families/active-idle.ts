/**
 * Active/idle family: a flow alternates between active periods (packets less than the activity timeout
 * apart, default 5 s) and idle gaps (longer than it). CICFlowMeter "Active Mean" … "Idle Min"
 * (`BasicFlow.updateActiveIdleTime`, activity timeout 5,000,000 µs).
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';
import { STAT_MAX, STAT_MIN, STAT_SIZE, statAdd, statAvg, statReset, statStd } from '../stats.js';

export const ACTIVE_IDLE_FEATURES: readonly FeatureDef[] = [
  { name: 'Active Mean', unit: 'µs', description: 'Mean length of the active periods longer than 0 µs (0 without).' },
  { name: 'Active Std', unit: 'µs', description: 'Sample standard deviation of the active periods.' },
  { name: 'Active Max', unit: 'µs', description: 'Longest active period.' },
  { name: 'Active Min', unit: 'µs', description: 'Shortest active period.' },
  { name: 'Idle Mean', unit: 'µs', description: 'Mean idle gap (gaps longer than the activity timeout, 5 s).',
    differsFromCic: 'CICFlowMeter also adds, for flows ended by timeout, "flow timeout − active span" as an idle value that was never observed; flowsift counts observed gaps only.' },
  { name: 'Idle Std', unit: 'µs', description: 'Sample standard deviation of the idle gaps.' },
  { name: 'Idle Max', unit: 'µs', description: 'Longest idle gap.' },
  { name: 'Idle Min', unit: 'µs', description: 'Shortest idle gap.' },
];

/** Active and idle periods (see {@link ACTIVE_IDLE_FEATURES}). */
export class ActiveIdleFamily implements FeatureFamily {
  readonly name = 'active-idle';
  readonly features = ACTIVE_IDLE_FEATURES;
  private state!: FlowState;
  private base = 0;

  /** @param activityTimeoutUs gap that separates active periods, µs (CICFlowMeter default 5 s). */
  constructor(private readonly activityTimeoutUs = 5e6) {}

  bind(state: FlowState): void {
    this.state = state;
    this.base = state.reserve(2 * STAT_SIZE + 2);
  }

  onInit(slot: number, pkt: DecodedPacket): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    statReset(a, o + ACTIVE);
    statReset(a, o + IDLE);
    a[o + START] = pkt.tsUs;
    a[o + END] = pkt.tsUs;
  }

  onUpdate(slot: number, pkt: DecodedPacket): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    const t = pkt.tsUs, end = a[o + END];
    if (t - end > this.activityTimeoutUs) {
      const span = end - a[o + START];
      if (span > 0) statAdd(a, o + ACTIVE, span);
      statAdd(a, o + IDLE, t - end);
      a[o + START] = t;
      a[o + END] = t;
    } else if (t > end) a[o + END] = t;
  }

  onExpire(s: number, _t: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const a = this.state.f64, o = s * this.state.stride + this.base;
    const span = a[o + END] - a[o + START];
    if (span > 0) statAdd(a, o + ACTIVE, span);
    const act = o + ACTIVE, idle = o + IDLE;
    out[pos[0]] = statAvg(a, act); out[pos[1]] = statStd(a, act); out[pos[2]] = a[act + STAT_MAX]; out[pos[3]] = a[act + STAT_MIN];
    out[pos[4]] = statAvg(a, idle); out[pos[5]] = statStd(a, idle); out[pos[6]] = a[idle + STAT_MAX]; out[pos[7]] = a[idle + STAT_MIN];
  }
}

/** Offsets in the family's record part: active and idle period statistics, current active period start/end, µs. */
const ACTIVE = 0, IDLE = STAT_SIZE, START = 2 * STAT_SIZE, END = START + 1;

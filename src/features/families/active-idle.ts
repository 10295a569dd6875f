/**
 * Active/idle family: a flow alternates between active periods (packets less than the activity timeout
 * apart, default 5 s) and idle gaps (longer than it). CICFlowMeter "Active Mean" … "Idle Min"
 * (`BasicFlow.updateActiveIdleTime`, activity timeout 5,000,000 µs).
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTable } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import { growArray } from '../family.js';
import { RunningStats } from '../stats.js';

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
  private readonly active = new RunningStats();
  private readonly idle = new RunningStats();
  private startActive = new Float64Array(0);
  private endActive = new Float64Array(0);

  /** @param activityTimeoutUs gap that separates active periods, µs (CICFlowMeter default 5 s). */
  constructor(private readonly activityTimeoutUs = 5e6) {}

  resize(capacity: number): void {
    this.active.resize(capacity);
    this.idle.resize(capacity);
    this.startActive = growArray(this.startActive, capacity, Float64Array);
    this.endActive = growArray(this.endActive, capacity, Float64Array);
  }

  onInit(slot: number, pkt: DecodedPacket): void {
    this.active.reset(slot);
    this.idle.reset(slot);
    this.startActive[slot] = pkt.tsUs;
    this.endActive[slot] = pkt.tsUs;
  }

  onUpdate(slot: number, pkt: DecodedPacket): void {
    const t = pkt.tsUs;
    if (t - this.endActive[slot] > this.activityTimeoutUs) {
      const span = this.endActive[slot] - this.startActive[slot];
      if (span > 0) this.active.add(slot, span);
      this.idle.add(slot, t - this.endActive[slot]);
      this.startActive[slot] = t;
      this.endActive[slot] = t;
    } else if (t > this.endActive[slot]) this.endActive[slot] = t;
  }

  onExpire(s: number, _t: FlowTable, out: Float64Array, pos: Int32Array): void {
    const span = this.endActive[s] - this.startActive[s];
    if (span > 0) this.active.add(s, span);
    const a = this.active, i = this.idle;
    out[pos[0]] = a.avg(s); out[pos[1]] = a.std(s); out[pos[2]] = a.max[s]; out[pos[3]] = a.min[s];
    out[pos[4]] = i.avg(s); out[pos[5]] = i.std(s); out[pos[6]] = i.max[s]; out[pos[7]] = i.min[s];
  }
}

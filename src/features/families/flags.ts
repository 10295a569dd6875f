/**
 * TCP flag family: packets carrying each flag, over the flow and per direction for PSH/URG
 * (CICFlowMeter "FIN Flag Count" … "ECE Flag Count", "Fwd PSH Flags" …). Flag bits per RFC 9293 §3.1
 * and RFC 3168 (CWR, ECE). Non-TCP flows have 0 everywhere.
 */
import type { DecodedPacket } from '../../decode/types.js';
import { TcpFlag } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';

const FLAG_ORDER = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'CWR', 'ECE'] as const;
const FLAG_BITS = [TcpFlag.FIN, TcpFlag.SYN, TcpFlag.RST, TcpFlag.PSH, TcpFlag.ACK, TcpFlag.URG, TcpFlag.CWR, TcpFlag.ECE];

export const FLAG_FEATURES: readonly FeatureDef[] = [
  { name: 'Fwd PSH Flags', unit: 'packets', description: 'Forward packets with PSH set.' },
  { name: 'Bwd PSH Flags', unit: 'packets', description: 'Backward packets with PSH set.' },
  { name: 'Fwd URG Flags', unit: 'packets', description: 'Forward packets with URG set.' },
  { name: 'Bwd URG Flags', unit: 'packets', description: 'Backward packets with URG set.' },
  ...FLAG_ORDER.map((f): FeatureDef => ({
    name: f === 'CWR' ? 'CWR Flag Count' : `${f} Flag Count`, unit: 'packets',
    description: `Packets (both directions) with ${f} set.`,
  })),
];

/** Per-flow flag counters (see {@link FLAG_FEATURES}): 12 counters per slot. */
export class FlagFamily implements FeatureFamily {
  readonly name = 'flags';
  readonly features = FLAG_FEATURES;
  private static readonly W = 12;
  private state!: FlowState;
  private base = 0;

  bind(state: FlowState): void {
    this.state = state;
    this.base = state.reserve(FlagFamily.W);
  }

  onInit(slot: number): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    for (let i = o; i < o + FlagFamily.W; i++) a[i] = 0; // not fill(): a builtin call costs more than 12 stores
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const f = pkt.tcpFlags;
    if (f === 0) return;
    const c = this.state.f64, o = slot * this.state.stride + this.base;
    if (f & TcpFlag.PSH) c[o + dir]++;
    if (f & TcpFlag.URG) c[o + 2 + dir]++;
    for (let k = 0; k < 8; k++) if (f & FLAG_BITS[k]) c[o + 4 + k]++;
  }

  onExpire(s: number, _t: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const c = this.state.f64, o = s * this.state.stride + this.base;
    for (let k = 0; k < FlagFamily.W; k++) out[pos[k]] = c[o + k];
  }
}

/**
 * TCP flag family: packets carrying each flag, over the flow and per direction for PSH/URG
 * (CICFlowMeter "FIN Flag Count" … "ECE Flag Count", "Fwd PSH Flags" …). Flag bits per RFC 9293 §3.1
 * and RFC 3168 (CWR, ECE). Non-TCP flows have 0 everywhere.
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';

const FLAG_ORDER = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'CWR', 'ECE'] as const;

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
    // Each counter adds its flag's bit (0 or 1): no branch per flag, whose outcome changes from packet to packet
    // (SYN, SYN-ACK, ACK, PSH-ACK, FIN-ACK…) and was mispredicted often (the flag loop was among the meter's hottest
    // lines on the benchmark capture). The bits of `tcpFlags` (decode/types.ts TcpFlag, RFC 9293 §3.1): FIN 0, SYN 1, RST 2, PSH 3,
    // ACK 4, URG 5, ECE 6, CWR 7.
    const psh = (f >>> 3) & 1, urg = (f >>> 5) & 1;
    c[o + dir] += psh;
    c[o + 2 + dir] += urg;
    c[o + 4] += f & 1;
    c[o + 5] += (f >>> 1) & 1;
    c[o + 6] += (f >>> 2) & 1;
    c[o + 7] += psh;
    c[o + 8] += (f >>> 4) & 1;
    c[o + 9] += urg;
    c[o + 10] += (f >>> 7) & 1; // CWR (FLAG_ORDER puts it before ECE)
    c[o + 11] += (f >>> 6) & 1;
  }

  onExpire(s: number, _t: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const c = this.state.f64, o = s * this.state.stride + this.base;
    for (let k = 0; k < FlagFamily.W; k++) out[pos[k]] = c[o + k];
  }
}

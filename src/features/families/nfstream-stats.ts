/**
 * nfstream's post-mortem statistical features (`NFStreamer(statistical_analysis=True)`), under nfstream's names:
 * packet-size and packet inter-arrival-time statistics per direction and for the whole flow, and TCP flag counts.
 * Computed as nfstream/engine/lib_engine.c does (`flow_update_*_ps`, `flow_update_*_piat_ms`,
 * `flow_update_*_tcp_flags`) and exported as nfstream/flow.py `NFlow.sync` does:
 *
 * - ps = packet size under the accounting mode (nfstream's statistical tests use mode 1, the IP size; the default
 *   is mode 0, the frame length), bytes;
 * - piat = time since the previous packet of the same direction (or of the flow, for `bidirectional_*`), in whole
 *   milliseconds of nfstream's clock (see families/nfstream.ts), so a flow of n packets has n − 1 of them;
 * - mean and standard deviation by Welford's running update, exactly as nfstream; the standard deviation is the
 *   SAMPLE one (nfstream flow.py: `sqrt(M2 / (n − 1))`, "sample stddev"), 0 with fewer than two values;
 * - min/max/mean are 0 for a direction without packets (nfstream's zeroed C structure);
 * - flag counts: packets of the flow with the flag set (TCP only; 0 for other protocols).
 *
 * None is a model input by default (`modelInput: false`): they duplicate, in nfstream's definitions, what the
 * CICFlowMeter families compute. Like nfstream, flowsift computes them only on request
 * ({@link NfstreamFeatureOptions.statisticalAnalysis}, `--statistical-analysis`); otherwise they are 0 (features are
 * never NaN) and `extract` leaves them out.
 */
import type { DecodedPacket } from '../../decode/types.js';
import { IpProto } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';
import type { FeatureOptions } from '../registry.js';
import { STAT_MAX, STAT_MEAN, STAT_MIN, STAT_N, STAT_SIZE, statAdd, statStd } from '../stats.js';
import { MS, type AccountingMode, type NfstreamFeatureOptions, packetMs, packetSize } from './nfstream.js';

const DIRS = ['bidirectional', 'src2dst', 'dst2src'] as const;
const DIR_TEXT = { bidirectional: 'both directions', src2dst: 'initiator → responder', dst2src: 'responder → initiator' };
/** nfstream's flag order (lib_engine.c `flow_update_bidirectional_tcp_flags`) and the bit of each in the TCP header. */
const FLAGS = [['syn', 0x02], ['cwr', 0x80], ['ece', 0x40], ['urg', 0x20], ['ack', 0x10], ['psh', 0x08], ['rst', 0x04], ['fin', 0x01]] as const;
const FLAG_BITS = Int32Array.from(FLAGS, (f) => f[1]);

function statDefs(): FeatureDef[] {
  const defs: FeatureDef[] = [];
  const src = 'nfstream lib_engine.c flow_update_*_ps, flow.py NFlow.sync';
  for (const d of DIRS) {
    defs.push(
      { name: `${d}_min_ps`, unit: 'bytes', modelInput: false, description: `Smallest packet size, ${DIR_TEXT[d]} (${src}).` },
      { name: `${d}_mean_ps`, unit: 'bytes', modelInput: false, description: `Mean packet size, ${DIR_TEXT[d]} (Welford running mean).` },
      { name: `${d}_stddev_ps`, unit: 'bytes', modelInput: false, description: `Sample standard deviation of packet sizes, ${DIR_TEXT[d]} (n − 1; 0 below 2 packets).` },
      { name: `${d}_max_ps`, unit: 'bytes', modelInput: false, description: `Largest packet size, ${DIR_TEXT[d]}.` },
    );
  }
  const srcPiat = 'nfstream lib_engine.c flow_update_*_piat_ms';
  for (const d of DIRS) {
    defs.push(
      { name: `${d}_min_piat_ms`, unit: MS, modelInput: false, description: `Smallest packet inter-arrival time, ${DIR_TEXT[d]}, ms (${srcPiat}).` },
      { name: `${d}_mean_piat_ms`, unit: MS, modelInput: false, description: `Mean packet inter-arrival time, ${DIR_TEXT[d]}, ms.` },
      { name: `${d}_stddev_piat_ms`, unit: MS, modelInput: false, description: `Sample standard deviation of inter-arrival times, ${DIR_TEXT[d]}, ms (n − 1 over the n − 1 gaps of n packets; 0 below 3 packets).` },
      { name: `${d}_max_piat_ms`, unit: MS, modelInput: false, description: `Largest packet inter-arrival time, ${DIR_TEXT[d]}, ms.` },
    );
  }
  for (const d of DIRS) {
    for (const [f] of FLAGS) {
      defs.push({ name: `${d}_${f}_packets`, unit: 'packets', modelInput: false,
        description: `TCP packets with ${f.toUpperCase()} set, ${DIR_TEXT[d]} (nfstream lib_engine.c flow_update_*_tcp_flags).` });
    }
  }
  return defs;
}

/** Columns of {@link NfstreamStatsFamily}, in nfstream's column order. */
export const NFSTREAM_STATS_FEATURES: readonly FeatureDef[] = statDefs();

/**
 * nfstream's packet-size, inter-arrival and TCP-flag statistics (see the module comment). Computed only with
 * {@link NfstreamFeatureOptions.statisticalAnalysis}; otherwise every column is 0.
 */
export class NfstreamStatsFamily implements FeatureFamily {
  readonly name = 'nfstream-stats';
  readonly features = NFSTREAM_STATS_FEATURES;
  /** Accounting mode of the packet sizes. */
  readonly accountingMode: AccountingMode;
  /** Whether the statistics are computed (nfstream's `statistical_analysis`). */
  readonly enabled: boolean;
  private state!: FlowState;
  /** Record part (only when enabled), see the offsets below the class. */
  private base = 0;

  constructor(opts: FeatureOptions & NfstreamFeatureOptions = {}) {
    this.accountingMode = opts.accountingMode ?? 0;
    this.enabled = opts.statisticalAnalysis ?? false;
  }

  bind(state: FlowState): void {
    this.state = state;
    if (this.enabled) this.base = state.reserve(SIZE);
  }

  onInit(slot: number): void {
    if (!this.enabled) return;
    const o = slot * this.state.stride + this.base;
    this.state.f64.fill(0, o, o + SIZE);
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    if (!this.enabled) return;
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    const size = packetSize(pkt, this.accountingMode);
    const ms = packetMs(pkt);
    const last = o + LAST, d = last + 1 + dir;
    const ps = o + (dir === 0 ? PS_FWD : PS_BWD);
    if (a[o + PS_BI + STAT_N] > 0) statAdd(a, o + PIAT_BI, ms - a[last]);
    if (a[ps + STAT_N] > 0) statAdd(a, o + (dir === 0 ? PIAT_FWD : PIAT_BWD), ms - a[d]);
    a[last] = ms;
    a[d] = ms;
    statAdd(a, o + PS_BI, size);
    statAdd(a, ps, size);
    if (pkt.protocol === IpProto.TCP) {
      const f = pkt.tcpFlags;
      if (f !== 0) {
        const b = o + FLAG_COUNTS + dir * 8;
        for (let i = 0; i < 8; i++) if ((f & FLAG_BITS[i]) !== 0) a[b + i]++;
      }
    }
  }

  onExpire(s: number, _table: FlowTotals, out: Float64Array, pos: Int32Array): void {
    if (!this.enabled) {
      for (let k = 0; k < pos.length; k++) out[pos[k]] = 0;
      return;
    }
    const a = this.state.f64, o = s * this.state.stride + this.base;
    let k = writeStats(a, o + PS_BI, out, pos, 0);
    k = writeStats(a, o + PS_FWD, out, pos, k);
    k = writeStats(a, o + PS_BWD, out, pos, k);
    k = writeStats(a, o + PIAT_BI, out, pos, k);
    k = writeStats(a, o + PIAT_FWD, out, pos, k);
    k = writeStats(a, o + PIAT_BWD, out, pos, k);
    const f = o + FLAG_COUNTS, b = f + 8;
    for (let i = 0; i < 8; i++) out[pos[k++]] = a[f + i] + a[b + i];
    for (let i = 0; i < 8; i++) out[pos[k++]] = a[f + i];
    for (let i = 0; i < 8; i++) out[pos[k++]] = a[b + i];
  }
}

/**
 * Offsets in the family's record part: packet-size statistics (bytes) and inter-arrival statistics (ms), each for
 * both directions, src2dst, dst2src; last packet time in ms (both, src2dst, dst2src); flag counts per direction
 * (8 each, in {@link FLAGS} order).
 */
const PS_BI = 0, PS_FWD = STAT_SIZE, PS_BWD = 2 * STAT_SIZE, PIAT_BI = 3 * STAT_SIZE, PIAT_FWD = 4 * STAT_SIZE, PIAT_BWD = 5 * STAT_SIZE;
const LAST = 6 * STAT_SIZE, FLAG_COUNTS = LAST + 3, SIZE = FLAG_COUNTS + 16;

/** Writes min, Welford mean, sample standard deviation and max of the block at `a[o …]` from position `k`; returns the next k. */
function writeStats(a: Float64Array, o: number, out: Float64Array, pos: Int32Array, k: number): number {
  out[pos[k]] = a[o + STAT_MIN];
  out[pos[k + 1]] = a[o + STAT_MEAN];
  out[pos[k + 2]] = statStd(a, o);
  out[pos[k + 3]] = a[o + STAT_MAX];
  return k + 4;
}

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
import type { FlowTable } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import { growArray } from '../family.js';
import type { FeatureOptions } from '../registry.js';
import { RunningStats } from '../stats.js';
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
  /** Packet sizes, bytes: both directions, src2dst, dst2src. */
  private readonly psBi = new RunningStats();
  private readonly psFwd = new RunningStats();
  private readonly psBwd = new RunningStats();
  /** Inter-arrival times, ms: both directions, src2dst, dst2src. */
  private readonly piatBi = new RunningStats();
  private readonly piatFwd = new RunningStats();
  private readonly piatBwd = new RunningStats();
  /** Last packet time, ms, index slot * 3 + (0 both, 1 src2dst, 2 dst2src). */
  private lastMs = new Float64Array(0);
  /** Flag counts, index (slot * 2 + dir) * 8 + flag (in {@link FLAGS} order). */
  private flags = new Uint32Array(0);

  constructor(opts: FeatureOptions & NfstreamFeatureOptions = {}) {
    this.accountingMode = opts.accountingMode ?? 0;
    this.enabled = opts.statisticalAnalysis ?? false;
  }

  resize(capacity: number): void {
    if (!this.enabled) return;
    this.psBi.resize(capacity); this.psFwd.resize(capacity); this.psBwd.resize(capacity);
    this.piatBi.resize(capacity); this.piatFwd.resize(capacity); this.piatBwd.resize(capacity);
    this.lastMs = growArray(this.lastMs, capacity * 3, Float64Array);
    this.flags = growArray(this.flags, capacity * 16, Uint32Array);
  }

  onInit(slot: number): void {
    if (!this.enabled) return;
    this.psBi.reset(slot); this.psFwd.reset(slot); this.psBwd.reset(slot);
    this.piatBi.reset(slot); this.piatFwd.reset(slot); this.piatBwd.reset(slot);
    const f = this.flags, o = slot * 16;
    for (let i = 0; i < 16; i++) f[o + i] = 0;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    if (!this.enabled) return;
    const size = packetSize(pkt, this.accountingMode);
    const ms = packetMs(pkt);
    const last = this.lastMs, o = slot * 3, d = o + 1 + dir;
    const ps = dir === 0 ? this.psFwd : this.psBwd;
    if (this.psBi.n[slot] > 0) this.piatBi.add(slot, ms - last[o]);
    if (ps.n[slot] > 0) (dir === 0 ? this.piatFwd : this.piatBwd).add(slot, ms - last[d]);
    last[o] = ms;
    last[d] = ms;
    this.psBi.add(slot, size);
    ps.add(slot, size);
    if (pkt.protocol === IpProto.TCP) {
      const f = pkt.tcpFlags;
      if (f !== 0) {
        const b = (slot * 2 + dir) * 8, c = this.flags;
        for (let i = 0; i < 8; i++) if ((f & FLAG_BITS[i]) !== 0) c[b + i]++;
      }
    }
  }

  onExpire(s: number, _table: FlowTable, out: Float64Array, pos: Int32Array): void {
    if (!this.enabled) {
      for (let k = 0; k < pos.length; k++) out[pos[k]] = 0;
      return;
    }
    let k = writeStats(this.psBi, s, out, pos, 0);
    k = writeStats(this.psFwd, s, out, pos, k);
    k = writeStats(this.psBwd, s, out, pos, k);
    k = writeStats(this.piatBi, s, out, pos, k);
    k = writeStats(this.piatFwd, s, out, pos, k);
    k = writeStats(this.piatBwd, s, out, pos, k);
    const c = this.flags, f = s * 16, b = f + 8;
    for (let i = 0; i < 8; i++) out[pos[k++]] = c[f + i] + c[b + i];
    for (let i = 0; i < 8; i++) out[pos[k++]] = c[f + i];
    for (let i = 0; i < 8; i++) out[pos[k++]] = c[b + i];
  }
}

/** Writes min, Welford mean, sample standard deviation and max of `r` for slot `s` from position `k`; returns the next k. */
function writeStats(r: RunningStats, s: number, out: Float64Array, pos: Int32Array, k: number): number {
  out[pos[k]] = r.min[s];
  out[pos[k + 1]] = r.mean[s];
  out[pos[k + 2]] = r.std(s);
  out[pos[k + 3]] = r.max[s];
  return k + 4;
}

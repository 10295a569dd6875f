/**
 * Packet-length family: counts, byte totals, payload-length statistics per direction and for the whole
 * flow, rates and size ratios. "Length" is the transport payload length in bytes (TCP/UDP payload; for
 * other protocols the IP payload after the L4 header flowsift decodes), taken from the IP length fields so
 * snaplen truncation does not change it — CICFlowMeter's `BasicPacketInfo.getPayloadBytes()`.
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily } from '../family.js';
import type { FlowState } from '../state.js';
import { STAT_MAX, STAT_MIN, STAT_N, STAT_SIZE, STAT_SUM, statAdd, statAvg, statReset, statStd, statUnionVariance } from '../stats.js';

const CIC_STD = 'CICFlowMeter 4 uses the sample standard deviation (Apache Commons Math); so does flowsift.';

export const LENGTH_FEATURES: readonly FeatureDef[] = [
  { name: 'Flow Duration', unit: 'µs', description: 'Last packet time − first packet time (CICFlowMeter "Flow Duration").' },
  { name: 'Total Fwd Packet', unit: 'packets', description: 'Packets from initiator to responder.' },
  { name: 'Total Bwd packets', unit: 'packets', description: 'Packets from responder to initiator.' },
  { name: 'Total Length of Fwd Packet', unit: 'bytes', description: 'Sum of forward payload lengths.' },
  { name: 'Total Length of Bwd Packet', unit: 'bytes', description: 'Sum of backward payload lengths.' },
  { name: 'Fwd Packet Length Max', unit: 'bytes', description: 'Largest forward payload length (0 without forward packets).' },
  { name: 'Fwd Packet Length Min', unit: 'bytes', description: 'Smallest forward payload length.' },
  { name: 'Fwd Packet Length Mean', unit: 'bytes', description: 'Mean forward payload length.' },
  { name: 'Fwd Packet Length Std', unit: 'bytes', description: `Sample standard deviation of forward payload lengths. ${CIC_STD}` },
  { name: 'Bwd Packet Length Max', unit: 'bytes', description: 'Largest backward payload length (0 without backward packets).' },
  { name: 'Bwd Packet Length Min', unit: 'bytes', description: 'Smallest backward payload length.' },
  { name: 'Bwd Packet Length Mean', unit: 'bytes', description: 'Mean backward payload length.' },
  { name: 'Bwd Packet Length Std', unit: 'bytes', description: 'Sample standard deviation of backward payload lengths.' },
  { name: 'Flow Bytes/s', unit: 'bytes/s', description: 'Payload bytes (both directions) / Flow Duration in seconds; 0 when the duration is 0.',
    differsFromCic: 'CICFlowMeter divides by a zero duration and writes Infinity/NaN; flowsift writes 0.' },
  { name: 'Flow Packets/s', unit: 'packets/s', description: 'Packets / Flow Duration in seconds; 0 when the duration is 0.',
    differsFromCic: 'CICFlowMeter writes Infinity/NaN for a zero duration; flowsift writes 0.' },
  { name: 'Fwd Packets/s', unit: 'packets/s', description: 'Forward packets / Flow Duration in seconds; 0 when the duration is 0.' },
  { name: 'Bwd Packets/s', unit: 'packets/s', description: 'Backward packets / Flow Duration in seconds; 0 when the duration is 0.' },
  { name: 'Packet Length Min', unit: 'bytes', description: 'Smallest payload length over the flow.',
    differsFromCic: 'CICFlowMeter adds the first packet twice to the flow length statistics; flowsift counts it once.' },
  { name: 'Packet Length Max', unit: 'bytes', description: 'Largest payload length over the flow.' },
  { name: 'Packet Length Mean', unit: 'bytes', description: 'Mean payload length over the flow.',
    differsFromCic: 'First packet counted once (CICFlowMeter counts it twice).' },
  { name: 'Packet Length Std', unit: 'bytes', description: 'Sample standard deviation of payload lengths over the flow.',
    differsFromCic: 'First packet counted once (CICFlowMeter counts it twice).' },
  { name: 'Packet Length Variance', unit: 'bytes', description: 'Sample variance of payload lengths over the flow (bytes²).',
    differsFromCic: 'First packet counted once (CICFlowMeter counts it twice).' },
  { name: 'Down/Up Ratio', unit: 'ratio', description: 'Backward packets / forward packets (0 without forward packets).',
    differsFromCic: 'CICFlowMeter divides integers (1/2 → 0); flowsift divides real numbers.' },
  { name: 'Average Packet Size', unit: 'bytes', description: 'Payload bytes (both directions) / packets.',
    differsFromCic: 'CICFlowMeter sums the first packet twice; flowsift once.' },
  { name: 'Fwd Segment Size Avg', unit: 'bytes', description: 'Forward payload bytes / forward packets.' },
  { name: 'Bwd Segment Size Avg', unit: 'bytes', description: 'Backward payload bytes / backward packets.' },
  { name: 'Fwd Act Data Pkts', unit: 'packets', description: 'Forward packets with at least 1 byte of payload.',
    differsFromCic: 'CICFlowMeter skips the first packet of the flow; flowsift counts it.' },
];

/**
 * Payload-length statistics per direction and per flow (see {@link LENGTH_FEATURES}).
 *
 * The record holds a statistics block per direction only; the whole-flow statistics are the combination of the two
 * when the flow ends (count, sum, min and max directly; the sum of squared deviations by the pairwise update of Chan,
 * Golub & LeVeque 1979, stats.ts statUnionVariance). A packet therefore updates one block instead of two, and the record is 6
 * doubles shorter. Metering the benchmark capture (5M packets, no output), 8 alternating runs each: fastest 3.62 s →
 * 3.48 s, median of the paired differences −0.17 s (issue 5). The whole-flow mean is the sum over the count either
 * way; the variance can differ from a sequential Welford update in the last binary digit (on that capture: 24 % of
 * the flows, at most 5.6e-16 relative).
 */
export class LengthFamily implements FeatureFamily {
  readonly name = 'lengths';
  readonly features = LENGTH_FEATURES;
  private state!: FlowState;
  /** Record offsets: forward and backward statistics blocks, forward packets with payload. */
  private base = 0;

  bind(state: FlowState): void {
    this.state = state;
    this.base = state.reserve(2 * STAT_SIZE + 1);
  }

  onInit(slot: number): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    statReset(a, o + FWD); statReset(a, o + BWD);
    a[o + FWD_DATA] = 0;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    const len = pkt.payloadLen;
    if (dir === 0) {
      statAdd(a, o + FWD, len);
      if (len > 0) a[o + FWD_DATA]++;
    } else statAdd(a, o + BWD, len);
  }

  onExpire(s: number, table: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const a = this.state.f64, o = s * this.state.stride + this.base;
    const fwd = o + FWD, bwd = o + BWD;
    const durUs = table.lastSeenUs(s) - table.firstSeenUs(s);
    const durS = durUs / 1e6;
    const nf = a[fwd + STAT_N], nb = a[bwd + STAT_N], n = nf + nb;
    const fwdBytes = a[fwd + STAT_SUM], bwdBytes = a[bwd + STAT_SUM];
    const bytes = fwdBytes + bwdBytes;
    const meanLen = n > 0 ? bytes / n : 0;
    let i = 0;
    out[pos[i++]] = durUs;
    out[pos[i++]] = nf;
    out[pos[i++]] = nb;
    out[pos[i++]] = fwdBytes;
    out[pos[i++]] = bwdBytes;
    out[pos[i++]] = a[fwd + STAT_MAX];
    out[pos[i++]] = a[fwd + STAT_MIN];
    out[pos[i++]] = statAvg(a, fwd);
    out[pos[i++]] = statStd(a, fwd);
    out[pos[i++]] = a[bwd + STAT_MAX];
    out[pos[i++]] = a[bwd + STAT_MIN];
    out[pos[i++]] = statAvg(a, bwd);
    out[pos[i++]] = statStd(a, bwd);
    out[pos[i++]] = durS > 0 ? bytes / durS : 0;
    out[pos[i++]] = durS > 0 ? n / durS : 0;
    out[pos[i++]] = durS > 0 ? nf / durS : 0;
    out[pos[i++]] = durS > 0 ? nb / durS : 0;
    // Whole flow: both blocks combined (an empty direction has min = max = 0 and is left out of min and max).
    out[pos[i++]] = nf === 0 ? a[bwd + STAT_MIN] : nb === 0 ? a[fwd + STAT_MIN] : Math.min(a[fwd + STAT_MIN], a[bwd + STAT_MIN]);
    out[pos[i++]] = Math.max(a[fwd + STAT_MAX], a[bwd + STAT_MAX]);
    out[pos[i++]] = meanLen;
    const variance = statUnionVariance(a, fwd, bwd);
    out[pos[i++]] = Math.sqrt(variance);
    out[pos[i++]] = variance;
    out[pos[i++]] = nf > 0 ? nb / nf : 0;
    out[pos[i++]] = meanLen;
    out[pos[i++]] = nf > 0 ? fwdBytes / nf : 0;
    out[pos[i++]] = nb > 0 ? bwdBytes / nb : 0;
    out[pos[i++]] = a[o + FWD_DATA];
  }
}

/** Offsets in the family's record part. */
const FWD = 0, BWD = STAT_SIZE, FWD_DATA = 2 * STAT_SIZE;


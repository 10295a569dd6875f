/**
 * nfstream's flow counters under nfstream's column names (nfstream/flow.py `NFlow` slots, computed as in
 * nfstream/engine/lib_engine.c `flow_init_bidirectional`, `flow_update_bidirectional`, `flow_init_src2dst`,
 * `flow_update_src2dst`, `flow_update_dst2src`): packets, bytes and first/last-seen times per direction and for the
 * whole flow, plus the tunnel id that is part of nfstream's flow key.
 *
 * Times are nfstream's: whole milliseconds since the epoch, truncated (`tv_sec * 1000 + tv_usec / 1000`,
 * lib_engine.c `capture_next`). Bytes follow nfstream's accounting mode (see {@link NfstreamFeatureOptions}); the
 * default, mode 0, counts the link-layer frame length on the wire (pcap orig_len) modulo 2^16, because nfstream
 * holds it in a `uint16_t raw_size`.
 *
 * These columns identify and summarise flows rather than describe their behaviour: none is a model input by
 * default (`modelInput: false`).
 */
import type { DecodedPacket } from '../../decode/types.js';
import type { FlowTotals } from '../../flow/table.js';
import type { FeatureDef, FeatureFamily, FeatureUnit } from '../family.js';
import type { FlowState } from '../state.js';
import type { FeatureOptions } from '../registry.js';

/**
 * nfstream's `accounting_mode` (NFStreamer parameter; lib_engine.c `flow_get_packet_size`): which size of a packet
 * the byte counters and packet-size statistics use. 0 = link-layer frame length (`raw_size`, the default);
 * 1 = IP packet length (`ip_size`: IPv4 total length, IPv6 40 + payload length). nfstream's 2 (transport) and 3
 * (payload) are not offered.
 */
export type AccountingMode = 0 | 1;

/** Options of the nfstream families. */
export interface NfstreamFeatureOptions {
  /** nfstream's accounting mode (default 0, nfstream's default), see {@link AccountingMode}. */
  accountingMode?: AccountingMode;
  /**
   * Compute nfstream's statistical columns (features/families/nfstream-stats.ts), as `NFStreamer(statistical_analysis
   * =True)`. Default false, nfstream's default: the columns are then 0 (not computed) and cost nothing per packet.
   */
  statisticalAnalysis?: boolean;
}

/** Milliseconds (nfstream's time unit). */
export const MS: FeatureUnit = 'ms';

/** Size of `pkt` in bytes under accounting mode `mode` (nfstream `flow_get_packet_size`; sizes are `uint16_t`). */
export function packetSize(pkt: DecodedPacket, mode: AccountingMode): number {
  return (mode === 0 ? pkt.frameLen : pkt.ipTotalLen) & 0xffff;
}

/** Packet time in nfstream's clock: whole milliseconds since the epoch, truncated. */
export function packetMs(pkt: DecodedPacket): number {
  return Math.floor(pkt.tsUs / 1000);
}

const SRC = 'nfstream lib_engine.c';
const BYTES = 'bytes of the packets under the accounting mode (default: link-layer frame length, nfstream accounting_mode 0)';

/** Columns of {@link NfstreamFamily}, in nfstream's column order. */
export const NFSTREAM_FEATURES: readonly FeatureDef[] = [
  { name: 'tunnel_id', unit: 'count', modelInput: false,
    description: `Tunnel the flow's packets came through, part of nfstream's flow key: 0 none or IP-in-IP, 1 GTP-U, 2 CAPWAP, 3 TZSP (nDPI ndpi_packet_tunnel). Set under the nfstream decode rules; under the flowsift rules it is 0. Source: nfstream meter.py get_flow_key.` },
  { name: 'bidirectional_first_seen_ms', unit: MS, modelInput: false, description: `Time of the first packet, ms since the epoch (${SRC} flow_init_bidirectional).` },
  { name: 'bidirectional_last_seen_ms', unit: MS, modelInput: false, description: `Time of the last packet, ms since the epoch (${SRC} flow_update_bidirectional).` },
  { name: 'bidirectional_duration_ms', unit: MS, modelInput: false, description: 'bidirectional_last_seen_ms − bidirectional_first_seen_ms.' },
  { name: 'bidirectional_packets', unit: 'packets', modelInput: false, description: 'Packets in both directions.' },
  { name: 'bidirectional_bytes', unit: 'bytes', modelInput: false, description: `Sum over both directions of the ${BYTES}.` },
  { name: 'src2dst_first_seen_ms', unit: MS, modelInput: false, description: `Time of the first initiator → responder packet (the flow's first packet), ms (${SRC} flow_init_src2dst).` },
  { name: 'src2dst_last_seen_ms', unit: MS, modelInput: false, description: `Time of the last initiator → responder packet, ms (${SRC} flow_update_src2dst).` },
  { name: 'src2dst_duration_ms', unit: MS, modelInput: false, description: 'src2dst_last_seen_ms − src2dst_first_seen_ms.' },
  { name: 'src2dst_packets', unit: 'packets', modelInput: false, description: 'Initiator → responder packets.' },
  { name: 'src2dst_bytes', unit: 'bytes', modelInput: false, description: `Initiator → responder ${BYTES}.` },
  { name: 'dst2src_first_seen_ms', unit: MS, modelInput: false, description: `Time of the first responder → initiator packet, ms; 0 without one (${SRC} flow_update_dst2src).` },
  { name: 'dst2src_last_seen_ms', unit: MS, modelInput: false, description: 'Time of the last responder → initiator packet, ms; 0 without one.' },
  { name: 'dst2src_duration_ms', unit: MS, modelInput: false, description: 'dst2src_last_seen_ms − dst2src_first_seen_ms (0 with fewer than 2 such packets).' },
  { name: 'dst2src_packets', unit: 'packets', modelInput: false, description: 'Responder → initiator packets.' },
  { name: 'dst2src_bytes', unit: 'bytes', modelInput: false, description: `Responder → initiator ${BYTES}.` },
];

/** nfstream's per-direction packet/byte counters and first/last-seen times (see {@link NFSTREAM_FEATURES}). */
export class NfstreamFamily implements FeatureFamily {
  readonly name = 'nfstream';
  readonly features = NFSTREAM_FEATURES;
  /** Accounting mode of the byte counters. */
  readonly accountingMode: AccountingMode;
  private state!: FlowState;
  /** Record part: tunnel id, then per direction d (0 src2dst, 1 dst2src) at 1 + 4d: packets, bytes, first ms, last ms. */
  private base = 0;

  constructor(opts: FeatureOptions & NfstreamFeatureOptions = {}) {
    this.accountingMode = opts.accountingMode ?? 0;
  }

  bind(state: FlowState): void {
    this.state = state;
    this.base = state.reserve(9);
  }

  onInit(slot: number, pkt: DecodedPacket): void {
    const a = this.state.f64, o = slot * this.state.stride + this.base;
    a.fill(0, o, o + 9);
    a[o] = pkt.tunnelKey;
  }

  onUpdate(slot: number, pkt: DecodedPacket, dir: 0 | 1): void {
    const a = this.state.f64, i = slot * this.state.stride + this.base + 1 + 4 * dir;
    const ms = packetMs(pkt);
    if (a[i] === 0) a[i + 2] = ms;
    if (ms > a[i + 3]) a[i + 3] = ms;
    a[i]++;
    a[i + 1] += packetSize(pkt, this.accountingMode);
  }

  onExpire(s: number, table: FlowTotals, out: Float64Array, pos: Int32Array): void {
    const a = this.state.f64, o = s * this.state.stride + this.base, f = o + 1, b = o + 5;
    const first = Math.floor(table.firstSeenUs(s) / 1000), last = Math.floor(table.lastSeenUs(s) / 1000);
    let k = 0;
    out[pos[k++]] = a[o];
    out[pos[k++]] = first;
    out[pos[k++]] = last;
    out[pos[k++]] = last - first;
    out[pos[k++]] = a[f] + a[b];
    out[pos[k++]] = a[f + 1] + a[b + 1];
    out[pos[k++]] = a[f + 2];
    out[pos[k++]] = a[f + 3];
    out[pos[k++]] = a[f + 3] - a[f + 2];
    out[pos[k++]] = a[f];
    out[pos[k++]] = a[f + 1];
    out[pos[k++]] = a[b + 2];
    out[pos[k++]] = a[b + 3];
    out[pos[k++]] = a[b + 3] - a[b + 2];
    out[pos[k++]] = a[b];
    out[pos[k++]] = a[b + 1];
  }
}

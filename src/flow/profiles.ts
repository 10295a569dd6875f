/**
 * Flow profiles: named sets of flow-table and decode settings that decide what a flow is.
 *
 * - `flowsift` (the default): flowsift's own rules — every link type, shim header and tunnel flowsift decodes,
 *   the outer VLAN tag in the key, idle timeout 120 s (a gap longer than it ends the flow), active timeout 1800 s,
 *   and TCP termination: FIN both ways or RST ends a TCP flow after a 5 s linger (see flow/table.ts).
 * - `nfstream`: nfstream 6.5's defaults (`NFStreamer(source)`), reproduced rule by rule so that flowsift counts
 *   the same flows, packets and bytes as nfstream (measured on nfstream's own test corpus: docs/parity.md).
 *   Each setting below names the nfstream source it comes from.
 *
 * Explicit options (e.g. `--idle-timeout`) override a profile's values: see {@link profileOptions}.
 */
import type { DecodeRules } from '../decode/decoder.js';
import type { FlowTableOptions } from './table.js';

/** Names of the profiles. */
export const PROFILE_NAMES = ['flowsift', 'nfstream'] as const;
/** A profile name. */
export type ProfileName = (typeof PROFILE_NAMES)[number];

/** Settings of a profile (a complete set: every field is given). */
export interface FlowProfile {
  /** One-line description. */
  readonly summary: string;
  /** Flow-table settings: timeouts (µs), TCP termination, clock resolution, timeout comparison, key. */
  readonly table: Readonly<Required<Pick<FlowTableOptions,
    'idleTimeoutUs' | 'activeTimeoutUs' | 'tcpTermination' | 'tcpLingerUs' | 'clockResolutionUs'
    | 'inclusiveIdleTimeout' | 'monotonicTime' | 'keyByTunnel'>>>;
  /** Decode settings: tunnel decapsulation and the decode rules (which frames count, VLAN/tunnel/port fields). */
  readonly decode: Readonly<{ decodeTunnels: boolean; decodeRules: DecodeRules }>;
  /**
   * Bytes counted by the nfstream columns (features/families/nfstream.ts): 0 = link-layer frame length, 1 = IP
   * length (nfstream's `accounting_mode`).
   */
  readonly accountingMode: 0 | 1;
  /** Compute nfstream's statistical columns (features/families/nfstream-stats.ts; nfstream's `statistical_analysis`). */
  readonly statisticalAnalysis: boolean;
}

/** The profiles, by name. */
export const PROFILES: Readonly<Record<ProfileName, FlowProfile>> = {
  flowsift: {
    summary: 'flowsift rules: TCP flows end on FIN both ways or RST (5 s linger), idle 120 s, active 1800 s',
    table: {
      idleTimeoutUs: 120e6,
      activeTimeoutUs: 1800e6,
      tcpTermination: true,
      tcpLingerUs: 5e6,
      clockResolutionUs: 1,
      inclusiveIdleTimeout: false,
      monotonicTime: false,
      keyByTunnel: false,
    },
    decode: { decodeTunnels: true, decodeRules: 'flowsift' },
    accountingMode: 0,
    statisticalAnalysis: false,
  },
  nfstream: {
    summary: "nfstream 6.5 defaults: flows end by idle (120 s) or active (1800 s) timeout only, nfstream's key and packet rules",
    table: {
      // NFStreamer(idle_timeout=120, active_timeout=1800) (nfstream/streamer.py), passed to the meter in ms.
      idleTimeoutUs: 120e6,
      activeTimeoutUs: 1800e6,
      // No TCP termination: lib_engine.c flow_expiration_handler only knows idle (1) and active (2) expiration.
      tcpTermination: false,
      tcpLingerUs: 5e6,
      // Packet time in whole ms: lib_engine.c capture_next, `tv_sec * 1000 + tv_usec / 1000`.
      clockResolutionUs: 1000,
      // lib_engine.c flow_expiration_handler: `time - last_seen >= idle_timeout` (and `>=` for active);
      // meter.py meter_scan / flow.py is_idle: `tick - idle_timeout >= last_seen`.
      inclusiveIdleTimeout: true,
      // meter.py meter_workflow: a packet older than the meter tick takes the tick's time ("Force time order").
      monotonicTime: true,
      // meter.py get_flow_key: (addresses, ports, protocol, vlan_id, tunnel_id).
      keyByTunnel: true,
    },
    // NFStreamer(decode_tunnels=True); packet acceptance, innermost VLAN id, tunnel id, ports: lib_engine.c
    // packet_process (see decode/nfstream.ts).
    decode: { decodeTunnels: true, decodeRules: 'nfstream' },
    // NFStreamer(accounting_mode=0): bytes = link-layer frame length (lib_engine.c flow_get_packet_size).
    accountingMode: 0,
    // NFStreamer(statistical_analysis=False).
    statisticalAnalysis: false,
  },
};

/** True when `name` is a profile name. */
export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

/** Flat settings of a profile, in the shape of the meter's options (FlowTableOptions + decode + nfstream columns). */
export interface ProfileOptions extends FlowTableOptions {
  decodeTunnels: boolean;
  decodeRules: DecodeRules;
  accountingMode: 0 | 1;
  statisticalAnalysis: boolean;
}

/**
 * The settings of profile `name` as flat meter options, with `overrides` applied on top (fields that are
 * `undefined` in `overrides` keep the profile's value).
 * @throws RangeError for an unknown profile name
 */
export function profileOptions(name: string, overrides: Partial<ProfileOptions> = {}): ProfileOptions {
  if (!isProfileName(name)) throw new RangeError(`unknown profile '${name}' (expected ${PROFILE_NAMES.join(' or ')})`);
  const p = PROFILES[name];
  const out: ProfileOptions = { ...p.table, ...p.decode, accountingMode: p.accountingMode, statisticalAnalysis: p.statisticalAnalysis };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

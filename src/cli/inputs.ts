/**
 * Shared CLI plumbing: meter options from command-line flags, labellers, and reading captures into
 * flow records with a progress/summary line on stderr.
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ExtractSummary } from '../features/extract.js';
import { extractCapture } from '../features/extract.js';
import type { FinishedFlow, MeterOptions } from '../features/meter.js';
import type { Labeller } from '../dataset/labels.js';
import { ConstantLabeller, RuleLabeller } from '../dataset/labels.js';
import { FlowRecords } from '../dataset/collect.js';
import { isFlowTable, readFlowTables, tableSummaryLine } from '../dataset/table.js';
import { createFeatureSet, defaultModelFeatures } from '../features/registry.js';
import { PROFILES, PROFILE_NAMES, isProfileName, profileOptions } from '../flow/profiles.js';
import { UsageError } from './errors.js';

/**
 * Adds the flow-meter options shared by every command that reads captures. `--profile` selects a set of flow
 * rules (src/flow/profiles.ts); the other flow options, when given, override the profile's values.
 */
export function addMeterOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--profile <name>', 'flow rules: flowsift (TCP flows end on FIN/RST) or nfstream (nfstream 6.5 defaults)')
      .choices(PROFILE_NAMES).default('flowsift'))
    .option('--idle-timeout <seconds>', 'end a flow after this many seconds without packets (profile default: 120)')
    .option('--active-timeout <seconds>', 'end a flow this many seconds after its first packet (profile default: 1800)')
    .option('--tcp-termination', 'end TCP flows on FIN both ways or RST (default in the flowsift profile)')
    .option('--no-tcp-termination', 'do not end TCP flows on FIN/RST (flows end by timeout only, as nfstream)')
    .option('--tunnels', 'decode tunnels to the inner packet (default)')
    .option('--no-tunnels', 'do not decode tunnels (GRE, GTP-U, VXLAN, …) to the inner packet')
    .addOption(new Option('--accounting-mode <mode>', 'bytes counted by the nfstream columns: link (frame length) or ip (IP length); profile default: link')
      .choices(['link', 'ip']))
    .option('--statistical-analysis', "compute nfstream's statistical columns (packet sizes, inter-arrival times, TCP flag counts), as nfstream's statistical_analysis=True")
    .option('--max-flows <n>', `most flows held at once; beyond it the least recently active flow is exported early (marked evicted) (default ${DEFAULT_MAX_FLOWS.toLocaleString('en-US')}, about 0.5 GiB of flow state)`)
    .option('--strict', 'treat a capture that ends inside a record as an error');
}

/** Parses a positive number of seconds from an option. @throws UsageError */
export function seconds(name: string, text: string): number {
  const v = Number(text);
  if (!Number.isFinite(v) || v <= 0) throw new UsageError(`${name} must be a positive number of seconds, got '${text}'`);
  return v;
}

/**
 * Meter options from parsed flags: the `--profile`'s settings (default `flowsift`), overridden by the flow
 * options given explicitly. With the nfstream profile, timeouts must be whole milliseconds (nfstream's clock).
 * @throws UsageError for a bad value
 */
export function meterOptions(o: Record<string, unknown>): MeterOptions & { strict?: boolean } {
  const profile = o.profile === undefined ? 'flowsift' : String(o.profile);
  if (!isProfileName(profile)) throw new UsageError(`--profile must be one of ${PROFILE_NAMES.join(', ')}, got '${profile}'`);
  const r = PROFILES[profile].table.clockResolutionUs;
  const us = (name: string, v: unknown): number | undefined => {
    if (v === undefined) return undefined;
    const t = seconds(name, String(v)) * 1e6;
    if (Math.round(t) % r !== 0) throw new UsageError(`${name} must be a whole number of ${r === 1000 ? 'milliseconds' : 'microseconds'} with --profile ${profile}, got '${String(v)}'`);
    return Math.round(t);
  };
  const opts = profileOptions(profile, {
    idleTimeoutUs: us('--idle-timeout', o.idleTimeout),
    activeTimeoutUs: us('--active-timeout', o.activeTimeout),
    tcpTermination: typeof o.tcpTermination === 'boolean' ? o.tcpTermination : undefined,
    decodeTunnels: typeof o.tunnels === 'boolean' ? o.tunnels : undefined,
    accountingMode: o.accountingMode === undefined ? undefined : o.accountingMode === 'ip' ? 1 : 0,
    statisticalAnalysis: o.statisticalAnalysis === true ? true : undefined,
  });
  let maxFlows = DEFAULT_MAX_FLOWS;
  if (o.maxFlows !== undefined) {
    maxFlows = Number(o.maxFlows);
    if (!Number.isInteger(maxFlows) || maxFlows < 1) throw new UsageError(`--max-flows must be a positive integer, got '${String(o.maxFlows)}'`);
  }
  return { ...opts, maxFlows, strict: o.strict === true };
}

/**
 * Default bound on flows held at once. Per-flow state is about 1 KiB (flow table plus every family's typed
 * arrays), so 500,000 flows keep the flow state near 0.5 GiB whatever the capture (e.g. a SYN flood with random
 * sources); ordinary captures hold far fewer at once (the 1M-flow benchmark capture about 60,000).
 */
export const DEFAULT_MAX_FLOWS = 500_000;

/**
 * The labeller selected by `--label NAME` / `--labels FILE`.
 * @param required throw a UsageError when neither is given
 * @throws UsageError when both are given; DatasetError for a bad rules file
 */
export function labellerFrom(o: Record<string, unknown>, required: boolean): Labeller | null {
  if (o.label !== undefined && o.labels !== undefined) throw new UsageError('give either --label or --labels, not both');
  if (o.label !== undefined) return new ConstantLabeller(String(o.label));
  if (o.labels !== undefined) return RuleLabeller.fromFile(String(o.labels));
  if (required) throw new UsageError('labels are required: --label NAME (every flow) or --labels FILE (rules label,ip,start,end)');
  return null;
}

/** Writes a line to stderr unless quiet. */
export function info(o: Record<string, unknown>, line: string): void {
  if (!o.quiet) process.stderr.write(`${line}\n`);
}

/** One line describing what a capture gave. */
export function summaryLine(s: ExtractSummary, seconds: number): string {
  const c = s.counters;
  const parts = [
    `${s.path}: ${c.packets.toLocaleString('en-US')} packets, ${c.flows.toLocaleString('en-US')} flows`,
    c.nonIpPackets ? `${c.nonIpPackets.toLocaleString('en-US')} non-IP skipped` : '',
    s.capture.truncatedPackets ? `${s.capture.truncatedPackets.toLocaleString('en-US')} snaplen-truncated` : '',
    s.unknownLinkTypes.length ? `unknown link type(s) ${s.unknownLinkTypes.join(', ')}` : '',
    s.evictions ? `${s.evictions.toLocaleString('en-US')} flows evicted early (--max-flows)` : '',
    `${seconds.toFixed(2)} s (${Math.round(c.flows / Math.max(seconds, 1e-9)).toLocaleString('en-US')} flows/s)`,
  ];
  return parts.filter(Boolean).join(', ');
}

/**
 * Reads every capture in order, calling `onFlow(flow, sourceIndex)`; prints one summary line per capture
 * and any capture warning (e.g. a file that ends inside a record) on stderr.
 */
export async function readCaptures(
  paths: readonly string[], o: Record<string, unknown>, onFlow: (flow: FinishedFlow, source: number) => void,
): Promise<ExtractSummary[]> {
  const opts = meterOptions(o);
  const out: ExtractSummary[] = [];
  for (let i = 0; i < paths.length; i++) {
    const t0 = performance.now();
    const s = await extractCapture(paths[i], (f) => onFlow(f, i), opts);
    for (const w of s.capture.warnings ?? []) process.stderr.write(`flowsift: warning: ${w}\n`);
    info(o, summaryLine(s, (performance.now() - t0) / 1000));
    out.push(s);
  }
  return out;
}

/**
 * Reads captures into in-memory flow records, labelling each flow with `labeller` (or '' without one).
 */
export async function collectRecords(
  paths: readonly string[], o: Record<string, unknown>, labeller: Labeller | null,
): Promise<FlowRecords> {
  const records = new FlowRecords(createFeatureSet().features.map((f) => f.name));
  const sources = paths.map((p) => records.addSource(p));
  await readCaptures(paths, o, (flow, i) => records.add(flow, labeller ? labeller.labelOf(flow) : '', sources[i]));
  return records;
}

/** Counts of each label, sorted by label (code-point order, as scikit-learn's np.unique). */
export function labelCounts(labels: readonly string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const l of labels) m.set(l, (m.get(l) ?? 0) + 1);
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/**
 * Model input columns: `--features a,b,c` or the registry's default model features.
 * @throws UsageError naming unknown features
 */
export function featureList(o: Record<string, unknown>): string[] {
  const all = createFeatureSet().features.map((f) => f.name);
  if (o.features === undefined) return defaultModelFeatures();
  const want = String(o.features).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = want.filter((w) => !all.includes(w));
  if (unknown.length) throw new UsageError(`unknown feature(s): ${unknown.join(', ')} (see docs/features.md)`);
  if (want.length === 0) throw new UsageError('--features names no feature');
  return want;
}

/**
 * Training/evaluation inputs: captures (labelled by `--label`/`--labels`) or flow tables in CSV (flowsift's
 * `extract` output, CICFlowMeter or CIC-IDS2017 files, labelled by their `Label` column). Inputs of one command
 * are all captures or all tables.
 * @param features model inputs to read from tables (all registry features the table has when omitted)
 * @throws UsageError for mixed inputs, or label options given with tables; TableError, CaptureError, DatasetError
 */
export async function loadInputs(
  paths: readonly string[], o: Record<string, unknown>, labelsRequired: boolean, features?: readonly string[],
): Promise<{ records: FlowRecords; labels: string }> {
  const tables = paths.filter((p) => p !== '-' && isFlowTable(p));
  if (tables.length === 0) {
    const labeller = labellerFrom(o, labelsRequired);
    return { records: await collectRecords(paths, o, labeller), labels: labeller?.description ?? 'unlabelled' };
  }
  if (tables.length !== paths.length) throw new UsageError('give either captures or flow tables (CSV), not both');
  if (o.label !== undefined || o.labels !== undefined) throw new UsageError('flow tables carry their labels in their Label column: --label/--labels apply to captures');
  let utcOffsetMinutes = 0;
  if (o.utcOffset !== undefined) {
    utcOffsetMinutes = Number(o.utcOffset);
    if (!Number.isInteger(utcOffsetMinutes) || Math.abs(utcOffsetMinutes) > 24 * 60) throw new UsageError(`--utc-offset must be whole minutes, got '${String(o.utcOffset)}'`);
  }
  const records = await readFlowTables(paths, { features, requireLabels: labelsRequired, utcOffsetMinutes });
  for (const w of records.warnings) process.stderr.write(`flowsift: warning: ${w}\n`);
  for (const t of records.tables) info(o, tableSummaryLine(t));
  return { records, labels: `Label column of ${paths.length} flow table(s)` };
}

/**
 * Shared CLI plumbing: meter options from command-line flags, labellers, and reading the inputs of train and
 * evaluate — positional captures or flow tables, and `--input PATH[:LABEL | :RULES.csv]` inputs with labels of
 * their own, directories expanded to their captures — into flow records, with a summary line per capture (and
 * per input) on stderr.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ExtractSummary } from '../features/extract.js';
import { extractCapture } from '../features/extract.js';
import type { FinishedFlow, MeterOptions } from '../features/meter.js';
import type { Labeller } from '../dataset/labels.js';
import { ConstantLabeller, RuleLabeller } from '../dataset/labels.js';
import { FlowRecords } from '../dataset/collect.js';
import { DatasetError } from '../dataset/errors.js';
import { isFlowTable, readFlowTables, tableSummaryLine } from '../dataset/table.js';
import { readFlowTablesParallel } from '../dataset/parallel-tables.js';
import { createFeatureSet, defaultModelFeatures } from '../features/registry.js';
import { TRAVEL_FEATURES } from '../features/sets.js';
import { PROFILES, PROFILE_NAMES, isProfileName, profileOptions } from '../flow/profiles.js';
import { UsageError } from './errors.js';
import { groupDigits } from '../dataset/format.js';

/** Inputs at least this large (bytes, all input files together) use worker threads by default. */
export const THREAD_MIN_INPUT_BYTES = 32 << 20;

/** Most worker threads `--threads` accepts. */
export const MAX_THREADS = 64;

/** Help of `--threads` for train and evaluate. */
export const TABLE_THREADS_HELP = 'several flow tables: read N at a time on worker threads (rows still in input order); 0 = no threads '
  + `(default: one per core, at most one per table, when the tables total ${THREAD_MIN_INPUT_BYTES >> 20} MiB or more)`;

/**
 * Worker threads for `extract` and `score`, and for `train`/`evaluate` reading several flow tables: `--threads N` (0 =
 * everything on the main thread), else, when the machine has a second core and the regular-file inputs total at least
 * {@link THREAD_MIN_INPUT_BYTES} (a thread costs ~30 ms to start): one per core (at most one per input) for several
 * inputs, 1 (a formatting thread) for one.
 * @throws UsageError for a bad value
 */
export function extractThreads(o: Record<string, unknown>, inputs: readonly string[]): number {
  if (o.threads !== undefined) {
    const n = Number(o.threads);
    if (!Number.isInteger(n) || n < 0 || n > MAX_THREADS) throw new UsageError(`--threads must be an integer from 0 to ${MAX_THREADS}, got '${String(o.threads)}'`);
    return n;
  }
  const cores = availableParallelism();
  if (cores < 2) return 0;
  let bytes = 0;
  for (const p of inputs) {
    try {
      const st = statSync(p);
      if (st.isFile()) bytes += st.size;
    } catch { /* missing: reported by the reader */ }
  }
  if (bytes < THREAD_MIN_INPUT_BYTES) return 0;
  return inputs.length > 1 ? Math.min(cores, inputs.length) : 1;
}

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
    .option('--max-flows <n>', `most flows held at once; beyond it the least recently active flow is exported early (end_reason evicted) (default ${groupDigits(DEFAULT_MAX_FLOWS)}, about 0.5 GiB of flow state)`)
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
    `${s.path}: ${groupDigits(c.packets)} packets, ${groupDigits(c.flows)} flows`,
    c.nonIpPackets ? `${groupDigits(c.nonIpPackets)} non-IP skipped` : '',
    s.capture.truncatedPackets ? `${groupDigits(s.capture.truncatedPackets)} snaplen-truncated` : '',
    s.unknownLinkTypes.length ? `unknown link type(s) ${s.unknownLinkTypes.join(', ')}` : '',
    s.evictions ? `${groupDigits(s.evictions)} flows evicted early (--max-flows)` : '',
    `${seconds.toFixed(2)} s (${groupDigits(Math.round(c.flows / Math.max(seconds, 1e-9)))} flows/s)`,
  ];
  return parts.filter(Boolean).join(', ');
}

/**
 * Reads every capture in order, calling `onFlow(flow, sourceIndex)`; prints one summary line per capture
 * and any capture warning (e.g. a file that ends inside a record) on stderr. `extra` adds meter options that
 * have no flag (e.g. {@link MeterOptions.skipFamilies}).
 */
export async function readCaptures(
  paths: readonly string[], o: Record<string, unknown>, onFlow: (flow: FinishedFlow, source: number) => void,
  extra: Partial<MeterOptions> = {},
): Promise<ExtractSummary[]> {
  const opts = { ...meterOptions(o), ...extra };
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

/** Counts of each label, sorted by label (code-point order, as scikit-learn's np.unique). */
export function labelCounts(labels: readonly string[]): [string, number][] {
  const m = new Map<string, number>();
  for (const l of labels) m.set(l, (m.get(l) ?? 0) + 1);
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Named feature sets `--features` accepts besides a list: `travel` (the default) and `all`. */
export const FEATURE_SETS: Readonly<Record<string, () => string[]>> = {
  /** Features that travel between networks (src/features/sets.ts, docs/feature-study.md). */
  travel: () => [...TRAVEL_FEATURES],
  /** Every registry model input: CICFlowMeter's 76 features. */
  all: () => defaultModelFeatures(),
};

/**
 * Model input columns: `--features travel` (default: {@link TRAVEL_FEATURES}, chosen by held-out evidence in
 * docs/feature-study.md), `--features all` (every registry model input, CICFlowMeter's 76) or a comma-separated
 * list of registry names.
 * @throws UsageError naming unknown features
 */
export function featureList(o: Record<string, unknown>): string[] {
  const all = createFeatureSet().features.map((f) => f.name);
  const text = o.features === undefined ? 'travel' : String(o.features).trim();
  const named = FEATURE_SETS[text];
  if (named) return named();
  const want = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = want.filter((w) => !all.includes(w));
  if (unknown.length) throw new UsageError(`unknown feature(s): ${unknown.join(', ')} (see docs/features.md)`);
  if (want.length === 0) throw new UsageError('--features names no feature');
  return want;
}

/** Collects the values of a repeatable option (commander's `(value, previous)` parser). */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Adds `--input PATH[:SPEC]` (repeatable): an input with its own labels, beside the positional inputs. See
 * {@link parseInputArg} for the syntax and {@link captureFilesIn} for directories.
 */
export function addInputOption(cmd: Command, verb: string): Command {
  return cmd.option(
    '--input <path[:spec]>',
    `${verb} input with its own labels, repeatable: a capture, a directory (its *.pcap, *.pcapng, *.cap files, not subdirectories) `
    + 'or a flow table; SPEC = a label for every flow (PATH:BENIGN) or a rules file (PATH:labels.csv); '
    + 'without SPEC, --label/--labels apply (captures) or the Label column (tables)',
    collect,
  );
}

/** File name endings of the captures a directory input expands to (any case). */
export const CAPTURE_EXTENSIONS: readonly string[] = ['.pcap', '.pcapng', '.cap'];

/** How an input's flows are labelled, from the SPEC of `--input PATH:SPEC`. */
export type InputSpec = { kind: 'label'; label: string } | { kind: 'rules'; file: string };

/** One input as written: `--input PATH[:SPEC]` or a positional INPUT. */
export interface InputArg {
  /** The text on the command line. */
  arg: string;
  /** The capture, directory or flow table (`-`: standard input). */
  path: string;
  /** Its own labels, or null (the command's --label/--labels, or a table's Label column). */
  spec: InputSpec | null;
}

/** True when `path` exists (file, directory or anything stat can see). */
function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses the value of `--input PATH[:SPEC]`.
 *
 * - If the whole text names an existing file or directory (or is `-`, standard input), it is PATH, without SPEC —
 *   so a path containing ':' needs no quoting; to label such a path, append `:SPEC` (`a:b.pcap:BENIGN`).
 * - Otherwise it is split at its LAST ':' into PATH and SPEC; PATH must exist (or be `-`) and SPEC must not be
 *   empty. SPEC therefore cannot contain ':'.
 * - SPEC is a label-rules file (CSV `label,ip,start,end`, see src/dataset/labels.ts) when it ends in `.csv` (any
 *   case), contains a '/', or names an existing file; otherwise it is a label name given to every flow of PATH
 *   (letters, digits, spaces and punctuation but no control character, no leading or trailing space).
 * @throws DatasetError (exit 1) when neither the text nor its part before the last ':' exists; UsageError
 *   (exit 2) for an empty text, an empty SPEC or a label name with control characters or outer spaces
 */
export function parseInputArg(arg: string): InputArg {
  if (arg === '') throw new UsageError('--input needs a path: --input PATH[:LABEL | :RULES.csv]');
  if (arg === '-' || exists(arg)) return { arg, path: arg, spec: null };
  const i = arg.lastIndexOf(':');
  if (i < 0) throw new DatasetError(arg, 'no such file or directory');
  const path = arg.slice(0, i), spec = arg.slice(i + 1);
  if (path !== '-' && !exists(path)) throw new DatasetError(arg, `no such file or directory (nor is '${path}', the part before the last ':')`);
  if (spec === '') throw new UsageError(`--input '${arg}': nothing after ':' (give a label or a rules file, or leave out the ':')`);
  if (/\.csv$/i.test(spec) || spec.includes('/') || exists(spec)) return { arg, path, spec: { kind: 'rules', file: spec } };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(spec) || spec.trim() !== spec) throw new UsageError(`--input '${arg}': the label '${spec}' has control characters or leading/trailing spaces`);
  return { arg, path, spec: { kind: 'label', label: spec } };
}

/**
 * The captures of a directory input: its regular files (or links to them) whose names end in one of
 * {@link CAPTURE_EXTENSIONS}, hidden files (`.name`) excluded, sorted by name (UTF-16 code-unit order);
 * subdirectories are not read (not recursive) and flow tables are not picked up (a dataset folder often holds
 * its labels.csv beside the capture): give tables one by one.
 * @throws DatasetError when the directory cannot be read or holds no capture
 */
export function captureFilesIn(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new DatasetError(dir, `cannot read the directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const want = (name: string): boolean => !name.startsWith('.') && CAPTURE_EXTENSIONS.some((x) => name.toLowerCase().endsWith(x));
  const files = entries.filter((e) => want(e.name) && (e.isFile() || (e.isSymbolicLink() && isFile(join(dir, e.name)))))
    .map((e) => e.name).sort().map((n) => join(dir, n));
  if (files.length === 0) {
    throw new DatasetError(dir, `no capture in this directory (files named *${CAPTURE_EXTENSIONS.join(', *')}; subdirectories are not read)`);
  }
  return files;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** An input after loading: where its flows are in the records and how they were labelled. */
export interface LoadedSource {
  /** As written on the command line. */
  arg: string;
  /** Files read, in order (a directory's captures, or the path itself). */
  files: string[];
  /** True for a directory input. */
  directory: boolean;
  /** Description of its labels. */
  labels: string;
}

/** What {@link loadInputs} read. */
export interface LoadedInputs {
  records: FlowRecords;
  /** Description of the labels of every input (stored in a bundle's training summary). */
  labels: string;
  /** The inputs in command-line order: positional ones first, then each `--input`. */
  sources: LoadedSource[];
  /** Input index (into `sources`) of each record file (`records.sources`). */
  sourceOfFile: Int32Array;
}

/** Input index of every row of `records` (records that came from {@link loadInputs}, or a subset of them). */
export function sourceOfRows(records: FlowRecords, loaded: Pick<LoadedInputs, 'sourceOfFile'>): Int32Array {
  const out = new Int32Array(records.rows);
  for (let r = 0; r < records.rows; r++) out[r] = loaded.sourceOfFile[records.source[r]!]!;
  return out;
}

/**
 * Training/evaluation inputs: the positional INPUTs (labelled by `--label`/`--labels`) and each `--input
 * PATH[:SPEC]` (labelled by its SPEC, or by `--label`/`--labels` without one). An input is a capture, a directory
 * of captures ({@link captureFilesIn}) or a flow table in CSV (flowsift's `extract` output, CICFlowMeter or
 * CIC-IDS2017 files, labelled by their `Label` column). The inputs of one command are all captures or all
 * tables. With several inputs, one line per input on stderr gives its flows per class.
 * @param positional the positional inputs (paths, never split at ':')
 * @param o parsed options (`input`, `label`, `labels`, `utcOffset`, `quiet`, meter options)
 * @param labelsRequired every capture needs labels (train, evaluate)
 * @param features model inputs to read from tables (all registry features the table has when omitted)
 * @throws UsageError for no input, mixed captures and tables, labels missing or given where they apply to
 *   nothing, a file given twice, a bad --input; DatasetError (missing path, empty directory, bad rules file),
 *   TableError, CaptureError
 */
export async function loadInputs(
  positional: readonly string[], o: Record<string, unknown>, labelsRequired: boolean, features?: readonly string[],
): Promise<LoadedInputs> {
  if (o.threads !== undefined) extractThreads(o, []); // a bad --threads is an error whatever the inputs
  const inputArgs = Array.isArray(o.input) ? (o.input as string[]) : [];
  if (positional.length === 0 && inputArgs.length === 0) throw new UsageError('no input: give INPUT... and/or --input PATH[:LABEL | :RULES.csv]');
  const args: InputArg[] = [...positional.map((p) => ({ arg: p, path: p, spec: null })), ...inputArgs.map(parseInputArg)];
  const expanded = args.map((a) => {
    const directory = a.path !== '-' && isDirectory(a.path);
    return { ...a, directory, files: directory ? captureFilesIn(a.path) : [a.path] };
  });
  const nFiles = expanded.reduce((n, a) => n + a.files.length, 0);
  if (nFiles > MAX_INPUT_FILES) throw new UsageError(`${groupDigits(nFiles)} input files; at most ${groupDigits(MAX_INPUT_FILES)} (merge captures with mergecap)`);
  const seen = new Map<string, string>();
  for (const a of expanded) {
    for (const f of a.files) {
      const key = f === '-' ? '-' : realPath(f);
      const before = seen.get(key);
      if (before !== undefined) throw new UsageError(`${f} is given twice (${before === a.arg ? `in ${a.arg}` : `in ${before} and in ${a.arg}`}): its flows would count twice`);
      seen.set(key, a.arg);
    }
  }
  const isTable = expanded.map((a) => !a.directory && isFlowTable(a.path));
  const tables = isTable.filter(Boolean).length;
  if (tables > 0 && tables < expanded.length) throw new UsageError('give either captures or flow tables (CSV), not both');
  const several = expanded.length > 1 || inputArgs.length > 0;
  let loaded: LoadedInputs;
  if (tables > 0) {
    if (o.label !== undefined || o.labels !== undefined) throw new UsageError('flow tables carry their labels in their Label column: --label/--labels apply to captures');
    const withSpec = expanded.find((a) => a.spec !== null);
    if (withSpec) throw new UsageError(`--input '${withSpec.arg}': flow tables carry their labels in their Label column; a label after ':' applies to captures`);
    let utcOffsetMinutes = 0;
    if (o.utcOffset !== undefined) {
      utcOffsetMinutes = Number(o.utcOffset);
      if (!Number.isInteger(utcOffsetMinutes) || Math.abs(utcOffsetMinutes) > 24 * 60) throw new UsageError(`--utc-offset must be whole minutes, got '${String(o.utcOffset)}'`);
    }
    const paths = expanded.map((a) => a.path);
    const threads = paths.length > 1 ? extractThreads(o, paths) : 0;
    const tableOpts = { features, requireLabels: labelsRequired, utcOffsetMinutes };
    const records = threads > 0 ? await readFlowTablesParallel(paths, { ...tableOpts, threads }) : await readFlowTables(paths, tableOpts);
    for (const w of records.warnings) process.stderr.write(`flowsift: warning: ${w}\n`);
    for (const t of records.tables) info(o, tableSummaryLine(t));
    loaded = {
      records,
      labels: several ? expanded.map((a) => `${a.arg}: Label column`).join('; ') : `Label column of ${paths.length} flow table(s)`,
      sources: expanded.map((a) => ({ arg: a.arg, files: [a.path], directory: false, labels: 'Label column' })),
      sourceOfFile: Int32Array.from(expanded, (_, i) => i),
    };
  } else {
    const global = labellerFrom(o, false);
    const unlabelled = expanded.filter((a) => a.spec === null);
    if (global && unlabelled.length === 0) throw new UsageError('--label/--labels label no input: every --input has its own labels after \':\'');
    if (!global && labelsRequired && unlabelled.length > 0) {
      if (inputArgs.length === 0) labellerFrom(o, true); // the usual message: labels are required: --label NAME or --labels FILE
      throw new UsageError(`labels are required for ${unlabelled.map((a) => a.arg).join(', ')}: write --input PATH:LABEL or PATH:RULES.csv, or give --label/--labels`);
    }
    const rules = new Map<string, Labeller>();
    const labellers = expanded.map((a): Labeller | null => {
      if (a.spec === null) return global;
      if (a.spec.kind === 'label') return new ConstantLabeller(a.spec.label);
      const l = rules.get(a.spec.file) ?? RuleLabeller.fromFile(a.spec.file);
      rules.set(a.spec.file, l);
      return l;
    });
    const records = new FlowRecords(createFeatureSet().features.map((f) => f.name));
    const files: string[] = [];
    const fileLabeller: (Labeller | null)[] = [];
    const sourceOfFile: number[] = [];
    const sources = expanded.map((a, i): LoadedSource => {
      for (const f of a.files) {
        records.addSource(f);
        files.push(f);
        fileLabeller.push(labellers[i] ?? null);
        sourceOfFile.push(i);
      }
      return { arg: a.arg, files: a.files, directory: a.directory, labels: labellers[i]?.description ?? 'unlabelled' };
    });
    await readCaptures(files, o, (flow, i) => {
      const l = fileLabeller[i];
      records.add(flow, l ? l.labelOf(flow) : '', i);
    });
    loaded = {
      records,
      labels: several ? sources.map((s) => `${s.arg}: ${s.labels}`).join('; ') : sources[0]!.labels,
      sources,
      sourceOfFile: Int32Array.from(sourceOfFile),
    };
  }
  if (several) for (const line of sourceLines(loaded)) info(o, line);
  return loaded;
}

/** Most files one command reads (flow records number their files in 16 bits: `FlowRecords.source`). */
const MAX_INPUT_FILES = 65_535;

/** The canonical absolute path (symbolic links resolved), or the absolute path when it cannot be resolved. */
function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** True when `path` is a directory (false when it does not exist). */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * One line per input: `input ARG (N captures; LABELS): F flows — BENIGN 1,234, DoS 56` (flows per class in
 * label order).
 */
export function sourceLines(loaded: LoadedInputs): string[] {
  const rows = sourceOfRows(loaded.records, loaded);
  return loaded.sources.map((s, i) => {
    const labels: string[] = [];
    for (let r = 0; r < rows.length; r++) if (rows[r] === i) labels.push(loaded.records.labels[r]!);
    const what = s.directory ? `${groupDigits(s.files.length)} capture${s.files.length === 1 ? '' : 's'}; ` : '';
    const counts = labelCounts(labels).map(([l, n]) => `${l || '(unlabelled)'} ${groupDigits(n)}`).join(', ');
    return `input ${s.arg} (${what}${s.labels}): ${groupDigits(labels.length)} flows${counts ? ` — ${counts}` : ''}`;
  });
}

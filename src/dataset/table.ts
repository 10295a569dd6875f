/**
 * Flow tables: CSV files with one row per flow and its features, read into {@link FlowRecords} so `train`,
 * `evaluate` and `score` can start from a table instead of a capture.
 *
 * Understood formats (column names: dataset/cic-columns.ts):
 * - flowsift's own `extract` CSV (identifiers, registry features by name, text columns, optional `Label`), either
 *   profile;
 * - CICFlowMeter 4 CSVs (FlowFeature.java of ahlashkari/CICFlowMeter; the same names as flowsift's);
 * - CIC-IDS2017's published CSVs (CICFlowMeter-V3 names: `MachineLearningCVE` with `Destination Port` as the only
 *   identifier, `GeneratedLabelledFlows` with all of them), CSE-CIC-IDS2018's abbreviated names and the Python
 *   cicflowmeter's snake_case names. Quirks handled: a UTF-8 byte-order mark, leading/trailing spaces in names, a
 *   leading unnamed pandas index column, the duplicated `Fwd Header Length(.1)`, `CWE Flag Count` (sic) for the CWR
 *   count, `Infinity`/`NaN`/empty cells, and labels like `Web Attack � Brute Force` (an en dash in Windows-1252 read
 *   as UTF-8).
 *
 * CSV syntax (quoting, line breaks, empty lines, line numbers): dataset/csv-records.ts (papaparse).
 *
 * Policies:
 * - Identifier columns (Flow ID, Src/Dst IP, Src/Dst Port, Protocol, Timestamp) are identifiers, never features.
 * - A feature cell that is `Infinity`, `-Infinity`, `inf`, `NaN`, `nan` (any case) or empty is read as 0 — what
 *   flowsift's own definitions give where CICFlowMeter divides by a zero duration (Flow Bytes/s, Flow Packets/s;
 *   docs/features.md) — and counted: one warning gives the count per feature. Any other non-numeric cell is an error
 *   naming the line and the column.
 * - Unknown columns are skipped and named once in a warning (never per row).
 * - Two columns that map to the same feature: the first is read; the other is named once in a warning (except
 *   CICFlowMeter-V3's known copy of Fwd Header Length, named `Fwd Header Length.1` by pandas or repeated as is).
 * - Labels are trimmed; unless `rawLabels`, a Windows-1252 en dash that reached the file as U+FFFD, U+0096, "â€“" or
 *   U+2013 becomes `-` (`Web Attack � Brute Force` → `Web Attack - Brute Force`) and `benign` in any case becomes
 *   `BENIGN` (CSE-CIC-IDS2018 writes `Benign`); each rewrite is named once in a warning with its count.
 * - Timestamps: ISO 8601 (flowsift: `2026-11-22T03:05:53.123456Z`; `2017-07-03 12:08:09` without a zone), CIC's
 *   day-first `dd/MM/yyyy HH:mm[:ss]` with an optional AM/PM (CIC-IDS2017: `03/07/2017 09:08:11`; CICFlowMeter 4:
 *   `03/07/2017 09:08:11 AM`), or epoch seconds/milliseconds/microseconds as a number. Times without a zone are
 *   local time of the machine that wrote the table: `utcOffsetMinutes` says which (CIC-IDS2017 was recorded in New
 *   Brunswick, Atlantic Daylight Time, −180; the default 0 reads them as UTC). Some CIC-IDS2017 files give a
 *   12-hour clock without AM/PM (`6/7/2017 1:15` for 13:15): such afternoon times read 12 h early, since nothing
 *   in the text tells them apart. Start times are informational (not features). A value not understood leaves
 *   the start time NaN (counted in a warning).
 */
import { closeSync, openSync, readSync, statSync, createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { sniffCaptureFormat } from '../capture/pcap.js';
import { createFeatureSet } from '../features/registry.js';
import { CsvRecordParser, CsvSyntaxError } from './csv-records.js';
import type { CsvBatch } from './csv-records.js';
import { columnKey, columnResolver, COLUMN_SOURCE_NAMES } from './cic-columns.js';
import type { ColumnRole, ColumnSource, IdentifierKey } from './cic-columns.js';
import { FlowRecords } from './collect.js';
import { excerpt, TableError } from './errors.js';
import { BENIGN } from './labels.js';
import { groupDigits } from './format.js';

/** Options of {@link readFlowTable}. */
export interface ReadFlowTableOptions {
  /**
   * Feature columns to read, in this order: registry names (docs/features.md), matched through the alias table, or
   * any column's exact name. A table without one of them is an error listing them all (a model's inputs). Default:
   * every registry feature the (first) table has, in registry order.
   */
  features?: readonly string[];
  /** A table without a Label column, or a row with an empty label, is an error (train, evaluate). Default false. */
  requireLabels?: boolean;
  /** Offset of the table's zone-less timestamps from UTC, minutes (CIC-IDS2017: −180). Default 0. */
  utcOffsetMinutes?: number;
  /** Keep labels as written (only trimmed). Default false: see the label policy above. */
  rawLabels?: boolean;
}

/** What one table gave. */
export interface TableSummary {
  /** Path as given. */
  path: string;
  /** Rows read (flows). */
  rows: number;
  /** Whose column names the table uses (the alias source most of its feature columns came from). */
  format: string;
  /** Feature columns read: column name as written (trimmed) → registry feature. */
  featureColumns: [column: string, feature: string][];
  /** Columns skipped as unknown (named once in {@link FlowTableRecords.warnings}). */
  unknownColumns: string[];
  /** Feature cells that were Infinity, NaN or empty and were read as 0, per feature (features without any omitted). */
  nonFinite: Record<string, number>;
  /** Total of {@link nonFinite}. */
  nonFiniteCells: number;
  /** The table has a Label column. */
  hasLabels: boolean;
  /** Wall time of the read, seconds. */
  seconds: number;
}

/** Flow records read from flow tables, with what the reader noticed. */
export class FlowTableRecords extends FlowRecords {
  /** One-line warnings (each names its file), each reported once per table, never per row. */
  readonly warnings: string[] = [];
  /** One summary per table read, in order. */
  readonly tables: TableSummary[] = [];
}

/** Gzip's magic bytes. */
const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * True when `path` names a flow table rather than a capture: a name ending in `.csv` or `.csv.gz` (any case), or a
 * file whose first bytes are not a pcap/pcapng/gzip magic and whose first line is text with a comma. False for `-`
 * (standard input carries captures) and for files that cannot be read (the capture reader then reports them).
 */
export function isFlowTable(path: string): boolean {
  if (path === '-') return false;
  if (/\.csv(\.gz)?$/i.test(path)) return true;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(4096);
    const n = readSync(fd, head, 0, head.length, 0);
    const b = head.subarray(0, n);
    if (n < 4 || sniffCaptureFormat(b) !== null || (b[0] === GZIP_MAGIC[0] && b[1] === GZIP_MAGIC[1])) return false;
    let text = b.toString('utf8').replace(/^\uFEFF/, '');
    const nl = text.indexOf('\n');
    if (nl >= 0) text = text.slice(0, nl);
    // A header line: printable text (no control characters but tab and CR) with at least one comma.
    return text.includes(',') && !/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]/.test(text.replace(/\r$/, ''));
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** `Infinity`, `-Infinity`, `inf`, `NaN`, … (any case): read as 0 and counted. */
const NON_FINITE = /^\s*[+-]?(?:inf|infinity|nan)\s*$/i;

/** A Windows-1252 en dash (0x96) as it reaches CIC-IDS2017 readers: U+FFFD, U+0096, mojibake "â€“", or U+2013. */
const MANGLED_DASH = /\uFFFD|\u0096|\u00e2\u20ac\u201c|\u2013/g;

/**
 * The label flowsift uses for a label as written: trimmed; the mangled en dash of CIC-IDS2017's web attack labels
 * becomes `-`; `benign` in any case becomes {@link BENIGN}.
 */
export function normalizeLabel(raw: string): string {
  const t = raw.trim();
  if (t.toLowerCase() === 'benign') return BENIGN;
  return t.replace(MANGLED_DASH, '-');
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const CIC_TIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:\s*([AP])\.?M\.?)?$/i;
const EPOCH_TIME = /^\d+(?:\.\d+)?$/;

/**
 * Parses a flow table's timestamp (formats: see the module comment) into µs since the epoch.
 * @param utcOffsetMinutes offset from UTC of times written without a zone (local = UTC + offset)
 * @returns µs since the epoch (whole µs, rounded down), or NaN when the text is not understood
 */
export function parseTableTimestamp(text: string, utcOffsetMinutes = 0): number {
  const t = text.trim();
  let m = ISO_TIME.exec(t);
  if (m) {
    let offset = utcOffsetMinutes;
    if (m[8]) {
      if (m[8].toUpperCase() === 'Z') offset = 0;
      else {
        const z = m[8].replace(':', '');
        offset = (z[0] === '-' ? -1 : 1) * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5)));
      }
    }
    return civilToUs(+m[1], +m[2], +m[3], +m[4], +m[5], m[6] ? +m[6] : 0, m[7], offset);
  }
  m = CIC_TIME.exec(t);
  if (m) {
    let hour = +m[4];
    if (m[8]) {
      if (hour < 1 || hour > 12) return NaN;
      const pm = m[8].toUpperCase() === 'P';
      hour = (hour % 12) + (pm ? 12 : 0);
    }
    return civilToUs(+m[3], +m[2], +m[1], hour, +m[5], m[6] ? +m[6] : 0, m[7], utcOffsetMinutes);
  }
  if (EPOCH_TIME.test(t)) {
    const v = Number(t);
    // Seconds until 5138 CE; milliseconds and microseconds are recognised by magnitude.
    const us = v >= 1e14 ? v : v >= 1e11 ? v * 1e3 : v * 1e6;
    return Math.floor(us);
  }
  return NaN;
}

/**
 * {@link parseTableTimestamp} for the rows of one table, with the same results: flowsift's own form
 * (`2026-11-22T03:05:53.123456Z`, 27 characters) is read as its whole second, parsed once per distinct second, plus
 * the six digits of µs. Consecutive flows of a table mostly start within the same second, and the full parse (regular
 * expression, Date.UTC) was ~8 % of reading the benchmark capture's table.
 * @param utcOffsetMinutes as {@link parseTableTimestamp}'s
 */
function timestampReader(utcOffsetMinutes: number): (text: string) => number {
  let second = '', secondUs = NaN;
  return (text) => {
    if (text.length === 27 && text.charCodeAt(19) === 46 /* . */ && text.charCodeAt(26) === 90 /* Z */) {
      let us = 0;
      for (let i = 20; i < 26; i++) {
        const c = text.charCodeAt(i) - 48;
        if (c < 0 || c > 9) return parseTableTimestamp(text, utcOffsetMinutes);
        us = us * 10 + c;
      }
      const head = text.slice(0, 20);
      if (head !== second) {
        second = head;
        secondUs = parseTableTimestamp(`${head}000000Z`, utcOffsetMinutes);
      }
      return secondUs + us;
    }
    return parseTableTimestamp(text, utcOffsetMinutes);
  };
}

/** µs since the epoch of a civil date and time at `offsetMinutes` from UTC; NaN for an impossible date. */
function civilToUs(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string | undefined, offsetMinutes: number): number {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return NaN;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(ms).getUTCDate() !== d) return NaN; // 31/06 and the like
  const us = frac ? Math.floor(Number(frac.padEnd(6, '0').slice(0, 6))) : 0;
  return ms * 1000 + us - offsetMinutes * 60e6;
}

/** IANA protocol numbers of the names some tools write in the Protocol column. */
const PROTOCOL_NAMES: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, ipv6icmp: 58, icmpv6: 58, sctp: 132 };

/** The table's columns, resolved. */
interface Layout {
  /** Column index of each record feature. */
  featureCol: Int32Array;
  /** Column index of each identifier, -1 when absent. */
  id: Record<IdentifierKey, number>;
  /** Column of nfstream's `bidirectional_first_seen_ms` (start time when there is no Timestamp), -1 when absent. */
  firstSeenMsCol: number;
  labelCol: number;
  summary: TableSummary;
}

/** An open CSV record stream of one file, in batches. */
interface RecordStream {
  /** The next records (at least one), or null at the end. @throws TableError for invalid CSV or gzip, a read error */
  next(): Promise<CsvBatch | null>;
  close(): void;
}

/** Opens `path` (plain or gzip CSV) as a record stream. @throws TableError when the file cannot be opened */
function openRecords(path: string): RecordStream {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new TableError(path, 'is a directory, not a flow table');
    size = st.size;
  } catch (e) {
    if (e instanceof TableError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TableError(path, code === 'ENOENT' ? 'flow table not found' : `cannot read flow table (${code ?? (e as Error).message})`);
  }
  if (size === 0) throw new TableError(path, 'empty flow table: no header, no rows');
  const head = Buffer.alloc(2);
  try {
    const fd = openSync(path, 'r');
    try { readSync(fd, head, 0, 2, 0); } finally { closeSync(fd); }
  } catch (e) {
    throw new TableError(path, `cannot read flow table (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const gz = head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  const done = (): void => { /* errors surface through the iterator */ };
  const bytes: Readable = gz ? pipeline(src, createGunzip(), done) : src;
  const it = bytes[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const text = new TextDecoder('utf-8'); // drops a byte-order mark
  const csv = new CsvRecordParser();
  let ended = false;
  return {
    async next() {
      while (!ended) {
        let r: IteratorResult<Buffer>;
        try {
          r = await it.next();
        } catch (e) {
          const err = e as Error & { code?: string };
          if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_BUF_ERROR') throw new TableError(path, `corrupt gzip data (${err.message})`);
          if (err.code) throw new TableError(path, `cannot read flow table (${err.code})`);
          throw e;
        }
        let batch: CsvBatch;
        try {
          if (r.done) {
            ended = true;
            batch = csv.end(text.decode());
          } else {
            batch = csv.push(text.decode(r.value, { stream: true }));
          }
        } catch (e) {
          if (e instanceof CsvSyntaxError) throw new TableError(path, `not valid CSV: ${e.message}`, e.line);
          throw e;
        }
        if (batch.rows.length) return batch;
      }
      return null;
    },
    close() {
      bytes.destroy();
      src.destroy();
    },
  };
}

/**
 * Rows a table of `path` probably holds (to size the records once): file size / mean line length of its start, plus
 * 10%; 1,024 for a gzip file, a file of fewer than two lines or one that cannot be read.
 */
export function estimateRows(path: string): number {
  try {
    const size = statSync(path).size;
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(Math.min(size, 1 << 18));
      const n = readSync(fd, buf, 0, buf.length, 0);
      if (buf[0] === GZIP_MAGIC[0] && buf[1] === GZIP_MAGIC[1]) return 1024;
      let lines = 0, first = -1, last = -1;
      for (let i = 0; i < n; i++) if (buf[i] === 10) { lines++; if (first < 0) first = i; last = i; }
      if (lines < 2) return 1024;
      const mean = (last - first) / (lines - 1);
      return Math.max(1024, Math.ceil((size / mean) * 1.1));
    } finally {
      closeSync(fd);
    }
  } catch {
    return 1024;
  }
}

/**
 * Resolves a table's header against the registry and the alias table.
 * @param wanted record feature names when already fixed (requested, or the first table's), else null
 */
function resolveHeader(
  path: string, header: string[], line: number, wanted: readonly string[] | null, resolve: (n: string) => ColumnRole,
  registryOrder: readonly string[], opts: ReadFlowTableOptions, warnings: string[],
): { layout: Layout; names: string[] } {
  const roles = header.map((h) => resolve(h));
  const shown = header.map((h) => h.replace(/^\uFEFF/, '').trim());
  const id = { flowId: -1, srcIp: -1, srcPort: -1, dstIp: -1, dstPort: -1, protocol: -1, timestamp: -1 } as Record<IdentifierKey, number>;
  const byFeature = new Map<string, number>();
  const unknown: string[] = [];
  const duplicates: string[] = [];
  const sources = new Map<ColumnSource, number>();
  let labelCol = -1;
  roles.forEach((r, i) => {
    if (r.kind === 'feature') {
      if (byFeature.has(r.feature)) {
        // CICFlowMeter-V3 writes Fwd Header Length twice (without pandas' `.1`): a known copy, not worth a warning.
        const first = shown[byFeature.get(r.feature)!];
        if (!(r.feature === 'Fwd Header Length' && columnKey(first) === columnKey(shown[i]))) duplicates.push(`'${excerpt(shown[i])}' (same feature as '${excerpt(first)}')`);
      } else {
        byFeature.set(r.feature, i);
        if (r.source !== 'cicflowmeter4') sources.set(r.source, (sources.get(r.source) ?? 0) + 1);
      }
    } else if (r.kind === 'identifier') {
      if (id[r.key] < 0) id[r.key] = i;
      else duplicates.push(`'${excerpt(shown[i])}' (a second ${r.key} column)`);
    } else if (r.kind === 'label') {
      if (labelCol < 0) labelCol = i;
      else duplicates.push(`'${excerpt(shown[i])}' (a second Label column)`);
    } else if (r.kind === 'unknown') unknown.push(shown[i]);
  });

  const known = roles.some((r) => r.kind !== 'unknown' && !(r.kind === 'ignored' && r.source === 'pandas'));
  if (!known) {
    const numeric = header.filter((h) => h.trim() !== '' && Number.isFinite(Number(h))).length;
    if (numeric * 2 >= header.length) throw new TableError(path, 'no header: the first line holds values, not column names (flowsift and CICFlowMeter tables start with a header)', line);
    throw new TableError(path, `no flow feature column: the header names ${shown.slice(0, 6).map((s) => `'${excerpt(s)}'`).join(', ')}${shown.length > 6 ? ', …' : ''}; expected flowsift's or CICFlowMeter's column names (docs/features.md)`, line);
  }

  let names: string[];
  if (wanted) {
    names = [...wanted];
    // A wanted name that is no alias may still be a column's exact name.
    const exact = new Map(shown.map((s, i) => [columnKey(s), i] as const));
    for (const n of names) {
      if (!byFeature.has(n)) {
        const i = exact.get(columnKey(n));
        if (i !== undefined && roles[i].kind !== 'identifier' && roles[i].kind !== 'label') byFeature.set(n, i);
      }
    }
    const missing = names.filter((n) => !byFeature.has(n));
    if (missing.length) {
      throw new TableError(path, `lacks ${missing.length} of the ${names.length} feature column(s) needed: ${missing.join(', ')}`, line);
    }
  } else {
    names = registryOrder.filter((n) => byFeature.has(n));
    if (names.length === 0) throw new TableError(path, 'no feature column: the header names identifiers and labels only', line);
  }
  if (opts.requireLabels && labelCol < 0) throw new TableError(path, 'no Label column: labels are required (train, evaluate)', line);

  const featureCol = Int32Array.from(names, (n) => byFeature.get(n)!);
  if (unknown.length) warnings.push(`${path}: ${unknown.length} unknown column(s) skipped: ${unknown.map((u) => `'${excerpt(u)}'`).join(', ')}`);
  if (duplicates.length) warnings.push(`${path}: duplicate column(s) skipped, the first one read: ${duplicates.join(', ')}`);
  let format = COLUMN_SOURCE_NAMES.cicflowmeter4;
  let best = 0;
  for (const [s, n] of sources) if (n > best) { best = n; format = COLUMN_SOURCE_NAMES[s]; }
  const firstSeenMs = roles.findIndex((r) => r.kind === 'feature' && r.feature === 'bidirectional_first_seen_ms');
  return {
    names,
    layout: {
      featureCol, id, labelCol,
      firstSeenMsCol: id.timestamp < 0 ? firstSeenMs : -1,
      summary: {
        path, rows: 0, format,
        featureColumns: names.map((n, j) => [shown[featureCol[j]], n]),
        unknownColumns: unknown,
        nonFinite: {}, nonFiniteCells: 0,
        hasLabels: labelCol >= 0,
        seconds: 0,
      },
    },
  };
}

/**
 * Reads one flow table (plain or gzip-compressed CSV; formats and policies: see the module comment).
 * @throws TableError for a missing, unreadable or empty file, a file without a header or without feature columns,
 *   no Label column when `requireLabels`, a row with a wrong number of fields, a non-numeric feature cell (line and
 *   column named), invalid CSV, or a table lacking requested feature columns (all of them listed)
 */
export async function readFlowTable(path: string, opts: ReadFlowTableOptions = {}): Promise<FlowTableRecords> {
  return readFlowTables([path], opts);
}

/**
 * The feature names {@link readFlowTables} reads from a list of tables that starts with `path`: `opts.features`, or
 * those of this table's header. Reads only the header.
 * @throws TableError as {@link readFlowTables} for this table's header (missing or empty file, no header, no feature
 *   column, requested columns missing, no Label column when `requireLabels`, invalid CSV at the start)
 */
export async function tableFeatureNames(path: string, opts: ReadFlowTableOptions = {}): Promise<string[]> {
  const { registryOrder, resolve } = tableColumns();
  const stream = openRecords(path);
  try {
    const first = await headerBatch(path, stream);
    return resolveHeader(path, first.rows[0]!, first.lines[0]!, opts.features ?? null, resolve, registryOrder, opts, []).names;
  } finally {
    stream.close();
  }
}

/** The registry's feature names in order, and the resolver every table header is matched with. */
function tableColumns(): { registryOrder: string[]; resolve: (name: string) => ColumnRole } {
  const set = createFeatureSet();
  const registryOrder = set.features.map((f) => f.name);
  return { registryOrder, resolve: columnResolver(registryOrder, set.textColumns.map((c) => c.name)) };
}

/** The first records of an opened table, its header first. @throws TableError for a table without any record */
async function headerBatch(path: string, stream: RecordStream): Promise<CsvBatch> {
  const first = await stream.next();
  if (!first) throw new TableError(path, 'empty flow table: no header, no rows');
  return first;
}

/**
 * Reads several flow tables into one record set (one source per table). The feature columns are `opts.features`,
 * or those of the first table; every later table must have them. (dataset/parallel-tables.ts reads them on worker
 * threads into the same records.)
 * @throws TableError as {@link readFlowTable}
 */
export async function readFlowTables(paths: readonly string[], opts: ReadFlowTableOptions = {}): Promise<FlowTableRecords> {
  const { registryOrder, resolve } = tableColumns();
  let records: FlowTableRecords | null = null;
  for (const path of paths) {
    const t0 = performance.now();
    const stream = openRecords(path);
    try {
      const first = await headerBatch(path, stream);
      const header = first.rows[0]!;
      const warnings: string[] = [];
      const { layout, names } = resolveHeader(path, header, first.lines[0]!, records?.names ?? opts.features ?? null, resolve, registryOrder, opts, warnings);
      if (!records) records = new FlowTableRecords(names, paths.reduce((n, p) => n + estimateRows(p), 0));
      records.warnings.push(...warnings);
      await readRows(path, stream, first, header.length, layout, records, records.addSource(path), opts);
      layout.summary.seconds = (performance.now() - t0) / 1000;
      records.tables.push(layout.summary);
    } finally {
      stream.close();
    }
  }
  return records ?? new FlowTableRecords(opts.features ?? registryOrder, 1);
}

/** Reads the rows of an opened table into `records`: those of `first` after its header, then the stream's. */
async function readRows(
  path: string, stream: RecordStream, first: CsvBatch, nFields: number, layout: Layout, records: FlowTableRecords,
  source: number, opts: ReadFlowTableOptions,
): Promise<void> {
  const { featureCol, id, labelCol, firstSeenMsCol, summary } = layout;
  const k = featureCol.length;
  const nonFinite = new Float64Array(k);
  const features = new Float64Array(k);
  const row = { features, srcIp: '', dstIp: '', srcPort: 0, dstPort: 0, protocol: 0, firstSeenUs: NaN };
  const offset = opts.utcOffsetMinutes ?? 0;
  const intern = new Map<string, string>();
  const internText = (s: string): string => {
    const t = intern.get(s);
    if (t !== undefined) return t;
    if (intern.size >= 1 << 17) return s;
    // A copy: the parser's fields are slices of a whole chunk of text, which a kept slice would keep in memory.
    const own = Buffer.from(s, 'utf8').toString('utf8');
    intern.set(own, own);
    return own;
  };
  const labelMap = new Map<string, string>();
  /** Labels rewritten by normalizeLabel: the label as written (trimmed) → what it became, and in how many rows. */
  const labelRewrites = new Map<string, { to: string; rows: number }>();
  const badIds = new Map<string, number>();
  let badTime = 0, badTimeFirst = '', badTimeLine = 0;
  let lastTimeText = '', lastTimeUs = NaN;
  const readTime = timestampReader(offset);
  let rows = 0;

  const idInt = (i: number, max: number, what: string, rec: string[]): number => {
    if (i < 0) return 0;
    const s = rec[i];
    let v = Number(s);
    if (!(Number.isInteger(v) && v >= 0 && v <= max)) {
      const p = what === 'Protocol' ? PROTOCOL_NAMES[s.trim().toLowerCase().replace(/[^a-z0-9]/g, '')] : undefined;
      if (p !== undefined) return p;
      v = 0;
      if (s.trim() !== '') badIds.set(what, (badIds.get(what) ?? 0) + 1);
    }
    return v;
  };

  for (let batch: CsvBatch | null = first, i = 1; batch; batch = await stream.next(), i = 0) {
    for (; i < batch.rows.length; i++) readRow(batch.rows[i]!, batch.lines[i]!);
  }

  function readRow(rec: string[], line: number): void {
    if (rec.length !== nFields) {
      throw new TableError(path, `expected ${nFields} fields as in the header, found ${rec.length}`, line);
    }
    for (let j = 0; j < k; j++) {
      const s = rec[featureCol[j]];
      const v = s === '' ? NaN : +s;
      if (v === v && v !== Infinity && v !== -Infinity) {
        features[j] = v;
        if (v === 0 && s.trim() === '') nonFinite[j]++; // blanks read as 0 by +s
      } else if (s === '' || NON_FINITE.test(s)) {
        features[j] = 0;
        nonFinite[j]++;
      } else {
        const col = summary.featureColumns[j][0];
        throw new TableError(path, `column '${col}'${col !== records.names[j] ? ` (${records.names[j]})` : ''}, field ${featureCol[j] + 1}: not a number: '${excerpt(s)}'`, line, col);
      }
    }
    row.srcIp = id.srcIp >= 0 ? internText(rec[id.srcIp].trim()) : '';
    row.dstIp = id.dstIp >= 0 ? internText(rec[id.dstIp].trim()) : '';
    row.srcPort = idInt(id.srcPort, 65535, 'Src Port', rec);
    row.dstPort = idInt(id.dstPort, 65535, 'Dst Port', rec);
    row.protocol = idInt(id.protocol, 255, 'Protocol', rec);
    if (id.timestamp >= 0) {
      const s = rec[id.timestamp];
      if (s !== lastTimeText) {
        lastTimeText = s;
        lastTimeUs = readTime(s);
      }
      row.firstSeenUs = lastTimeUs;
      if (lastTimeUs !== lastTimeUs && s.trim() !== '') {
        if (badTime++ === 0) { badTimeFirst = s; badTimeLine = line; }
      }
    } else if (firstSeenMsCol >= 0) {
      const v = Number(rec[firstSeenMsCol]);
      row.firstSeenUs = Number.isFinite(v) && rec[firstSeenMsCol] !== '' ? v * 1000 : NaN;
    }
    let label = '';
    if (labelCol >= 0) {
      const raw = rec[labelCol];
      let l = labelMap.get(raw);
      if (l === undefined) {
        l = opts.rawLabels ? raw.trim() : normalizeLabel(raw);
        labelMap.set(raw, l);
      }
      const trimmed = raw.trim();
      if (l !== trimmed) {
        const r = labelRewrites.get(trimmed);
        if (r) r.rows++;
        else labelRewrites.set(trimmed, { to: l, rows: 1 });
      }
      if (l === '' && opts.requireLabels) throw new TableError(path, 'empty label: labels are required (train, evaluate)', line, 'Label');
      label = l;
    }
    records.add(row, label, source);
    rows++;
  }

  summary.rows = rows;
  const w = records.warnings;
  let total = 0;
  const parts: string[] = [];
  for (let j = 0; j < k; j++) {
    if (nonFinite[j] === 0) continue;
    total += nonFinite[j];
    summary.nonFinite[records.names[j]] = nonFinite[j];
    parts.push(`${records.names[j]} ${groupDigits(nonFinite[j])}`);
  }
  summary.nonFiniteCells = total;
  if (rows === 0) w.push(`${path}: no rows after the header`);
  if (total) w.push(`${path}: ${groupDigits(total)} Infinity/NaN/empty feature cell(s) read as 0: ${parts.join(', ')}`);
  if (labelRewrites.size) {
    w.push(`${path}: label(s) normalized: ${[...labelRewrites].map(([from, r]) => `'${excerpt(from)}' → '${excerpt(r.to)}' (${groupDigits(r.rows)} rows)`).join(', ')}`);
  }
  if (badTime) {
    w.push(`${path}: ${groupDigits(badTime)} Timestamp value(s) not understood (first '${excerpt(badTimeFirst)}' on line ${badTimeLine}); their start time is unknown`);
  }
  if (badIds.size) {
    w.push(`${path}: identifier value(s) not understood, read as 0: ${[...badIds].map(([c, n]) => `${c} ${groupDigits(n)}`).join(', ')}`);
  }
}

/** One line describing what a table gave (for the CLI's summary on stderr). */
export function tableSummaryLine(s: TableSummary): string {
  const rate = groupDigits(Math.round(s.rows / Math.max(s.seconds, 1e-9)));
  return `${s.path}: ${groupDigits(s.rows)} flows, ${s.featureColumns.length} feature columns (${s.format} names)`
    + `${s.hasLabels ? ', labelled' : ''}, ${s.seconds.toFixed(2)} s (${rate} rows/s)`;
}

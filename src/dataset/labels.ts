/**
 * Flow labels: a whole-input label, or time-window rules by IP address as in CIC-IDS2017's attack schedule
 * and ../shared/datasets/lab/*\/labels.csv.
 *
 * Rules file: CSV with header `label,ip,start,end` (any column order, no other columns); `start`/`end` are
 * epoch seconds with up to 9 decimals (ns). A flow whose initiator OR responder address equals `ip` and
 * whose first packet time t satisfies start ≤ t ≤ end gets `label`; every other flow gets `BENIGN`.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { formatAddress, parseAddress } from '../flow/key.js';
import { DatasetError, excerpt } from './errors.js';

/** The label of flows no rule matches. */
export const BENIGN = 'BENIGN';

/** One time-window rule. Times are exact: whole seconds and nanoseconds. */
export interface LabelRule {
  label: string;
  /** Canonical address text (as flowsift prints it). */
  ip: string;
  startSec: number;
  startNsec: number;
  endSec: number;
  endNsec: number;
  /** 1-based line of the rule in its file. */
  line: number;
}

/** What a labeller needs of a flow. */
export interface LabelledFlowKey {
  readonly srcIp: string;
  readonly dstIp: string;
  readonly firstSec: number;
  readonly firstNsec: number;
}

/** Assigns a label to each flow. */
export interface Labeller {
  /** Label for the flow. */
  labelOf(flow: LabelledFlowKey): string;
  /** Human description (for summaries). */
  readonly description: string;
}

/** Every flow gets the same label (`--label NAME`). */
export class ConstantLabeller implements Labeller {
  constructor(readonly label: string) {
    if (!label.trim()) throw new DatasetError('--label', 'label must not be empty');
  }
  labelOf(): string { return this.label; }
  get description(): string { return `every flow labelled ${this.label}`; }
}

/**
 * Parses a decimal epoch-seconds string ("1795315467.595214794") into exact (sec, nsec).
 * @returns null when the text is not a non-negative decimal with at most 9 fractional digits.
 */
export function parseEpoch(text: string): { sec: number; nsec: number } | null {
  const m = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!m) return null;
  return { sec: Number(m[1]), nsec: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

function cmpTime(aSec: number, aNsec: number, bSec: number, bNsec: number): number {
  return aSec !== bSec ? aSec - bSec : aNsec - bNsec;
}

/** Rules by IP and time window (`--labels FILE`). The first matching rule in file order wins. */
export class RuleLabeller implements Labeller {
  private readonly byIp = new Map<string, LabelRule[]>();

  constructor(readonly rules: readonly LabelRule[], readonly file: string) {
    for (const r of rules) {
      const list = this.byIp.get(r.ip) ?? [];
      list.push(r);
      this.byIp.set(r.ip, list);
    }
  }

  get description(): string {
    const labels = [...new Set(this.rules.map((r) => r.label))];
    return `${this.rules.length} rules from ${this.file} (${labels.join(', ')}), others ${BENIGN}`;
  }

  /** Distinct labels the rules can give, plus BENIGN. */
  get labels(): string[] {
    return [...new Set([BENIGN, ...this.rules.map((r) => r.label)])];
  }

  labelOf(flow: LabelledFlowKey): string {
    const a = this.match(flow.srcIp, flow), b = this.match(flow.dstIp, flow);
    if (a && b) return a.line <= b.line ? a.label : b.label;
    return (a ?? b)?.label ?? BENIGN;
  }

  private match(ip: string, f: LabelledFlowKey): LabelRule | undefined {
    const list = this.byIp.get(ip);
    if (!list) return undefined;
    for (const r of list) {
      if (cmpTime(f.firstSec, f.firstNsec, r.startSec, r.startNsec) >= 0
        && cmpTime(f.firstSec, f.firstNsec, r.endSec, r.endNsec) <= 0) return r;
    }
    return undefined;
  }

  /**
   * Reads a rules file.
   * @throws DatasetError (file and line) for a missing/unreadable file, a header that is not exactly
   *   label, ip, start, end, an empty label, a bad address, a bad time, start > end, or two rules for the
   *   same address whose windows overlap with different labels.
   */
  static fromFile(file: string): RuleLabeller {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new DatasetError(file, code === 'ENOENT' ? 'label file not found' : `cannot read label file (${code ?? (e as Error).message})`);
    }
    return RuleLabeller.fromText(text, file);
  }

  /** Parses rules from CSV text (see {@link fromFile}). */
  static fromText(text: string, file = '<labels>'): RuleLabeller {
    let records: { record: string[]; info: { lines: number } }[];
    try {
      records = parse(text.replace(/^\uFEFF/, ''), {
        bom: true, skip_empty_lines: true, trim: true, info: true, relax_column_count: true,
        comment: '#', comment_no_infix: true,
      }) as unknown as { record: string[]; info: { lines: number } }[];
    } catch (e) {
      const err = e as Error & { lines?: number };
      throw new DatasetError(file, `not valid CSV: ${err.message.replace(/^Invalid[^:]*: /, '')}`, err.lines);
    }
    if (records.length === 0) throw new DatasetError(file, 'empty label file: expected a header label,ip,start,end');
    const header = records[0].record.map((h) => h.toLowerCase());
    const want = ['label', 'ip', 'start', 'end'];
    const unknown = header.filter((h) => !want.includes(h));
    const missing = want.filter((w) => !header.includes(w));
    if (unknown.length || missing.length || header.length !== 4) {
      throw new DatasetError(file, `header must be label,ip,start,end${missing.length ? `; missing ${missing.join(', ')}` : ''}${unknown.length ? `; unknown column(s) ${unknown.slice(0, 6).map(excerpt).join(', ')}${unknown.length > 6 ? ', …' : ''}` : ''}`, records[0].info.lines);
    }
    const col = Object.fromEntries(want.map((w) => [w, header.indexOf(w)])) as Record<string, number>;
    const rules: LabelRule[] = [];
    const words = new Uint32Array(4);
    for (const { record, info } of records.slice(1)) {
      const line = info.lines;
      if (record.length !== 4) throw new DatasetError(file, `expected 4 fields, found ${record.length}`, line);
      const label = record[col.label];
      if (!label) throw new DatasetError(file, 'empty label', line);
      const v = parseAddress(record[col.ip], words);
      if (v === 0) throw new DatasetError(file, `not an IP address: '${excerpt(record[col.ip])}'`, line);
      const s = parseEpoch(record[col.start]), e = parseEpoch(record[col.end]);
      if (!s) throw new DatasetError(file, `start is not epoch seconds: '${excerpt(record[col.start])}'`, line);
      if (!e) throw new DatasetError(file, `end is not epoch seconds: '${excerpt(record[col.end])}'`, line);
      if (cmpTime(s.sec, s.nsec, e.sec, e.nsec) > 0) throw new DatasetError(file, 'start is after end', line);
      rules.push({ label, ip: formatAddress(words, 0, v), startSec: s.sec, startNsec: s.nsec, endSec: e.sec, endNsec: e.nsec, line });
    }
    checkConflicts(rules, file);
    return new RuleLabeller(rules, file);
  }
}

/**
 * Rejects rules that contradict or repeat each other: two rules for one address whose windows overlap with
 * different labels (a flow in both would get either), and a rule identical to an earlier one (label, address
 * and window; a copy-paste slip). Overlapping windows with the same label are allowed (their union applies).
 * Sorts each address's rules by start and compares a rule only with the earlier rules still open at its start,
 * so a long file costs O(n log n), not O(n²), unless its windows all overlap.
 * @throws DatasetError on the later line of the first conflicting pair, naming the earlier line
 */
function checkConflicts(rules: readonly LabelRule[], file: string): void {
  const byIp = new Map<string, LabelRule[]>();
  for (const r of rules) {
    const list = byIp.get(r.ip);
    if (list) list.push(r);
    else byIp.set(r.ip, [r]);
  }
  let worst: { a: LabelRule; b: LabelRule; duplicate: boolean } | null = null;
  for (const list of byIp.values()) {
    list.sort((x, y) => cmpTime(x.startSec, x.startNsec, y.startSec, y.startNsec) || x.line - y.line);
    let open: LabelRule[] = [];
    for (const r of list) {
      open = open.filter((o) => cmpTime(o.endSec, o.endNsec, r.startSec, r.startNsec) >= 0);
      for (const o of open) {
        const duplicate = o.label === r.label && o.startSec === r.startSec && o.startNsec === r.startNsec
          && o.endSec === r.endSec && o.endNsec === r.endNsec;
        if (o.label === r.label && !duplicate) continue;
        const [first, later] = o.line < r.line ? [o, r] : [r, o];
        // Report the conflict whose later line comes first in the file (what a top-down reader meets first).
        if (worst === null || later.line < worst.a.line) worst = { a: later, b: first, duplicate };
      }
      open.push(r);
    }
  }
  if (worst === null) return;
  const { a, b, duplicate } = worst;
  if (duplicate) throw new DatasetError(file, `duplicate rule: the same as line ${b.line} (${excerpt(a.label)}, ${a.ip}, same window)`, a.line);
  throw new DatasetError(file, `rule overlaps the rule on line ${b.line} for ${a.ip} with another label (${excerpt(b.label)} vs ${excerpt(a.label)})`, a.line);
}


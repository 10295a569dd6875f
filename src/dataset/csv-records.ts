/**
 * CSV records in batches, with the line each record starts on: the reader under flow tables (dataset/table.ts).
 *
 * Parsing is papaparse's (`Papa.Parser`, the core its own streamers drive, RFC 4180 quoting with `""` escapes);
 * this module does the chunking that papaparse's Node streamer would do, for three things that streamer does not
 * give: the 1-based line number of every record (for `file:line` errors), a bound on the text held for a record
 * that does not end (a quote never closed in a large file would otherwise gather the rest of the file in one
 * string), and batches of records instead of one callback per chunk or per row.
 *
 * Policies (those of csv-parse with `bom`, `skip_empty_lines` and `relax_column_count`, which this replaces):
 * - UTF-8 text; a byte-order mark is dropped (TextDecoder); invalid bytes become U+FFFD.
 * - The record delimiter is the first line break's: `\r\n`, `\n`, or `\r` alone.
 * - Empty lines are skipped (they still count as lines); records may have any number of fields.
 * - A quoted field may hold delimiters, line breaks and `""`; a quote never closed, or text after a closing quote
 *   (`"a"b`), is an error.
 *
 * Speed: papaparse splits with String.prototype.split when a chunk has no quote character (flowsift and
 * CICFlowMeter tables have none). Reading whole flow tables (readFlowTable: parse, numbers, identifiers), measured
 * against csv-parse 6, which this replaced: lab/train's 10 MB (25,958 rows × 89 columns) 0.25–0.30 s against
 * 1.35 s; the first 200,000 rows of the benchmark capture's table (100 MB) 2.1–2.4 s against 9.5–10.0 s.
 */
import Papa from 'papaparse';
import { groupDigits } from './format.js';

/** Records of one chunk of text. */
export interface CsvBatch {
  /** The records, fields as written (quotes removed); empty lines left out. */
  readonly rows: string[][];
  /** 1-based line on which each record starts (rows[i] starts on lines[i]). */
  readonly lines: Int32Array;
}

/** A CSV problem at a place in the text: the caller adds the file's name. */
export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  /** @param line 1-based line on which the offending record starts */
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

/** Longest record held while waiting for its end (UTF-16 code units, 64 Mi): longer means a quote never closed. */
export const MAX_RECORD_CHARS = 64 * 1024 * 1024;

const QUOTE = '"';

/**
 * Incremental CSV parser: feed text chunks with {@link push}, then {@link end}; each call returns the records
 * completed by it. Not for concurrent use.
 */
export class CsvRecordParser {
  /**
   * @param maxRecordChars longest record held while waiting for its end (tests lower it)
   */
  constructor(private readonly maxRecordChars = MAX_RECORD_CHARS) {}

  private newline = '';
  /** papaparse without a step callback: for text without a quote (every record one line). */
  private plain: Papa.Parser | null = null;
  /** papaparse with a step callback (each record's end offset): for text with quotes. */
  private quoted: Papa.Parser | null = null;
  private stepRows: string[][] = [];
  private stepEnds: number[] = [];
  private stepError: { code: string; message: string } | null = null;
  private stepErrorRow = -1;
  private carry = '';
  /** Line on which `carry` starts. */
  private line = 1;

  /**
   * Parses `chunk` after the text held from the previous calls and returns the records it completes.
   * @throws CsvSyntaxError for a malformed quoted field, or a record longer than the bound
   */
  push(chunk: string): CsvBatch {
    return this.parse(this.carry.length ? this.carry + chunk : chunk, false);
  }

  /**
   * Parses the text still held and `chunk`, the input's last text (the last record, when the input does not end
   * with a line break).
   * @throws CsvSyntaxError for a malformed quoted field or a quote never closed
   */
  end(chunk = ''): CsvBatch {
    return this.parse(this.carry + chunk, true);
  }

  private parse(text: string, final: boolean): CsvBatch {
    if (!this.newline) {
      const nl = firstLineBreak(text);
      if (nl === '' && !final) {
        this.holdAll(text);
        return EMPTY;
      }
      this.newline = nl || '\n';
    }
    const batch = text.indexOf(QUOTE) < 0 ? this.parsePlain(text, final) : this.parseQuoted(text, final);
    if (final) this.carry = '';
    else this.holdAll(text.slice(batch.cursor));
    this.line = batch.nextLine;
    return batch;
  }

  /** Text without a quote: records are lines; empty ones are left out. */
  private parsePlain(text: string, final: boolean): CsvBatch & { cursor: number; nextLine: number } {
    this.plain ??= new Papa.Parser({ delimiter: ',', newline: this.newline as '\n', quoteChar: QUOTE });
    const res = this.plain.parse(text, 0, !final) as { data: string[][]; meta: { cursor: number } };
    const data = res.data;
    const cursor = final ? text.length : res.meta.cursor;
    let empty = 0;
    for (let i = 0; i < data.length; i++) if (data[i]!.length === 1 && data[i]![0] === '') empty++;
    const rows = empty ? [] as string[][] : data;
    const lines = new Int32Array(data.length - empty);
    for (let i = 0, k = 0; i < data.length; i++) {
      if (empty && data[i]!.length === 1 && data[i]![0] === '') continue;
      lines[k++] = this.line + i;
      if (empty) rows.push(data[i]!);
    }
    return { rows, lines, cursor, nextLine: this.line + countBreaks(text, 0, cursor, this.newline) };
  }

  /**
   * Text with quotes: papaparse's step callback gives each record's end offset, hence its first line and whether
   * it was an empty line (`""` alone is a record of one empty field, not an empty line).
   */
  private parseQuoted(text: string, final: boolean): CsvBatch & { cursor: number; nextLine: number } {
    this.quoted ??= new Papa.Parser({
      delimiter: ',', newline: this.newline as '\n', quoteChar: QUOTE,
      step: (r: { data: string[][]; errors: { code: string; message: string }[]; meta: { cursor: number } }) => {
        if (r.errors.length && !this.stepError) {
          this.stepError = r.errors[0]!;
          this.stepErrorRow = this.stepRows.length;
        }
        this.stepRows.push(r.data[0]!); // the core parser's step result holds one record
        this.stepEnds.push(r.meta.cursor);
      },
    });
    this.stepRows = [];
    this.stepEnds = [];
    this.stepError = null;
    // Errors of a record cut by the chunk's end (a closing quote whose line break is in the next chunk) reach no
    // step: that record is parsed again with the rest of its text.
    const res = this.quoted.parse(text, 0, !final) as { meta: { cursor: number } };
    const cursor = final ? text.length : res.meta.cursor;
    const nl = this.newline;
    const rows: string[][] = [];
    const starts: number[] = [];
    let line = this.line, at = 0, errorLine = -1;
    for (let i = 0; i < this.stepRows.length; i++) {
      const end = this.stepEnds[i]!;
      const r = this.stepRows[i]!;
      if (i === this.stepErrorRow) errorLine = line;
      if (!(r.length === 1 && r[0] === '' && (end === at || text.startsWith(nl, at)))) {
        rows.push(r);
        starts.push(line);
      }
      line += countBreaks(text, at, end, nl);
      at = end;
    }
    const e = this.stepError as { code: string; message: string } | null; // set by the step callback
    if (e) {
      throw new CsvSyntaxError(e.code === 'MissingQuotes' ? 'a quoted field is never closed (missing quote)' : `${e.message.toLowerCase()} (a quote inside a quoted field must be doubled)`, errorLine);
    }
    return { rows, lines: Int32Array.from(starts), cursor, nextLine: this.line + countBreaks(text, 0, cursor, nl) };
  }

  /** Keeps `rest` (an unfinished record) for the next call. */
  private holdAll(rest: string): void {
    if (rest.length > this.maxRecordChars) {
      throw new CsvSyntaxError(`a record longer than ${groupDigits(this.maxRecordChars)} characters (a quote never closed, or no line breaks: not CSV text?)`, this.line);
    }
    this.carry = rest;
  }
}

/** A batch without records. */
const EMPTY: CsvBatch = { rows: [], lines: new Int32Array(0) };

/** The record delimiter of a text: its first line break, or '' when it has none. */
function firstLineBreak(text: string): string {
  const lf = text.indexOf('\n');
  const cr = text.indexOf('\r');
  if (cr >= 0 && (lf < 0 || cr < lf)) {
    if (cr + 1 < text.length) return text[cr + 1] === '\n' ? '\r\n' : '\r';
    return ''; // a chunk ending in \r: wait for the next character
  }
  return lf >= 0 ? '\n' : '';
}

/** Line breaks `nl` in `s[from, to)`; for `\r\n`, the `\n` count. */
function countBreaks(s: string, from: number, to: number, nl: string): number {
  const c = nl === '\r' ? '\r' : '\n';
  let n = 0;
  for (let i = s.indexOf(c, from); i >= 0 && i < to; i = s.indexOf(c, i + 1)) n++;
  return n;
}

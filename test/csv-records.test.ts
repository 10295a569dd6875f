import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CsvRecordParser, CsvSyntaxError } from '../src/dataset/csv-records.js';
import { TableError } from '../src/dataset/errors.js';
import { readFlowTable } from '../src/dataset/table.js';
import { testDir } from './helpers/tmp.js';

/** Parses `text` fed in the given chunk sizes (cycled); returns every record and its start line. */
function parseChunks(text: string, sizes: readonly number[], maxRecordChars?: number): { rows: string[][]; lines: number[] } {
  const p = new CsvRecordParser(maxRecordChars);
  const rows: string[][] = [];
  const lines: number[] = [];
  const take = (b: { rows: string[][]; lines: Int32Array }): void => {
    rows.push(...b.rows);
    lines.push(...b.lines);
  };
  let at = 0;
  for (let k = 0; at < text.length; k++) {
    const n = sizes[k % sizes.length]!;
    take(p.push(text.slice(at, at + n)));
    at += n;
  }
  take(p.end());
  return { rows, lines };
}

/** The oracle: csv-parse's records, and each one's start line (its end line less the line breaks inside it). */
function oracle(text: string): { rows: string[][]; lines: number[] } {
  const recs = parse(text, { skip_empty_lines: true, relax_column_count: true, info: true, raw: true }) as unknown as { record: string[]; info: { lines: number }; raw: string }[];
  return {
    rows: recs.map((r) => r.record),
    lines: recs.map((r) => {
      // raw holds the empty lines skipped before the record, and its line break.
      const inner = r.raw.replace(/^(\r\n|\n|\r)+/, '').replace(/(\r\n|\n|\r)$/, '');
      return r.info.lines - (inner.match(/\r\n|\n|\r/g)?.length ?? 0);
    }),
  };
}

/** A deterministic pseudo-random CSV text with quoted fields, embedded delimiters, quotes and line breaks. */
function randomCsv(seed: number, nl: string, records: number): string {
  let s = seed >>> 0 || 1;
  const rnd = (n: number): number => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s % n;
  };
  const out: string[] = [];
  for (let r = 0; r < records; r++) {
    if (rnd(10) === 0) { out.push(''); continue; } // an empty line
    const fields: string[] = [];
    const n = 1 + rnd(6);
    for (let f = 0; f < n; f++) {
      const kind = rnd(8);
      if (kind === 0) fields.push(`"a,b""c${nl}d"`);
      else if (kind === 1) fields.push('""');
      else if (kind === 2) fields.push('');
      else fields.push(String(rnd(100000) / 7));
    }
    out.push(fields.join(','));
  }
  return out.join(nl) + (rnd(2) ? nl : '');
}

describe('CSV records (papaparse, chunked): the records and start lines csv-parse gives, whatever the chunking', () => {
  for (const nl of ['\n', '\r\n', '\r']) {
    it(`random text with quoted fields, ${JSON.stringify(nl)} line breaks, chunks of 1, 7, 64 and 4096 characters`, () => {
      for (const seed of [1, 2, 3, 4, 5]) {
        const text = randomCsv(seed, nl, 300);
        const want = oracle(text);
        // csv-parse's line count is off inside quoted fields with \r\n (it counts \r and \n apart): the start
        // lines are those of the same text with \n line breaks (same seed, same records).
        if (nl === '\r\n') want.lines = oracle(randomCsv(seed, '\n', 300)).lines;
        expect(want.rows.length).toBeGreaterThan(200);
        for (const sizes of [[1], [7, 3], [64], [4096], [text.length]]) {
          const got = parseChunks(text, sizes);
          expect(got.rows).toEqual(want.rows);
          expect(got.lines).toEqual(want.lines);
        }
      }
    });
  }

  it('line numbers count empty lines and line breaks inside quoted fields', () => {
    const text = 'a,b\n\n1,"x\ny"\n\n\n2,3\n"p\n\nq",4';
    const got = parseChunks(text, [5]);
    expect(got.rows).toEqual([['a', 'b'], ['1', 'x\ny'], ['2', '3'], ['p\n\nq', '4']]);
    expect(got.lines).toEqual([1, 3, 7, 8]);
  });

  it('a closing quote at the end of a chunk whose line break (\\r\\n) is in the next chunk is no error', () => {
    const text = 'a,"b"\r\n"c","d"\r\ne,f\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      expect(parseChunks(text, [cut]).rows).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    }
  });

  it('a quote never closed: an error on the line where its record starts', () => {
    const text = 'a,b\n1,2\n3,"4\n5,6\n';
    for (const sizes of [[3], [text.length]]) {
      const e = (() => { try { parseChunks(text, sizes); return null; } catch (x) { return x; } })();
      expect(e).toBeInstanceOf(CsvSyntaxError);
      expect((e as CsvSyntaxError).line).toBe(3);
      expect((e as Error).message).toMatch(/quote/);
    }
  });

  it('text after a closing quote: an error on its line', () => {
    const e = (() => { try { parseChunks('a,b\n1,2\n"3"x,4\n', [4]); return null; } catch (x) { return x; } })();
    expect(e).toBeInstanceOf(CsvSyntaxError);
    expect((e as CsvSyntaxError).line).toBe(3);
  });

  it('a record that does not end within the bound is an error, not a string the size of the file', () => {
    const text = `a,b\n1,"${'x,'.repeat(5000)}`;
    const e = (() => { try { parseChunks(text, [256], 1000); return null; } catch (x) { return x; } })();
    expect(e).toBeInstanceOf(CsvSyntaxError);
    expect((e as CsvSyntaxError).line).toBe(2);
    expect((e as Error).message).toMatch(/longer than 1,000 characters/);
    // Within the bound, the same record is read.
    expect(parseChunks(`${text}"\n`, [256]).rows[1]![1]).toBe('x,'.repeat(5000));
  });
});

describe('flow tables with damaged CSV: a TableError naming file and line, or the rows read, never another exception', () => {
  const header = 'Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,Label';
  const rows = Array.from({ length: 60 }, (_, i) => `f${i},10.0.0.${i % 250},${1000 + i},10.0.1.1,80,6,2026-11-22T03:05:${String(i % 60).padStart(2, '0')}.000001Z,${i * 37},${i % 7},${i % 3 ? 'BENIGN' : 'DoS'}`);
  const table = `${header}\n${rows.join('\n')}\n`;
  const tmp = testDir('flowsift-csvfuzz-');

  it('300 random edits (quotes, commas, line breaks, \\r, NUL, UTF-8 cut mid-character, truncation), plain and gzip', async () => {
    let s = 20261122;
    const rnd = (n: number): number => {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      return s % n;
    };
    const pieces = ['"', '""', ',', '\n', '\r', '\r\n', '\u0000', 'é', '\uFFFD', '"x"y', ''];
    let ok = 0, errors = 0;
    for (let k = 0; k < 300; k++) {
      let text = table;
      for (let e = 1 + rnd(4); e > 0; e--) {
        const at = rnd(text.length);
        const cut = rnd(3);
        text = text.slice(0, at) + pieces[rnd(pieces.length)]! + text.slice(at + cut);
      }
      let bytes = Buffer.from(text, 'utf8');
      if (rnd(10) === 0) bytes = bytes.subarray(0, rnd(bytes.length)); // may cut a character
      if (rnd(5) === 0) bytes = gzipSync(bytes);
      const file = join(tmp, `t${k}.csv`);
      writeFileSync(file, bytes);
      const r: unknown = await readFlowTable(file).then((t) => t, (x: unknown) => x);
      if (r instanceof Error) {
        expect(r).toBeInstanceOf(TableError);
        expect(r.message.startsWith(`${file}`)).toBe(true);
        expect(r.message).not.toContain('\n');
        errors++;
      } else {
        expect((r as { rows: number }).rows).toBeGreaterThan(0);
        ok++;
      }
    }
    console.log(`damaged tables: ${ok} read, ${errors} TableErrors`);
    // Both outcomes occur: the edits are not all fatal, nor all harmless.
    expect(ok).toBeGreaterThan(30);
    expect(errors).toBeGreaterThan(30);
  });
});

/**
 * Several flow tables read on worker threads (src/dataset/parallel-tables.ts): the same records, warnings, summaries
 * and errors as the one-thread reader, in input order whatever the threads' timing; and `train --threads` on tables.
 * Tables are built here from the shipped lab excerpt (flowsift's extract CSV, split unevenly, one part gzip-compressed,
 * one with CIC-IDS2017's Infinity cells and mangled label so that it has warnings).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { csvLayout } from '../src/cli/commands/extract.js';
import { FlowCsvWriter } from '../src/dataset/csv.js';
import { RuleLabeller } from '../src/dataset/labels.js';
import { OutputSink } from '../src/dataset/output.js';
import { readFlowTablesParallel } from '../src/dataset/parallel-tables.js';
import type { FlowTableRecords, ReadFlowTableOptions } from '../src/dataset/table.js';
import { readFlowTables } from '../src/dataset/table.js';
import { extractCapture } from '../src/features/extract.js';
import { createFeatureSet } from '../src/features/registry.js';
import { expectOneLineError, flowsift } from './helpers/cli.js';
import { REPO } from './helpers/shared.js';
import { testDir } from './helpers/tmp.js';

const tmp = testDir('flowsift-ptables-');
/** The worker as the built code has it (npm test builds dist/ first); the main side under test is src/. */
const WORKER = new URL('../dist/dataset/table-worker.js', import.meta.url);

/** Everything a reader gave, summaries without their timing: equal for equal reads. */
function snapshot(r: FlowTableRecords): unknown {
  const n = r.rows;
  return {
    names: [...r.names], rows: n, data: Array.from(r.data.subarray(0, n * r.names.length)),
    srcIp: r.srcIp, dstIp: r.dstIp, labels: r.labels,
    srcPort: Array.from(r.srcPort.subarray(0, n)), dstPort: Array.from(r.dstPort.subarray(0, n)),
    protocol: Array.from(r.protocol.subarray(0, n)), firstSeenUs: Array.from(r.firstSeenUs.subarray(0, n)),
    source: Array.from(r.source.subarray(0, n)), sources: r.sources, warnings: r.warnings,
    tables: r.tables.map(({ seconds: _, ...s }) => s),
  };
}

/** The error a promise rejects with (null when it resolves). */
const errorOf = (p: Promise<unknown>): Promise<(Error & { file?: string; line?: number; column?: string }) | null> =>
  p.then(() => null, (e: unknown) => e as Error);

describe('flow tables read on worker threads', () => {
  const tables: string[] = [];
  let lines: string[] = [];
  beforeAll(async () => {
    const names = createFeatureSet().features.map((f) => f.name);
    const textNames = createFeatureSet().textColumns.map((c) => c.name);
    const whole = join(tmp, 'whole.csv');
    const sink = OutputSink.open(whole);
    const writer = new FlowCsvWriter(sink, names, textNames, true, csvLayout('flowsift', names));
    const labeller = RuleLabeller.fromFile(join(REPO, 'datasets/lab-excerpt/labels.csv'));
    await extractCapture(join(REPO, 'datasets/lab-excerpt/capture.pcap'), (f) => writer.write(f, labeller.labelOf(f)));
    sink.close();
    lines = readFileSync(whole, 'utf8').trimEnd().split('\n');
    const [header, ...rows] = lines;
    // Uneven parts (the first the largest, so later ones finish first on two threads): 55%, 5%, 25%, 15%.
    const cut = [0, 0.55, 0.6, 0.85, 1].map((f) => Math.round(f * rows.length));
    const part = (k: number): string[] => rows.slice(cut[k], cut[k + 1]);
    // Part 1 as CIC-IDS2017 writes some cells: Infinity rates and the mangled en dash (two warnings).
    const flowBytes = header.split(',').indexOf('Flow Bytes/s');
    const labelCol = header.split(',').indexOf('Label');
    const cic = part(1).map((l, i) => {
      const c = l.split(',');
      if (i % 3 === 0) c[flowBytes] = 'Infinity';
      if (i % 4 === 0) c[labelCol] = 'Web Attack \uFFFD Brute Force';
      return c.join(',');
    });
    const write = (name: string, body: string[], gzip = false): void => {
      const p = join(tmp, name);
      const text = `${[header, ...body].join('\n')}\n`;
      writeFileSync(p, gzip ? gzipSync(text) : text);
      tables.push(p);
    };
    write('t0.csv', part(0));
    write('t1.csv', cic);
    write('t2.csv.gz', part(2), true);
    write('t3.csv', part(3));
  });

  const opts: ReadFlowTableOptions = { requireLabels: true };

  it('gives the one-thread records, warnings and summaries, in input order, with 1, 2 and 4 threads', async () => {
    const one = await readFlowTables(tables, opts);
    expect(one.rows).toBe(lines.length - 1);
    expect(one.warnings.length).toBe(2); // Infinity cells and the rewritten label of t1.csv
    expect(one.warnings.every((w) => w.startsWith(tables[1]))).toBe(true);
    const want = snapshot(one);
    for (const threads of [1, 2, 4]) {
      const par = await readFlowTablesParallel(tables, { ...opts, threads, workerUrl: WORKER });
      expect(snapshot(par), `${threads} thread(s)`).toEqual(want);
    }
  });

  it('reads requested feature columns, in the requested order, from every table', async () => {
    const features = ['Flow Duration', 'Total Fwd Packet', 'Down/Up Ratio'];
    const par = await readFlowTablesParallel(tables, { ...opts, features, threads: 2, workerUrl: WORKER });
    expect([...par.names]).toEqual(features);
    expect(snapshot(par)).toEqual(snapshot(await readFlowTables(tables, { ...opts, features })));
  });

  it('keeps the order when many small tables finish out of order', async () => {
    const [header, ...rows] = lines;
    const small: string[] = [];
    for (let k = 0; k < 9; k++) {
      const p = join(tmp, `s${k}.csv`);
      // Table k has (9 - k) × 40 rows: the early ones are the slow ones.
      writeFileSync(p, `${[header, ...rows.slice(k * 400, k * 400 + (9 - k) * 40)].join('\n')}\n`);
      small.push(p);
    }
    const par = await readFlowTablesParallel(small, { ...opts, threads: 3, workerUrl: WORKER });
    expect(snapshot(par)).toEqual(snapshot(await readFlowTables(small, opts)));
  });

  it('throws the first failing table\'s error in input order, as on one thread', async () => {
    const [header, ...rows] = lines;
    const bad = join(tmp, 'bad-cell.csv');
    const c = rows[3].split(',');
    c[header.split(',').indexOf('Flow Duration')] = 'twelve';
    writeFileSync(bad, `${[header, rows[0], rows[1], rows[2], c.join(','), rows[4]].join('\n')}\n`);
    const missing = join(tmp, 'missing.csv');
    const short = join(tmp, 'short.csv');
    writeFileSync(short, 'Src IP,Flow Duration,Label\n10.0.0.1,5,BENIGN\n');
    // A large table whose last row is bad: its error comes after the next table's (missing) on another thread.
    const lateBad = join(tmp, 'late-bad.csv');
    writeFileSync(lateBad, `${[header, ...rows.slice(0, -1), c.join(',')].join('\n')}\n`);
    for (const list of [[tables[0], bad, missing], [tables[0], missing, bad], [tables[2], tables[3], short, bad], [missing, tables[0]], [lateBad, missing]]) {
      const seq = await errorOf(readFlowTables(list, opts));
      const par = await errorOf(readFlowTablesParallel(list, { ...opts, threads: 2, workerUrl: WORKER }));
      expect(seq).not.toBeNull();
      expect(par, list.join(' ')).not.toBeNull();
      expect({ name: par!.name, message: par!.message, file: par!.file, line: par!.line, column: par!.column })
        .toEqual({ name: seq!.name, message: seq!.message, file: seq!.file, line: seq!.line, column: seq!.column });
    }
    const e = await errorOf(readFlowTablesParallel([tables[0], bad, missing], { ...opts, threads: 2, workerUrl: WORKER }));
    expect(e!.message).toBe(`${bad}:5: column 'Flow Duration', field 8: not a number: 'twelve'`);
    const late = await errorOf(readFlowTablesParallel([lateBad, missing], { ...opts, threads: 2, workerUrl: WORKER }));
    expect(late!.message).toBe(`${lateBad}:${lines.length}: column 'Flow Duration', field 8: not a number: 'twelve'`);
  });

  it('damaged tables (quotes, line breaks, NUL, cut characters, gzip) give the one-thread records or error', async () => {
    const [header, ...rows] = lines;
    const base = `${[header, ...rows.slice(0, 40)].join('\n')}\n`;
    let s = 20261123;
    const rnd = (n: number): number => {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      return s % n;
    };
    const pieces = ['"', ',', '\n', '\r\n', '\u0000', 'é', 'x', ''];
    let same = 0, errors = 0;
    for (let g = 0; g < 25; g++) {
      let text = base;
      // Every fifth table undamaged, so that both outcomes occur (nearly any edit of these numeric rows is fatal).
      for (let e = g % 5 === 4 ? 0 : 1 + rnd(2); e > 0; e--) {
        const at = rnd(text.length);
        text = text.slice(0, at) + pieces[rnd(pieces.length)]! + text.slice(at + rnd(3));
      }
      let bytes = Buffer.from(text, 'utf8');
      if (rnd(8) === 0) bytes = bytes.subarray(0, rnd(bytes.length));
      if (rnd(5) === 0) bytes = gzipSync(bytes);
      const file = join(tmp, `damaged-${g}.csv`);
      writeFileSync(file, bytes);
      // The damaged table first (its header fixes the columns) or between two good ones.
      const group = g % 3 === 0 ? [file, tables[3]] : [tables[3], file, tables[2]];
      const o = { requireLabels: g % 2 === 0 };
      const seq = await readFlowTables(group, o).then(snapshot, (e: Error) => e);
      const par = await readFlowTablesParallel(group, { ...o, threads: 2, workerUrl: WORKER }).then(snapshot, (e: Error) => e);
      if (seq instanceof Error) {
        errors++;
        expect(par).toBeInstanceOf(Error);
        expect([(par as Error).name, (par as Error).message]).toEqual([seq.name, seq.message]);
      } else {
        same++;
        expect(par).toEqual(seq);
      }
    }
    expect(same).toBeGreaterThanOrEqual(5);
    expect(errors).toBeGreaterThan(10);
  });

  it('train --threads 2 on the tables writes the model --threads 0 writes', () => {
    const models = [0, 2].map((t) => {
      const dir = join(tmp, `model-${t}`);
      const r = flowsift(['train', ...tables, '--model', dir, '--threads', String(t)]);
      expect(r.code, r.stderr).toBe(0);
      const m = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, unknown> & { training: Record<string, unknown> };
      delete m.createdAt;
      delete m.training.extractSeconds;
      delete m.training.fitSeconds;
      // The per-table lines on stderr without their timing.
      const stderr = r.stderr.replace(/, [\d.]+ s \([\d,]+ rows\/s\)/g, '');
      return { m, stderr };
    });
    expect(models[1].m).toEqual(models[0].m);
    expect(models[1].stderr).toBe(models[0].stderr);
    expect(models[0].stderr).toContain('label(s) normalized');
    expect((models[0].m.training as { flows: number }).flows).toBe(lines.length - 1);
  });

  it('train --threads: a bad value is a usage error', () => {
    expectOneLineError(flowsift(['train', ...tables, '--model', join(tmp, 'm'), '--threads', 'two']), 2, /--threads must be an integer from 0 to 64, got 'two'/);
  });
});

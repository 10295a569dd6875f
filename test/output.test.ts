/**
 * The byte-level CSV output: numbers exactly as JavaScript's String() writes them (the string-free fast paths
 * included), short-text copying, and the formatting thread of `extract --threads 1` giving the same bytes as the
 * one-thread path, on the shipped capture and, with ../shared, on lab/train.
 */
import { readFileSync, existsSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCaptureSync } from '../src/capture/reader.js';
import { PcapWriter } from '../src/capture/writer.js';
import { csvField } from '../src/dataset/csv.js';
import { OutputSink } from '../src/dataset/output.js';
import { formatAddress } from '../src/flow/key.js';
import { flowsift } from './helpers/cli.js';
import { prng } from './helpers/python.js';
import { describeShared, REPO, sharedPath } from './helpers/shared.js';
import { testDir } from './helpers/tmp.js';

const tmp = testDir('flowsift-output-');

/** Writes `values` with `sink.number`, comma-separated, and returns the file's text. */
function formatted(values: readonly number[]): string {
  const path = join(tmp, `n${Math.random().toString(36).slice(2)}.txt`);
  const sink = OutputSink.open(path, 4096);
  for (const v of values) { sink.number(v); sink.byte(44); }
  sink.close();
  return readFileSync(path, 'latin1');
}

describe('csvField', () => {
  it('quotes exactly the fields with a comma, double quote, CR or LF (RFC 4180), doubling the quotes', () => {
    const rnd = prng(5);
    const alphabet = ['a', 'Z', '0', ' ', ',', '"', '\r', '\n', ';', "'", 'é', '中', '\t'];
    const fields = ['', 'SF', 'a,b', '"', '""', 'x\ny', 'x\ry', 'host.example', 'say "hi"'];
    for (let i = 0; i < 5000; i++) {
      let f = '';
      for (let n = Math.floor(rnd() * 12); n > 0; n--) f += alphabet[Math.floor(rnd() * alphabet.length)];
      fields.push(f);
    }
    for (const f of fields) {
      const want = /[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f;
      expect(csvField(f)).toBe(want);
    }
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });
});

describe('OutputSink.ipv4', () => {
  it('writes the dotted quad formatAddress gives, for every octet value and random addresses', () => {
    const rnd = prng(11);
    const values = [0, 0xffffffff, 0x0a000001, 0x7f000001, 0xc0a80001, 0x01020304, 0x64646464, 0x09090909];
    for (let o = 0; o < 256; o++) values.push(((o << 24) | (o << 16) | (o << 8) | o) >>> 0, o, (o << 24) >>> 0);
    for (let i = 0; i < 20000; i++) values.push(Math.floor(rnd() * 2 ** 32));
    const path = join(tmp, 'ipv4.txt');
    const sink = OutputSink.open(path, 64); // small buffer: the flush before an address is exercised too
    for (const v of values) { sink.ipv4(v); sink.byte(10); }
    sink.close();
    const words = new Uint32Array(4);
    const want = values.map((v) => { words[3] = v; return formatAddress(words, 0, 4); });
    expect(readFileSync(path, 'latin1').split('\n').slice(0, -1)).toEqual(want);
  });
});

describe('writeCicIdentifiers', () => {
  it('writes Flow ID, Src IP, Src Port, Dst IP, Dst Port, Protocol, Timestamp, with rows at every offset of the buffer', async () => {
    const { writeCicIdentifiers } = await import('../src/dataset/csv.js');
    const { isoMicros } = await import('../src/features/meter.js');
    const rnd = prng(13);
    const words = new Uint32Array(4);
    const v6 = ['2a00:d40:1:3:7aac:c0ff:fea7:d4c', '::1', 'fe80::1', '2001:db8::ffff:255.255.255.255', '::'];
    const path = join(tmp, 'ids.txt');
    const sink = OutputSink.open(path, 4096);
    const want: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const ipv4 = rnd() < 0.8;
      const s4 = Math.floor(rnd() * 2 ** 32), d4 = Math.floor(rnd() * 2 ** 32);
      words[3] = s4;
      const srcIp = ipv4 ? formatAddress(words, 0, 4) : v6[i % v6.length];
      words[3] = d4;
      const dstIp = ipv4 ? formatAddress(words, 0, 4) : v6[(i + 2) % v6.length];
      const srcPort = Math.floor(rnd() * 65536), dstPort = [0, 7, 80, 443, 65535][i % 5], protocol = [6, 17, 1, 58, 0, 132][i % 6];
      const firstSec = 1.7e9 + Math.floor(rnd() * 1e6), firstNsec = Math.floor(rnd() * 1e9);
      // A filler of 0–99 bytes: over the rows, each identifier block starts at every offset near the buffer's end.
      const filler = 'x'.repeat(i % 100);
      sink.write(filler);
      writeCicIdentifiers(sink, { srcIp, dstIp, srcIpv4: ipv4 ? s4 : -1, dstIpv4: ipv4 ? d4 : -1, srcPort, dstPort, protocol, firstSec, firstNsec });
      sink.byte(10);
      want.push(`${filler}${srcIp}-${dstIp}-${srcPort}-${dstPort}-${protocol},${srcIp},${srcPort},${dstIp},${dstPort},${protocol},${isoMicros(firstSec, firstNsec)}`);
    }
    sink.close();
    expect(readFileSync(path, 'latin1').split('\n').slice(0, -1)).toEqual(want);
  });
});

describe('OutputSink.number', () => {
  it('writes what String() writes, for integers, short decimals, long fractions and special values', () => {
    const rnd = prng(7);
    const values: number[] = [0, -0, 1, -1, 9, 10, 2147483647, -2147483648, 2147483648, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 1e21, 1e22,
      NaN, Infinity, -Infinity, 0.1, 0.2, 0.30000000000000004, 1e-4, 1e-5, 1e-6, 1e-7, 0.0001234, 99999999999.9999, 1e11 + 0.5,
      5e-324, Number.MAX_VALUE, -Number.MIN_VALUE, 140.33333333333334, 1187.6484560570073, 2.675, 1.005, 0.015];
    for (let i = 0; i < 20000; i++) {
      const k = Math.floor(rnd() * 5); // 0–4 decimals: the string-free path
      values.push(Math.round((rnd() - 0.3) * 10 ** (1 + Math.floor(rnd() * 10)) * 10 ** k) / 10 ** k);
      values.push((rnd() - 0.5) * 10 ** Math.floor(rnd() * 30 - 10)); // any magnitude, full precision
      values.push(Math.floor(rnd() * 1e6) / Math.max(1, Math.floor(rnd() * 12))); // means of integers
      values.push((Math.floor(rnd() * 1e5) + 0.5) / 10 ** Math.floor(rnd() * 6)); // ties of rounding
    }
    expect(formatted(values)).toBe(values.map((v) => `${String(v)},`).join(''));
  });
});

describe('OutputSink.isoTimestamp', () => {
  it('writes exactly isoMicros(sec, nsec), cached second or not, in and out of the years 0000–9999', async () => {
    const { isoMicros } = await import('../src/features/meter.js');
    const rnd = prng(11);
    const times: [number, number][] = [[0, 0], [1.7e9, 999999999], [1.7e9, 1000], [-1, 5e8], [253402300799, 999999000], [253402300800, 0],
      [-62167219200, 0], [-62167219201, 0], [1e15, 123456789], [1.7e9, 1.7e9]];
    let sec = 1.6e9;
    for (let i = 0; i < 5000; i++) {
      sec += Math.floor(rnd() * 3); // mostly the same second as the previous row
      times.push([sec, Math.floor(rnd() * 1e9)]);
    }
    const path = join(tmp, 'iso.txt');
    const sink = OutputSink.open(path, 4096);
    for (const [s, ns] of times) { sink.isoTimestamp(s, ns); sink.byte(10); }
    sink.close();
    expect(readFileSync(path, 'latin1')).toBe(times.map(([s, ns]) => `${isoMicros(s, ns)}\n`).join(''));
  });
});

describe('OutputSink.write', () => {
  it('copies short ASCII text and encodes other text as UTF-8, at any buffer position', () => {
    const texts = ['10.0.0.1', '', 'a,b', 'é', 'www.exämple.com', '2023-11-14T22:13:20.006426Z', 'x'.repeat(64), 'y'.repeat(65), '€'.repeat(70), '𝄞'];
    const path = join(tmp, 'text.txt');
    const sink = OutputSink.open(path, 4096);
    let expected = '';
    for (let i = 0; i < 300; i++) for (const t of texts) { sink.write(t); expected += t; }
    sink.close();
    expect(readFileSync(path, 'utf8')).toBe(expected);
  });

  it('shortBytes copies a short cell at every buffer position, flushing when it would not fit', () => {
    const cells = [',idle', ',tcp_end', ',end_of_input', ',evicted', ''].map((c) => new TextEncoder().encode(c));
    const path = join(tmp, 'cells.txt');
    const sink = OutputSink.open(path, 4096);
    let expected = '';
    for (let i = 0; i < 2000; i++) {
      const c = cells[i % cells.length];
      sink.shortBytes(c);
      sink.byte(48 + (i % 10));
      expected += new TextDecoder().decode(c) + String(i % 10);
    }
    sink.close();
    expect(readFileSync(path, 'latin1')).toBe(expected);
    expect(expected.length).toBeGreaterThan(3 * 4096); // crossed several flushes
  });
});

describe('extract --threads 1 (CSV formatted on a worker thread)', () => {
  const L = join(REPO, 'datasets/lab-excerpt');

  it('writes the same bytes as one thread, with labels, in both profiles, to a file and to stdout', () => {
    for (const profile of ['flowsift', 'nfstream']) {
      const args = ['extract', join(L, 'capture.pcap'), '--labels', join(L, 'labels.csv'), '--profile', profile, '-q'];
      const one = flowsift([...args, '--threads', '0', '-o', join(tmp, `one-${profile}.csv`)]);
      const two = flowsift([...args, '--threads', '1', '-o', join(tmp, `two-${profile}.csv`)]);
      expect(one.code).toBe(0);
      expect(two.code).toBe(0);
      const a = readFileSync(join(tmp, `one-${profile}.csv`));
      expect(a.length).toBeGreaterThan(1_000_000);
      expect(readFileSync(join(tmp, `two-${profile}.csv`)).equals(a)).toBe(true);
      const piped = flowsift([...args, '--threads', '1', '-o', '-']);
      expect(piped.code).toBe(0);
      expect(piped.stdout).toBe(a.toString('utf8'));
    }
  });

  it.skipIf(!existsSync('/dev/full'))('reports a write error of the thread as one line with the file, exit 1 (needs /dev/full)', () => {
    const r = flowsift(['extract', join(L, 'capture.pcap'), '--threads', '1', '-q', '-o', '/dev/full']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/\/dev\/full: write failed: no space left on device/);
  });

  it('rejects a bad --threads value with a usage error', () => {
    const r = flowsift(['extract', join(L, 'capture.pcap'), '--threads', '65', '-o', join(tmp, 'x.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--threads must be an integer from 0 to 64, got '65'/);
    expect(existsSync(join(tmp, 'x.csv'))).toBe(false);
  });

  it('stops on a record cut short (--strict) with the file and byte offset, and renames no output into place', () => {
    // A capture cut inside a record, then a record header claiming 2 GiB.
    const cap = readFileSync(join(L, 'capture.pcap'));
    const bad = Buffer.concat([cap.subarray(0, 200_000), Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0x7f])]);
    mkdirSync(join(tmp, 'bad'), { recursive: true });
    const p = join(tmp, 'bad', 'cut.pcap');
    writeFileSync(p, bad);
    chmodSync(p, 0o644);
    const r = flowsift(['extract', p, '--threads', '1', '--strict', '-q', '-o', join(tmp, 'bad', 'out.csv')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cut\.pcap: truncated at byte 199861/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(tmp, 'bad', 'out.csv'))).toBe(false);
  });
});

describeShared('extract --threads 1 on lab/train', () => {
  it('writes the same 25,958 rows as one thread', () => {
    const cap = sharedPath('lab/train/capture.pcap'), labels = sharedPath('lab/train/labels.csv');
    const one = flowsift(['extract', cap, '--labels', labels, '--threads', '0', '-q', '-o', join(tmp, 'lab-one.csv')]);
    const two = flowsift(['extract', cap, '--labels', labels, '--threads', '1', '-q', '-o', join(tmp, 'lab-two.csv')]);
    expect([one.code, two.code]).toEqual([0, 0]);
    const a = readFileSync(join(tmp, 'lab-one.csv'));
    expect(a.toString('latin1').split('\n').length - 2).toBe(25958);
    expect(readFileSync(join(tmp, 'lab-two.csv')).equals(a)).toBe(true);
  });
});

describe('ThreadedFlowCsvWriter string table', () => {
  it('gives the one-thread bytes when text values outnumber the string table and it restarts', async () => {
    // The worker runs compiled code: use dist/ (built by pretest).
    const { ThreadedFlowCsvWriter } = await import(join(REPO, 'dist/dataset/csv-thread.js')) as typeof import('../src/dataset/csv-thread.js');
    const { FlowCsvWriter } = await import(join(REPO, 'dist/dataset/csv.js')) as typeof import('../src/dataset/csv.js');
    const { FlowIdsView, FLOW_ID_WIDTH } = await import(join(REPO, 'dist/features/meter.js')) as typeof import('../src/features/meter.js');
    const Sink = (await import(join(REPO, 'dist/dataset/output.js')) as typeof import('../src/dataset/output.js')).OutputSink;
    const rnd = prng(3);
    const names = ['a', 'b', 'c'], textNames = ['svc', 'sni'];
    const flows = Array.from({ length: 5000 }, (_, i) => {
      const ids = new Float64Array(FLOW_ID_WIDTH);
      ids.set([0, 0, 0, 0x0a000001 + i, 0, 0, 0, 0xac100001, 4, 1024 + i, 80, 6, 0, 1.7e9 + i, 123456789, 0]);
      return {
        ids, features: Float64Array.of(i, rnd(), Math.floor(rnd() * 10) / 4),
        text: [['http', 'tls', 'dns', ''][i % 4], i % 3 === 0 ? `host${i}.example` : ''],
        label: i % 7 === 0 ? `L${i % 50}` : 'BENIGN',
        writeIds(out: Float64Array, o: number) { out.set(this.ids, o); },
      };
    });
    const one = join(tmp, 'st-one.csv'), two = join(tmp, 'st-two.csv');
    const s1 = Sink.open(one), w1 = new FlowCsvWriter(s1, names, textNames, true);
    const view = new FlowIdsView(new Float64Array(0));
    for (const f of flows) {
      view.ids = f.ids;
      w1.write({ srcIp: view.srcIp, dstIp: view.dstIp, srcPort: view.srcPort, dstPort: view.dstPort, protocol: view.protocol,
        ipVersion: 4, vlanId: 0, reason: 0, firstSec: view.firstSec, firstNsec: view.firstNsec, features: f.features, featureOffset: 0, text: f.text, textOffset: 0 }, f.label);
    }
    s1.close();
    const s2 = Sink.open(two), w2 = new ThreadedFlowCsvWriter(s2, names, textNames, true, {}, 37);
    for (const f of flows) w2.write(f, f.label);
    await w2.close();
    s2.close();
    const a = readFileSync(one, 'utf8');
    expect(a.split('\n')).toHaveLength(5002);
    expect(a).toMatch(/host4998\.example/);
    expect(readFileSync(two, 'utf8')).toBe(a);
  });
});

describe('ThreadedFlowCsvWriter whose worker never starts', () => {
  it('throws one OutputError once the ring is full, instead of waiting forever', async () => {
    const { ThreadedFlowCsvWriter } = await import(join(REPO, 'dist/dataset/csv-thread.js')) as typeof import('../src/dataset/csv-thread.js');
    const { FLOW_ID_WIDTH } = await import(join(REPO, 'dist/features/meter.js')) as typeof import('../src/features/meter.js');
    const Sink = (await import(join(REPO, 'dist/dataset/output.js')) as typeof import('../src/dataset/output.js')).OutputSink;
    // A worker script that fails while loading, as a half-built dist/ would.
    const broken = join(tmp, 'broken-worker.mjs');
    writeFileSync(broken, "throw new Error('broken worker');\n");
    const sink = Sink.open(join(tmp, 'never.csv'));
    const w = new ThreadedFlowCsvWriter(sink, ['a'], [], false, {}, undefined, null, { workerUrl: pathToFileURL(broken), startTimeoutS: 1 });
    const flow = { features: Float64Array.of(1), text: [], writeIds(out: Float64Array, o: number) { out.fill(0, o, o + FLOW_ID_WIDTH); } };
    const t0 = Date.now();
    // 8 batches of 512 rows fill the ring; the next batch waits for the worker.
    expect(() => { for (let i = 0; i < 10 * 512; i++) w.write(flow); }).toThrow(/never\.csv: formatting thread did not start within 1 s/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await w.abort();
    sink.abort();
  });
});

/**
 * The compiled modules the threaded-writer tests use (the worker runs compiled code: dist/, built by pretest), the
 * shipped capture, and the registry's feature and text column names.
 */
async function threadedSetup() {
  const d = (m: string) => join(REPO, 'dist', m);
  const { ThreadedFlowCsvWriter } = await import(d('dataset/csv-thread.js')) as typeof import('../src/dataset/csv-thread.js');
  const { FlowCsvWriter } = await import(d('dataset/csv.js')) as typeof import('../src/dataset/csv.js');
  const { extractCapture } = await import(d('features/extract.js')) as typeof import('../src/features/extract.js');
  const { createFeatureSet } = await import(d('features/registry.js')) as typeof import('../src/features/registry.js');
  const Sink = (await import(d('dataset/output.js')) as typeof import('../src/dataset/output.js')).OutputSink;
  const set = createFeatureSet();
  return {
    ThreadedFlowCsvWriter, FlowCsvWriter, extractCapture, Sink,
    cap: join(REPO, 'datasets/lab-excerpt/capture.pcap'),
    names: set.features.map((f) => f.name), textNames: set.textColumns.map((c) => c.name),
  };
}

describe('ThreadedFlowCsvWriter with shared records (extract --threads 1)', () => {
  it('gives the one-thread bytes while the flow table grows with slots kept, and across two meters in a row', async () => {
    const { ThreadedFlowCsvWriter, FlowCsvWriter, extractCapture, Sink, cap, names, textNames } = await threadedSetup();
    // 16 slots at first: the table doubles several times while up to 9 batches of flows are kept.
    const meter = { initialCapacity: 16 };
    const one = join(tmp, 'shared-one.csv'), two = join(tmp, 'shared-two.csv');
    const s1 = Sink.open(one), w1 = new FlowCsvWriter(s1, names, textNames, true);
    for (let k = 0; k < 2; k++) await extractCapture(cap, (f) => w1.write(f, `run${k}`), meter);
    s1.close();
    const deferred = { ...meter, deferNumeric: true, deferText: true, shareRecords: true };
    const a = readFileSync(one, 'utf8');
    expect(a.split('\n').length).toBeGreaterThan(2 * 3000); // 3,927 flows per run
    expect(a).toMatch(/,run1\n$/);
    // The default ring, then rings of 2 and 1 batches: with a full ring the main thread computes the batch's features
    // itself (all batches with 1, some with 2), and the worker only formats them.
    const finalizedHere: number[] = [];
    for (const batchesInFlight of [undefined, 2, 1]) {
      const s2 = Sink.open(two), w2 = new ThreadedFlowCsvWriter(s2, names, textNames, true, {}, undefined, deferred, { batchesInFlight });
      let capacity = 0;
      for (let k = 0; k < 2; k++) {
        await extractCapture(cap, (f) => {
          w2.write(f, `run${k}`);
          capacity = Math.max(capacity, f.recordsVersion);
        }, deferred);
      }
      await w2.close();
      s2.close();
      finalizedHere.push(w2.finalizedHere);
      expect(capacity).toBeGreaterThanOrEqual(4); // the records were replaced at least 4 times (growth) in a run
      expect(readFileSync(two, 'utf8')).toBe(a);
    }
    // 3,927 flows per run: 8 batches of 512 each, the last one partial (a new meter starts a batch).
    expect(finalizedHere[2]).toBe(16);
    expect(finalizedHere[1]).toBeGreaterThan(0);

    // A column selection (scattered, ending before the registry's last feature): rows finalized on the main thread hold
    // the registry's features up to the last one written.
    const layout = { featureIndices: names.map((_, i) => i).filter((i) => i % 3 !== 1).slice(5, 60).reverse() };
    const s3 = Sink.open(one), w3 = new FlowCsvWriter(s3, names, textNames, false, layout);
    await extractCapture(cap, (f) => w3.write(f), meter);
    s3.close();
    const s4 = Sink.open(two), w4 = new ThreadedFlowCsvWriter(s4, names, textNames, false, layout, undefined, deferred, { batchesInFlight: 1 });
    await extractCapture(cap, (f) => w4.write(f), deferred);
    await w4.close();
    s4.close();
    expect(w4.finalizedHere).toBe(8);
    expect(readFileSync(two, 'utf8')).toBe(readFileSync(one, 'utf8'));
  });
});

describe('ThreadedFlowCsvWriter with a RowConsumer (score --threads 1)', () => {
  it("hands every row, features computed on the worker, to the consumer's writer and returns what its finish() gives", async () => {
    const { ThreadedFlowCsvWriter, extractCapture, Sink, cap, names, textNames } = await threadedSetup();
    const dur = names.indexOf('Flow Duration');
    // On the main thread: every flow's port and Flow Duration.
    const want: string[] = [];
    await extractCapture(cap, (f) => { want.push(`${f.srcPort} ${f.features[dur]}`); });
    // A consumer that writes the same per row, and counts.
    const mod = join(tmp, 'consumer.mjs');
    writeFileSync(mod, `export function createRowWriter(sink, options) {
      let rows = 0;
      return {
        write(row) { rows++; sink.write(row.srcPort + ' ' + row.features[row.featureOffset + options.col] + '\\n'); },
        finish() { return { rows, tag: options.tag }; },
      };
    }\n`);
    const out = join(tmp, 'consumer.txt');
    const sink = Sink.open(out);
    const deferred = { deferNumeric: true, deferText: true, shareRecords: true };
    const w = new ThreadedFlowCsvWriter(sink, names, textNames, false, {}, undefined, deferred, { consumer: { module: pathToFileURL(mod).href, options: { col: dur, tag: 'x' } } });
    await extractCapture(cap, (f) => w.write(f), deferred);
    expect(await w.close()).toEqual({ rows: want.length, tag: 'x' });
    sink.close();
    expect(readFileSync(out, 'utf8')).toBe(`${want.join('\n')}\n`);

    // A consumer that cannot be made: one OutputError naming the output, no hang.
    const bad = join(tmp, 'bad-consumer.mjs');
    writeFileSync(bad, "export function createRowWriter() { throw new Error('no model here'); }\n");
    const s2 = Sink.open(join(tmp, 'bad.txt'));
    const w2 = new ThreadedFlowCsvWriter(s2, names, textNames, false, {}, undefined, deferred, { consumer: { module: pathToFileURL(bad).href, options: {}, task: 'scoring' } });
    const e = await (async () => {
      await extractCapture(cap, (f) => w2.write(f), deferred);
      await w2.close();
    })().then(() => null, (x: unknown) => x);
    expect((e as Error).message).toMatch(/bad\.txt: scoring failed: no model here/);
    await w2.abort();
    s2.abort();
  });
});

describe('extract --threads N with several captures (one worker per capture)', () => {
  /** Splits the shipped capture into `n` consecutive pcaps (the link type and snaplen of the original). */
  function split(n: number): string[] {
    const src = join(REPO, 'datasets/lab-excerpt/capture.pcap');
    const packets: { pkt: import('../src/capture/types.js').CapturedPacket }[] = [];
    let linkType = 1, snaplen = 256;
    const summary = readCaptureSync(src, (p) => { linkType = p.linkType; packets.push({ pkt: { ...p, data: p.data.slice(p.offset, p.offset + p.capLen), offset: 0 } }); });
    snaplen = summary.snaplen ?? snaplen;
    const paths: string[] = [];
    const per = Math.ceil(packets.length / n);
    for (let k = 0; k < n; k++) {
      const path = join(tmp, `part${k}.pcap`);
      const w = new PcapWriter(path, { linkType, snaplen, tsResolution: summary.tsResolution });
      for (const { pkt } of packets.slice(k * per, (k + 1) * per)) w.write(pkt);
      w.close();
      paths.push(path);
    }
    return paths;
  }

  it('writes the one-thread bytes in input order and prints the summaries in input order', () => {
    const parts = split(5);
    const L = join(REPO, 'datasets/lab-excerpt/labels.csv');
    const one = flowsift(['extract', ...parts, '--labels', L, '--threads', '0', '-o', join(tmp, 'multi-one.csv')]);
    const par = flowsift(['extract', ...parts, '--labels', L, '--threads', '3', '-o', join(tmp, 'multi-par.csv')]);
    expect([one.code, par.code]).toEqual([0, 0]);
    const a = readFileSync(join(tmp, 'multi-one.csv'));
    expect(a.toString().split('\n').length).toBeGreaterThan(3000);
    expect(readFileSync(join(tmp, 'multi-par.csv')).equals(a)).toBe(true);
    const order = (s: string): string[] => s.trim().split('\n').map((l) => l.split(':')[0]);
    expect(order(par.stderr)).toEqual(parts);
    expect(order(par.stderr)).toEqual(order(one.stderr));
  });

  it('reports a missing capture among others as on one thread (exit 1, one line after the earlier summaries, no output)', () => {
    const parts = split(3);
    const args = ['extract', parts[0], join(tmp, 'missing.pcap'), parts[1], parts[2]];
    const one = flowsift([...args, '--threads', '0', '-o', join(tmp, 'miss-one.csv')]);
    const par = flowsift([...args, '--threads', '2', '-o', join(tmp, 'miss-par.csv')]);
    expect([one.code, par.code]).toEqual([1, 1]);
    expect(par.stderr.replace(/[\d.]+ s \([\d,]+ flows\/s\)/g, '')).toBe(one.stderr.replace(/[\d.]+ s \([\d,]+ flows\/s\)/g, ''));
    expect(par.stderr).toMatch(/missing\.pcap: cannot read: no such file or directory/);
    expect(existsSync(join(tmp, 'miss-par.csv'))).toBe(false);
  });
});

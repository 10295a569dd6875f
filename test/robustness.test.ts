/**
 * Robustness: hostile captures, bad files and faults lose nothing and fail clearly.
 *
 * - truncated captures (pcap, pcapng, stdin): every complete record before the cut is exported, a warning names
 *   the byte offset, exit 0 (1 with --strict);
 * - snaplen-cut packets: features from the original lengths, the count reported in the summary line;
 * - bad label files, flow tables and tampered model bundles: one clear line each, exit 1;
 * - output safety: SIGINT/SIGTERM during `extract -o FILE` leave no half-written file (130/143), a closed pipe
 *   ends quietly (141), a full disk is one line (exit 1), devices such as /dev/null stay devices;
 * - adversarial packets (overlapping IPv4 fragments, IPv6 extension-header loops) end with the expected flows.
 *
 * Runs on a fresh clone (only the shipped example and model are needed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureSync } from '../src/capture/reader.js';
import { TableError } from '../src/dataset/errors.js';
import { readFlowTable } from '../src/dataset/table.js';
import { extractCapture } from '../src/features/extract.js';
import { isoMicros } from '../src/features/meter.js';
import { defaultModelFeatures } from '../src/features/registry.js';
import { flowsift, expectOneLineError } from './helpers/cli.js';
import { REPO } from './helpers/shared.js';
import { testDir } from './helpers/tmp.js';

const EXAMPLE = join(REPO, 'datasets/lab-excerpt/capture.pcap');
const MODEL = join(REPO, 'models/lab-tree');
const tmp = testDir('flowsift-robust-');
const whole = new Uint8Array(readFileSync(EXAMPLE));


// ---------------------------------------------------------------------------------------------------------------
// Capture helpers: little-endian pcap records, pcap → pcapng
// ---------------------------------------------------------------------------------------------------------------

/** Start offsets of the records of a little-endian pcap, plus the end of the last one. */
function recordBounds(pcap: Uint8Array): number[] {
  const dv = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const out: number[] = [];
  let o = 24;
  while (o + 16 <= pcap.length) {
    const end = o + 16 + dv.getUint32(o + 8, true);
    if (end > pcap.length) break;
    out.push(o);
    o = end;
  }
  out.push(o);
  return out;
}

/** The same packets as a little-endian pcapng (SHB, one IDB, EPBs), and each EPB's offset. */
function toPcapng(pcap: Uint8Array): { bytes: Uint8Array; blocks: number[] } {
  const dv = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const bounds = recordBounds(pcap);
  const parts: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array): void => {
    const total = 12 + ((body.length + 3) & ~3);
    const b = new Uint8Array(total);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, total, true);
    b.set(body, 8);
    v.setUint32(total - 4, total, true);
    parts.push(b);
  };
  const shb = new Uint8Array(16);
  new DataView(shb.buffer).setUint32(0, 0x1a2b3c4d, true);
  new DataView(shb.buffer).setUint16(4, 1, true);
  new DataView(shb.buffer).setBigInt64(8, -1n, true);
  block(0x0a0d0d0a, shb);
  const idb = new Uint8Array(8);
  new DataView(idb.buffer).setUint16(0, dv.getUint32(20, true) & 0xffff, true);
  new DataView(idb.buffer).setUint32(4, dv.getUint32(16, true), true);
  block(1, idb);
  const blocks: number[] = [];
  let off = parts.reduce((n, p) => n + p.length, 0);
  for (let i = 0; i + 1 < bounds.length; i++) {
    const o = bounds[i]!;
    const cap = dv.getUint32(o + 8, true);
    const body = new Uint8Array(20 + cap);
    const bv = new DataView(body.buffer);
    const ts = BigInt(dv.getUint32(o, true)) * 1000000n + BigInt(dv.getUint32(o + 4, true));
    bv.setUint32(4, Number(ts >> 32n), true);
    bv.setUint32(8, Number(ts & 0xffffffffn), true);
    bv.setUint32(12, cap, true);
    bv.setUint32(16, dv.getUint32(o + 12, true), true);
    body.set(pcap.subarray(o + 16, o + 16 + cap), 20);
    blocks.push(off);
    block(6, body);
    off += parts.at(-1)!.length;
  }
  const bytes = new Uint8Array(off);
  let p = 0;
  for (const part of parts) { bytes.set(part, p); p += part.length; }
  blocks.push(off);
  return { bytes, blocks };
}

function write(name: string, bytes: Uint8Array | string): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Truncated captures
// ---------------------------------------------------------------------------------------------------------------

describe('a truncated capture keeps every complete record before the cut', () => {
  const bounds = recordBounds(whole);
  const k = Math.floor(bounds.length / 2);
  const ng = toPcapng(whole);
  // Cuts inside a record: pcap inside the data of record k, pcapng inside the header of block k.
  const cases = [
    { name: 'pcap', bytes: whole, cut: bounds[k]! + 16 + 5, clean: bounds[k]! },
    { name: 'pcapng', bytes: ng.bytes, cut: ng.blocks[k]! + 9, clean: ng.blocks[k]! },
  ];

  for (const c of cases) {
    it(`${c.name}: the rows equal those of the file cut at the last record boundary; a warning names byte ${c.clean}; exit 0`, () => {
      const cut = write(`cut.${c.name}`, c.bytes.subarray(0, c.cut));
      const clean = write(`clean.${c.name}`, c.bytes.subarray(0, c.clean));
      const r = flowsift(['extract', cut, '-o', '-']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(new RegExp(`^flowsift: warning: .*cut\\.${c.name}: truncated at byte ${c.clean}: .*; ${k} packets read$`, 'm'));
      expect(r.stderr).toMatch(new RegExp(`cut\\.${c.name}: ${k.toLocaleString('en-US')} packets, `));
      const ref = flowsift(['extract', clean, '-o', '-', '-q']);
      expect(ref.code).toBe(0);
      expect(r.stdout.split('\n').length).toBeGreaterThan(1000);
      expect(r.stdout).toBe(ref.stdout);
    });

    it(`${c.name} on standard input (a pipe): the same rows and warning, naming stdin; --strict exits 1 naming the offset`, () => {
      const piped = flowsift(['extract', '-', '-o', '-'], Buffer.from(c.bytes.subarray(0, c.cut)));
      expect(piped.code, piped.stderr).toBe(0);
      expect(piped.stderr).toMatch(new RegExp(`^flowsift: warning: stdin: truncated at byte ${c.clean}: `, 'm'));
      const ref = flowsift(['extract', write(`clean2.${c.name}`, c.bytes.subarray(0, c.clean)), '-o', '-', '-q']);
      expect(piped.stdout).toBe(ref.stdout);
      expectOneLineError(flowsift(['extract', '-', '--strict', '-o', join(tmp, 'strict.csv')], Buffer.from(c.bytes.subarray(0, c.cut))),
        1, new RegExp(`stdin: truncated at byte ${c.clean}`));
      expect(existsSync(join(tmp, 'strict.csv'))).toBe(false);
      expectOneLineError(flowsift(['extract', write(`cut3.${c.name}`, c.bytes.subarray(0, c.cut)), '--strict', '-q']),
        1, new RegExp(`cut3\\.${c.name}: truncated at byte ${c.clean}`));
    });
  }

  it('a cut inside the file header, or at every offset of the first records, never fails without --strict', async () => {
    for (const cut of [0, 3, 4, 10, 23, 24, 25, 39, 40, ...Array.from({ length: 200 }, (_, i) => 24 + i * 7)]) {
      const path = write('early.pcap', whole.subarray(0, cut));
      try {
        const s = await extractCapture(path, () => {});
        expect(s.capture.truncatedAt === undefined || s.capture.warnings.some((w) => w.includes(`byte ${s.capture.truncatedAt}`))).toBe(true);
      } catch (e) {
        // Fewer than 4 bytes cannot be told from a foreign file: EMPTY / NOT_CAPTURE, nothing else.
        expect(cut).toBeLessThan(4);
        expect((e as { code?: string }).code).toMatch(/^(EMPTY|NOT_CAPTURE)$/);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 3. Snaplen-truncated packets
// ---------------------------------------------------------------------------------------------------------------

/** The example with every packet cut to `snaplen` bytes (original lengths kept), and the number cut. */
function withSnaplen(snaplen: number): { bytes: Uint8Array; cut: number } {
  const bounds = recordBounds(whole);
  const dv = new DataView(whole.buffer, whole.byteOffset, whole.byteLength);
  const parts: Uint8Array[] = [whole.slice(0, 24)];
  new DataView(parts[0]!.buffer).setUint32(16, snaplen, true);
  let cut = 0;
  for (let i = 0; i + 1 < bounds.length; i++) {
    const o = bounds[i]!;
    const cap = dv.getUint32(o + 8, true);
    const orig = dv.getUint32(o + 12, true);
    const keep = Math.min(cap, snaplen);
    const rec = whole.slice(o, o + 16 + keep);
    new DataView(rec.buffer).setUint32(8, keep, true);
    if (keep < orig) cut++;
    parts.push(rec);
  }
  const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) { bytes.set(part, p); p += part.length; }
  return { bytes, cut };
}

describe('snaplen-truncated packets', () => {
  it('features come from the original lengths: cutting every packet to its headers (96 bytes) changes no CICFlowMeter feature', () => {
    const { bytes, cut } = withSnaplen(96);
    const r = flowsift(['extract', write('snap96.pcap', bytes), '-o', '-']);
    expect(r.code, r.stderr).toBe(0);
    // The summary line reports the count of packets cut by the snaplen.
    expect(r.stderr).toMatch(new RegExp(`snap96\\.pcap: 22,902 packets, [\\d,]+ flows, .*${cut.toLocaleString('en-US')} snaplen-truncated`));
    const ref = flowsift(['extract', EXAMPLE, '-o', '-', '-q']);
    const cols = 83; // Flow ID … Timestamp (7) + the 76 CICFlowMeter features
    const a = r.stdout.trim().split('\n').map((l) => l.split(',').slice(0, cols).join(','));
    const b = ref.stdout.trim().split('\n').map((l) => l.split(',').slice(0, cols).join(','));
    expect(a.length).toBeGreaterThan(3000);
    expect(a).toEqual(b);
  });

  it('a snaplen below the headers (0, 14, 20 bytes) is reported, never read past, and exits 0', () => {
    for (const snap of [1, 14, 20, 34]) {
      const { bytes, cut } = withSnaplen(snap);
      const r = flowsift(['extract', write(`snap${snap}.pcap`, bytes), '-o', '/dev/null']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`${cut.toLocaleString('en-US')} snaplen-truncated`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 4. Bad inputs: label files, flow tables, model bundles
// ---------------------------------------------------------------------------------------------------------------

describe('bad label files: one line naming the file and line, exit 1, no output written', () => {
  const cases: [name: string, text: string, pattern: RegExp][] = [
    ['unknown column', 'label,ip,start,end,comment\nPortScan,10.77.0.66,1,2,x\n', /unknown\.csv:1: header must be label,ip,start,end; unknown column\(s\) comment/],
    ['missing column', 'label,ip,start\nPortScan,10.77.0.66,1\n', /missing\.csv:1: header must be label,ip,start,end; missing end/],
    ['unparsable time', 'label,ip,start,end\nPortScan,10.77.0.66,1795315467.5,1795315468\nDoS,10.77.0.67,yesterday,1795315468\n', /unparsable\.csv:3: start is not epoch seconds: 'yesterday'/],
    ['too many decimals', 'label,ip,start,end\nDoS,10.77.0.67,1795315467,1795315468.1234567891\n', /decimals\.csv:2: end is not epoch seconds/],
    ['bad address', 'label,ip,start,end\nDoS,10.77.0.300,1,2\n', /address\.csv:2: not an IP address: '10\.77\.0\.300'/],
    ['start after end', 'label,ip,start,end\nDoS,10.77.0.67,5,2\n', /after\.csv:2: start is after end/],
    ['duplicate rule', 'label,ip,start,end\nDoS,10.77.0.67,1,2\nPortScan,10.77.0.66,1,2\nDoS,10.77.0.67,1,2\n', /duplicate\.csv:4: duplicate rule: the same as line 2/],
    ['overlapping rules', 'label,ip,start,end\nDoS,10.77.0.67,10,20\nPortScan,10.77.0.67,15,30\n', /overlapping\.csv:3: rule overlaps the rule on line 2 for 10\.77\.0\.67 with another label \(DoS vs PortScan\)/],
    ['ragged row', 'label,ip,start,end\nDoS,10.77.0.67,1\n', /ragged\.csv:2: expected 4 fields, found 3/],
    ['not CSV', 'label,ip,start,end\n"DoS,10.77.0.67,1,2\n', /notcsv\.csv(:\d+)?: not valid CSV/],
    ['control characters', 'label,ip,start,end\nDoS,10.77.0.\x1b[31m67,1,2\n', /control\.csv:2: not an IP address: '10\.77\.0\.\\x1b\[31m67'$/],
    ['empty file', '', /empty\.csv: empty label file/],
  ];
  it.each(cases)('%s', (name, text, pattern) => {
    const file = write(`${pattern.source.split('\\.csv')[0]}.csv`, text);
    const out = join(tmp, `labels-${name.replace(/ /g, '-')}.csv`);
    expectOneLineError(flowsift(['extract', EXAMPLE, '--labels', file, '-o', out]), 1, pattern);
    expect(existsSync(out)).toBe(false);
  });

  it('overlapping windows with the same label are accepted (their union applies); a missing file is one line', () => {
    const ok = write('same-label.csv', 'label,ip,start,end\nDoS,10.77.0.67,10,20\nDoS,10.77.0.67,15,30\n');
    expect(flowsift(['extract', EXAMPLE, '--labels', ok, '-o', '/dev/null', '-q']).code).toBe(0);
    expectOneLineError(flowsift(['extract', EXAMPLE, '--labels', join(tmp, 'nope.csv')]), 1, /nope\.csv: label file not found/);
  });
});

describe('bad flow tables (readFlowTable): one TableError naming the file, line and column', () => {
  const header = 'Flow ID,Src IP,Src Port,Dst IP,Dst Port,Protocol,Timestamp,Flow Duration,Total Fwd Packet,Total Bwd packets,Label';
  const row = '1.2.3.4-5.6.7.8-1-2-6,1.2.3.4,1,5.6.7.8,2,6,2026-01-01T00:00:00.000000Z,10,1,1,BENIGN';

  async function tableError(text: string, opts = {}): Promise<TableError> {
    const file = write(`table-${Math.random().toString(36).slice(2)}.csv`, text);
    const e = await readFlowTable(file, opts).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(TableError);
    expect((e as TableError).message.startsWith(file)).toBe(true);
    expect((e as TableError).message).not.toContain('\n');
    return e as TableError;
  }

  it("missing feature columns a model needs are all listed", async () => {
    const e = await tableError(`${header}\n${row}\n`, { features: defaultModelFeatures() });
    expect(e.message).toMatch(/:1: lacks \d+ of the \d+ feature column\(s\) needed: .*Fwd Packet Length Max/);
  });

  it('a non-numeric cell names its line and column', async () => {
    const e = await tableError(`${header}\n${row}\n${row.replace(',10,1,1,', ',10,abc,1,')}\n`);
    expect(e.line).toBe(3);
    expect(e.column).toBe('Total Fwd Packet');
    expect(e.message).toMatch(/:3: column 'Total Fwd Packet'.*not a number: 'abc'/);
  });

  it('a ragged row, an empty file, a table without Label when labels are required, a capture given as table', async () => {
    expect((await tableError(`${header}\n${row}\n1,2,3\n`)).message).toMatch(/:3: expected 11 fields as in the header, found 3/);
    expect((await tableError('')).message).toMatch(/empty flow table/);
    expect((await tableError(`${header.replace(',Label', '')}\n${row.replace(',BENIGN', '')}\n`, { requireLabels: true })).message).toMatch(/no Label column/);
    expect((await tableError(Buffer.from(whole.subarray(0, 4096)).toString('latin1'))).message).toMatch(/.+/);
  });
});

describe('bad flow tables through the CLI (evaluate, train): one line naming file:line and the column, exit 1', () => {
  it('a table lacking the model\'s feature columns, a non-numeric cell, no Label column', () => {
    const good = flowsift(['extract', EXAMPLE, '--labels', join(REPO, 'datasets/lab-excerpt/labels.csv'), '-o', '-', '-q']);
    expect(good.code).toBe(0);
    const lines = good.stdout.split('\n');
    const header = lines[0]!.split(',');
    const cut = (drop: string[]): string => lines.filter(Boolean).map((l) => l.split(',').filter((_, i) => !drop.includes(header[i]!)).join(',')).join('\n');
    const missing = write('missing-cols.csv', cut(['Flow IAT Max', 'Idle Min']));
    expectOneLineError(flowsift(['evaluate', missing, '--model', MODEL]), 1, /missing-cols\.csv:1: lacks 2 of the 76 feature column\(s\) needed: Flow IAT Max, Idle Min$/);
    const cells = lines[3]!.split(',');
    cells[header.indexOf('Flow IAT Max')] = 'abc';
    const bad = write('bad-cell.csv', [...lines.slice(0, 3), cells.join(','), ...lines.slice(4)].join('\n'));
    const badCell = /bad-cell\.csv:4: column 'Flow IAT Max', field \d+: not a number: 'abc'/;
    expectOneLineError(flowsift(['evaluate', bad, '--model', MODEL]), 1, badCell);
    expectOneLineError(flowsift(['train', bad, '--features', 'all', '--model', join(tmp, 'never')]), 1, badCell);
    expect(existsSync(join(tmp, 'never'))).toBe(false);
    const unlabelled = write('unlabelled.csv', cut(['Label']));
    expectOneLineError(flowsift(['evaluate', unlabelled, '--model', MODEL]), 1, /unlabelled\.csv(:1)?: no Label column/);
  });
});

describe('tampered model bundles: score exits 1 with one line naming model.json', () => {
  const original = readFileSync(join(MODEL, 'model.json'), 'utf8');
  type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const cases: [name: string, tamper: (doc: Doc) => Doc | string, pattern: RegExp][] = [
    ['a newer format version', (d) => ({ ...d, formatVersion: 99 }), /newer flowsift \(format 99\)/],
    ['a version that is no integer', (d) => ({ ...d, formatVersion: '1' }), /formatVersion: must be a positive integer/],
    ['another format', (d) => ({ ...d, format: 'sklearn-pickle' }), /not a flowsift model/],
    ['the scaler missing', (d) => { const { scaler: _, ...rest } = d; return rest; }, /scaler: missing/],
    ['the model missing', (d) => { const { model: _, ...rest } = d; return rest; }, /model/],
    ['a feature list shorter than the scaler', (d) => ({ ...d, featureNames: d.featureNames.slice(1) }), /has 76 features but featureNames has 75/],
    ['a feature flowsift does not compute', (d) => ({ ...d, featureNames: ['Bogus Feature', ...d.featureNames.slice(1)] }), /lacks 1 of the model's 76 features: Bogus Feature/],
    ['a duplicated feature name', (d) => ({ ...d, featureNames: [d.featureNames[1], ...d.featureNames.slice(1)] }), /duplicate name/],
    ['a NaN weight (written as a string)', (d) => ({ ...d, model: { ...d.model, threshold: ['NaN', ...d.model.threshold.slice(1)] } }), /threshold/],
    ['an infinite scaler mean (1e999)', (d) => JSON.stringify(d).replace(/"mean":\[[^,]+,/, '"mean":[1e999,'), /mean/],
    ['NaN written as a bare token', (d) => JSON.stringify(d).replace(/"mean":\[[^,]+,/, '"mean":[NaN,'), /invalid JSON/],
    ['a child index out of range', (d) => ({ ...d, model: { ...d.model, left: [9999, ...d.model.left.slice(1)] } }), /left/],
    ['truncated JSON', () => original.slice(0, Math.floor(original.length / 2)), /invalid JSON/],
    ['an empty file', () => '', /invalid JSON/],
  ];
  it.each(cases)('%s', (name, tamper, pattern) => {
    const dir = join(tmp, `model-${name.replace(/\W+/g, '-')}`);
    cpSync(MODEL, dir, { recursive: true });
    const t = tamper(JSON.parse(original) as Doc);
    writeFileSync(join(dir, 'model.json'), typeof t === 'string' ? t : JSON.stringify(t));
    const r = flowsift(['score', EXAMPLE, '--model', dir, '-q']);
    expectOneLineError(r, 1, pattern);
    if (!/lacks 1 of the model/.test(r.stderr)) expect(r.stderr).toContain(join(dir, 'model.json'));
    expect(r.stdout).toBe('');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 5. Output safety
// ---------------------------------------------------------------------------------------------------------------

/** A capture of `copies` × the example's records (about 3 MB each). */
function bigCapture(copies: number): string {
  const body = whole.subarray(24);
  const bytes = new Uint8Array(24 + body.length * copies);
  bytes.set(whole.subarray(0, 24));
  for (let i = 0; i < copies; i++) bytes.set(body, 24 + i * body.length);
  return write('big.pcap', bytes);
}

/** Runs `extract big -o out`, sends `signal` once the temporary output holds data; resolves with the exit status. */
function interrupt(big: string, out: string, signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string; sawTemp: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, 'bin', 'flowsift.js'), 'extract', big, '-o', out], { cwd: REPO });
    let stderr = '';
    let sawTemp = false;
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const temp = join(tmp, `.${out.split('/').at(-1)}.${child.pid}.tmp`);
    const poll = setInterval(() => {
      if (existsSync(temp) && statSync(temp).size > 0) {
        sawTemp = true;
        clearInterval(poll);
        child.kill(signal);
      }
    }, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code, stderr, sawTemp });
    });
  });
}

describe('output safety', () => {
  const big = bigCapture(25); // ~75 MB, 570,000 packets: several seconds of work

  it.each([['SIGINT', 130], ['SIGTERM', 143]] as const)('%s during extract -o FILE: exit %i, no half-written file, an existing FILE untouched', async (signal, code) => {
    const out = join(tmp, `interrupted-${signal}.csv`);
    writeFileSync(out, 'previous contents\n');
    const r = await interrupt(big, out, signal);
    expect(r.sawTemp).toBe(true);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(/^flowsift: (interrupted|terminated) \(SIG(INT|TERM)\); no partial output was kept\n$/);
    expect(readFileSync(out, 'utf8')).toBe('previous contents\n');
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a closed output pipe (| head -1) ends quietly with 141, as SIGPIPE ends a Unix tool', () => {
    const r = spawnSync('bash', ['-c', `node bin/flowsift.js extract ${JSON.stringify(EXAMPLE)} -o - | head -1; echo "status \${PIPESTATUS[0]}" >&2`], { cwd: REPO, encoding: 'utf8' });
    expect(r.stdout).toMatch(/^Flow ID,Src IP,/);
    expect(r.stderr).toBe('status 141\n');
  });

  it('a full disk (/dev/full) is one line and exit 1; /dev/null and /dev/full stay devices', () => {
    expectOneLineError(flowsift(['extract', EXAMPLE, '-o', '/dev/full', '-q']), 1, /^flowsift: \/dev\/full: write failed: no space left on device \(ENOSPC\)$/);
    expect(flowsift(['extract', EXAMPLE, '-o', '/dev/null', '-q']).code).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
    expect(readdirSync('/dev').filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an output in a missing directory is one line before any work', () => {
    expectOneLineError(flowsift(['extract', EXAMPLE, '-o', join(tmp, 'no', 'such', 'dir', 'out.csv')]), 1, /out\.csv: cannot write \(ENOENT\)/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 6. Adversarial packets
// ---------------------------------------------------------------------------------------------------------------

/** A little-endian µs Ethernet pcap of `frames`, one per millisecond. */
function pcapOf(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(24 + frames.reduce((n, f) => n + 16 + f.length, 0));
  const v = new DataView(out.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 65535, true);
  v.setUint32(20, 1, true);
  let o = 24;
  frames.forEach((f, i) => {
    v.setUint32(o, 1700000000, true);
    v.setUint32(o + 4, i * 1000, true);
    v.setUint32(o + 8, f.length, true);
    v.setUint32(o + 12, f.length, true);
    out.set(f, o + 16);
    o += 16 + f.length;
  });
  return out;
}

function frame(etherType: number, ip: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + ip.length);
  f[12] = etherType >> 8;
  f[13] = etherType & 0xff;
  f.set(ip, 14);
  return f;
}

describe('adversarial packets end, with the flows they should give', () => {
  it('10,000 overlapping IPv4 fragments of one datagram: one flow, every packet accounted', async () => {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 10_000; i++) {
      const ip = new Uint8Array(20 + 64);
      const v = new DataView(ip.buffer);
      v.setUint8(0, 0x45);
      v.setUint16(2, ip.length);
      v.setUint16(4, 4242); // one datagram id
      v.setUint16(6, (i % 2 === 0 ? 0x2000 : 0) | ((i * 3) % 16)); // offsets 0…120 bytes, overlapping
      v.setUint8(8, 64);
      v.setUint8(9, 17);
      v.setUint32(12, 0x0a000001);
      v.setUint32(16, 0x0a000002);
      if (((i * 3) % 16) === 0) { v.setUint16(20, 5353); v.setUint16(22, 53); v.setUint16(24, 64); }
      frames.push(frame(0x0800, ip));
    }
    const flows: number[] = [];
    const s = await extractCapture(write('frags.pcap', pcapOf(frames)), (f) => flows.push(f.packets));
    expect(s.counters.ipPackets).toBe(10_000);
    expect(flows.reduce((a, b) => a + b, 0)).toBe(10_000);
    expect(flows.length).toBeLessThanOrEqual(2); // fragments without ports share a flow; first fragments carry ports
  });

  it('IPv6 extension-header loops (every header pointing at the next, fragment-header chains) are bounded', async () => {
    const chain = (types: number[], n: number, len = 0): Uint8Array => {
      const ip = new Uint8Array(40 + n * 8 * (len + 1));
      const v = new DataView(ip.buffer);
      v.setUint32(0, 0x60000000);
      v.setUint16(4, ip.length - 40);
      v.setUint8(6, types[0]!);
      v.setUint8(7, 64);
      v.setUint8(23, 1);
      v.setUint8(39, 2);
      for (let i = 0, p = 40; i < n; i++, p += 8 * (len + 1)) {
        ip[p] = types[(i + 1) % types.length]!;
        ip[p + 1] = len;
      }
      return frame(0x86dd, ip);
    };
    const frames = [
      chain([0, 43, 60, 135], 5000), chain([60], 5000), chain([44], 5000), chain([51, 0], 3000), chain([43], 50, 255 >> 4),
    ];
    const s = await extractCapture(write('ext6.pcap', pcapOf(frames)), () => {});
    expect(s.counters.packets).toBe(frames.length);
    expect(s.counters.ipPackets).toBe(frames.length);
  });
});

describe('timestamps beyond what Date can show', () => {
  it('are written as epoch seconds instead of throwing (64-bit pcapng timestamps and if_tsoffset)', () => {
    expect(isoMicros(1700000000, 123456789)).toBe('2023-11-14T22:13:20.123456Z');
    expect(isoMicros(253402300799, 999999999)).toBe('9999-12-31T23:59:59.999999Z');
    expect(isoMicros(18446744073709, 551615000)).toBe('18446744073709.551615');
    expect(isoMicros(-62167219201, 1000)).toBe('-62167219200.999999');
    expect(isoMicros(-9.2e18, 0)).toBe('-9200000000000000000.000000');
  });

  it('a pcapng whose interface has a huge if_tsoffset is extracted', async () => {
    const { bytes } = toPcapng(whole.subarray(0, recordBounds(whole)[50]!));
    // Rebuild the IDB (at offset 28, 20 bytes) with if_tsoffset = 2^62 s.
    const idb = new Uint8Array(20 + 12 + 4);
    const v = new DataView(idb.buffer);
    idb.set(bytes.subarray(28, 44));
    v.setUint32(4, idb.length, true);
    v.setUint16(16, 14, true);
    v.setUint16(18, 8, true);
    v.setBigInt64(20, 1n << 62n, true);
    v.setUint32(28, 0, true);
    v.setUint32(32, idb.length, true);
    const out = new Uint8Array(bytes.length + 16);
    out.set(bytes.subarray(0, 28));
    out.set(idb, 28);
    out.set(bytes.subarray(48), 28 + idb.length);
    const r = flowsift(['extract', write('tsoffset.pcapng', out), '-o', '-', '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[1]).toMatch(/,\d{18,}\.\d{6},/);
  });
});

describe('the capture reader answers between buffers (signals are handled during a long read)', () => {
  it('readCaptureSync and readCapture give the same packets', async () => {
    let a = 0;
    let b = 0;
    readCaptureSync(EXAMPLE, () => { a++; }, { bufferSize: 65536 });
    const { readCapture } = await import('../src/capture/reader.js');
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 0);
    await readCapture(EXAMPLE, () => { b++; }, { bufferSize: 4096 });
    clearInterval(timer);
    expect(b).toBe(a);
    expect(ticks).toBeGreaterThan(0);
  });
});

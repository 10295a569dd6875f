/**
 * FlowMeter with `lookahead` (packets decoded ahead of the flow table, accounted in batches) gives the flows, features
 * and text columns of the one-packet-at-a-time meter, when the capture arrives in chunks of any size through one
 * reused buffer (as readSync into one buffer delivers a file) with records straddling chunks (the parser's carry
 * buffer): the parser's onRelease makes the meter account its pending packets before their bytes change.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCaptureStream } from '../src/capture/reader.js';
import { extractCapture } from '../src/features/extract.js';
import { type FinishedFlow, FlowMeter } from '../src/features/meter.js';
import { testDir } from './helpers/tmp.js';

const CAPTURE = join(import.meta.dirname, '..', 'datasets', 'lab-excerpt', 'capture.pcap');

/** One flow as text: identifiers, end reason, every feature and text column. */
function rowOf(f: FinishedFlow): string {
  return `${f.flowId} ${f.timestamp} ${f.endReason} | ${Array.from(f.features).join(',')} | ${f.text.join(',')}`;
}

/**
 * The flows of `bytes` through a meter with `lookahead`, the input pushed in chunks of 1–3,000 bytes (seeded) copied
 * into one reused 4 KiB buffer; `release` false leaves out the parser's onRelease (the failure this guards against).
 */
async function flows(bytes: Uint8Array, lookahead: number, release = true): Promise<string[]> {
  const out: string[] = [];
  const meter = new FlowMeter((f) => out.push(rowOf(f)), { lookahead });
  let seed = 2024;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const buf = new Uint8Array(4096);
    for (let pos = 0; pos < bytes.length;) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      const n = Math.min(1 + (seed % 3000), bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n));
      pos += n;
      yield buf.subarray(0, n);
    }
  }
  await readCaptureStream(chunks(), (p) => meter.push(p), release ? { onRelease: () => meter.release() } : {});
  meter.finish();
  return out;
}

describe('FlowMeter lookahead', () => {
  const bytes = new Uint8Array(readFileSync(CAPTURE));

  it('gives the flows of the unbatched meter, chunks straddling records through a reused buffer', async () => {
    const one = await flows(bytes, 1);
    expect(one.length).toBeGreaterThan(3000); // the shipped lab excerpt: 3,927 flows
    for (const k of [2, 7, 64, 1000]) expect(await flows(bytes, k)).toEqual(one);
  });

  it('would differ without onRelease (pending packets read bytes the next chunk overwrote)', async () => {
    const one = await flows(bytes, 1);
    expect(await flows(bytes, 64, false)).not.toEqual(one);
  });

  it('is what extractCapture runs, with the same flows as lookahead 1', async () => {
    const a: string[] = [], b: string[] = [];
    await extractCapture(CAPTURE, (f) => a.push(rowOf(f)));
    await extractCapture(CAPTURE, (f) => b.push(rowOf(f)), { lookahead: 1 });
    expect(a).toEqual(b);
    expect(a).toEqual(await flows(bytes, 1));
  });

  const hasEditcap = spawnSync('editcap', ['-v'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasEditcap)(`pcapng too (the capture converted by editcap)${hasEditcap ? '' : ' [skipped: editcap not installed]'}`, async () => {
    const ng = join(testDir('flowsift-lookahead-'), 'capture.pcapng');
    expect(spawnSync('editcap', ['-F', 'pcapng', CAPTURE, ng]).status).toBe(0);
    const ngBytes = new Uint8Array(readFileSync(ng));
    const one = await flows(ngBytes, 1);
    expect(one).toEqual(await flows(bytes, 1));
    expect(await flows(ngBytes, 64)).toEqual(one);
    expect(await flows(ngBytes, 64, false)).not.toEqual(one);
  });

  it('rejects a lookahead below 1', () => {
    expect(() => new FlowMeter(() => {}, { lookahead: 0 })).toThrow(RangeError);
  });
});

/**
 * FeatureFinalizer (src/features/finalize.ts): numeric features, connection-state and service text computed from records
 * copied out of a meter that runs with deferNumeric/deferText must equal, bit for bit, what the meter computes
 * itself — on the shipped capture, with the default options, with nfstream's statistics, with other
 * activity/subflow gaps and with skipped families.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractCapture } from '../src/features/extract.js';
import { FeatureFinalizer } from '../src/features/finalize.js';
import type { MeterOptions } from '../src/features/meter.js';
import { REPO } from './helpers/shared.js';

const CAPTURE = join(REPO, 'datasets', 'lab-excerpt', 'capture.pcap');

/** Feature rows of every flow of the capture: computed by the meter, and from deferred records by a finalizer. */
async function both(opts: MeterOptions): Promise<{ direct: Float64Array[]; deferred: Float64Array[]; text: string[][]; deferredText: string[][] }> {
  const direct: Float64Array[] = [], text: string[][] = [];
  await extractCapture(CAPTURE, (f) => { direct.push(f.features.slice()); text.push([...f.text]); }, opts);
  const fin = new FeatureFinalizer(opts);
  const deferred: Float64Array[] = [], deferredText: string[][] = [];
  const records = new Float64Array(fin.recordWidth * 2);
  const textRecords = fin.textRecordWords.map((w) => new Uint32Array(w * 2));
  fin.useTextRecords(textRecords.map((a) => a.buffer));
  let n = 0;
  await extractCapture(CAPTURE, (f) => {
    // Alternate between two record slots, so a record is read at a non-zero index too.
    const at = n++ % 2;
    records.fill(NaN);
    f.writeRecord(records, at * fin.recordWidth);
    const row = new Float64Array(fin.featureCount);
    fin.finalize(records, at, row);
    deferred.push(row);
    // Text: the meter fills the columns it computes; the finalizer the deferred ones (connection state, history).
    const t = [...f.text];
    for (const p of fin.deferredTextPositions) t[p] = 'stale';
    textRecords.forEach((a, k) => { a.fill(0xdeadbeef); f.writeTextRecord(k, a, at * fin.textRecordWords[k]); });
    fin.finalizeText(at, t);
    deferredText.push(t);
  }, { ...opts, deferNumeric: true, deferText: true });
  return { direct, deferred, text, deferredText };
}

describe('FeatureFinalizer', () => {
  for (const [name, opts] of [
    ['default options', {}],
    ['nfstream statistics and IP accounting', { statisticalAnalysis: true, accountingMode: 1 }],
    ['1 s activity timeout, 0.2 s subflow gap', { activityTimeoutUs: 1e6, subflowGapUs: 2e5 }],
    ['nfstream families skipped (extract\'s flowsift profile)', { skipFamilies: ['nfstream', 'nfstream-stats'] }],
  ] as [string, MeterOptions][]) {
    it(`gives the meter's features from deferred records: ${name}`, async () => {
      const { direct, deferred, text, deferredText } = await both(opts);
      expect(deferredText).toEqual(text);
      // The deferred columns are the connection state and history, and the service and its source, all with real
      // values; server_name comes from the record too, except names longer than the record holds (see service.test.ts).
      expect(new FeatureFinalizer(opts).deferredTextPositions).toEqual([0, 1, 2, 3]);
      expect(new Set(text.map((t) => t[0]))).toContain('SF');
      const services = new Set(text.map((t) => `${t[2]}/${t[3]}`));
      for (const s of ['HTTP/payload', 'TLS/payload', 'DNS/payload', '/']) expect(services).toContain(s);
      expect([...services].some((s) => s.endsWith('/port'))).toBe(true);
      expect(text.filter((t) => t[4] !== '').length).toBeGreaterThan(100);
      expect(direct.length).toBeGreaterThan(1000);
      expect(deferred.length).toBe(direct.length);
      let differing = 0;
      for (let i = 0; i < direct.length; i++) {
        for (let k = 0; k < direct[i].length; k++) if (!Object.is(direct[i][k], deferred[i][k])) { differing++; break; }
      }
      expect(differing).toBe(0);
      // Not a vacuous match: the rows carry real values.
      expect(direct.filter((r) => r.some((v) => v !== 0 && v % 1 !== 0)).length).toBeGreaterThan(100);
    });
  }
});

/**
 * The in-order worker pool (src/dataset/worker-pool.ts) with a worker script written here: results taken in job order
 * whatever the finishing order, at most 2 × threads jobs ahead of the one awaited, and the first failed job's error
 * (rebuilt with its fields) after the results before it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInOrder } from '../src/dataset/worker-pool.js';
import type { OrderedResult } from '../src/dataset/worker-pool.js';
import { testDir } from './helpers/tmp.js';

const tmp = testDir('flowsift-pool-');
const script = join(tmp, 'worker.mjs');
// Waits `delayMs`, then answers with when it started and ended; a job with `fail` answers an error with file fields.
writeFileSync(script, `import { parentPort } from 'node:worker_threads';
parentPort.on('message', async (job) => {
  const start = performance.timeOrigin + performance.now();
  await new Promise((r) => setTimeout(r, job.delayMs));
  if (job.fail) parentPort.postMessage({ index: job.index, error: { name: 'TableError', message: 'bad.csv:7: broken', file: 'bad.csv', line: 7 } });
  else parentPort.postMessage({ index: job.index, start, end: performance.timeOrigin + performance.now() });
});
`);
const URL_ = pathToFileURL(script);

interface Job { index: number; delayMs: number; fail?: boolean }
interface Result extends OrderedResult { start: number; end: number }

describe('runInOrder', () => {
  it('takes results in job order, and starts no job more than 2 × threads ahead of the one awaited', async () => {
    // Job 0 is slow; the others are quick and finish first.
    const jobs: Job[] = Array.from({ length: 10 }, (_, index) => ({ index, delayMs: index === 0 ? 1200 : 5 }));
    const taken: Result[] = [];
    await runInOrder<Job, Result>(URL_, jobs, 2, (r) => taken.push(r), 'test');
    expect(taken.map((r) => r.index)).toEqual(jobs.map((j) => j.index));
    // With 2 threads, jobs 1–3 run while job 0 does; job 4 (2 × 2 ahead of job 0) waits until job 0 is taken.
    const end0 = taken[0]!.end;
    expect(taken[3]!.start).toBeLessThan(end0);
    expect(taken[4]!.start).toBeGreaterThanOrEqual(end0);
  });

  it('throws the first failed job\'s error in job order with its fields, after taking the results before it', async () => {
    const jobs: Job[] = [
      { index: 0, delayMs: 200 }, { index: 1, delayMs: 150, fail: true }, { index: 2, delayMs: 1, fail: true }, { index: 3, delayMs: 1 },
    ];
    const taken: number[] = [];
    const e = await runInOrder<Job, Result>(URL_, jobs, 2, (r) => taken.push(r.index), 'test').then(() => null, (x: unknown) => x as Error & { file?: string; line?: number });
    expect(taken).toEqual([0]);
    expect(e).not.toBeNull();
    expect([e!.name, e!.message, e!.file, e!.line]).toEqual(['TableError', 'bad.csv:7: broken', 'bad.csv', 7]);
    expect(e!.stack).toBe('TableError: bad.csv:7: broken');
  });

  it('reports a worker script that cannot load as an error, not a hang', async () => {
    const missing = pathToFileURL(join(tmp, 'no-such-worker.mjs'));
    await expect(runInOrder<Job, Result>(missing, [{ index: 0, delayMs: 1 }], 1, () => {}, 'test')).rejects.toThrow();
  });
});

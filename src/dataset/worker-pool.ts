/**
 * Input files worked on by a pool of worker threads, their results taken strictly in input order, so that what the
 * main thread builds from them equals what one thread would build (used to read several flow tables into one record
 * set: parallel-tables.ts). A worker script answers each job message `{ index, … }` with one message
 * `{ index, …result }` or `{ index, error }` ({@link errorInfo}), and may keep state between jobs.
 */
import { Worker } from 'node:worker_threads';

/** An error as it crosses threads: what the CLI and callers read of it (class name, message, file fields). */
export interface WorkerErrorInfo {
  name: string;
  message: string;
  code?: string;
  file?: string;
  line?: number;
  column?: string;
  offset?: number;
}

/** Every worker answer: its job's index, and the error when the job failed. */
export interface OrderedResult {
  index: number;
  error?: WorkerErrorInfo;
}

/** `e` as {@link WorkerErrorInfo} (a worker's side). */
export function errorInfo(e: unknown): WorkerErrorInfo {
  const err = (e instanceof Error ? e : new Error(String(e))) as Error & Omit<WorkerErrorInfo, 'name' | 'message'>;
  return { name: err.name, message: err.message, code: err.code, file: err.file, line: err.line, column: err.column, offset: err.offset };
}

/** The worker's error as an Error with the same name, message and fields, and no stack beyond its first line. */
export function rebuildError(e: WorkerErrorInfo): Error {
  const err = new Error(e.message) as Error & Record<string, unknown>;
  err.name = e.name;
  for (const k of ['code', 'file', 'line', 'column', 'offset'] as const) if (e[k] !== undefined) err[k] = e[k];
  err.stack = `${e.name}: ${e.message}`;
  return err;
}

/**
 * Posts `jobs[i]` (each `{ index: i, … }`) to `threads` workers running `script` (at most one per job), and calls
 * `take` with the results in job order as they become available. At most `2 × threads` jobs run or wait ahead of the
 * one `take` waits for, so results held back by a slow job stay bounded.
 * @throws the first failed job's error in job order (rebuilt: same name, message and fields), after `take` had
 *   every result before it; what `take` throws; Error when a worker cannot start or stops
 */
export async function runInOrder<J extends { index: number }, R extends OrderedResult>(
  script: URL, jobs: readonly J[], threads: number, take: (r: R) => void, what: string,
): Promise<void> {
  const results = new Array<R | undefined>(jobs.length);
  const n = Math.max(1, Math.min(threads, jobs.length));
  const ahead = 2 * n;
  const workers: Worker[] = [];
  let next = 0; // next job to post
  let taken = 0; // results given to `take`
  let failure: WorkerErrorInfo | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      const idle: Worker[] = [];
      let busy = 0;
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      const takeInOrder = (): void => {
        while (taken < jobs.length && results[taken] && !failure) {
          const r = results[taken]!;
          results[taken] = undefined; // its memory goes once taken
          if (r.error) { failure = r.error; return; }
          take(r);
          taken++;
        }
      };
      const dispatch = (): void => {
        while (idle.length > 0 && next < jobs.length && next < taken + ahead && !failure) {
          busy++;
          idle.pop()!.postMessage(jobs[next++]);
        }
        if (busy === 0 && !settled) {
          settled = true;
          resolve();
        }
      };
      for (let k = 0; k < n; k++) {
        const w = new Worker(script);
        workers.push(w);
        w.on('error', fail);
        w.on('exit', (code) => fail(new Error(`${what} thread stopped (exit code ${code})`)));
        w.on('message', (r: R) => {
          busy--;
          results[r.index] = r;
          idle.push(w);
          try {
            takeInOrder();
          } catch (e) {
            fail(e);
            return;
          }
          dispatch();
        });
        idle.push(w);
      }
      dispatch();
    });
  } finally {
    for (const w of workers) w.removeAllListeners('exit');
    await Promise.all(workers.map((w) => w.terminate()));
  }
  const failed = failure as WorkerErrorInfo | null;
  if (failed) throw rebuildError(failed);
}

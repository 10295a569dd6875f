/**
 * Python oracles for the eval tests: Debian's scikit-learn run by /usr/bin/python3 (JSON in on stdin, JSON out),
 * a `describe` that skips visibly when scikit-learn is missing, and a small seeded PRNG for random cases.
 */
import { spawnSync } from 'node:child_process';
import { describe } from 'vitest';

export const PY = '/usr/bin/python3';
export const HAS_SKLEARN = spawnSync(PY, ['-c', 'import sklearn'], { stdio: 'ignore' }).status === 0;
/** `describe` that runs only when scikit-learn imports; otherwise skipped with the reason in its name. */
export const describeSk = (name: string, fn: () => void): void => {
  if (HAS_SKLEARN) describe(name, fn);
  else describe.skip(`${name} [skipped: ${PY} cannot import sklearn; apt-get install python3-sklearn]`, fn);
};

/** Runs a Python script with `input` as JSON on stdin; returns its stdout parsed as JSON. @throws Error with stderr */
export function runPython<T>(script: string, input: unknown): T {
  const r = spawnSync(PY, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** mulberry32: seeded PRNG, uniform in [0, 1) (the one the stratified split uses). */
export { prng } from '../../src/dataset/split.js';

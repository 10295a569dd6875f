/** Runs the built CLI (bin/flowsift.js → dist/bundle/, built by `npm test`'s pretest) as a child process. */
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import { join } from 'node:path';
import { REPO } from './shared.js';

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs `flowsift ARGS` in the repository root; `input` goes to stdin. */
export function flowsift(args: string[], input?: Buffer | string): CliResult {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'flowsift.js'), ...args], {
    cwd: REPO, input, maxBuffer: 256 << 20, encoding: 'utf8', env: { ...process.env, FLOWSIFT_DEBUG: '' },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Asserts the CLI's error contract: exit `code`, exactly one stderr line starting `flowsift: ` and matching
 * `pattern`, no stack trace.
 */
export function expectOneLineError(r: CliResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^flowsift: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** Runs the built CLI (dist/, built by `npm test`'s pretest) as a child process. */
import { spawnSync } from 'node:child_process';
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

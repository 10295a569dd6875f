/**
 * Locating `../shared` (the read-only datasets beside the repository). Tests on shared data use
 * `describeShared`, which skips them with a visible reason on a fresh clone without `../shared`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

/** Repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** `../shared` relative to the repository, or FLOWSIFT_SHARED. */
export const SHARED = process.env.FLOWSIFT_SHARED ?? resolve(REPO, '..', 'shared');
/** True when the shared datasets are present. */
export const HAS_SHARED = existsSync(join(SHARED, 'datasets', 'README.md'));

/** Absolute path of a file under `../shared/datasets`. */
export function sharedPath(...parts: string[]): string {
  return join(SHARED, 'datasets', ...parts);
}

/** `describe` that runs only when `../shared` exists; otherwise the suite is skipped with the reason in its name. */
export function describeShared(name: string, fn: () => void): void {
  if (HAS_SHARED) describe(name, fn);
  else describe.skip(`${name} [skipped: ../shared/datasets not found at ${SHARED}]`, fn);
}

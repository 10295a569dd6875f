/**
 * Temporary directories of a test file, removed after the file's tests (test/helpers/cleanup.ts, a vitest setup file,
 * runs the removal in an afterAll hook of every test file). Some test files write ~100 MB of captures and models.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new directory under the system's temporary directory, named `prefix` + 6 random characters. */
export function testDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Removes every directory {@link testDir} made in this test file. */
export function removeTestDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}

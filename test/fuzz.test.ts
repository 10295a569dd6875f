/**
 * A short seeded run of the fuzz harness (scripts/fuzz.ts): a few hundred mutated captures through the whole
 * in-process pipeline (every profile option, CSV, labels, scoring with the shipped model) must give no crash,
 * no hang and only flowsift's own input errors. The long run is `npm run fuzz -- --count 100000` (2 s per input);
 * here the limit is 5 s because the other test files share the CPU.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED, REPO } from './helpers/shared.js';

describe('fuzz harness (seeded, short)', () => {
  it(`250 mutated captures${HAS_SHARED ? '' : ' (shipped example and synthetic seeds only: ../shared not found)'}: no crash, no hang`, () => {
    const r = spawnSync(join(REPO, 'node_modules', '.bin', 'tsx'), ['scripts/fuzz.ts', '--count', '250', '--seed', '7', '--time-limit', '5000', '--json', '--quiet'], {
      cwd: REPO, encoding: 'utf8', timeout: 110_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      inputs: number; crashes: number; hangs: number; flows: number; okInputs: number; errorsByKind: Record<string, number>; failures: string[];
    };
    expect(summary.failures).toEqual([]);
    expect(summary.inputs).toBe(250);
    expect(summary.crashes).toBe(0);
    expect(summary.hangs).toBe(0);
    // The mutations reach past the capture parser: most inputs give flows, and corrupt ones give CaptureErrors.
    expect(summary.okInputs).toBeGreaterThan(50);
    expect(summary.flows).toBeGreaterThan(1000);
    for (const kind of Object.keys(summary.errorsByKind)) expect(kind).toMatch(/^(CaptureError:\w+|DatasetError|ModelError|OutputError|TableError)$/);
  });
});

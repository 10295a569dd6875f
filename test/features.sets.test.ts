/**
 * Named feature sets (src/features/sets.ts) against the feature registry.
 */
import { describe, expect, it } from 'vitest';
import { createFeatureSet } from '../src/features/registry.js';
import { TRAVEL_FEATURES } from '../src/features/sets.js';

describe('TRAVEL_FEATURES', () => {
  const registry = createFeatureSet().features;
  const byName = new Map(registry.map((d) => [d.name, d]));

  it('names only registry features that are model inputs, each once', () => {
    const unknown = TRAVEL_FEATURES.filter((n) => !byName.has(n));
    expect(unknown).toEqual([]);
    expect(TRAVEL_FEATURES.filter((n) => byName.get(n)!.modelInput === false)).toEqual([]);
    expect(new Set(TRAVEL_FEATURES).size).toBe(TRAVEL_FEATURES.length);
    expect(TRAVEL_FEATURES).toHaveLength(35);
  });

  it('keeps the registry order, so a model trained on it has a fixed column order', () => {
    const positions = TRAVEL_FEATURES.map((n) => registry.findIndex((d) => d.name === n));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
  });

  it('has no absolute time or per-second rate (the families docs/feature-study.md drops)', () => {
    const timed = TRAVEL_FEATURES.filter((n) => ['µs', 'ms', 'bytes/s', 'packets/s'].includes(byName.get(n)!.unit));
    expect(timed).toEqual([]);
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(TRAVEL_FEATURES)).toBe(true);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignWaves, failuresStop } from '../../src/modules/network/domain/waves.js';

describe('rollout waves', () => {
  it('a canary first, then growing waves', () => {
    expect(assignWaves(10, 1, 3)).toEqual([0, 1, 2, 2, 3, 3, 3, 3, 3, 3]);
    expect(assignWaves(3, 1, 1)).toEqual([0, 1, 1]);
    expect(assignWaves(1, 5, 3)).toEqual([0]);
    expect(assignWaves(0, 1, 3)).toEqual([]);
  });

  it('property: every asset gets exactly one wave, waves are in order, none is empty, the canary is the asked size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 10 }),
        (count, canary, waves) => {
          const assigned = assignWaves(count, canary, waves);
          expect(assigned).toHaveLength(count);
          expect([...assigned].sort((a, b) => a - b)).toEqual(assigned);
          const used = new Set(assigned);
          if (count > 0) expect([...used]).toEqual([...Array(Math.max(...assigned) + 1).keys()]);
          expect(assigned.filter((w) => w === 0)).toHaveLength(Math.min(count, canary));
          expect(used.size).toBeLessThanOrEqual(waves + 1);
        },
      ),
    );
  });

  it('failures stop a rollout when their share passes the threshold', () => {
    expect(failuresStop(0, 10, 0)).toBe(false);
    expect(failuresStop(1, 10, 0)).toBe(true);
    expect(failuresStop(1, 10, 0.1)).toBe(false);
    expect(failuresStop(2, 10, 0.1)).toBe(true);
  });
});

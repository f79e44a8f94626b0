import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backoffCeiling,
  backoffDelay,
  createBackoff,
  type JitterStrategy,
} from '../../src/platform/jobs/backoff.js';

const strategies: JitterStrategy[] = ['full', 'decorrelated'];

/** Settings as config allows them: base ≥ 1 ms, max ≥ base. */
const settings = fc
  .tuple(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 0, max: 3_600_000 }))
  .map(([baseMs, extra]) => ({ baseMs, maxMs: baseMs + extra }));

/** A random source in [0, 1) replaying a fixed list (cycled), so each case is reproducible. */
function replay(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

const unitValues = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
  minLength: 1,
  maxLength: 20,
});

/** mulberry32: a small seeded generator, for averaging many draws deterministically. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mean(attempt: number, jitter: JitterStrategy, s: { baseMs: number; maxMs: number }, seed: number) {
  const random = seeded(seed);
  const samples = 4000;
  let sum = 0;
  for (let i = 0; i < samples; i++) sum += backoffDelay(attempt, { ...s, jitter, random });
  return sum / samples;
}

describe.each(strategies)('%s jitter backoff', (jitter) => {
  it('never exceeds the maximum and is never negative, for any attempt and random source', () => {
    fc.assert(
      fc.property(settings, fc.integer({ min: -5, max: 5000 }), unitValues, (s, attempt, values) => {
        const delay = backoffDelay(attempt, { ...s, jitter, random: replay(values) });
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(s.maxMs);
      }),
    );
  });

  it('stays within bounds when the random source misbehaves (1, negative, NaN)', () => {
    fc.assert(
      fc.property(settings, fc.integer({ min: 1, max: 100 }), fc.constantFrom(1, -0.5, NaN, 7), (s, a, r) => {
        const delay = backoffDelay(a, { ...s, jitter, random: () => r });
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(s.maxMs);
      }),
    );
  });

  it('grows with the attempt number in expectation', () => {
    fc.assert(
      fc.property(settings, fc.integer({ min: 1, max: 12 }), fc.nat(), (s, attempt, seed) => {
        const now = mean(attempt, jitter, s, seed);
        const next = mean(attempt + 1, jitter, s, seed);
        // At 4,000 draws the sampling noise of a mean is about 1% of it: a 10% margin never trips on
        // noise and still catches a delay that shrinks as attempts go up.
        expect(next).toBeGreaterThanOrEqual(0.9 * now);
      }),
      { numRuns: 25 },
    );
  });

  it('reaches far above the base when the draws are high, until the cap', () => {
    const s = { baseMs: 100, maxMs: 10_000 };
    const high = () => 0.999;
    const delays = [1, 2, 3, 4, 5, 10, 20].map((a) => backoffDelay(a, { ...s, jitter, random: high }));
    expect(delays[0]!).toBeLessThan(400);
    expect(delays[delays.length - 1]!).toBeGreaterThan(9_900);
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
  });
});

describe('full jitter', () => {
  it('is a uniform pick below base·2^(attempt−1), capped at max: monotone in the attempt for each draw', () => {
    fc.assert(
      fc.property(
        settings,
        fc.integer({ min: 1, max: 80 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (s, attempt, r) => {
          const at = (a: number) => backoffDelay(a, { ...s, jitter: 'full', random: () => r });
          expect(at(attempt)).toBe(Math.floor(r * backoffCeiling(attempt, s.baseMs, s.maxMs)));
          expect(at(attempt + 1)).toBeGreaterThanOrEqual(at(attempt));
        },
      ),
    );
  });

  it('gives exact values for a fixed draw', () => {
    const backoff = createBackoff({ baseMs: 1000, maxMs: 5000, random: () => 0.5 });
    expect([1, 2, 3, 4, 5].map(backoff)).toEqual([500, 1000, 2000, 2500, 2500]);
  });
});

describe('decorrelated jitter', () => {
  it('never goes below the base', () => {
    fc.assert(
      fc.property(settings, fc.integer({ min: 1, max: 200 }), unitValues, (s, attempt, values) => {
        expect(
          backoffDelay(attempt, { ...s, jitter: 'decorrelated', random: replay(values) }),
        ).toBeGreaterThanOrEqual(s.baseMs);
      }),
    );
  });
});

describe('backoff settings', () => {
  it('refuses a maximum below the base with a message naming both settings', () => {
    expect(() => createBackoff({ baseMs: 1000, maxMs: 10, random: Math.random })).toThrow(
      /jobs\.backoffMaxMs \(10\) must be at least jobs\.backoffBaseMs \(1000\)/,
    );
    expect(() => createBackoff({ baseMs: 0, maxMs: 10, random: Math.random })).toThrow(/backoffBaseMs/);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allowedSymbols,
  defaultPasswordPolicy,
  generatePassword,
  passwordClasses,
  passwordEntropyBits,
  passwordMeetsPolicy,
  passwordPolicySchema,
} from '../../src/modules/access/domain/password.js';

const ambiguous = /[0Oo1lI|]/;

describe('password policy', () => {
  it('by default: 24 characters of every class, nothing ambiguous, at least 100 bits', () => {
    for (let i = 0; i < 500; i++) {
      const password = generatePassword();
      expect(password).toHaveLength(24);
      expect(password).not.toMatch(ambiguous);
      expect(passwordMeetsPolicy(password)).toBe(true);
    }
    expect(passwordEntropyBits()).toBeGreaterThanOrEqual(100);
  });

  it('draws from the whole alphabet (every character shows up)', () => {
    const seen = new Set(Array.from({ length: 2_000 }, () => generatePassword()).join(''));
    // 24 lower + 24 upper + 8 digits + 8 symbols
    expect(seen.size).toBe(64);
  });

  it('uses only characters that need no quoting in SQL strings, URLs or most shells', () => {
    expect(allowedSymbols).toMatch(/^[-_.~+=^,]+$/);
    expect(generatePassword()).toMatch(/^[A-Za-z0-9\-_.~+=^,]+$/);
  });

  it('is determined by the injected random source', () => {
    const seq = (seed: number) => {
      let state = seed;
      return (max: number) => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) % max;
    };
    expect(generatePassword(defaultPasswordPolicy, seq(7))).toBe(
      generatePassword(defaultPasswordPolicy, seq(7)),
    );
    expect(generatePassword(defaultPasswordPolicy, seq(7))).not.toBe(
      generatePassword(defaultPasswordPolicy, seq(8)),
    );
  });

  it('meets any valid policy (property)', () => {
    const policy = fc.record({
      length: fc.integer({ min: 12, max: 128 }),
      classes: fc.subarray([...passwordClasses], { minLength: 1 }),
      symbols: fc.subarray([...allowedSymbols], { minLength: 1 }).map((s) => s.join('')),
    });
    fc.assert(
      fc.property(policy, (input) => {
        const parsed = passwordPolicySchema.parse(input);
        const password = generatePassword(parsed);
        expect([...password]).toHaveLength(parsed.length);
        expect(password).not.toMatch(ambiguous);
        expect(passwordMeetsPolicy(password, parsed)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses policies that are too weak or use unsafe symbols', () => {
    expect(passwordPolicySchema.safeParse({ length: 8 }).success).toBe(false);
    expect(passwordPolicySchema.safeParse({ classes: [] }).success).toBe(false);
    expect(passwordPolicySchema.safeParse({ symbols: "-'" }).success).toBe(false);
    expect(passwordPolicySchema.safeParse({ symbols: '\\' }).success).toBe(false);
    expect(passwordPolicySchema.safeParse({ extra: 1 }).success).toBe(false);
  });
});

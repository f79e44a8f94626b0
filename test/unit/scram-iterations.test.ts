import { describe, expect, it } from 'vitest';
import {
  defaultPasswordPolicy,
  passwordEntropyBits,
  passwordPolicySchema,
  scramIterationsFor,
} from '../../src/modules/access/domain/password.js';
import { configSchema } from '../../src/platform/config.js';
import { ConfigError } from '../../src/platform/errors.js';

describe('SCRAM iterations from the password policy', () => {
  const weak = passwordPolicySchema.parse({ length: 12, classes: ['digit'] });

  it('the default policy is strong enough for 16 iterations', () => {
    expect(passwordEntropyBits(defaultPasswordPolicy)).toBeGreaterThanOrEqual(100);
    expect(scramIterationsFor(defaultPasswordPolicy)).toBe(16);
  });

  it('a weaker policy keeps 4096 and refuses fewer, naming the setting and the bits', () => {
    expect(passwordEntropyBits(weak)).toBeLessThan(100);
    expect(scramIterationsFor(weak)).toBe(4096);
    expect(scramIterationsFor(weak, 10_000)).toBe(10_000);
    expect(() => scramIterationsFor(weak, 64)).toThrow(ConfigError);
    expect(() => scramIterationsFor(weak, 64)).toThrow(
      /connectors\.postgresScramIterations 64 is below 4096\b.* gives 33 bits/,
    );
  });

  it('a configured count wins for a strong policy', () => {
    expect(scramIterationsFor(defaultPasswordPolicy, 64)).toBe(64);
    expect(scramIterationsFor(defaultPasswordPolicy, 4096)).toBe(4096);
  });

  it('config accepts whole positive counts only', () => {
    const parse = (value: unknown) =>
      configSchema.safeParse({ connectors: { postgresScramIterations: value } }).success;
    expect(parse(64)).toBe(true);
    expect(parse('32')).toBe(true);
    expect(parse(0)).toBe(false);
    expect(parse(1.5)).toBe(false);
    expect(parse(2_000_000)).toBe(false);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterFailure,
  attemptVerdict,
  defaultLockoutPolicy,
  delayAfter,
  freshLockout,
  type LockoutState,
} from '../../src/modules/identity/domain/lockout.js';
import { addressIn } from '../../src/modules/identity/domain/networks.js';
import { createRateLimit } from '../../src/modules/identity/domain/rate-limit.js';
import {
  canonicalRecoveryCode,
  generateRecoveryCode,
  passwordProblem,
} from '../../src/modules/identity/domain/secrets.js';
import { sessionVerdict } from '../../src/modules/identity/domain/session-policy.js';

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);

describe('lockout with backoff', () => {
  it('locks exactly at the 20th failure in a row, whatever the timing, and only then', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 600_000 }), { minLength: 25, maxLength: 25 }),
        (gaps) => {
          let state: LockoutState = freshLockout;
          let now = 0;
          let lockedAt = -1;
          for (let i = 0; i < gaps.length; i += 1) {
            now += gaps[i]!;
            const result = afterFailure(state, at(now));
            if (result.lockedNow) {
              expect(lockedAt).toBe(-1);
              lockedAt = i + 1;
            }
            state = result.state;
          }
          expect(lockedAt).toBe(20);
          expect(attemptVerdict(state, at(now + 10 ** 9))).toEqual({ allowed: false, reason: 'locked' });
        },
      ),
    );
  });

  it('lets the first five failures through at once, then doubles the wait up to the cap', () => {
    expect([1, 5, 6, 7, 8].map((n) => delayAfter(n))).toEqual([0, 0, 1000, 2000, 4000]);
    expect(delayAfter(19)).toBe(defaultLockoutPolicy.maxDelayMs);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (n) => {
        expect(delayAfter(n + 1)).toBeGreaterThanOrEqual(delayAfter(n));
        expect(delayAfter(n)).toBeLessThanOrEqual(defaultLockoutPolicy.maxDelayMs);
      }),
    );
  });

  it('refuses an attempt during the backoff and allows it after', () => {
    let state = freshLockout;
    for (let i = 0; i < 6; i += 1) state = afterFailure(state, at(0)).state;
    expect(attemptVerdict(state, at(999))).toMatchObject({ allowed: false, reason: 'backoff' });
    expect(attemptVerdict(state, at(1000))).toEqual({ allowed: true });
  });
});

describe('rate limit', () => {
  it('allows `limit` hits per window per key, then says how long to wait', () => {
    const limit = createRateLimit({ limit: 2, windowMs: 60_000 });
    expect([limit.hit('a', 0), limit.hit('a', 1), limit.hit('a', 10_000)]).toEqual([
      undefined,
      undefined,
      50_000,
    ]);
    expect(limit.hit('b', 10_000)).toBeUndefined();
    expect(limit.hit('a', 60_000)).toBeUndefined();
  });

  it('keeps at most maxKeys windows', () => {
    const limit = createRateLimit({ limit: 1, windowMs: 60_000, maxKeys: 3 });
    for (const key of ['a', 'b', 'c', 'd']) limit.hit(key, 0);
    expect(limit.hit('a', 1)).toBeUndefined(); // 'a' was forgotten to make room
  });
});

describe('session times', () => {
  const policy = { idleMs: 30 * 60_000, mfaMs: 5 * 60_000 };
  const base = {
    stage: 'active' as const,
    lastSeenAt: at(0),
    expiresAt: at(12 * 3_600_000),
    revokedAt: null,
  };
  it('is valid until idle, expired or revoked', () => {
    expect(sessionVerdict(base, at(29 * 60_000), policy)).toBe('valid');
    expect(sessionVerdict(base, at(30 * 60_000), policy)).toBe('idle');
    expect(sessionVerdict({ ...base, lastSeenAt: at(12 * 3_600_000 - 1) }, at(12 * 3_600_000), policy)).toBe(
      'expired',
    );
    expect(sessionVerdict({ ...base, revokedAt: at(1) }, at(2), policy)).toBe('revoked');
    expect(sessionVerdict({ ...base, stage: 'mfa' }, at(5 * 60_000), policy)).toBe('idle');
  });
});

describe('networks', () => {
  it('matches IPv4, IPv4-mapped IPv6 and IPv6 against CIDRs', () => {
    expect(addressIn('192.0.2.10', ['192.0.2.0/24'])).toBe(true);
    expect(addressIn('::ffff:192.0.2.10', ['192.0.2.0/24'])).toBe(true);
    expect(addressIn('198.51.100.1', ['192.0.2.0/24'])).toBe(false);
    expect(addressIn('2001:db8::1', ['2001:db8::/32'])).toBe(true);
    expect(addressIn('127.0.0.2', ['127.0.0.2'])).toBe(true);
    expect(addressIn('not an address', ['0.0.0.0/0'])).toBe(false);
  });
  it('agrees with arithmetic on random IPv4 addresses and prefixes', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, net, bits) => {
        const toInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
        const inside = Math.floor(toInt(a) / 2 ** (32 - bits)) === Math.floor(toInt(net) / 2 ** (32 - bits));
        expect(addressIn(a, [`${net}/${bits}`])).toBe(inside);
      }),
    );
  });
});

describe('recovery codes and passwords', () => {
  it('generates 80-bit codes that read back in any case and spacing', () => {
    const code = generateRecoveryCode();
    expect(code).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
    expect(canonicalRecoveryCode(code.toUpperCase().replace(/-/g, ' '))).toBe(code);
    expect(canonicalRecoveryCode('too-short')).toBeUndefined();
    expect(new Set(Array.from({ length: 200 }, generateRecoveryCode)).size).toBe(200);
  });
  it('refuses short passwords, ones holding the username and ones of few characters', () => {
    expect(passwordProblem('short', 'alice')).toMatch(/at least 12/);
    expect(passwordProblem('alice-is-my-password', 'alice')).toMatch(/username/);
    expect(passwordProblem('aaaaaaaaaaaaaaab', 'bob')).toMatch(/different/);
    expect(passwordProblem('correct horse battery staple', 'alice')).toBeUndefined();
  });
});

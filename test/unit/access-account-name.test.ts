import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accountName,
  accountNameLimits,
  accountNamePattern,
  isManagedAccountName,
  shortId,
  type AccountTarget,
} from '../../src/modules/access/domain/account-name.js';
import { username } from '../../src/modules/identity/identity.schemas.js';

const targets = Object.keys(accountNameLimits) as AccountTarget[];
const linuxUser = /^[a-z_][a-z0-9_-]*$/;

/** Usernames from identity's grammar, `^[a-z][a-z0-9._-]{1,62}$`. */
const operatorUsername = fc.stringMatching(/^[a-z][a-z0-9._-]{1,62}$/);
/** Anything an identity provider might hand us: upper case, accents, symbols, emoji, empty. */
const anyUsername = fc.oneof(
  operatorUsername,
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

describe('account names', () => {
  it.each([
    ['jane.doe', 'postgres', /^gh_jane_doe_[a-z2-7]{10}$/],
    ['Jane.Doe-Smith', 'mysql', /^gh_jane_doe_smith_[a-z2-7]{10}$/],
    ['josé', 'linux', /^gh_jose_[a-z2-7]{10}$/],
    ['--..--', 'postgres', /^gh_op_[a-z2-7]{10}$/],
    ['a'.repeat(63), 'mysql', /^gh_a{18}_[a-z2-7]{10}$/],
    ['a'.repeat(63), 'postgres', /^gh_a{49}_[a-z2-7]{10}$/],
    ['abcdefghijklmnopq.rst', 'mysql', /^gh_abcdefghijklmnopq_[a-z2-7]{10}$/], // cut at 18, trailing _ dropped
  ])('%s on %s', (user, target, shape) => {
    const name = accountName(user, '0192f1c2-7a4b-7c3d-8e5f-0123456789ab', target as AccountTarget);
    expect(name).toMatch(shape);
  });

  it('any username, on any target: a valid name within the limit, the same every time', () => {
    fc.assert(
      fc.property(anyUsername, fc.uuid(), fc.constantFrom(...targets), (user, grantId, target) => {
        const name = accountName(user, grantId, target);
        expect(name).toMatch(accountNamePattern);
        expect(Buffer.byteLength(name, 'utf8')).toBeLessThanOrEqual(accountNameLimits[target]);
        expect(name.length).toBeLessThanOrEqual(accountNameLimits[target]);
        expect(name).toMatch(linuxUser);
        expect(isManagedAccountName(name)).toBe(true);
        expect(accountName(user, grantId, target)).toBe(name);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps as much of an identity username as fits: dots and dashes as _, cut at the engine's room", () => {
    fc.assert(
      fc.property(operatorUsername, fc.uuid(), (user, grantId) => {
        expect(username.safeParse(user).success).toBe(true);
        const plain = user.replace(/[^a-z0-9]+/g, '_').replace(/_+$/, '');
        for (const target of targets) {
          const room = accountNameLimits[target] - 'gh__'.length - 10;
          const expected = plain.slice(0, room).replace(/_+$/, '');
          expect(accountName(user, grantId, target)).toBe(`gh_${expected}_${shortId(grantId)}`);
        }
      }),
    );
  });

  it('different grant ids give different names, even for the same operator and UUIDv7 ids made together', () => {
    fc.assert(
      fc.property(
        operatorUsername,
        fc.uniqueArray(fc.uuid(), { minLength: 2, maxLength: 50 }),
        (user, ids) => {
          const names = ids.map((id) => accountName(user, id, 'mysql'));
          expect(new Set(names).size).toBe(ids.length);
        },
      ),
    );
    const sameMillisecond = Array.from(
      { length: 2000 },
      (_, i) => `0192f1c2-7a4b-7${(i % 4096).toString(16).padStart(3, '0')}-8e5f-0123456789ab`,
    );
    expect(new Set(sameMillisecond.map(shortId)).size).toBe(sameMillisecond.length);
  });

  it('the sweeper treats every gh_ account as Gatehouse’s, including hand-made ones', () => {
    expect(['gh_x', 'gh_hand_made', 'gh_'].map(isManagedAccountName)).toEqual([true, true, true]);
    expect(['postgres', 'ghost', 'GH_x', 'root'].map(isManagedAccountName)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

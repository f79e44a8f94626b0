import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mapClaims, showsMfa, type ClaimMapping } from '../../src/modules/identity/domain/oidc-claims.js';

const mapping: ClaimMapping = {
  usernameClaim: 'preferred_username',
  groupsClaim: 'groups',
  groupRoles: { 'Ops-Admins': ['admin', 'not-a-role'], auditors: ['auditor'] },
  requireMfa: true,
  mfaAmr: ['otp', 'hwk'],
  mfaAcr: ['urn:example:mfa'],
};

describe('OIDC claims', () => {
  it('requires an accepted amr value or acr when MFA is required', () => {
    expect(showsMfa({ amr: ['pwd', 'otp'] }, mapping)).toBe(true);
    expect(showsMfa({ acr: 'urn:example:mfa' }, mapping)).toBe(true);
    expect(showsMfa({ amr: ['pwd'] }, mapping)).toBe(false);
    expect(showsMfa({ amr: 'otp' }, mapping)).toBe(false);
    expect(mapClaims({ preferred_username: 'ann', amr: ['pwd'] }, mapping)).toMatchObject({
      ok: false,
      reason: 'no-mfa',
    });
    expect(mapClaims({ preferred_username: 'ann' }, { ...mapping, requireMfa: false }).ok).toBe(true);
  });

  it('maps groups (case-folded, invalid ones dropped) to roles; requester always; unknown roles ignored', () => {
    const mapped = mapClaims(
      {
        preferred_username: 'Ann.Lee',
        amr: ['otp'],
        groups: ['ops-admins', 'Auditors', 'bad group', 7],
        name: 'Ann Lee',
      },
      mapping,
    );
    expect(mapped).toEqual({
      ok: true,
      username: 'ann.lee',
      displayName: 'Ann Lee',
      email: null,
      groups: ['auditors', 'ops-admins'],
      roles: ['admin', 'auditor', 'requester'],
    });
  });

  it('refuses a missing or ungrammatical username, whatever the claims hold', () => {
    expect(mapClaims({ amr: ['otp'] }, mapping)).toMatchObject({ ok: false, reason: 'no-username' });
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (username, groups) => {
        const mapped = mapClaims({ amr: ['otp'], preferred_username: username, groups }, mapping);
        if (mapped.ok) {
          expect(mapped.username).toMatch(/^[a-z][a-z0-9._-]{1,62}$/);
          for (const g of mapped.groups) expect(g).toMatch(/^[a-z0-9][a-z0-9._-]{0,62}$/);
          expect(mapped.roles).toContain('requester');
        }
      }),
    );
  });
});

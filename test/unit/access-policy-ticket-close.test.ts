import { describe, expect, it } from 'vitest';
import { policySchema } from '../../src/modules/access/domain/policy.js';

const base = {
  name: 'dev-read',
  requesterGroups: ['dev'],
  levels: ['read-only'],
  assets: {},
  maxDuration: '4h',
  approvals: { approverGroups: ['leads'] },
};

describe("a policy says what closing a grant's ticket does", () => {
  it('revokes by default, the restrictive choice', () => {
    expect(policySchema.parse(base).onTicketClose).toBe('revoke');
  });

  it('may let the grant run out instead', () => {
    expect(policySchema.parse({ ...base, onTicketClose: 'keep' }).onTicketClose).toBe('keep');
  });

  it('refuses anything else, naming the choices', () => {
    const result = policySchema.safeParse({ ...base, onTicketClose: 'ignore' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['onTicketClose']);
    expect(result.error?.issues[0]?.message).toMatch(/revoke|keep/);
  });
});

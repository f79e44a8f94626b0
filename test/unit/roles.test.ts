import { describe, expect, it } from 'vitest';
import { effectiveRoles, permissionsOf, roles } from '../../src/modules/identity/domain/roles.js';

describe('roles and permissions', () => {
  it('every operator is a requester; a token scoped to nothing carries all its owner holds', () => {
    expect(effectiveRoles([], [])).toEqual(['requester']);
    expect(effectiveRoles(['auditor'], [])).toEqual(['requester', 'auditor']);
  });

  it('a token never carries a role its owner no longer holds', () => {
    expect(effectiveRoles(['requester'], ['admin'])).toEqual([]);
    expect(effectiveRoles(['auditor', 'approver'], ['auditor', 'admin'])).toEqual(['auditor']);
  });

  it('ignores unknown role names from the store', () => {
    expect(effectiveRoles(['root', 'auditor'], [])).toEqual(['requester', 'auditor']);
  });

  it('auditors read everything and change nothing; only admins write the inventory', () => {
    const auditor = permissionsOf(['auditor']);
    expect([...auditor].filter((p) => p.endsWith(':write'))).toEqual([]);
    expect(auditor.has('audit:read') && auditor.has('audit:export') && auditor.has('inventory:read')).toBe(
      true,
    );
    for (const role of roles) {
      expect(permissionsOf([role]).has('inventory:write')).toBe(role === 'admin');
    }
    expect(permissionsOf(['requester']).has('audit:read')).toBe(false);
  });

  it('every role reads tickets; every role but auditor works them', () => {
    for (const role of roles) {
      expect(permissionsOf([role]).has('tickets:read')).toBe(true);
      expect(permissionsOf([role]).has('tickets:write')).toBe(role !== 'auditor');
    }
  });

  it('every operator may request access; approvers review; readers see all; only admins administer it', () => {
    expect(permissionsOf(effectiveRoles([], [])).has('access:request')).toBe(true);
    for (const role of roles) {
      expect(permissionsOf([role]).has('access:admin')).toBe(role === 'admin');
      expect(permissionsOf([role]).has('access:review')).toBe(role === 'approver' || role === 'admin');
    }
    expect(permissionsOf(['auditor']).has('access:read')).toBe(true);
    expect(permissionsOf(['security-officer']).has('access:read')).toBe(true);
    expect(permissionsOf(['requester']).has('access:read')).toBe(false);
  });
});

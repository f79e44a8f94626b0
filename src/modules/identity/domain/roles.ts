/**
 * Roles and what they allow. Every route declares one permission; a caller has it when one of their
 * effective roles grants it. This table is the whole authorization policy: no role checks elsewhere.
 */
export const roles = [
  'requester',
  'approver',
  'network-admin',
  'security-officer',
  'auditor',
  'admin',
] as const;
export type Role = (typeof roles)[number];

export const permissions = [
  'inventory:read',
  'inventory:write',
  'audit:read',
  'audit:export',
  'jobs:read',
  'jobs:write',
  'operators:read',
  'operators:write',
  'tokens:own',
  'tickets:read',
  'tickets:write',
  'access:request',
  'access:review',
  'access:read',
  'access:admin',
  'hardening:read',
  'hardening:write',
  'hardening:decide',
  'hardening:apply',
  'compliance:read',
  'compliance:write',
  'network:read',
  'network:write',
  'network:apply',
  'integrations:read',
  'integrations:write',
] as const;
export type Permission = (typeof permissions)[number];

const readEverything: Permission[] = [
  'inventory:read',
  'audit:read',
  'audit:export',
  'jobs:read',
  'operators:read',
  'tickets:read',
  'access:read',
  'hardening:read',
  'compliance:read',
  'network:read',
];

/** Everyone who does the work opens, updates and closes tickets; auditors only read them. */
const workTickets: Permission[] = ['tickets:read', 'tickets:write'];

const grants: Record<Role, readonly Permission[]> = {
  requester: ['inventory:read', 'tokens:own', ...workTickets, 'access:request'],
  approver: [
    'inventory:read',
    'tokens:own',
    'operators:read',
    ...workTickets,
    'access:request',
    'access:review',
  ],
  'network-admin': [
    'inventory:read',
    'tokens:own',
    'jobs:read',
    ...workTickets,
    'network:read',
    'network:write',
    'network:apply',
  ],
  // the security office owns the hardening decisions and runs scans; applying changes to hosts is ops (admin)
  'security-officer': [
    ...readEverything,
    'tokens:own',
    'tickets:write',
    'hardening:write',
    'hardening:decide',
    'compliance:write',
  ],
  auditor: [...readEverything, 'tokens:own'],
  admin: permissions,
};

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function permissionsOf(held: readonly Role[]): ReadonlySet<Permission> {
  return new Set(held.flatMap((role) => grants[role]));
}

/**
 * A token acts with the roles it was scoped to that its owner still holds: taking a role from an
 * operator takes it from their tokens too. Every operator is a requester.
 */
export function effectiveRoles(operatorRoles: readonly string[], tokenRoles: readonly string[]): Role[] {
  const owner = new Set<Role>(['requester', ...operatorRoles.filter(isRole)]);
  const scoped = tokenRoles.length === 0 ? [...owner] : tokenRoles.filter(isRole).filter((r) => owner.has(r));
  return roles.filter((role) => scoped.includes(role));
}

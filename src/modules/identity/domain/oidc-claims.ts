import { isRole, type Role } from './roles.js';

/** How an ID token's claims become a Gatehouse operator. */
export interface ClaimMapping {
  usernameClaim: string;
  groupsClaim: string;
  groupRoles: Record<string, readonly string[]>;
  requireMfa: boolean;
  mfaAmr: readonly string[];
  mfaAcr: readonly string[];
}

export type MappedIdentity =
  | { ok: true; username: string; displayName: string; email: string | null; groups: string[]; roles: Role[] }
  | { ok: false; reason: 'no-mfa' | 'no-username' | 'bad-username'; detail: string };

const USERNAME = /^[a-z][a-z0-9._-]{1,62}$/;
const GROUP = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Whether the IdP says a second factor was used: one of the accepted `amr` values, or an accepted `acr`. */
export function showsMfa(
  claims: Record<string, unknown>,
  mapping: Pick<ClaimMapping, 'mfaAmr' | 'mfaAcr'>,
): boolean {
  const amr = Array.isArray(claims.amr) ? claims.amr.filter((v): v is string => typeof v === 'string') : [];
  const acr = typeof claims.acr === 'string' ? claims.acr : undefined;
  return amr.some((v) => mapping.mfaAmr.includes(v)) || (acr !== undefined && mapping.mfaAcr.includes(acr));
}

/**
 * Maps verified ID token claims: the username (lower-cased, in Gatehouse's grammar), the groups (those
 * in Gatehouse's grammar; others ignored) and the roles the configured groups grant (requester always).
 */
export function mapClaims(claims: Record<string, unknown>, mapping: ClaimMapping): MappedIdentity {
  if (mapping.requireMfa && !showsMfa(claims, mapping)) {
    return {
      ok: false,
      reason: 'no-mfa',
      detail: `amr=${JSON.stringify(claims.amr ?? null)} acr=${JSON.stringify(claims.acr ?? null)}`,
    };
  }
  const raw = claims[mapping.usernameClaim];
  if (typeof raw !== 'string' || raw === '') {
    return { ok: false, reason: 'no-username', detail: `claim ${mapping.usernameClaim} is missing` };
  }
  const username = raw.toLowerCase();
  if (!USERNAME.test(username)) return { ok: false, reason: 'bad-username', detail: `'${username}'` };
  const rawGroups = claims[mapping.groupsClaim];
  const groups = [
    ...new Set(
      (Array.isArray(rawGroups) ? rawGroups : [])
        .filter((g): g is string => typeof g === 'string')
        .map((g) => g.toLowerCase())
        .filter((g) => GROUP.test(g)),
    ),
  ].sort();
  const byGroup = new Map(Object.entries(mapping.groupRoles).map(([g, r]) => [g.toLowerCase(), r]));
  const roles = new Set<Role>(['requester']);
  for (const group of groups) for (const role of byGroup.get(group) ?? []) if (isRole(role)) roles.add(role);
  const name =
    typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 120) : username;
  const email = typeof claims.email === 'string' && claims.email.length <= 254 ? claims.email : null;
  return { ok: true, username, displayName: name, email, groups, roles: [...roles].sort() };
}

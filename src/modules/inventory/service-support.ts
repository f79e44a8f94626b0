import { canonicalJson } from '../../platform/canonical-json.js';
import type { Clock, Ids } from '../../platform/clock.js';
import type { SecretBox } from '../../platform/crypto.js';
import { pgErrorCode, PgCode, type Store } from '../../platform/db/store.js';
import { ConflictError, ValidationError } from '../../platform/errors.js';
import type { AuditLog } from '../audit/audit.service.js';

/** What the inventory services touch, and nothing more. */
export interface InventoryServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  /** `appendMany` for a bulk import's one event per object. */
  audit: Pick<AuditLog, 'append' | 'appendMany'>;
  secrets: Pick<SecretBox, 'seal' | 'open'>;
}

/** Runs a write; a unique violation becomes a 409 with a message that names the duplicate. */
export async function uniqueOr409<T>(write: () => Promise<T>, message: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (pgErrorCode(error) === PgCode.uniqueViolation) throw new ConflictError(message);
    throw error;
  }
}

/** A reference in a request body or query that names nothing: the caller's input, so 400. */
export function unknownReference(field: string, what: string, name: string): ValidationError {
  return new ValidationError(
    `${field}: there is no ${what} named '${name}'; create it first or check the name`,
    {
      details: { field },
    },
  );
}

/** A PATCH that sends nothing to change is almost certainly a mistake in the caller. */
export function requireSomeField(patch: object, fields: string): void {
  if (Object.values(patch).every((v) => v === undefined)) {
    throw new ValidationError(`Send at least one field to change (${fields})`);
  }
}

/** The fields of a patch whose value differs from the current one (compared as canonical JSON). */
export function changedFields(patch: object, current: object): string[] {
  const now = current as Record<string, unknown>;
  return Object.entries(patch)
    .filter(([key, value]) => value !== undefined && canonicalJson(value) !== canonicalJson(now[key]))
    .map(([key]) => key);
}

const singular: Record<string, string> = {
  environments: 'environment',
  assets: 'asset',
  jumpboxes: 'jumpbox',
};

/** "2 environments and 1 asset" from {environments: 2, assets: 1, jumpboxes: 0}; undefined when all are 0. */
export function describeUsage(usage: Record<string, number>): string | undefined {
  const parts = Object.entries(usage)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${n === 1 ? (singular[what] ?? what) : what}`);
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

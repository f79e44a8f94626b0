import { createHash } from 'node:crypto';
import type { Engine } from './types.js';

/**
 * Nominal account names on targets: `gh_<operator>_<short id>`. The operator part makes an account
 * readable in the target's own logs; the short id, derived from the grant id, makes it the grant's own.
 * Every name matches `^gh_[a-z0-9_]+$` (valid unquoted in PostgreSQL and MySQL, and for `useradd`) and
 * fits the target's length limit in bytes and characters alike, since it is ASCII.
 *
 * The short id is 10 base32 characters (50 bits) of SHA-256 of the grant id: deterministic, spread
 * evenly even for time-ordered UUIDv7 ids, whose leading characters repeat for a minute at a time.
 * Distinct grants get distinct names with overwhelming probability; the store should still refuse
 * two live grants with one name on one asset.
 */

/** Where an account lives: a database engine, or a Linux server. */
export type AccountTarget = Engine | 'linux';

/** Longest name each target accepts, the strictest of its versions in use. */
export const accountNameLimits: Readonly<Record<AccountTarget, number>> = {
  postgres: 63, // NAMEDATALEN - 1, in bytes
  mysql: 32, // MySQL 5.7.8 and later
  mariadb: 32, // MariaDB allows 80, but 32 keeps names valid where they meet MySQL tooling or replicas
  mssql: 128, // sysname
  oracle: 30, // unquoted identifiers before 12.2
  linux: 32, // useradd, and utmp's ut_user
};

export const ACCOUNT_PREFIX = 'gh_';
export const SHORT_ID_LENGTH = 10;

/** Every name Gatehouse gives matches this. */
export const accountNamePattern = /^gh_[a-z0-9_]+$/;

/**
 * Whether an account on a target is Gatehouse's to manage: the orphan sweeper removes any such account
 * without a live grant, including ones made by hand.
 */
export const isManagedAccountName = (name: string): boolean => name.startsWith(ACCOUNT_PREFIX);

const base32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Ten lower-case base32 characters derived from the grant id. */
export function shortId(grantId: string): string {
  const digest = createHash('sha256').update(grantId, 'utf8').digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 7)) bits = (bits << 8n) | BigInt(byte);
  let id = '';
  for (let i = 0; i < SHORT_ID_LENGTH; i++) id += base32[Number((bits >> BigInt(51 - 5 * i)) & 31n)];
  return id;
}

/**
 * The operator's username in the name's grammar: lower case, accents dropped, any run of other
 * characters (dots, dashes, symbols) as one `_`, no `_` at either end; `op` if nothing is left.
 */
export function normaliseOperator(username: string, maxLength: number): string {
  const plain = username
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const cut = plain.slice(0, maxLength).replace(/_+$/, '');
  return cut || 'op';
}

export function accountName(operatorUsername: string, grantId: string, target: AccountTarget): string {
  const room = accountNameLimits[target] - ACCOUNT_PREFIX.length - 1 - SHORT_ID_LENGTH;
  return `${ACCOUNT_PREFIX}${normaliseOperator(operatorUsername, room)}_${shortId(grantId)}`;
}

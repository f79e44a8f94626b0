import { z } from 'zod';
import { ValidationError } from '../../platform/errors.js';
import { cidr, host, port } from '../../platform/validation.js';
import type { AccountSpec, ConnectorEngine } from './types.js';

/**
 * Connector settings and the grammars every value meets before it gets near a target. Identifiers that
 * reach DDL are checked here *and* quoted by the driver when used; passwords are only checked for what
 * no engine can store (empty, NUL, absurd length) — their content is the drivers' quoting's job.
 */

/** Managed account names: `gh_` then lower-case letters, digits and underscores. */
export const managedUsernamePattern = /^gh_[a-z0-9_]{1,60}$/;
const managedPrefixPattern = /^gh_[a-z0-9_]{0,60}$/;

/** PostgreSQL's NAMEDATALEN - 1 (bytes; the grammar is ASCII-only, so bytes = characters); MySQL's 32. */
export const maxUsernameLength: Record<ConnectorEngine, number> = {
  postgres: 63,
  mysql: 32,
  mariadb: 32,
  'linux-ssh': 32,
};

export const MAX_PASSWORD_LENGTH = 256;

export function assertManagedUsername(engine: ConnectorEngine, username: unknown): string {
  if (typeof username !== 'string' || !managedUsernamePattern.test(username)) {
    throw new ValidationError(
      'account name must be gh_ followed by 1-60 lower-case letters, digits or underscores, like gh_alice_3f9a',
    );
  }
  if (username.length > maxUsernameLength[engine]) {
    throw new ValidationError(
      `account name is ${username.length} characters; ${engine} allows at most ${maxUsernameLength[engine]}`,
    );
  }
  return username;
}

export function assertManagedPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !managedPrefixPattern.test(prefix)) {
    throw new ValidationError('prefix must be gh_ followed by lower-case letters, digits or underscores');
  }
  return prefix;
}

/** Checks an account spec's fields; never echoes the password. */
export function assertAccountSpec(engine: ConnectorEngine, spec: AccountSpec): void {
  assertManagedUsername(engine, spec.username);
  const { password } = spec;
  if (typeof password !== 'string' || password.length === 0) {
    throw new ValidationError('the password must be a non-empty string');
  }
  if ([...password].length > MAX_PASSWORD_LENGTH || password.includes('\u0000')) {
    throw new ValidationError(`the password must be at most ${MAX_PASSWORD_LENGTH} characters, without NUL`);
  }
  if (!(spec.validUntil instanceof Date) || Number.isNaN(spec.validUntil.getTime())) {
    throw new ValidationError('validUntil must be a valid date');
  }
  if (!(['read-only', 'read-write', 'admin'] as const).includes(spec.level)) {
    throw new ValidationError('level must be read-only, read-write or admin');
  }
  const cidrs = z.array(cidr).max(64, 'at most 64 source CIDRs').safeParse(spec.sourceCidrs);
  if (!cidrs.success) throw new ValidationError(`sourceCidrs: ${describeIssues(cidrs.error)}`);
}

// ---- target configuration ----------------------------------------------------------------------

const adminCredential = z
  .object({
    username: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.@$-]{0,62}$/, 'use 1-63 letters, digits or _ . @ $ -, like "postgres"'),
    password: z.string().max(1024, 'at most 1024 characters'),
  })
  .strict();

const databaseName = z
  .string()
  .regex(/^[A-Za-z0-9_$-]{1,63}$/, 'use 1-63 letters, digits or _ $ -, like "app"')
  .describe('The database the admin connects to (PostgreSQL) or grants are scoped to (MySQL)');

const common = {
  /** The inventory asset this target is: admin connections to it are pooled under this key. */
  assetId: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'an asset id is 1-100 letters, digits or _ . : -')
    .optional(),
  host,
  port,
  admin: adminCredential,
  database: databaseName.optional(),
  connectionLimit: z.number().int().min(1).max(1000).default(10).describe('Concurrent sessions per account'),
  connectTimeoutMs: z.number().int().min(100).max(60_000).default(5_000),
};

/** A role name a PostgreSQL level maps to; quoted with escapeIdentifier when used. */
const postgresRole = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/,
    'role names are 1-63 letters, digits, _ or $, like pg_read_all_data',
  )
  .refine((r) => !r.startsWith('gh_'), 'must not be a Gatehouse-managed account (gh_…)');

const roleList = z.array(postgresRole).min(1, 'list at least one role').max(20);

export const postgresTargetSchema = z
  .object({
    engine: z.literal('postgres'),
    ...common,
    levels: z
      .object({
        'read-only': roleList.optional(),
        'read-write': roleList.optional(),
        admin: roleList.optional(),
      })
      .strict()
      .optional()
      .describe(
        'Roles granted per level; defaults: SELECT (read-write: + INSERT, UPDATE, DELETE) on the schemas of `database`, none for admin',
      ),
  })
  .strict();

/** Privilege keywords: they cannot be quoted, so only these words are accepted. */
export const mysqlPrivileges = [
  'ALL PRIVILEGES',
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'ALTER',
  'INDEX',
  'REFERENCES',
  'CREATE VIEW',
  'SHOW VIEW',
  'TRIGGER',
  'EXECUTE',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'EVENT',
  'LOCK TABLES',
  'CREATE TEMPORARY TABLES',
  'PROCESS',
  'SHOW DATABASES',
] as const;
const globalOnlyPrivileges: readonly string[] = ['PROCESS', 'SHOW DATABASES'];

const privilegeList = z
  .array(z.enum(mysqlPrivileges))
  .min(1, 'list at least one privilege')
  .refine((p) => !p.includes('ALL PRIVILEGES') || p.length === 1, 'ALL PRIVILEGES stands alone');

export const mysqlTargetSchema = z
  .object({
    engine: z.enum(['mysql', 'mariadb']),
    ...common,
    levels: z
      .object({
        'read-only': privilegeList.optional(),
        'read-write': privilegeList.optional(),
        admin: privilegeList.optional(),
      })
      .strict()
      .optional()
      .describe('Privileges per level, on the database if one is set; on *.* only when mapped explicitly'),
  })
  .strict()
  .superRefine((target, ctx) => {
    if (!target.database) return;
    for (const [level, privileges] of Object.entries(target.levels ?? {})) {
      const global = privileges.filter((p) => globalOnlyPrivileges.includes(p));
      if (global.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', level],
          message: `${global.join(', ')} can only be granted on *.*, and this target scopes grants to its database`,
        });
      }
    }
  });

export const databaseTargetSchema = z.discriminatedUnion('engine', [postgresTargetSchema, mysqlTargetSchema]);

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** Parses a target's configuration, or throws a ValidationError naming every problem. */
export function parseTarget<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(`Invalid target: ${describeIssues(result.error)}`);
  return result.data;
}

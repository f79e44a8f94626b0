import type { z } from 'zod';
import type {
  databaseTargetSchema,
  mysqlPrivileges,
  mysqlTargetSchema,
  postgresTargetSchema,
} from './config.js';
import type { LinuxTarget } from './linux-ssh/linux-config.js';

/**
 * One interface for every database Gatehouse creates temporary accounts on. A connector keeps nothing
 * about accounts between calls; its admin connections are either opened per call or, for the connectors
 * of `createConnectorSet`, pooled per target (see pools.ts) and closed with the set.
 *
 * Errors are Gatehouse errors whose `retryable` flag says whether trying again can help:
 * `target_unavailable` + retryable for a target that is down or busy, `validation_failed` for a target
 * configuration or an input that can never work, `target_unavailable` + not retryable when the target
 * refuses the admin credential or lacks a privilege (someone has to fix the target or the asset).
 * No error message ever carries a password.
 */

/** `linux-ssh`: temporary accounts on Linux servers over SSH (see linux-ssh/). */
export const connectorEngines = ['postgres', 'mysql', 'mariadb', 'linux-ssh'] as const;
export type ConnectorEngine = (typeof connectorEngines)[number];

/** Same words as the access domain's levels, from least to most power. */
export const permissionLevels = ['read-only', 'read-write', 'admin'] as const;
export type PermissionLevel = (typeof permissionLevels)[number];

export type MysqlPrivilege = (typeof mysqlPrivileges)[number];

/**
 * A PostgreSQL target; `levels` maps a permission level to the roles an account is granted. Every
 * connector method parses its target again (cheap), so identifiers are checked however it was built.
 */
export type PostgresTarget = z.input<typeof postgresTargetSchema>;
/** A MySQL or MariaDB target; `levels` maps a permission level to privileges. */
export type MysqlTarget = z.input<typeof mysqlTargetSchema>;
/** Discriminated on `engine`. */
export type DatabaseTarget = z.input<typeof databaseTargetSchema>;
export type { LinuxTarget } from './linux-ssh/linux-config.js';
/** Any target a connector works on; each connector accepts its own kind. */
export type ConnectorTarget = DatabaseTarget | LinuxTarget;

export interface AccountSpec {
  /** `gh_<operator>_<shortid>`; see `managedUsernamePattern` and `maxUsernameLength`. */
  username: string;
  password: string;
  level: PermissionLevel;
  /** When the target itself stops accepting the password, where it can (PostgreSQL `VALID UNTIL`). */
  validUntil: Date;
  /**
   * The addresses the account's connections come from (the jumpboxes' source CIDRs). MySQL/MariaDB
   * bind the account to them; PostgreSQL has no per-role source restriction (that is pg_hba.conf and
   * the network layer's job), so there they are validated and otherwise unused.
   */
  sourceCidrs: string[];
  /** Linux: SFTP/SCP allowed. Databases ignore it. */
  fileTransfer?: boolean;
  /** Linux: an OpenSSH public key the operator may log in with besides the password. */
  publicKey?: string;
}

export interface ManagedAccount {
  username: string;
  /** The native expiry, where the engine has one. */
  validUntil?: Date;
  /** MySQL/MariaDB: the host patterns the account exists for. */
  hosts?: string[];
}

export interface Connector {
  readonly engines: readonly ConnectorEngine[];
  /** Parses and checks a target's configuration; throws ValidationError saying what is wrong. */
  validateConfig(target: unknown): ConnectorTarget;
  /** Connects with the admin credential. */
  testConnection(target: ConnectorTarget): Promise<{ serverVersion: string }>;
  /**
   * Creates the account, or — when it already exists, e.g. on a retry after a crash — brings it to the
   * requested state: password, validity, connection limit, grants (and, on MySQL, its hosts).
   */
  createAccount(target: ConnectorTarget, spec: AccountSpec): Promise<{ created: boolean }>;
  /**
   * Blocks new logins, ends the account's open sessions, removes what it owns or was granted, drops it,
   * and checks it is gone. Succeeds, with `existed: false`, when there was nothing to revoke.
   */
  revokeAccount(target: ConnectorTarget, username: string): Promise<{ existed: boolean }>;
  /**
   * Moves the target's own expiry of the account to `at` (a reveal started the lease, an extension
   * moved its end). PostgreSQL: `ALTER ROLE … VALID UNTIL`. MySQL/MariaDB have no per-account expiry at a
   * time (`PASSWORD EXPIRE` only forces a password change, which a client could then make), so there it
   * checks the name and does nothing: the lease reaper and the orphan sweeper are the expiry. An account
   * that does not exist is not an error.
   */
  setAccountExpiry(target: ConnectorTarget, username: string, at: Date): Promise<void>;
  accountExists(target: ConnectorTarget, username: string): Promise<boolean>;
  /** Accounts whose name starts with `prefix` (which must itself start with `gh_`). */
  listManagedAccounts(target: ConnectorTarget, prefix?: string): Promise<ManagedAccount[]>;
}

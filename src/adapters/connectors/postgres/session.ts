import pg from 'pg';
import {
  codeAndMessage,
  networkErrorCodes,
  targetError,
  type DriverFailure,
  type FailureKind,
} from '../errors.js';
import type { postgresTargetSchema } from '../config.js';
import type { z } from 'zod';
import {
  createPooledSessions,
  defaultPoolSettings,
  withSession,
  type PoolSettings,
  type PooledSessions,
  type Sessions,
} from '../pools.js';

export type ParsedPostgresTarget = z.output<typeof postgresTargetSchema>;

/**
 * One admin session on a PostgreSQL target. Every failure comes out as a Gatehouse error (see
 * ../errors.ts); statements marked `secret` never have the server's message copied into it.
 */
export interface PgSession {
  /** The driver's quoting, for DDL that cannot take bind parameters. */
  ident(name: string): string;
  literal(value: string): string;
  query<Row extends object>(text: string, values?: unknown[], options?: { secret?: boolean }): Promise<Row[]>;
  /**
   * Statements without parameters (DDL of quoted names and fixed keywords only) sent as one query: one
   * round trip, and — outside `transaction` — one implicit transaction: all of them happen or none.
   */
  batch(statements: readonly string[]): Promise<void>;
  transaction<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** SQLSTATE classes and codes → what a retry can do about them. */
export function classifyPostgres(error: unknown): DriverFailure {
  const { code, message } = codeAndMessage(error);
  const failure = (kind: FailureKind): DriverFailure => ({ kind, code, serverMessage: message });
  // no SQLSTATE: the driver itself failed — socket, timeout, connection terminated
  if (!/^[0-9A-Z]{5}$/.test(code)) return { kind: 'transient', code, serverMessage: '' };
  if (networkErrorCodes.has(code)) return failure('transient');
  const cls = code.slice(0, 2);
  if (['08', '40', '53', '58'].includes(cls)) return failure('transient');
  if (['57P01', '57P02', '57P03', '57014', '55P03', '55006'].includes(code)) return failure('transient');
  // a concurrent call created or dropped the same role: the retry converges
  if (['23505', '42710', '2BP01', 'XX000'].includes(code)) return failure('transient');
  if (cls === '28') return failure('credential');
  if (code === '42501') return failure('privilege');
  if (['3D000', '42704'].includes(code)) return failure('configuration');
  return failure('unknown');
}

/** A failure that says the connection itself is gone (not what the statement did): never reuse it. */
export function isBrokenConnection(error: unknown): boolean {
  const { code } = codeAndMessage(error);
  if (!/^[0-9A-Z]{5}$/.test(code) || networkErrorCodes.has(code)) return true;
  return code.startsWith('08') || ['57P01', '57P02', '57P03'].includes(code);
}

function clientOptions(target: ParsedPostgresTarget, database: string): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    user: target.admin.username,
    password: target.admin.password,
    database,
    application_name: 'gatehouse',
    connectionTimeoutMillis: target.connectTimeoutMs,
    statement_timeout: 30_000,
    lock_timeout: 10_000,
    query_timeout: 60_000,
    keepAlive: true,
  };
}

type Fail = (error: unknown, secret?: boolean) => Error;

function failureFor(target: ParsedPostgresTarget, action: string): Fail {
  const ctx = { engine: 'postgres' as const, host: target.host, port: target.port, action };
  return (error, secret = false) => targetError(classifyPostgres(error), { ...ctx, secret });
}

/** A session over a connected client; `broken` turns true once the connection is known to be gone. */
function sessionOver(client: pg.ClientBase, fail: Fail): PgSession & { readonly broken: boolean } {
  let broken = false;
  const query: PgSession['query'] = async (text, values = [], options = {}) => {
    try {
      const result = await client.query(text, values);
      return result.rows as never;
    } catch (error) {
      if (isBrokenConnection(error)) broken = true;
      throw fail(error, options.secret);
    }
  };
  return {
    get broken() {
      return broken;
    },
    ident: (name) => client.escapeIdentifier(name),
    literal: (value) => client.escapeLiteral(value),
    query,
    async batch(statements) {
      if (statements.length === 0) return;
      try {
        // no values: the simple query protocol, which takes several statements
        await client.query(statements.join(';\n'));
      } catch (error) {
        if (isBrokenConnection(error)) broken = true;
        throw fail(error);
      }
    },
    async transaction(work) {
      await query('BEGIN');
      try {
        const result = await work();
        await query('COMMIT');
        return result;
      } catch (error) {
        // a connection that cannot even roll back must not serve anyone again
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw error;
      }
    },
    close: async () => undefined,
  };
}

/** A one-off admin session on `database` (default: the target's), closed by the caller. */
export async function openPostgres(
  target: ParsedPostgresTarget,
  action: string,
  database = target.database ?? 'postgres',
): Promise<PgSession> {
  const fail = failureFor(target, action);
  const client = new pg.Client(clientOptions(target, database));
  // a connection lost between queries is reported by the next query; without a listener it would crash
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw fail(error);
  }
  return { ...sessionOver(client, fail), close: () => client.end().catch(() => undefined) };
}

/** Opens a one-off session, runs `work` and always closes it. */
export async function withPostgres<T>(
  target: ParsedPostgresTarget,
  action: string,
  work: (session: PgSession) => Promise<T>,
  database?: string,
): Promise<T> {
  return withSession(openPostgres(target, action, database), work);
}

/** Where a connector gets its admin sessions on the target's own database. */
export type PgSessions = Sessions<ParsedPostgresTarget, PgSession>;

/** A new connection per call, closed after it (the connector without pools). */
export const oneOffPgSessions: PgSessions = {
  run: (target, action, work) => withPostgres(target, action, work),
  close: async () => undefined,
};

/**
 * Pooled admin sessions (see ../pools.ts `createPooledSessions`). A session whose connection turns out
 * to be broken — killed by an administrator, or the target restarted since it was opened — is
 * destroyed, its pool retired and, when the connection was a reused one, the work run once more.
 */
export function pooledPgSessions(
  settings: PoolSettings = defaultPoolSettings,
): PooledSessions<ParsedPostgresTarget, PgSession> {
  const used = new WeakSet<pg.PoolClient>();
  return createPooledSessions<ParsedPostgresTarget, pg.Pool, PgSession, Fail>({
    identify: (target) => {
      const database = target.database ?? 'postgres';
      const { host, port, admin, connectTimeoutMs } = target;
      return {
        key: target.assetId ?? `${admin.username}@${host}:${port}/${database}`,
        config: { host, port, database, admin, connectTimeoutMs },
      };
    },
    open: (target) => {
      const pool = new pg.Pool({
        ...clientOptions(target, target.database ?? 'postgres'),
        max: settings.maxConnections,
        idleTimeoutMillis: settings.idleMs,
        allowExitOnIdle: true,
      });
      // an idle connection that dies (session killed, target restarted) is dropped by the pool itself;
      // without a listener its error would crash the process
      pool.on('error', () => undefined);
      return pool;
    },
    end: (pool) => pool.end(),
    failureFor,
    async attempt(pool, fail, work) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        return { ok: false, error: fail(error), broken: false, retry: false };
      }
      const reused = used.has(client);
      const session = sessionOver(client, fail);
      try {
        return { ok: true, value: await work(session) };
      } catch (error) {
        return { ok: false, error, broken: session.broken, retry: session.broken && reused };
      } finally {
        used.add(client);
        client.release(session.broken);
      }
    },
  });
}

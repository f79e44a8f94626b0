import mysql from 'mysql2/promise';
import type { z } from 'zod';
import type { mysqlTargetSchema } from '../config.js';
import { networkErrorCodes, targetError, type DriverFailure, type FailureKind } from '../errors.js';
import {
  createPooledSessions,
  defaultPoolSettings,
  withSession,
  type PoolSettings,
  type PooledSessions,
  type Sessions,
} from '../pools.js';

export type ParsedMysqlTarget = z.output<typeof mysqlTargetSchema>;

/**
 * One admin session on a MySQL/MariaDB target. Values go through mysql2's placeholders (`?`, escaped
 * client-side: account names cannot be server-side parameters) and names through `escapeId`.
 * Client-side escaping relies on backslash escapes, so a session whose sql_mode has
 * NO_BACKSLASH_ESCAPES gets it removed before anything else runs.
 */
export interface MySession {
  escapeId(name: string): string;
  query<Row extends object>(sql: string, values?: unknown[], options?: { secret?: boolean }): Promise<Row[]>;
  close(): Promise<void>;
}

const transientErrnos = new Set([
  1040, // too many connections
  1053, // server shutdown in progress
  1203, // max user connections
  1205, // lock wait timeout
  1213, // deadlock
  1317, // query interrupted
  1396, // CREATE/DROP USER raced with a concurrent call: the retry converges
  1927, // connection killed
  2006, // server has gone away
  2013, // lost connection during query
]);
const credentialErrnos = new Set([1045, 1130, 1698]);
const privilegeErrnos = new Set([1044, 1095, 1142, 1227, 1410]);
const configurationErrnos = new Set([1049]);

export function classifyMysql(error: unknown): DriverFailure {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    errno?: unknown;
    sqlState?: unknown;
    sqlMessage?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : 'unknown';
  const errno = typeof e.errno === 'number' ? e.errno : 0;
  // only the server's own message: mysql2's `message` can be built around the statement text
  const serverMessage = typeof e.sqlMessage === 'string' ? e.sqlMessage : '';
  const failure = (kind: FailureKind): DriverFailure => ({ kind, code, serverMessage });
  const fromServer = code.startsWith('ER_') || typeof e.sqlState === 'string';
  if (!fromServer || networkErrorCodes.has(code)) return { kind: 'transient', code, serverMessage: '' };
  if (transientErrnos.has(errno)) return failure('transient');
  if (credentialErrnos.has(errno)) return failure('credential');
  if (privilegeErrnos.has(errno)) return failure('privilege');
  if (configurationErrnos.has(errno)) return failure('configuration');
  return failure('unknown');
}

/** Removes NO_BACKSLASH_ESCAPES from the session's sql_mode, so that mysql2's escaping holds. */
export async function ensureBackslashEscapes(connection: mysql.Connection): Promise<void> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>('SELECT @@SESSION.sql_mode AS mode');
  const modes = String(rows[0]?.mode ?? '')
    .split(',')
    .filter(Boolean);
  if (!modes.includes('NO_BACKSLASH_ESCAPES')) return;
  // the new mode contains no backslash or quote, so it is escaped the same under either mode
  await connection.query('SET SESSION sql_mode = ?', [
    modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES').join(','),
  ]);
}

/** mysql2's codes for a connection that is gone (not for what a statement did): never reuse it. */
const brokenCodes = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_NEW_ABORTING_CONNECTION',
]);
const brokenErrnos = new Set([1053, 1927, 2006, 2013]);

export function isBrokenConnection(error: unknown): boolean {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown;
    errno?: unknown;
    fatal?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : '';
  if (e.fatal === true || networkErrorCodes.has(code) || brokenCodes.has(code)) return true;
  return typeof e.errno === 'number' && brokenErrnos.has(e.errno);
}

type Fail = (error: unknown, secret?: boolean) => Error;

function failureFor(target: ParsedMysqlTarget, action: string): Fail {
  const ctx = { engine: target.engine, host: target.host, port: target.port, action };
  return (error, secret = false) => targetError(classifyMysql(error), { ...ctx, secret });
}

function connectionOptions(target: ParsedMysqlTarget) {
  return {
    host: target.host,
    port: target.port,
    user: target.admin.username,
    password: target.admin.password,
    connectTimeout: target.connectTimeoutMs,
    charset: 'UTF8MB4_UNICODE_CI',
    multipleStatements: false,
    supportBigNumbers: true,
  };
}

function sessionOver(connection: mysql.Connection, fail: Fail): MySession & { readonly broken: boolean } {
  let broken = false;
  return {
    get broken() {
      return broken;
    },
    escapeId: (name) => connection.escapeId(name),
    async query(sql, values = [], options = {}) {
      try {
        const [rows] = await connection.query(sql, values);
        return (Array.isArray(rows) ? rows : []) as never;
      } catch (error) {
        if (isBrokenConnection(error)) broken = true;
        throw fail(error, options.secret);
      }
    },
    close: async () => undefined,
  };
}

export async function openMysql(target: ParsedMysqlTarget, action: string): Promise<MySession> {
  const fail = failureFor(target, action);
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection(connectionOptions(target));
  } catch (error) {
    throw fail(error);
  }
  // a connection lost between queries is reported by the next query; without a listener it would crash
  connection.on('error', () => undefined);
  try {
    await ensureBackslashEscapes(connection);
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw fail(error);
  }
  return { ...sessionOver(connection, fail), close: () => connection.end().catch(() => undefined) };
}

export async function withMysql<T>(
  target: ParsedMysqlTarget,
  action: string,
  work: (session: MySession) => Promise<T>,
): Promise<T> {
  return withSession(openMysql(target, action), work);
}

/** Where a connector gets its admin sessions. */
export type MySessions = Sessions<ParsedMysqlTarget, MySession>;

/** A new connection per call, closed after it (the connector without pools). */
export const oneOffMySessions: MySessions = {
  run: (target, action, work) => withMysql(target, action, work),
  close: async () => undefined,
};

/**
 * Pooled admin sessions, as for PostgreSQL (see ../postgres/session.ts `pooledPgSessions`): a broken
 * reused connection is destroyed, its pool retired and the work run once more on a fresh connection.
 * Each new connection has its sql_mode checked (ensureBackslashEscapes) before its first use.
 */
export function pooledMySessions(
  settings: PoolSettings = defaultPoolSettings,
): PooledSessions<ParsedMysqlTarget, MySession> {
  /** Connections already checked (sql_mode) and used once: the core connection objects. */
  const used = new WeakSet<object>();
  return createPooledSessions<ParsedMysqlTarget, mysql.Pool, MySession, Fail>({
    identify: (target) => {
      const { engine, host, port, admin, connectTimeoutMs } = target;
      return {
        key: target.assetId ?? `${engine}:${admin.username}@${host}:${port}`,
        config: { engine, host, port, admin, connectTimeoutMs },
      };
    },
    open: (target) =>
      mysql.createPool({
        ...connectionOptions(target),
        connectionLimit: settings.maxConnections,
        maxIdle: settings.maxConnections,
        idleTimeout: settings.idleMs,
        waitForConnections: true,
        queueLimit: 0,
        enableKeepAlive: true,
      }),
    end: (pool) => pool.end(),
    failureFor,
    async attempt(pool, fail, work) {
      let connection: mysql.PoolConnection;
      try {
        connection = await pool.getConnection();
      } catch (error) {
        return { ok: false, error: fail(error), broken: false, retry: false };
      }
      const core = connection.connection as object;
      const reused = used.has(core);
      const session = sessionOver(connection, fail);
      let broken = false;
      try {
        if (!reused) {
          try {
            await ensureBackslashEscapes(connection);
          } catch (error) {
            // a connection whose sql_mode could not be checked serves no one
            broken = true;
            throw fail(error);
          }
        }
        return { ok: true, value: await work(session) };
      } catch (error) {
        broken ||= session.broken;
        return { ok: false, error, broken: session.broken, retry: session.broken && reused };
      } finally {
        if (broken) {
          connection.destroy();
        } else {
          used.add(core);
          connection.release();
        }
      }
    },
  });
}

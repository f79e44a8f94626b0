import mysql from 'mysql2/promise';
import type { z } from 'zod';
import type { mysqlTargetSchema } from '../config.js';
import { networkErrorCodes, targetError, type DriverFailure, type FailureKind } from '../errors.js';

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

export async function openMysql(target: ParsedMysqlTarget, action: string): Promise<MySession> {
  const ctx = { engine: target.engine, host: target.host, port: target.port, action };
  const fail = (error: unknown, secret = false) => targetError(classifyMysql(error), { ...ctx, secret });
  let connection: mysql.Connection;
  try {
    connection = await mysql.createConnection({
      host: target.host,
      port: target.port,
      user: target.admin.username,
      password: target.admin.password,
      connectTimeout: target.connectTimeoutMs,
      charset: 'UTF8MB4_UNICODE_CI',
      multipleStatements: false,
      supportBigNumbers: true,
    });
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
  return {
    escapeId: (name) => connection.escapeId(name),
    async query(sql, values = [], options = {}) {
      try {
        const [rows] = await connection.query(sql, values);
        return (Array.isArray(rows) ? rows : []) as never;
      } catch (error) {
        throw fail(error, options.secret);
      }
    },
    close: () => connection.end().catch(() => undefined),
  };
}

export async function withMysql<T>(
  target: ParsedMysqlTarget,
  action: string,
  work: (session: MySession) => Promise<T>,
): Promise<T> {
  const session = await openMysql(target, action);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

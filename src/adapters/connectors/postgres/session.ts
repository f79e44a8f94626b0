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

export async function openPostgres(
  target: ParsedPostgresTarget,
  action: string,
  database = target.database ?? 'postgres',
): Promise<PgSession> {
  const ctx = { engine: 'postgres' as const, host: target.host, port: target.port, action };
  const fail = (error: unknown, secret = false) => targetError(classifyPostgres(error), { ...ctx, secret });
  const client = new pg.Client({
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
  });
  // a connection lost between queries is reported by the next query; without a listener it would crash
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw fail(error);
  }

  const query: PgSession['query'] = async (text, values = [], options = {}) => {
    try {
      const result = await client.query(text, values);
      return result.rows as never;
    } catch (error) {
      throw fail(error, options.secret);
    }
  };

  return {
    ident: (name) => client.escapeIdentifier(name),
    literal: (value) => client.escapeLiteral(value),
    query,
    async transaction(work) {
      await query('BEGIN');
      try {
        const result = await work();
        await query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    },
    close: () => client.end().catch(() => undefined),
  };
}

/** Opens a session, runs `work` and always closes it. */
export async function withPostgres<T>(
  target: ParsedPostgresTarget,
  action: string,
  work: (session: PgSession) => Promise<T>,
  database?: string,
): Promise<T> {
  const session = await openPostgres(target, action, database);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

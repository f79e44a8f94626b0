import { GatehouseError, TransientError, ValidationError } from '../../platform/errors.js';
import type { ConnectorEngine } from './types.js';

/**
 * Turns a driver's error into a Gatehouse error that says whether a retry can help. The driver's own
 * error is never attached as `cause` (mysql2 keeps the full statement text on it, password included);
 * its code goes into `details` instead, and its message only when the statement carried no secret.
 */

/** What a failure means for the caller. */
export type FailureKind =
  /** Down, restarting, overloaded, timed out, lost a race with a concurrent call: try again later. */
  | 'transient'
  /** The target refused the admin credential. */
  | 'credential'
  /** The admin account lacks a privilege the operation needs. */
  | 'privilege'
  /** The asset's configuration names something the target does not have (a database, a role). */
  | 'configuration'
  | 'unknown';

export interface FailureContext {
  engine: ConnectorEngine;
  host: string;
  port: number;
  /** What was being done, for the message: `creating gh_alice_1`. */
  action: string;
  /** The statement carried a password or verifier: leave the server's message out. */
  secret?: boolean;
}

export interface DriverFailure {
  kind: FailureKind;
  /** The driver's code: a SQLSTATE, `ER_…`, `ECONNREFUSED` … */
  code: string;
  serverMessage: string;
}

const engineNames: Record<ConnectorEngine, string> = {
  postgres: 'PostgreSQL',
  mysql: 'MySQL',
  mariadb: 'MariaDB',
  'linux-ssh': 'Linux server',
};

/** Network-level failures every driver reports with Node's or its own socket codes. */
export const networkErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
  'ECONNABORTED',
]);

export function targetError(failure: DriverFailure, ctx: FailureContext): GatehouseError {
  const where = `${engineNames[ctx.engine]} at ${ctx.host}:${ctx.port}`;
  const said = ctx.secret || !failure.serverMessage ? '' : `: ${failure.serverMessage}`;
  const details = { engine: ctx.engine, host: ctx.host, port: ctx.port, driverCode: failure.code };
  switch (failure.kind) {
    case 'transient':
      return new TransientError(
        'target_unavailable',
        failure.serverMessage
          ? `${where} could not finish ${ctx.action} for now (${failure.code})${said}; it will be retried`
          : `${where} is unreachable (${failure.code}) while ${ctx.action}; it will be retried`,
        { details },
      );
    case 'credential':
      return new GatehouseError(
        'target_unavailable',
        `${where} refused the admin credential (${failure.code}); update the asset's admin credential`,
        { details, retryable: false },
      );
    case 'privilege':
      return new GatehouseError(
        'target_unavailable',
        `${where}: the admin account lacks a privilege needed for ${ctx.action} (${failure.code})${said}; ` +
          'grant it on the target or use another admin account',
        { details, retryable: false },
      );
    case 'configuration':
      return new ValidationError(
        `${where} cannot carry out ${ctx.action} as configured (${failure.code})${said}; check the asset's settings`,
        { details },
      );
    case 'unknown':
      return new GatehouseError(
        'target_unavailable',
        `${where} failed ${ctx.action} (${failure.code})${said}`,
        {
          details,
          retryable: true,
        },
      );
  }
}

/** The `code` and `message` of whatever a driver threw, without keeping the object. */
export function codeAndMessage(error: unknown): { code: string; message: string } {
  if (typeof error !== 'object' || error === null) return { code: 'unknown', message: String(error) };
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    code: typeof code === 'string' && code ? code : 'unknown',
    message: typeof message === 'string' ? message : '',
  };
}

/**
 * One error hierarchy for all of Gatehouse. Every error has a stable `code` (clients may switch on it),
 * a message that tells the user what to do next, and a `retryable` flag the job runner honours.
 * The HTTP status is chosen in one place: `httpStatusFor`.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'rate_limited'
  | 'config_invalid'
  | 'store_unavailable'
  | 'store_locked'
  | 'migration_required'
  | 'integrity_violation'
  | 'target_unavailable'
  | 'internal';

export interface ErrorOptions {
  details?: Record<string, unknown>;
  retryable?: boolean;
  cause?: unknown;
}

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
  }
}

export class ValidationError extends GatehouseError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('validation_failed', message, options);
  }
}

export class NotFoundError extends GatehouseError {
  constructor(what: string, ref: string, options: ErrorOptions = {}) {
    super(
      'not_found',
      `${what} '${ref}' does not exist; check the name or id (list them to see what exists)`,
      options,
    );
  }
}

export class ConflictError extends GatehouseError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('conflict', message, options);
  }
}

export class UnauthenticatedError extends GatehouseError {
  constructor(message = 'Authentication required: send an API token as "Authorization: Bearer <token>"') {
    super('unauthenticated', message);
  }
}

export class ForbiddenError extends GatehouseError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('forbidden', message, options);
  }
}

export class ConfigError extends GatehouseError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('config_invalid', message, options);
  }
}

/** A failure of something outside Gatehouse (a target, the store) that may go away if retried. */
export class TransientError extends GatehouseError {
  constructor(code: 'store_unavailable' | 'target_unavailable', message: string, options: ErrorOptions = {}) {
    super(code, message, { ...options, retryable: options.retryable ?? true });
  }
}

export class IntegrityError extends GatehouseError {
  constructor(message: string, options: ErrorOptions = {}) {
    super('integrity_violation', message, options);
  }
}

const statusByCode: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  rate_limited: 429,
  config_invalid: 500,
  store_unavailable: 503,
  store_locked: 503,
  migration_required: 503,
  integrity_violation: 500,
  target_unavailable: 502,
  internal: 500,
};

export function httpStatusFor(code: ErrorCode): number {
  return statusByCode[code];
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof GatehouseError) return error.retryable;
  // Unknown errors (network resets, driver hiccups) are worth another try; the job runner caps attempts.
  return true;
}

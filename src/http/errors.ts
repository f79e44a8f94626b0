import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { GatehouseError, httpStatusFor, type ErrorCode } from '../platform/errors.js';
import { PgCode, pgErrorCode } from '../platform/db/store.js';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId: string;
  details?: Record<string, unknown>;
}

interface Issue {
  keyword?: string;
  instancePath?: string;
  message?: string;
  params?: { keys?: string[] };
}

function describeValidation(error: { validation?: Issue[]; validationContext?: string }): string {
  const where = error.validationContext ?? 'request';
  const parts = (error.validation ?? []).map((issue) => {
    const path = (issue.instancePath ?? '').split('/').filter(Boolean).join('.');
    const field = path ? `${where}.${path}` : where;
    const keys = issue.params?.keys;
    if (issue.keyword === 'unrecognized_keys' && keys) {
      return `${field}: unknown field${keys.length > 1 ? 's' : ''} ${keys.map((k) => `'${k}'`).join(', ')}`;
    }
    return `${field}: ${issue.message ?? 'is invalid'}`;
  });
  return parts.length > 0 ? parts.join('; ') : `The ${where} is invalid`;
}

/**
 * What to tell the caller when the database refuses a value the route's schema let through. The
 * database's own message names tables and columns, so it is not echoed.
 */
const refusedValue = new Map<string, string>([
  [
    PgCode.invalidTextRepresentation,
    'A value was not accepted: it is not in the form the store expects (like a malformed address or number). Check the values sent and send the request again',
  ],
  [
    PgCode.characterNotInRepertoire,
    'A value was not accepted: it holds a character the store cannot keep (such as NUL). Remove it and send the request again',
  ],
  [PgCode.stringTooLong, 'A value was not accepted: it is longer than the store allows. Send a shorter one'],
  [
    PgCode.numericOutOfRange,
    'A value was not accepted: a number is outside the range the store allows. Send one within it',
  ],
  [
    PgCode.checkViolation,
    'A value was not accepted: it breaks a rule the store enforces. Check the values sent against the API documentation',
  ],
  [
    PgCode.notNullViolation,
    'A value was not accepted: a required value is missing. Send every required field',
  ],
]);

/** Maps anything thrown by a route to one error body and one status, chosen here and nowhere else. */
export function toErrorResponse(
  error: unknown,
  request: FastifyRequest,
): { status: number; body: ErrorBody } {
  const requestId = request.id;
  if (error instanceof GatehouseError) {
    return {
      status: httpStatusFor(error.code),
      body: {
        code: error.code,
        message: error.message,
        requestId,
        ...(error.details ? { details: error.details } : {}),
      },
    };
  }
  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError)) {
    return {
      status: 400,
      body: { code: 'validation_failed', message: describeValidation(fastifyError), requestId },
    };
  }
  if (isResponseSerializationError(fastifyError)) {
    return {
      status: 500,
      body: { code: 'internal', message: 'The server built an invalid response', requestId },
    };
  }
  // A constraint the service did not anticipate is still the caller's input, not a server fault.
  const pgCode = pgErrorCode(error);
  if (pgCode === PgCode.uniqueViolation) {
    return {
      status: 409,
      body: { code: 'conflict', message: 'Something with that name already exists', requestId },
    };
  }
  if (pgCode === PgCode.foreignKeyViolation) {
    return {
      status: 409,
      body: {
        code: 'conflict',
        message: 'It is referenced by, or refers to, something that does not allow this',
        requestId,
      },
    };
  }
  const refused = pgCode === undefined ? undefined : refusedValue.get(pgCode);
  if (refused) {
    return { status: 400, body: { code: 'validation_failed', message: refused, requestId } };
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status === 413) {
    return { status, body: { code: 'payload_too_large', message: fastifyError.message, requestId } };
  }
  if (status >= 400 && status < 500) {
    // Fastify's own refusals: malformed JSON, wrong content type, empty body …
    return {
      status,
      body: { code: status === 404 ? 'not_found' : 'bad_request', message: fastifyError.message, requestId },
    };
  }
  return {
    status: 500,
    body: {
      code: 'internal',
      message: `Internal error; quote request id ${requestId} when reporting it`,
      requestId,
    },
  };
}

export function sendError(reply: FastifyReply, status: number, body: ErrorBody): FastifyReply {
  return reply.code(status).type('application/json').send(body);
}

import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { toErrorResponse } from '../../src/http/errors.js';
import { PgCode } from '../../src/platform/db/store.js';

const request = { id: 'req-1' } as FastifyRequest;

/** An error shaped like the ones pg and PGlite throw: SQL-ish message, code, table and column. */
function storeError(code: string): Error {
  return Object.assign(new Error('new row for relation "assets" violates check constraint "assets_check"'), {
    code,
    table: 'assets',
    column: 'port',
    constraint: 'assets_check',
  });
}

describe('toErrorResponse for values the database refuses', () => {
  it.each([
    ['invalid text representation', PgCode.invalidTextRepresentation, /not in the form the store expects/],
    ['string too long', PgCode.stringTooLong, /longer than the store allows/],
    ['numeric out of range', PgCode.numericOutOfRange, /outside the range/],
    ['check violation', PgCode.checkViolation, /breaks a rule/],
    ['not-null violation', PgCode.notNullViolation, /required value is missing/],
  ])('answers %s with 400 validation_failed, without the SQL', (_case, code, reason) => {
    const { status, body } = toErrorResponse(storeError(code), request);
    expect(status).toBe(400);
    expect(body).toEqual({ code: 'validation_failed', message: expect.any(String), requestId: 'req-1' });
    expect(body.message).toMatch(/^A value was not accepted: /);
    expect(body.message).toMatch(reason);
    expect(body.message).not.toMatch(/relation|violates|assets|constraint|column|port/);
  });

  it('keeps conflicts at 409 and anything else from the store at 500', () => {
    expect(toErrorResponse(storeError(PgCode.uniqueViolation), request).status).toBe(409);
    expect(toErrorResponse(storeError(PgCode.foreignKeyViolation), request).status).toBe(409);
    for (const code of ['42P01', '40001', '53300', 'constructor']) {
      const { status, body } = toErrorResponse(storeError(code), request);
      expect(status).toBe(500);
      expect(body.code).toBe('internal');
    }
  });
});

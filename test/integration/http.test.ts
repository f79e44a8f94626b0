import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../support/stores.js';
import { createTestApp, type TestApp } from '../support/app.js';

describe.each(backends)('HTTP API on %s', (backend) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('serves a valid OpenAPI 3.1 document describing the routes', async () => {
    const response = await t.call('GET', '/api/openapi.json', { token: null });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(document));
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/v1/tokens', '/api/v1/audit/events', '/readyz']),
    );
  });

  it('sends a browser at the root to the docs page', async () => {
    const response = await t.call('GET', '/', { token: null });
    expect(response.statusCode).toBe(302);
    expect(response.headers.location).toBe('/api/docs');
  });

  it('serves the docs page', async () => {
    const response = await t.call('GET', '/api/docs/', { token: null });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/html');
  });

  it('answers health, readiness and metrics without credentials', async () => {
    expect((await t.call('GET', '/healthz', { token: null })).json()).toEqual({ status: 'ok' });
    const ready = await t.call('GET', '/readyz', { token: null });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks.migrations.ok).toBe(true);
    const metrics = await t.call('GET', '/metrics', { token: null });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/^# HELP gatehouse_http_request_duration_seconds/m);
    expect(metrics.body).toMatch(/^gatehouse_audit_events_total \d+/m);
  });

  it('refuses calls without a valid token with 401 and one error body', async () => {
    for (const token of [null, 'gth_not-a-real-token', 'garbage']) {
      const response = await t.call('GET', '/api/v1/me', { token });
      expect(response.statusCode).toBe(401);
      const body = response.json();
      expect(body).toEqual({
        code: 'unauthenticated',
        message: expect.any(String),
        requestId: response.headers['x-request-id'],
      });
    }
  });

  it('refuses a role without the permission with 403', async () => {
    const token = await t.operatorToken('rita', ['requester']);
    const response = await t.call('GET', '/api/v1/audit/events', { token });
    expect(response.statusCode).toBe(403);
    expect(response.json().code).toBe('forbidden');
    expect(response.json().message).toContain('audit:read');
  });

  it('rejects unknown fields and wrong types with 400 naming the field, and changes nothing', async () => {
    const before = (await t.call('GET', '/api/v1/operators')).json().items.length;
    const unknown = await t.call('POST', '/api/v1/operators', {
      body: { username: 'bob', displayName: 'Bob', isRoot: true },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toMatch(/isRoot/);
    const wrongType = await t.call('POST', '/api/v1/operators', {
      body: { username: 42, displayName: 'Bob' },
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().message).toMatch(/body\.username/);
    const malformed = await t.call('POST', '/api/v1/operators', {
      body: '{"username":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.statusCode).toBe(400);
    expect((await t.call('GET', '/api/v1/operators')).json().items.length).toBe(before);
  });

  it('creates a token shown once, uses it, and refuses it after revocation', async () => {
    const created = await t.call('POST', '/api/v1/tokens', {
      body: { name: 'ci', expiresInDays: 7, roles: ['requester'] },
    });
    expect(created.statusCode).toBe(201);
    const { token, id } = created.json();
    expect(token).toMatch(/^gth_/);
    const me = await t.call('GET', '/api/v1/me', { token });
    expect(me.json().roles).toEqual(['requester']);
    expect((await t.call('GET', '/api/v1/operators', { token })).statusCode).toBe(403);
    const listed = (await t.call('GET', '/api/v1/tokens')).json().items;
    expect(JSON.stringify(listed)).not.toContain(token);
    expect((await t.call('DELETE', `/api/v1/tokens/${id}`)).statusCode).toBe(200);
    expect((await t.call('GET', '/api/v1/me', { token })).statusCode).toBe(401);
    const events = (await t.call('GET', '/api/v1/audit/events?action=token.*')).json().items;
    expect(events.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['token.created', 'token.revoked']),
    );
  });

  // Each case makes this test's own database stricter than the route's schema, standing in for a value
  // that slips past validation; the refusal must reach the caller as 400 and change nothing.
  it.each([
    [
      'check violation',
      `ALTER TABLE regions ADD CONSTRAINT test_refusal CHECK (display_name <> 'Refused by the store')`,
      '/api/v1/regions',
      { name: 'refused', displayName: 'Refused by the store' },
      /breaks a rule/,
    ],
    [
      'string too long',
      'ALTER TABLE customers ALTER COLUMN display_name TYPE varchar(8)',
      '/api/v1/customers',
      { name: 'long', displayName: 'Longer than eight' },
      /longer than the store allows/,
    ],
    [
      'invalid text representation',
      'ALTER TABLE machine_types ALTER COLUMN description DROP DEFAULT, ' +
        'ALTER COLUMN description TYPE integer USING 0',
      '/api/v1/machine-types',
      { name: 'typed', description: 'not a number' },
      /not in the form the store expects/,
    ],
    [
      'numeric out of range',
      'ALTER TABLE asset_groups ALTER COLUMN description DROP DEFAULT, ' +
        'ALTER COLUMN description TYPE smallint USING 0',
      '/api/v1/asset-groups',
      { name: 'ranged', description: '99999' },
      /outside the range/,
    ],
    [
      'not-null violation',
      `INSERT INTO regions (id, name, display_name, created_at, updated_at)
         VALUES ('00000000-0000-4000-8000-000000000001', 'nn-region', 'NN', now(), now());
       ALTER TABLE assets ALTER COLUMN address SET NOT NULL`,
      '/api/v1/assets',
      {
        kind: 'database',
        name: 'no-address',
        region: 'nn-region',
        engine: 'postgres',
        host: 'db',
        port: 5432,
      },
      /required value is missing/,
    ],
  ])(
    'answers a value the database refuses (%s) with 400, without its SQL',
    async (_case, stricter, url, body, reason) => {
      await t.testStore.store.exec(stricter);
      const response = await t.call('POST', url, { body });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toEqual({
        code: 'validation_failed',
        message: expect.stringMatching(/^A value was not accepted: /),
        requestId: response.headers['x-request-id'],
      });
      expect(response.json().message).toMatch(reason);
      expect(response.json().message).not.toMatch(
        /relation|violates|constraint|column|syntax|integer|smallint|varchar|test_refusal/i,
      );
      expect((await t.call('GET', `${url}/${body.name}`)).statusCode).toBe(404);
    },
  );

  it('refuses a control character in a query with 400, not a database error', async () => {
    const response = await t.call('GET', '/api/v1/jobs?kind=a%00b');
    expect(response.statusCode).toBe(400);
    expect(response.json().message).toMatch(/querystring\.kind/);
  });

  it('answers unknown routes with 404 in the same error body', async () => {
    const response = await t.call('GET', '/api/v1/nope');
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('not_found');
  });
});

import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createCustomerScope } from '../../src/http/customer-scope.js';
import { buildServer } from '../../src/http/server.js';
import type { RoutePlugin } from '../../src/http/types.js';
import { createWhereFromService } from '../../src/modules/identity/where-from.service.js';
import { UnauthenticatedError } from '../../src/platform/errors.js';
import { createLogger } from '../../src/platform/logger.js';

/** The server refuses to start with a route that does not say who may call it. */
function serverWith(route: RoutePlugin) {
  const refuse = () => Promise.reject(new UnauthenticatedError());
  const never = () => Promise.reject(new Error('not used'));
  return buildServer({
    logger: createLogger({ level: 'silent' }),
    metrics: new Registry(),
    authenticate: refuse,
    authenticateSession: refuse,
    rateLimitPerMinute: 10,
    whereFrom: createWhereFromService({
      store: { db: undefined as never },
      audit: { append: never },
      jumpboxes: { listJumpboxes: async () => ({ items: [], nextCursor: null }) },
      allowedNetworks: ['127.0.0.0/8'],
      metricsNetworks: ['127.0.0.0/8'],
    }),
    customerScope: createCustomerScope({
      assetCustomer: never,
      customerId: never,
      grantAsset: never,
      requestAsset: never,
      extensionAsset: never,
    }),
    bodyLimitBytes: 1024,
    trustedProxies: [],
    version: 'test',
    routes: [route],
  });
}

describe('route declarations', () => {
  it('does not start with a route that declares no permission', async () => {
    await expect(serverWith((app) => app.get('/api/v1/undeclared', async () => ({})))).rejects.toThrow(
      /GET \/api\/v1\/undeclared declares no permission/,
    );
  });

  it('does not start with a public route that returns secrets', async () => {
    await expect(
      serverWith((app) =>
        app.get('/api/v1/leak', { config: { permission: 'public', secret: true } }, async () => ({})),
      ),
    ).rejects.toThrow(/returns secrets and cannot be public/);
  });

  it('starts with declared routes and refuses the unauthenticated caller', async () => {
    const app = await serverWith((a) =>
      a.get('/api/v1/declared', { config: { permission: 'inventory:read' } }, async () => ({ ok: true })),
    );
    expect((await app.inject({ method: 'GET', url: '/api/v1/declared' })).statusCode).toBe(401);
    await app.close();
  });
});

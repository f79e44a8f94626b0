import { randomUUID } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerBound } from '../../src/http/customer-scope.js';
import { routeTable, type RouteEntry } from '../../src/http/server.js';
import { permissionsOf, roles, type Permission, type Role } from '../../src/modules/identity/domain/roles.js';
import { identityStore } from '../../src/modules/identity/identity.store.js';
import { manualClock } from '../../src/platform/clock.js';
import { generateToken, hashToken } from '../../src/platform/crypto.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  accessRunner,
  applyPolicies,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  fakeConnector,
  fakeTickets,
  runToken,
  type RequestView,
} from './access-support.js';

/**
 * The shared security suite: every route the server registers — read from the server itself, so a
 * new route is covered the day it is added — is called without credentials, with a role that lacks
 * its permission, with an expired and a revoked token, from a cookie session without its CSRF token,
 * and by an operator scoped to another customer.
 */

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
const PASSWORD = 'security suite password 1';

describe('security suite over every route', () => {
  const run = runToken();
  const clock = manualClock(new Date());
  const target = fakeConnector();
  let t: TestApp;
  let routes: RouteEntry[];
  const tokenOf: Partial<Record<Role, string>> = {};
  let expired: string;
  let revoked: string;
  let session: string;
  let scoped: string;
  /** Real objects of customer A, by route parameter, for the scope checks. */
  const objectsOfA: Record<string, string> = {};

  const fill = (url: string, values: Record<string, string> = {}) =>
    url.replace(
      /:([A-Za-z]+)/g,
      (_m, name: string) => values[name] ?? (name === 'id' ? randomUUID() : `no-such-${name}`),
    );
  const send = (route: RouteEntry, options: Partial<InjectOptions> & { token?: string; url?: string }) =>
    t.app.inject({
      method: route.method as InjectOptions['method'],
      url: options.url ?? fill(route.url),
      remoteAddress: '127.0.0.1',
      headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...options.headers },
      ...(options.cookies ? { cookies: options.cookies } : {}),
      ...(SAFE.has(route.method) ? {} : { payload: {} }),
    });
  const protectedRoutes = () => routes.filter((r) => r.permission !== 'public');

  async function tokenFor(
    operatorId: string,
    scope: Role[],
    at: { expiresAt: Date; revokedAt: Date | null },
  ) {
    const secret = generateToken();
    const id = randomUUID();
    await identityStore.insertToken(
      t.gh.store.db,
      {
        id,
        operatorId,
        name: `suite ${randomUUID()}`,
        prefix: secret.slice(0, 10),
        roles: scope,
        createdAt: clock.now(),
        lastUsedAt: null,
        ...at,
      },
      hashToken(secret),
    );
    if (at.revokedAt) await identityStore.revokeToken(t.gh.store.db, id, at.revokedAt);
    return secret;
  }

  beforeAll(async () => {
    t = await createTestApp('pglite', {
      clock,
      config: { 'auth.rateLimitPerMinute': 100_000 },
      access: {
        tickets: fakeTickets().source,
        connectors: () => target.connector,
        sweep: { prefix: `gh_${run}_` },
      },
    });
    routes = routeTable(t.app);
    const live = { expiresAt: new Date(clock.now().getTime() + 86_400_000), revokedAt: null };

    // one operator per role, with a token scoped to exactly that role
    for (const role of roles) {
      const created = await expectStatus<{ id: string }>(t, 201, 'POST', '/api/v1/operators', {
        body: { username: `${run}.${role.replace('-', '')}`, displayName: role, roles: [role] },
      });
      tokenOf[role] = await tokenFor(created.id, [role], live);
    }
    const admin2 = await expectStatus<{ id: string }>(t, 201, 'POST', '/api/v1/operators', {
      body: { username: `${run}.boss`, displayName: 'boss', roles: ['admin'] },
    });
    expired = await tokenFor(admin2.id, [], {
      expiresAt: new Date(clock.now().getTime() - 1000),
      revokedAt: null,
    });
    revoked = await tokenFor(admin2.id, [], { ...live, revokedAt: clock.now() });

    // an admin's browser session
    const set = await t.call('PUT', `/api/v1/operators/${run}.boss/password`, {
      body: { password: PASSWORD },
    });
    expect(set.statusCode).toBe(204);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: `${run}.boss`, password: PASSWORD },
    });
    const seed = login.json<{ enrol: { secret: string } }>().enrol.secret;
    const done = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/totp',
      payload: { code: await generate({ secret: seed, epoch: Math.floor(clock.now().getTime() / 1000) }) },
      cookies: { gh_pending: login.cookies.find((c) => c.name === 'gh_pending')!.value },
    });
    session = done.cookies.find((c) => c.name === 'gh_session')!.value;

    // customer A's asset, request and grant; an admin scoped to customer B
    const a = await createFleet(t, `${run}a`);
    const b = await createFleet(t, `${run}b`);
    await applyPolicies(t);
    await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
      body: {
        name: `${run}-jump`,
        region: a.region,
        address: '192.0.2.254',
        sourceCidrs: ['192.0.2.254/32'],
      },
    });
    const asset = await createDatabaseAsset(t, a, {
      name: `${run}-a-db`,
      engine: 'postgres',
      host: '192.0.2.10',
      port: 5432,
      admin: { username: 'postgres', password: 'x' },
      environment: 'staging',
    });
    const dev = await t.operatorToken(`${run}.dev`, ['requester'], ['dev']);
    const request = await expectStatus<RequestView>(t, 201, 'POST', '/api/v1/access/requests', {
      token: dev,
      body: { asset: asset.name, level: 'read-only', duration: '1h', reason: 'suite' },
    });
    await accessRunner(t, clock, `suite-${run}`).runDue();
    Object.assign(objectsOfA, {
      ref: asset.name,
      customer: a.customer,
      requestId: request.id,
      grantId: request.grant!.id,
    });

    const scopedOp = await expectStatus<{ id: string }>(t, 201, 'POST', '/api/v1/operators', {
      body: { username: `${run}.scoped`, displayName: 'scoped', roles: ['admin'] },
    });
    await expectStatus(t, 200, 'PATCH', `/api/v1/operators/${run}.scoped`, {
      body: { customers: [b.customer] },
    });
    scoped = await tokenFor(scopedOp.id, [], live);
  });
  afterAll(async () => {
    await t.close();
  });

  it('reads a route table that holds every module’s routes, each with a declared permission', () => {
    expect(routes.length).toBeGreaterThan(40);
    for (const path of ['/api/v1/grants/:id/credential', '/api/v1/operators/:ref', '/api/v1/auth/login']) {
      expect(routes.map((r) => r.url)).toContain(path);
    }
    expect(routes.filter((r) => r.secret).map((r) => r.url)).toContain('/api/v1/grants/:id/credential');
  });

  it('no credentials → 401 on every protected route', async () => {
    const wrong: string[] = [];
    for (const route of protectedRoutes()) {
      const response = await send(route, {});
      if (response.statusCode !== 401) wrong.push(`${route.method} ${route.url}: ${response.statusCode}`);
    }
    expect(wrong).toEqual([]);
  });

  it('a role without the route’s permission → 403 on every route', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const route of protectedRoutes()) {
      if (route.permission === 'authenticated') continue;
      const lacking = roles.find((role) => !permissionsOf([role]).has(route.permission as Permission));
      if (!lacking) continue; // every role holds it (e.g. tokens:own)
      checked += 1;
      const response = await send(route, { token: tokenOf[lacking]! });
      if (response.statusCode !== 403)
        wrong.push(`${route.method} ${route.url} as ${lacking}: ${response.statusCode}`);
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('an expired or a revoked token → 401 on every protected route', async () => {
    const wrong: string[] = [];
    for (const route of protectedRoutes()) {
      for (const [what, token] of [
        ['expired', expired],
        ['revoked', revoked],
      ] as const) {
        const response = await send(route, { token });
        if (response.statusCode !== 401)
          wrong.push(`${route.method} ${route.url} ${what}: ${response.statusCode}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a state change from a cookie session without the CSRF token → 403 on every state-changing route', async () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const route of protectedRoutes().filter((r) => !SAFE.has(r.method))) {
      checked += 1;
      const response = await send(route, { cookies: { gh_session: session } });
      if (response.statusCode !== 403) wrong.push(`${route.method} ${route.url}: ${response.statusCode}`);
    }
    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(10);
    // the same session reads without a CSRF token
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { gh_session: session } });
    expect(me.statusCode).toBe(200);
  });

  it('an operator scoped to another customer → 403 or 404 on every route with an object, and never sees A’s', async () => {
    const values = {
      ref: objectsOfA.ref!,
      customer: objectsOfA.customer!,
    };
    const wrong: string[] = [];
    // every route with an object in its path, but those whose objects belong to no customer
    for (const route of protectedRoutes().filter((r) => r.url.includes('/:') && customerBound(r.url))) {
      const withIds = {
        ...values,
        id: route.url.startsWith('/api/v1/grants')
          ? objectsOfA.grantId!
          : route.url.startsWith('/api/v1/access/requests')
            ? objectsOfA.requestId!
            : randomUUID(),
      };
      const url = fill(
        route.url,
        route.url.startsWith('/api/v1/assets') ||
          route.url.startsWith('/api/v1/customers') ||
          route.url.startsWith('/api/v1/grants') ||
          route.url.startsWith('/api/v1/access/requests')
          ? withIds
          : {},
      );
      const response = await send(route, { token: scoped, url });
      if (![403, 404].includes(response.statusCode))
        wrong.push(`${route.method} ${url}: ${response.statusCode}`);
    }
    expect(wrong).toEqual([]);

    // the same objects exist for an unscoped admin
    for (const url of [
      `/api/v1/assets/${objectsOfA.ref}`,
      `/api/v1/grants/${objectsOfA.grantId}`,
      `/api/v1/access/requests/${objectsOfA.requestId}`,
    ]) {
      expect((await t.call('GET', url)).statusCode).toBe(200);
      expect((await t.call('GET', url, { token: scoped })).statusCode).toBe(404);
    }
    // lists leave A's objects out; asking for access to A's asset is refused
    const assets = await expectStatus<{ items: { name: string }[] }>(t, 200, 'GET', '/api/v1/assets', {
      token: scoped,
    });
    expect(assets.items.map((x) => x.name)).not.toContain(objectsOfA.ref);
    const grants = await expectStatus<{ items: { id: string }[] }>(t, 200, 'GET', '/api/v1/grants', {
      token: scoped,
    });
    expect(grants.items.map((g) => g.id)).not.toContain(objectsOfA.grantId);
    const ask = await t.call('POST', '/api/v1/access/requests', {
      token: scoped,
      body: { asset: objectsOfA.ref, level: 'read-only', duration: '1h', reason: 'not mine' },
    });
    expect(ask.statusCode).toBe(404);
    const preview = await t.call('POST', '/api/v1/access/requests/preview', {
      token: scoped,
      body: { asset: objectsOfA.ref, level: 'read-only', duration: '1h' },
    });
    expect(preview.statusCode).toBe(404);
  });
});

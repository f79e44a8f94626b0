import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
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

const JUMPBOX = '192.0.2.254';
const ELSEWHERE = '198.51.100.7';

describe('where from: credentials only on a jumpbox, the back-office only from its networks', () => {
  const run = runToken();
  const clock = manualClock(new Date());
  const target = fakeConnector();
  let t: TestApp;
  let dana: string;

  const from = (
    remoteAddress: string,
    url: string,
    token: string | null,
    headers: Record<string, string> = {},
  ) =>
    t.app.inject({
      method: 'GET',
      url,
      remoteAddress,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });

  beforeAll(async () => {
    t = await createTestApp('pglite', {
      clock,
      access: {
        tickets: fakeTickets().source,
        connectors: () => target.connector,
        sweep: { prefix: `gh_${run}_` },
      },
    });
    const fleet = await createFleet(t, run);
    await applyPolicies(t);
    await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
      body: { name: `${run}-jump`, region: fleet.region, address: JUMPBOX, sourceCidrs: [`${JUMPBOX}/32`] },
    });
    await createDatabaseAsset(t, fleet, {
      name: `${run}-stg-db`,
      engine: 'postgres',
      host: '192.0.2.10',
      port: 5432,
      admin: { username: 'postgres', password: 'x' },
      environment: 'staging',
    });
    dana = await t.operatorToken(`${run}.dana`, ['requester'], ['dev']);
  });
  afterAll(async () => {
    await t.close();
  });

  it('reveals a credential from a jumpbox only; elsewhere is 403 and audited, and reveals nothing', async () => {
    const request = await expectStatus<RequestView>(t, 201, 'POST', '/api/v1/access/requests', {
      token: dana,
      body: { asset: `${run}-stg-db`, level: 'read-only', duration: '1h', reason: 'read a report' },
    });
    await accessRunner(t, clock, `where-${run}`).runDue();
    const url = `/api/v1/grants/${request.grant!.id}/credential`;

    const local = await from('127.0.0.1', url, dana);
    expect(local.statusCode).toBe(403);
    expect(local.json().message).toMatch(/jumpbox/);
    const refused = await expectStatus<{
      items: { action: string; actorName: string; details: Record<string, unknown> }[];
    }>(t, 200, 'GET', '/api/v1/audit/events?action=auth.secret-refused-outside-jumpbox');
    expect(refused.items[0]).toMatchObject({
      actorName: `${run}.dana`,
      details: { route: 'GET /api/v1/grants/:id/credential', sourceIp: '127.0.0.1' },
    });

    const onJumpbox = await from(JUMPBOX, url, dana);
    expect(onJumpbox.statusCode).toBe(200);
    expect(onJumpbox.json().password).toMatch(/\S{24}/);
  });

  it('refuses the back-office to addresses outside its networks and the jumpboxes, before any credential check', async () => {
    expect((await from(ELSEWHERE, '/api/v1/me', dana)).statusCode).toBe(403);
    expect((await from(ELSEWHERE, '/api/v1/me', null)).statusCode).toBe(403);
    expect((await from(JUMPBOX, '/api/v1/me', dana)).statusCode).toBe(200);
    expect((await from('127.0.0.1', '/api/v1/me', dana)).statusCode).toBe(200);
  });

  it('does not believe X-Forwarded-For from a peer that is not a configured proxy', async () => {
    const forged = await from(ELSEWHERE, '/api/v1/me', dana, { 'x-forwarded-for': '127.0.0.1' });
    expect(forged.statusCode).toBe(403);
  });

  it('serves metrics to the metrics networks only, health checks to anyone', async () => {
    expect((await from('127.0.0.1', '/metrics', null)).statusCode).toBe(200);
    expect((await from(ELSEWHERE, '/metrics', null)).statusCode).toBe(403);
    expect((await from(ELSEWHERE, '/healthz', null)).statusCode).toBe(200);
  });
});

describe('where from behind a configured proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite', { config: { trustedProxies: ['203.0.113.5/32'] } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('takes the client from X-Forwarded-For only through the trusted hop', async () => {
    const through = (client: string) =>
      t.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        remoteAddress: '203.0.113.5',
        headers: { authorization: `Bearer ${t.adminToken}`, 'x-forwarded-for': client },
      });
    expect((await through('127.0.0.1')).statusCode).toBe(200);
    expect((await through(ELSEWHERE)).statusCode).toBe(403);
    // a chain: the hop before the trusted proxy is not trusted, so its claim is not followed further
    expect((await through(`127.0.0.1, ${ELSEWHERE}`)).statusCode).toBe(403);
  });
});

import { Writable } from 'node:stream';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import { createLogger } from '../../src/platform/logger.js';
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
 * Everything Gatehouse logs (at trace level) while secrets go through it: a password set and used
 * (and a wrong one), a TOTP seed and codes, recovery codes, API tokens (valid, unknown), a session
 * cookie and CSRF token, a revealed credential. None of them may appear in the log output.
 */
describe('no secret in the logs', () => {
  const run = runToken();
  const clock = manualClock(new Date());
  const target = fakeConnector();
  const lines: string[] = [];
  const secrets: Record<string, string> = {};
  let t: TestApp;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    t = await createTestApp('pglite', {
      clock,
      logger: createLogger({ level: 'trace', destination: sink }),
      access: {
        tickets: fakeTickets().source,
        connectors: () => target.connector,
        sweep: { prefix: `gh_${run}_` },
      },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('logs requests, refusals and errors but none of the secrets that passed through', async () => {
    secrets.adminToken = t.adminToken;
    secrets.password = `${run} the password nobody must read`;
    secrets.wrongPassword = `${run} a wrong password typed by mistake`;
    const user = `${run}.lena`;
    await t.operatorToken(user, ['requester'], ['dev']);
    expect(
      (await t.call('PUT', `/api/v1/operators/${user}/password`, { body: { password: secrets.password } }))
        .statusCode,
    ).toBe(204);
    const weak = await t.call('PUT', `/api/v1/operators/${user}/password`, { body: { password: `${run}x` } });
    expect(weak.statusCode).toBe(400);
    secrets.weakPassword = `${run}x`;

    const login = (password: string) =>
      t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: user, password } });
    expect((await login(secrets.wrongPassword)).statusCode).toBe(401);
    const first = await login(secrets.password);
    secrets.seed = first.json<{ enrol: { secret: string } }>().enrol.secret;
    secrets.pending = first.cookies.find((c) => c.name === 'gh_pending')!.value;
    secrets.code = await generate({ secret: secrets.seed, epoch: Math.floor(clock.now().getTime() / 1000) });
    const done = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/totp',
      payload: { code: secrets.code },
      cookies: { gh_pending: secrets.pending },
    });
    expect(done.statusCode).toBe(200);
    const body = done.json<{ csrfToken: string; recoveryCodes: string[] }>();
    secrets.csrf = body.csrfToken;
    secrets.recovery = body.recoveryCodes[0]!;
    secrets.session = done.cookies.find((c) => c.name === 'gh_session')!.value;
    const minted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      payload: { name: 'automation' },
      cookies: { gh_session: secrets.session },
      headers: { 'x-csrf-token': secrets.csrf },
    });
    secrets.minted = minted.json<{ token: string }>().token;
    secrets.unknownToken = `gth_${'A'.repeat(43)}`;
    expect((await t.call('GET', '/api/v1/me', { token: secrets.unknownToken })).statusCode).toBe(401);
    expect((await t.call('GET', '/api/v1/me', { token: secrets.minted })).statusCode).toBe(200);

    // a revealed credential, and the admin credential of the asset it is for
    const fleet = await createFleet(t, run);
    await applyPolicies(t);
    await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
      body: {
        name: `${run}-jump`,
        region: fleet.region,
        address: '127.0.0.1',
        sourceCidrs: ['127.0.0.1/32'],
      },
    });
    secrets.adminCredential = `${run}-admin-credential-of-the-db`;
    await createDatabaseAsset(t, fleet, {
      name: `${run}-db`,
      engine: 'postgres',
      host: '192.0.2.10',
      port: 5432,
      admin: { username: 'postgres', password: secrets.adminCredential },
      environment: 'staging',
    });
    const request = await expectStatus<RequestView>(t, 201, 'POST', '/api/v1/access/requests', {
      token: secrets.minted,
      body: { asset: `${run}-db`, level: 'read-only', duration: '1h', reason: 'log test' },
    });
    await accessRunner(t, clock, `logs-${run}`).runDue();
    const revealed = await expectStatus<{ password: string }>(
      t,
      200,
      'GET',
      `/api/v1/grants/${request.grant!.id}/credential`,
      { token: secrets.minted },
    );
    secrets.revealed = revealed.password;

    const log = lines.join('');
    // the capture works: requests and refusals are there
    expect(log).toContain('/api/v1/auth/login');
    expect(log).toContain('request refused');
    const found = Object.entries(secrets).filter(([, secret]) => log.includes(secret));
    expect(found.map(([name]) => name)).toEqual([]);
  });
});

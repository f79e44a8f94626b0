import type { LightMyRequestResponse } from 'fastify';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import { createTestApp, type TestApp } from '../support/app.js';

const PASSWORD = 'correct horse battery staple';

interface Auditable {
  action: string;
  details: Record<string, unknown>;
}

function cookie(response: LightMyRequestResponse, name: string) {
  return response.cookies.find((c) => c.name === name);
}

describe('local sign-in with a password and TOTP', () => {
  const clock = manualClock('2026-11-26T10:00:00.000Z');
  let t: TestApp;

  const codeNow = (secret: string) => generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) });
  const login = (username: string, password: string, remoteAddress = '127.0.0.1') =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username, password },
      remoteAddress,
    });
  const secondFactor = (pending: string | undefined, body: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/totp',
      payload: body,
      cookies: pending ? { gh_pending: pending } : {},
    });
  const events = async (action: string) =>
    (await t.call('GET', `/api/v1/audit/events?action=${action}&limit=200`)).json<{ items: Auditable[] }>()
      .items;

  async function operatorWithPassword(username: string) {
    await t.operatorToken(username, ['approver']);
    const set = await t.call('PUT', `/api/v1/operators/${username}/password`, {
      body: { password: PASSWORD },
    });
    expect(set.statusCode).toBe(204);
  }

  /** Signs in from scratch (enrolling TOTP); returns the seed, the session cookie and the CSRF token. */
  async function enrol(username: string) {
    const first = await login(username, PASSWORD);
    expect(first.statusCode).toBe(200);
    const { enrol: offered } = first.json<{ enrol: { secret: string } }>();
    const done = await secondFactor(cookie(first, 'gh_pending')?.value, {
      code: await codeNow(offered.secret),
    });
    expect(done.statusCode).toBe(200);
    const body = done.json<{ csrfToken: string; recoveryCodes: string[] }>();
    return {
      seed: offered.secret,
      session: cookie(done, 'gh_session')!.value,
      csrf: body.csrfToken,
      recoveryCodes: body.recoveryCodes,
    };
  }

  beforeAll(async () => {
    t = await createTestApp('pglite', { clock, config: { 'auth.rateLimitPerMinute': 1000 } });
    for (const name of ['alice', 'bob', 'carol', 'dave']) await operatorWithPassword(name);
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a wrong password, and requires TOTP enrolment at first sign-in before any session exists', async () => {
    const wrong = await login('alice', 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ code: 'unauthenticated', message: 'Wrong username or password' });
    const unknown = await login('nobody', PASSWORD);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().message).toBe(wrong.json().message);

    const first = await login('alice', PASSWORD);
    expect(first.statusCode).toBe(200);
    const body = first.json<{ next: string; enrol: { secret: string; otpauthUri: string } }>();
    expect(body.next).toBe('enrol-totp');
    expect(body.enrol.otpauthUri).toContain('otpauth://totp/Gatehouse:alice');
    // only the waiting cookie, scoped to the sign-in routes: nothing else accepts it
    expect(cookie(first, 'gh_session')).toBeUndefined();
    const pending = cookie(first, 'gh_pending')!;
    expect(pending).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: true, path: '/api/v1/auth' });
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      cookies: { gh_session: pending.value },
    });
    expect(me.statusCode).toBe(401);

    const badCode = await secondFactor(pending.value, { code: '000000' });
    expect(badCode.statusCode).toBe(401);
    const done = await secondFactor(pending.value, { code: await codeNow(body.enrol.secret) });
    expect(done.statusCode).toBe(200);
    const session = done.json<{
      operator: { username: string };
      csrfToken: string;
      recoveryCodes: string[];
    }>();
    expect(session.operator.username).toBe('alice');
    expect(session.recoveryCodes).toHaveLength(10);
    expect(cookie(done, 'gh_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
      secure: true,
      path: '/',
    });
    expect(cookie(done, 'gh_csrf')).toMatchObject({ sameSite: 'Strict', value: session.csrfToken });
    expect(cookie(done, 'gh_csrf')?.httpOnly).toBeFalsy();

    const failures = await events('auth.*');
    expect(failures.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'auth.sign-in-failed',
        'auth.password-accepted',
        'auth.mfa-failed',
        'auth.totp-enrolled',
        'auth.signed-in',
      ]),
    );
    expect(failures.find((e) => e.details.username === 'nobody')?.details.reason).toBe('unknown-user');
  });

  it('a session reads freely, but a state change without its CSRF token is refused', async () => {
    const { session, csrf } = await enrol('bob');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { gh_session: session } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ operator: { username: 'bob' }, tokenId: null });

    const body = { name: 'from the browser' };
    const noCsrf = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      payload: body,
      cookies: { gh_session: session },
    });
    expect(noCsrf.statusCode).toBe(403);
    const wrongCsrf = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      payload: body,
      cookies: { gh_session: session },
      headers: { 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrongCsrf.statusCode).toBe(403);
    const withCsrf = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      payload: body,
      cookies: { gh_session: session },
      headers: { 'x-csrf-token': csrf },
    });
    expect(withCsrf.statusCode).toBe(201);
  });

  it('a used TOTP code is not accepted again, even within its time step; the next step’s code is', async () => {
    const { seed } = await enrol('carol');
    const again = await login('carol', PASSWORD);
    expect(again.json().next).toBe('totp');
    const replay = await secondFactor(cookie(again, 'gh_pending')?.value, { code: await codeNow(seed) });
    expect(replay.statusCode).toBe(401);
    expect((await events('auth.mfa-failed')).some((e) => e.details.reason === 'replayed-code')).toBe(true);

    clock.advance(30_000);
    const retry = await login('carol', PASSWORD);
    const fresh = await secondFactor(cookie(retry, 'gh_pending')?.value, { code: await codeNow(seed) });
    expect(fresh.statusCode).toBe(200);
  });

  it('a recovery code signs in once; the second use is refused', async () => {
    clock.advance(60_000);
    const { recoveryCodes } = await enrol('dave');
    const code = recoveryCodes[0]!;
    const first = await login('dave', PASSWORD);
    const used = await secondFactor(cookie(first, 'gh_pending')?.value, { recoveryCode: code.toUpperCase() });
    expect(used.statusCode).toBe(200);
    const second = await login('dave', PASSWORD);
    const reused = await secondFactor(cookie(second, 'gh_pending')?.value, { recoveryCode: code });
    expect(reused.statusCode).toBe(401);
    const signedIn = (await events('auth.signed-in')).find((e) => e.details.factor === 'recovery-code');
    expect(signedIn?.details.recoveryCodesLeft).toBe(9);
  });

  it('sessions end on sign-out, everywhere at once, when idle, and at their absolute end', async () => {
    clock.advance(60_000);
    await operatorWithPassword('erin');
    const one = await enrol('erin');
    const me = (session: string) =>
      t.app.inject({ method: 'GET', url: '/api/v1/me', cookies: { gh_session: session } });

    const out = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      cookies: { gh_session: one.session },
      headers: { 'x-csrf-token': one.csrf },
    });
    expect(out.statusCode).toBe(200);
    expect((await me(one.session)).statusCode).toBe(401);

    clock.advance(30_000);
    const b = await secondSession('erin');
    clock.advance(30_000);
    const c = await secondSession('erin');
    const everywhere = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout-everywhere',
      cookies: { gh_session: b.session },
      headers: { 'x-csrf-token': b.csrf },
    });
    expect(everywhere.json()).toEqual({ ended: 2 });
    expect((await me(c.session)).statusCode).toBe(401);

    clock.advance(30_000);
    const idle = await secondSession('erin');
    expect((await me(idle.session)).statusCode).toBe(200);
    clock.advance(31 * 60_000);
    expect((await me(idle.session)).statusCode).toBe(401);

    const busy = await secondSession('erin');
    // used every 20 minutes, it still ends 12 hours after sign-in
    for (let step = 0; step < 35; step += 1) {
      clock.advance(20 * 60_000);
      expect((await me(busy.session)).statusCode).toBe(200);
    }
    clock.advance(20 * 60_000);
    expect((await me(busy.session)).statusCode).toBe(401);

    async function secondSession(username: string) {
      const started = await login(username, PASSWORD);
      const done = await secondFactor(cookie(started, 'gh_pending')?.value, {
        code: await codeNow(one.seed),
      });
      expect(done.statusCode).toBe(200);
      return {
        session: cookie(done, 'gh_session')!.value,
        csrf: done.json<{ csrfToken: string }>().csrfToken,
      };
    }
  });

  it('20 wrong passwords in a row lock the account (with backoff between), audited; an admin unlocks it', async () => {
    await operatorWithPassword('frank');
    const statuses: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const attempt = await login('frank', `wrong password number ${i}`);
      statuses.push(attempt.statusCode);
      // during backoff the attempt is not even checked
      if (i === 10) expect((await login('frank', PASSWORD)).statusCode).toBe(429);
      clock.advance(6 * 60_000);
    }
    expect(statuses).toEqual(Array(20).fill(401));
    const locked = await login('frank', PASSWORD);
    expect(locked.statusCode).toBe(403);
    expect(locked.json().message).toMatch(/locked/);
    const lockouts = (await events('auth.locked-out')).filter((e) => e.details.username === 'frank');
    expect(lockouts).toHaveLength(1);
    expect(lockouts[0]!.details.failedAttempts).toBe(20);

    expect((await t.call('POST', '/api/v1/operators/frank/unlock')).statusCode).toBe(204);
    expect((await login('frank', PASSWORD)).statusCode).toBe(200);
    expect((await events('operator.unlocked')).length).toBe(1);
  });

  it('refuses weak passwords and lets only administrators set them', async () => {
    const weak = await t.call('PUT', '/api/v1/operators/alice/password', { body: { password: 'short' } });
    expect(weak.statusCode).toBe(400);
    const bobToken = await t.operatorToken('mallory', ['approver']);
    const notAdmin = await t.call('PUT', '/api/v1/operators/alice/password', {
      token: bobToken,
      body: { password: 'mallory was here 12345' },
    });
    expect(notAdmin.statusCode).toBe(403);
  });
});

describe('sign-in rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('pglite', { config: { 'auth.rateLimitPerMinute': 3 } });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers 429 after the per-minute limit from one address, and not for another address', async () => {
    const attempt = (remoteAddress: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'nobody', password: 'whatever it is' },
        remoteAddress,
      });
    const codes = [];
    for (let i = 0; i < 4; i += 1) codes.push((await attempt('127.0.0.9')).statusCode);
    expect(codes).toEqual([401, 401, 401, 429]);
    expect((await attempt('127.0.0.10')).statusCode).toBe(401);
  });
});

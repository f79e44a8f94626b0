import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

/**
 * A real OpenID Connect provider (oidc-provider) on loopback, and the full browser redirect flow:
 * Gatehouse → IdP authorization → IdP interaction (login with the account's amr, consent) → IdP →
 * Gatehouse callback → session. The browser is fetch with manual redirects and a cookie jar.
 */

const accounts: Record<string, { groups: string[]; amr: string[] }> = {
  'alice.oidc': { groups: ['ops-admins', 'dev', 'Not A Valid Group!'], amr: ['pwd', 'otp'] },
  'bob.oidc': { groups: ['dev'], amr: ['pwd'] },
};

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Follows redirects like a browser (cookies per origin), from `start` until `stop(url)` is true. */
async function browse(start: string, stop: (url: URL) => boolean) {
  const jar = new Map<string, Map<string, string>>();
  let url = new URL(start);
  let response: Response | undefined;
  for (let hop = 0; hop < 20; hop += 1) {
    const cookies = jar.get(url.origin) ?? new Map<string, string>();
    response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      cookies.set(name!.trim(), value.join('='));
    }
    jar.set(url.origin, cookies);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) break;
    url = new URL(location, url);
    if (stop(url)) break;
  }
  return { response: response!, url, jar };
}

describe('sign-in through a real OpenID Connect provider', () => {
  let t: TestApp;
  let idp: Server;
  let base: string;
  let login = 'alice.oidc';

  beforeAll(async () => {
    const [idpPort, ghPort] = [await freePort(), await freePort()];
    const issuer = `http://127.0.0.1:${idpPort}`;
    base = `http://127.0.0.1:${ghPort}`;
    const redirectUri = `${base}/api/v1/auth/oidc/callback`;

    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: 'gatehouse',
          client_secret: 'gatehouse-test-client-secret',
          redirect_uris: [redirectUri],
          response_types: ['code'],
          grant_types: ['authorization_code'],
        },
      ],
      scopes: ['openid', 'profile', 'groups'],
      // amr and acr in the ID token with the openid scope, as IdPs that report MFA do
      claims: {
        openid: ['sub', 'amr', 'acr', 'auth_time'],
        profile: ['preferred_username', 'name'],
        groups: ['groups'],
      },
      conformIdTokenClaims: false,
      cookies: { keys: ['oidc-test-cookie-key'] },
      features: { devInteractions: { enabled: false } },
      interactions: {
        url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      findAccount: (_ctx: unknown, sub: string) => ({
        accountId: sub,
        claims: () => ({ sub, preferred_username: sub, name: sub, groups: accounts[sub]?.groups ?? [] }),
      }),
    });
    const handle = provider.callback();
    idp = createServer((req, res) => {
      if (!req.url?.startsWith('/interaction/')) return handle(req, res);
      void (async () => {
        const details = await provider.interactionDetails(req, res);
        if (details.prompt.name === 'login') {
          await provider.interactionFinished(
            req,
            res,
            { login: { accountId: login, amr: accounts[login]!.amr } },
            { mergeWithLastSubmission: false },
          );
          return;
        }
        const accountId = details.session!.accountId;
        const grant =
          (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
          new provider.Grant({ accountId, clientId: 'gatehouse' });
        const missingScope = details.prompt.details.missingOIDCScope as string[] | undefined;
        const missingClaims = details.prompt.details.missingOIDCClaims as string[] | undefined;
        if (missingScope) grant.addOIDCScope(missingScope.join(' '));
        if (missingClaims) grant.addOIDCClaims(missingClaims);
        await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } });
      })().catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
    await new Promise<void>((resolve) => idp.listen(idpPort, '127.0.0.1', resolve));

    t = await createTestApp('pglite', {
      config: {
        'auth.oidc': {
          issuer,
          clientId: 'gatehouse',
          clientSecret: 'gatehouse-test-client-secret',
          redirectUri,
          scopes: 'openid profile groups',
          groupRoles: { 'ops-admins': ['admin'], dev: ['requester'] },
        },
      },
    });
    await t.app.listen({ host: '127.0.0.1', port: ghPort });
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((resolve) => idp?.close(resolve));
  });

  const toGatehouseRoot = (url: URL) => url.origin === base && url.pathname === '/';

  it('signs an operator in through the full redirect flow; the groups claim maps to groups and roles', async () => {
    login = 'alice.oidc';
    const { url, jar, response } = await browse(`${base}/api/v1/auth/oidc/start`, toGatehouseRoot);
    expect(url.pathname, await response.text()).toBe('/');
    const session = jar.get(base)?.get('gh_session');
    expect(session).toBeTruthy();

    const me = await fetch(`${base}/api/v1/me`, { headers: { cookie: `gh_session=${session}` } });
    expect(me.status).toBe(200);
    const body = (await me.json()) as { operator: { username: string; groups: string[] }; roles: string[] };
    expect(body.operator.username).toBe('alice.oidc');
    expect(body.operator.groups).toEqual(['dev', 'ops-admins']);
    expect(body.roles).toEqual(expect.arrayContaining(['admin', 'requester']));

    const events = (await t.call('GET', '/api/v1/audit/events?action=auth.signed-in')).json<{
      items: { details: Record<string, unknown> }[];
    }>();
    expect(events.items[0]?.details).toMatchObject({
      username: 'alice.oidc',
      method: 'oidc',
      amr: ['pwd', 'otp'],
    });
  });

  it('refuses an ID token without the required MFA claim, audited, and opens no session', async () => {
    login = 'bob.oidc';
    const { response, jar } = await browse(`${base}/api/v1/auth/oidc/start`, () => false);
    expect(response.status).toBe(403);
    expect(((await response.json()) as { message: string }).message).toMatch(/second factor/);
    expect(jar.get(base)?.get('gh_session')).toBeUndefined();
    expect((await t.call('GET', '/api/v1/operators/bob.oidc')).statusCode).toBe(404);
    const refused = (await t.call('GET', '/api/v1/audit/events?action=auth.mfa-failed')).json<{
      items: { details: Record<string, unknown> }[];
    }>();
    expect(refused.items[0]?.details).toMatchObject({
      method: 'oidc',
      reason: 'no-mfa',
      subject: 'bob.oidc',
    });
  });

  it('refuses a callback without the flow started by this browser', async () => {
    const forged = await fetch(`${base}/api/v1/auth/oidc/callback?code=abc&state=xyz`, {
      redirect: 'manual',
    });
    expect(forged.status).toBe(401);
  });
});

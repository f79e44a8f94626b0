import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../support/oidc-idp.js';
import { freePort, screenshot, useE2e } from './support/index.js';

const [idpPort, port] = [await freePort(), await freePort()];
const redirectUri = `http://127.0.0.1:${port}/api/v1/auth/oidc/callback`;
const accounts = {
  'olivia.sso': { groups: ['ops-admins'], amr: ['pwd', 'otp'], name: 'Olivia Sso' },
  'pete.sso': { groups: ['dev'], amr: ['pwd'], name: 'Pete NoMfa' },
};

describe('signing in with the identity provider (OIDC)', () => {
  let idp: TestIdp;
  // the provider is up before the server starts (hooks run in order; torn down after it)
  beforeAll(async () => {
    idp = await startTestIdp({ port: idpPort, redirectUri, accounts });
  });
  afterAll(async () => {
    await idp?.close();
  });
  const e2e = useE2e({
    port,
    config: {
      'auth.oidc': {
        issuer: `http://127.0.0.1:${idpPort}`,
        clientId: 'gatehouse',
        clientSecret: 'gatehouse-test-client-secret',
        redirectUri,
        scopes: 'openid profile groups',
        groupRoles: { 'ops-admins': ['admin'], dev: ['requester'] },
      },
    },
  });

  it('offers "Sign in with SSO", signs in through the provider and returns to the page asked for', async () => {
    idp.login = 'olivia.sso';
    const { page } = await e2e.page();
    // a deep link: after the provider, the browser comes back to it
    await page.goto('/audit');
    const sso = page.getByRole('link', { name: 'Sign in with SSO' });
    await sso.waitFor();
    await sso.click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/audit');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Home' }).click();
    await page.getByRole('heading', { name: 'Welcome, Olivia Sso' }).waitFor();
    await expect(page.getByRole('banner').innerText()).resolves.toContain('Signed in as Olivia Sso');
    // admin through the ops-admins group: every section is there
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').count()).toBe(7);
  });

  it('says why when the provider did not confirm a second factor, and signs nobody in', async () => {
    idp.login = 'pete.sso';
    const { page, context } = await e2e.page();
    await page.goto('/sign-in');
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const text = await alert.innerText();
    expect(text).toContain('Sign-in with SSO failed');
    expect(text).toContain('did not report a second factor (MFA)');
    expect(text).toMatch(/Request id: [0-9a-f-]{36}/);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('gh_session');
    await screenshot(page, 'sign-in-sso-failed');
  });
});

import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot, signInWithUi, totpCode, useE2e, type E2eOperator } from './support/index.js';

/** Where the keyboard focus is: the focused element's tag, text and outline (visible focus). */
const focused = (page: Page) =>
  page.evaluate<{ tag: string; id: string; text: string; outline: string }>(`(() => {
    const el = document.activeElement;
    const style = el ? getComputedStyle(el) : undefined;
    return { tag: el?.tagName, id: el?.id, text: el?.textContent?.trim(), outline: style?.outlineStyle };
  })()`);

/** A 6-digit code that is not valid for this seed within a step either side of now. */
async function wrongCode(operator: E2eOperator): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const valid = await Promise.all(
    [-60, -30, 0, 30, 60].map((d) => generate({ secret: operator.totpSecret!, epoch: now + d })),
  );
  let candidate = 123456;
  while (valid.includes(String(candidate))) candidate += 1;
  return String(candidate);
}

describe('signing in to the back-office', () => {
  const e2e = useE2e();

  it('enrols TOTP at first sign-in (QR code and key), shows the recovery codes once, and signs out', async () => {
    const alice = await e2e.operator({
      name: 'alice',
      displayName: 'Alice Martin',
      roles: ['approver'],
      enrol: false,
    });
    const { page, context } = await e2e.page();

    // a deep link without a session goes to sign-in, and comes back after it
    await page.goto('/approvals');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(new URL(page.url()).searchParams.get('next')).toBe('/approvals');
    expect(await page.title()).toBe('Sign in · Gatehouse');
    await screenshot(page, 'sign-in');

    await page.getByLabel('Username').fill(alice.username);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    const qr = page.getByRole('img', { name: 'QR code for your authenticator app' });
    await qr.waitFor();
    expect(await qr.isVisible()).toBe(true);
    expect(
      await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
    ).toBeGreaterThan(100);
    const key = (await page.locator('code.secret').innerText()).replace(/\s+/g, '');
    expect(key).toMatch(/^[A-Z2-7]{16,}$/);
    alice.totpSecret = key;
    await screenshot(page, 'sign-in-enrol');

    await page.getByLabel('Code').fill(await totpCode(alice));
    await page.getByRole('button', { name: 'Confirm and sign in' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    const codes = await page
      .getByRole('list', { name: 'Recovery codes' })
      .getByRole('listitem')
      .allInnerTexts();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    await screenshot(page, 'sign-in-recovery-codes');
    await page.getByRole('button', { name: 'I have saved them, continue' }).click();

    // back where the deep link pointed, signed in as Alice
    await page.getByRole('heading', { name: 'Approvals', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/approvals');
    await expect(page.getByRole('banner').innerText()).resolves.toContain('Signed in as Alice Martin');
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const label of ['Home', 'Request access', 'My access', 'Approvals', 'Inventory']) {
      expect(await nav.getByRole('link', { name: label, exact: true }).isVisible(), label).toBe(true);
    }
    // an approver has no network or audit sections
    expect(await nav.getByRole('link', { name: 'Audit' }).count()).toBe(0);

    // the session cookie is Secure, HttpOnly and SameSite=Strict, and Chromium keeps it on http://127.0.0.1
    const session = (await context.cookies()).find((c) => c.name === 'gh_session');
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict' });

    await nav.getByRole('link', { name: 'Home' }).click();
    await page.getByRole('heading', { name: 'Welcome, Alice Martin' }).waitFor();
    await screenshot(page, 'home');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('gh_session');
    // the recovery codes are not shown again: the next sign-in asks for a code only
    await signInWithUi(page, alice);
    await page.getByRole('heading', { name: 'Welcome, Alice Martin' }).waitFor();
  });

  it('says clearly when the password or the code is wrong, then signs in with the right ones', async () => {
    const bob = await e2e.operator({ name: 'bob', displayName: 'Bob Stone' });
    const { page, errors } = await e2e.page();
    errors.expectHttpError(401, '/api/v1/auth/login');
    errors.expectHttpError(401, '/api/v1/auth/totp');

    await page.goto('/sign-in');
    await page.getByLabel('Username').fill(bob.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Continue' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('Wrong username or password');
    expect(await page.getByLabel('Password').inputValue()).toBe('');

    await page.getByLabel('Password').fill(bob.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await page.getByLabel('Code').fill(await wrongCode(bob));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    const message = await page.getByRole('alert').innerText();
    expect(message).toContain('That code was not accepted');
    expect(message).toContain('Wrong or already used code');
    expect(message).toMatch(/Request id: [0-9a-f-]{36}/);
    // the field is emptied and focused for the next try
    expect(await page.getByLabel('Code').inputValue()).toBe('');
    expect((await focused(page)).tag).toBe('INPUT');
    await screenshot(page, 'sign-in-error');

    await page.getByLabel('Code').fill(await totpCode(bob));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Welcome, Bob Stone' }).waitFor();
  });

  it('signs in and out with the keyboard alone, with a skip link and visible focus', async () => {
    const carol = await e2e.operator({ name: 'carol', displayName: 'Carol Diaz', roles: ['auditor'] });
    const { page } = await e2e.page();
    await page.goto('/');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    // the username field has the focus on arrival
    expect((await focused(page)).tag).toBe('INPUT');
    await page.keyboard.type(carol.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(carol.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    expect((await focused(page)).tag).toBe('INPUT');
    await page.keyboard.type(await totpCode(carol));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Welcome, Carol Diaz' }).waitFor();
    // signed in, the focus is on the new page's heading
    expect(await focused(page)).toMatchObject({ tag: 'H1', text: 'Welcome, Carol Diaz' });

    // on a fresh load, the first Tab reaches the skip link, visibly focused; Enter moves to the content
    await page.reload();
    await page.getByRole('heading', { name: 'Welcome, Carol Diaz' }).waitFor();
    await page.keyboard.press('Tab');
    const skip = await focused(page);
    expect(skip.text).toBe('Skip to main content');
    expect(skip.outline).not.toBe('none');
    await page.keyboard.press('Enter');
    expect((await focused(page)).id).toBe('main');

    // Tab through the header to a section, open it with Enter: the focus lands on its heading
    await page.keyboard.press('Shift+Tab');
    let reached = await focused(page);
    for (let i = 0; i < 20 && reached.text !== 'Audit'; i++) {
      await page.keyboard.press('Shift+Tab');
      reached = await focused(page);
    }
    expect(reached.text).toBe('Audit');
    expect(reached.outline).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
    expect(await focused(page)).toMatchObject({ tag: 'H1', text: 'Audit' });

    // and out: back up through the navigation to "Sign out", Enter
    for (let i = 0; i < 20 && (await focused(page)).text !== 'Sign out'; i++) {
      await page.keyboard.press('Shift+Tab');
    }
    expect((await focused(page)).text).toBe('Sign out');
    await page.keyboard.press('Enter');
    await page.getByText('You are signed out.').waitFor();
  });

  it('goes back to sign-in when the session has ended, and returns to the page afterwards (recovery code)', async () => {
    const dave = await e2e.operator({ name: 'dave', displayName: 'Dave Ng', roles: ['auditor'] });
    const { page, context, errors } = await e2e.page();
    await signInWithUi(page, dave, '/audit');
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();

    // the server forgets the session (here: the browser loses its cookie); the next call answers 401
    errors.expectHttpError(401, '/api/v1/me');
    await context.clearCookies({ name: 'gh_session' });
    await page.reload();
    await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
    expect(new URL(page.url()).searchParams.get('next')).toBe('/audit');
    await page.getByLabel('Username').fill(dave.username);
    await page.getByLabel('Password').fill(dave.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    // this time with a recovery code (each works once)
    await page.getByRole('button', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill(dave.recoveryCodes![0]!);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor();
  });

  it('keeps its Secure session cookie on http://localhost too (the demo runs without TLS)', async () => {
    const fay = await e2e.operator({ name: 'fay', displayName: 'Fay Wong' });
    const { page, context } = await e2e.page();
    const local = e2e.baseUrl.replace('127.0.0.1', 'localhost');
    await page.goto(`${local}/`);
    await page.getByLabel('Username').fill(fay.username);
    await page.getByLabel('Password').fill(fay.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Code').fill(await totpCode(fay));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Welcome, Fay Wong' }).waitFor();
    const cookies = await context.cookies(local);
    expect(cookies.find((c) => c.name === 'gh_session')).toMatchObject({ secure: true, domain: 'localhost' });
    // a reload keeps the session: the cookie was stored, not just sent once
    await page.reload();
    await page.getByRole('heading', { name: 'Welcome, Fay Wong' }).waitFor();
  });

  it('shows the page at 800 px wide without horizontal scrolling', async () => {
    const erin = await e2e.operator({ name: 'erin', roles: ['admin'] });
    const { page } = await e2e.page({ width: 800, height: 900 });
    await signInWithUi(page, erin);
    const overflow = await page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBe(0);
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').count()).toBe(7);
    for (const link of await nav.getByRole('link').all()) expect(await link.isVisible()).toBe(true);
  });
});

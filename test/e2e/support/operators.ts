import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { E2eServer } from './server.js';

/** An operator the test can sign in as: password, and the TOTP seed once enrolled. */
export interface E2eOperator {
  username: string;
  displayName: string;
  password: string;
  roles: string[];
  groups: string[];
  /** The TOTP seed (base32) once enrolled, through the API here or read from the enrolment page. */
  totpSecret?: string;
  recoveryCodes?: string[];
  /** The last TOTP time step used: the server refuses a code of that step or earlier. */
  lastStep?: number;
}

const STEP_SECONDS = 30;

export interface OperatorOptions {
  /** Without the run prefix: `alice` becomes `<run>.alice`. */
  name: string;
  displayName?: string;
  roles?: string[];
  groups?: string[];
  /** Enrol TOTP through the API now (default), so the UI asks only for a code; false: enrol in the UI. */
  enrol?: boolean;
}

/** Creates an operator with a password (as an admin would) and, unless told not to, an enrolled TOTP. */
export async function createOperator(server: E2eServer, options: OperatorOptions): Promise<E2eOperator> {
  const { t, run } = server;
  const operator: E2eOperator = {
    username: `${run}.${options.name}`,
    displayName: options.displayName ?? options.name.charAt(0).toUpperCase() + options.name.slice(1),
    password: `pw-${run}-${options.name}-correct-horse`,
    roles: options.roles ?? ['requester'],
    groups: options.groups ?? [],
  };
  const created = await t.call('POST', '/api/v1/operators', {
    body: {
      username: operator.username,
      displayName: operator.displayName,
      roles: operator.roles,
      groups: operator.groups,
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  const set = await t.call('PUT', `/api/v1/operators/${operator.username}/password`, {
    body: { password: operator.password },
  });
  expect(set.statusCode, set.body).toBe(204);
  if (options.enrol !== false) await enrolThroughApi(server, operator);
  return operator;
}

async function enrolThroughApi(server: E2eServer, operator: E2eOperator): Promise<void> {
  const { app } = server.t;
  const login = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: operator.username, password: operator.password },
  });
  expect(login.statusCode, login.body).toBe(200);
  const { enrol } = login.json<{ enrol?: { secret: string } }>();
  if (!enrol) throw new Error(`${operator.username} is enrolled already`);
  operator.totpSecret = enrol.secret;
  const pending = login.cookies.find((c) => c.name === 'gh_pending')?.value ?? '';
  const done = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/totp',
    payload: { code: await totpCode(operator) },
    cookies: { gh_pending: pending },
  });
  expect(done.statusCode, done.body).toBe(200);
  operator.recoveryCodes = done.json<{ recoveryCodes: string[] }>().recoveryCodes;
}

/**
 * A TOTP code the server will accept now: of a step after the last one used (the server takes one
 * step either side of now), waiting for the clock when two sign-ins come in quick succession.
 */
export async function totpCode(operator: E2eOperator): Promise<string> {
  if (!operator.totpSecret) throw new Error(`${operator.username} has no TOTP seed yet`);
  const nowStep = () => Math.floor(Date.now() / 1000 / STEP_SECONDS);
  let step = Math.max(nowStep(), (operator.lastStep ?? -1) + 1);
  while (step > nowStep() + 1) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    step = Math.max(nowStep(), (operator.lastStep ?? -1) + 1);
  }
  operator.lastStep = step;
  return generate({ secret: operator.totpSecret, epoch: step * STEP_SECONDS });
}

/** Signs in through the sign-in page (password then code) and waits for the signed-in header. */
export async function signInWithUi(page: Page, operator: E2eOperator, path = '/'): Promise<void> {
  await page.goto(path);
  await page.getByLabel('Username').fill(operator.username);
  await page.getByLabel('Password').fill(operator.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Code').fill(await totpCode(operator));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

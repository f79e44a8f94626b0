import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

const main = path.resolve('src/main.ts');
const PASSWORD = 'a long enough password 42';

/** Runs the real CLI with the given stdin; resolves with its exit code and output. */
function gatehouse(args: string[], env: Record<string, string>, stdin = '') {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', main, ...args],
      { env: { PATH: process.env.PATH, GATEHOUSE_LOG_LEVEL: 'silent', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin);
  });
}

describe('gatehouse login and logout', () => {
  let t: TestApp;
  let env: Record<string, string>;
  let tokenFile: string;

  beforeAll(async () => {
    t = await createTestApp('pglite');
    const address = await t.app.listen({ host: '127.0.0.1', port: 0 });
    tokenFile = path.join(mkdtempSync(path.join(tmpdir(), 'gh-login-')), 'nested', 'token');
    env = { GATEHOUSE_URL: address, GATEHOUSE_TOKEN_FILE: tokenFile, HOME: path.dirname(tokenFile) };
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps a given token in a file of mode 0600 that later commands use; logout revokes it and removes the file', async () => {
    const token = await t.operatorToken('lena', ['auditor']);
    const login = await gatehouse(['login'], env, `${token}\n`);
    expect(login.stderr).not.toContain(token);
    expect(login.stdout).toContain('Signed in as lena');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);

    const whoami = await gatehouse(['whoami'], env);
    expect(whoami.stdout).toContain('lena');

    const logout = await gatehouse(['logout'], env);
    expect(logout.stdout).toContain('token revoked');
    expect(existsSync(tokenFile)).toBe(false);
    const refused = await t.call('GET', '/api/v1/me', { token });
    expect(refused.statusCode).toBe(401);
  });

  it('signs in with password and TOTP and keeps a new token minted for this machine', async () => {
    await t.operatorToken('omar', ['requester']);
    await t.call('PUT', '/api/v1/operators/omar/password', { body: { password: PASSWORD } });
    // enrol in the "browser" first
    const first = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'omar', password: PASSWORD },
    });
    const seed = first.json<{ enrol: { secret: string } }>().enrol.secret;
    const pending = first.cookies.find((c) => c.name === 'gh_pending')!.value;
    const now = Math.floor(Date.now() / 1000);
    const enrolled = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/totp',
      payload: { code: await generate({ secret: seed, epoch: now }) },
      cookies: { gh_pending: pending },
    });
    expect(enrolled.statusCode).toBe(200);

    // the next time step's code (the current one is spent)
    const code = await generate({ secret: seed, epoch: now + 30 });
    const login = await gatehouse(['login', '--user', 'omar'], env, `${PASSWORD}\n${code}\n`);
    expect(login.stdout).toContain('Signed in as omar');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const tokens = await gatehouse(['--json', 'whoami'], env);
    expect(JSON.parse(tokens.stdout)).toMatchObject({ operator: { username: 'omar' } });
  });

  it('an admin changes roles, deactivates and unlocks operators from the CLI', async () => {
    await t.operatorToken('pia', ['requester']);
    const admin = { ...env, GATEHOUSE_TOKEN: t.adminToken };
    const roles = await gatehouse(['operators', 'update', 'pia', '--role', 'approver,auditor'], admin);
    expect(roles.stdout).toContain('pia: roles approver, auditor, requester; active');
    const off = await gatehouse(['operators', 'update', 'pia', '--deactivate'], admin);
    expect(off.stdout).toContain('deactivated (0 grants revoked)');
    const self = await gatehouse(['operators', 'update', 'admin', '--role', 'auditor'], admin);
    expect(self.code).not.toBe(0);
    expect(self.stderr).toMatch(/Nobody changes their own/);
    expect((await gatehouse(['operators', 'unlock', 'pia'], admin)).stdout).toContain('Unlocked pia');
    const weak = await gatehouse(['operators', 'password', 'omar'], admin, 'short\n');
    expect(weak.stderr).toMatch(/at least 12/);
    const set = await gatehouse(['operators', 'password', 'omar', '--reset-mfa'], admin, `${PASSWORD}2\n`);
    expect(set.stdout).toContain('Password set for omar');
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'omar', password: `${PASSWORD}2` },
    });
    expect(login.json()).toMatchObject({ next: 'enrol-totp' });
  });
});

import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { systemClock } from '../../src/platform/clock.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  accessRunner,
  createDatabaseAsset,
  createFleet,
  expectStatus,
  fakeConnector,
  policySet,
  runToken,
} from './access-support.js';

/**
 * `gatehouse access …` and `gatehouse policies …` as thin clients: the real CLI in a child process,
 * against this test's API on a real port (targets are the fake connector; jobs run in this process).
 */

const run = promisify(execFile);
const main = path.resolve('src/main.ts');
const token = runToken();
const target = fakeConnector();
let t: TestApp;
let runner: JobRunner;
let base: string;
let dana: string;
let lee: string;
const dir = mkdtempSync(path.join(tmpdir(), 'gh-access-cli-'));

async function gatehouse(as: string, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', main, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_URL: base, GATEHOUSE_TOKEN: as },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

beforeAll(async () => {
  t = await createTestApp('postgres', {
    clock: systemClock,
    access: { connectors: () => target.connector, sweep: { prefix: `gh_${token}_` } },
  });
  runner = accessRunner(t, systemClock, `access-cli-${token}`);
  const fleet = await createFleet(t, token);
  await createDatabaseAsset(t, fleet, {
    name: `${token}-db`,
    engine: 'mariadb',
    host: '192.0.2.30',
    port: 3306,
    admin: { username: 'root', password: 'x' },
    database: 'shop',
  });
  await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
    body: {
      name: `${token}-jump`,
      region: fleet.region,
      address: '192.0.2.254',
      sourceCidrs: ['192.0.2.254/32'],
    },
  });
  // this test calls from 127.0.0.1: a jumpbox there, in a region of its own (credentials are shown on
  // jumpboxes only; accounts stay bound to the fleet region's jumpbox)
  await expectStatus(t, 201, 'POST', '/api/v1/regions', { body: { name: `${token}-local` } });
  await expectStatus(t, 201, 'POST', '/api/v1/jumpboxes', {
    body: {
      name: `${token}-local-jump`,
      region: `${token}-local`,
      address: '127.0.0.1',
      sourceCidrs: ['127.0.0.1/32'],
    },
  });
  dana = await t.operatorToken(`${token}.dana`, ['requester'], ['dev']);
  lee = await t.operatorToken(`${token}.lee`, ['approver'], ['leads']);
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('gatehouse access and policies (CLI)', () => {
  it('validates, applies and shows policies from a YAML file', async () => {
    const file = path.join(dir, 'policies.yaml');
    writeFileSync(file, toYaml(policySet()));
    const valid = await gatehouse(dana, 'policies', 'validate', file);
    expect(valid.stdout).toMatch(/is valid: 3 policies/);
    const broken = path.join(dir, 'broken.yaml');
    writeFileSync(broken, 'policies:\n  - name: x\n    maxDuration: forever\n');
    const refused = await gatehouse(dana, 'policies', 'validate', broken);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/The policy set is invalid/);
    expect((await gatehouse(dana, 'policies', 'apply', file)).stderr).toMatch(/access:admin/);
    const applied = await gatehouse(t.adminToken, 'policies', 'apply', file, '--comment', 'first set');
    expect(applied.stdout).toMatch(/Applied version 1: 3 policies/);
    const shown = await gatehouse(dana, 'policies', 'show', '--yaml');
    expect(shown.stdout).toMatch(/name: dev-databases/);
  });

  it('previews what the policies say before asking, and exits 1 when they would refuse', async () => {
    const asset = `${token}-db`;
    const allowed = await gatehouse(
      dana,
      ...['access', 'preview', '--asset', asset, '--level', 'read-only', '--duration', '1h'],
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).toMatch(/read-only on .* for 1h: allowed after review/);
    expect(allowed.stdout).toMatch(/maximum: +4h/);
    expect(allowed.stdout).toMatch(/approvals: +1 \(any of leads\), within 2h/);
    expect(allowed.stdout).toMatch(/break-glass: +available, up to 1h/);
    const refused = await gatehouse(
      dana,
      ...['access', 'preview', '--asset', asset, '--level', 'read-only', '--duration', '6h'],
    );
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/: refused\n {2}- duration 6h exceeds the maximum of 4h/);
    // nothing was asked for
    const url = '/api/v1/access/requests?mine=true';
    const mine = await expectStatus<{ items: unknown[] }>(t, 200, 'GET', url, { token: dana });
    expect(mine.items).toEqual([]);
  });

  it('requests, approves, reveals once, revokes and sweeps', async () => {
    const requested = await gatehouse(
      dana,
      '--json',
      'access',
      'request',
      ...['--asset', `${token}-db`, '--level', 'read-only', '--duration', '1h', '--reason', 'refund check'],
    );
    expect(requested.code, requested.stderr).toBe(0);
    const { id } = JSON.parse(requested.stdout) as { id: string };
    const listed = await gatehouse(lee, 'access', 'list', '--status', 'pending-approval');
    expect(listed.stdout).toContain(id);
    const approved = await gatehouse(lee, 'access', 'approve', id, '--comment', 'ok');
    expect(approved.stdout).toMatch(/approved by .*lee/);
    await runner.runDue();
    const shown = JSON.parse((await gatehouse(dana, '--json', 'access', 'show', id)).stdout) as {
      grant: { id: string; account: string; status: string };
    };
    expect(shown.grant.status).toBe('active');
    const revealed = await gatehouse(dana, 'access', 'reveal', shown.grant.id);
    expect(revealed.stdout).toMatch(
      new RegExp(`connect: +mariadb -h 192.0.2.30 -P 3306 -u ${shown.grant.account} -p shop`),
    );
    expect(revealed.stdout).toMatch(/password: \S{24}/);
    const again = await gatehouse(dana, 'access', 'reveal', shown.grant.id);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/was revealed at .* and is shown only once/);
    expect((await gatehouse(dana, 'access', 'revoke', shown.grant.id)).stdout).toMatch(/revoking/);
    await runner.runDue();
    expect(target.accounts.has(shown.grant.account)).toBe(false);

    target.accounts.set(`gh_${token}_handmade`, { level: 'admin', validUntil: new Date(), sourceCidrs: [] });
    const swept = await gatehouse(t.adminToken, 'access', 'sweep', '--prefix', `gh_${token}_`);
    expect(swept.stdout).toMatch(/removed 1/);
    expect(target.accounts.size).toBe(0);
  });

  it('extends through review: the holder asks, a reviewer finds it in the queue and approves', async () => {
    // the grant is made through the API: only the extension goes through the CLI
    const requested = await expectStatus<{ id: string }>(t, 201, 'POST', '/api/v1/access/requests', {
      token: dana,
      body: { asset: `${token}-db`, level: 'read-only', duration: '1h', reason: 'ledger check' },
    });
    await expectStatus(t, 200, 'POST', `/api/v1/access/requests/${requested.id}/approve`, {
      token: lee,
      body: { comment: 'ok' },
    });
    await runner.runDue();
    const { grant } = await expectStatus<{ grant: { id: string; notAfter: string } }>(
      t,
      200,
      'GET',
      `/api/v1/access/requests/${requested.id}`,
    );
    const both = await gatehouse(
      dana,
      'access',
      'extend',
      grant.id,
      '--for',
      '30m',
      '--until',
      grant.notAfter,
      '--reason',
      'x',
    );
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/either --for <duration> or --until <time>/);
    const asked = await gatehouse(
      dana,
      'access',
      'extend',
      grant.id,
      '--for',
      '30m',
      '--reason',
      'the ledger is long',
    );
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.stdout).toMatch(/: pending-approval/);
    const extensionId = /extension ([0-9a-f-]{36})/.exec(asked.stdout)![1]!;
    const queue = await gatehouse(lee, 'access', 'extensions', 'list', '--status', 'pending-approval');
    expect(queue.stdout).toContain(extensionId);
    const approved = await gatehouse(lee, 'access', 'extensions', 'approve', extensionId, '--comment', 'ok');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toMatch(/: approved/);
    expect(approved.stdout).toMatch(/approved by .*lee/);
    const after = await expectStatus<{ notAfter: string }>(t, 200, 'GET', `/api/v1/grants/${grant.id}`);
    expect(new Date(after.notAfter).getTime()).toBe(new Date(grant.notAfter).getTime() + 30 * 60_000);
    await expectStatus(t, 200, 'POST', `/api/v1/grants/${grant.id}/revoke`, { token: dana, body: {} });
    await runner.runDue();
  });
});

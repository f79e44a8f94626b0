import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../src/platform/clock.js';
import type { JobRunner } from '../../src/platform/jobs/job-runner.js';
import { createTestApp, type TestApp } from '../support/app.js';
import {
  openSession,
  sftpWithPassword,
  sshWithPassword,
  startLinuxHost,
  type LinuxHost,
} from '../support/linux-host.js';
import { createLab, type Lab, type NetHost } from '../support/netns.js';
import {
  accessRunner,
  applyPolicies,
  auditActions,
  createFleet,
  expectStatus,
  runToken,
  type Credential,
  type GrantView,
  type RequestView,
} from '../integration/access-support.js';

/**
 * Just-in-time access to a Linux server end to end, through the API and the access jobs (reused
 * unchanged from the database connectors): request → approval → provisioning over SSH → password
 * login from the jumpbox namespace → expiry by the lease reaper (manual clock) or early revocation →
 * nothing of the account left; the orphan sweeper removes a gh_ account made by hand.
 */

const SERVER = '198.51.100.20';
const JUMPBOX = '198.51.100.30';
const ELSEWHERE = '198.51.100.40';
const run = runToken();
const clock = manualClock(new Date());
const url = (path: string) => `/api/v1${path}`;

let lab: Lab;
let server: LinuxHost;
let jumpbox: NetHost;
let elsewhere: NetHost;
let t: TestApp;
let runner: JobRunner;
let dana: string;
let lee: string;
const assetName = `${run}-web`;
let assetId: string;

async function activeGrant(level: string, fileTransfer: boolean) {
  const created = await expectStatus<RequestView>(t, 201, 'POST', url('/access/requests'), {
    token: dana,
    body: { asset: assetName, level, duration: '1h', reason: 'debug the web tier', fileTransfer },
  });
  const approved = await expectStatus<RequestView>(
    t,
    200,
    'POST',
    url(`/access/requests/${created.id}/approve`),
    {
      token: lee,
      body: { comment: 'ok' },
    },
  );
  await runner.runDue();
  const grant = await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${approved.grant?.id ?? 'none'}`));
  expect(grant.status).toBe('active');
  const credential = await expectStatus<Credential>(t, 200, 'GET', url(`/grants/${grant.id}/credential`), {
    token: dana,
  });
  return { grant, credential };
}

const onServer = (argv: string[]) => server.run(argv, { allowFailure: true });
const userExists = async (name: string) => (await onServer(['getent', 'passwd', name])).code === 0;

beforeAll(async () => {
  lab = await createLab();
  const segment = await lab.addSegment('servers', {
    cidrs: ['198.51.100.0/24'],
    rootAddress: ['198.51.100.1/24'],
  });
  server = await startLinuxHost(lab, segment, { name: 'srv', address: SERVER });
  jumpbox = await lab.addHost('jump');
  await lab.connect(jumpbox, segment, [`${JUMPBOX}/24`]);
  elsewhere = await lab.addHost('else');
  await lab.connect(elsewhere, segment, [`${ELSEWHERE}/24`]);

  t = await createTestApp('pglite', {
    clock,
    config: { 'jobs.backoffBaseMs': 10, 'jobs.backoffMaxMs': 20 },
    access: { sweep: { prefix: `gh_${run}_` } },
  });
  runner = accessRunner(t, clock, `linux-${run}`);
  const fleet = await createFleet(t, run);
  ({ id: assetId } = await expectStatus<{ id: string }>(t, 201, 'POST', url('/assets'), {
    body: {
      kind: 'server',
      name: assetName,
      customer: fleet.customer,
      environment: 'production',
      os: 'Debian GNU/Linux 12',
      address: SERVER,
      automationCredential: server.automation,
      hostKeys: [server.hostKey],
    },
  }));
  // accounts are bound to the fleet region's jumpbox; the API is called from 127.0.0.1, a jumpbox
  // of a region of its own (credentials are shown on jumpboxes only)
  await expectStatus(t, 201, 'POST', url('/jumpboxes'), {
    body: { name: `${run}-jump`, region: fleet.region, address: JUMPBOX, sourceCidrs: [`${JUMPBOX}/32`] },
  });
  await expectStatus(t, 201, 'POST', url('/regions'), { body: { name: `${run}-local` } });
  await expectStatus(t, 201, 'POST', url('/jumpboxes'), {
    body: {
      name: `${run}-local`,
      region: `${run}-local`,
      address: '127.0.0.1',
      sourceCidrs: ['127.0.0.1/32'],
    },
  });
  await applyPolicies(t, {
    policies: [
      {
        name: 'dev-servers',
        requesterGroups: ['dev'],
        levels: ['read-only', 'read-write', 'admin'],
        assets: { kinds: ['server'] },
        maxDuration: '4h',
        ticket: 'optional',
        fileTransfer: true,
        approvals: { approverGroups: ['leads'] },
      },
    ],
  });
  dana = await t.operatorToken(`${run}.dana`, ['requester'], ['dev']);
  lee = await t.operatorToken(`${run}.lee`, ['approver'], ['leads']);
}, 180_000);

afterAll(async () => {
  await t?.close();
  await server?.stop();
  await lab?.close();
});

describe('just-in-time access to a Linux server', () => {
  it('an approved admin grant with file transfer: ssh and sftp from the jumpbox, refused elsewhere; the reaper ends it at expiry with its open session', async () => {
    const { grant, credential } = await activeGrant('admin', true);
    expect(grant.account).toMatch(new RegExp(`^gh_${run}_dana_[a-z2-7]{10}$`));
    expect(grant.connection).toBe(`ssh ${grant.account}@${SERVER}`);
    expect(credential).toMatchObject({ account: grant.account, host: SERVER, port: 22, database: null });

    const shell = await sshWithPassword(
      jumpbox,
      { address: SERVER },
      credential.account,
      credential.password,
      'sudo -n true && echo sudo-ok',
    );
    expect(shell.stdout).toContain('sudo-ok');
    const sftp = await sftpWithPassword(
      jumpbox,
      { address: SERVER },
      credential.account,
      credential.password,
      'pwd\n',
    );
    expect(sftp.stdout).toContain(`/home/${credential.account}`);
    const refused = await sshWithPassword(
      elsewhere,
      { address: SERVER },
      credential.account,
      credential.password,
      'true',
    );
    expect(refused.code).not.toBe(0);

    const session = openSession(jumpbox, { address: SERVER }, credential.account, credential.password);
    const ended = new Promise((resolve) => session.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      session.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve());
      session.once('exit', () => reject(new Error('the session did not open')));
    });
    const uid = (await onServer(['id', '-u', credential.account])).stdout.trim();

    clock.advance(61 * 60_000);
    await runner.runDue();
    expect(await expectStatus(t, 200, 'GET', url(`/grants/${grant.id}`))).toMatchObject({
      status: 'revoked',
      endReason: 'expired',
    });
    await ended;
    expect((await onServer(['pgrep', '-U', uid])).stdout.trim()).toBe('');
    expect(await userExists(credential.account)).toBe(false);
    expect((await onServer(['sh', '-c', `ls /etc/sudoers.d`])).stdout).not.toContain(credential.account);
    const after = await sshWithPassword(
      jumpbox,
      { address: SERVER },
      credential.account,
      credential.password,
      'true',
    );
    expect(after.code).not.toBe(0);
  });

  it('a read-write grant is an operator without sudo for anything else and without sftp; an early revoke removes it', async () => {
    const { grant, credential } = await activeGrant('read-write', false);
    const shell = await sshWithPassword(
      jumpbox,
      { address: SERVER },
      credential.account,
      credential.password,
      'sudo -n true; echo "true=$?"; sudo -n /usr/bin/df -h >/dev/null; echo "df=$?"',
    );
    expect(shell.stdout).toContain('true=1');
    expect(shell.stdout).toContain('df=0');
    const sftp = await sftpWithPassword(
      jumpbox,
      { address: SERVER },
      credential.account,
      credential.password,
      'pwd\n',
    );
    expect(sftp.code).not.toBe(0);

    await expectStatus(t, 200, 'POST', url(`/grants/${grant.id}/revoke`), {
      token: dana,
      body: { reason: 'done' },
    });
    await runner.runDue();
    expect((await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${grant.id}`))).status).toBe('revoked');
    expect(await userExists(credential.account)).toBe(false);
    const after = await sshWithPassword(
      jumpbox,
      { address: SERVER },
      credential.account,
      credential.password,
      'true',
    );
    expect(after.code).not.toBe(0);
  });

  it('a server presenting a host key that is not recorded is refused and audited; no account is made, and the grant ends once the key is right again', async () => {
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3fZgk0m0y3yqZb2nN8qv3vXQ0r5Yy3kq7h9Jx2cW1a';
    await expectStatus(t, 200, 'PATCH', url(`/assets/${assetName}`), { body: { hostKeys: [other] } });
    try {
      const created = await expectStatus<RequestView>(t, 201, 'POST', url('/access/requests'), {
        token: dana,
        body: { asset: assetName, level: 'read-only', duration: '1h', reason: 'after the rebuild' },
      });
      const approved = await expectStatus<RequestView>(
        t,
        200,
        'POST',
        url(`/access/requests/${created.id}/approve`),
        {
          token: lee,
          body: { comment: 'ok' },
        },
      );
      await runner.runDue();
      const grant = await expectStatus<GrantView & { lastError: string | null }>(
        t,
        200,
        'GET',
        url(`/grants/${approved.grant!.id}`),
      );
      // the account cannot be made, nor its absence checked: the grant waits flagged, its removal retried
      expect(grant.status).toBe('revocation_failed');
      const events = await expectStatus<{ items: { action: string; details: Record<string, unknown> }[] }>(
        t,
        200,
        'GET',
        url(`/audit/events?targetType=grant&targetId=${grant.id}&limit=100`),
      );
      const failed = events.items.find((e) =>
        JSON.stringify(e.details).includes('not among the keys recorded'),
      );
      expect(failed, JSON.stringify(events.items)).toBeDefined();
      expect(await userExists(grant.account)).toBe(false);

      // the right key recorded again: the retried removal finds nothing to remove; the grant ends as failed
      await expectStatus(t, 200, 'PATCH', url(`/assets/${assetName}`), {
        body: { hostKeys: [server.hostKey] },
      });
      clock.advance(60_000);
      await runner.runDue();
      expect((await expectStatus<GrantView>(t, 200, 'GET', url(`/grants/${grant.id}`))).status).toBe(
        'failed',
      );
    } finally {
      await expectStatus(t, 200, 'PATCH', url(`/assets/${assetName}`), {
        body: { hostKeys: [server.hostKey] },
      });
    }
  });

  it('the orphan sweeper removes a gh_ account no grant accounts for, and audits it', async () => {
    const stray = `gh_${run}_stray`;
    await onServer(['useradd', '-m', stray]);
    const report = await expectStatus<{ removed: { account: string }[] }>(
      t,
      200,
      'POST',
      url('/access/sweep'),
      {
        body: {},
      },
    );
    expect(report.removed.map((r) => r.account)).toContain(stray);
    expect(await userExists(stray)).toBe(false);
    expect(await auditActions(t, 'asset', assetId)).toContain('access.orphan_removed');
  });
});

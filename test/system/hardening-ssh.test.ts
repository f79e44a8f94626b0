import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { startLinuxHost, type LinuxHost } from '../support/linux-host.js';
import { createLab, type Lab } from '../support/netns.js';

/**
 * A scan over SSH with the app's own transports: a real sshd in a network namespace with its own
 * /etc, reached as the automation account with the host key recorded in the inventory. The account is
 * not root, so what only root may read is reported as an error — never as a pass, never as missing.
 */
const SERVER = '203.0.113.70';

describe('hardening scans over ssh', () => {
  let lab: Lab;
  let server: LinuxHost;
  let t: TestApp;

  beforeAll(async () => {
    lab = await createLab();
    const segment = await lab.addSegment('servers', {
      cidrs: ['203.0.113.0/24'],
      rootAddress: ['203.0.113.1/24'],
    });
    server = await startLinuxHost(lab, segment, { name: 'hsrv', address: SERVER });
    t = await createTestApp('pglite');
    await t.call('POST', '/api/v1/regions', { body: { name: 'lab' } });
    const created = await t.call('POST', '/api/v1/assets', {
      body: {
        kind: 'server',
        name: 'ssh-1',
        region: 'lab',
        os: 'debian-12',
        address: SERVER,
        automationCredential: server.automation,
        hostKeys: [server.hostKey],
      },
    });
    if (created.statusCode !== 201) throw new Error(created.body);
  });
  afterAll(async () => {
    await t?.close();
    await server?.stop();
    await lab?.close();
  });

  it('scans the whole Debian baseline in one round trip as the automation account', async () => {
    const response = await t.call('POST', '/api/v1/hardening/scans', {
      body: { baseline: 'debian-12-server', asset: 'ssh-1' },
    });
    expect(response.statusCode).toBe(200);
    const [scan] = response.json<{
      items: { id: string; state: string; transport: string; error: string | null }[];
    }>().items;
    expect(scan).toMatchObject({ state: 'completed', transport: 'ssh', error: null });
    const detail = (await t.call('GET', `/api/v1/hardening/scans/${scan!.id}`)).json<{
      results: { ruleId: string; checked: string; observed: string }[];
    }>();
    const result = (id: string) => detail.results.find((r) => r.ruleId === id);
    // readable by anyone: evaluated
    expect(result('passwd-permissions')).toMatchObject({ checked: 'pass' });
    expect(result('ip-forward-disabled')?.checked).toMatch(/pass|fail/);
    // only root may read /etc/shadow: an error, not a pass and not "does not exist"
    expect(result('no-empty-passwords')).toMatchObject({
      checked: 'error',
      observed: '/etc/shadow could not be read',
    });
  });

  it('a host whose key does not match the recorded one is a failed scan, not a result', async () => {
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl';
    const patched = await t.call('PATCH', '/api/v1/assets/ssh-1', { body: { hostKeys: [other] } });
    expect(patched.statusCode).toBe(200);
    const response = await t.call('POST', '/api/v1/hardening/scans', {
      body: { baseline: 'debian-12-server', asset: 'ssh-1' },
    });
    const [scan] = response.json<{ items: { state: string; error: string | null }[] }>().items;
    expect(scan!.state).toBe('failed');
    expect(scan!.error).toMatch(/not among the keys recorded/);
  });
});

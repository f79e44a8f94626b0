import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { backends } from '../support/stores.js';

/** The server fields the linux-ssh connector needs: SSH port, sealed automation credential, host keys. */

const PRIVATE_KEY = `-----BEGIN OPENSSH PRIVATE KEY-----\n${'b3BlbnNzaC1rZXktdjEAAAAA'.repeat(6)}\n-----END OPENSSH PRIVATE KEY-----\n`;
const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3fZgk0m0y3yqZb2nN8qv3vXQ0r5Yy3kq7h9Jx2cW1a';

describe.each(backends)('Linux server fields on %s', (backend) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp(backend);
    expect((await t.call('POST', '/api/v1/regions', { body: { name: 'eu-west' } })).statusCode).toBe(201);
  });
  afterAll(async () => t?.close());

  it('seals the automation key: never in the column, a response or an audit event; revealed to the service', async () => {
    const created = await t.call('POST', '/api/v1/assets', {
      body: {
        kind: 'server',
        name: 'web-1',
        region: 'eu-west',
        os: 'Debian 12',
        address: '198.51.100.20',
        sshPort: 2222,
        automationCredential: { username: 'gatehouse', privateKey: PRIVATE_KEY },
        hostKeys: [HOST_KEY],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({
      sshPort: 2222,
      hostKeys: [HOST_KEY],
      hasAutomationCredential: true,
    });
    const { rows } = await sql<{ automation_credential: string }>`
      SELECT automation_credential FROM assets WHERE name = 'web-1'`.execute(t.gh.store.db);
    expect(rows[0]!.automation_credential).toMatch(/^v1\./);
    expect(rows[0]!.automation_credential).not.toContain('OPENSSH');
    for (const url of [
      '/api/v1/assets/web-1',
      '/api/v1/assets?kind=server',
      '/api/v1/audit/events?limit=500',
    ]) {
      expect((await t.call('GET', url)).body).not.toContain('b3BlbnNzaC1rZXktdjEAAAAA');
    }
    expect(await t.gh.inventory.revealAutomationCredential('web-1')).toEqual({
      username: 'gatehouse',
      privateKey: PRIVATE_KEY,
    });
  });

  it('changes and clears the fields with PATCH; null port is 22 again', async () => {
    const patched = await t.call('PATCH', '/api/v1/assets/web-1', {
      body: { sshPort: null, hostKeys: [HOST_KEY, HOST_KEY.replace('1a', '2b')], automationCredential: null },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ sshPort: 22, hasAutomationCredential: false });
    expect(patched.json().hostKeys).toHaveLength(2);
    await expect(t.gh.inventory.revealAutomationCredential('web-1')).rejects.toThrow(
      /no automation credential/,
    );
  });

  it('refuses bad keys, root automation and server fields on a database, changing nothing', async () => {
    const before = (await t.call('GET', '/api/v1/assets/web-1')).json();
    for (const body of [
      { hostKeys: ['ssh-ed25519 AAAA; rm -rf /'] },
      { hostKeys: [] },
      { automationCredential: { username: 'root', privateKey: PRIVATE_KEY } },
      { automationCredential: { username: 'gatehouse', privateKey: 'not a key' } },
      { sshPort: 70000 },
    ]) {
      const refused = await t.call('PATCH', '/api/v1/assets/web-1', { body });
      expect(refused.statusCode, JSON.stringify(body)).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'validation_failed' });
    }
    expect((await t.call('GET', '/api/v1/assets/web-1')).json()).toEqual(before);

    const db = await t.call('POST', '/api/v1/assets', {
      body: {
        kind: 'database',
        name: 'db-1',
        region: 'eu-west',
        engine: 'postgres',
        host: 'db1.example.net',
        port: 5432,
      },
    });
    expect(db.statusCode, db.body).toBe(201);
    const wrong = await t.call('PATCH', '/api/v1/assets/db-1', { body: { hostKeys: [HOST_KEY] } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().message).toMatch(/^hostKeys: applies to server assets only/);
  });
});

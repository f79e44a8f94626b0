import { describe, expect, it } from 'vitest';
import {
  accountTargetOf,
  connectionLine,
  endpointOf,
  linuxTargetOf,
  provisionable,
  type AccessInventory,
} from '../../src/modules/access/targets.js';
import { accountName } from '../../src/modules/access/domain/account-name.js';
import type { ServerAsset } from '../../src/modules/inventory/inventory.schemas.js';

/** How access sees a server asset: which ones the linux-ssh connector serves, and its target. */

const HOST_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3fZgk0m0y3yqZb2nN8qv3vXQ0r5Yy3kq7h9Jx2cW1a';
const now = new Date('2026-11-26T15:00:00Z');

const server = (extra: Partial<ServerAsset> = {}): ServerAsset => ({
  kind: 'server',
  id: '01936f3c-0000-7000-8000-000000000001',
  name: 'web-1',
  customerId: null,
  customer: null,
  environmentId: null,
  environment: null,
  regionId: 'r',
  region: 'eu-west',
  machineTypeId: null,
  machineType: null,
  labels: {},
  groups: [],
  createdAt: now,
  updatedAt: now,
  os: 'Debian 12',
  address: '198.51.100.20',
  sshPort: 22,
  hostKeys: [HOST_KEY],
  hasAutomationCredential: true,
  ...extra,
});

describe('Linux servers in access', () => {
  it('a Linux server with an automation credential and host keys is served by linux-ssh', () => {
    for (const os of [
      'Debian 12',
      'Ubuntu 24.04 LTS',
      'Red Hat Enterprise Linux 9',
      'Rocky Linux 9',
      'Amazon Linux 2023',
    ]) {
      expect(provisionable(server({ os })).engine).toBe('linux-ssh');
    }
  });

  it('refuses, with a 400 naming the asset, servers it cannot serve', () => {
    const cases: [Partial<ServerAsset>, RegExp][] = [
      [{ os: 'Windows Server 2022' }, /runs Windows Server 2022/],
      [{ hasAutomationCredential: false }, /automation credential and host keys/],
      [{ hostKeys: [] }, /automation credential and host keys/],
    ];
    for (const [extra, message] of cases) {
      expect(() => provisionable(server(extra))).toThrow(message);
      expect(() => provisionable(server(extra))).toThrow(
        /is a server; temporary accounts can be granted on databases only/,
      );
    }
  });

  it('names accounts within 32 characters, and tells the engineer the ssh line', () => {
    const asset = provisionable(server({ sshPort: 2222 }));
    expect(accountTargetOf(asset)).toBe('linux');
    expect(
      accountName('a.very.long.operator.name@example.net', 'grant-1', accountTargetOf(asset)).length,
    ).toBeLessThanOrEqual(32);
    expect(endpointOf(asset)).toEqual({ host: '198.51.100.20', port: 2222 });
    expect(connectionLine(asset, 'gh_alice_abc')).toBe('ssh -p 2222 gh_alice_abc@198.51.100.20');
    expect(connectionLine(provisionable(server()), 'gh_alice_abc')).toBe('ssh gh_alice_abc@198.51.100.20');
  });

  it('builds the target from the inventory: address, port, automation credential, host keys, labels', async () => {
    const automation = { username: 'gatehouse', privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\n…' };
    const inventory = { revealAutomationCredential: async () => automation } as unknown as AccessInventory;
    const asset = provisionable(
      server({
        labels: {
          'access.sudo-commands': '/usr/bin/df -h; /usr/bin/ss -tlnp',
          'access.home-on-revoke': 'delete',
        },
      }),
    );
    if (asset.engine !== 'linux-ssh') throw new Error('expected a Linux server');
    expect(await linuxTargetOf(inventory, asset)).toEqual({
      engine: 'linux-ssh',
      host: '198.51.100.20',
      port: 22,
      automation,
      hostKeys: [HOST_KEY],
      operatorCommands: ['/usr/bin/df -h', '/usr/bin/ss -tlnp'],
      homeOnRevoke: 'delete',
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/platform/clock.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { runCliInProcess } from '../support/cli-in-process.js';
import { FakeNftHost } from '../support/fake-nft-transport.js';
import { FakeLayers, networkRunner, seedFleet } from '../support/network-fleet.js';

/**
 * `gatehouse network …` as a thin client: the real CLI program, run in this process (a child process
 * per command made one test of seven commands take 35-47 s) against this test's API on a real port;
 * the rollout's jobs run in this process too while the CLI follows its progress.
 */
describe('gatehouse network (CLI)', () => {
  const hosts = new Map<string, FakeNftHost>();
  let t: TestApp;
  let base: string;
  let timer: NodeJS.Timeout;

  const gatehouse = (...args: string[]) => runCliInProcess({ url: base, token: t.adminToken }, ...args);

  beforeAll(async () => {
    for (const name of ['acme-p-web-1', 'acme-p-web-2', 'acme-p-db-1']) hosts.set(name, new FakeNftHost());
    t = await createTestApp('pglite', {
      clock: systemClock,
      network: { enforcers: new FakeLayers((n) => hosts.get(n)) },
    });
    await seedFleet(t.gh);
    const runner = networkRunner(t.gh, systemClock);
    let busy = false;
    timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void runner.runDue().finally(() => (busy = false));
    }, 100);
    base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    clearInterval(timer);
    await t?.close();
  });

  it('refuses a rule with the check id, adds one, plans, applies with progress, and reports no drift', async () => {
    const refused = await gatehouse(
      'network',
      'rules',
      'add',
      '--customer',
      'acme',
      '--environment',
      'production',
      '--scope',
      'machine-type:db-host',
      '--protocol',
      'tcp',
      '--ports',
      '5432',
      '--source',
      '0.0.0.0/0',
      '--description',
      'open it',
      '--owner',
      'x',
      '--ticket',
      'NET-0',
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('admin-port-source');

    const partnerApi = [
      ...['network', 'rules', 'add', '--customer', 'acme', '--environment', 'production'],
      ...['--scope', 'asset-group:web-tier', '--protocol', 'tcp', '--ports', '8443'],
      ...['--source', '198.51.100.0/24', '--description', 'partner API', '--owner', 'acme-ops'],
    ];
    const noTicket = await gatehouse(...partnerApi);
    expect(noTicket.code).not.toBe(0);
    expect(noTicket.stderr).toContain("required option '--ticket <ref>' not specified");

    const added = await gatehouse(...partnerApi, '--ticket', 'NET-1');
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/Added rule/);

    const plan = await gatehouse('network', 'plan', '--customer', 'acme');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('+ tcp 8443 from 198.51.100.0/24');
    expect(plan.stdout).toMatch(/apply needs --confirm/);

    const braked = await gatehouse('network', 'apply');
    expect(braked.code).not.toBe(0);
    expect(braked.stderr).toMatch(/brake/);

    const applied = await gatehouse('network', 'apply', '--confirm', '--waves', '1');
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stderr).toMatch(/rollout .*: 6 targets in 2 waves/);
    expect(applied.stderr).toMatch(/wave \d\/2: \d+ applied/);
    expect(applied.stdout).toMatch(/completed/);

    const drift = await gatehouse('network', 'drift');
    expect(drift.code, drift.stdout).toBe(0);
    expect(drift.stdout).toMatch(/4 assets: 0 layers drifted/);

    const json = await gatehouse('--json', 'network', 'rules', 'list', '--kind', 'customer');
    const listed = JSON.parse(json.stdout) as { rules: { id: string }[] };
    expect(listed.rules).toHaveLength(1); // neither refused rule was saved
    expect(listed).toMatchObject({ rules: [{ ports: '8443', ticket: 'NET-1', version: 1 }] });
  });

  it('edits the rule from its current version, and refuses an edit from a stale one', async () => {
    const json = await gatehouse('--json', 'network', 'rules', 'list', '--kind', 'customer');
    const id = (JSON.parse(json.stdout) as { rules: { id: string }[] }).rules[0]!.id;
    const edited = await gatehouse('network', 'rules', 'edit', id, '--ports', '8444', '--ticket', 'NET-2');
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toContain('to version 2: tcp 8444 from 198.51.100.0/24');
    const stale = await gatehouse(
      'network',
      'rules',
      'edit',
      id,
      '--from-version',
      '1',
      '--description',
      'late edit',
      '--ticket',
      'NET-3',
    );
    expect(stale.code).not.toBe(0);
    expect(stale.stderr).toMatch(/changed since version 1/);
    const after = await gatehouse('--json', 'network', 'rules', 'list', '--kind', 'customer');
    expect(JSON.parse(after.stdout)).toMatchObject({
      rules: [{ ports: '8444', ticket: 'NET-2', description: 'partner API', version: 2 }],
    });
  });
});

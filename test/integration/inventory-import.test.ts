import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/modules/audit/audit.types.js';
import { loadDemoFleet } from '../../src/modules/inventory/demo.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { backends } from '../support/stores.js';

const TABLES = [
  'regions',
  'customers',
  'environments',
  'machine_types',
  'assets',
  'asset_groups',
  'asset_group_members',
  'jumpboxes',
  'audit_events',
] as const;

const fleet = {
  regions: [{ name: 'eu-west-1', displayName: 'EU West' }, { name: 'us-east-1' }],
  customers: [{ name: 'acme' }, { name: 'globex', displayName: 'Globex' }],
  environments: [
    { customer: 'acme', name: 'production', tier: 'production', region: 'eu-west-1' },
    { customer: 'globex', name: 'production', tier: 'production', region: 'us-east-1' },
  ],
  machineTypes: [{ name: 'web' }],
  assetGroups: [{ name: 'web-tier', description: 'HTTP' }],
  assets: [
    {
      kind: 'server',
      name: 'acme-web-1',
      customer: 'acme',
      environment: 'production',
      machineType: 'web',
      os: 'Debian 12',
      address: '192.0.2.10',
      groups: ['web-tier'],
      labels: { role: 'web' },
    },
    {
      kind: 'database',
      name: 'globex-db-1',
      customer: 'globex',
      environment: 'production',
      engine: 'mariadb',
      host: 'db.globex.example',
      port: 3306,
      adminCredential: { username: 'root', password: 'imported-secret' },
    },
  ],
  jumpboxes: [
    { name: 'jump-1', region: 'eu-west-1', address: '192.0.2.254', sourceCidrs: ['192.0.2.254/32'] },
  ],
};

interface ImportError {
  entity?: string;
  row: number;
  name?: string;
  field: string;
  message: string;
}

describe.each(backends)('inventory import on %s', (backend) => {
  let t: TestApp;

  async function fingerprint(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const table of TABLES) {
      const { rows } = await sql<{ n: number; digest: string }>`
        SELECT count(*)::int AS n, md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS digest
        FROM ${sql.table(table)} x`.execute(t.gh.store.db);
      out[table] = `${rows[0]!.n}:${rows[0]!.digest}`;
    }
    return out;
  }

  const importing = (body: unknown) => t.call('POST', '/api/v1/inventory/import', { body });

  beforeAll(async () => {
    t = await createTestApp(backend);
  });
  afterAll(async () => {
    await t.close();
  });

  it('checks a JSON document on a dry run without changing anything, then imports it', async () => {
    const before = await fingerprint();
    const dry = await importing({ format: 'json', content: JSON.stringify(fleet), dryRun: true });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({
      importId: null,
      dryRun: true,
      rows: 11,
      created: { regions: 2, customers: 2, environments: 2, assets: 2, jumpboxes: 1 },
    });
    expect(await fingerprint()).toEqual(before);

    const done = await importing({ format: 'json', content: JSON.stringify(fleet) });
    expect(done.statusCode, done.body).toBe(200);
    const result = done.json();
    expect(result.created).toEqual({
      regions: 2,
      customers: 2,
      environments: 2,
      machineTypes: 1,
      assetGroups: 1,
      assets: 2,
      jumpboxes: 1,
    });
    const web = (await t.call('GET', '/api/v1/assets/acme-web-1')).json();
    expect(web).toMatchObject({
      region: 'eu-west-1',
      machineType: 'web',
      groups: ['web-tier'],
      address: '192.0.2.10',
    });
    const db = (await t.call('GET', '/api/v1/assets/globex-db-1')).json();
    expect(db).toMatchObject({ hasAdminCredential: true, region: 'us-east-1' });
    expect(await t.gh.inventory.revealAdminCredential('globex-db-1')).toEqual({
      username: 'root',
      password: 'imported-secret',
    });
    expect((await t.call('GET', '/api/v1/jumpboxes/jump-1')).json().sourceCidrs).toEqual(['192.0.2.254/32']);

    const events = (await t.call('GET', '/api/v1/audit/events?action=inventory.imported')).json().items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ targetId: result.importId, details: { mode: 'create', rows: 11 } });
    expect(events[0].details.created.assets).toBe(2);
    expect(JSON.stringify(events)).not.toContain('imported-secret');
  });

  it('reports every bad row of a JSON import and imports nothing', async () => {
    const before = await fingerprint();
    const response = await importing({
      regions: [{ name: 'ap-south-1' }, { name: 'eu-west-1' }],
      customers: [{ name: 'initech' }, { name: 'initech' }],
      assets: [
        {
          kind: 'server',
          name: 'ok-1',
          customer: 'initech',
          region: 'ap-south-1',
          os: 'Debian 12',
          address: '203.0.113.1',
        },
        {
          kind: 'database',
          name: 'bad-port',
          region: 'ap-south-1',
          engine: 'postgres',
          host: 'db',
          port: 70000,
        },
        {
          kind: 'server',
          name: 'bad-ref',
          region: 'mars-1',
          os: 'Debian 12',
          address: '203.0.113.2',
          colour: 'red',
        },
        {
          kind: 'server',
          name: 'bad-env',
          customer: 'initech',
          environment: 'qa',
          region: 'ap-south-1',
          os: 'x',
          address: '203.0.113.3',
        },
        {
          kind: 'database',
          name: 'bad-host',
          region: 'ap-south-1',
          engine: 'postgres',
          host: 'x;rm -rf /',
          port: 5432,
        },
      ],
      jumpboxes: [
        { name: 'j-bad', region: 'ap-south-1', address: '203.0.113.9', sourceCidrs: ['10.0.0.5/24'] },
      ],
    });
    expect(response.statusCode).toBe(400);
    const body = response.json();
    expect(body.code).toBe('validation_failed');
    expect(body.message).toMatch(/^Nothing was imported: 8 problems in 7 rows/);
    const errors = body.details.errors as ImportError[];
    expect(errors.map((e) => [e.entity, e.row, e.field])).toEqual([
      ['regions', 2, 'name'],
      ['customers', 2, 'name'],
      ['assets', 2, 'port'],
      ['assets', 3, 'colour'],
      ['assets', 3, 'region'],
      ['assets', 4, 'environment'],
      ['assets', 5, 'host'],
      ['jumpboxes', 1, 'sourceCidrs.0'],
    ]);
    expect(errors[0]!.message).toMatch(/region 'eu-west-1' already exists.*upsert/);
    expect(errors[1]!.message).toMatch(/more than once \(first on row 1\)/);
    expect(errors[2]!.message).toMatch(/1-65535/);
    expect(errors[4]!.message).toMatch(/no region named 'mars-1'/);
    expect(errors[5]!.message).toMatch(/no environment named 'qa'/);
    expect(errors[7]!.message).toMatch(/10\.0\.0\.0\/24/);
    expect(await fingerprint()).toEqual(before);
  });

  it('imports CSV, reporting bad rows by their line number', async () => {
    const header =
      'name,kind,customer,environment,region,os,address,engine,host,port,adminUsername,adminPassword,labels,groups';
    const bad = [
      header,
      'csv-web-1,server,acme,production,,Debian 12,192.0.2.21,,,,,,role=web;tier=front,web-tier',
      'csv-db-1,database,acme,production,,,,postgres,127.0.0.1,abc,postgres,,,',
      'csv-web-2,server,acme,production,,Debian 12,192.0.2.300,,,,,,,',
      'csv-web-3,server,acme,production',
      'csv-web-1,server,acme,production,,Debian 12,192.0.2.22,,,,,,,',
    ].join('\n');
    const before = await fingerprint();
    const refused = await importing({ format: 'csv', entity: 'assets', content: bad });
    expect(refused.statusCode).toBe(400);
    const errors = refused.json().details.errors as ImportError[];
    expect(errors.map((e) => [e.row, e.field, e.name])).toEqual([
      [3, 'port', 'csv-db-1'],
      [4, 'address', 'csv-web-2'],
      [5, '(row)', 'csv-web-3'],
      [6, 'name', 'csv-web-1'],
    ]);
    expect(errors[2]!.message).toMatch(/has 4 fields but the header has 14/);
    expect(await fingerprint()).toEqual(before);

    const good = [
      header,
      'csv-web-1,server,acme,production,,Debian 12,192.0.2.21,,,,,,role=web;tier=front,web-tier',
      '"csv-db-1",database,acme,production,,,,postgres,127.0.0.1,5432,postgres,"p,w ",,',
    ].join('\r\n');
    const done = await importing({ format: 'csv', entity: 'assets', content: good });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().created.assets).toBe(2);
    const web = (await t.call('GET', '/api/v1/assets/csv-web-1')).json();
    expect(web).toMatchObject({
      labels: { role: 'web', tier: 'front' },
      groups: ['web-tier'],
      region: 'eu-west-1',
    });
    expect(await t.gh.inventory.revealAdminCredential('csv-db-1')).toEqual({
      username: 'postgres',
      password: 'p,w ',
    });

    const unknownColumn = await importing({
      format: 'csv',
      entity: 'regions',
      content: 'name,colour\nr-1,red\n',
    });
    expect(unknownColumn.statusCode).toBe(400);
    expect(unknownColumn.json().details.errors[0]).toMatchObject({ row: 1, field: 'colour' });
  });

  it('updates existing names in upsert mode and counts what did not change', async () => {
    const response = await importing({
      mode: 'upsert',
      regions: [{ name: 'eu-west-1', displayName: 'Europe (Ireland)' }, { name: 'us-east-1' }],
      assets: [
        {
          kind: 'database',
          name: 'globex-db-1',
          customer: 'globex',
          environment: 'production',
          engine: 'mariadb',
          host: 'db.globex.example',
          port: 3307,
        },
        {
          kind: 'server',
          name: 'upserted-new',
          region: 'us-east-1',
          os: 'Debian 12',
          address: '198.51.100.7',
        },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toMatchObject({
      created: { assets: 1, regions: 0 },
      updated: { assets: 1, regions: 1 },
      unchanged: { regions: 1 },
    });
    expect((await t.call('GET', '/api/v1/regions/eu-west-1')).json().displayName).toBe('Europe (Ireland)');
    const db = (await t.call('GET', '/api/v1/assets/globex-db-1')).json();
    expect(db).toMatchObject({ port: 3307, hasAdminCredential: true });

    const kindChange = await importing({
      mode: 'upsert',
      assets: [
        { kind: 'server', name: 'globex-db-1', region: 'us-east-1', os: 'x', address: '198.51.100.8' },
      ],
    });
    expect(kindChange.statusCode).toBe(400);
    expect(kindChange.json().details.errors[0]).toMatchObject({
      field: 'kind',
      message: expect.stringMatching(/cannot change/),
    });
  });

  it('imports 2,000 assets in one go', async () => {
    const lines = ['name,kind,customer,environment,os,address,labels'];
    for (let i = 0; i < 2000; i++) {
      lines.push(
        `bulk-${String(i).padStart(4, '0')},server,globex,production,Debian 12,198.51.100.${i % 250},batch=${i % 7}`,
      );
    }
    const started = Date.now();
    const response = await importing({ format: 'csv', entity: 'assets', content: lines.join('\n') });
    expect(response.statusCode, response.body.slice(0, 500)).toBe(200);
    expect(response.json().created.assets).toBe(2000);
    expect(Date.now() - started).toBeLessThan(15_000);
    const page = (await t.call('GET', '/api/v1/assets?q=bulk-&label=batch=3&limit=500')).json();
    expect(page.items).toHaveLength(286);
  });

  it('loads the demo fleet once: a second run creates nothing', async () => {
    const ctx = { actor: systemActor('demo') };
    const first = await loadDemoFleet(t.gh.inventory, ctx);
    expect(first.created.assets + first.existing.assets).toBe(28);
    expect(first.created.customers + first.existing.customers).toBe(3);
    expect(first.created.jumpboxes).toBe(2);
    const before = await fingerprint();
    const second = await loadDemoFleet(t.gh.inventory, ctx);
    expect(Object.values(second.created).every((n) => n === 0)).toBe(true);
    const total = (r: typeof first) =>
      Object.fromEntries(
        Object.keys(r.created).map((k) => [k, r.created[k as 'assets'] + r.existing[k as 'assets']]),
      );
    expect(total(second)).toEqual(total(first));
    expect(await fingerprint()).toEqual(before);

    const jump = await t.gh.inventory.getJumpbox('jump-eu-1');
    expect(jump.sourceCidrs).toContain('127.0.0.2/32');
    expect(await t.gh.inventory.revealAdminCredential('acme-prod-pg-1')).toEqual({
      username: 'postgres',
      password: '',
    });
    const servers = await t.gh.inventory.listAssets({
      limit: 500,
      kind: 'server',
      label: 'managed-by=gatehouse-demo',
    });
    expect(servers.items).toHaveLength(20);
    for (const s of servers.items) {
      expect(s.kind === 'server' && /^(192\.0\.2|198\.51\.100|203\.0\.113)\./.test(s.address)).toBe(true);
    }
  });
});

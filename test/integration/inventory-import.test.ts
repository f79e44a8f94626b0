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

interface AuditEvent {
  seq: number;
  action: string;
  targetType: string | null;
  targetId: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

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

  /** Audit events matching a query, newest first. */
  async function events(query: string): Promise<AuditEvent[]> {
    const response = await t.call('GET', `/api/v1/audit/events?limit=500&${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json().items as AuditEvent[];
  }

  /** The audit events a request wrote, oldest first. */
  async function eventsOf(response: { headers: Record<string, unknown> }): Promise<AuditEvent[]> {
    return (await events(`requestId=${String(response.headers['x-request-id'])}`)).reverse();
  }

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

  it('leaves one event per imported object, findable by its target and linked to the import', async () => {
    const content = JSON.stringify({
      regions: [{ name: 'ev-region' }],
      customers: [{ name: 'ev-customer' }],
      environments: [{ customer: 'ev-customer', name: 'live', tier: 'production', region: 'ev-region' }],
      machineTypes: [{ name: 'ev-type' }],
      assetGroups: [{ name: 'ev-group' }],
      assets: [
        {
          kind: 'server',
          name: 'ev-web',
          customer: 'ev-customer',
          environment: 'live',
          machineType: 'ev-type',
          os: 'Debian 12',
          address: '2001:DB8::10',
          groups: ['ev-group'],
        },
        {
          kind: 'database',
          name: 'ev-db',
          region: 'ev-region',
          engine: 'postgres',
          host: 'db.ev.example',
          port: 5432,
          adminCredential: { username: 'postgres', password: 'ev-import-secret' },
        },
      ],
      jumpboxes: [
        { name: 'ev-jump', region: 'ev-region', address: '192.0.2.77', sourceCidrs: ['192.0.2.77/32'] },
      ],
    });
    const done = await importing({ format: 'json', content });
    expect(done.statusCode, done.body).toBe(200);
    const { importId } = done.json();

    const web = (await t.call('GET', '/api/v1/assets/ev-web')).json();
    const [created, ...others] = await events(`targetType=asset&targetId=${web.id}`);
    expect(others).toEqual([]);
    expect(created).toMatchObject({ action: 'asset.created', targetId: web.id });
    expect(created!.details).toEqual({
      importId,
      name: 'ev-web',
      kind: 'server',
      customer: 'ev-customer',
      environment: 'live',
      region: 'ev-region',
      machineType: 'ev-type',
      groups: ['ev-group'],
      os: 'Debian 12',
      address: '2001:db8::10',
    });

    // the same details, less the import's id, as the asset's own route writes for the same input
    const viaRoute = await t.call('POST', '/api/v1/assets', {
      body: {
        kind: 'server',
        name: 'ev-web-2',
        customer: 'ev-customer',
        environment: 'live',
        machineType: 'ev-type',
        os: 'Debian 12',
        address: '2001:DB8::10',
        groups: ['ev-group'],
      },
    });
    expect(viaRoute.statusCode, viaRoute.body).toBe(201);
    const [routeEvent] = await events(`targetType=asset&targetId=${viaRoute.json().id}`);
    const { importId: _importId, ...importDetails } = created!.details;
    expect(routeEvent!.details).toEqual({ ...importDetails, name: 'ev-web-2' });

    const fromImport = await eventsOf(done);
    expect(fromImport.map((e) => e.action)).toEqual([
      'inventory.imported',
      'region.created',
      'customer.created',
      'environment.created',
      'machine-type.created',
      'asset-group.created',
      'asset.created',
      'asset.created',
      'jumpbox.created',
    ]);
    expect(fromImport[0]).toMatchObject({ targetType: 'inventory-import', targetId: importId });
    for (const event of fromImport.slice(1)) {
      expect(event.details.importId).toBe(importId);
      expect(event.targetType).toBe(event.action.split('.')[0]);
      expect(event.targetId).toEqual(expect.any(String));
    }
    const db = fromImport.find((e) => e.details.name === 'ev-db')!;
    expect(db.details).toMatchObject({ hasAdminCredential: true, engine: 'postgres', port: 5432 });
    expect(JSON.stringify(fromImport)).not.toContain('ev-import-secret');
    const jump = fromImport.find((e) => e.action === 'jumpbox.created')!;
    expect(jump.details).toEqual({
      importId,
      name: 'ev-jump',
      region: 'ev-region',
      address: '192.0.2.77',
      sourceCidrs: ['192.0.2.77/32'],
    });
    const environment = fromImport.find((e) => e.action === 'environment.created')!;
    expect(environment.details).toEqual({
      importId,
      customer: 'ev-customer',
      name: 'live',
      tier: 'production',
      region: 'ev-region',
    });
  });

  it('appends nothing when the import fails while applying', async () => {
    const before = await fingerprint();
    // planning accepts both rows; applying the second fails: acme-web-1's environment is acme's
    const response = await importing({
      mode: 'upsert',
      regions: [{ name: 'ev-never' }],
      assets: [
        { kind: 'server', name: 'acme-web-1', customer: 'globex', os: 'Debian 12', address: '192.0.2.10' },
      ],
    });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().details.errors[0]).toMatchObject({ entity: 'assets', field: 'environment' });
    expect(await eventsOf(response)).toEqual([]);
    expect(await fingerprint()).toEqual(before);
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
    const { importId } = response.json();
    const written = await eventsOf(response);
    expect(written.map((e) => [e.action, e.details.name ?? null])).toEqual([
      ['inventory.imported', null],
      ['region.updated', 'eu-west-1'],
      ['asset.created', 'upserted-new'],
      ['asset.updated', 'globex-db-1'],
    ]);
    expect(written[1]!.details).toEqual({ importId, name: 'eu-west-1', changed: ['displayName'] });
    expect(written[3]!.details).toEqual({ importId, name: 'globex-db-1', changed: ['port'] });
    const dbId = (await t.call('GET', '/api/v1/assets/globex-db-1')).json().id;
    expect((await events(`targetType=asset&targetId=${dbId}`))[0]).toMatchObject({
      action: 'asset.updated',
      details: { importId, changed: ['port'] },
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

  it('writes an event for each of 6,000 objects in one import, and the chain stays intact', async () => {
    const lines = ['name,description'];
    for (let i = 0; i < 6000; i++) lines.push(`type-${String(i).padStart(4, '0')},batch`);
    const response = await importing({ format: 'csv', entity: 'machineTypes', content: lines.join('\n') });
    expect(response.statusCode, response.body.slice(0, 500)).toBe(200);
    const { importId } = response.json();
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM audit_events
      WHERE action = 'machine-type.created' AND details->>'importId' = ${importId}`.execute(t.gh.store.db);
    expect(rows[0]!.n).toBe(6000);
    expect((await t.gh.audit.verify(t.gh.store.db)).ok).toBe(true);
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
    // every demo database names the database accounts are granted on: the default levels need one
    const databases = await t.gh.inventory.listAssets({ limit: 500, kind: 'database' });
    const demoDatabases = databases.items.filter((a) => a.labels['managed-by'] === 'gatehouse-demo');
    expect(demoDatabases).toHaveLength(8);
    for (const d of demoDatabases) expect(d.labels['access.database']).toBe('test');
  });
});

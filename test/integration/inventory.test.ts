import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const PASSWORD = 'S3cret-Admin-Pa55!';

const server = (name: string, extra: Record<string, unknown> = {}) => ({
  kind: 'server',
  name,
  customer: 'acme',
  environment: 'production',
  os: 'Debian 12',
  address: '192.0.2.10',
  ...extra,
});

const database = (name: string, extra: Record<string, unknown> = {}) => ({
  kind: 'database',
  name,
  customer: 'acme',
  environment: 'production',
  engine: 'postgres',
  host: 'db1.example.net',
  port: 5432,
  adminCredential: { username: 'postgres', password: PASSWORD },
  ...extra,
});

describe.each(backends)('inventory API on %s', (backend) => {
  let t: TestApp;

  /** A fingerprint of every inventory table and the audit log: equal fingerprints, nothing changed. */
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

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions
  async function ok(method: 'POST' | 'PATCH' | 'GET' | 'DELETE', url: string, body?: unknown): Promise<any> {
    const response = await t.call(method, url, { body });
    if (response.statusCode >= 300)
      throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? undefined : response.json();
  }

  beforeAll(async () => {
    t = await createTestApp(backend);
    await ok('POST', '/api/v1/regions', { name: 'eu-west-1', displayName: 'EU West' });
    await ok('POST', '/api/v1/regions', { name: 'us-east-1' });
    await ok('POST', '/api/v1/customers', { name: 'acme', displayName: 'Acme' });
    await ok('POST', '/api/v1/customers', { name: 'globex' });
    await ok('POST', '/api/v1/customers/acme/environments', {
      name: 'production',
      tier: 'production',
      region: 'eu-west-1',
    });
    await ok('POST', '/api/v1/customers/globex/environments', {
      name: 'production',
      tier: 'production',
      region: 'us-east-1',
    });
    await ok('POST', '/api/v1/machine-types', { name: 'web' });
    await ok('POST', '/api/v1/asset-groups', { name: 'web-tier' });
    await ok('POST', '/api/v1/assets', server('web-1', { machineType: 'web', groups: ['web-tier'] }));
  });
  afterAll(async () => {
    await t.close();
  });

  it.each([
    ['regions', { name: 'ap-south-1', displayName: 'Mumbai' }, { displayName: 'Mumbai (AP South)' }],
    ['customers', { name: 'initech' }, { displayName: 'Initech Inc.' }],
    ['machine-types', { name: 'worker', description: 'jobs' }, { description: 'background jobs' }],
    ['asset-groups', { name: 'pci', description: 'card data' }, { name: 'pci-scope' }],
  ])('creates, reads, lists, changes and deletes %s', async (collection, create, patch) => {
    const base = `/api/v1/${collection}`;
    const created = await t.call('POST', base, { body: create });
    expect(created.statusCode).toBe(201);
    const item = created.json();
    expect(item).toMatchObject({ ...create, id: expect.any(String) });
    expect(await ok('GET', `${base}/${create.name}`)).toEqual(item);
    expect(await ok('GET', `${base}/${item.id}`)).toEqual(item);
    const listed = await ok('GET', `${base}?q=${create.name.slice(0, 4)}`);
    expect(listed.items.map((i: { id: string }) => i.id)).toContain(item.id);

    const changed = await ok('PATCH', `${base}/${item.id}`, patch);
    expect(changed).toMatchObject({ ...patch, id: item.id });
    const current = changed.name as string;
    expect((await t.call('DELETE', `${base}/${current}`)).statusCode).toBe(204);
    const gone = await t.call('GET', `${base}/${current}`);
    expect(gone.statusCode).toBe(404);
    expect(gone.json().message).toContain(current);

    const noun = collection.replace(/s$/, '').replace(/-types?$/, '-type');
    const events = await ok('GET', `/api/v1/audit/events?targetId=${item.id}`);
    expect(events.items.map((e: { action: string }) => e.action).sort()).toEqual(
      [`${noun}.created`, `${noun}.deleted`, `${noun}.updated`].sort(),
    );
  });

  it('creates, changes and deletes environments under their customer', async () => {
    const base = '/api/v1/customers/acme/environments';
    const created = await ok('POST', base, { name: 'staging', tier: 'staging', region: 'eu-west-1' });
    expect(created).toMatchObject({ customer: 'acme', region: 'eu-west-1', tier: 'staging' });
    // the same name under another customer is fine: names are per customer
    await ok('POST', '/api/v1/customers/globex/environments', {
      name: 'staging',
      tier: 'staging',
      region: 'us-east-1',
    });
    const changed = await ok('PATCH', `${base}/staging`, { region: 'us-east-1', tier: 'test' });
    expect(changed).toMatchObject({ id: created.id, region: 'us-east-1', tier: 'test' });
    const page = await ok('GET', `${base}?tier=test`);
    expect(page.items.map((e: { name: string }) => e.name)).toEqual(['staging']);
    expect((await t.call('DELETE', `${base}/staging`)).statusCode).toBe(204);
    expect((await t.call('GET', `${base}/staging`)).statusCode).toBe(404);
    expect((await ok('GET', '/api/v1/customers/globex/environments/staging')).name).toBe('staging');
    const events = await ok('GET', `/api/v1/audit/events?targetId=${created.id}`);
    expect(events.items.map((e: { action: string }) => e.action)).toEqual([
      'environment.deleted',
      'environment.updated',
      'environment.created',
    ]);
    expect(events.items[1].details).toMatchObject({ customer: 'acme', changed: ['tier', 'region'] });
  });

  it('round-trips servers and databases, with names and ids of what they refer to', async () => {
    const web = await ok('GET', '/api/v1/assets/web-1');
    expect(web).toMatchObject({
      kind: 'server',
      customer: 'acme',
      customerId: expect.any(String),
      environment: 'production',
      region: 'eu-west-1',
      machineType: 'web',
      groups: ['web-tier'],
      address: '192.0.2.10',
      os: 'Debian 12',
    });
    const db = (
      await t.call('POST', '/api/v1/assets', { body: database('acme-db-1', { labels: { tier: 'data' } }) })
    ).json();
    expect(db).toMatchObject({
      kind: 'database',
      engine: 'postgres',
      port: 5432,
      hasAdminCredential: true,
      address: null,
    });
    expect(db).not.toHaveProperty('adminCredential');

    const moved = await ok('PATCH', '/api/v1/assets/acme-db-1', {
      port: 6432,
      address: '2001:DB8::5',
      labels: { tier: 'data', pci: 'yes' },
    });
    expect(moved).toMatchObject({ port: 6432, address: '2001:db8::5', labels: { tier: 'data', pci: 'yes' } });
    const cleared = await ok('PATCH', '/api/v1/assets/acme-db-1', { customer: null, environment: null });
    expect(cleared).toMatchObject({ customer: null, environment: null, region: 'eu-west-1' });
    const updates = await ok('GET', `/api/v1/audit/events?action=asset.updated&targetId=${db.id}`);
    expect(updates.items.map((e: { details: { changed: string[] } }) => e.details.changed.sort())).toEqual([
      ['customer', 'environment'],
      ['address', 'labels', 'port'],
    ]);
    // a PATCH that changes nothing writes nothing
    const before = await fingerprint();
    await ok('PATCH', '/api/v1/assets/acme-db-1', { port: 6432 });
    expect(await fingerprint()).toEqual(before);

    expect((await t.call('DELETE', '/api/v1/assets/acme-db-1')).statusCode).toBe(204);
    const deletedEvent = await ok('GET', `/api/v1/audit/events?action=asset.deleted&targetId=${db.id}`);
    expect(deletedEvent.items).toHaveLength(1);
  });

  it('seals the admin credential: not in the column, never in a response or audit event, revealed to the service', async () => {
    const created = (await t.call('POST', '/api/v1/assets', { body: database('sealed-db') })).json();
    const { rows } = await sql<{ admin_credential: string }>`
      SELECT admin_credential FROM assets WHERE id = ${created.id}::uuid`.execute(t.gh.store.db);
    expect(rows[0]!.admin_credential).toMatch(/^v1\./);
    expect(rows[0]!.admin_credential).not.toContain(PASSWORD);
    expect(rows[0]!.admin_credential).not.toContain('postgres');

    for (const url of [
      '/api/v1/assets/sealed-db',
      '/api/v1/assets?kind=database',
      '/api/v1/audit/events?limit=500',
    ]) {
      expect((await t.call('GET', url)).body).not.toContain(PASSWORD);
    }
    expect(await t.gh.inventory.revealAdminCredential('sealed-db')).toEqual({
      username: 'postgres',
      password: PASSWORD,
    });

    await ok('PATCH', '/api/v1/assets/sealed-db', {
      adminCredential: { username: 'admin', password: 'rotated' },
    });
    expect(await t.gh.inventory.revealAdminCredential(created.id)).toEqual({
      username: 'admin',
      password: 'rotated',
    });
    const removed = await ok('PATCH', '/api/v1/assets/sealed-db', { adminCredential: null });
    expect(removed.hasAdminCredential).toBe(false);
    await expect(t.gh.inventory.revealAdminCredential('sealed-db')).rejects.toThrow(/no admin credential/);
    await expect(t.gh.inventory.revealAdminCredential('web-1')).rejects.toThrow(/no admin credential/);

    // a sealed credential copied to another asset does not open there
    const other = (await t.call('POST', '/api/v1/assets', { body: database('other-db') })).json();
    await sql`UPDATE assets SET admin_credential = ${rows[0]!.admin_credential} WHERE id = ${other.id}::uuid`.execute(
      t.gh.store.db,
    );
    await expect(t.gh.inventory.revealAdminCredential('other-db')).rejects.toThrow(/failed authentication/);
  });

  it('keeps jumpbox addresses and source CIDRs as plain text', async () => {
    const created = await ok('POST', '/api/v1/jumpboxes', {
      name: 'jump-1',
      region: 'eu-west-1',
      address: '192.0.2.254',
      sourceCidrs: ['192.0.2.254/32', '2001:DB8::/32', '127.0.0.2/32'],
    });
    expect(created).toMatchObject({
      address: '192.0.2.254',
      sourceCidrs: ['192.0.2.254/32', '2001:db8::/32', '127.0.0.2/32'],
      region: 'eu-west-1',
      description: '',
    });
    const changed = await ok('PATCH', '/api/v1/jumpboxes/jump-1', { sourceCidrs: ['198.51.100.0/24'] });
    expect(changed.sourceCidrs).toEqual(['198.51.100.0/24']);
    expect((await ok('GET', '/api/v1/jumpboxes?region=eu-west-1')).items).toHaveLength(1);
    expect((await ok('GET', '/api/v1/jumpboxes?region=us-east-1')).items).toHaveLength(0);
    expect((await t.call('DELETE', '/api/v1/jumpboxes/jump-1')).statusCode).toBe(204);
    const events = await ok('GET', `/api/v1/audit/events?targetType=jumpbox&targetId=${created.id}`);
    expect(events.items.map((e: { action: string }) => e.action)).toEqual([
      'jumpbox.deleted',
      'jumpbox.updated',
      'jumpbox.created',
    ]);
    expect(events.items[1].details.changed).toEqual(['sourceCidrs']);
  });

  it('filters assets and pages through them by name', async () => {
    await ok('POST', '/api/v1/asset-groups', { name: 'batch' });
    for (let i = 1; i <= 5; i++) {
      await ok(
        'POST',
        '/api/v1/assets',
        server(`flt-${i}`, {
          customer: 'globex',
          environment: 'production',
          address: `198.51.100.${i}`,
          labels: { shard: String(i % 2) },
          ...(i <= 2 ? { groups: ['batch'] } : {}),
        }),
      );
    }
    await ok(
      'POST',
      '/api/v1/assets',
      database('flt-db', { customer: 'globex', environment: 'production', engine: 'mysql', port: 3306 }),
    );
    const names = async (query: string): Promise<string[]> => {
      const page: { items: { name: string }[] } = await ok('GET', `/api/v1/assets?limit=500&${query}`);
      return page.items.map((a) => a.name);
    };

    expect(await names('customer=globex')).toEqual(['flt-1', 'flt-2', 'flt-3', 'flt-4', 'flt-5', 'flt-db']);
    expect(await names('customer=globex&kind=database')).toEqual(['flt-db']);
    expect(await names('engine=mysql')).toEqual(['flt-db']);
    expect(await names('group=batch')).toEqual(['flt-1', 'flt-2']);
    expect(await names('label=shard=1')).toEqual(['flt-1', 'flt-3', 'flt-5']);
    expect(await names('label=shard&q=flt')).toEqual(['flt-1', 'flt-2', 'flt-3', 'flt-4', 'flt-5']);
    expect(await names('region=us-east-1&q=flt')).toHaveLength(6);
    expect(await names('customer=globex&environment=production&kind=server')).toHaveLength(5);
    expect(await names('machineType=web')).toEqual(['web-1']);
    expect(await names('q=flt-d')).toEqual(['flt-db']);

    const all = await names('q=flt');
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { name: string }[]; nextCursor: string | null } = await ok(
        'GET',
        `/api/v1/assets?q=flt&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((a) => a.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all);

    const members = await ok('GET', '/api/v1/asset-groups/batch/members');
    expect(members.items.map((a: { name: string }) => a.name)).toEqual(['flt-1', 'flt-2']);
    const grown = await ok('POST', '/api/v1/asset-groups/batch/members', { assets: ['flt-3', 'flt-1'] });
    expect(grown.memberCount).toBe(3);
    expect((await t.call('DELETE', '/api/v1/asset-groups/batch/members/flt-1')).statusCode).toBe(204);
    expect((await ok('GET', '/api/v1/asset-groups/batch')).memberCount).toBe(2);
    const notMember = await t.call('DELETE', '/api/v1/asset-groups/batch/members/flt-5');
    expect(notMember.statusCode).toBe(404);
    expect(notMember.json().message).toContain('not a member');
  });

  const long = 'x'.repeat(501);
  it.each([
    ['unknown field', 'POST', '/api/v1/regions', { name: 'r-new', colour: 'red' }, 400, /colour/],
    ['wrong type', 'POST', '/api/v1/regions', { name: 42 }, 400, /body\.name/],
    [
      'oversized display name',
      'POST',
      '/api/v1/customers',
      { name: 'big', displayName: long },
      400,
      /body\.displayName: at most 120 characters/,
    ],
    [
      'oversized name',
      'POST',
      '/api/v1/customers',
      { name: 'a'.repeat(64) },
      400,
      /body\.name: at most 63 characters/,
    ],
    ['one-letter name', 'POST', '/api/v1/customers', { name: 'a' }, 400, /body\.name: at least 2 characters/],
    ['bad name grammar', 'POST', '/api/v1/customers', { name: 'Acme Corp' }, 400, /body\.name.*lower-case/],
    [
      'oversized description',
      'POST',
      '/api/v1/machine-types',
      { name: 'mt', description: long },
      400,
      /body\.description: at most 500 characters/,
    ],
    ['duplicate region', 'POST', '/api/v1/regions', { name: 'eu-west-1' }, 409, /region named 'eu-west-1'/],
    ['duplicate customer', 'POST', '/api/v1/customers', { name: 'acme' }, 409, /'acme' already exists/],
    [
      'duplicate environment',
      'POST',
      '/api/v1/customers/acme/environments',
      { name: 'production', tier: 'production', region: 'eu-west-1' },
      409,
      /already has an environment named 'production'/,
    ],
    ['duplicate machine type', 'POST', '/api/v1/machine-types', { name: 'web' }, 409, /'web'/],
    ['duplicate asset group', 'POST', '/api/v1/asset-groups', { name: 'web-tier' }, 409, /'web-tier'/],
    ['duplicate asset', 'POST', '/api/v1/assets', server('web-1'), 409, /asset named 'web-1'/],
    [
      'rename onto another name',
      'PATCH',
      '/api/v1/regions/us-east-1',
      { name: 'eu-west-1' },
      409,
      /'eu-west-1'/,
    ],
    [
      'CIDR with host bits',
      'POST',
      '/api/v1/jumpboxes',
      { name: 'j-x', region: 'eu-west-1', address: '192.0.2.1', sourceCidrs: ['10.0.0.5/24'] },
      400,
      /sourceCidrs\.0.*10\.0\.0\.0\/24/,
    ],
    [
      'CIDR with bad address',
      'POST',
      '/api/v1/jumpboxes',
      { name: 'j-x', region: 'eu-west-1', address: '192.0.2.1', sourceCidrs: ['300.1.1.1/8'] },
      400,
      /sourceCidrs\.0.*300\.1\.1\.1/,
    ],
    [
      'CIDR without prefix',
      'POST',
      '/api/v1/jumpboxes',
      { name: 'j-x', region: 'eu-west-1', address: '192.0.2.1', sourceCidrs: ['192.0.2.0'] },
      400,
      /sourceCidrs\.0/,
    ],
    [
      'CIDR with a zone id',
      'POST',
      '/api/v1/jumpboxes',
      { name: 'j-x', region: 'eu-west-1', address: '192.0.2.1', sourceCidrs: ['fe80::%eth0/64'] },
      400,
      /sourceCidrs\.0.*zone id/,
    ],
    [
      'jumpbox address with a zone id',
      'POST',
      '/api/v1/jumpboxes',
      { name: 'j-x', region: 'eu-west-1', address: 'fe80::1%eth0', sourceCidrs: ['192.0.2.1/32'] },
      400,
      /body\.address.*zone id/,
    ],
    [
      'no source CIDRs',
      'POST',
      '/api/v1/jumpboxes',
      { name: 'j-x', region: 'eu-west-1', address: '192.0.2.1', sourceCidrs: [] },
      400,
      /sourceCidrs/,
    ],
    [
      'address with a prefix',
      'POST',
      '/api/v1/jumpboxes',
      { name: 'j-x', region: 'eu-west-1', address: '192.0.2.1/32', sourceCidrs: ['192.0.2.1/32'] },
      400,
      /body\.address/,
    ],
    [
      'address with a zone',
      'POST',
      '/api/v1/assets',
      server('zoned', { address: 'fe80::1%eth0' }),
      400,
      /body\.address/,
    ],
    [
      'host starting with a dash',
      'POST',
      '/api/v1/assets',
      database('h1', { host: '-bad' }),
      400,
      /body\.host/,
    ],
    [
      'host with an empty label',
      'POST',
      '/api/v1/assets',
      database('h2', { host: 'a..b' }),
      400,
      /body\.host/,
    ],
    [
      'host with shell syntax',
      'POST',
      '/api/v1/assets',
      database('h3', { host: 'x;rm -rf /' }),
      400,
      /body\.host/,
    ],
    [
      'host that is not quite an IP',
      'POST',
      '/api/v1/assets',
      database('h4', { host: '300.1.1.1' }),
      400,
      /body\.host/,
    ],
    [
      'host that a resolver reads as a number',
      'POST',
      '/api/v1/assets',
      database('h5', { host: '0x7f000001' }),
      400,
      /body\.host.*IPv4/,
    ],
    ['port 0', 'POST', '/api/v1/assets', database('p1', { port: 0 }), 400, /body\.port.*1-65535/],
    ['port 70000', 'POST', '/api/v1/assets', database('p2', { port: 70000 }), 400, /body\.port.*1-65535/],
    ['port as a string', 'POST', '/api/v1/assets', database('p3', { port: '80' }), 400, /body\.port/],
    ['unknown engine', 'POST', '/api/v1/assets', database('e1', { engine: 'db2' }), 400, /body\.engine/],
    ['unknown kind', 'POST', '/api/v1/assets', server('k1', { kind: 'vm' }), 400, /body\.kind/],
    ['database field on a server', 'POST', '/api/v1/assets', server('k2', { port: 22 }), 400, /'port'/],
    [
      'unknown credential field',
      'POST',
      '/api/v1/assets',
      database('c1', { adminCredential: { username: 'u', password: 'p', role: 'x' } }),
      400,
      /adminCredential.*'role'/,
    ],
    [
      'bad label key',
      'POST',
      '/api/v1/assets',
      server('l1', { labels: { 'Bad Key': 'x' } }),
      400,
      /body\.labels/,
    ],
    ['unknown region', 'POST', '/api/v1/assets', server('r1', { region: 'mars-1' }), 400, /region.*'mars-1'/],
    [
      'unknown customer',
      'POST',
      '/api/v1/assets',
      server('r2', { customer: 'nobody' }),
      400,
      /customer.*'nobody'/,
    ],
    [
      'unknown environment',
      'POST',
      '/api/v1/assets',
      server('r3', { environment: 'qa' }),
      400,
      /environment.*'qa'/,
    ],
    [
      'environment of another customer',
      'PATCH',
      '/api/v1/assets/web-1',
      { customer: 'globex' },
      400,
      /environment.*'production' belongs to customer 'acme'/,
    ],
    [
      'environment without customer',
      'POST',
      '/api/v1/assets',
      server('r4', { customer: undefined }),
      400,
      /environment: name the customer/,
    ],
    [
      'no region at all',
      'POST',
      '/api/v1/assets',
      server('r5', { customer: undefined, environment: undefined }),
      400,
      /region/,
    ],
    [
      'unknown machine type',
      'POST',
      '/api/v1/assets',
      server('r6', { machineType: 'gpu' }),
      400,
      /machineType.*'gpu'/,
    ],
    ['unknown group', 'POST', '/api/v1/assets', server('r7', { groups: ['nope'] }), 400, /groups.*'nope'/],
    [
      'unknown environment region',
      'POST',
      '/api/v1/customers/acme/environments',
      { name: 'qa', tier: 'test', region: 'mars-1' },
      400,
      /region.*'mars-1'/,
    ],
    [
      'unknown tier',
      'POST',
      '/api/v1/customers/acme/environments',
      { name: 'qa', tier: 'prod', region: 'eu-west-1' },
      400,
      /body\.tier/,
    ],
    [
      'unknown customer in the path',
      'POST',
      '/api/v1/customers/nobody/environments',
      { name: 'qa', tier: 'test', region: 'eu-west-1' },
      404,
      /'nobody'/,
    ],
    [
      'unknown asset in a group',
      'POST',
      '/api/v1/asset-groups/web-tier/members',
      { assets: ['web-1', 'ghost'] },
      400,
      /assets.*'ghost'/,
    ],
    [
      'server field on a database',
      'PATCH',
      '/api/v1/assets/web-1',
      { engine: 'mysql' },
      400,
      /engine: applies to database/,
    ],
    ['server without an address', 'PATCH', '/api/v1/assets/web-1', { address: null }, 400, /address/],
    ['empty PATCH', 'PATCH', '/api/v1/regions/eu-west-1', {}, 400, /at least one field/],
    ['unknown filter', 'GET', '/api/v1/assets?colour=red', undefined, 400, /colour/],
    ['bad filter value', 'GET', '/api/v1/assets?kind=vm', undefined, 400, /querystring\.kind/],
    ['filter naming nothing', 'GET', '/api/v1/assets?customer=nobody', undefined, 400, /customer.*'nobody'/],
    ['forged cursor', 'GET', '/api/v1/assets?cursor=bm9wZQ', undefined, 400, /cursor/],
    ['limit too large', 'GET', '/api/v1/regions?limit=5000', undefined, 400, /querystring\.limit/],
  ] as const)(
    'refuses %s with a message naming it, and changes nothing',
    async (_case, method, url, body, status, message) => {
      const before = await fingerprint();
      const response = await t.call(method, url, { body });
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json()).toMatchObject({ code: expect.any(String), requestId: expect.any(String) });
      expect(response.json().message).toMatch(message);
      expect(await fingerprint()).toEqual(before);
    },
  );

  it.each([
    [
      '/api/v1/customers/acme',
      /still used by 1 environment and \d+ assets?; delete its assets, then its environments/,
    ],
    ['/api/v1/regions/eu-west-1', /still used by 1 environment and \d+ assets?/],
    ['/api/v1/customers/acme/environments/production', /still holds \d+ assets?/],
    ['/api/v1/machine-types/web', /still used by 1 asset; give those assets another machine type/],
  ])('refuses to delete %s while it is in use, saying what to remove first', async (url, message) => {
    const before = await fingerprint();
    const response = await t.call('DELETE', url);
    expect(response.statusCode).toBe(409);
    expect(response.json().message).toMatch(message);
    expect(await fingerprint()).toEqual(before);
  });

  it('lets readers read and only writers write', async () => {
    const reader = await t.operatorToken('reader', ['requester']);
    expect((await t.call('GET', '/api/v1/assets', { token: reader })).statusCode).toBe(200);
    const refused = await t.call('POST', '/api/v1/regions', { token: reader, body: { name: 'x-1' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().message).toContain('inventory:write');
    expect((await t.call('GET', '/api/v1/regions', { token: null })).statusCode).toBe(401);
  });

  it('describes every inventory route in the OpenAPI document', async () => {
    const document = (await t.call('GET', '/api/openapi.json', { token: null })).json();
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/regions',
        '/api/v1/customers/{customer}/environments/{environment}',
        '/api/v1/asset-groups/{group}/members',
        '/api/v1/assets/{ref}',
        '/api/v1/jumpboxes',
        '/api/v1/inventory/import',
      ]),
    );
    expect(document.paths['/api/v1/assets'].post.tags).toEqual(['inventory']);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  importEntities,
  MAX_IMPORT_ROWS,
  mentionedNames,
  planImport,
  readImportSource,
  type ExistingNames,
  type ImportError,
  type RawDocument,
} from '../../src/modules/inventory/domain/import.js';

const nothing: ExistingNames = {
  regions: new Set(),
  customers: new Set(),
  environments: new Set(),
  machineTypes: new Set(),
  assetGroups: new Set(),
  assets: new Map(),
  jumpboxes: new Set(),
};

const store: ExistingNames = {
  ...nothing,
  regions: new Set(['eu-west-1']),
  customers: new Set(['acme', 'globex']),
  environments: new Set(['acme/production']),
  assets: new Map([['acme-db-1', 'database' as const]]),
};

const rows = (...data: unknown[]) => data.map((d, i) => ({ row: i + 1, data: d }));
const server = (name: string, extra: Record<string, unknown> = {}) => ({
  kind: 'server',
  name,
  region: 'eu-west-1',
  os: 'Debian 12',
  address: '192.0.2.1',
  ...extra,
});
const brief = (errors: ImportError[]) => errors.map((e) => `${e.entity ?? 'file'}:${e.row}:${e.field}`);

describe('reading an import', () => {
  it.each([
    [{ content: '[]', lists: { regions: [] } }, 'content', /either content or the lists/],
    [{ content: '{}' }, 'format', /'json' or 'csv'/],
    [{ format: 'csv' as const, content: 'name' }, 'entity', /one kind of object/],
    [{ format: 'json' as const, content: '{"regions": [' }, 'content', /not valid JSON/],
    [
      { format: 'json' as const, content: '{"servers": []}' },
      'servers',
      /unknown list; the lists are regions/,
    ],
    [{ format: 'json' as const, content: '{"regions": {}}' }, 'regions', /must be a list/],
    [{ format: 'json' as const, content: '[1]' }, 'content', /JSON object/],
    [{ format: 'json' as const, entity: 'assets' as const, content: '{}' }, 'content', /JSON list of assets/],
    [{ entity: 'assets' as const }, 'content', /send content too/],
    [{}, '(body)', /send content/],
  ])('refuses a malformed source %#, naming what to fix', (source, field, message) => {
    const { errors } = readImportSource(source);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ row: 0, field });
    expect(errors[0]!.message).toMatch(message);
  });

  it('numbers JSON rows from 1 in each list', () => {
    const { document, errors } = readImportSource({
      format: 'json',
      content: JSON.stringify({ regions: [{ name: 'a1' }, { name: 'b1' }], customers: [{ name: 'c1' }] }),
    });
    expect(errors).toEqual([]);
    expect(document.regions?.map((r) => r.row)).toEqual([1, 2]);
    expect(document.customers?.map((r) => r.row)).toEqual([1]);
  });

  it('turns CSV cells into the JSON shape: numbers, lists, labels, credentials; empty cells are absent', () => {
    const csv = [
      'name,kind,region,port,engine,host,labels,groups,adminUsername,adminPassword,os',
      'db-1,database,eu-west-1,5432,postgres,db.example,"env=prod; team = data",a;b c,postgres,  spaced ,',
      'db-2,database,eu-west-1,80x,postgres,db.example,,,,,',
    ].join('\n');
    const { document, errors } = readImportSource({ format: 'csv', entity: 'assets', content: csv });
    expect(errors).toEqual([]);
    expect(document.assets).toEqual([
      {
        row: 2,
        data: {
          name: 'db-1',
          kind: 'database',
          region: 'eu-west-1',
          port: 5432,
          engine: 'postgres',
          host: 'db.example',
          labels: { env: 'prod', team: 'data' },
          groups: ['a', 'b', 'c'],
          adminCredential: { username: 'postgres', password: '  spaced ' },
        },
      },
      {
        row: 3,
        data: {
          name: 'db-2',
          kind: 'database',
          region: 'eu-west-1',
          port: '80x',
          engine: 'postgres',
          host: 'db.example',
        },
      },
    ]);
  });

  it('reports CSV header problems on line 1 and cell problems on their line', () => {
    const header = readImportSource({ format: 'csv', entity: 'regions', content: 'name,name,colour\n' });
    expect(brief(header.errors)).toEqual(['regions:1:name', 'regions:1:colour']);
    const noName = readImportSource({ format: 'csv', entity: 'regions', content: 'displayName\nX\n' });
    expect(noName.errors[0]?.message).toMatch(/needs a name column/);

    const cells = readImportSource({
      format: 'csv',
      entity: 'assets',
      content: 'name,labels,adminPassword\n\na-1,novalue,\na-2,,secret\na-3\n',
    });
    expect(cells.errors.map((e) => [e.row, e.field, e.name])).toEqual([
      [3, 'labels', 'a-1'],
      [4, 'adminUsername', 'a-2'],
      [5, '(row)', 'a-3'],
    ]);
    const broken = readImportSource({ format: 'csv', entity: 'regions', content: 'name\n"unclosed\n' });
    expect(broken.errors[0]).toMatchObject({
      field: 'content',
      message: expect.stringMatching(/not valid CSV/),
    });
  });

  it('refuses more rows than one import takes', () => {
    const { errors } = readImportSource({
      lists: { regions: Array.from({ length: MAX_IMPORT_ROWS + 1 }, () => ({})) },
    });
    expect(errors[0]?.message).toMatch(/import at most 20000/);
  });
});

describe('planning an import', () => {
  it('plans a valid document, in dependency order, resolving names from the store and the import itself', () => {
    const document: RawDocument = {
      assets: rows(
        server('web-1', {
          region: undefined,
          customer: 'initech',
          environment: 'production',
          groups: ['web'],
          machineType: 'small',
        }),
        {
          kind: 'database',
          name: 'db-1',
          customer: 'acme',
          environment: 'production',
          engine: 'postgres',
          host: 'db.example',
          port: 5432,
          adminCredential: { username: 'postgres', password: '' },
        },
      ),
      customers: rows({ name: 'initech' }),
      environments: rows({
        customer: 'initech',
        name: 'production',
        tier: 'production',
        region: 'us-east-1',
      }),
      regions: rows({ name: 'us-east-1' }),
      machineTypes: rows({ name: 'small' }),
      assetGroups: rows({ name: 'web' }),
      jumpboxes: rows({
        name: 'j-1',
        region: 'eu-west-1',
        address: '192.0.2.9',
        sourceCidrs: ['192.0.2.9/32'],
      }),
    };
    const { plan, errors } = planImport(document, store, 'create');
    expect(errors).toEqual([]);
    expect(importEntities.map((e) => plan[e].length)).toEqual([1, 1, 1, 1, 1, 2, 1]);
    expect(plan.assets.every((r) => r.action === 'create')).toBe(true);
  });

  it('reports every bad row at once: schema, duplicates, existing names and references', () => {
    const document: RawDocument = {
      regions: rows({ name: 'eu-west-1' }, { name: 'Bad Region' }),
      customers: rows({ name: 'initech' }, { name: 'initech' }),
      environments: rows(
        { customer: 'nobody', name: 'production', tier: 'production', region: 'eu-west-1' },
        { customer: 'acme', name: 'staging', tier: 'prod', region: 'mars-1' },
      ),
      assets: rows(
        server('web-1', { region: 'mars-1' }),
        server('web-2', { customer: 'globex', environment: 'production' }),
        server('web-3', { environment: 'production' }),
        server('web-4', { region: undefined }),
        server('web-5', { machineType: 'gpu', groups: ['g1', 'g1'] }),
        server('web-1'),
        server('web-6', { address: '192.0.2.1/32', port: 22 }),
        'not an object',
      ),
      jumpboxes: rows({
        name: 'j-1',
        region: 'eu-west-1',
        address: '192.0.2.9',
        sourceCidrs: ['300.1.1.1/8', '10.0.0.5/24'],
      }),
    };
    const { plan, errors } = planImport(document, store, 'create');
    expect(brief(errors)).toEqual([
      'regions:1:name',
      'regions:2:name',
      'customers:2:name',
      'environments:1:customer',
      'environments:2:tier',
      'environments:2:region',
      'assets:1:region',
      'assets:2:environment',
      'assets:3:environment',
      'assets:4:region',
      'assets:5:machineType',
      'assets:5:groups',
      'assets:6:name',
      'assets:7:address',
      'assets:7:port',
      'assets:8:(row)',
      'jumpboxes:1:sourceCidrs.0',
      'jumpboxes:1:sourceCidrs.1',
    ]);
    const message = (entity: string, row: number, field: string) =>
      errors.find((e) => e.entity === entity && e.row === row && e.field === field)?.message;
    expect(message('regions', 1, 'name')).toMatch(
      /already exists; remove this row, or import with mode 'upsert'/,
    );
    expect(message('customers', 2, 'name')).toMatch(/'initech' appears more than once \(first on row 1\)/);
    expect(message('assets', 2, 'environment')).toMatch(
      /customer 'globex' has no environment named 'production'/,
    );
    expect(message('assets', 3, 'environment')).toMatch(/name the customer too/);
    expect(message('assets', 6, 'name')).toMatch(/first on row 1/);
    expect(message('assets', 7, 'port')).toMatch(/unknown field; the fields of asset rows are kind, name/);
    expect(message('jumpboxes', 1, 'sourceCidrs.1')).toMatch(/did you mean 10\.0\.0\.0\/24/);
    // the row whose name is fine but other fields are not is still known: rows that refer to it are not blamed
    expect(errors.some((e) => e.message.includes("'Bad Region'") && e.field !== 'name')).toBe(false);
    expect(importEntities.every((e) => plan[e].length === 0 || e === 'customers')).toBe(true);
  });

  it('in upsert mode, updates existing names but never changes an asset kind', () => {
    const document: RawDocument = {
      regions: rows({ name: 'eu-west-1', displayName: 'Ireland' }),
      assets: rows(server('acme-db-1')),
    };
    const { plan, errors } = planImport(document, store, 'upsert');
    expect(plan.regions[0]?.action).toBe('update');
    expect(brief(errors)).toEqual(['assets:1:kind']);
    expect(errors[0]?.message).toMatch(/is a database; the kind of an asset cannot change/);
  });

  it('collects the names to look up in the store', () => {
    const names = mentionedNames({
      assets: rows(server('web-1', { customer: 'acme', machineType: 'web', groups: ['g', 7] })),
      environments: rows({ customer: 'globex', name: 'production', region: 'us-east-1' }),
    });
    const sorted = Object.fromEntries(Object.entries(names).map(([k, v]) => [k, [...v].sort()]));
    expect(sorted).toMatchObject({
      assets: ['web-1'],
      regions: ['eu-west-1', 'us-east-1'],
      customers: ['acme', 'globex'],
      machineTypes: ['web'],
      assetGroups: ['g'],
      environments: ['production'],
    });
  });

  it('never throws, and every row is either planned or has an error (property)', () => {
    const value = fc.oneof(
      fc.constantFrom(
        'eu-west-1',
        'acme',
        'server',
        'database',
        'postgres',
        '192.0.2.1',
        'production',
        'x y',
      ),
      fc.integer({ min: -1, max: 70_000 }),
      fc.constant(null),
    );
    const row = fc.oneof(
      fc.dictionary(
        fc.constantFrom(
          'name',
          'kind',
          'region',
          'customer',
          'environment',
          'os',
          'address',
          'engine',
          'host',
          'port',
          'tier',
          'extra',
        ),
        value,
      ),
      fc.anything(),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...importEntities),
        fc.array(row, { maxLength: 12 }),
        fc.constantFrom('create', 'upsert' as const),
        (entity, data, mode) => {
          const document: RawDocument = { [entity]: rows(...data) };
          const { plan, errors } = planImport(document, store, mode);
          const planned = new Set(plan[entity].map((r) => r.row));
          const failed = new Set(errors.map((e) => e.row));
          for (let i = 1; i <= data.length; i++) expect(planned.has(i) !== failed.has(i)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

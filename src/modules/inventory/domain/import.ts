import type { z } from 'zod';
import type { AssetKind } from '../../../platform/db/schema.js';
import {
  createAssetBody,
  createAssetGroupBody,
  createCustomerBody,
  createEnvironmentBody,
  createJumpboxBody,
  createMachineTypeBody,
  createRegionBody,
  createDatabaseBody,
  createServerBody,
  name as nameSchema,
} from '../inventory.schemas.js';
import { importEntities, type ImportEntity, type ImportError, type RawDocument } from './import-source.js';

export { importEntities, readImportSource, csvColumns, MAX_IMPORT_ROWS } from './import-source.js';
export type { ImportEntity, ImportError, ImportSource, RawDocument, RawRow } from './import-source.js';

/**
 * Validating an import, without I/O: every row is checked with the same schemas as the API, names
 * must be unique within the file, and every reference must name something that exists already or
 * comes in the same import. All problems are reported, not only the first; the caller imports
 * nothing unless there are none.
 */

export const environmentImportRow = createEnvironmentBody.extend({ customer: nameSchema }).strict();

const rowSchemas = {
  regions: createRegionBody,
  customers: createCustomerBody,
  environments: environmentImportRow,
  machineTypes: createMachineTypeBody,
  assetGroups: createAssetGroupBody,
  assets: createAssetBody,
  jumpboxes: createJumpboxBody,
} satisfies Record<ImportEntity, z.ZodType>;

type RowInput<E extends ImportEntity> = z.infer<(typeof rowSchemas)[E]>;

export type ImportMode = 'create' | 'upsert';

export interface PlannedRow<T> {
  row: number;
  /** 'update' only in upsert mode, for a name that exists already. */
  action: 'create' | 'update';
  input: T;
}

export type ImportPlan = { [E in ImportEntity]: PlannedRow<RowInput<E>>[] };

/** What the store already holds, among the names the import mentions. */
export interface ExistingNames {
  regions: ReadonlySet<string>;
  customers: ReadonlySet<string>;
  /** `customer/environment` */
  environments: ReadonlySet<string>;
  machineTypes: ReadonlySet<string>;
  assetGroups: ReadonlySet<string>;
  assets: ReadonlyMap<string, AssetKind>;
  jumpboxes: ReadonlySet<string>;
}

const labels: Record<ImportEntity, string> = {
  regions: 'region',
  customers: 'customer',
  environments: 'environment',
  machineTypes: 'machine type',
  assetGroups: 'asset group',
  assets: 'asset',
  jumpboxes: 'jumpbox',
};

const fieldsOf: Record<ImportEntity, string> = {
  regions: Object.keys(createRegionBody.shape).join(', '),
  customers: Object.keys(createCustomerBody.shape).join(', '),
  environments: Object.keys(environmentImportRow.shape).join(', '),
  machineTypes: Object.keys(createMachineTypeBody.shape).join(', '),
  assetGroups: Object.keys(createAssetGroupBody.shape).join(', '),
  assets: [
    ...new Set([...Object.keys(createServerBody.shape), ...Object.keys(createDatabaseBody.shape)]),
  ].join(', '),
  jumpboxes: Object.keys(createJumpboxBody.shape).join(', '),
};

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const field = (data: unknown, key: string): unknown =>
  data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[key] : undefined;
const envKey = (customer: string, environment: string) => `${customer}/${environment}`;

/** Orders errors as the import reads: by entity (file-level first), then row. */
export function byPosition(a: ImportError, b: ImportError): number {
  const rank = (e: ImportError) => (e.entity ? importEntities.indexOf(e.entity) : -1);
  return rank(a) - rank(b) || a.row - b.row;
}

/** Every name the import mentions, per entity: what to look up in the store before planning. */
export function mentionedNames(document: RawDocument): { [E in ImportEntity]: string[] } {
  const names = Object.fromEntries(importEntities.map((e) => [e, new Set<string>()])) as {
    [E in ImportEntity]: Set<string>;
  };
  const add = (entity: ImportEntity, value: unknown) => {
    const text = str(value);
    if (text) names[entity].add(text);
  };
  for (const entity of importEntities) {
    for (const { data } of document[entity] ?? []) {
      add(entity, field(data, 'name'));
      add('regions', field(data, 'region'));
      add('customers', field(data, 'customer'));
      add('machineTypes', field(data, 'machineType'));
      const groups = field(data, 'groups');
      if (Array.isArray(groups)) groups.forEach((g) => add('assetGroups', g));
    }
  }
  return Object.fromEntries(importEntities.map((e) => [e, [...names[e]]])) as {
    [E in ImportEntity]: string[];
  };
}

function issueErrors(
  entity: ImportEntity,
  row: number,
  name: string | undefined,
  error: z.ZodError,
): ImportError[] {
  const at = (path: PropertyKey[]) => path.map(String).join('.') || '(row)';
  const base = { entity, row, ...(name ? { name } : {}) };
  return error.issues.flatMap((issue): ImportError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        ...base,
        field: at([...issue.path, key]),
        message: `unknown field; the fields of ${labels[entity]} rows are ${fieldsOf[entity]}`,
      }));
    }
    if (issue.code === 'invalid_union' && at(issue.path) === 'kind') {
      return [{ ...base, field: 'kind', message: "must be 'server' or 'database'" }];
    }
    const nested =
      issue.code === 'invalid_key' || issue.code === 'invalid_element' ? issue.issues[0]?.message : undefined;
    return [
      { ...base, field: at(issue.path), message: nested ? `${issue.message}: ${nested}` : issue.message },
    ];
  });
}

/**
 * Checks every row and decides, per row, whether it creates or (in upsert mode) updates. Returns the
 * plan and every problem found; a plan with problems must not be applied.
 */
export function planImport(
  document: RawDocument,
  existing: ExistingNames,
  mode: ImportMode,
): { plan: ImportPlan; errors: ImportError[] } {
  const plan = Object.fromEntries(importEntities.map((e) => [e, []])) as unknown as ImportPlan;
  const errors: ImportError[] = [];

  // names this import brings, taken from every row that has one (even a row with other problems),
  // so that a bad row is reported once, not again by every row that refers to it
  const incoming = {
    regions: new Set<string>(),
    customers: new Set<string>(),
    environments: new Set<string>(),
    machineTypes: new Set<string>(),
    assetGroups: new Set<string>(),
  };
  for (const entity of ['regions', 'customers', 'machineTypes', 'assetGroups'] as const) {
    for (const { data } of document[entity] ?? []) {
      const name = str(field(data, 'name'));
      if (name) incoming[entity].add(name);
    }
  }
  for (const { data } of document.environments ?? []) {
    const customer = str(field(data, 'customer'));
    const name = str(field(data, 'name'));
    if (customer && name) incoming.environments.add(envKey(customer, name));
  }
  const known = {
    regions: (n: string) => existing.regions.has(n) || incoming.regions.has(n),
    customers: (n: string) => existing.customers.has(n) || incoming.customers.has(n),
    environments: (k: string) => existing.environments.has(k) || incoming.environments.has(k),
    machineTypes: (n: string) => existing.machineTypes.has(n) || incoming.machineTypes.has(n),
    assetGroups: (n: string) => existing.assetGroups.has(n) || incoming.assetGroups.has(n),
  };

  for (const entity of importEntities) {
    const firstRow = new Map<string, number>();
    for (const { row, data } of document[entity] ?? []) {
      const rowErrors: ImportError[] = [];
      const name = str(field(data, 'name'));
      const fail = (fieldName: string, message: string) =>
        rowErrors.push({ entity, row, ...(name ? { name } : {}), field: fieldName, message });
      const parsed = rowSchemas[entity].safeParse(data);
      if (!parsed.success) rowErrors.push(...issueErrors(entity, row, name, parsed.error));
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        errors.push(...rowErrors);
        continue;
      }
      // fields the schema refused are reported once; the rest are still checked, so that one pass
      // over a file finds every problem in it
      const refused = new Set(parsed.success ? [] : parsed.error.issues.map((i) => String(i.path[0] ?? '')));
      const text = (key: string) => (refused.has(key) ? undefined : str(field(data, key)));
      const customer = text('customer');
      const key =
        entity === 'environments' ? (customer && name ? envKey(customer, name) : undefined) : text('name');
      const label = labels[entity];

      let present = false;
      if (key !== undefined) {
        const first = firstRow.get(key);
        if (first !== undefined) {
          fail('name', `'${key}' appears more than once (first on row ${first}); list each ${label} once`);
        } else {
          firstRow.set(key, row);
          present = entity === 'assets' ? existing.assets.has(key) : existing[entity].has(key);
          if (present && mode === 'create') {
            fail(
              'name',
              `${label} '${key}' already exists; remove this row, or import with mode 'upsert' to update it`,
            );
          }
        }
      }

      const region = text('region');
      if (region && !known.regions(region)) {
        fail('region', `there is no region named '${region}' (in the store or this import)`);
      }
      if (customer && !known.customers(customer)) {
        fail('customer', `there is no customer named '${customer}' (in the store or this import)`);
      }
      if (entity === 'assets') {
        const environment = text('environment');
        if (environment && !customer && !refused.has('customer')) {
          fail('environment', 'name the customer too; environments are looked up within a customer');
        } else if (environment && customer && !known.environments(envKey(customer, environment))) {
          fail(
            'environment',
            `customer '${customer}' has no environment named '${environment}' (in the store or this import)`,
          );
        }
        if (!region && !environment && !present && !refused.has('region') && !refused.has('environment')) {
          fail('region', 'name the region, or an environment to take it from');
        }
        const machineType = text('machineType');
        if (machineType && !known.machineTypes(machineType)) {
          fail(
            'machineType',
            `there is no machine type named '${machineType}' (in the store or this import)`,
          );
        }
        const groups = refused.has('groups') ? undefined : field(data, 'groups');
        for (const group of new Set(
          Array.isArray(groups) ? groups.filter((g) => typeof g === 'string') : [],
        )) {
          if (!known.assetGroups(group)) {
            fail('groups', `there is no asset group named '${group}' (in the store or this import)`);
          }
        }
        const kind = key === undefined ? undefined : existing.assets.get(key);
        const wanted = text('kind');
        if (present && kind && wanted && kind !== wanted) {
          fail(
            'kind',
            `asset '${key}' is a ${kind}; the kind of an asset cannot change (delete it and import it again)`,
          );
        }
      }
      if (rowErrors.length > 0 || !parsed.success) {
        errors.push(...rowErrors);
        continue;
      }
      (plan[entity] as PlannedRow<unknown>[]).push({
        row,
        action: present ? 'update' : 'create',
        input: parsed.data,
      });
    }
  }
  errors.sort(byPosition);
  return { plan, errors };
}

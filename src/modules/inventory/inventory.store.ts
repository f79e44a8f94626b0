import { sql, type Expression, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { EnvironmentTier } from '../../platform/db/schema.js';
import type { Executor } from '../../platform/db/store.js';
import { containsPattern } from '../../platform/paging.js';
import type { PageRequest } from './domain/paging.js';
import type { Environment, MachineType, Region } from './inventory.schemas.js';

/**
 * SQL for the inventory's places and owners: regions, customers, environments, machine types. Every
 * method takes the executor (database or transaction) it runs on. Assets and asset groups are in
 * asset.store.ts, jumpboxes in jumpbox.store.ts.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Rows per INSERT statement: far below PostgreSQL's 65,535 parameters for the widest table. */
export const INSERT_CHUNK = 500;

/** `alias.id = ref OR alias.name = ref` when ref looks like a UUID, else only the name. */
export function refCondition(alias: string, ref: string): Expression<SqlBool> {
  const name = sql.ref(`${alias}.name`);
  return UUID.test(ref)
    ? sql<SqlBool>`(${sql.ref(`${alias}.id`)} = ${ref}::uuid OR ${name} = ${ref})`
    : sql<SqlBool>`${name} = ${ref}`;
}

export function nameIn(alias: string, names: readonly string[]): Expression<SqlBool> {
  return sql<SqlBool>`${sql.ref(`${alias}.name`)} = ANY(${[...names]}::text[])`;
}

/** Orders by name, continues after the cursor, filters by `q`, and fetches one extra row. */
export function applyPage<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  column: string,
  page: PageRequest,
): SelectQueryBuilder<DB, TB, O> {
  let paged = query;
  if (page.after !== undefined) paged = paged.where(sql<SqlBool>`${sql.ref(column)} > ${page.after}`);
  if (page.q) paged = paged.where(sql<SqlBool>`${sql.ref(column)} ILIKE ${containsPattern(page.q)}`);
  return paged.orderBy(sql.ref(column)).limit(page.limit + 1);
}

export function chunks<T>(items: readonly T[], size = INSERT_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function countOf(
  db: Executor,
  table: 'environments' | 'assets' | 'jumpboxes',
  column: 'customer_id' | 'region_id' | 'environment_id' | 'machine_type_id',
  id: string,
): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE ${sql.ref(column)} = ${id}::uuid`.execute(db);
  return rows[0]?.n ?? 0;
}

type Labelled = 'regions' | 'customers';

/** Regions and customers have the same columns; one implementation serves both tables. */
function labelledStore(table: Labelled) {
  const select = (db: Executor) =>
    db
      .selectFrom(`${table} as x` as 'regions as x')
      .select(['x.id', 'x.name', 'x.display_name', 'x.created_at', 'x.updated_at']);
  type LabelledRow = { id: string; name: string; display_name: string; created_at: Date; updated_at: Date };
  const toLabelled = (row: LabelledRow): Region => ({
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  return {
    insert: async (db: Executor, items: readonly Region[]): Promise<void> => {
      for (const part of chunks(items)) {
        await db
          .insertInto(table as 'regions')
          .values(
            part.map((r) => ({
              id: r.id,
              name: r.name,
              display_name: r.displayName,
              created_at: r.createdAt,
              updated_at: r.updatedAt,
            })),
          )
          .execute();
      }
    },
    byRef: async (db: Executor, ref: string): Promise<Region | undefined> => {
      const row = await select(db).where(refCondition('x', ref)).executeTakeFirst();
      return row ? toLabelled(row) : undefined;
    },
    byNames: async (db: Executor, names: readonly string[]): Promise<Region[]> => {
      if (names.length === 0) return [];
      return (await select(db).where(nameIn('x', names)).execute()).map(toLabelled);
    },
    list: async (db: Executor, page: PageRequest): Promise<Region[]> => {
      return (await applyPage(select(db), 'x.name', page).execute()).map(toLabelled);
    },
    update: async (
      db: Executor,
      id: string,
      patch: { name?: string | undefined; displayName?: string | undefined; updatedAt: Date },
    ): Promise<void> => {
      await db
        .updateTable(table as 'regions')
        .set({ name: patch.name, display_name: patch.displayName, updated_at: patch.updatedAt })
        .where('id', '=', id)
        .execute();
    },
    remove: async (db: Executor, id: string): Promise<void> => {
      await db
        .deleteFrom(table as 'regions')
        .where('id', '=', id)
        .execute();
    },
  };
}

const regions = labelledStore('regions');
const customers = labelledStore('customers');

function selectEnvironments(db: Executor) {
  return db
    .selectFrom('environments as e')
    .innerJoin('customers as c', 'c.id', 'e.customer_id')
    .innerJoin('regions as r', 'r.id', 'e.region_id')
    .select([
      'e.id',
      'e.name',
      'e.tier',
      'e.customer_id',
      'c.name as customer_name',
      'e.region_id',
      'r.name as region_name',
      'e.created_at',
      'e.updated_at',
    ]);
}

type EnvironmentRow = Awaited<ReturnType<ReturnType<typeof selectEnvironments>['executeTakeFirstOrThrow']>>;

function toEnvironment(row: EnvironmentRow): Environment {
  return {
    id: row.id,
    name: row.name,
    tier: row.tier,
    customerId: row.customer_id,
    customer: row.customer_name,
    regionId: row.region_id,
    region: row.region_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function selectMachineTypes(db: Executor) {
  return db
    .selectFrom('machine_types as m')
    .select(['m.id', 'm.name', 'm.description', 'm.created_at', 'm.updated_at']);
}

function toMachineType(row: {
  id: string;
  name: string;
  description: string;
  created_at: Date;
  updated_at: Date;
}): MachineType {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const inventoryStore = {
  insertRegions: regions.insert,
  regionByRef: regions.byRef,
  regionsByNames: regions.byNames,
  listRegions: regions.list,
  updateRegion: regions.update,
  deleteRegion: regions.remove,
  regionUsage: async (db: Executor, id: string) => {
    return {
      environments: await countOf(db, 'environments', 'region_id', id),
      assets: await countOf(db, 'assets', 'region_id', id),
      jumpboxes: await countOf(db, 'jumpboxes', 'region_id', id),
    };
  },

  insertCustomers: customers.insert,
  customerByRef: customers.byRef,
  customersByNames: customers.byNames,
  listCustomers: customers.list,
  updateCustomer: customers.update,
  deleteCustomer: customers.remove,
  customerUsage: async (db: Executor, id: string) => {
    return {
      environments: await countOf(db, 'environments', 'customer_id', id),
      assets: await countOf(db, 'assets', 'customer_id', id),
    };
  },

  insertEnvironments: async (db: Executor, items: readonly Environment[]): Promise<void> => {
    for (const part of chunks(items)) {
      await db
        .insertInto('environments')
        .values(
          part.map((e) => ({
            id: e.id,
            customer_id: e.customerId,
            name: e.name,
            tier: e.tier,
            region_id: e.regionId,
            created_at: e.createdAt,
            updated_at: e.updatedAt,
          })),
        )
        .execute();
    }
  },

  environmentByRef: async (
    db: Executor,
    customerId: string,
    ref: string,
  ): Promise<Environment | undefined> => {
    const row = await selectEnvironments(db)
      .where('e.customer_id', '=', customerId)
      .where(refCondition('e', ref))
      .executeTakeFirst();
    return row ? toEnvironment(row) : undefined;
  },

  /** Every environment of the named customers (for resolving `customer/environment` pairs in bulk). */
  environmentsOfCustomers: async (db: Executor, customerNames: readonly string[]): Promise<Environment[]> => {
    if (customerNames.length === 0) return [];
    return (await selectEnvironments(db).where(nameIn('c', customerNames)).execute()).map(toEnvironment);
  },

  listEnvironments: async (
    db: Executor,
    customerId: string,
    filters: { tier?: EnvironmentTier | undefined; regionId?: string | undefined },
    page: PageRequest,
  ): Promise<Environment[]> => {
    let query = selectEnvironments(db).where('e.customer_id', '=', customerId);
    if (filters.tier) query = query.where('e.tier', '=', filters.tier);
    if (filters.regionId) query = query.where('e.region_id', '=', filters.regionId);
    return (await applyPage(query, 'e.name', page).execute()).map(toEnvironment);
  },

  updateEnvironment: async (
    db: Executor,
    id: string,
    patch: {
      name?: string | undefined;
      tier?: EnvironmentTier | undefined;
      regionId?: string | undefined;
      updatedAt: Date;
    },
  ): Promise<void> => {
    await db
      .updateTable('environments')
      .set({ name: patch.name, tier: patch.tier, region_id: patch.regionId, updated_at: patch.updatedAt })
      .where('id', '=', id)
      .execute();
  },

  deleteEnvironment: async (db: Executor, id: string): Promise<void> => {
    await db.deleteFrom('environments').where('id', '=', id).execute();
  },

  environmentUsage: async (db: Executor, id: string) => ({
    assets: await countOf(db, 'assets', 'environment_id', id),
  }),

  insertMachineTypes: async (db: Executor, items: readonly MachineType[]): Promise<void> => {
    for (const part of chunks(items)) {
      await db
        .insertInto('machine_types')
        .values(
          part.map((m) => ({
            id: m.id,
            name: m.name,
            description: m.description,
            created_at: m.createdAt,
            updated_at: m.updatedAt,
          })),
        )
        .execute();
    }
  },

  machineTypeByRef: async (db: Executor, ref: string): Promise<MachineType | undefined> => {
    const row = await selectMachineTypes(db).where(refCondition('m', ref)).executeTakeFirst();
    return row ? toMachineType(row) : undefined;
  },

  machineTypesByNames: async (db: Executor, names: readonly string[]): Promise<MachineType[]> => {
    if (names.length === 0) return [];
    return (await selectMachineTypes(db).where(nameIn('m', names)).execute()).map(toMachineType);
  },

  listMachineTypes: async (db: Executor, page: PageRequest): Promise<MachineType[]> => {
    return (await applyPage(selectMachineTypes(db), 'm.name', page).execute()).map(toMachineType);
  },

  updateMachineType: async (
    db: Executor,
    id: string,
    patch: { name?: string | undefined; description?: string | undefined; updatedAt: Date },
  ): Promise<void> => {
    await db
      .updateTable('machine_types')
      .set({ name: patch.name, description: patch.description, updated_at: patch.updatedAt })
      .where('id', '=', id)
      .execute();
  },

  deleteMachineType: async (db: Executor, id: string): Promise<void> => {
    await db.deleteFrom('machine_types').where('id', '=', id).execute();
  },

  machineTypeUsage: async (db: Executor, id: string) => ({
    assets: await countOf(db, 'assets', 'machine_type_id', id),
  }),
};

import { sql, type SqlBool } from 'kysely';
import type { AssetKind, DatabaseEngine } from '../../platform/db/schema.js';
import type { Executor } from '../../platform/db/store.js';
import type { PageRequest } from './domain/paging.js';
import { applyPage, chunks, nameIn, refCondition } from './inventory.store.js';
import type { Asset, AssetGroup } from './inventory.schemas.js';

/** SQL for assets, asset groups and their members. */

/** An asset as stored: ids for its relations, the admin credential sealed. */
export interface AssetRecord {
  id: string;
  name: string;
  kind: AssetKind;
  customerId: string | null;
  environmentId: string | null;
  regionId: string;
  machineTypeId: string | null;
  os: string | null;
  address: string | null;
  engine: DatabaseEngine | null;
  host: string | null;
  port: number | null;
  /** Sealed by the SecretBox, bound to `asset:<id>:admin`. */
  sealedAdminCredential: string | null;
  /** Servers: NULL = 22. */
  sshPort?: number | null;
  /** Servers: sealed by the SecretBox, bound to `asset:<id>:automation`. */
  sealedAutomationCredential?: string | null;
  /** Servers: recorded host key lines. */
  hostKeys?: string[];
  labels: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export type AssetPatch = Partial<Omit<AssetRecord, 'id' | 'kind' | 'createdAt'>> & { updatedAt: Date };

export interface AssetFilters {
  customerId?: string | undefined;
  environmentId?: string | undefined;
  /** Environments of this name, whichever customer they belong to. */
  environmentName?: string | undefined;
  regionId?: string | undefined;
  kind?: AssetKind | undefined;
  engine?: DatabaseEngine | undefined;
  machineTypeId?: string | undefined;
  groupId?: string | undefined;
  label?: { key: string; value?: string | undefined } | undefined;
}

function selectAssets(db: Executor) {
  return db
    .selectFrom('assets as a')
    .innerJoin('regions as r', 'r.id', 'a.region_id')
    .leftJoin('customers as c', 'c.id', 'a.customer_id')
    .leftJoin('environments as e', 'e.id', 'a.environment_id')
    .leftJoin('machine_types as m', 'm.id', 'a.machine_type_id')
    .select([
      'a.id',
      'a.name',
      'a.kind',
      'a.customer_id',
      'c.name as customer_name',
      'a.environment_id',
      'e.name as environment_name',
      'a.region_id',
      'r.name as region_name',
      'a.machine_type_id',
      'm.name as machine_type_name',
      'a.os',
      'a.engine',
      'a.host',
      'a.port',
      'a.labels',
      'a.created_at',
      'a.updated_at',
      // host(): a plain address, without the /32 or /128 that inet's text form carries
      sql<string | null>`host(a.address)`.as('address'),
      sql<boolean>`a.admin_credential IS NOT NULL`.as('has_admin_credential'),
      'a.ssh_port',
      'a.host_keys',
      sql<boolean>`a.automation_credential IS NOT NULL`.as('has_automation_credential'),
      sql<string[]>`ARRAY(
        SELECT g.name FROM asset_group_members gm JOIN asset_groups g ON g.id = gm.asset_group_id
        WHERE gm.asset_id = a.id ORDER BY g.name)`.as('group_names'),
    ]);
}

type AssetRow = Awaited<ReturnType<ReturnType<typeof selectAssets>['executeTakeFirstOrThrow']>>;

function toAsset(row: AssetRow): Asset {
  const common = {
    id: row.id,
    name: row.name,
    customerId: row.customer_id,
    customer: row.customer_name,
    environmentId: row.environment_id,
    environment: row.environment_name,
    regionId: row.region_id,
    region: row.region_name,
    machineTypeId: row.machine_type_id,
    machineType: row.machine_type_name,
    labels: (row.labels ?? {}) as Record<string, string>,
    groups: row.group_names,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.kind === 'server') {
    return {
      kind: 'server',
      ...common,
      os: row.os ?? '',
      address: row.address ?? '',
      sshPort: row.ssh_port ?? 22,
      hostKeys: (row.host_keys ?? []) as string[],
      hasAutomationCredential: row.has_automation_credential,
    };
  }
  return {
    kind: 'database',
    ...common,
    engine: row.engine ?? 'postgres',
    host: row.host ?? '',
    port: row.port ?? 0,
    address: row.address,
    hasAdminCredential: row.has_admin_credential,
  };
}

function assetColumns(a: AssetRecord) {
  return {
    id: a.id,
    name: a.name,
    kind: a.kind,
    customer_id: a.customerId,
    environment_id: a.environmentId,
    region_id: a.regionId,
    machine_type_id: a.machineTypeId,
    os: a.os,
    address: a.address,
    engine: a.engine,
    host: a.host,
    port: a.port,
    admin_credential: a.sealedAdminCredential,
    ssh_port: a.sshPort ?? null,
    automation_credential: a.sealedAutomationCredential ?? null,
    host_keys: JSON.stringify(a.hostKeys ?? []),
    labels: JSON.stringify(a.labels),
    created_at: a.createdAt,
    updated_at: a.updatedAt,
  };
}

function selectGroups(db: Executor) {
  return db
    .selectFrom('asset_groups as g')
    .select([
      'g.id',
      'g.name',
      'g.description',
      'g.created_at',
      'g.updated_at',
      sql<number>`(SELECT count(*)::int FROM asset_group_members gm WHERE gm.asset_group_id = g.id)`.as(
        'member_count',
      ),
    ]);
}

type GroupRow = Awaited<ReturnType<ReturnType<typeof selectGroups>['executeTakeFirstOrThrow']>>;

function toGroup(row: GroupRow): AssetGroup {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    memberCount: Number(row.member_count),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export const assetStore = {
  insertAssets: async (db: Executor, items: readonly AssetRecord[]): Promise<void> => {
    for (const part of chunks(items)) {
      await db.insertInto('assets').values(part.map(assetColumns)).execute();
    }
  },

  assetByRef: async (db: Executor, ref: string): Promise<Asset | undefined> => {
    const row = await selectAssets(db).where(refCondition('a', ref)).executeTakeFirst();
    return row ? toAsset(row) : undefined;
  },

  assetsByNames: async (db: Executor, names: readonly string[]): Promise<Asset[]> => {
    if (names.length === 0) return [];
    return (await selectAssets(db).where(nameIn('a', names)).execute()).map(toAsset);
  },

  listAssets: async (db: Executor, filters: AssetFilters, page: PageRequest): Promise<Asset[]> => {
    let query = selectAssets(db);
    if (filters.customerId) query = query.where('a.customer_id', '=', filters.customerId);
    if (filters.environmentId) query = query.where('a.environment_id', '=', filters.environmentId);
    if (filters.environmentName) query = query.where('e.name', '=', filters.environmentName);
    if (filters.regionId) query = query.where('a.region_id', '=', filters.regionId);
    if (filters.kind) query = query.where('a.kind', '=', filters.kind);
    if (filters.engine) query = query.where('a.engine', '=', filters.engine);
    if (filters.machineTypeId) query = query.where('a.machine_type_id', '=', filters.machineTypeId);
    if (filters.groupId) {
      const groupId = filters.groupId;
      query = query.where(
        sql<SqlBool>`EXISTS (SELECT 1 FROM asset_group_members gm
          WHERE gm.asset_id = a.id AND gm.asset_group_id = ${groupId}::uuid)`,
      );
    }
    if (filters.label) {
      const { key, value } = filters.label;
      query = query.where(
        value === undefined
          ? sql<SqlBool>`jsonb_exists(a.labels, ${key})`
          : sql<SqlBool>`a.labels @> ${JSON.stringify({ [key]: value })}::jsonb`,
      );
    }
    return (await applyPage(query, 'a.name', page).execute()).map(toAsset);
  },

  sealedAdminCredential: async (db: Executor, id: string): Promise<string | null | undefined> => {
    const row = await db
      .selectFrom('assets')
      .select('admin_credential')
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? row.admin_credential : undefined;
  },

  sealedAutomationCredential: async (db: Executor, id: string): Promise<string | null | undefined> => {
    const row = await db
      .selectFrom('assets')
      .select('automation_credential')
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? row.automation_credential : undefined;
  },

  updateAsset: async (db: Executor, id: string, patch: AssetPatch): Promise<void> => {
    await db
      .updateTable('assets')
      .set({
        name: patch.name,
        customer_id: patch.customerId,
        environment_id: patch.environmentId,
        region_id: patch.regionId,
        machine_type_id: patch.machineTypeId,
        os: patch.os,
        address: patch.address,
        engine: patch.engine,
        host: patch.host,
        port: patch.port,
        admin_credential: patch.sealedAdminCredential,
        ssh_port: patch.sshPort,
        automation_credential: patch.sealedAutomationCredential,
        host_keys: patch.hostKeys === undefined ? undefined : JSON.stringify(patch.hostKeys),
        labels: patch.labels === undefined ? undefined : JSON.stringify(patch.labels),
        updated_at: patch.updatedAt,
      })
      .where('id', '=', id)
      .execute();
  },

  deleteAsset: async (db: Executor, id: string): Promise<void> => {
    await db.deleteFrom('assets').where('id', '=', id).execute();
  },

  insertGroups: async (db: Executor, items: readonly AssetGroup[]): Promise<void> => {
    for (const part of chunks(items)) {
      await db
        .insertInto('asset_groups')
        .values(
          part.map((g) => ({
            id: g.id,
            name: g.name,
            description: g.description,
            created_at: g.createdAt,
            updated_at: g.updatedAt,
          })),
        )
        .execute();
    }
  },

  groupByRef: async (db: Executor, ref: string): Promise<AssetGroup | undefined> => {
    const row = await selectGroups(db).where(refCondition('g', ref)).executeTakeFirst();
    return row ? toGroup(row) : undefined;
  },

  groupsByNames: async (db: Executor, names: readonly string[]): Promise<AssetGroup[]> => {
    if (names.length === 0) return [];
    return (await selectGroups(db).where(nameIn('g', names)).execute()).map(toGroup);
  },

  listGroups: async (db: Executor, page: PageRequest): Promise<AssetGroup[]> => {
    return (await applyPage(selectGroups(db), 'g.name', page).execute()).map(toGroup);
  },

  updateGroup: async (
    db: Executor,
    id: string,
    patch: { name?: string | undefined; description?: string | undefined; updatedAt: Date },
  ): Promise<void> => {
    await db
      .updateTable('asset_groups')
      .set({ name: patch.name, description: patch.description, updated_at: patch.updatedAt })
      .where('id', '=', id)
      .execute();
  },

  deleteGroup: async (db: Executor, id: string): Promise<void> => {
    await db.deleteFrom('asset_groups').where('id', '=', id).execute();
  },

  /** Adds memberships; ones that already exist are left alone. Returns how many were new. */
  addMembers: async (
    db: Executor,
    pairs: readonly { groupId: string; assetId: string }[],
  ): Promise<number> => {
    let added = 0;
    for (const part of chunks(pairs)) {
      const result = await db
        .insertInto('asset_group_members')
        .values(part.map((p) => ({ asset_group_id: p.groupId, asset_id: p.assetId })))
        .onConflict((oc) => oc.columns(['asset_group_id', 'asset_id']).doNothing())
        .executeTakeFirst();
      added += Number(result.numInsertedOrUpdatedRows ?? 0);
    }
    return added;
  },

  removeMember: async (db: Executor, groupId: string, assetId: string): Promise<boolean> => {
    const result = await db
      .deleteFrom('asset_group_members')
      .where('asset_group_id', '=', groupId)
      .where('asset_id', '=', assetId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  },

  /** Makes the asset a member of exactly these groups. */
  setAssetGroups: async (db: Executor, assetId: string, groupIds: readonly string[]): Promise<void> => {
    await db
      .deleteFrom('asset_group_members')
      .where('asset_id', '=', assetId)
      .where(sql<SqlBool>`NOT (asset_group_id = ANY(${[...groupIds]}::uuid[]))`)
      .execute();
    if (groupIds.length > 0) {
      await assetStore.addMembers(
        db,
        groupIds.map((groupId) => ({ groupId, assetId })),
      );
    }
  },
};

import { sql } from 'kysely';
import type { Executor } from '../../platform/db/store.js';
import type { PageRequest } from './domain/paging.js';
import { applyPage, chunks, nameIn, refCondition } from './inventory.store.js';
import type { Jumpbox } from './inventory.schemas.js';

/** SQL for jumpboxes: `address` is inet, `source_cidrs` cidr[]; both are read back as plain text. */

function selectJumpboxes(db: Executor) {
  return db
    .selectFrom('jumpboxes as j')
    .innerJoin('regions as r', 'r.id', 'j.region_id')
    .select([
      'j.id',
      'j.name',
      'j.region_id',
      'r.name as region_name',
      'j.description',
      'j.created_at',
      'j.updated_at',
      sql<string>`host(j.address)`.as('address'),
      sql<string[]>`j.source_cidrs::text[]`.as('source_cidrs'),
    ]);
}

type JumpboxRow = Awaited<ReturnType<ReturnType<typeof selectJumpboxes>['executeTakeFirstOrThrow']>>;

function toJumpbox(row: JumpboxRow): Jumpbox {
  return {
    id: row.id,
    name: row.name,
    regionId: row.region_id,
    region: row.region_name,
    address: row.address,
    sourceCidrs: row.source_cidrs,
    description: row.description,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const cidrArray = (cidrs: readonly string[]) => sql<string[]>`${[...cidrs]}::cidr[]`;

export const jumpboxStore = {
  insertJumpboxes: async (db: Executor, items: readonly Jumpbox[]): Promise<void> => {
    for (const part of chunks(items)) {
      await db
        .insertInto('jumpboxes')
        .values(
          part.map((j) => ({
            id: j.id,
            name: j.name,
            region_id: j.regionId,
            address: j.address,
            source_cidrs: cidrArray(j.sourceCidrs),
            description: j.description,
            created_at: j.createdAt,
            updated_at: j.updatedAt,
          })),
        )
        .execute();
    }
  },

  jumpboxByRef: async (db: Executor, ref: string): Promise<Jumpbox | undefined> => {
    const row = await selectJumpboxes(db).where(refCondition('j', ref)).executeTakeFirst();
    return row ? toJumpbox(row) : undefined;
  },

  jumpboxesByNames: async (db: Executor, names: readonly string[]): Promise<Jumpbox[]> => {
    if (names.length === 0) return [];
    return (await selectJumpboxes(db).where(nameIn('j', names)).execute()).map(toJumpbox);
  },

  listJumpboxes: async (
    db: Executor,
    filters: { regionId?: string | undefined },
    page: PageRequest,
  ): Promise<Jumpbox[]> => {
    let query = selectJumpboxes(db);
    if (filters.regionId) query = query.where('j.region_id', '=', filters.regionId);
    return (await applyPage(query, 'j.name', page).execute()).map(toJumpbox);
  },

  updateJumpbox: async (
    db: Executor,
    id: string,
    patch: {
      name?: string | undefined;
      regionId?: string | undefined;
      address?: string | undefined;
      sourceCidrs?: readonly string[] | undefined;
      description?: string | undefined;
      updatedAt: Date;
    },
  ): Promise<void> => {
    await db
      .updateTable('jumpboxes')
      .set({
        name: patch.name,
        region_id: patch.regionId,
        address: patch.address,
        source_cidrs: patch.sourceCidrs === undefined ? undefined : cidrArray(patch.sourceCidrs),
        description: patch.description,
        updated_at: patch.updatedAt,
      })
      .where('id', '=', id)
      .execute();
  },

  deleteJumpbox: async (db: Executor, id: string): Promise<void> => {
    await db.deleteFrom('jumpboxes').where('id', '=', id).execute();
  },
};

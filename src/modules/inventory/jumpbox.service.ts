import type { Executor } from '../../platform/db/store.js';
import { NotFoundError } from '../../platform/errors.js';
import type { RequestContext } from '../audit/audit.types.js';
import { jumpboxDetails } from './audit-details.js';
import { pageRequest, toPage } from './domain/paging.js';
import type {
  CreateJumpboxInput,
  Jumpbox,
  JumpboxListQuery,
  Page,
  UpdateJumpboxInput,
} from './inventory.schemas.js';
import { jumpboxStore } from './jumpbox.store.js';
import { storeReferences } from './references.js';
import {
  changedFields,
  requireSomeField,
  uniqueOr409,
  unknownReference,
  type InventoryServiceDeps,
} from './service-support.js';

/** Jumpboxes: the only hosts operators reach assets from, and the source addresses targets see. */
export function createJumpboxService(deps: InventoryServiceDeps) {
  const { db } = deps.store;
  const duplicate = (name: string) => `A jumpbox named '${name}' already exists; choose another name`;

  async function find(executor: Executor, ref: string): Promise<Jumpbox> {
    const found = await jumpboxStore.jumpboxByRef(executor, ref);
    if (!found) throw new NotFoundError('Jumpbox', ref);
    return found;
  }

  async function regionIdFor(executor: Executor, name: string): Promise<string> {
    const id = await storeReferences(executor).regionId(name);
    if (!id) throw unknownReference('region', 'region', name);
    return id;
  }

  return {
    createJumpbox: async (ctx: RequestContext, input: CreateJumpboxInput): Promise<Jumpbox> => {
      return db.transaction().execute(async (tx) => {
        const now = deps.clock.now();
        const jumpbox: Jumpbox = {
          id: deps.ids.uuid(),
          name: input.name,
          regionId: await regionIdFor(tx, input.region),
          region: input.region,
          address: input.address,
          sourceCidrs: [...new Set(input.sourceCidrs)],
          description: input.description ?? '',
          createdAt: now,
          updatedAt: now,
        };
        await uniqueOr409(() => jumpboxStore.insertJumpboxes(tx, [jumpbox]), duplicate(input.name));
        // read back: PostgreSQL normalises addresses (2001:DB8::1 → 2001:db8::1)
        const created = await find(tx, jumpbox.id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'jumpbox.created',
          target: { type: 'jumpbox', id: jumpbox.id },
          details: jumpboxDetails(created),
        });
        return created;
      });
    },

    listJumpboxes: async (query: JumpboxListQuery): Promise<Page<Jumpbox>> => {
      const regionId = query.region ? await regionIdFor(db, query.region) : undefined;
      return toPage(await jumpboxStore.listJumpboxes(db, { regionId }, pageRequest(query)), query.limit);
    },

    getJumpbox: (ref: string) => find(db, ref),

    updateJumpbox: async (ctx: RequestContext, ref: string, patch: UpdateJumpboxInput): Promise<Jumpbox> => {
      requireSomeField(patch, 'name, region, address, sourceCidrs, description');
      return db.transaction().execute(async (tx) => {
        const current = await find(tx, ref);
        const sourceCidrs = patch.sourceCidrs ? [...new Set(patch.sourceCidrs)] : undefined;
        const changed = changedFields({ ...patch, sourceCidrs }, current);
        if (changed.length === 0) return current;
        await uniqueOr409(
          async () =>
            jumpboxStore.updateJumpbox(tx, current.id, {
              name: patch.name,
              regionId: patch.region === undefined ? undefined : await regionIdFor(tx, patch.region),
              address: patch.address,
              sourceCidrs,
              description: patch.description,
              updatedAt: deps.clock.now(),
            }),
          duplicate(patch.name ?? current.name),
        );
        const updated = await find(tx, current.id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'jumpbox.updated',
          target: { type: 'jumpbox', id: current.id },
          details: { ...jumpboxDetails(updated), changed },
        });
        return updated;
      });
    },

    deleteJumpbox: async (ctx: RequestContext, ref: string): Promise<void> => {
      await db.transaction().execute(async (tx) => {
        const current = await find(tx, ref);
        await jumpboxStore.deleteJumpbox(tx, current.id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'jumpbox.deleted',
          target: { type: 'jumpbox', id: current.id },
          details: jumpboxDetails(current),
        });
      });
    },
  };
}

export type JumpboxService = ReturnType<typeof createJumpboxService>;

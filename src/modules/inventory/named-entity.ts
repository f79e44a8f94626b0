import type { Executor, Tx } from '../../platform/db/store.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import type { RequestContext } from '../audit/audit.types.js';
import { updateDetails } from './audit-details.js';
import { pageRequest, toPage, type PageRequest } from './domain/paging.js';
import type { ListQuery, Page } from './inventory.schemas.js';
import {
  changedFields,
  requireSomeField,
  uniqueOr409,
  type InventoryServiceDeps,
} from './service-support.js';

interface Named {
  id: string;
  name: string;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * How one simple inventory entity (a name plus plain fields, no references) is stored and described.
 * Regions, customers, machine types and asset groups all follow it.
 */
export interface NamedEntitySpec<
  E extends Named,
  C extends { name: string },
  U extends { name?: string | undefined },
> {
  /** Audit action prefix and target type: 'region', 'machine-type'. */
  noun: string;
  /** For messages: 'Region', 'Machine type'. */
  label: string;
  /** The fields a PATCH may carry, for the "send at least one" message. */
  fields: string;
  insert(tx: Executor, items: readonly E[]): Promise<void>;
  byRef(db: Executor, ref: string): Promise<E | undefined>;
  list(db: Executor, page: PageRequest): Promise<E[]>;
  update(tx: Executor, id: string, patch: U & { updatedAt: Date }): Promise<void>;
  remove(tx: Executor, id: string): Promise<void>;
  /** The new entity's own fields from a create input. */
  build(input: C): Omit<E, keyof Named>;
  /** What still refers to the entity, as "2 environments and 1 asset", or undefined if nothing does. */
  inUse?(tx: Tx, entity: E): Promise<string | undefined>;
  /** What to remove first, appended to the in-use message. */
  inUseHint?: string;
  details(entity: E): Record<string, unknown>;
}

export function namedEntityService<
  E extends Named,
  C extends { name: string },
  U extends { name?: string | undefined },
>(deps: InventoryServiceDeps, spec: NamedEntitySpec<E, C, U>) {
  const { db } = deps.store;
  const duplicate = (name: string) =>
    `A ${spec.label.toLowerCase()} named '${name}' already exists; choose another name`;

  async function find(executor: Executor, ref: string): Promise<E> {
    const found = await spec.byRef(executor, ref);
    if (!found) throw new NotFoundError(spec.label, ref);
    return found;
  }

  return {
    find,

    create: async (ctx: RequestContext, input: C): Promise<E> => {
      return db.transaction().execute(async (tx) => {
        const now = deps.clock.now();
        const entity = {
          ...spec.build(input),
          id: deps.ids.uuid(),
          name: input.name,
          createdAt: now,
          updatedAt: now,
        } as E;
        await uniqueOr409(() => spec.insert(tx, [entity]), duplicate(input.name));
        await deps.audit.append(tx, {
          ...ctx,
          action: `${spec.noun}.created`,
          target: { type: spec.noun, id: entity.id },
          details: spec.details(entity),
        });
        return entity;
      });
    },

    list: async (query: ListQuery): Promise<Page<E>> => {
      return toPage(await spec.list(db, pageRequest(query)), query.limit);
    },

    get: (ref: string) => find(db, ref),

    /** PATCH: only fields that differ are written; an update that changes nothing writes nothing. */
    update: async (ctx: RequestContext, ref: string, patch: U): Promise<E> => {
      requireSomeField(patch, spec.fields);
      return db.transaction().execute(async (tx) => {
        const current = await find(tx, ref);
        const changed = changedFields(patch, current);
        if (changed.length === 0) return current;
        await uniqueOr409(
          () => spec.update(tx, current.id, { ...patch, updatedAt: deps.clock.now() }),
          duplicate(patch.name ?? current.name),
        );
        const updated = await find(tx, current.id);
        await deps.audit.append(tx, {
          ...ctx,
          action: `${spec.noun}.updated`,
          target: { type: spec.noun, id: current.id },
          details: updateDetails(current, updated, changed),
        });
        return updated;
      });
    },

    remove: async (ctx: RequestContext, ref: string): Promise<void> => {
      await db.transaction().execute(async (tx) => {
        const current = await find(tx, ref);
        const usage = await spec.inUse?.(tx, current);
        if (usage) {
          throw new ConflictError(
            `${spec.label} '${current.name}' is still used by ${usage}; ${spec.inUseHint ?? 'remove those first'}`,
          );
        }
        await spec.remove(tx, current.id);
        await deps.audit.append(tx, {
          ...ctx,
          action: `${spec.noun}.deleted`,
          target: { type: spec.noun, id: current.id },
          details: spec.details(current),
        });
      });
    },
  };
}

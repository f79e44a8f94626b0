import type { Executor } from '../../platform/db/store.js';
import { ConflictError, NotFoundError } from '../../platform/errors.js';
import type { RequestContext } from '../audit/audit.types.js';
import {
  customerDetails,
  environmentDetails,
  environmentUpdateDetails,
  machineTypeDetails,
  regionDetails,
} from './audit-details.js';
import { pageRequest, toPage } from './domain/paging.js';
import { inventoryStore } from './inventory.store.js';
import type {
  CreateCustomerInput,
  CreateEnvironmentInput,
  CreateMachineTypeInput,
  CreateRegionInput,
  Customer,
  Environment,
  EnvironmentListQuery,
  MachineType,
  Page,
  Region,
  UpdateCustomerInput,
  UpdateEnvironmentInput,
  UpdateMachineTypeInput,
  UpdateRegionInput,
} from './inventory.schemas.js';
import { namedEntityService } from './named-entity.js';
import { storeReferences } from './references.js';
import {
  changedFields,
  describeUsage,
  requireSomeField,
  uniqueOr409,
  unknownReference,
  type InventoryServiceDeps,
} from './service-support.js';

/** Regions, customers, their environments, and machine types: the places and owners assets belong to. */
export function createCatalogService(deps: InventoryServiceDeps) {
  const { db } = deps.store;

  const regions = namedEntityService<Region, CreateRegionInput, UpdateRegionInput>(deps, {
    noun: 'region',
    label: 'Region',
    fields: 'name, displayName',
    insert: inventoryStore.insertRegions,
    byRef: inventoryStore.regionByRef,
    list: inventoryStore.listRegions,
    update: inventoryStore.updateRegion,
    remove: inventoryStore.deleteRegion,
    build: (input) => ({ displayName: input.displayName ?? input.name }),
    inUse: async (tx, region) => describeUsage(await inventoryStore.regionUsage(tx, region.id)),
    inUseHint: 'move or delete them first',
    details: regionDetails,
  });

  const customers = namedEntityService<Customer, CreateCustomerInput, UpdateCustomerInput>(deps, {
    noun: 'customer',
    label: 'Customer',
    fields: 'name, displayName',
    insert: inventoryStore.insertCustomers,
    byRef: inventoryStore.customerByRef,
    list: inventoryStore.listCustomers,
    update: inventoryStore.updateCustomer,
    remove: inventoryStore.deleteCustomer,
    build: (input) => ({ displayName: input.displayName ?? input.name }),
    inUse: async (tx, customer) => describeUsage(await inventoryStore.customerUsage(tx, customer.id)),
    inUseHint: 'delete its assets, then its environments, first',
    details: customerDetails,
  });

  const machineTypes = namedEntityService<MachineType, CreateMachineTypeInput, UpdateMachineTypeInput>(deps, {
    noun: 'machine-type',
    label: 'Machine type',
    fields: 'name, description',
    insert: inventoryStore.insertMachineTypes,
    byRef: inventoryStore.machineTypeByRef,
    list: inventoryStore.listMachineTypes,
    update: inventoryStore.updateMachineType,
    remove: inventoryStore.deleteMachineType,
    build: (input) => ({ description: input.description ?? '' }),
    inUse: async (tx, type) => describeUsage(await inventoryStore.machineTypeUsage(tx, type.id)),
    inUseHint: 'give those assets another machine type (or none) first',
    details: machineTypeDetails,
  });

  async function environmentIn(executor: Executor, customer: Customer, ref: string): Promise<Environment> {
    const found = await inventoryStore.environmentByRef(executor, customer.id, ref);
    if (!found) throw new NotFoundError(`Environment of customer '${customer.name}'`, ref);
    return found;
  }

  async function regionIdFor(executor: Executor, name: string): Promise<string> {
    const id = await storeReferences(executor).regionId(name);
    if (!id) throw unknownReference('region', 'region', name);
    return id;
  }

  const duplicateEnvironment = (customer: Customer, name: string) =>
    `Customer '${customer.name}' already has an environment named '${name}'; choose another name`;

  return {
    createRegion: regions.create,
    listRegions: regions.list,
    getRegion: regions.get,
    updateRegion: regions.update,
    deleteRegion: regions.remove,

    createCustomer: customers.create,
    listCustomers: customers.list,
    getCustomer: customers.get,
    updateCustomer: customers.update,
    deleteCustomer: customers.remove,

    createMachineType: machineTypes.create,
    listMachineTypes: machineTypes.list,
    getMachineType: machineTypes.get,
    updateMachineType: machineTypes.update,
    deleteMachineType: machineTypes.remove,

    createEnvironment: async (
      ctx: RequestContext,
      customerRef: string,
      input: CreateEnvironmentInput,
    ): Promise<Environment> => {
      return db.transaction().execute(async (tx) => {
        const customer = await customers.find(tx, customerRef);
        const regionId = await regionIdFor(tx, input.region);
        const now = deps.clock.now();
        const environment: Environment = {
          id: deps.ids.uuid(),
          name: input.name,
          tier: input.tier,
          customerId: customer.id,
          customer: customer.name,
          regionId,
          region: input.region,
          createdAt: now,
          updatedAt: now,
        };
        await uniqueOr409(
          () => inventoryStore.insertEnvironments(tx, [environment]),
          duplicateEnvironment(customer, input.name),
        );
        await deps.audit.append(tx, {
          ...ctx,
          action: 'environment.created',
          target: { type: 'environment', id: environment.id },
          details: environmentDetails(environment),
        });
        return environment;
      });
    },

    listEnvironments: async (
      customerRef: string,
      query: EnvironmentListQuery,
    ): Promise<Page<Environment>> => {
      const customer = await customers.find(db, customerRef);
      const regionId = query.region ? await regionIdFor(db, query.region) : undefined;
      const rows = await inventoryStore.listEnvironments(
        db,
        customer.id,
        { tier: query.tier, regionId },
        pageRequest(query),
      );
      return toPage(rows, query.limit);
    },

    getEnvironment: async (customerRef: string, ref: string): Promise<Environment> => {
      return environmentIn(db, await customers.find(db, customerRef), ref);
    },

    updateEnvironment: async (
      ctx: RequestContext,
      customerRef: string,
      ref: string,
      patch: UpdateEnvironmentInput,
    ): Promise<Environment> => {
      requireSomeField(patch, 'name, tier, region');
      return db.transaction().execute(async (tx) => {
        const customer = await customers.find(tx, customerRef);
        const current = await environmentIn(tx, customer, ref);
        const changed = changedFields(patch, current);
        if (changed.length === 0) return current;
        const regionId = patch.region === undefined ? undefined : await regionIdFor(tx, patch.region);
        await uniqueOr409(
          () =>
            inventoryStore.updateEnvironment(tx, current.id, {
              name: patch.name,
              tier: patch.tier,
              regionId,
              updatedAt: deps.clock.now(),
            }),
          duplicateEnvironment(customer, patch.name ?? current.name),
        );
        const updated = await environmentIn(tx, customer, current.id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'environment.updated',
          target: { type: 'environment', id: current.id },
          details: environmentUpdateDetails(updated, changed),
        });
        return updated;
      });
    },

    deleteEnvironment: async (ctx: RequestContext, customerRef: string, ref: string): Promise<void> => {
      await db.transaction().execute(async (tx) => {
        const customer = await customers.find(tx, customerRef);
        const current = await environmentIn(tx, customer, ref);
        const usage = describeUsage(await inventoryStore.environmentUsage(tx, current.id));
        if (usage) {
          throw new ConflictError(
            `Environment '${current.name}' of customer '${customer.name}' still holds ${usage}; ` +
              'delete them or move them to another environment first',
          );
        }
        await inventoryStore.deleteEnvironment(tx, current.id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'environment.deleted',
          target: { type: 'environment', id: current.id },
          details: { customer: customer.name, name: current.name },
        });
      });
    },
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;

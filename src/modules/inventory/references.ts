import type { Executor } from '../../platform/db/store.js';
import { assetStore } from './asset.store.js';
import { inventoryStore } from './inventory.store.js';

/**
 * Name → id look-ups for the objects an input refers to. A single API call resolves against the
 * store; a bulk import resolves against maps it loaded once (plus what it created itself).
 */
export interface References {
  regionId: (name: string) => Promise<string | undefined>;
  customerId: (name: string) => Promise<string | undefined>;
  environment: (customerId: string, name: string) => Promise<{ id: string; regionId: string } | undefined>;
  machineTypeId: (name: string) => Promise<string | undefined>;
  groupId: (name: string) => Promise<string | undefined>;
}

export function storeReferences(tx: Executor): References {
  return {
    regionId: async (name) => (await inventoryStore.regionsByNames(tx, [name]))[0]?.id,
    customerId: async (name) => (await inventoryStore.customersByNames(tx, [name]))[0]?.id,
    environment: async (customerId, name) => {
      const found = await inventoryStore.environmentByRef(tx, customerId, name);
      return found && found.name === name ? { id: found.id, regionId: found.regionId } : undefined;
    },
    machineTypeId: async (name) => (await inventoryStore.machineTypesByNames(tx, [name]))[0]?.id,
    groupId: async (name) => (await assetStore.groupsByNames(tx, [name]))[0]?.id,
  };
}

/** Mutable maps by name; an import adds to them as it creates things. */
export interface ReferenceMaps {
  regions: Map<string, string>;
  customers: Map<string, string>;
  /** Key `${customerId}/${environmentName}`. */
  environments: Map<string, { id: string; regionId: string }>;
  machineTypes: Map<string, string>;
  groups: Map<string, string>;
}

export const environmentKey = (customerId: string, name: string) => `${customerId}/${name}`;

export function mapReferences(maps: ReferenceMaps): References {
  return {
    regionId: async (name) => maps.regions.get(name),
    customerId: async (name) => maps.customers.get(name),
    environment: async (customerId, name) => maps.environments.get(environmentKey(customerId, name)),
    machineTypeId: async (name) => maps.machineTypes.get(name),
    groupId: async (name) => maps.groups.get(name),
  };
}

import type {
  Asset,
  AssetGroup,
  Customer,
  Environment,
  Jumpbox,
  MachineType,
  Region,
} from './inventory.schemas.js';

/**
 * What audit events say about inventory objects: one shape per entity, whether the change came through
 * its own route or in a bulk import. Never a credential, only whether one is stored.
 */

export const regionDetails = (r: Region) => ({ name: r.name, displayName: r.displayName });

export const customerDetails = (c: Customer) => ({ name: c.name, displayName: c.displayName });

export const machineTypeDetails = (m: MachineType) => ({ name: m.name, description: m.description });

export const assetGroupDetails = (g: AssetGroup) => ({
  name: g.name,
  description: g.description,
  memberCount: g.memberCount,
});

export const environmentDetails = (e: Environment) => ({
  customer: e.customer,
  name: e.name,
  tier: e.tier,
  region: e.region,
});

/** Where an asset is and what it is. */
export function assetDetails(asset: Asset): Record<string, unknown> {
  const where = {
    name: asset.name,
    kind: asset.kind,
    customer: asset.customer,
    environment: asset.environment,
    region: asset.region,
    machineType: asset.machineType,
    groups: asset.groups,
  };
  return asset.kind === 'server'
    ? { ...where, os: asset.os, address: asset.address }
    : {
        ...where,
        engine: asset.engine,
        host: asset.host,
        port: asset.port,
        hasAdminCredential: asset.hasAdminCredential,
      };
}

export const environmentUpdateDetails = (e: Environment, changed: string[]) => ({
  customer: e.customer,
  name: e.name,
  changed,
});

export const jumpboxDetails = (j: Jumpbox) => ({
  name: j.name,
  region: j.region,
  address: j.address,
  sourceCidrs: j.sourceCidrs,
});

/** An update names the fields that changed, and the old name when the name is one of them. */
export function updateDetails(
  current: { name: string },
  updated: { name: string },
  changed: string[],
): Record<string, unknown> {
  return {
    name: updated.name,
    changed,
    ...(changed.includes('name') ? { previousName: current.name } : {}),
  };
}

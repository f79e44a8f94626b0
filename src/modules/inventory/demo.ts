import { GatehouseError } from '../../platform/errors.js';
import type { RequestContext } from '../audit/audit.types.js';
import { importEntities, type ImportEntity } from './domain/import-source.js';
import type { ImportCounts, ImportRequest } from './import.schemas.js';
import type { InventoryService } from './inventory.service.js';

/**
 * A small fleet for demos and local tests: three customers in two regions, about twenty Debian
 * servers on documentation addresses (RFC 5737), and databases that point at this machine's real
 * PostgreSQL (trust auth) and MariaDB, so access can be provisioned end to end.
 */

const customers = [
  {
    name: 'acme',
    displayName: 'Acme Corporation',
    net: '192.0.2',
    production: 'eu-west-1',
    staging: 'eu-west-1',
  },
  { name: 'globex', displayName: 'Globex', net: '198.51.100', production: 'us-east-1', staging: 'us-east-1' },
  {
    name: 'initech',
    displayName: 'Initech',
    net: '203.0.113',
    production: 'eu-west-1',
    staging: 'us-east-1',
  },
] as const;

/** Servers per customer: [environment, role, count]. */
const serverPlan = [
  ['production', 'web', 3],
  ['production', 'worker', 2],
  ['staging', 'web', 1],
  ['staging', 'worker', 1],
] as const;

const databases = [
  ['acme', 'production', 'postgres'],
  ['acme', 'staging', 'postgres'],
  ['acme', 'production', 'mariadb'],
  ['globex', 'production', 'postgres'],
  ['globex', 'production', 'mariadb'],
  ['globex', 'staging', 'mariadb'],
  ['initech', 'production', 'postgres'],
  ['initech', 'production', 'mariadb'],
] as const;

const shortEnv = { production: 'prod', staging: 'stg' } as const;

export function demoFleet(): Required<Pick<ImportRequest, ImportEntity>> {
  const servers = customers.flatMap((customer) => {
    let host = 10;
    return serverPlan.flatMap(([environment, role, count]) =>
      Array.from({ length: count }, (_, i) => ({
        kind: 'server' as const,
        name: `${customer.name}-${shortEnv[environment]}-${role}-${i + 1}`,
        customer: customer.name,
        environment,
        machineType: role,
        os: 'Debian 12',
        address: `${customer.net}.${host++}`,
        labels: { role, 'managed-by': 'gatehouse-demo' },
        groups: [`${role}-tier`],
      })),
    );
  });
  // 3 customers × 7 servers = 21, less one: initech runs a single production worker
  const fleetServers = servers.filter((s) => s.name !== 'initech-prod-worker-2');
  const databaseAssets = databases.map(([customer, environment, engine]) => ({
    kind: 'database' as const,
    name: `${customer}-${shortEnv[environment]}-${engine === 'postgres' ? 'pg' : 'mariadb'}-1`,
    customer,
    environment,
    machineType: 'db-host',
    engine,
    host: '127.0.0.1',
    port: engine === 'postgres' ? 5432 : 3306,
    adminCredential: { username: engine === 'postgres' ? 'postgres' : 'root', password: '' },
    // the database accounts are granted on (`test` exists on this machine's servers); without it
    // read-only and read-write are refused rather than granted server-wide
    labels: { 'managed-by': 'gatehouse-demo', 'access.database': 'test' },
    groups: ['data-tier'],
  }));
  return {
    regions: [
      { name: 'eu-west-1', displayName: 'EU West (Ireland)' },
      { name: 'us-east-1', displayName: 'US East (N. Virginia)' },
    ],
    customers: customers.map(({ name, displayName }) => ({ name, displayName })),
    environments: customers.flatMap((c) => [
      { customer: c.name, name: 'production', tier: 'production', region: c.production },
      { customer: c.name, name: 'staging', tier: 'staging', region: c.staging },
    ]),
    machineTypes: [
      { name: 'web', description: 'Web front ends behind the load balancer' },
      { name: 'worker', description: 'Background job workers' },
      { name: 'db-host', description: 'Database servers' },
    ],
    assetGroups: [
      { name: 'web-tier', description: 'Servers that answer HTTP' },
      { name: 'worker-tier', description: 'Servers that run jobs' },
      { name: 'data-tier', description: 'Databases' },
    ],
    assets: [...fleetServers, ...databaseAssets],
    jumpboxes: [
      {
        name: 'jump-eu-1',
        region: 'eu-west-1',
        address: '192.0.2.254',
        // 127.0.0.2 lets tests on this machine connect as if from the jumpbox
        sourceCidrs: ['192.0.2.254/32', '127.0.0.2/32'],
        description: 'Operators reach EU assets from here',
      },
      {
        name: 'jump-us-1',
        region: 'us-east-1',
        address: '198.51.100.254',
        sourceCidrs: ['198.51.100.254/32'],
        description: 'Operators reach US assets from here',
      },
    ],
  };
}

async function exists(lookup: () => Promise<unknown>): Promise<boolean> {
  try {
    await lookup();
    return true;
  } catch (error) {
    if (error instanceof GatehouseError && error.code === 'not_found') return false;
    throw error;
  }
}

type Row = { name: string; customer?: string };

/**
 * Loads the demo fleet, skipping whatever already exists (by name), in one import. Running it again
 * changes nothing. Returns how many of each were created and how many were there already.
 */
export async function loadDemoFleet(
  inventory: InventoryService,
  ctx: RequestContext,
): Promise<{ created: ImportCounts; existing: ImportCounts }> {
  const fleet = demoFleet();
  const lookups: Record<ImportEntity, (row: Row) => Promise<unknown>> = {
    regions: (r) => inventory.getRegion(r.name),
    customers: (r) => inventory.getCustomer(r.name),
    environments: (r) => inventory.getEnvironment(r.customer!, r.name),
    machineTypes: (r) => inventory.getMachineType(r.name),
    assetGroups: (r) => inventory.getAssetGroup(r.name),
    assets: (r) => inventory.getAsset(r.name),
    jumpboxes: (r) => inventory.getJumpbox(r.name),
  };
  const missing: Partial<Record<ImportEntity, unknown[]>> = {};
  const existing = Object.fromEntries(importEntities.map((e) => [e, 0])) as ImportCounts;
  for (const entity of importEntities) {
    const rows: unknown[] = [];
    for (const row of fleet[entity] as Row[]) {
      if (await exists(() => lookups[entity](row))) existing[entity] += 1;
      else rows.push(row);
    }
    if (rows.length > 0) missing[entity] = rows;
  }
  if (Object.keys(missing).length === 0) {
    return { created: Object.fromEntries(importEntities.map((e) => [e, 0])) as ImportCounts, existing };
  }
  const result = await inventory.importInventory(ctx, { ...missing, mode: 'create', dryRun: false });
  return { created: result.created, existing };
}

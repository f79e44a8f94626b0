import {
  connectorFor,
  isConnectorEngine,
  type Connector,
  type ConnectorEngine,
  type DatabaseTarget,
} from '../../adapters/connectors/index.js';
import { GatehouseError, ValidationError } from '../../platform/errors.js';
import type { Asset, DatabaseAsset } from '../inventory/inventory.schemas.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import type { AccessTarget } from './domain/types.js';

/**
 * From an inventory asset to what access works with: the policy's view of the asset, the connector and
 * its target (admin credential opened here, only for the call), the jumpbox sources an account is bound
 * to, and the line an engineer types to connect.
 *
 * Two asset labels carry what the inventory has no field for yet:
 * - `access.database`: the database accounts are granted on (MySQL/MariaDB grants, PostgreSQL's
 *   schema-scoped defaults) and connect to. Without it the connectors refuse the default levels (they
 *   would be server-wide) and only levels mapped explicitly are granted.
 * - `access.admin-roles`: PostgreSQL only, comma-separated roles an `admin` account is a member of.
 */

export const DATABASE_LABEL = 'access.database';
export const ADMIN_ROLES_LABEL = 'access.admin-roles';

export type AccessInventory = Pick<
  InventoryService,
  'getAsset' | 'getEnvironment' | 'listJumpboxes' | 'listAssets' | 'revealAdminCredential'
>;

/** A connector as access uses it: the shared interface (the name stays for tests' stand-ins). */
export type AccessConnector = Connector;

/** The connector for an engine: those of the service's pooled connector set, or what a test injects. */
export type ConnectorLookup = (engine: ConnectorEngine) => AccessConnector;

/** Connectors opening an admin connection per call, unpooled (one-off tools); the service pools its own. */
export const oneOffConnectors: ConnectorLookup = (engine) => connectorFor(engine);
/** @deprecated the name before pooling; use the access service's own set, or `oneOffConnectors`. */
export const defaultConnectors = oneOffConnectors;

export type ProvisionableAsset = DatabaseAsset & { engine: ConnectorEngine };

/** Refuses, before anything is recorded, an asset Gatehouse cannot create accounts on. */
export function provisionable(asset: Asset): ProvisionableAsset {
  if (asset.kind !== 'database') {
    throw new ValidationError(
      `asset: '${asset.name}' is a server; temporary accounts can be granted on databases only for now`,
      { details: { field: 'asset' } },
    );
  }
  if (!isConnectorEngine(asset.engine)) {
    throw new ValidationError(
      `asset: '${asset.name}' is a ${asset.engine} database, and Gatehouse cannot grant access on ${asset.engine} yet`,
      { details: { field: 'asset' } },
    );
  }
  if (!asset.hasAdminCredential) {
    throw new GatehouseError(
      'precondition_failed',
      `asset '${asset.name}' has no admin credential, so no account can be created on it; ask an admin to set one`,
    );
  }
  return asset as ProvisionableAsset;
}

/** The asset as policy selectors see it. */
export async function accessTargetOf(inventory: AccessInventory, asset: Asset): Promise<AccessTarget> {
  const tier =
    asset.customer && asset.environment
      ? (await inventory.getEnvironment(asset.customer, asset.environment)).tier
      : null;
  return {
    id: asset.id,
    name: asset.name,
    kind: asset.kind,
    engine: asset.kind === 'database' ? asset.engine : null,
    customer: asset.customer,
    tier,
    groups: asset.groups,
  };
}

export function databaseOf(asset: Asset): string | undefined {
  return asset.labels[DATABASE_LABEL] || undefined;
}

/** The connector target for a database asset, with its admin credential opened for this call only. */
export async function databaseTargetOf(
  inventory: AccessInventory,
  asset: ProvisionableAsset,
): Promise<DatabaseTarget> {
  const admin = await inventory.revealAdminCredential(asset.id);
  const database = databaseOf(asset);
  // the asset id keys the pool of admin connections to it (a changed credential gets a new pool)
  const common = {
    assetId: asset.id,
    host: asset.host,
    port: asset.port,
    admin,
    ...(database ? { database } : {}),
  };
  if (asset.engine === 'postgres') {
    const roles = (asset.labels[ADMIN_ROLES_LABEL] ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    return { engine: 'postgres', ...common, ...(roles.length > 0 ? { levels: { admin: roles } } : {}) };
  }
  return { engine: asset.engine, ...common };
}

/** Source CIDRs of the jumpboxes in the asset's region, or of every jumpbox when its region has none. */
export async function jumpboxSources(inventory: AccessInventory, asset: Asset): Promise<string[]> {
  const collect = async (region?: string) => {
    const cidrs: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await inventory.listJumpboxes({ limit: 500, cursor, region });
      for (const jumpbox of page.items) cidrs.push(...jumpbox.sourceCidrs);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return [...new Set(cidrs)];
  };
  const regional = await collect(asset.region);
  const sources = regional.length > 0 ? regional : await collect();
  if (sources.length === 0) {
    throw new ValidationError(
      'no jumpbox is registered, and accounts are bound to the jumpboxes they are used from; ask an admin to add one',
    );
  }
  return sources;
}

/** What an engineer types on a jumpbox to connect; never the password (it is asked for). */
export function connectionLine(asset: ProvisionableAsset, account: string): string {
  const database = databaseOf(asset);
  if (asset.engine === 'postgres') {
    return `psql "host=${asset.host} port=${asset.port} user=${account} dbname=${database ?? 'postgres'}"`;
  }
  return `mariadb -h ${asset.host} -P ${asset.port} -u ${account} -p${database ? ` ${database}` : ''}`;
}

import {
  connectorFor,
  isConnectorEngine,
  type Connector,
  type ConnectorEngine,
  type ConnectorTarget,
  type DatabaseTarget,
  type LinuxTarget,
} from '../../adapters/connectors/index.js';
import { GatehouseError, ValidationError } from '../../platform/errors.js';
import type { Asset, DatabaseAsset, ServerAsset } from '../inventory/inventory.schemas.js';
import type { AccountTarget } from './domain/account-name.js';
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
 *
 * Linux servers (`os` naming a Linux distribution) go to the `linux-ssh` connector, through the
 * automation credential and host keys the inventory records for them. Two labels tune them:
 * - `access.sudo-commands`: `;`-separated commands an `operator` (the domain's `read-write`) may run
 *   with sudo, replacing the connector's default list.
 * - `access.home-on-revoke`: `archive` (default: a root-only tarball on the server) or `delete`.
 */

export const DATABASE_LABEL = 'access.database';
export const ADMIN_ROLES_LABEL = 'access.admin-roles';
export const SUDO_COMMANDS_LABEL = 'access.sudo-commands';
export const HOME_ON_REVOKE_LABEL = 'access.home-on-revoke';

/** Operating systems the linux-ssh connector serves, by the words their names carry. */
const LINUX_OS =
  /linux|debian|ubuntu|red ?hat|rhel|centos|rocky|alma|fedora|suse|amazon|oracle linux|alpine/i;

export type AccessInventory = Pick<
  InventoryService,
  | 'getAsset'
  | 'getEnvironment'
  | 'listJumpboxes'
  | 'listAssets'
  | 'revealAdminCredential'
  | 'revealAutomationCredential'
>;

/** A connector as access uses it: the shared interface (the name stays for tests' stand-ins). */
export type AccessConnector = Connector;

/** The connector for an engine: those of the service's pooled connector set, or what a test injects. */
export type ConnectorLookup = (engine: ConnectorEngine) => AccessConnector;

/** Connectors opening an admin connection per call, unpooled (one-off tools); the service pools its own. */
export const oneOffConnectors: ConnectorLookup = (engine) => connectorFor(engine);
/** @deprecated the name before pooling; use the access service's own set, or `oneOffConnectors`. */
export const defaultConnectors = oneOffConnectors;

export type ProvisionableDatabase = DatabaseAsset & { engine: Exclude<ConnectorEngine, 'linux-ssh'> };
/** A Linux server, with the connector that serves it named as databases name their engine. */
export type ProvisionableServer = ServerAsset & { engine: 'linux-ssh' };
export type ProvisionableAsset = ProvisionableDatabase | ProvisionableServer;

function provisionableServer(asset: ServerAsset): ProvisionableServer {
  const refuse = (why: string) =>
    new ValidationError(
      `asset: '${asset.name}' is a server; temporary accounts can be granted on databases only, and on Linux servers ${why}`,
      { details: { field: 'asset' } },
    );
  if (!LINUX_OS.test(asset.os)) throw refuse(`(this one runs ${asset.os})`);
  if (!asset.hasAutomationCredential || asset.hostKeys.length === 0) {
    throw refuse('whose automation credential and host keys are recorded; ask an admin to set them');
  }
  return { ...asset, engine: 'linux-ssh' };
}

/** Where the target listens: a database's host and port, a server's address and SSH port. */
export function endpointOf(asset: ProvisionableAsset): { host: string; port: number } {
  return asset.engine === 'linux-ssh'
    ? { host: asset.address, port: asset.sshPort }
    : { host: asset.host, port: asset.port };
}

/** The naming rules an account on the asset follows. */
export function accountTargetOf(asset: ProvisionableAsset): AccountTarget {
  return asset.engine === 'linux-ssh' ? 'linux' : asset.engine;
}

/** Refuses, before anything is recorded, an asset Gatehouse cannot create accounts on. */
export function provisionable(asset: Asset): ProvisionableAsset {
  if (asset.kind === 'server') return provisionableServer(asset);
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
  return asset as ProvisionableDatabase;
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

/** The connector target for an asset, with its credential opened for this call only. */
export async function targetOf(
  inventory: AccessInventory,
  asset: ProvisionableAsset,
): Promise<ConnectorTarget> {
  return asset.engine === 'linux-ssh' ? linuxTargetOf(inventory, asset) : databaseTargetOf(inventory, asset);
}

/** A Linux server's target: its address and SSH port, automation credential, recorded host keys. */
export async function linuxTargetOf(
  inventory: AccessInventory,
  asset: ProvisionableServer,
): Promise<LinuxTarget> {
  const sudo = (asset.labels[SUDO_COMMANDS_LABEL] ?? '')
    .split(';')
    .map((c) => c.trim())
    .filter(Boolean);
  const home = asset.labels[HOME_ON_REVOKE_LABEL];
  return {
    engine: 'linux-ssh',
    host: asset.address,
    port: asset.sshPort,
    automation: await inventory.revealAutomationCredential(asset.id),
    hostKeys: asset.hostKeys,
    ...(sudo.length > 0 ? { operatorCommands: sudo } : {}),
    ...(home === 'archive' || home === 'delete' ? { homeOnRevoke: home } : {}),
  };
}

/** The connector target for a database asset, with its admin credential opened for this call only. */
export async function databaseTargetOf(
  inventory: AccessInventory,
  asset: ProvisionableDatabase,
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
  if (asset.engine === 'linux-ssh') {
    return `ssh${asset.sshPort === 22 ? '' : ` -p ${asset.sshPort}`} ${account}@${asset.address}`;
  }
  const database = databaseOf(asset);
  if (asset.engine === 'postgres') {
    return `psql "host=${asset.host} port=${asset.port} user=${account} dbname=${database ?? 'postgres'}"`;
  }
  return `mariadb -h ${asset.host} -P ${asset.port} -u ${account} -p${database ? ` ${database}` : ''}`;
}

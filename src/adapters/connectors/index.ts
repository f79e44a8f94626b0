import { ValidationError } from '../../platform/errors.js';
import { createLinuxSshConnector } from './linux-ssh/linux-ssh-connector.js';
import { createMysqlConnector } from './mysql/mysql-connector.js';
import { pooledMySessions } from './mysql/session.js';
import { defaultPoolSettings, type PoolSettings } from './pools.js';
import { createPostgresConnector, type PostgresConnectorOptions } from './postgres/postgres-connector.js';
import { pooledPgSessions } from './postgres/session.js';
import { connectorEngines, type Connector, type ConnectorEngine } from './types.js';

export * from './types.js';
export {
  assertManagedUsername,
  databaseTargetSchema,
  managedUsernamePattern,
  maxUsernameLength,
  mysqlPrivileges,
} from './config.js';
export { hostPatternFor } from './mysql/host-patterns.js';
export { defaultPoolSettings, type PoolSettings } from './pools.js';
export type { PostgresConnectorOptions } from './postgres/postgres-connector.js';

export function isConnectorEngine(engine: string): engine is ConnectorEngine {
  return (connectorEngines as readonly string[]).includes(engine);
}

function assertEngine(engine: string): asserts engine is ConnectorEngine {
  if (!isConnectorEngine(engine)) {
    throw new ValidationError(
      `no connector for ${engine} databases; Gatehouse can grant access on ${connectorEngines.join(', ')}`,
    );
  }
}

/**
 * The connector for a database engine, opening an admin connection per call (tools, one-off checks);
 * a ValidationError for engines without one (yet). Long-running callers use `createConnectorSet`.
 */
export function connectorFor(engine: string): Connector {
  assertEngine(engine);
  switch (engine) {
    case 'postgres':
      return createPostgresConnector();
    case 'mysql':
    case 'mariadb':
      return createMysqlConnector();
    case 'linux-ssh':
      return createLinuxSshConnector();
  }
}

/** Connectors that share pooled admin connections per target, closed together. */
export interface ConnectorSet {
  connectorFor(engine: string): Connector;
  /** Admin-connection pools open now, draining ones included. */
  readonly openPools: number;
  /** Waits for running calls, then closes every admin connection; later calls fail as retryable. */
  close(): Promise<void>;
}

export function createConnectorSet(
  settings: PoolSettings = defaultPoolSettings,
  options: { postgres?: PostgresConnectorOptions } = {},
): ConnectorSet {
  const pgSessions = pooledPgSessions(settings);
  const mySessions = pooledMySessions(settings);
  const postgres = createPostgresConnector(pgSessions, options.postgres);
  const mysql = createMysqlConnector(mySessions);
  // one SSH connection per call: grants on a server are rare next to database work
  const linux = createLinuxSshConnector();
  return {
    connectorFor(engine) {
      assertEngine(engine);
      return engine === 'postgres' ? postgres : engine === 'linux-ssh' ? linux : mysql;
    },
    get openPools() {
      return pgSessions.openPools + mySessions.openPools;
    },
    async close() {
      await Promise.all([pgSessions.close(), mySessions.close()]);
    },
  };
}

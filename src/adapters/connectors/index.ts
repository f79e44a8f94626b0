import { ValidationError } from '../../platform/errors.js';
import { createMysqlConnector } from './mysql/mysql-connector.js';
import { createPostgresConnector } from './postgres/postgres-connector.js';
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

export function isConnectorEngine(engine: string): engine is ConnectorEngine {
  return (connectorEngines as readonly string[]).includes(engine);
}

/** The connector for a database engine; a ValidationError for engines without one (yet). */
export function connectorFor(engine: string): Connector {
  if (!isConnectorEngine(engine)) {
    throw new ValidationError(
      `no connector for ${engine} databases; Gatehouse can grant access on ${connectorEngines.join(', ')}`,
    );
  }
  switch (engine) {
    case 'postgres':
      return createPostgresConnector();
    case 'mysql':
    case 'mariadb':
      return createMysqlConnector();
  }
}

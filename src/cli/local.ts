import { existsSync } from 'node:fs';
import path from 'node:path';
import { createAuditLog, type AuditLog } from '../modules/audit/audit.service.js';
import { systemClock, systemIds } from '../platform/clock.js';
import type { Config } from '../platform/config.js';
import { createSigner, loadMasterKey } from '../platform/crypto.js';
import { openStore, type Store } from '../platform/db/store.js';
import { ConfigError } from '../platform/errors.js';

/**
 * Direct access to a store for the local admin commands (audit verify/export): no migrations, no
 * bootstrap, no new master key — they read what is there, which may be a copy restored for an audit.
 */
export async function openLocal(
  config: Config,
): Promise<{ store: Store; audit: AuditLog; close(): Promise<void> }> {
  const embeddedKey = path.join(config.dataDir, 'master.key');
  if (!config.masterKey && !config.masterKeyFile && !config.databaseUrl && !existsSync(embeddedKey)) {
    throw new ConfigError(
      `No embedded store in ${config.dataDir} (no master.key there): set GATEHOUSE_DATA_DIR, or DATABASE_URL for a PostgreSQL store`,
    );
  }
  const { key } = loadMasterKey({
    masterKey: config.masterKey,
    masterKeyFile: config.masterKeyFile ?? (config.databaseUrl ? undefined : embeddedKey),
  });
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const audit = createAuditLog({
    clock: systemClock,
    ids: systemIds(),
    signer: createSigner(key),
    checkpointEvery: config.audit.checkpointEvery,
    checkpointMinutes: config.audit.checkpointMinutes,
  });
  return { store, audit, close: () => store.close() };
}

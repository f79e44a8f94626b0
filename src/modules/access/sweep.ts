import type { Store } from '../../platform/db/store.js';
import { errorSummary } from '../../platform/jobs/job-types.js';
import type { Logger } from '../../platform/logger.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import type { SweepReport } from './access.schemas.js';
import { grantStore } from './grant.store.js';
import {
  endpointOf,
  provisionable,
  targetOf,
  type AccessInventory,
  type ConnectorLookup,
  type ProvisionableAsset,
} from './targets.js';

/**
 * The orphan sweeper: on every database and Linux server asset Gatehouse can reach, any account with the Gatehouse
 * prefix that no live grant accounts for is removed and reported (`access.orphan_removed`). It catches
 * what the lease reaper cannot: accounts made by hand, and ones a restored backup no longer knows.
 *
 * Assets are swept per server (engine, host and port): accounts are server-wide, and several assets
 * (databases) on one server see the same accounts, so an account is live if a grant on any of them
 * accounts for it.
 *
 * Accounts are listed on the target *before* the live grants are read: a grant's row is committed before
 * its account is created, so an account that shows up in the listing is matched by a grant that is
 * already visible; a grant that started since then had no account to list.
 */

export interface SweepDeps {
  store: Pick<Store, 'db'>;
  audit: AuditAppender;
  inventory: AccessInventory;
  connectors: ConnectorLookup;
  logger: Logger;
}

/** Every asset accounts can be created on: databases with a connector, Linux servers set up for it. */
async function* provisionableAssets(inventory: AccessInventory): AsyncGenerator<ProvisionableAsset> {
  for (const kind of ['database', 'server'] as const) {
    let cursor: string | undefined;
    do {
      const page = await inventory.listAssets({ kind, limit: 500, cursor });
      for (const asset of page.items) {
        try {
          yield provisionable(asset);
        } catch {
          // not an asset Gatehouse manages accounts on (yet): nothing to sweep
        }
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}

export function createSweeper(deps: SweepDeps) {
  const { db } = deps.store;

  return async function sweep(ctx: RequestContext, prefix = 'gh_'): Promise<SweepReport> {
    const report: SweepReport = { assets: 0, accounts: 0, removed: [], errors: [] };
    const servers = new Map<string, ProvisionableAsset[]>();
    for await (const asset of provisionableAssets(deps.inventory)) {
      const { host, port } = endpointOf(asset);
      const family = asset.engine === 'mariadb' ? 'mysql' : asset.engine;
      const key = `${family}|${host}|${port}`;
      servers.set(key, [...(servers.get(key) ?? []), asset]);
      report.assets += 1;
    }
    for (const assets of servers.values()) {
      const asset = assets[0]!;
      const names = assets.map((a) => a.name);
      try {
        const connector = deps.connectors(asset.engine);
        const target = await targetOf(deps.inventory, asset);
        const accounts = await connector.listManagedAccounts(target, prefix);
        report.accounts += accounts.length;
        const live = await grantStore.liveAccountNames(
          db,
          assets.map((a) => a.id),
        );
        for (const account of accounts.filter((a) => !live.has(a.username))) {
          const { existed } = await connector.revokeAccount(target, account.username);
          if (!existed) continue;
          await db.transaction().execute((tx) =>
            deps.audit.append(tx, {
              ...ctx,
              action: 'access.orphan_removed',
              target: { type: 'asset', id: asset.id },
              details: {
                asset: asset.name,
                ...(names.length > 1 ? { sameServerAs: names.slice(1) } : {}),
                account: account.username,
                ...(account.hosts ? { hosts: account.hosts } : {}),
                ...(account.validUntil ? { validUntil: account.validUntil } : {}),
              },
            }),
          );
          report.removed.push({ asset: asset.name, account: account.username });
        }
      } catch (error) {
        report.errors.push({ asset: names.join(', '), message: errorSummary(error) });
      }
    }
    if (report.removed.length > 0 || report.errors.length > 0) {
      deps.logger.warn(
        { removed: report.removed, errors: report.errors.length },
        'orphan sweep removed accounts or could not check some assets',
      );
    }
    return report;
  };
}

export type Sweeper = ReturnType<typeof createSweeper>;

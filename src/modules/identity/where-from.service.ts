import type { Store } from '../../platform/db/store.js';
import { ForbiddenError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import { addressIn, networkList } from './domain/networks.js';

/** What "where from" needs from the inventory: its jumpboxes' source networks. */
export interface JumpboxSource {
  listJumpboxes(query: {
    limit: number;
    cursor?: string;
  }): Promise<{ items: { sourceCidrs: string[] }[]; nextCursor: string | null }>;
}

export interface WhereFromDeps {
  store: Pick<Store, 'db'>;
  audit: AuditAppender;
  jumpboxes: JumpboxSource;
  /** Networks the back-office may be used from (config auth.allowedNetworks). */
  allowedNetworks: readonly string[];
  /** Networks that may scrape /metrics (config auth.metricsNetworks). */
  metricsNetworks: readonly string[];
}

/**
 * Where a caller may call from. Secret material (a revealed credential, anything marked
 * `config.secret`) only from a jumpbox's source network; the rest of the back-office from the
 * configured networks or a jumpbox; metrics from their own networks.
 */
export function createWhereFromService(deps: WhereFromDeps) {
  const allowed = networkList(deps.allowedNetworks);
  const metrics = networkList(deps.metricsNetworks);

  async function jumpboxCidrs(): Promise<string[]> {
    const cidrs: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.jumpboxes.listJumpboxes({ limit: 500, ...(cursor ? { cursor } : {}) });
      for (const jumpbox of page.items) cidrs.push(...jumpbox.sourceCidrs);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return cidrs;
  }

  return {
    /** Refuses a caller outside the back-office networks and the jumpboxes (logged, not audited: scanners). */
    async checkBackOffice(address: string): Promise<void> {
      if (addressIn(address, allowed)) return;
      if (addressIn(address, await jumpboxCidrs())) return;
      throw new ForbiddenError(
        'Gatehouse is not used from this network: connect through the VPN or a jumpbox (auth.allowedNetworks)',
      );
    },

    checkMetrics(address: string): void {
      if (!addressIn(address, metrics)) {
        throw new ForbiddenError('Metrics are served only to the networks in auth.metricsNetworks');
      }
    },

    /** Refuses secret material outside the jumpboxes, with an audit event naming the caller and route. */
    async checkSecret(ctx: RequestContext, route: string): Promise<void> {
      const source = ctx.sourceIp ?? '';
      if (source && addressIn(source, await jumpboxCidrs())) return;
      await deps.store.db.transaction().execute((tx) =>
        deps.audit.append(tx, {
          ...ctx,
          action: 'auth.secret-refused-outside-jumpbox',
          details: { route, sourceIp: source },
        }),
      );
      throw new ForbiddenError(
        'Secret material is shown only on a jumpbox: run this from a jumpbox registered in the inventory',
      );
    },
  };
}

export type WhereFromService = ReturnType<typeof createWhereFromService>;

import type { Store } from '../../platform/db/store.js';
import { errorSummary } from '../../platform/jobs/job-types.js';
import type { Logger } from '../../platform/logger.js';
import type { AuditLog } from './audit.service.js';

/**
 * The background sealer: chains committed audit events soon after their transactions commit, so the
 * log is sealed even when nobody reads it (readers seal what waits themselves, see `sealWaiting`).
 * Why sealing happens after commit: docs/decisions/0015-*.md.
 *
 * - Every append in this process rings it. The ring comes before the appending transaction commits:
 *   on the embedded store that is enough (PGlite has one connection, so the sealing transaction runs
 *   after the appending one has ended); on a PostgreSQL server turns run `COMMIT_GRACE_MS` and `SLOW_COMMIT_MS`
 *   later, and whatever committed after those is sealed by the next ring, a reader, or the timer.
 * - Appends do not NOTIFY (migration 0018: it would serialise their commits); events of other nodes
 *   are sealed by those nodes' sealers, and any node's readers.
 * - Any number of nodes may run one: a turn takes the sealer lock with a try-lock, and leaves the work
 *   to the node that holds it (looking again `BUSY_RETRY_MS` later).
 * - A timer (`intervalMs`) is the backstop, and the first turn runs at start: events committed before
 *   a crash are sealed then.
 */

/** When another node held the sealer lock: look again this soon, in case it missed a late commit. */
const BUSY_RETRY_MS = 50;
/** On a server store, how long after an append its turn runs: time for the transaction to commit. */
const COMMIT_GRACE_MS = 20;
/** …and once more this long after, for a transaction that took longer to commit. */
const SLOW_COMMIT_MS = 250;

export interface AuditSealerDeps {
  store: Pick<Store, 'db' | 'kind'>;
  audit: Pick<AuditLog, 'trySeal' | 'onAppended'>;
  logger: Logger;
  intervalMs: number;
}

export interface AuditSealer {
  stop(): Promise<void>;
}

export function startAuditSealer(deps: AuditSealerDeps): AuditSealer {
  const { logger } = deps;
  let due = false;
  let stopped = false;
  let running: Promise<void> | undefined;
  let retry: NodeJS.Timeout | undefined;

  async function turns(): Promise<void> {
    while (due && !stopped) {
      due = false;
      try {
        const outcome = await deps.audit.trySeal(deps.store);
        if (outcome === 'busy' && !retry) {
          retry = setTimeout(() => {
            retry = undefined;
            wake();
          }, BUSY_RETRY_MS);
          retry.unref();
        }
      } catch (error) {
        // the events stay unsealed, and so durable: the next turn (or a reader) seals them
        logger.warn({ err: errorSummary(error) }, 'could not seal audit events; will retry');
      }
    }
  }

  function wake(): void {
    if (stopped) return;
    due = true;
    running ??= turns().finally(() => {
      running = undefined;
      if (due && !stopped) wake();
    });
  }

  const timer = setInterval(wake, deps.intervalMs);
  timer.unref();
  // on a server store: a turn shortly after an append, and one more a little later for a slow commit
  let soon: NodeJS.Timeout | undefined;
  let later: NodeJS.Timeout | undefined;
  const ringSoon = () => {
    if (stopped) return;
    soon ??= setTimeout(() => {
      soon = undefined;
      wake();
    }, COMMIT_GRACE_MS).unref();
    later ??= setTimeout(() => {
      later = undefined;
      wake();
    }, SLOW_COMMIT_MS).unref();
  };
  const unhook = deps.audit.onAppended(deps.store.kind === 'pglite' ? wake : ringSoon);
  wake();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (retry) clearTimeout(retry);
      if (soon) clearTimeout(soon);
      if (later) clearTimeout(later);
      unhook();
      await running;
    },
  };
}

import pg from 'pg';
import type { Store } from '../../platform/db/store.js';
import { errorSummary } from '../../platform/jobs/job-types.js';
import type { Logger } from '../../platform/logger.js';
import type { AuditLog } from './audit.service.js';

/**
 * The background sealer: chains committed audit events soon after their transactions commit, so the
 * log is sealed even when nobody reads it (readers seal what waits themselves, see `sealWaiting`).
 * Why sealing happens after commit: docs/decisions/0015-*.md.
 *
 * - On a PostgreSQL server, appends send `NOTIFY gatehouse_audit` (migration 0017), delivered at
 *   commit to the sealer of every node, each LISTENing on a connection of its own. One of them takes
 *   the sealer lock (a try-lock: the others leave it to that one) and seals.
 * - On the embedded store the log rings it in process: PGlite has one connection, so the sealing
 *   transaction runs after the appending one has committed or rolled back.
 * - A timer (`intervalMs`) is the backstop for anything not heard, and the first turn runs at start:
 *   events committed before a crash are sealed then.
 */

export const AUDIT_CHANNEL = 'gatehouse_audit';
/** When another node held the sealer lock: look again this soon, in case it missed a late commit. */
const BUSY_RETRY_MS = 50;

export interface AuditSealerDeps {
  store: Pick<Store, 'db' | 'kind'>;
  audit: Pick<AuditLog, 'trySeal' | 'onAppended'>;
  logger: Logger;
  /** The server store's URL, to LISTEN on; undefined on the embedded store. */
  databaseUrl?: string | undefined;
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
  const unhook = deps.store.kind === 'pglite' ? deps.audit.onAppended(wake) : () => undefined;
  const listener = deps.databaseUrl ? listenForAppends(deps.databaseUrl, wake, logger) : undefined;
  wake();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (retry) clearTimeout(retry);
      unhook();
      await listener?.close();
      await running;
    },
  };
}

/**
 * LISTENs on `gatehouse_audit` on a connection of its own; a lost connection is re-opened with a
 * growing delay (up to 30 s) while the timer carries on.
 */
function listenForAppends(databaseUrl: string, wake: () => void, logger: Logger): { close(): Promise<void> } {
  let client: pg.Client | undefined;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const retry = () => {
    if (closed || retryTimer) return;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(failures, 7));
    failures += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    retryTimer.unref();
  };

  async function connect(): Promise<void> {
    const next = new pg.Client({ connectionString: databaseUrl, application_name: 'gatehouse-audit' });
    client = next;
    next.on('error', (error) => {
      logger.warn({ err: errorSummary(error) }, 'lost the audit notification connection; reconnecting');
      void next.end().catch(() => undefined);
      if (client === next) client = undefined;
      retry();
    });
    next.on('notification', (message) => {
      if (message.channel === AUDIT_CHANNEL) wake();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${AUDIT_CHANNEL}`);
      failures = 0;
      // what was appended while nobody listened waits now
      wake();
      if (closed) await next.end().catch(() => undefined);
    } catch (error) {
      logger.warn({ err: errorSummary(error) }, 'could not listen for audit appends; sealing on a timer');
      await next.end().catch(() => undefined);
      if (client === next) client = undefined;
      retry();
    }
  }

  void connect();
  return {
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await client?.end().catch(() => undefined);
      client = undefined;
    },
  };
}

import { createHmac, randomBytes } from 'node:crypto';
import { TransientError } from '../../platform/errors.js';

/**
 * Admin connections kept open per target, so that a grant or a revoke does not pay for a new
 * connection (TCP, authentication, backend start) each time.
 *
 * One pool per target key (the asset's id, or the address when a caller names no asset), tagged with a
 * fingerprint of everything the connections were opened with — address, database, admin credential. A
 * target whose fingerprint changes (a rotated admin password) gets a new pool at once; the old one is
 * retired: it takes no new work and is closed as soon as the work still running on it is done. The
 * fingerprint is an HMAC under a key of this process only, so it says nothing about the credential.
 */

export interface PoolSettings {
  /** Admin connections at most per target (the pool's bound; callers beyond it wait their turn). */
  maxConnections: number;
  /** An admin connection unused this long is closed. */
  idleMs: number;
}

export const defaultPoolSettings: PoolSettings = { maxConnections: 8, idleMs: 30_000 };

export interface PoolIdentity {
  /** Which target: one pool per key at a time. */
  key: string;
  /** Everything the connections depend on; a change retires the pool. */
  config: unknown;
}

export interface KeyedPoolsOptions<Target, Pool> {
  identify(target: Target): PoolIdentity;
  open(target: Target): Pool;
  end(pool: Pool): Promise<void>;
}

export interface KeyedPools<Target, Pool> {
  /** Runs `work` on the target's current pool (opened on first use, replaced when its fingerprint changed). */
  use<T>(target: Target, work: (pool: Pool) => Promise<T>): Promise<T>;
  /**
   * Retires `pool` if it is still the target's current one (its connections broke: a target restart),
   * so the next `use` opens a fresh pool.
   */
  retire(target: Target, pool: Pool): void;
  /** Pools currently open (retired ones still draining included). */
  readonly open: number;
  /** Takes no more work, waits for running work, and closes every pool. */
  close(): Promise<void>;
}

interface Entry<Pool> {
  fingerprint: string;
  pool: Pool;
  active: number;
  retired: boolean;
  ended?: Promise<void>;
}

export function createKeyedPools<Target, Pool>(
  options: KeyedPoolsOptions<Target, Pool>,
): KeyedPools<Target, Pool> {
  const secret = randomBytes(32);
  const fingerprintOf = (config: unknown) =>
    createHmac('sha256', secret).update(JSON.stringify(config)).digest('base64url');
  const current = new Map<string, Entry<Pool>>();
  const draining = new Set<Entry<Pool>>();
  let closed = false;

  function end(entry: Entry<Pool>): Promise<void> {
    entry.ended ??= options
      .end(entry.pool)
      .catch(() => undefined)
      .finally(() => draining.delete(entry));
    return entry.ended;
  }

  function retireEntry(key: string, entry: Entry<Pool>): void {
    if (entry.retired) return;
    entry.retired = true;
    if (current.get(key) === entry) current.delete(key);
    draining.add(entry);
    if (entry.active === 0) void end(entry);
  }

  function entryFor(target: Target): Entry<Pool> {
    const { key, config } = options.identify(target);
    const fingerprint = fingerprintOf(config);
    const existing = current.get(key);
    if (existing && existing.fingerprint === fingerprint) return existing;
    if (existing) retireEntry(key, existing);
    const entry: Entry<Pool> = { fingerprint, pool: options.open(target), active: 0, retired: false };
    current.set(key, entry);
    return entry;
  }

  return {
    async use(target, work) {
      if (closed) {
        throw new TransientError(
          'target_unavailable',
          'Gatehouse is shutting down and opens no more target connections; the work will be retried',
        );
      }
      const entry = entryFor(target);
      entry.active += 1;
      try {
        return await work(entry.pool);
      } finally {
        entry.active -= 1;
        if (entry.retired && entry.active === 0) void end(entry);
      }
    },

    retire(target, pool) {
      const { key } = options.identify(target);
      const entry = current.get(key);
      if (entry && entry.pool === pool) retireEntry(key, entry);
    },

    get open() {
      return current.size + draining.size;
    },

    async close() {
      closed = true;
      for (const [key, entry] of [...current]) retireEntry(key, entry);
      // retired pools still running work end when it finishes; wait for those too
      while (draining.size > 0) {
        const pending = [...draining];
        await Promise.all(
          pending.map((entry) =>
            entry.active === 0 ? end(entry) : new Promise((resolve) => setTimeout(resolve, 20)),
          ),
        );
      }
    },
  };
}

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

/**
 * What one try of pooled work came to. `broken`: the connection broke under it, so its pool is retired;
 * `retry`: and the connection had been used before, so a fresh one may take the work once more.
 */
export type PooledAttempt<T> =
  { ok: true; value: T } | { ok: false; error: unknown; broken: boolean; retry: boolean };

/** Where a connector gets its admin sessions: `run` opens or borrows one for `work` and gives it back. */
export interface Sessions<Target, Session> {
  run<T>(target: Target, action: string, work: (session: Session) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Admin sessions pooled per target. */
export interface PooledSessions<Target, Session> extends Sessions<Target, Session> {
  /** Pools currently open (retired ones still draining included). */
  readonly openPools: number;
}

export interface PooledSessionsOptions<Target, Pool, Session, Fail> extends KeyedPoolsOptions<Target, Pool> {
  /** How a driver error becomes a Gatehouse error for this target and action. */
  failureFor(target: Target, action: string): Fail;
  /** Takes one connection from `pool`, runs `work` in a session over it and gives it back (or destroys it). */
  attempt<T>(pool: Pool, fail: Fail, work: (session: Session) => Promise<T>): Promise<PooledAttempt<T>>;
}

/**
 * Pooled sessions over keyed pools: a connection that breaks under the work retires its pool (its
 * other idle connections went the same way, most likely); when it was a reused one, the work runs once
 * more on a fresh connection — every connector operation converges, so running it again is safe. A
 * connection opened for this very call that breaks is the target going away: reported, not retried.
 */
export function createPooledSessions<Target, Pool, Session, Fail>(
  options: PooledSessionsOptions<Target, Pool, Session, Fail>,
): PooledSessions<Target, Session> {
  const pools = createKeyedPools<Target, Pool>(options);
  return {
    async run(target, action, work) {
      const fail = options.failureFor(target, action);
      for (let round = 1; ; round++) {
        const outcome = await pools.use(target, async (pool) => {
          const attempt = await options.attempt(pool, fail, work);
          if (!attempt.ok && attempt.broken) pools.retire(target, pool);
          return attempt;
        });
        if (outcome.ok) return outcome.value;
        if (!outcome.retry || round >= 2) throw outcome.error;
      }
    },
    close: () => pools.close(),
    get openPools() {
      return pools.open;
    },
  };
}

/** Opens a one-off session, runs `work` and always closes it. */
export async function withSession<Session extends { close(): Promise<void> }, T>(
  open: Promise<Session>,
  work: (session: Session) => Promise<T>,
): Promise<T> {
  const session = await open;
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

import { describe, expect, it } from 'vitest';
import { createKeyedPools, createPooledSessions } from '../../src/adapters/connectors/pools.js';
import { GatehouseError } from '../../src/platform/errors.js';

/** Pools as the registry sees them: which exist, which were ended, and when. */
interface FakePool {
  id: number;
  password: string;
  ended: boolean;
}
interface FakeTarget {
  assetId: string;
  password: string;
}

function registry() {
  const opened: FakePool[] = [];
  const pools = createKeyedPools<FakeTarget, FakePool>({
    identify: (t) => ({ key: t.assetId, config: { password: t.password } }),
    open: (t) => {
      const pool = { id: opened.length + 1, password: t.password, ended: false };
      opened.push(pool);
      return pool;
    },
    end: async (pool) => {
      pool.ended = true;
    },
  });
  return { pools, opened };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('keyed connection pools', () => {
  it('reuses one pool per target while its configuration is unchanged', async () => {
    const { pools, opened } = registry();
    const a = { assetId: 'a', password: 'one' };
    const seen = [await pools.use(a, async (p) => p.id), await pools.use({ ...a }, async (p) => p.id)];
    expect(seen).toEqual([1, 1]);
    expect(await pools.use({ assetId: 'b', password: 'one' }, async (p) => p.id)).toBe(2);
    expect(opened).toHaveLength(2);
    expect(pools.open).toBe(2);
  });

  it('a changed credential gets a new pool at once; the old one ends when its running work is done', async () => {
    const { pools, opened } = registry();
    const running = deferred();
    const old = pools.use({ assetId: 'a', password: 'one' }, async (p) => {
      await running.promise;
      return p.password;
    });
    const rotated = await pools.use({ assetId: 'a', password: 'two' }, async (p) => p.password);
    expect(rotated).toBe('two');
    expect(opened.map((p) => [p.password, p.ended])).toEqual([
      ['one', false],
      ['two', false],
    ]);
    running.resolve();
    expect(await old).toBe('one');
    await flush();
    expect(opened[0]!.ended).toBe(true);
    expect(opened[1]!.ended).toBe(false);
    expect(await pools.use({ assetId: 'a', password: 'two' }, async (p) => p.id)).toBe(2);
  });

  it('a retired pool (its connections broke) is replaced on the next use', async () => {
    const { pools, opened } = registry();
    const a = { assetId: 'a', password: 'one' };
    await pools.use(a, async (p) => pools.retire(a, p));
    await flush();
    expect(opened[0]!.ended).toBe(true);
    expect(await pools.use(a, async (p) => p.id)).toBe(2);
    // retiring a pool that is no longer current leaves the current one alone
    pools.retire(a, opened[0]!);
    expect(await pools.use(a, async (p) => p.id)).toBe(2);
  });

  it('close waits for running work, ends every pool, and refuses new work as retryable', async () => {
    const { pools, opened } = registry();
    const running = deferred();
    const work = pools.use({ assetId: 'a', password: 'one' }, () => running.promise);
    await pools.use({ assetId: 'b', password: 'one' }, async () => undefined);
    let closed = false;
    const closing = pools.close().then(() => (closed = true));
    await flush();
    expect(opened[1]!.ended).toBe(true);
    expect(opened[0]!.ended).toBe(false);
    expect(closed).toBe(false);
    running.resolve();
    await work;
    await closing;
    expect(opened.every((p) => p.ended)).toBe(true);
    expect(pools.open).toBe(0);
    const refused = await pools
      .use({ assetId: 'a', password: 'one' }, async () => 1)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatehouseError);
    expect(refused).toMatchObject({ code: 'target_unavailable', retryable: true });
  });

  it('a failing piece of work still releases its pool for draining', async () => {
    const { pools, opened } = registry();
    const a = { assetId: 'a', password: 'one' };
    await expect(
      pools.use(a, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await pools.use({ ...a, password: 'two' }, async () => undefined);
    await flush();
    expect(opened[0]!.ended).toBe(true);
  });
});

/** A pool whose first connection is fresh and every later one reused; a `broken` error breaks it. */
interface SessionPool {
  id: number;
  served: number;
  ended: boolean;
}

function sessions(options: { alwaysReused?: boolean } = {}) {
  const opened: SessionPool[] = [];
  const actions: string[] = [];
  const pooled = createPooledSessions<FakeTarget, SessionPool, { pool: number }, string>({
    identify: (t) => ({ key: t.assetId, config: { password: t.password } }),
    open: () => {
      const pool = { id: opened.length + 1, served: 0, ended: false };
      opened.push(pool);
      return pool;
    },
    end: async (pool) => {
      pool.ended = true;
    },
    failureFor: (t, action) => {
      actions.push(`${t.assetId}: ${action}`);
      return action;
    },
    async attempt(pool, fail, work) {
      const reused = pool.served++ > 0 || Boolean(options.alwaysReused);
      try {
        return { ok: true, value: await work({ pool: pool.id }) };
      } catch (error) {
        const broken = error instanceof Error && error.message === 'broken';
        return {
          ok: false,
          error: new Error(`${fail}: ${(error as Error).message}`),
          broken,
          retry: broken && reused,
        };
      }
    },
  });
  return { pooled, opened, actions };
}

describe('pooled sessions', () => {
  const a = { assetId: 'a', password: 'one' };

  it('runs the work again on a fresh pool when a reused connection turns out broken', async () => {
    const { pooled, opened, actions } = sessions();
    expect(await pooled.run(a, 'creating an account', async (s) => s.pool)).toBe(1);
    const ran: number[] = [];
    const value = await pooled.run(a, 'revoking an account', async (s) => {
      ran.push(s.pool);
      if (s.pool === 1) throw new Error('broken');
      return 'done';
    });
    expect(value).toBe('done');
    expect(ran).toEqual([1, 2]);
    await flush();
    expect(opened.map((p) => p.ended)).toEqual([true, false]);
    expect(pooled.openPools).toBe(1);
    expect(actions).toEqual(['a: creating an account', 'a: revoking an account']);
  });

  it('reports a fresh connection that breaks (the target going away), retiring its pool', async () => {
    const { pooled, opened } = sessions();
    let runs = 0;
    await expect(
      pooled.run(a, 'creating an account', async () => {
        runs++;
        throw new Error('broken');
      }),
    ).rejects.toThrow('creating an account: broken');
    expect(runs).toBe(1);
    await flush();
    expect(opened[0]!.ended).toBe(true);
    expect(pooled.openPools).toBe(0);
  });

  it('tries twice at most, even when every connection it gets is a reused one that breaks', async () => {
    const { pooled, opened } = sessions({ alwaysReused: true });
    let runs = 0;
    await expect(
      pooled.run(a, 'granting', async () => {
        runs++;
        throw new Error('broken');
      }),
    ).rejects.toThrow('granting: broken');
    expect(runs).toBe(2);
    expect(opened.length).toBe(2);
  });

  it('keeps the pool when the work failed but the connection did not, and close ends it', async () => {
    const { pooled, opened } = sessions({ alwaysReused: true });
    let runs = 0;
    await expect(
      pooled.run(a, 'granting', async () => {
        runs++;
        throw new Error('permission denied');
      }),
    ).rejects.toThrow('granting: permission denied');
    expect(runs).toBe(1);
    await pooled.run(a, 'granting', async () => undefined);
    expect(opened.map((p) => p.ended)).toEqual([false]);
    await pooled.close();
    expect(opened.map((p) => p.ended)).toEqual([true]);
    expect(pooled.openPools).toBe(0);
  });
});

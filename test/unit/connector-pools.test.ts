import { describe, expect, it } from 'vitest';
import { createKeyedPools } from '../../src/adapters/connectors/pools.js';
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

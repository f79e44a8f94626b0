import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/platform/db/store.js';

/**
 * A benchmark group: one file in bench/groups/ whose default export this is. `run` returns figures
 * under short dotted names ('append_per_s.postgres'); the runner prefixes them with the group's name.
 */
export interface BenchGroup {
  name: string;
  /** Figures are named `<prefix>.<key>`; the group's name by default (linux reports as access.linux_…). */
  prefix?: string;
  /** Figures the project has committed to, by the same short names as the results. */
  targets?: Record<string, Target>;
  run(ctx: BenchContext): Promise<Record<string, number>>;
}

export type Target = { atLeast: number } | { atMost: number };

export interface BenchContext {
  /** A progress line on stderr (stdout carries only the result). */
  log(message: string): void;
  /** The PostgreSQL server to benchmark against: an administrative URL on loopback. */
  postgresUrl: string;
  /** A fresh, empty database on that server, dropped at the end of the run (or on Ctrl-C). */
  scratchDatabase(): Promise<ScratchDatabase>;
  /** Registers clean-up to run when the group ends, however it ends. */
  defer(cleanup: () => Promise<void>): void;
}

export interface ScratchDatabase {
  url: string;
  open(options?: { maxConnections?: number }): Promise<Store>;
}

export const SCRATCH_PREFIX = 'gh_bench_';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The benchmark talks to nothing but this machine. */
export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host)) {
    throw new Error(`The benchmark only talks to loopback; ${host} is not (set GATEHOUSE_BENCH_PG_URL)`);
  }
}

export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function createScratchDatabase(adminUrl: string): Promise<{
  database: ScratchDatabase;
  drop: () => Promise<void>;
}> {
  const name = `${SCRATCH_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = await openStore({ databaseUrl: adminUrl, maxConnections: 1 });
  await admin.exec(`CREATE DATABASE ${quoteIdent(name)}`);
  const url = databaseUrl(adminUrl, name);
  const stores: Store[] = [];
  return {
    database: {
      url,
      open: async (options = {}) => {
        const store = await openStore({ databaseUrl: url, maxConnections: options.maxConnections });
        stores.push(store);
        return store;
      },
    },
    drop: async () => {
      for (const store of stores.splice(0)) await store.close();
      try {
        await admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      } finally {
        await admin.close();
      }
    },
  };
}

/** Drops scratch databases left by earlier runs that died (their process is gone). */
export async function dropStaleScratchDatabases(adminUrl: string, log: (m: string) => void): Promise<void> {
  const admin = await openStore({ databaseUrl: adminUrl, maxConnections: 1 });
  try {
    const { rows } = await sql<{ datname: string }>`
      SELECT datname FROM pg_database WHERE datname LIKE ${SCRATCH_PREFIX + '%'}`.execute(admin.db);
    for (const { datname } of rows) {
      const pid = Number(/^gh_bench_(\d+)_/.exec(datname)?.[1]);
      if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
      log(`dropping stale scratch database ${datname}`);
      await admin.exec(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
    }
  } finally {
    await admin.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Milliseconds `fn` takes. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

export const perSecond = (count: number, ms: number): number => Math.round((count * 1000) / ms);

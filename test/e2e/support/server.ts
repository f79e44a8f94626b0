import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import { inject } from 'vitest';
import { openTestApp, type TestApp, type TestAppOptions } from '../../support/app.js';
import { adminDatabaseUrl } from '../../support/pg-admin.js';
import { createTestStore, type TestStore } from '../../support/stores.js';

/**
 * A real Gatehouse server for the browser: the current web build, HTTP on a free loopback port, on a
 * scratch database of its own on the PostgreSQL server at 127.0.0.1:5432 (dropped at the end).
 */
export interface E2eServer {
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  /** The app in-process: `t.call(...)` as the first admin, `t.gh` for services. */
  t: TestApp;
  /** The scratch database Gatehouse itself runs on. */
  databaseUrl: string;
  /** A short random tag for this run: prefix names with it (roles, databases, assets). */
  run: string;
  close(): Promise<void>;
}

export interface E2eServerOptions {
  /** Settings by dotted key (`{ 'auth.sessionIdleMinutes': 5 }`). */
  config?: Record<string, unknown>;
  access?: TestAppOptions['access'];
  network?: TestAppOptions['network'];
  /** `localhost` to test cookie behaviour under that name; the server listens on 127.0.0.1 either way. */
  hostname?: '127.0.0.1' | 'localhost';
  /** A port chosen beforehand (an OIDC redirect URI names it); a free one otherwise. */
  port?: number;
}

/** A free port on 127.0.0.1 (for settings that must name the port before the server starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

export async function startE2eServer(options: E2eServerOptions = {}): Promise<E2eServer> {
  // e2e<pid>x<nonce>: the next run's global set-up removes what a crashed run left (stale.ts)
  const run = `e2e${process.pid}x${randomBytes(2).toString('hex')}`;
  let testStore: TestStore | undefined;
  let t: TestApp | undefined;
  try {
    testStore = await createTestStore('postgres');
    t = await openTestApp(testStore, {
      webDir: inject('e2eWebDir'),
      // the server's defaults (Secure cookies included: Chromium keeps them on http://127.0.0.1 and
      // http://localhost), with room for a test's sign-ins and its own prefix for target accounts
      config: { 'auth.rateLimitPerMinute': 200, ...options.config },
      access: { sweep: { prefix: `gh_${run}_` }, ...options.access },
      ...(options.network ? { network: options.network } : {}),
    });
    await t.app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const opened = t;
    const store = testStore;
    return {
      baseUrl: `http://${options.hostname ?? '127.0.0.1'}:${port}`,
      t,
      databaseUrl: testStore.databaseUrl!,
      run,
      close: async () => {
        await opened.close();
        await store.drop();
        await dropRoles(`gh_${run}_`);
      },
    };
  } catch (error) {
    await t?.close().catch(() => undefined);
    await testStore?.drop().catch(() => undefined);
    throw error;
  }
}

/** Removes the target accounts a run's grants left on the machine's PostgreSQL server. */
export async function dropRoles(prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminDatabaseUrl() });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ rolname: string }>(
      'SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)',
      [prefix],
    );
    for (const { rolname } of rows) {
      await admin.query(`DROP OWNED BY ${admin.escapeIdentifier(rolname)}`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS ${admin.escapeIdentifier(rolname)}`);
    }
  } finally {
    await admin.end();
  }
}

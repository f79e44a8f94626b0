import { randomBytes, randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { createGatehouse, type Gatehouse, type GatehouseOptions } from '../../src/app.js';
import type { App } from '../../src/http/types.js';
import { identityStore } from '../../src/modules/identity/identity.store.js';
import { generateToken, hashToken } from '../../src/platform/crypto.js';
import { systemClock, type Clock } from '../../src/platform/clock.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger, type Logger } from '../../src/platform/logger.js';
import { createTestStore, type Backend, type TestStore } from './stores.js';

export interface TestApp {
  gh: Gatehouse;
  app: App;
  testStore: TestStore;
  /** The first admin's token, from bootstrap. */
  adminToken: string;
  /** Calls the API in-process. `token` defaults to the admin's; pass null for no Authorization header. */
  call(
    method: InjectOptions['method'],
    url: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  /** Creates an operator with the given roles (and operator groups) and returns a token for it. */
  operatorToken(username: string, roles: string[], groups?: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  clock?: Clock;
  /** Settings by dotted key, as flags would give them: `{ 'jobs.backoffMaxMs': 50 }`. */
  config?: Record<string, unknown>;
  access?: GatehouseOptions['access'];
  hardening?: GatehouseOptions['hardening'];
  network?: GatehouseOptions['network'];
  /** The master key (to share it with a server process); a random one otherwise. */
  masterKey?: Buffer;
  /** A logger (to capture what is logged); silent otherwise. */
  logger?: Logger;
  /** The built web back-office to serve; none by default (the API only, whatever web/dist holds). */
  webDir?: string;
}

/** A new test store of its own and a Gatehouse on it; `close()` drops the store too. */
export async function createTestApp(backend: Backend, options: TestAppOptions = {}): Promise<TestApp> {
  const testStore = await createTestStore(backend);
  const opened = await openTestApp(testStore, options);
  return {
    ...opened,
    close: async () => {
      await opened.close();
      await testStore.drop();
    },
  };
}

/** A Gatehouse on a test store the caller owns (and drops); `close()` leaves the store alone. */
export async function openTestApp(testStore: TestStore, options: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig({ env: {}, ...(options.config ? { overrides: options.config } : {}) });
  const gh = await createGatehouse({
    config,
    store: testStore.store,
    masterKey: options.masterKey ?? randomBytes(32),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger({ level: 'silent' }),
    ...(options.access ? { access: options.access } : {}),
    ...(options.hardening ? { hardening: options.hardening } : {}),
    ...(options.network ? { network: options.network } : {}),
    webDir: options.webDir ?? null,
  });
  const boot = await gh.identity.bootstrap();
  if (!boot) throw new Error('bootstrap did not create the first admin');
  const app = await gh.http();

  const call: TestApp['call'] = (method, url, opts = {}) => {
    const token = opts.token === undefined ? boot.token : opts.token;
    return app.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...opts.headers },
      ...(opts.body !== undefined ? { payload: opts.body as InjectOptions['payload'] } : {}),
    });
  };

  return {
    gh,
    app,
    testStore,
    adminToken: boot.token,
    call,
    async operatorToken(username, roles, groups = []) {
      const created = await call('POST', '/api/v1/operators', {
        body: { username, displayName: username, roles, groups },
      });
      if (created.statusCode !== 201) throw new Error(`creating operator ${username}: ${created.body}`);
      const operator = created.json<{ id: string }>();
      // tokens are created by their owner; in tests, write one straight into the store for them
      const secret = generateToken();
      const now = gh.clock.now();
      await identityStore.insertToken(
        gh.store.db,
        {
          id: randomUUID(),
          operatorId: operator.id,
          name: 'test',
          prefix: secret.slice(0, 10),
          roles: [],
          createdAt: now,
          expiresAt: new Date(now.getTime() + 86_400_000),
          revokedAt: null,
          lastUsedAt: null,
        },
        hashToken(secret),
      );
      return secret;
    },
    close: async () => {
      await app.close();
      await gh.close();
    },
  };
}

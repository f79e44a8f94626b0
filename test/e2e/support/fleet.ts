import pg from 'pg';
import { expect } from 'vitest';
import { adminDatabaseUrl, databaseUrlFor } from '../../support/pg-admin.js';
import { startScramPostgres, type ScramPostgres } from '../../support/scram-postgres.js';
import type { E2eServer } from './server.js';

/**
 * A small inventory for the browser to work on: a region, a customer with production and staging, a
 * PostgreSQL asset on a database of the run's own (table `items`), and a jumpbox whose network holds
 * 127.0.0.1 — the browser is on the jumpbox, so credentials may be revealed to it.
 */
export interface E2eFleet {
  region: string;
  customer: string;
  /** The PostgreSQL asset's name, its target and the database grants are on. */
  postgres: { asset: string; host: string; port: number; database: string };
  jumpbox: string;
  close(): Promise<void>;
}

export interface FleetOptions {
  /**
   * Put the asset on a throw-away cluster that checks passwords (scram-sha-256) instead of the
   * machine's server on 127.0.0.1:5432, whose `trust` accepts any password: for tests that prove a
   * revealed password works and a revoked one does not.
   */
  scram?: boolean;
}

export async function createFleet(server: E2eServer, options: FleetOptions = {}): Promise<E2eFleet> {
  const { t, run } = server;
  const call = async (method: 'POST', url: string, body: unknown) => {
    const response = await t.call(method, url, { body });
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBe(201);
  };
  const region = `${run}-eu`;
  const customer = `${run}-acme`;
  const database = `${run}_app`;
  await call('POST', '/api/v1/regions', { name: region, displayName: 'EU West' });
  await call('POST', '/api/v1/customers', { name: customer, displayName: 'Acme Corporation' });
  for (const tier of ['production', 'staging'] as const) {
    await call('POST', `/api/v1/customers/${customer}/environments`, { name: tier, tier, region });
  }

  let scram: ScramPostgres | undefined;
  const target = options.scram
    ? await (async () => {
        scram = await startScramPostgres();
        return {
          host: scram.host,
          port: scram.port,
          admin: scram.admin,
          url: `postgres://${scram.admin.username}:${encodeURIComponent(scram.admin.password)}@${scram.host}:${scram.port}/postgres`,
        };
      })()
    : {
        host: '127.0.0.1',
        port: 5432,
        admin: { username: 'postgres', password: '' },
        url: adminDatabaseUrl(),
      };

  const admin = new pg.Client({ connectionString: target.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const appUrl = new URL(options.scram ? target.url : databaseUrlFor(database));
  appUrl.pathname = `/${database}`;
  const app = new pg.Client({ connectionString: appUrl.toString() });
  await app.connect();
  await app.query(
    "CREATE TABLE items (id int PRIMARY KEY, note text); INSERT INTO items VALUES (1, 'first'), (2, 'second')",
  );
  await app.end();

  const asset = `${run}-pg`;
  await call('POST', '/api/v1/assets', {
    kind: 'database',
    name: asset,
    customer,
    environment: 'production',
    engine: 'postgres',
    host: target.host,
    port: target.port,
    adminCredential: target.admin,
    labels: { 'access.database': database },
  });
  const jumpbox = `${run}-jump`;
  await call('POST', '/api/v1/jumpboxes', {
    name: jumpbox,
    region,
    address: '127.0.0.1',
    sourceCidrs: ['127.0.0.1/32'],
    description: 'This machine: the browser under test',
  });

  return {
    region,
    customer,
    postgres: { asset, host: target.host, port: target.port, database },
    jumpbox,
    close: async () => {
      const closing = new pg.Client({ connectionString: target.url });
      await closing.connect();
      await closing.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await closing.end();
      await scram?.stop();
    },
  };
}

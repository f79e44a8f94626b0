/**
 * `npm run bench [-- --only <group>[,<group>]]`: runs the benchmark groups in bench/groups/ and prints,
 * as the last line of stdout, one JSON object with the machine, the versions, every figure under a
 * dotted name, the targets and whether they were met. Progress goes to stderr.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { openStore } from '../src/platform/db/store.js';
import {
  assertLoopback,
  createScratchDatabase,
  dropStaleScratchDatabases,
  type BenchContext,
  type BenchGroup,
  type Target,
} from './framework.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(benchDir);
const postgresUrl = process.env.GATEHOUSE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

function parseArgs(argv: string[]): { only: string[] | undefined } {
  let only: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value) throw new Error('--only needs a group name, e.g. --only audit');
      only = value.split(',').map((name) => name.trim());
    } else if (arg === '--help' || arg === '-h') {
      process.stderr.write('usage: npm run bench [-- --only <group>[,<group>]]\n');
      process.exit(0);
    } else {
      throw new Error(`Unknown argument '${arg}'; usage: npm run bench [-- --only <group>[,<group>]]`);
    }
  }
  return { only };
}

async function loadGroups(): Promise<BenchGroup[]> {
  const dir = path.join(benchDir, 'groups');
  const files = readdirSync(dir).filter((file) => /^[a-z0-9-]+\.ts$/.test(file));
  const groups: BenchGroup[] = [];
  for (const file of files.sort()) {
    const module = (await import(pathToFileURL(path.join(dir, file)).href)) as { default?: BenchGroup };
    const group = module.default;
    if (!group || typeof group.run !== 'function' || `${group.name}.ts` !== file) {
      throw new Error(`bench/groups/${file} must default-export { name: '${file.slice(0, -3)}', run }`);
    }
    groups.push(group);
  }
  return groups;
}

const versionIn = (dir: string): string =>
  (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
const packageVersion = (name: string): string => versionIn(path.join(root, 'node_modules', name));

async function postgresVersion(): Promise<string | null> {
  try {
    const store = await openStore({ databaseUrl: postgresUrl, maxConnections: 1 });
    try {
      const { rows } = await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(
        store.db,
      );
      return rows[0]?.v ?? null;
    } finally {
      await store.close();
    }
  } catch {
    return null;
  }
}

function checkTarget(target: Target, value: number | undefined) {
  const met =
    value === undefined ? false : 'atLeast' in target ? value >= target.atLeast : value <= target.atMost;
  return { ...target, value: value ?? null, met };
}

async function main(): Promise<void> {
  const started = performance.now();
  // other work on the machine slows every figure: the figures are to be read against this
  const loadAverage1m = Math.round(os.loadavg()[0]! * 100) / 100;
  const { only } = parseArgs(process.argv.slice(2));
  assertLoopback(postgresUrl);

  const all = await loadGroups();
  const unknown = (only ?? []).filter((name) => !all.some((g) => g.name === name));
  if (unknown.length) {
    throw new Error(
      `No benchmark group ${unknown.join(', ')}; there are: ${all.map((g) => g.name).join(', ')}`,
    );
  }
  const groups = only ? all.filter((g) => only.includes(g.name)) : all;

  const cleanups: (() => Promise<void>)[] = [];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => log(`clean-up failed: ${(error as Error).message}`));
    }
  };
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const pgVersion = await postgresVersion();
  if (pgVersion) await dropStaleScratchDatabases(postgresUrl, log);

  const results: Record<string, number> = {};
  const targets: Record<string, ReturnType<typeof checkTarget>> = {};
  const errors: Record<string, string> = {};
  for (const group of groups) {
    log(`${group.name}: start`);
    const groupStarted = performance.now();
    const ctx: BenchContext = {
      log: (message) => log(`${group.name}: ${message}`),
      postgresUrl,
      defer: (cleanup) => void cleanups.push(cleanup),
      scratchDatabase: async () => {
        if (!pgVersion) throw new Error(`PostgreSQL is not reachable at ${postgresUrl}`);
        const { database, drop } = await createScratchDatabase(postgresUrl);
        cleanups.push(drop);
        return database;
      },
    };
    try {
      const figures = await group.run(ctx);
      for (const [key, value] of Object.entries(figures))
        results[`${group.prefix ?? group.name}.${key}`] = value;
    } catch (error) {
      errors[group.name] = (error as Error).message;
      log(`${group.name}: FAILED: ${(error as Error).stack ?? String(error)}`);
    } finally {
      await runCleanups();
    }
    for (const [key, target] of Object.entries(group.targets ?? {})) {
      const name = `${group.prefix ?? group.name}.${key}`;
      targets[name] = checkTarget(target, results[name]);
    }
    log(`${group.name}: done in ${Math.round(performance.now() - groupStarted)} ms`);
  }

  const cpus = os.cpus();
  const report = {
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model.trim() ?? 'unknown',
      memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      postgres: pgVersion,
      loadAverage1m,
    },
    versions: {
      gatehouse: versionIn(root),
      pglite: packageVersion('@electric-sql/pglite'),
      pg: packageVersion('pg'),
      kysely: packageVersion('kysely'),
    },
    results,
    targets,
    ...(Object.keys(errors).length ? { errors } : {}),
    durationMs: Math.round(performance.now() - started),
  };
  for (const [name, target] of Object.entries(targets)) {
    log(
      `target ${name}: ${target.value ?? 'n/a'} ${'atLeast' in target ? `≥ ${target.atLeast}` : `≤ ${target.atMost}`} → ${target.met ? 'met' : 'NOT met'}`,
    );
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exitCode = Object.keys(errors).length ? 1 : 0;
}

main().catch((error: unknown) => {
  log((error as Error).message);
  process.exitCode = 2;
});

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A throw-away PostgreSQL cluster that checks passwords (scram-sha-256 for every TCP connection).
 *
 * The machine's own server on 127.0.0.1:5432 uses `trust` for local TCP connections: any password —
 * and any `VALID UNTIL` — is accepted there, so a test of passwords or native expiry against it would
 * prove nothing. This cluster is created with the same PostgreSQL binaries in a temporary folder, on a
 * free port, in about two seconds, and removed afterwards (a cluster a crashed run left behind is
 * stopped and removed by the next run).
 */
export interface ScramPostgres {
  host: string;
  port: number;
  admin: { username: string; password: string };
  /** Restarts the server (fast shutdown: every session is ended), as a target's maintenance would. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const PREFIX = 'gatehouse-scram-pg-';

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const dir = versions.map((v) => path.join(root, v, 'bin')).find((d) => existsSync(path.join(d, 'initdb')));
  if (!dir) throw new Error(`no PostgreSQL server binaries under ${root}`);
  return dir;
}

/** initdb refuses to run as root: run the server tools as the postgres user then. */
async function asServerUser(command: string, args: string[]): Promise<void> {
  const root = process.getuid?.() === 0;
  await run(root ? 'runuser' : command, root ? ['-u', 'postgres', '--', command, ...args] : args, {
    timeout: 60_000,
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error()),
      );
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function removeStale(bin: string): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(new RegExp(`^${PREFIX}(\\d+)-`).exec(name)?.[1] ?? 0);
    if (!pid || alive(pid)) continue;
    const dir = path.join(tmpdir(), name);
    await asServerUser(path.join(bin, 'pg_ctl'), [
      '-D',
      path.join(dir, 'data'),
      '-m',
      'immediate',
      'stop',
    ]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startScramPostgres(): Promise<ScramPostgres> {
  const bin = binDir();
  await removeStale(bin);
  const dir = mkdtempSync(path.join(tmpdir(), `${PREFIX}${process.pid}-`));
  const password = randomBytes(12).toString('hex');
  const pwfile = path.join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    chownSync(pwfile, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = path.join(dir, 'data');
  // initdb → scram-sha-256 for host 127.0.0.1/32 in pg_hba.conf
  await asServerUser(path.join(bin, 'initdb'), [
    ...['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth=scram-sha-256'],
    ...['-N', '-E', 'UTF8', '--locale=C.UTF-8'],
  ]);
  rmSync(pwfile);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`;
  await asServerUser(path.join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-o',
    options,
    '-w',
    '-l',
    path.join(dir, 'log'),
    'start',
  ]);
  return {
    host: '127.0.0.1',
    port,
    admin: { username: 'postgres', password },
    restart: async () => {
      await asServerUser(path.join(bin, 'pg_ctl'), [
        ...['-D', data, '-o', options, '-m', 'fast', '-w', '-l', path.join(dir, 'log'), 'restart'],
      ]);
    },
    stop: async () => {
      await asServerUser(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']).catch(
        () => undefined,
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

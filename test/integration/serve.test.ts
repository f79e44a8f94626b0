import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const main = path.resolve('src/main.ts');
const execFileAsync = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `gatehouse serve --demo` and resolves once it says it is running. */
async function startServer(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', main, 'serve', '--demo'], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_LOG_LEVEL: 'warn', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Press Ctrl-C to stop.')) {
    if (child.exitCode !== null) throw new Error(`serve exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`serve did not start in time:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, output: () => output, exited };
}

async function cli(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', main, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_LOG_LEVEL: 'silent', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('gatehouse serve --demo on a fresh embedded store', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gh-serve-'));
  let env: Record<string, string>;
  let server: Running;
  let base: string;
  let token: string;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_PORT: String(port) };
    server = await startServer(env);
    token = /gth_[A-Za-z0-9_-]{43}/.exec(server.output())?.[0] ?? '';
  }, 90_000);

  afterAll(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the master key with mode 0600 and prints the first admin token once', () => {
    expect(statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^gth_/);
    expect(server.output().match(/gth_[A-Za-z0-9_-]{43}/g)).toHaveLength(1);
  });

  it('is ready, describes itself, and holds the demo fleet', async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect(((await (await fetch(`${base}/api/openapi.json`)).json()) as { openapi: string }).openapi).toBe(
      '3.1.0',
    );
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const servers = (await (await fetch(`${base}/api/v1/assets?kind=server&limit=500`, auth)).json()) as {
      items: unknown[];
    };
    const databases = (await (await fetch(`${base}/api/v1/assets?kind=database&limit=500`, auth)).json()) as {
      items: { engine: string; host: string }[];
    };
    const customers = (await (await fetch(`${base}/api/v1/customers`, auth)).json()) as { items: unknown[] };
    const jumpboxes = (await (await fetch(`${base}/api/v1/jumpboxes`, auth)).json()) as { items: unknown[] };
    expect(customers.items).toHaveLength(3);
    expect(servers.items.length).toBeGreaterThanOrEqual(18);
    expect(databases.items.length).toBeGreaterThanOrEqual(6);
    expect(new Set(databases.items.map((d) => d.engine))).toEqual(new Set(['postgres', 'mariadb']));
    // the demo's two, and this machine (the browser reveals from here)
    expect(jumpboxes.items).toHaveLength(3);
  });

  it('prints how to sign in to the web back-office, with demo operators whose passwords work', async () => {
    const output = server.output();
    expect(output).toContain(`Web back-office: ${base}/`);
    const printed = (username: string) =>
      new RegExp(`\\|\\s+${username}\\s+([A-Za-z0-9]{20})\\s`).exec(output)?.[1] ?? '';
    for (const username of ['demo-admin', 'demo-approver']) {
      const password = printed(username);
      expect(password, username).toHaveLength(20);
      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      expect(login.status, username).toBe(200);
      // the first sign-in enrols TOTP
      expect(((await login.json()) as { next: string }).next).toBe('enrol-totp');
    }
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const policies = (await (await fetch(`${base}/api/v1/access/policies`, auth)).json()) as {
      policies: { name: string }[];
    };
    expect(JSON.stringify(policies)).toContain('demo-databases');
  });

  it('serves the CLI client commands with the printed token', async () => {
    const result = await cli(['inventory', 'assets', 'list', '--kind', 'database', '--json'], {
      GATEHOUSE_URL: base,
      GATEHOUSE_TOKEN: token,
    });
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(6);
  });

  it('creates, shows and imports inventory from the CLI, listing every bad row of a refused import', async () => {
    const client = { GATEHOUSE_URL: base, GATEHOUSE_TOKEN: token };
    const created = await cli(
      ['inventory', 'customers', 'create', '--set', 'name=zeta', '--set', 'displayName=Zeta Ltd'],
      client,
    );
    expect(created.code).toBe(0);
    const shown = await cli(['inventory', 'customers', 'show', 'zeta', '--json'], client);
    expect(JSON.parse(shown.stdout)).toMatchObject({ name: 'zeta', displayName: 'Zeta Ltd' });
    const duplicate = await cli(
      ['inventory', 'customers', 'create', '--set', 'name=zeta', '--set', 'displayName=Again'],
      client,
    );
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toMatch(/zeta/);

    const csv = path.join(dataDir, 'regions.csv');
    writeFileSync(
      csv,
      'name,displayName\nap-south-1,Mumbai\nBAD NAME,Nowhere\nap-east-1,Hong Kong\n-x,Worse\n',
    );
    const refused = await cli(['inventory', 'import', csv, '--entity', 'regions'], client);
    expect(refused.code).toBe(2);
    // rows are numbered as lines of the file, the header being line 1
    expect(refused.stderr).toMatch(/row 3: name/);
    expect(refused.stderr).toMatch(/row 5: name/);
    const regions = await cli(['inventory', 'regions', 'list', '--json'], client);
    expect(
      (JSON.parse(regions.stdout) as { items: { name: string }[] }).items.map((r) => r.name),
    ).not.toContain('ap-south-1');
  });

  it('keeps a second process out of the embedded store while it runs', async () => {
    const result = await cli(['audit', 'verify'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/in use by process/);
  });

  it('stops cleanly on SIGTERM, leaving a log that verifies; a restart keeps the store', async () => {
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const verify = await cli(['audit', 'verify', '--json'], env);
    expect(verify.code).toBe(0);
    const result = JSON.parse(verify.stdout) as {
      ok: boolean;
      checked: number;
      checkpoints: { verified: number };
    };
    expect(result.ok).toBe(true);
    expect(result.checked).toBeGreaterThan(2);
    expect(result.checkpoints.verified).toBeGreaterThanOrEqual(1);

    server = await startServer(env);
    expect(server.output()).not.toMatch(/gth_/);
    expect(server.output()).toMatch(/Demo fleet already loaded/);
    // no password twice: the restart says whom to sign in as
    expect(server.output()).toMatch(/Sign in as demo-admin or demo-approver with the password printed/);
    expect(server.output()).not.toMatch(/demo-admin\s+[A-Za-z0-9]{20}\s/);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 90_000);
});

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinuxTarget } from '../../src/adapters/connectors/linux-ssh/linux-config.js';
import { createLinuxSshConnector } from '../../src/adapters/connectors/linux-ssh/linux-ssh-connector.js';
import { withSsh } from '../../src/adapters/connectors/linux-ssh/ssh-session.js';
import { parseLinuxTarget } from '../../src/adapters/connectors/linux-ssh/linux-config.js';
import {
  openSession,
  sftpWithPassword,
  sshWithPassword,
  startLinuxHost,
  type LinuxHost,
} from '../support/linux-host.js';
import { createLab, type Lab, type NetHost } from '../support/netns.js';

/**
 * The linux-ssh connector against a real sshd in a network namespace with its own /etc: a jumpbox
 * (198.51.100.30) may log in, "elsewhere" (198.51.100.40) may not; levels, file transfer, revocation with
 * an open session, native expiry, leftovers, and the machine's own accounts untouched.
 */

const SERVER = '198.51.100.20';
const JUMPBOX = '198.51.100.30';
const ELSEWHERE = '198.51.100.40';
const connector = createLinuxSshConnector();
const inAnHour = () => new Date(Date.now() + 3_600_000);

let lab: Lab;
let server: LinuxHost;
let jumpbox: NetHost;
let elsewhere: NetHost;
let target: LinuxTarget;
let machinePasswd: string;

const digest = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

beforeAll(async () => {
  machinePasswd = `${await digest('/etc/passwd')}${await digest('/etc/group')}${await digest('/etc/shadow')}`;
  lab = await createLab();
  const segment = await lab.addSegment('servers', {
    cidrs: ['198.51.100.0/24'],
    rootAddress: ['198.51.100.1/24'],
  });
  server = await startLinuxHost(lab, segment, { name: 'srv', address: SERVER });
  jumpbox = await lab.addHost('jump');
  await lab.connect(jumpbox, segment, [`${JUMPBOX}/24`]);
  elsewhere = await lab.addHost('else');
  await lab.connect(elsewhere, segment, [`${ELSEWHERE}/24`]);
  target = {
    engine: 'linux-ssh',
    host: SERVER,
    automation: server.automation,
    hostKeys: [server.hostKey],
    operatorCommands: ['/usr/bin/df -h', '/usr/bin/id'],
  };
});

afterAll(async () => {
  await server?.stop();
  await lab?.close();
});

const spec = (username: string, level: 'read-only' | 'read-write' | 'admin', fileTransfer: boolean) => ({
  username,
  password: `Pw-${username}-x9.K`,
  level,
  validUntil: inAnHour(),
  sourceCidrs: [`${JUMPBOX}/32`],
  fileTransfer,
});

const login = (from: NetHost, username: string, command: string) =>
  sshWithPassword(from, { address: SERVER }, username, `Pw-${username}-x9.K`, command);

async function onServer(argv: string[]) {
  return server.run(argv, { allowFailure: true });
}

describe('linux-ssh connector on a real sshd', () => {
  it('reaches the helper as the automation account and refuses a host key it has not recorded', async () => {
    await expect(connector.testConnection(target)).resolves.toEqual({ serverVersion: 'gatehouse-account 1' });
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3fZgk0m0y3yqZb2nN8qv3vXQ0r5Yy3kq7h9Jx2cW1a';
    const refused = await connector.testConnection({ ...target, hostKeys: [other] }).catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'target_unavailable',
      retryable: false,
      details: { reason: 'host_key_mismatch' },
    });
  });

  it('admin with file transfer: logs in from the jumpbox only, full sudo, sftp works', async () => {
    const account = spec('gh_alice_a1', 'admin', true);
    await expect(connector.createAccount(target, account)).resolves.toEqual({ created: true });

    const fromJumpbox = await login(jumpbox, account.username, 'id -un; sudo -n true && echo sudo-ok');
    expect(fromJumpbox.stdout).toContain('gh_alice_a1');
    expect(fromJumpbox.stdout).toContain('sudo-ok');

    const sftp = await sftpWithPassword(
      jumpbox,
      { address: SERVER },
      account.username,
      account.password,
      'pwd\n',
    );
    expect(sftp.stdout, JSON.stringify(sftp)).toContain('/home/gh_alice_a1');

    // the port is open to elsewhere: it is sshd's jumpbox-only rule that refuses the account
    expect(await elsewhere.canConnect(SERVER, 22)).toBe(true);
    const fromElsewhere = await login(elsewhere, account.username, 'id -un');
    expect(fromElsewhere.code).not.toBe(0);
    expect(fromElsewhere.stderr).toContain('Permission denied');
    expect(fromElsewhere.stdout).not.toContain('gh_alice_a1');

    // again, as a retry after a crash would: brought to the same state, not duplicated
    await expect(connector.createAccount(target, account)).resolves.toEqual({ created: false });
    expect(await connector.accountExists(target, account.username)).toBe(true);
  });

  it('operator without file transfer: only the listed commands with sudo, no sftp', async () => {
    const account = spec('gh_bob_b2', 'read-write', false);
    await connector.createAccount(target, account);
    const shell = await login(
      jumpbox,
      account.username,
      'sudo -n true; echo "true=$?"; sudo -n /usr/bin/id -un',
    );
    expect(shell.stdout).toContain('true=1');
    expect(shell.stdout).toContain('root');
    const sftp = await sftpWithPassword(
      jumpbox,
      { address: SERVER },
      account.username,
      account.password,
      'pwd\n',
    );
    expect(sftp.code).not.toBe(0);
    // the subsystem request meets the ForceCommand wrapper, which refuses it: the channel just closes
    expect(sftp.stderr).toContain('Connection closed');
    expect(sftp.stdout).not.toContain('/home/gh_bob_b2');
  });

  it('read-only: a shell without any sudo and without a sudoers drop-in', async () => {
    const account = spec('gh_carol_c3', 'read-only', false);
    await connector.createAccount(target, account);
    const shell = await login(
      jumpbox,
      account.username,
      'sudo -n true; echo "true=$?"; sudo -n /usr/bin/id; echo "id=$?"',
    );
    expect(shell.stdout).toContain('true=1');
    expect(shell.stdout).toContain('id=1');
    expect((await onServer(['test', '-e', '/etc/sudoers.d/gatehouse-gh_carol_c3'])).code).toBe(1);
  });

  it('revoke ends an open session, kills every process, removes user and drop-in; twice is fine', async () => {
    const account = spec('gh_dave_d4', 'admin', false);
    await connector.createAccount(target, account);
    const uid = (await onServer(['id', '-u', account.username])).stdout.trim();
    const session = openSession(jumpbox, { address: SERVER }, account.username, account.password);
    const ended = new Promise<number | null>((resolve) => session.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      session.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve());
      session.once('exit', () => reject(new Error('the session did not open')));
    });
    expect((await onServer(['pgrep', '-U', uid])).stdout.trim()).not.toBe('');

    await expect(connector.revokeAccount(target, account.username)).resolves.toEqual({ existed: true });
    await ended;
    expect((await onServer(['pgrep', '-U', uid])).stdout.trim()).toBe('');
    expect((await onServer(['getent', 'passwd', account.username])).code).not.toBe(0);
    expect((await onServer(['test', '-e', '/etc/sudoers.d/gatehouse-gh_dave_d4'])).code).toBe(1);
    expect((await login(jumpbox, account.username, 'id -un')).code).not.toBe(0);
    expect((await onServer(['sh', '-c', 'ls /var/lib/gatehouse/archive'])).stdout).toContain('gh_dave_d4-');

    await expect(connector.revokeAccount(target, account.username)).resolves.toEqual({ existed: false });
  });

  it('the native expiry (useradd -e) refuses a login once its day has passed', async () => {
    const account = spec('gh_erin_e5', 'read-only', false);
    await connector.createAccount(target, account);
    expect((await login(jumpbox, account.username, 'echo in')).stdout).toContain('in');
    await connector.setAccountExpiry(target, account.username, new Date(Date.now() - 3 * 86_400_000));
    const after = await login(jumpbox, account.username, 'echo in');
    expect(after.code).not.toBe(0);
    await connector.revokeAccount(target, account.username);
  });

  it('lists gh_ accounts and drop-ins left without their account, for the sweeper', async () => {
    await onServer(['sh', '-c', 'echo "gh_stray_s9 ALL=(ALL) ALL" > /etc/sudoers.d/gatehouse-gh_stray_s9']);
    const listed = await connector.listManagedAccounts(target);
    const names = listed.map((a) => a.username);
    expect(names).toEqual(expect.arrayContaining(['gh_alice_a1', 'gh_bob_b2', 'gh_carol_c3', 'gh_stray_s9']));
    expect(names).not.toContain('gatehouse');
    expect(listed.find((a) => a.username === 'gh_alice_a1')?.validUntil).toBeInstanceOf(Date);
    // a drop-in without its account is something removed too: the sweeper reports it
    await expect(connector.revokeAccount(target, 'gh_stray_s9')).resolves.toEqual({ existed: true });
    for (const account of listed) await connector.revokeAccount(target, account.username);
    expect(await connector.listManagedAccounts(target)).toEqual([]);
  });

  it('a Gatehouse process killed mid-provision leaves nothing once the resumed job or the sweeper revokes', async () => {
    const account = spec('gh_frank_f6', 'admin', true);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/linux-provision-child.ts'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    child.stdin.end(JSON.stringify({ target, spec: account }));
    // killed with -9 as soon as the account exists on the server, before the call returns
    let seen = false;
    for (let i = 0; i < 400 && !seen; i++) {
      seen = (await onServer(['getent', 'passwd', account.username])).code === 0;
      if (!seen) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(seen).toBe(true);

    // after the restart: the leftover is listed as managed, and revoking it (the resumed job, or the
    // sweeper for an account no grant owns) removes everything
    expect((await connector.listManagedAccounts(target)).map((a) => a.username)).toContain(account.username);
    await connector.revokeAccount(target, account.username);
    expect((await onServer(['getent', 'passwd', account.username])).code).not.toBe(0);
    expect((await onServer(['test', '-e', '/etc/sudoers.d/gatehouse-gh_frank_f6'])).code).toBe(1);
    expect(await connector.listManagedAccounts(target)).toEqual([]);
  });

  it('arguments with shell metacharacters reach the server inert, through the real login shell', async () => {
    const parsed = parseLinuxTarget(target);
    await withSsh(parsed, 'echoing', async (session) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !s.includes('\u0000')),
            { minLength: 1, maxLength: 4 },
          ),
          async (args) => {
            const result = await session.exec(['printf', '%s\\0', ...args]);
            expect(result.stdout.split('\u0000').slice(0, -1)).toEqual(args);
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  it('refuses names and keys the grammars do not allow before touching the server', async () => {
    for (const username of ['gh_x;reboot', 'gh_$(id)', 'root', 'gh_a b', "gh_'", 'gh_a\nb']) {
      await expect(
        connector.createAccount(target, { ...spec('gh_ok_1', 'admin', false), username }),
      ).rejects.toMatchObject({
        code: 'validation_failed',
      });
    }
    await expect(
      connector.createAccount(target, {
        ...spec('gh_ok_1', 'admin', false),
        publicKey: 'ssh-ed25519 AAAA; rm -rf /',
      }),
    ).rejects.toBeTruthy();
    expect((await onServer(['getent', 'passwd', 'gh_ok_1'])).code).not.toBe(0);
  });

  it("leaves the machine's own accounts unchanged", async () => {
    const now = `${await digest('/etc/passwd')}${await digest('/etc/group')}${await digest('/etc/shadow')}`;
    expect(now).toBe(machinePasswd);
    expect(await readFile('/etc/passwd', 'utf8')).not.toContain('gh_');
    expect((await onServer(['getent', 'passwd', 'gatehouse'])).stdout).toContain('gatehouse');
  });
});

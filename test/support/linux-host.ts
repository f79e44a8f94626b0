import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HELPER_PATH } from '../../src/adapters/connectors/linux-ssh/linux-config.js';
import { REMOTE_HELPER } from '../../src/adapters/connectors/linux-ssh/remote-helper.js';
import { run, type ExecOptions, type ExecResult, type Lab, type NetHost, type Segment } from './netns.js';

/**
 * A Linux server for system tests: a network namespace whose processes live in a private mount
 * namespace with their own `/etc` (a copy, bound as a whole folder: useradd renames files over
 * /etc/passwd, which fails on a bind-mounted single file), their own `/home`, `/run` and `/tmp`, and
 * private copies-on-write of `/var` and `/usr/local` (overlays: lastlog, mail spools, the helper and
 * archives land in the test's folder). Nothing a test does to accounts reaches the machine's files.
 *
 * User and group ids of the host are moved to 210000-219999 (its own login.defs), so that
 * `pkill -u gh_…` run by the helper can only ever match processes of this host's accounts.
 *
 * It runs the real `sshd` from Debian's openssh-server with its own ed25519 host key, listening on
 * the host's address; `PidFile` is in the host's /run and sshd is stopped by that PID, never by name.
 *
 * The automation account `gatehouse` logs in with a key made for the run and has exactly one sudo
 * right: `gatehouse ALL=(root) NOPASSWD: /usr/local/sbin/gatehouse-account` (the helper installed
 * from `REMOTE_HELPER`, root-owned, 0755). Everything else Gatehouse does goes through that helper.
 */

export interface LinuxHost {
  net: NetHost;
  address: string;
  port: number;
  /** `ssh-ed25519 AAAA…`, as recorded in the inventory. */
  hostKey: string;
  automation: { username: string; privateKey: string };
  /** Runs a command as root inside the server (its mount and network namespaces). */
  run(argv: string[], options?: ExecOptions): Promise<ExecResult>;
  /** The host's private /etc, seen from the machine (to assert on its files). */
  etcDir: string;
  /** Stops sshd (by its PidFile) and the namespace holder, and removes the host's folder. */
  stop(): Promise<void>;
}

const UID_RANGE = { min: 210000, max: 219999 };

export async function startLinuxHost(
  lab: Lab,
  segment: Segment,
  options: { name: string; address: string; prefixLength?: number },
): Promise<LinuxHost> {
  const root = await mkdtemp(path.join(tmpdir(), `gh-linux-${options.name}-`));
  let holder: ChildProcess | undefined;
  const net = await lab.addHost(options.name);
  const stopAll = async () => {
    const pid = await readFile(path.join(root, 'run', 'sshd.pid'), 'utf8').catch(() => '');
    if (/^\d+\s*$/.test(pid)) {
      try {
        process.kill(Number(pid), 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (holder && holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    // processes of the host's sessions share its network namespace; the lab kills them on close
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    await lab.connect(net, segment, [`${options.address}/${options.prefixLength ?? 24}`]);
    await prepareRoot(root, options.address);

    holder = net.spawn([
      'unshare',
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      [
        'set -e',
        `mount --bind "$1/etc" /etc`,
        `mount --bind "$1/home" /home`,
        `mount --bind "$1/run" /run`,
        `mount -t overlay overlay -o "lowerdir=/var,upperdir=$1/var-up,workdir=$1/var-work" /var`,
        `mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$1/local-up,workdir=$1/local-work" /usr/local`,
        `mount --bind "$1/tmp" /tmp`,
        'echo ready',
        'exec sleep 86400',
      ].join('\n'),
      'holder',
      root,
    ]);
    await new Promise<void>((resolve, reject) => {
      let errors = '';
      holder!.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
      holder!.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve();
      });
      holder!.once('exit', (code) =>
        reject(new Error(`the mount namespace of ${options.name} failed (${code}): ${errors}`)),
      );
    });
    const holderPid = holder.pid!;
    const inHost = (argv: string[], runOptions?: ExecOptions) =>
      run('nsenter', ['-t', String(holderPid), '-m', '-n', '--', ...argv], runOptions);

    await inHost(['install', '-d', '-m', '0755', '/usr/local/sbin', '/run/sshd']);
    await inHost(['sh', '-c', `cat > ${HELPER_PATH} && chmod 0755 ${HELPER_PATH}`], { input: REMOTE_HELPER });
    await inHost(['useradd', '-m', '-s', '/bin/bash', '-c', 'Gatehouse automation', 'gatehouse']);
    await inHost([
      'install',
      '-d',
      '-m',
      '0700',
      '-o',
      'gatehouse',
      '-g',
      'gatehouse',
      '/home/gatehouse/.ssh',
    ]);
    await inHost(
      [
        'sh',
        '-c',
        'umask 077; cat > /home/gatehouse/.ssh/authorized_keys; chown gatehouse: /home/gatehouse/.ssh/authorized_keys',
      ],
      { input: await readFile(path.join(root, 'automation_key.pub'), 'utf8') },
    );
    await inHost(
      [
        'sh',
        '-c',
        'cat > /etc/sudoers.d/gatehouse-automation && chmod 0440 /etc/sudoers.d/gatehouse-automation',
      ],
      {
        input: `gatehouse ALL=(root) NOPASSWD: ${HELPER_PATH}\n`,
      },
    );
    await inHost(['visudo', '-cq']);
    await inHost(['/usr/sbin/sshd', '-f', '/etc/ssh/sshd_config', '-E', '/run/sshd.log']);
    await waitFor(
      () => net.canConnect(options.address, 22, { timeoutMs: 500 }),
      `sshd on ${options.address}`,
    );

    const hostKey = (
      await readFile(path.join(root, 'etc', 'ssh', 'gatehouse_test_host_ed25519_key.pub'), 'utf8')
    )
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
    return {
      net,
      address: options.address,
      port: 22,
      hostKey,
      automation: {
        username: 'gatehouse',
        privateKey: await readFile(path.join(root, 'automation_key'), 'utf8'),
      },
      run: inHost,
      etcDir: path.join(root, 'etc'),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function prepareRoot(root: string, address: string): Promise<void> {
  await run('cp', ['-a', '/etc', path.join(root, 'etc')]);
  for (const dir of ['home', 'run', 'tmp', 'var-up', 'var-work', 'local-up', 'local-work']) {
    await mkdir(path.join(root, dir), { mode: 0o755 });
  }
  await chmod(path.join(root, 'tmp'), 0o1777);
  const etc = (file: string) => path.join(root, 'etc', file);

  // ids of this host's accounts never meet the machine's (pkill -u acts machine-wide)
  const loginDefs = (await readFile(etc('login.defs'), 'utf8'))
    .split('\n')
    .filter((line) => !/^\s*(UID|GID)_(MIN|MAX)\b/.test(line))
    .concat([
      `UID_MIN ${UID_RANGE.min}`,
      `UID_MAX ${UID_RANGE.max}`,
      `GID_MIN ${UID_RANGE.min}`,
      `GID_MAX ${UID_RANGE.max}`,
      '',
    ])
    .join('\n');
  await writeFile(etc('login.defs'), loginDefs);
  // a namespace has no audit login uid to set
  const pamSshd = (await readFile(etc('pam.d/sshd'), 'utf8')).replace(
    /^session\s+required\s+pam_loginuid\.so/m,
    'session    optional     pam_loginuid.so',
  );
  await writeFile(etc('pam.d/sshd'), pamSshd);

  await rm(etc('ssh/sshd_config.d'), { recursive: true, force: true });
  await mkdir(etc('ssh/sshd_config.d'), { mode: 0o755 });
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'host',
    '-f',
    etc('ssh/gatehouse_test_host_ed25519_key'),
  ]);
  await run('ssh-keygen', [
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    'gatehouse',
    '-f',
    path.join(root, 'automation_key'),
  ]);
  await writeFile(
    etc('ssh/sshd_config'),
    [
      '# test host: Gatehouse system tests',
      // first, as in Debian's own sshd_config: a Match block in a drop-in ends with its file
      'Include /etc/ssh/sshd_config.d/*.conf',
      `ListenAddress ${address}`,
      'Port 22',
      'HostKey /etc/ssh/gatehouse_test_host_ed25519_key',
      'PidFile /run/sshd.pid',
      'UsePAM yes',
      'KbdInteractiveAuthentication no',
      'PasswordAuthentication yes',
      'PermitRootLogin no',
      'PrintMotd no',
      'Subsystem sftp /usr/lib/openssh/sftp-server',
      '',
    ].join('\n'),
  );
}

async function waitFor(check: () => Promise<boolean>, what: string, attempts = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not come up`);
}

/** Logs in from `from` with a password (real OpenSSH client driven by sshpass) and runs `command`. */
export async function sshWithPassword(
  from: NetHost,
  to: { address: string; port?: number },
  username: string,
  password: string,
  command: string,
  options: { timeoutMs?: number } = {},
): Promise<ExecResult> {
  return from.exec(
    ['sshpass', '-e', 'ssh', ...clientOptions(to.port), `${username}@${to.address}`, command],
    {
      allowFailure: true,
      env: { ...process.env, SSHPASS: password },
      timeoutMs: options.timeoutMs ?? 20_000,
    },
  );
}

/** Runs sftp batch commands (one per line on stdin) from `from` with a password. */
export async function sftpWithPassword(
  from: NetHost,
  to: { address: string; port?: number },
  username: string,
  password: string,
  commands: string,
): Promise<ExecResult> {
  return from.exec(['sshpass', '-e', 'sftp', ...clientOptions(to.port, '-P'), `${username}@${to.address}`], {
    allowFailure: true,
    input: commands,
    env: { ...process.env, SSHPASS: password },
    timeoutMs: 20_000,
  });
}

/** Starts a login that stays open (`sleep`), to check that revoking ends it. */
export function openSession(
  from: NetHost,
  to: { address: string; port?: number },
  username: string,
  password: string,
): ChildProcess {
  return spawn(
    'ip',
    [
      'netns',
      'exec',
      from.ns,
      'sshpass',
      '-e',
      'ssh',
      ...clientOptions(to.port),
      `${username}@${to.address}`,
      'echo open; exec sleep 600',
    ],
    { env: { ...process.env, SSHPASS: password }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

function clientOptions(port = 22, portFlag = '-p'): string[] {
  return [
    portFlag,
    String(port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'PubkeyAuthentication=no',
    '-o',
    'PreferredAuthentications=password',
    '-o',
    'NumberOfPasswordPrompts=1',
    '-o',
    'ConnectTimeout=5',
  ];
}

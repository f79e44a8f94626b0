import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createNamespaceTransport } from '../../src/adapters/transports/namespace.js';
import type { Transport } from '../../src/adapters/transports/types.js';
import { run, type Lab, type NetHost } from './netns.js';

/**
 * A server to harden, for system tests: a network namespace (its own net.* sysctls) whose processes
 * see their own `/etc` (a copy of the machine's, bound as a whole folder) and their own `/run`
 * (sshd -T needs /run/sshd). Everything else — the kernel's other sysctls, /usr, /var, packages — is
 * the machine's, so tests mark the rules that would reach those not-applicable for this host.
 */
export interface HardeningHost {
  net: NetHost;
  /** Runs argv inside the host's mount and network namespaces. */
  transport: Transport;
  /** The host's private /etc, seen from the machine. */
  etcDir: string;
  stop(): Promise<void>;
}

export async function startHardeningHost(lab: Lab, name: string): Promise<HardeningHost> {
  const root = await mkdtemp(path.join(tmpdir(), `gh-harden-${name}-`));
  const net = await lab.addHost(name);
  let holder: ChildProcess | undefined;
  const stop = async () => {
    if (holder && holder.exitCode === null && holder.signalCode === null) holder.kill('SIGKILL');
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    await run('cp', ['-a', '/etc', path.join(root, 'etc')]);
    await run('install', ['-d', '-m', '0755', path.join(root, 'run'), path.join(root, 'run', 'sshd')]);
    holder = net.spawn([
      'unshare',
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      'set -e; mount --bind "$1/etc" /etc; mount --bind "$1/run" /run; echo ready; exec sleep 86400',
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
        reject(new Error(`the mount namespace of ${name} failed (${code}): ${errors}`)),
      );
    });
    return {
      net,
      transport: createNamespaceTransport({ pid: holder.pid! }),
      etcDir: path.join(root, 'etc'),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

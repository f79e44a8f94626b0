import { runArgv } from './local.js';
import type { Transport } from './types.js';

/**
 * A host that is a set of Linux namespaces on this machine (system tests, lab hosts): every command
 * runs through `nsenter` into the mount and network namespaces of the process `pid`.
 */
export function createNamespaceTransport(options: { pid: number; timeoutMs?: number }): Transport {
  if (!Number.isInteger(options.pid) || options.pid <= 1)
    throw new Error('a namespace transport needs a process id');
  const prefix = ['nsenter', '-t', String(options.pid), '-m', '-n', '--'];
  const timeoutMs = options.timeoutMs ?? 120_000;
  return { kind: 'namespace', exec: (argv, stdin) => runArgv([...prefix, ...argv], stdin, timeoutMs) };
}

const NETNS_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/**
 * A named network namespace of this machine (`ip netns add <name>`: test hosts, labs): every command
 * runs through `ip netns exec <name>`. The name must match a strict grammar; it is passed as an argument.
 */
export function createNetnsTransport(options: { name: string; timeoutMs?: number }): Transport {
  if (!NETNS_NAME.test(options.name)) throw new Error('a network namespace name is letters, digits, _ . -');
  const prefix = ['ip', 'netns', 'exec', options.name];
  const timeoutMs = options.timeoutMs ?? 120_000;
  return { kind: 'netns', exec: (argv, stdin) => runArgv([...prefix, ...argv], stdin, timeoutMs) };
}

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

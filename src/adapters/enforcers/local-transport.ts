import { spawn } from 'node:child_process';
import { TransientError } from '../../platform/errors.js';
import type { CommandResult, CommandTransport } from './types.js';

/**
 * Runs commands on this machine, optionally behind a fixed prefix (`['ip', 'netns', 'exec', 'srv1']`
 * runs them inside a network namespace). Arguments are passed as an argv, never through a shell.
 */
export function localTransport(
  options: { prefix?: readonly string[]; timeoutMs?: number } = {},
): CommandTransport {
  const prefix = options.prefix ?? [];
  return {
    exec: (argv, stdin) =>
      new Promise<CommandResult>((resolve, reject) => {
        const [command, ...args] = [...prefix, ...argv];
        if (!command) {
          reject(new Error('no command to run'));
          return;
        }
        const child = spawn(command, args, {
          stdio: ['pipe', 'pipe', 'pipe'],
          timeout: options.timeoutMs ?? 30_000,
        });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
        child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        child.on('error', (error) =>
          reject(
            new TransientError('target_unavailable', `cannot run ${command}: ${error.message}`, {
              cause: error,
            }),
          ),
        );
        child.on('close', (code) =>
          resolve({
            code: code ?? 1,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(err).toString('utf8'),
          }),
        );
        child.stdin.on('error', () => undefined);
        child.stdin.end(stdin ?? '');
      }),
  };
}

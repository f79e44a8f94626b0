import { spawn } from 'node:child_process';
import { TransientError } from '../../platform/errors.js';
import type { ExecResult, Transport } from './types.js';

const MAX_OUTPUT = 16 * 1024 * 1024;

/**
 * Runs argv as a child process: argv[0] is the program, the rest its arguments, no shell in between.
 * `prefix` is put before every command, e.g. `['nsenter', '-t', PID, '-m', '-n', '--']` to run in
 * another namespace; it is fixed by the code that builds the transport, never by input.
 */
export function runArgv(
  argv: readonly string[],
  stdin: string | undefined,
  timeoutMs: number,
): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (!program) return Promise.reject(new Error('an empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.once('error', (error) =>
      reject(new TransientError('target_unavailable', `could not run ${program}: ${error.message}`)),
    );
    child.once('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? '');
  });
}

/** This machine itself (the host Gatehouse runs on, or a test). */
export function createLocalTransport(options: { timeoutMs?: number } = {}): Transport {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return { kind: 'local', exec: (argv, stdin) => runArgv(argv, stdin, timeoutMs) };
}

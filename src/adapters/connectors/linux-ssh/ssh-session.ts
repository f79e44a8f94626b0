import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import { GatehouseError, TransientError, ValidationError } from '../../../platform/errors.js';
import { codeAndMessage, networkErrorCodes } from '../errors.js';
import type { ParsedLinuxTarget } from './linux-config.js';
import { commandLine } from './shell-quote.js';

/**
 * One SSH connection as the automation account, verified against the host keys recorded in the
 * inventory (no trust on first use), used for a few `exec` requests and closed. Failures become
 * Gatehouse errors that say whether retrying can help; a host key that does not match is never
 * retried and says so, because it means the server was replaced — or someone is in the middle.
 */

const MAX_OUTPUT = 1024 * 1024;

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SshSession {
  /** Runs argv (each element quoted by `shellQuote`), writing `stdin` to it; never throws on exit codes. */
  exec(argv: readonly string[], stdin?: string): Promise<ExecResult>;
}

/** `SHA256:…` as `ssh-keygen -l` prints it, for messages. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The base64 blobs of recorded host key lines (`type base64 [comment]`). */
function recordedBlobs(hostKeys: readonly string[]): Set<string> {
  return new Set(hostKeys.map((line) => line.split(' ')[1] ?? ''));
}

export async function withSsh<T>(
  target: ParsedLinuxTarget,
  action: string,
  use: (session: SshSession) => Promise<T>,
): Promise<T> {
  const where = `Linux server ${target.host}:${target.port}`;
  const details = { engine: 'linux-ssh', host: target.host, port: target.port };
  const client = new ssh2.Client();
  const allowed = recordedBlobs(target.hostKeys);
  let offered: Buffer | undefined;

  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (error: Error & { level?: string }) => {
      if (offered && !allowed.has(offered.toString('base64'))) {
        reject(
          new GatehouseError(
            'target_unavailable',
            `${where} presented host key ${fingerprint(offered)}, which is not among the keys recorded for the asset; ` +
              'Gatehouse refused to connect. If the server was rebuilt, record its new key (ssh-keyscan) on the asset',
            { details: { ...details, reason: 'host_key_mismatch', fingerprint: fingerprint(offered) } },
          ),
        );
        return;
      }
      const { code, message } = codeAndMessage(error);
      if (error.level === 'client-authentication') {
        reject(
          new GatehouseError(
            'target_unavailable',
            `${where} refused the automation key of '${target.automation.username}'; check its authorized_keys`,
            { details: { ...details, reason: 'credential' } },
          ),
        );
      } else if (networkErrorCodes.has(code) || /timed out/i.test(message)) {
        reject(
          new TransientError(
            'target_unavailable',
            `${where} is unreachable (${code === 'unknown' ? message : code}) while ${action}; it will be retried`,
            { details },
          ),
        );
      } else {
        reject(
          new GatehouseError('target_unavailable', `${where} failed while ${action}: ${message}`, {
            details,
            retryable: true,
          }),
        );
      }
    });
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.automation.username,
        privateKey: target.automation.privateKey,
        readyTimeout: target.connectTimeoutMs,
        hostVerifier: (key: Buffer) => {
          offered = key;
          return allowed.has(key.toString('base64'));
        },
      });
    } catch (error) {
      // ssh2 throws synchronously on a private key it cannot parse
      reject(
        new ValidationError(
          `the automation private key of the asset cannot be used: ${codeAndMessage(error).message}`,
        ),
      );
    }
  });

  const session: SshSession = {
    exec: (argv, stdin) =>
      new Promise<ExecResult>((resolve, reject) => {
        client.exec(commandLine(argv), (error, stream) => {
          if (error) {
            reject(new TransientError('target_unavailable', `${where}: ${error.message}`, { details }));
            return;
          }
          let stdout = '';
          let stderr = '';
          stream.on('data', (chunk: Buffer) => {
            if (stdout.length < MAX_OUTPUT) stdout += chunk.toString('utf8');
          });
          stream.stderr.on('data', (chunk: Buffer) => {
            if (stderr.length < MAX_OUTPUT) stderr += chunk.toString('utf8');
          });
          stream.once('close', (code: number | null) => resolve({ code: code ?? 255, stdout, stderr }));
          stream.end(stdin ?? '');
        });
      }),
  };

  try {
    return await use(session);
  } finally {
    client.end();
  }
}

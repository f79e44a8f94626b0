import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

const secretKeys = [
  'password',
  'newPassword',
  'secret',
  'token',
  'bootstrapToken',
  'masterKey',
  'privateKey',
  'credential',
  'adminCredential',
  'authorization',
  'cookie',
  'totp',
  'totpSecret',
];

/** Paths redacted in every log line: secrets never reach the logs, whatever nests them. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  ...secretKeys.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]),
];

export function createLogger(options: { level: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'gatehouse' },
      redact: { paths: redactPaths, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination,
  );
}

import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5803 format, as `\password` in psql
 * and `PQencryptPasswordConn` compute it). Sending the verifier instead of the password keeps the
 * plain text out of the target's statement logs, `pg_stat_statements` and `pg_stat_activity`.
 *
 * PostgreSQL applies SASLprep to a password before hashing it, except to pure ASCII, which it leaves
 * as it is. So the verifier can only be computed here for ASCII passwords (all generated ones are); for
 * any other the caller sends the password and lets the server prepare and hash it — psql and libpq
 * then prepare it the same way when logging in.
 */
export async function scramSha256Verifier(
  password: string,
  options: { salt?: Buffer; iterations?: number } = {},
): Promise<string> {
  const salt = options.salt ?? randomBytes(16);
  const iterations = options.iterations ?? 4096;
  const salted = await pbkdf2Async(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

// eslint-disable-next-line no-control-regex
export const isAscii = (text: string): boolean => /^[\u0000-\u007f]*$/.test(text);

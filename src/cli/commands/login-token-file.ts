import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { GatehouseError } from '../../platform/errors.js';

/** Where `gatehouse login` keeps the token: GATEHOUSE_TOKEN_FILE, or ~/.config/gatehouse/token. */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GATEHOUSE_TOKEN_FILE) return path.resolve(env.GATEHOUSE_TOKEN_FILE);
  const base = env.XDG_CONFIG_HOME ? env.XDG_CONFIG_HOME : path.join(homedir(), '.config');
  return path.join(base, 'gatehouse', 'token');
}

/** The stored token, if any (a file readable by others is refused rather than used). */
export function readStoredToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = tokenFilePath(env);
  if (!existsSync(file)) return undefined;
  if ((statSync(file).mode & 0o077) !== 0) {
    throw new GatehouseError(
      'precondition_failed',
      `${file} can be read by other users: run chmod 600 ${file} (or gatehouse login again)`,
    );
  }
  const text = readFileSync(file, 'utf8').trim();
  return text || undefined;
}

import { execFile } from 'node:child_process';

/**
 * The real command-line clients, as an engineer on a jumpbox would use them. The password goes through
 * the environment (PGPASSWORD, MYSQL_PWD), never the command line, and no option file is read.
 */
export interface ClientResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

function exec(command: string, args: string[], env: Record<string, string>): Promise<ClientResult> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 15_000 },
      (error, stdout, stderr) => resolve({ ok: !error, stdout: stdout.trim(), stderr: stderr.trim() }),
    );
  });
}

export interface Login {
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
}

export function psql(login: Login, sql: string): Promise<ClientResult> {
  return exec(
    'psql',
    [
      ...['-X', '-w', '-A', '-t', '-v', 'ON_ERROR_STOP=1'],
      ...['-h', login.host, '-p', String(login.port), '-U', login.user, '-d', login.database ?? 'postgres'],
      ...['-c', sql],
    ],
    { PGPASSWORD: login.password, PGCONNECT_TIMEOUT: '5', PGSSLMODE: 'disable' },
  );
}

export function mariadb(login: Login, sql: string): Promise<ClientResult> {
  return exec(
    'mariadb',
    [
      ...['--no-defaults', '--protocol=TCP', '--batch', '--skip-column-names', '--connect-timeout=5'],
      ...['-h', login.host, '-P', String(login.port), '-u', login.user],
      ...(login.database ? ['-D', login.database] : []),
      ...['-e', sql],
    ],
    { MYSQL_PWD: login.password },
  );
}

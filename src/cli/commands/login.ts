import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { GatehouseError } from '../../platform/errors.js';
import { createApiClient } from '../api-client.js';
import { contextFor } from '../context.js';
import { readStoredToken, tokenFilePath } from './login-token-file.js';

function storeToken(token: string): string {
  const file = tokenFilePath();
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // an existing file keeps its old mode otherwise
  return file;
}

/** Asks questions on stderr and reads answers from stdin, one line each; on a terminal, secrets are not echoed. */
export function createPrompter() {
  const tty = Boolean(process.stdin.isTTY);
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: tty });
  const lines = rl[Symbol.asyncIterator]();
  let muted = false;
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  const write = output._writeToOutput?.bind(rl);
  output._writeToOutput = (s: string) => {
    if (!muted && write) write(s);
  };
  return {
    async ask(question: string, secret: boolean): Promise<string> {
      process.stderr.write(question);
      muted = secret && tty;
      const next = await lines.next();
      muted = false;
      if (secret && tty) process.stderr.write('\n');
      if (next.done) throw new GatehouseError('bad_request', `No answer to '${question.trim()}' on stdin`);
      return String(next.value).trim();
    },
    close: () => rl.close(),
  };
}

type Prompter = ReturnType<typeof createPrompter>;

async function call<T>(url: string, init: RequestInit): Promise<{ body: T; response: Response }> {
  const response = await fetch(url, init);
  const body = (await response.json()) as T & { code?: string; message?: string };
  if (!response.ok) {
    throw new GatehouseError(
      (body.code as never) ?? 'unauthenticated',
      body.message ?? `HTTP ${response.status}`,
    );
  }
  return { body, response };
}

/** Signs in with a password and a TOTP code, then mints an API token for this machine with that session. */
async function tokenFromPassword(
  prompt: Prompter,
  base: string,
  username: string,
  days: number,
): Promise<string> {
  const password = await prompt.ask('Password: ', true);
  const json = { 'content-type': 'application/json' };
  const first = await call<{ next: string; enrol?: { secret: string } }>(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ username, password }),
  });
  if (first.body.next !== 'totp') {
    throw new GatehouseError(
      'precondition_failed',
      'This account has no second factor yet: sign in once in the browser to enrol TOTP, then run gatehouse login again',
    );
  }
  const pending = /gh_pending=([^;]+)/.exec(first.response.headers.get('set-cookie') ?? '')?.[1];
  const code = await prompt.ask('TOTP or recovery code: ', true);
  const second = await call<{ csrfToken: string }>(`${base}/api/v1/auth/totp`, {
    method: 'POST',
    headers: { ...json, cookie: `gh_pending=${pending ?? ''}` },
    body: JSON.stringify(/^\d{6}$/.test(code) ? { code } : { recoveryCode: code }),
  });
  const session = /gh_session=([^;]+)/.exec(second.response.headers.get('set-cookie') ?? '')?.[1];
  const headers = { ...json, cookie: `gh_session=${session ?? ''}`, 'x-csrf-token': second.body.csrfToken };
  const name = `cli ${hostname()} ${new Date().toISOString().slice(0, 19)}`;
  const created = await call<{ token: string }>(`${base}/api/v1/tokens`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ name, expiresInDays: days }),
  });
  // the session was only needed to mint the token
  await fetch(`${base}/api/v1/auth/logout`, { method: 'POST', headers });
  return created.body.token;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description(
      'Keep an API token for the CLI in ~/.config/gatehouse/token (mode 0600; GATEHOUSE_TOKEN_FILE elsewhere): ' +
        'a token from --token/GATEHOUSE_TOKEN or stdin, or --user to sign in with password and TOTP',
    )
    .option('--user <username>', 'sign in with your password and TOTP code and mint a token for this machine')
    .option('--days <n>', 'lifetime of a minted token in days', '30')
    .action(async (options: { user?: string; days: string }, command: Command) => {
      const ctx = contextFor(command);
      const globals = command.optsWithGlobals<{ token?: string }>();
      const base = ctx.baseUrl().replace(/\/+$/, '');
      let token = options.user ? undefined : (globals.token ?? process.env.GATEHOUSE_TOKEN);
      if (!token) {
        const prompt = createPrompter();
        try {
          token = options.user
            ? await tokenFromPassword(prompt, base, options.user, Number(options.days))
            : await prompt.ask('API token: ', true);
        } finally {
          prompt.close();
        }
      }
      const me = await createApiClient({ url: base, token }).get<{ operator: { username: string } }>(
        '/api/v1/me',
      );
      const file = storeToken(token);
      ctx.out.result({ username: me.operator.username, tokenFile: file }, () =>
        ctx.out.line(`Signed in as ${me.operator.username}; token kept in ${file}`),
      );
    });

  program
    .command('logout')
    .description('Revoke the token kept by gatehouse login and delete its file')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const file = tokenFilePath();
      const token = readStoredToken();
      if (!token) {
        ctx.out.result({ loggedOut: false }, () => ctx.out.line('No stored token: nothing to do'));
        return;
      }
      const api = createApiClient({ url: ctx.baseUrl(), token });
      const revoked = await api
        .get<{ tokenId: string | null }>('/api/v1/me')
        .then(async (me) =>
          me.tokenId ? api.delete(`/api/v1/tokens/${me.tokenId}`).then(() => true) : false,
        )
        .catch(() => false); // an expired or revoked token: only the file is left to remove
      rmSync(file, { force: true });
      ctx.out.result({ loggedOut: true, revoked }, () =>
        ctx.out.line(`Logged out${revoked ? ' (token revoked)' : ''}; removed ${file}`),
      );
    });
}

import type { Command } from 'commander';
import { contextFor } from '../context.js';
import { createPrompter } from './login.js';

const collect = (value: string, previous: string[] = []) => [
  ...previous,
  ...value.split(',').filter(Boolean),
];

interface TokenView {
  id: string;
  name: string;
  prefix: string;
  roles: string[];
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  token?: string;
}

export function registerIdentity(program: Command): void {
  program
    .command('whoami')
    .description('Show the operator and roles behind your token')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const me = await ctx
        .api()
        .get<{ operator: { username: string; displayName: string }; roles: string[] }>('/api/v1/me');
      ctx.out.result(me, () =>
        ctx.out.line(`${me.operator.username} (${me.operator.displayName}); roles: ${me.roles.join(', ')}`),
      );
    });

  const operators = program.command('operators').description('Operators: one account per person');
  operators
    .command('list')
    .description('List operators')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { items } = await ctx.api().get<{ items: Record<string, unknown>[] }>('/api/v1/operators');
      ctx.out.table(items, ['username', 'displayName', 'roles', 'groups', 'active']);
    });
  operators
    .command('create <username>')
    .description('Create an operator')
    .requiredOption('--name <display name>', 'full name')
    .option('--email <email>', 'e-mail address')
    .option(
      '--role <role>',
      'role (repeatable or comma-separated): requester, approver, network-admin, security-officer, auditor, admin',
      collect,
    )
    .option('--group <group>', 'group (repeatable or comma-separated)', collect)
    .action(
      async (
        username: string,
        options: { name: string; email?: string; role?: string[]; group?: string[] },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const created = await ctx.api().post<Record<string, unknown>>('/api/v1/operators', {
          username,
          displayName: options.name,
          ...(options.email ? { email: options.email } : {}),
          ...(options.role ? { roles: options.role } : {}),
          ...(options.group ? { groups: options.group } : {}),
        });
        ctx.out.result(created, () => ctx.out.line(`Created operator ${username}.`));
      },
    );

  operators
    .command('update <username>')
    .description(
      "Change an operator's roles, groups, customer scope or status (admins; never your own account)",
    )
    .option('--role <role>', 'the whole set of roles (repeatable or comma-separated)', collect)
    .option('--group <group>', 'the whole set of groups (repeatable or comma-separated)', collect)
    .option('--customer <name>', 'scope to these customers (repeatable); --all-customers lifts it', collect)
    .option('--all-customers', 'no customer scope')
    .option('--deactivate', 'end their sessions, tokens and live grants')
    .option('--activate', 'let them sign in again')
    .action(
      async (
        username: string,
        options: {
          role?: string[];
          group?: string[];
          customer?: string[];
          allCustomers?: boolean;
          deactivate?: boolean;
          activate?: boolean;
        },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const updated = await ctx
          .api()
          .patch<{ operator: { username: string; roles: string[]; active: boolean }; grantsRevoked: number }>(
            `/api/v1/operators/${encodeURIComponent(username)}`,
            {
              ...(options.role ? { roles: options.role } : {}),
              ...(options.group ? { groups: options.group } : {}),
              ...(options.customer ? { customers: options.customer } : {}),
              ...(options.allCustomers ? { customers: [] } : {}),
              ...(options.deactivate ? { active: false } : {}),
              ...(options.activate ? { active: true } : {}),
            },
          );
        ctx.out.result(updated, () =>
          ctx.out.line(
            `${updated.operator.username}: roles ${updated.operator.roles.join(', ')}; ${
              updated.operator.active ? 'active' : `deactivated (${updated.grantsRevoked} grants revoked)`
            }`,
          ),
        );
      },
    );
  operators
    .command('password <username>')
    .description(
      "Set an operator's password, read from stdin (never a flag); they enrol TOTP at next sign-in",
    )
    .option('--reset-mfa', 'also forget their TOTP seed and recovery codes')
    .action(async (username: string, options: { resetMfa?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const prompt = createPrompter();
      let password: string;
      try {
        password = await prompt.ask(`New password for ${username}: `, true);
      } finally {
        prompt.close();
      }
      await ctx.api().put(`/api/v1/operators/${encodeURIComponent(username)}/password`, {
        password,
        resetMfa: Boolean(options.resetMfa),
      });
      ctx.out.result({ passwordSet: username }, () => ctx.out.line(`Password set for ${username}.`));
    });
  operators
    .command('unlock <username>')
    .description('Lift a lockout after too many failed sign-in attempts')
    .action(async (username: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      await ctx.api().post(`/api/v1/operators/${encodeURIComponent(username)}/unlock`, {});
      ctx.out.result({ unlocked: username }, () => ctx.out.line(`Unlocked ${username}.`));
    });

  const tokens = program.command('tokens').description('Your API tokens, for automation and the CLI');
  tokens
    .command('list')
    .description('List your tokens (never their secrets)')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { items } = await ctx.api().get<{ items: TokenView[] }>('/api/v1/tokens');
      ctx.out.table(items as unknown as Record<string, unknown>[], [
        'id',
        'name',
        'prefix',
        'roles',
        'expiresAt',
        'lastUsedAt',
        'revokedAt',
      ]);
    });
  tokens
    .command('create <name>')
    .description('Create a token; its secret is printed once')
    .option('--days <n>', 'days until it expires (1-365)', '90')
    .option('--role <role>', 'limit it to these of your roles (repeatable or comma-separated)', collect)
    .action(async (name: string, options: { days: string; role?: string[] }, command: Command) => {
      const ctx = contextFor(command);
      const created = await ctx.api().post<TokenView>('/api/v1/tokens', {
        name,
        expiresInDays: Number(options.days),
        ...(options.role ? { roles: options.role } : {}),
      });
      ctx.out.result(created, () => {
        ctx.out.line(
          `Token '${created.name}' (roles: ${created.roles.join(', ')}; expires ${created.expiresAt}):`,
        );
        ctx.out.line(created.token ?? '');
        ctx.out.note('This is the only time it is shown.');
      });
    });
  tokens
    .command('revoke <id>')
    .description('Revoke a token')
    .action(async (id: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const revoked = await ctx.api().delete<TokenView>(`/api/v1/tokens/${encodeURIComponent(id)}`);
      ctx.out.result(revoked, () => ctx.out.line(`Revoked token '${revoked.name}'.`));
    });
}

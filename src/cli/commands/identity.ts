import type { Command } from 'commander';
import { contextFor } from '../context.js';

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

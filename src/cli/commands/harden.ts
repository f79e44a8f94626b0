import { Option, type Command } from 'commander';
import { query } from '../api-client.js';
import { contextFor } from '../context.js';

interface DecisionView {
  id: string;
  baseline: string;
  ruleId: string;
  scopeType: string;
  scopeName: string | null;
  status: string;
  justification: string;
  approver: string | null;
  expiresAt: string | null;
  expired: boolean;
  compensatingControl: string;
  author: string;
}

const DECISION_COLUMNS = ['ruleId', 'scope', 'status', 'approver', 'expiresAt', 'justification'];

/** `machine-type:web`, `customer:acme`, `asset:web-1` or `fleet`, as the API's scope object. */
export function parseScope(value: string): { type: string; name?: string } {
  if (value === 'fleet') return { type: 'fleet' };
  const [type = '', ...rest] = value.split(':');
  return { type, name: rest.join(':') };
}

export function registerHarden(program: Command): void {
  const harden = program
    .command('harden')
    .description('Hardening: baselines, the decisions register, scans, templates and the hardening document')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse harden baselines
  gatehouse harden decide --baseline debian-12-server --rule tmp-partition --scope machine-type:web \\
      --status not-applicable --justification "tmp is a tmpfs managed by systemd on the web image"
  gatehouse harden decide --baseline debian-12-server --rule sshd-root-login --scope asset:web-1 \\
      --status exception --justification "vendor agent needs root until v5" --approver sam \\
      --expires 2026-12-31 --compensating-control "root key only from the jumpbox"
  gatehouse harden decisions --baseline debian-12-server`,
    );

  harden
    .command('baselines')
    .description('List the baselines')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { items } = await ctx
        .api()
        .get<{ items: Record<string, unknown>[] }>('/api/v1/hardening/baselines');
      ctx.out.result(items, () => ctx.out.table(items, ['id', 'version', 'title', 'profile', 'rules']));
    });

  harden
    .command('decisions')
    .description('List the decisions register')
    .option('--baseline <id>', 'only this baseline')
    .option('--rule <id>', 'only this rule')
    .addOption(
      new Option('--scope-type <type>', 'only this scope type').choices([
        'fleet',
        'machine-type',
        'customer',
        'asset',
      ]),
    )
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const { items } = await ctx
        .api()
        .get<{ items: DecisionView[] }>(
          `/api/v1/hardening/decisions${query({ baseline: options.baseline, ruleId: options.rule, scopeType: options.scopeType })}`,
        );
      ctx.out.result(items, () =>
        ctx.out.table(
          items.map((d) => ({
            ...d,
            scope: d.scopeName ? `${d.scopeType}:${d.scopeName}` : d.scopeType,
            status: d.expired ? 'exception (expired)' : d.status,
          })),
          DECISION_COLUMNS,
        ),
      );
    });

  harden
    .command('decide')
    .description('Record the decision for a rule and scope (replaces the one there was)')
    .requiredOption('--baseline <id>', 'the baseline, like debian-12-server')
    .requiredOption('--rule <id>', 'the rule id, like sshd-root-login')
    .requiredOption('--scope <scope>', 'fleet, machine-type:NAME, customer:NAME or asset:NAME')
    .addOption(
      new Option('--status <status>', 'the decision')
        .choices(['enforced', 'not-applicable', 'exception'])
        .makeOptionMandatory(),
    )
    .option('--justification <text>', 'why (required unless enforced)')
    .option('--approver <username>', 'exceptions: who approved it (not you)')
    .option('--expires <date>', 'exceptions: when it stops counting, like 2026-12-31')
    .option('--compensating-control <text>', 'exceptions: what mitigates the risk meanwhile')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const decision = await ctx.api().post<DecisionView>('/api/v1/hardening/decisions', {
        baseline: options.baseline,
        ruleId: options.rule,
        scope: parseScope(options.scope ?? ''),
        status: options.status,
        justification: options.justification,
        approver: options.approver,
        expiresAt: options.expires,
        compensatingControl: options.compensatingControl,
      });
      ctx.out.result(decision, () =>
        ctx.out.line(
          `${decision.ruleId} on ${decision.scopeType}${decision.scopeName ? `:${decision.scopeName}` : ''}: ${decision.status} (decision ${decision.id})`,
        ),
      );
    });

  harden
    .command('undecide <id>')
    .description('Remove a decision: the rule falls back to the broader scope')
    .action(async (id: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      await ctx.api().delete(`/api/v1/hardening/decisions/${encodeURIComponent(id)}`);
      ctx.out.result({ removed: id }, () => ctx.out.line(`removed decision ${id}`));
    });
}

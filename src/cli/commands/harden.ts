import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { query } from '../api-client.js';
import { contextFor, type CliContext } from '../context.js';
import { mapLimited } from '../../modules/hardening/domain/score.js';

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

interface ScanView {
  id: string;
  asset: string;
  baseline: string;
  state: 'completed' | 'failed';
  error: string | null;
  score: number | null;
  counts: Record<string, number>;
  drift: { ruleId: string; from: string | null; to: string | null }[];
  transport: string;
}

const SCAN_COLUMNS = ['asset', 'state', 'score', 'pass', 'fail', 'exception', 'drift', 'id'];
const scanRow = (s: ScanView) => ({
  ...s,
  pass: s.counts.pass,
  fail: (s.counts.fail ?? 0) + (s.counts.error ?? 0),
  exception: s.counts.exception,
  drift: s.drift.length,
  score: s.state === 'failed' ? `failed: ${s.error ?? ''}` : s.score,
});

/** The server assets a scan targets, listed through the inventory API (every page). */
async function scanTargets(ctx: CliContext, filter: Record<string, string | undefined>): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await ctx
      .api()
      .get<{ items: { name: string }[]; nextCursor: string | null }>(
        `/api/v1/assets${query({ kind: 'server', limit: 500, ...filter, cursor })}`,
      );
    names.push(...page.items.map((a) => a.name));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return names;
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

  harden
    .command('scan')
    .description('Scan servers against a baseline: one read-only script per host, hosts in parallel')
    .option('--baseline <id>', 'the baseline', 'debian-12-server')
    .option('--asset <name>', 'one server')
    .option('--machine-type <name>', 'every server of a machine type')
    .option('--customer <name>', 'every server of a customer')
    .option('--all', 'every server')
    .option('--concurrency <n>', 'hosts scanned at once', '8')
    .action(async (options: Record<string, string | boolean | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const chosen = ['asset', 'machineType', 'customer', 'all'].filter((k) => options[k] !== undefined);
      if (chosen.length !== 1) {
        throw new ValidationError('name exactly one target: --asset, --machine-type, --customer or --all');
      }
      const baseline = String(options.baseline);
      const targets =
        typeof options.asset === 'string'
          ? [options.asset]
          : await scanTargets(ctx, {
              machineType: options.machineType as string | undefined,
              customer: options.customer as string | undefined,
            });
      ctx.out.note(`scanning ${targets.length} server(s) against ${baseline}`);
      let done = 0;
      const scans = await mapLimited(
        targets,
        Math.max(1, Number(options.concurrency) || 8),
        async (asset) => {
          const { items } = await ctx
            .api()
            .post<{ items: ScanView[] }>('/api/v1/hardening/scans', { baseline, asset });
          const scan = items[0]!;
          done += 1;
          ctx.out.note(
            `[${done}/${targets.length}] ${asset}: ${scan.state === 'failed' ? `failed (${scan.error ?? ''})` : `score ${scan.score ?? '-'}, ${scan.counts.fail ?? 0} failing, ${scan.drift.length} changed since last scan`}`,
          );
          return scan;
        },
      );
      ctx.out.result(scans, () => ctx.out.table(scans.map(scanRow), SCAN_COLUMNS));
    });

  harden
    .command('show <scan-id>')
    .description('A scan with every rule result')
    .option('--failing', 'only rules that fail or err')
    .action(async (id: string, options: { failing?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const scan = await ctx
        .api()
        .get<ScanView & { results: Record<string, unknown>[] }>(
          `/api/v1/hardening/scans/${encodeURIComponent(id)}`,
        );
      const results = options.failing
        ? scan.results.filter((r) => r.result === 'fail' || r.result === 'error')
        : scan.results;
      ctx.out.result({ ...scan, results }, () => {
        ctx.out.line(`${scan.asset}  ${scan.baseline}  ${scan.state}  score ${scan.score ?? '-'}`);
        for (const d of scan.drift) ctx.out.line(`  drift: ${d.ruleId} ${d.from ?? '-'} → ${d.to ?? '-'}`);
        ctx.out.table(results, ['cis', 'ruleId', 'result', 'decision', 'observed']);
      });
    });

  harden
    .command('scores')
    .description('Scores from the latest scan of each host: per host, machine type, customer and the fleet')
    .option('--baseline <id>', 'the baseline', 'debian-12-server')
    .action(async (options: { baseline: string }, command: Command) => {
      const ctx = contextFor(command);
      type Line = { name: string; hosts: number; score: number | null; counts: Record<string, number> };
      const report = await ctx
        .api()
        .get<{ fleet: Line; hosts: Line[]; machineTypes: Line[]; customers: Line[] }>(
          `/api/v1/hardening/scores${query({ baseline: options.baseline })}`,
        );
      const row = (l: Line) => ({
        ...l,
        pass: l.counts.pass,
        fail: l.counts.fail,
        exception: l.counts.exception,
      });
      const columns = ['name', 'hosts', 'score', 'pass', 'fail', 'exception'];
      ctx.out.result(report, () => {
        ctx.out.line(`fleet: score ${report.fleet.score ?? '-'} over ${report.fleet.hosts} host(s)`);
        ctx.out.line('\nmachine types:');
        ctx.out.table(report.machineTypes.map(row), columns);
        ctx.out.line('\ncustomers:');
        ctx.out.table(report.customers.map(row), columns);
        ctx.out.line('\nhosts:');
        ctx.out.table(report.hosts.map(row), columns);
      });
    });

  harden
    .command('apply')
    .description(
      'Remediate the failing enforced rules of a baseline on one server: shows the planned changes, --yes applies them',
    )
    .requiredOption('--asset <name>', 'the server')
    .option('--baseline <id>', 'the baseline', 'debian-12-server')
    .option('--yes', 'apply the planned changes (otherwise only show them)')
    .action(async (options: { asset: string; baseline: string; yes?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      type Change = { ruleId: string; title: string; change: string };
      type Outcome = { applied: boolean; changes: Change[]; manual: Change[]; scan: ScanView | null };
      const body = { baseline: options.baseline, asset: options.asset };
      const plan = await ctx.api().post<Outcome>('/api/v1/hardening/apply', { ...body, dryRun: true });
      const printPlan = (o: Outcome) => {
        ctx.out.line(`${o.changes.length} change(s) on ${options.asset} for ${options.baseline}:`);
        for (const c of o.changes) ctx.out.line(`  ${c.ruleId}: ${c.change}`);
        if (o.manual.length > 0) {
          ctx.out.line(`${o.manual.length} failing rule(s) need a person:`);
          for (const c of o.manual) ctx.out.line(`  ${c.ruleId}: ${c.change}`);
        }
      };
      if (!options.yes || plan.changes.length === 0) {
        ctx.out.result(plan, () => {
          printPlan(plan);
          if (plan.changes.length > 0) ctx.out.line('nothing changed: run again with --yes to apply');
        });
        return;
      }
      if (!ctx.out.json) printPlan(plan);
      const done = await ctx.api().post<Outcome>('/api/v1/hardening/apply', { ...body, dryRun: false });
      ctx.out.result(done, () =>
        ctx.out.line(
          `applied; rescan: score ${done.scan?.score ?? '-'}, ${done.scan?.counts.fail ?? 0} failing, ${done.scan?.drift.length ?? 0} changed`,
        ),
      );
    });

  harden
    .command('document')
    .description(
      'The hardening document: every recommendation, configured or not and why, with the latest fleet results',
    )
    .option('--baseline <id>', 'the baseline', 'debian-12-server')
    .option('--machine-type <name>', 'only this machine type (its decisions and hosts)')
    .option(
      '--out <dir>',
      'write hardening-<baseline>[-<machine type>].md and .html there (default: Markdown to stdout)',
    )
    .action(async (options: { baseline: string; machineType?: string; out?: string }, command: Command) => {
      const ctx = contextFor(command);
      const url = (format: string) =>
        `/api/v1/hardening/document${query({ baseline: options.baseline, machineType: options.machineType, format })}`;
      if (!options.out) {
        process.stdout.write(await ctx.api().text(url('markdown')));
        return;
      }
      const base = path.join(
        options.out,
        `hardening-${options.baseline}${options.machineType ? `-${options.machineType}` : ''}`,
      );
      await mkdir(options.out, { recursive: true });
      await writeFile(`${base}.md`, await ctx.api().text(url('markdown')));
      await writeFile(`${base}.html`, await ctx.api().text(url('html')));
      ctx.out.result({ markdown: `${base}.md`, html: `${base}.html` }, () =>
        ctx.out.line(`wrote ${base}.md and ${base}.html`),
      );
    });
}

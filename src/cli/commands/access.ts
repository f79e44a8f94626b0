import { Option, type Command } from 'commander';
import { contextFor, type CliContext } from '../context.js';
import { registerAccessExtensions } from './access-extensions.js';
import { registerAccessPreview } from './access-preview.js';
import { getPage, registerReviewCommands, showReview, type ReviewedView } from './access-reviews.js';

export interface GrantView {
  id: string;
  asset: string;
  account: string;
  level: string;
  status: string;
  holder: string;
  notAfter: string | null;
  claimDeadline: string | null;
  revealedAt: string | null;
  revealedBy: string | null;
  endReason: string | null;
  lastError: string | null;
  revocationFailed: boolean;
  connection: string | null;
}

interface RequestView extends ReviewedView {
  asset: string;
  level: string;
  duration: string;
  ticket: string | null;
  requester: string;
  breakGlass: boolean;
  postReview: string | null;
  grant: GrantView | null;
}

const requestPath = (id: string) => `/api/v1/access/requests/${encodeURIComponent(id)}`;
const grantPath = (id: string) => `/api/v1/grants/${encodeURIComponent(id)}`;

function showGrant(ctx: CliContext, g: GrantView): void {
  ctx.out.line(
    `grant ${g.id}: ${g.status}${g.revocationFailed ? ' (REVOCATION FAILED, still retrying)' : ''}`,
  );
  ctx.out.line(`  account:   ${g.account} on ${g.asset} (${g.level}), held by ${g.holder}`);
  if (g.notAfter) ctx.out.line(`  until:     ${g.notAfter}`);
  else if (g.claimDeadline)
    ctx.out.line(`  reveal by: ${g.claimDeadline} (the clock starts at the first reveal)`);
  if (g.revealedAt) ctx.out.line(`  revealed:  ${g.revealedAt} by ${g.revealedBy ?? '?'}`);
  if (g.endReason) ctx.out.line(`  ended:     ${g.endReason}`);
  if (g.lastError) ctx.out.line(`  error:     ${g.lastError}`);
  if (g.connection) ctx.out.line(`  connect:   ${g.connection}`);
}

function showRequest(ctx: CliContext, r: RequestView): void {
  ctx.out.result(r, () => {
    ctx.out.line(
      `request ${r.id}: ${r.status}${r.postReview ? ` (break-glass review: ${r.postReview})` : ''}`,
    );
    ctx.out.line(
      `  ${r.requester} asks ${r.level} on ${r.asset} for ${r.duration}${r.ticket ? ` (${r.ticket})` : ''}`,
    );
    showReview(ctx, r);
    if (r.grant) showGrant(ctx, r.grant);
  });
}

export function registerAccess(program: Command): void {
  const access = program
    .command('access')
    .description('Just-in-time access: request, review, reveal, revoke, extend; the orphan sweeper')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse access preview --asset acme-prod-pg-1 --level read-only --duration 1h   what the policy says
  gatehouse access request --asset acme-prod-pg-1 --level read-only --duration 1h --ticket OPS-42 \\
      --reason "check the failed invoice run"
  gatehouse access list --status pending-approval
  gatehouse access approve <request id> --comment "ok for today"
  gatehouse access reveal <grant id>           the password, shown once
  gatehouse access extend <grant id> --for 30m --reason "the migration runs long"
  gatehouse access extensions list --status pending-approval
  gatehouse access extensions approve <extension id> --comment "ok"
  gatehouse access revoke <grant id>`,
    );

  registerAccessPreview(access);

  access
    .command('request')
    .description('Ask for access to an asset; the policies refuse it, grant it, or send it for review')
    .requiredOption('--asset <name>', 'the database asset')
    .addOption(
      new Option('--level <level>', 'permission level')
        .choices(['read-only', 'read-write', 'admin'])
        .makeOptionMandatory(),
    )
    .requiredOption('--duration <duration>', 'how long, like 30m, 2h or 1h30m')
    .requiredOption('--reason <text>', 'what you will do and why')
    .option('--ticket <ref>', 'the ticket the work is for, like OPS-42')
    .option('--file-transfer', 'ask for file transfer too')
    .option('--break-glass', 'emergency: granted at once, alerts security, reviewed afterwards')
    .action(
      async (
        options: {
          asset: string;
          level: string;
          duration: string;
          reason: string;
          ticket?: string;
          fileTransfer?: boolean;
          breakGlass?: boolean;
        },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const created = await ctx.api().post<RequestView>('/api/v1/access/requests', {
          asset: options.asset,
          level: options.level,
          duration: options.duration,
          reason: options.reason,
          ...(options.ticket ? { ticket: options.ticket } : {}),
          fileTransfer: Boolean(options.fileTransfer),
          breakGlass: Boolean(options.breakGlass),
        });
        showRequest(ctx, created);
        if (!ctx.out.json && created.grant) {
          ctx.out.note(`When the grant is active: gatehouse access reveal ${created.grant.id}`);
        }
      },
    );

  access
    .command('list')
    .description('List access requests, newest first')
    .addOption(
      new Option('--status <status>', 'only requests in this state').choices([
        'pending-approval',
        'approved',
        'issued',
        'denied',
        'cancelled',
        'expired',
      ]),
    )
    .option('--mine', 'only your own')
    .option('--asset <name>', 'only requests for this asset')
    .option('--limit <n>', 'per page (1-200)', '50')
    .option('--cursor <id>', 'nextCursor from the previous page')
    .action(async (options: Record<string, string | boolean | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const page = await getPage<RequestView>(ctx, '/api/v1/access/requests', options);
      ctx.out.page(
        page,
        ['id', 'status', 'requester', 'asset', 'level', 'duration', 'ticket', 'grant'],
        (r) => ({ ...r, grant: r.grant?.status ?? '-' }),
      );
    });

  access
    .command('grants')
    .description('List grants, newest first')
    .addOption(
      new Option('--status <status>', 'only grants in this state').choices([
        'pending',
        'provisioning',
        'active',
        'revoking',
        'revoked',
        'failed',
        'revocation_failed',
      ]),
    )
    .option('--mine', 'only your own')
    .option('--asset <name>', 'only grants on this asset')
    .option('--limit <n>', 'per page (1-200)', '50')
    .option('--cursor <id>', 'nextCursor from the previous page')
    .action(async (options: Record<string, string | boolean | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const page = await getPage<GrantView>(ctx, '/api/v1/grants', options);
      ctx.out.page(page, ['id', 'status', 'holder', 'asset', 'account', 'level', 'notAfter']);
    });

  access
    .command('show <id>')
    .description('Show a request (or, with --grant, a grant) by id')
    .option('--grant', 'the id is a grant id')
    .action(async (id: string, options: { grant?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      if (options.grant) {
        const grant = await ctx.api().get<GrantView>(grantPath(id));
        return ctx.out.result(grant, () => showGrant(ctx, grant));
      }
      showRequest(ctx, await ctx.api().get<RequestView>(requestPath(id)));
    });

  registerReviewCommands(access, {
    path: requestPath,
    show: showRequest,
    approve: 'Approve a request (not your own)',
    deny: 'Deny a request; after issue this revokes its grant',
    cancel: 'Withdraw a request not yet issued',
    reader: 'requester',
  });

  access
    .command('reveal <grantId>')
    .description('Show the password of your grant: once; afterwards only when and by whom it was revealed')
    .action(async (grantId: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const credential = await ctx
        .api()
        .get<{ account: string; password: string; connection: string; notAfter: string | null }>(
          `${grantPath(grantId)}/credential`,
        );
      ctx.out.result(credential, () => {
        ctx.out.line(`account:  ${credential.account}`);
        ctx.out.line(`password: ${credential.password}`);
        ctx.out.line(`connect:  ${credential.connection}`);
        if (credential.notAfter) ctx.out.line(`until:    ${credential.notAfter}`);
        ctx.out.note(
          'This password is shown once and kept nowhere readable: store it for the session, not beyond.',
        );
      });
    });

  access
    .command('revoke <grantId>')
    .description('End a grant now (yours, or anyone’s as an admin)')
    .option('--reason <text>', 'why, for the audit log')
    .action(async (grantId: string, options: { reason?: string }, command: Command) => {
      const ctx = contextFor(command);
      const grant = await ctx
        .api()
        .post<GrantView>(`${grantPath(grantId)}/revoke`, options.reason ? { reason: options.reason } : {});
      ctx.out.result(grant, () => showGrant(ctx, grant));
    });

  registerAccessExtensions(access, showGrant);

  access
    .command('sweep')
    .description('Run the orphan sweeper now: remove Gatehouse accounts that no live grant accounts for')
    .option('--prefix <prefix>', 'only accounts starting with this (default gh_)')
    .action(async (options: { prefix?: string }, command: Command) => {
      const ctx = contextFor(command);
      const report = await ctx.api().post<{
        assets: number;
        accounts: number;
        removed: { asset: string; account: string }[];
        errors: { asset: string; message: string }[];
      }>('/api/v1/access/sweep', options.prefix ? { prefix: options.prefix } : {});
      ctx.out.result(report, () => {
        ctx.out.line(
          `Checked ${report.accounts} accounts on ${report.assets} assets; removed ${report.removed.length}.`,
        );
        if (report.removed.length > 0) ctx.out.table(report.removed, ['asset', 'account']);
        for (const e of report.errors) ctx.out.note(`could not check ${e.asset}: ${e.message}`);
      });
    });
}

import { Option, type Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { query } from '../api-client.js';
import { contextFor, type CliContext } from '../context.js';
import type { GrantView } from './access.js';

/** `gatehouse access extend` and `gatehouse access extensions …`: more time on a grant, and its reviews. */

interface ExtensionView {
  id: string;
  grantId: string;
  asset: string;
  account: string;
  requester: string;
  reason: string;
  status: string;
  policy: string;
  fromNotAfter: string;
  notAfter: string;
  extendBy: string;
  capped: boolean;
  tally: { approvers: number; quorum: number; missingGroups: string[] };
  reviewDeadline: string | null;
  reviews: { reviewer: string; verdict: string; comment: string; at: string }[];
  grant: GrantView;
}

const extensionPath = (id: string) => `/api/v1/access/extensions/${encodeURIComponent(id)}`;
const grantPath = (id: string) => `/api/v1/grants/${encodeURIComponent(id)}`;

function showExtension(
  ctx: CliContext,
  showGrant: (ctx: CliContext, g: GrantView) => void,
  e: ExtensionView,
): void {
  ctx.out.result(e, () => {
    ctx.out.line(`extension ${e.id}: ${e.status}`);
    ctx.out.line(
      `  ${e.requester} asks ${e.extendBy} more on ${e.account} (${e.asset}): until ${e.notAfter}${e.capped ? ' (capped at the policy maximum)' : ''}`,
    );
    ctx.out.line(`  reason:    ${e.reason}`);
    ctx.out.line(`  policy:    ${e.policy}; approvals ${e.tally.approvers}/${e.tally.quorum}`);
    if (e.tally.missingGroups.length > 0)
      ctx.out.line(`  missing:   one approver from ${e.tally.missingGroups.join(', ')}`);
    if (e.status === 'pending-approval' && e.reviewDeadline) ctx.out.line(`  expires:   ${e.reviewDeadline}`);
    for (const review of e.reviews) {
      ctx.out.line(
        `  ${review.verdict === 'approve' ? 'approved' : 'denied'} by ${review.reviewer} at ${review.at}${review.comment ? `: ${review.comment}` : ''}`,
      );
    }
    showGrant(ctx, e.grant);
  });
}

export function registerAccessExtensions(
  access: Command,
  showGrant: (ctx: CliContext, g: GrantView) => void,
): void {
  const show = (ctx: CliContext, e: ExtensionView) => showExtension(ctx, showGrant, e);

  access
    .command('extend <grantId>')
    .description(
      'Ask for more time on your running grant; the policies decide as for a new request (at once, or after review)',
    )
    .option('--for <duration>', 'how much longer, like 30m or 1h')
    .option('--until <time>', 'the new end, an ISO 8601 time like 2026-03-02T18:00:00Z')
    .requiredOption('--reason <text>', 'why the work needs more time: reviewers see it')
    .action(
      async (
        grantId: string,
        options: { for?: string; until?: string; reason: string },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        if ((options.for === undefined) === (options.until === undefined)) {
          throw new ValidationError('give either --for <duration> or --until <time>, not both');
        }
        const extension = await ctx.api().post<ExtensionView>(`${grantPath(grantId)}/extend`, {
          ...(options.for !== undefined ? { duration: options.for } : { until: options.until }),
          reason: options.reason,
        });
        show(ctx, extension);
        if (!ctx.out.json && extension.status === 'pending-approval') {
          ctx.out.note(`A reviewer approves it with: gatehouse access extensions approve ${extension.id}`);
        }
      },
    );

  const extensions = access
    .command('extensions')
    .description('Grant extensions: list those awaiting review, show, approve, deny, cancel');

  extensions
    .command('list')
    .description('List extensions, newest first (reviewers: --status pending-approval for the review queue)')
    .addOption(
      new Option('--status <status>', 'only extensions in this state').choices([
        'pending-approval',
        'approved',
        'denied',
        'cancelled',
        'expired',
      ]),
    )
    .option('--grant <id>', 'only extensions of this grant')
    .option('--mine', 'only your own')
    .option('--limit <n>', 'per page (1-200)', '50')
    .option('--cursor <id>', 'nextCursor from the previous page')
    .action(async (options: Record<string, string | boolean | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const page = await ctx
        .api()
        .get<{ items: ExtensionView[]; nextCursor: string | null }>(
          `/api/v1/access/extensions${query({ ...options, mine: options.mine ? 'true' : undefined })}`,
        );
      ctx.out.page(page, [
        'id',
        'status',
        'requester',
        'asset',
        'account',
        'extendBy',
        'notAfter',
        'reviewDeadline',
      ]);
    });

  extensions
    .command('show <id>')
    .description('Show an extension, its reviews and its grant')
    .action(async (id: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      show(ctx, await ctx.api().get<ExtensionView>(extensionPath(id)));
    });

  for (const verdict of ['approve', 'deny'] as const) {
    const command = extensions
      .command(`${verdict} <id>`)
      .description(
        verdict === 'approve'
          ? 'Approve an extension (not your own); the grant runs longer once enough approvers agree'
          : 'Deny an extension; the grant keeps its end',
      );
    if (verdict === 'deny') command.requiredOption('--comment <text>', 'why: the holder sees it');
    else command.option('--comment <text>', 'a note for the holder and the audit log');
    command.action(async (id: string, options: { comment?: string }, cmd: Command) => {
      const ctx = contextFor(cmd);
      show(
        ctx,
        await ctx
          .api()
          .post<ExtensionView>(`${extensionPath(id)}/${verdict}`, { comment: options.comment ?? '' }),
      );
    });
  }

  extensions
    .command('cancel <id>')
    .description('Withdraw an extension awaiting review')
    .action(async (id: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      show(ctx, await ctx.api().post<ExtensionView>(`${extensionPath(id)}/cancel`, {}));
    });
}

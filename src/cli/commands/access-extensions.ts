import { Option, type Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { contextFor, type CliContext } from '../context.js';
import type { GrantView } from './access.js';
import { getPage, registerReviewCommands, showReview, type ReviewedView } from './access-reviews.js';

/** `gatehouse access extend` and `gatehouse access extensions …`: more time on a grant, and its reviews. */

interface ExtensionView extends ReviewedView {
  grantId: string;
  asset: string;
  account: string;
  requester: string;
  fromNotAfter: string;
  notAfter: string;
  extendBy: string;
  capped: boolean;
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
    showReview(ctx, e);
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
      const page = await getPage<ExtensionView>(ctx, '/api/v1/access/extensions', options);
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

  registerReviewCommands(extensions, {
    path: extensionPath,
    show,
    approve: 'Approve an extension (not your own); the grant runs longer once enough approvers agree',
    deny: 'Deny an extension; the grant keeps its end',
    cancel: 'Withdraw an extension awaiting review',
    reader: 'holder',
  });
}

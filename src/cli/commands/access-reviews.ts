import type { Command } from 'commander';
import { query } from '../api-client.js';
import { contextFor, type CliContext } from '../context.js';

/** What access requests and grant extensions share in the CLI: their review lines, list pages and review commands. */

/** The reviewed part of a request or an extension, as the API returns it. */
export interface ReviewedView {
  id: string;
  status: string;
  reason: string;
  policy: string;
  tally: { approvers: number; quorum: number; missingGroups: string[] };
  reviewDeadline: string | null;
  reviews: { reviewer: string; verdict: string; comment: string; at: string }[];
}

/** The reason, the policy and its tally, the review deadline while pending, and each review. */
export function showReview(ctx: CliContext, v: ReviewedView): void {
  ctx.out.line(`  reason:    ${v.reason}`);
  ctx.out.line(`  policy:    ${v.policy}; approvals ${v.tally.approvers}/${v.tally.quorum}`);
  if (v.tally.missingGroups.length > 0)
    ctx.out.line(`  missing:   one approver from ${v.tally.missingGroups.join(', ')}`);
  if (v.status === 'pending-approval' && v.reviewDeadline) ctx.out.line(`  expires:   ${v.reviewDeadline}`);
  for (const review of v.reviews) {
    ctx.out.line(
      `  ${review.verdict === 'approve' ? 'approved' : 'denied'} by ${review.reviewer} at ${review.at}${review.comment ? `: ${review.comment}` : ''}`,
    );
  }
}

/** One page of a list endpoint, the list command's options as its query (`--mine` as `mine=true`). */
export function getPage<T>(
  ctx: CliContext,
  path: string,
  options: Record<string, string | boolean | undefined>,
): Promise<{ items: T[]; nextCursor: string | null }> {
  return ctx
    .api()
    .get<{ items: T[]; nextCursor: string | null }>(
      `${path}${query({ ...options, mine: options.mine ? 'true' : undefined })}`,
    );
}

export interface ReviewCommands<T> {
  /** The API path of one item by id. */
  path: (id: string) => string;
  show: (ctx: CliContext, item: T) => void;
  /** Descriptions of the `approve`, `deny` and `cancel` commands. */
  approve: string;
  deny: string;
  cancel: string;
  /** Who reads the comment: `requester`, `holder`. */
  reader: string;
}

/** `approve <id> [--comment]`, `deny <id> --comment` and `cancel <id>` under `parent`. */
export function registerReviewCommands<T>(parent: Command, spec: ReviewCommands<T>): void {
  for (const verdict of ['approve', 'deny'] as const) {
    const command = parent.command(`${verdict} <id>`).description(spec[verdict]);
    if (verdict === 'deny') command.requiredOption('--comment <text>', `why: the ${spec.reader} sees it`);
    else command.option('--comment <text>', `a note for the ${spec.reader} and the audit log`);
    command.action(async (id: string, options: { comment?: string }, cmd: Command) => {
      const ctx = contextFor(cmd);
      spec.show(
        ctx,
        await ctx.api().post<T>(`${spec.path(id)}/${verdict}`, { comment: options.comment ?? '' }),
      );
    });
  }

  parent
    .command('cancel <id>')
    .description(spec.cancel)
    .action(async (id: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      spec.show(ctx, await ctx.api().post<T>(`${spec.path(id)}/cancel`, {}));
    });
}

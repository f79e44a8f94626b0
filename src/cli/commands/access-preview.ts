import { Option, type Command } from 'commander';
import { contextFor } from '../context.js';

interface PreviewView {
  outcome: 'refused' | 'auto-approved' | 'needs-approval' | 'break-glass';
  allowed: boolean;
  policy: string | null;
  policyVersion: number;
  reasons: { code: string; message: string }[];
  maxDuration: string | null;
  approvals: {
    quorum: number;
    approverGroups: string[];
    requiredGroups: string[];
    reviewWindow: string;
  } | null;
  autoApprovalRules: { levels: string[]; maxDuration: string; requireTicket: boolean }[];
  ticket: string | null;
  breakGlass: { available: boolean; maxDuration: string | null };
}

const outcomeWords: Record<PreviewView['outcome'], string> = {
  refused: 'refused',
  'auto-approved': 'allowed: approved automatically',
  'needs-approval': 'allowed after review',
  'break-glass': 'allowed as break-glass (self-approved, alerts, reviewed afterwards)',
};

/** `gatehouse access preview`: what the policies would decide, before asking (nothing is recorded). */
export function registerAccessPreview(access: Command): void {
  access
    .command('preview')
    .description('What the policies would decide for a request, without making it (nothing is recorded)')
    .requiredOption('--asset <name>', 'the asset')
    .addOption(
      new Option('--level <level>', 'permission level')
        .choices(['read-only', 'read-write', 'admin'])
        .makeOptionMandatory(),
    )
    .requiredOption('--duration <duration>', 'how long, like 30m, 2h or 1h30m')
    .option('--reason <text>', 'what you will do and why (optional here)')
    .option('--ticket <ref>', 'the ticket the work is for, like OPS-42')
    .option('--file-transfer', 'with file transfer')
    .option('--break-glass', 'as break-glass')
    .action(
      async (
        options: {
          asset: string;
          level: string;
          duration: string;
          reason?: string;
          ticket?: string;
          fileTransfer?: boolean;
          breakGlass?: boolean;
        },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const p = await ctx.api().post<PreviewView>('/api/v1/access/requests/preview', {
          asset: options.asset,
          level: options.level,
          duration: options.duration,
          ...(options.reason !== undefined ? { reason: options.reason } : {}),
          ...(options.ticket ? { ticket: options.ticket } : {}),
          fileTransfer: Boolean(options.fileTransfer),
          breakGlass: Boolean(options.breakGlass),
        });
        ctx.out.result(p, () => {
          ctx.out.line(
            `${options.level} on ${options.asset} for ${options.duration}: ${outcomeWords[p.outcome]}`,
          );
          for (const reason of p.reasons) ctx.out.line(`  - ${reason.message}`);
          if (p.policy) ctx.out.line(`  policy:       ${p.policy} (version ${p.policyVersion})`);
          if (p.maxDuration) ctx.out.line(`  maximum:      ${p.maxDuration}`);
          if (p.approvals && p.outcome !== 'auto-approved') {
            const groups = [
              ...p.approvals.requiredGroups.map((g) => `one from ${g}`),
              ...(p.approvals.approverGroups.length > 0
                ? [`any of ${p.approvals.approverGroups.join(', ')}`]
                : []),
            ];
            ctx.out.line(
              `  approvals:    ${p.approvals.quorum} (${groups.join('; ')}), within ${p.approvals.reviewWindow}`,
            );
          }
          for (const rule of p.autoApprovalRules) {
            ctx.out.line(
              `  auto-approve: ${rule.levels.join(', ')} up to ${rule.maxDuration}${rule.requireTicket ? ' with a ticket assigned to you' : ''}`,
            );
          }
          if (p.ticket) ctx.out.line(`  ticket:       ${p.ticket}`);
          ctx.out.line(
            `  break-glass:  ${p.breakGlass.available ? `available, up to ${p.breakGlass.maxDuration ?? '?'}` : 'not available'}`,
          );
        });
        if (!p.allowed) process.exitCode = 1;
      },
    );
}

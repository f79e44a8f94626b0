import type { Store } from '../../platform/db/store.js';
import { ConflictError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import { applyScript, parseApplyOutput, planRemediation } from './domain/remediate.js';
import type { ApplyInput, ApplyOutcome } from './hardening.schemas.js';
import type { ScanService, TransportResolver } from './scan.service.js';

export interface ApplyServiceDeps {
  store: Pick<Store, 'db'>;
  audit: AuditAppender;
  transports: TransportResolver;
  scans: Pick<ScanService, 'scanForApply'>;
}

/**
 * Templates: `apply` scans the host now, plans the remediation of its failing enforced rules, and —
 * only when asked (`dryRun: false`) — runs the plan as one script, then scans again so the answer
 * shows the host as it is afterwards. The plan is audited before the host is touched and the outcome
 * of every step after; a host with nothing to fix is not touched and nothing is recorded.
 */
export function createApplyService(deps: ApplyServiceDeps) {
  const { db } = deps.store;

  return {
    async apply(ctx: RequestContext, input: ApplyInput): Promise<ApplyOutcome> {
      const before = await deps.scans.scanForApply(ctx, input.baseline, input.asset);
      if (before.scan.state === 'failed' || !before.outputs) {
        throw new ConflictError(
          `Could not scan ${input.asset} before applying (${before.scan.error ?? 'no output'}); fix its transport and try again`,
        );
      }
      const plan = planRemediation(before.baseline, before.results, before.plan, before.outputs);
      const changes = plan.steps.map(({ ruleId, title, change }) => ({ ruleId, title, change }));
      const outcome = {
        asset: before.asset.name,
        baseline: before.baseline.id,
        changes,
        manual: plan.manual,
      };
      if (input.dryRun || plan.steps.length === 0) {
        return { ...outcome, applied: !input.dryRun, scan: before.scan };
      }

      const target = { type: 'asset', id: before.asset.id };
      const details = { baseline: before.baseline.id, asset: before.asset.name, scanId: before.scan.id };
      await db.transaction().execute((tx) =>
        deps.audit.append(tx, {
          ...ctx,
          action: 'hardening.template.started',
          target,
          details: { ...details, changes },
        }),
      );
      const transport = await deps.transports(before.asset);
      const run = await transport.exec(['sh', '-s'], applyScript(plan.steps));
      const codes = parseApplyOutput(run.stdout, plan.steps.length);
      const steps = changes.map((c, i) => ({ ...c, exitCode: codes[i] ?? -1 }));
      await db.transaction().execute((tx) =>
        deps.audit.append(tx, {
          ...ctx,
          action: 'hardening.template.applied',
          target,
          details: { ...details, steps, failed: steps.filter((s) => s.exitCode !== 0).length },
        }),
      );
      const after = await deps.scans.scanForApply(ctx, input.baseline, input.asset);
      return { ...outcome, applied: true, scan: after.scan };
    },
  };
}

export type ApplyService = ReturnType<typeof createApplyService>;

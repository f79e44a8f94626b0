import type { Clock } from '../../platform/clock.js';
import type { Store } from '../../platform/db/store.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import { complianceStore } from './compliance.store.js';
import {
  canApprove,
  threatModelProblems,
  type ThreatModel,
  type ThreatModelRecord,
} from './domain/threat-model.js';

export interface ThreatModelServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  audit: AuditAppender;
}

/**
 * Threat models: written as drafts, approved once no high threat is left without a mitigation. A
 * change to an approved model makes it a draft again: what was approved is what the audit log holds.
 */
export function createThreatModelService(deps: ThreatModelServiceDeps) {
  const { db } = deps.store;

  return {
    list: () => complianceStore.threatModels(db),

    async get(key: string): Promise<ThreatModelRecord> {
      const found = await complianceStore.threatModel(db, key);
      if (!found) throw new NotFoundError('Threat model', key);
      return found;
    },

    async put(ctx: RequestContext, key: string, input: { title: string; model: ThreatModel }) {
      return db.transaction().execute(async (tx) => {
        await complianceStore.lockMatrix(tx);
        const matrix = await complianceStore.matrix(tx);
        const problems = threatModelProblems(input.model, {
          controls: new Set(matrix.controls.map((c) => c.key)),
          stories: new Set(matrix.stories.map((s) => s.key)),
        });
        if (problems.length > 0) {
          throw new ValidationError(problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; '), {
            details: { problems },
          });
        }
        const before = await complianceStore.threatModel(tx, key, { forUpdate: true });
        const record: ThreatModelRecord = {
          key,
          title: input.title,
          model: input.model,
          status: 'draft',
          approvedBy: null,
          approvedAt: null,
          updatedAt: deps.clock.now(),
        };
        await complianceStore.putThreatModel(tx, record);
        await deps.audit.append(tx, {
          ...ctx,
          action: before ? 'compliance.threat-model-updated' : 'compliance.threat-model-created',
          target: { type: 'threat-model', id: key },
          details: {
            title: record.title,
            feature: record.model.feature,
            threats: record.model.threats.length,
            ...(before?.status === 'approved' ? { approvalWithdrawn: true } : {}),
          },
        });
        return record;
      });
    },

    /** Approves the model as it stands; refused while a high threat has no mitigation. */
    async approve(ctx: RequestContext, key: string): Promise<ThreatModelRecord> {
      return db.transaction().execute(async (tx) => {
        const current = await complianceStore.threatModel(tx, key, { forUpdate: true });
        if (!current) throw new NotFoundError('Threat model', key);
        if (current.status === 'approved') {
          throw new ConflictError(
            `Threat model '${key}' is already approved by ${current.approvedBy ?? '?'}`,
          );
        }
        const decision = canApprove(current.model);
        if (!decision.ok)
          throw new ConflictError(`Threat model '${key}' cannot be approved: ${decision.reason}`);
        const now = deps.clock.now();
        const approved: ThreatModelRecord = {
          ...current,
          status: 'approved',
          approvedBy: ctx.actor.name,
          approvedAt: now,
          updatedAt: now,
        };
        await complianceStore.putThreatModel(tx, approved);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'compliance.threat-model-approved',
          target: { type: 'threat-model', id: key },
          details: {
            title: current.title,
            feature: current.model.feature,
            threats: current.model.threats.length,
          },
        });
        return approved;
      });
    },
  };
}

export type ThreatModelService = ReturnType<typeof createThreatModelService>;

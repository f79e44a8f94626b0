import type { Clock, Ids } from '../../platform/clock.js';
import type { Executor, Store } from '../../platform/db/store.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import type { IdentityService } from '../identity/identity.service.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import type { BaselineCatalog } from './baselines.js';
import { decisionProblems, type ScopeType } from './domain/decisions.js';
import type { Decision, RecordDecisionInput, ScopeInput } from './hardening.schemas.js';
import { hardeningStore, type DecisionFilter, type DecisionRecord } from './hardening.store.js';

export interface DecisionServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  baselines: BaselineCatalog;
  inventory: Pick<InventoryService, 'getAsset' | 'getMachineType' | 'getCustomer'>;
  /** An exception's approver must be an active operator. */
  operators: Pick<IdentityService, 'getOperator'>;
}

/** Names of scopes by id, looked up once per call (the register names machine types, customers, assets). */
export function scopeNamer(inventory: DecisionServiceDeps['inventory']) {
  const cache = new Map<string, Promise<string | null>>();
  const lookup = (type: ScopeType, id: string): Promise<string | null> => {
    const get =
      type === 'asset'
        ? inventory.getAsset
        : type === 'customer'
          ? inventory.getCustomer
          : inventory.getMachineType;
    return get(id).then(
      (entity) => entity.name,
      () => null,
    );
  };
  return (type: ScopeType, id: string | null): Promise<string | null> => {
    if (id === null) return Promise.resolve(null);
    const key = `${type}:${id}`;
    let name = cache.get(key);
    if (!name) {
      name = lookup(type, id);
      cache.set(key, name);
    }
    return name;
  };
}

const invalid = (field: string, message: string) =>
  new ValidationError(`${field}: ${message}`, { details: { field } });

/**
 * The decisions register: one decision per rule and scope, replaced as a whole when it changes. Every
 * record and removal writes its audit event in the same transaction. An exception is refused without
 * a justification, an approver other than its author, and an expiry in the future.
 */
export function createDecisionService(deps: DecisionServiceDeps) {
  const { db } = deps.store;

  async function scopeIdOf(scope: ScopeInput): Promise<string | null> {
    const field = 'scope.name';
    try {
      switch (scope.type) {
        case 'fleet':
          return null;
        case 'machine-type':
          return (await deps.inventory.getMachineType(scope.name)).id;
        case 'customer':
          return (await deps.inventory.getCustomer(scope.name)).id;
        case 'asset':
          return (await deps.inventory.getAsset(scope.name)).id;
      }
    } catch (error) {
      if (error instanceof NotFoundError && scope.type !== 'fleet') {
        throw invalid(field, `there is no ${scope.type} named '${scope.name}'`);
      }
      throw error;
    }
  }

  async function view(records: DecisionRecord[]): Promise<Decision[]> {
    const name = scopeNamer(deps.inventory);
    const now = deps.clock.now();
    return Promise.all(
      records.map(async (d) => ({
        ...d,
        scopeName: await name(d.scopeType, d.scopeId),
        expired: d.status === 'exception' && d.expiresAt !== null && d.expiresAt.getTime() <= now.getTime(),
      })),
    );
  }

  async function checkApprover(approver: string | undefined): Promise<string | null> {
    if (approver === undefined) return null;
    try {
      const operator = await deps.operators.getOperator(approver);
      if (!operator.active) throw invalid('approver', `operator '${approver}' is deactivated`);
      return operator.username;
    } catch (error) {
      if (error instanceof NotFoundError)
        throw invalid('approver', `there is no operator named '${approver}'`);
      throw error;
    }
  }

  return {
    async list(filter: DecisionFilter = {}, executor: Executor = db): Promise<Decision[]> {
      return view(await hardeningStore.decisions(executor, filter));
    },

    /** The raw register of a baseline (for scans and the document). */
    records: (baseline: string, executor: Executor = db) => hardeningStore.decisions(executor, { baseline }),

    /** Records the decision for a rule and scope, replacing the one there was. */
    async record(ctx: RequestContext, input: RecordDecisionInput): Promise<Decision> {
      const baseline = deps.baselines.get(input.baseline);
      if (!baseline.rules.some((r) => r.id === input.ruleId)) {
        throw invalid('ruleId', `baseline ${baseline.id} has no rule '${input.ruleId}'`);
      }
      const now = deps.clock.now();
      const problems = decisionProblems(input, ctx.actor.name, now);
      const [first] = problems;
      if (first) {
        throw new ValidationError(problems.map((p) => `${p.field}: ${p.message}`).join('; '), {
          details: { field: first.field },
        });
      }
      const approver = input.status === 'exception' ? await checkApprover(input.approver) : null;
      const scopeId = await scopeIdOf(input.scope);
      const record = await db.transaction().execute(async (tx) => {
        const key = { baseline: baseline.id, ruleId: input.ruleId, scopeType: input.scope.type, scopeId };
        const previous = await hardeningStore.decisionAt(tx, key);
        const next: DecisionRecord = {
          ...key,
          id: previous?.id ?? deps.ids.uuid(),
          status: input.status,
          justification: input.justification?.trim() ?? '',
          approver,
          expiresAt: input.status === 'exception' ? (input.expiresAt ?? null) : null,
          compensatingControl: input.compensatingControl?.trim() ?? '',
          author: ctx.actor.name,
          createdAt: previous?.createdAt ?? now,
          updatedAt: now,
        };
        if (previous) await hardeningStore.updateDecision(tx, next);
        else await hardeningStore.insertDecision(tx, next);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'hardening.decision.recorded',
          target: { type: 'hardening-decision', id: next.id },
          details: {
            baseline: next.baseline,
            ruleId: next.ruleId,
            scope: input.scope,
            status: next.status,
            previousStatus: previous?.status ?? null,
            justification: next.justification,
            approver: next.approver,
            expiresAt: next.expiresAt?.toISOString() ?? null,
            compensatingControl: next.compensatingControl,
          },
        });
        return next;
      });
      const [decision] = await view([record]);
      return decision!;
    },

    async remove(ctx: RequestContext, id: string): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const decision = await hardeningStore.decisionById(tx, id, { forUpdate: true });
        if (!decision) throw new NotFoundError('Decision', id);
        await hardeningStore.deleteDecision(tx, id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'hardening.decision.removed',
          target: { type: 'hardening-decision', id },
          details: {
            baseline: decision.baseline,
            ruleId: decision.ruleId,
            scopeType: decision.scopeType,
            scopeId: decision.scopeId,
            status: decision.status,
          },
        });
      });
    },
  };
}

export type DecisionService = ReturnType<typeof createDecisionService>;

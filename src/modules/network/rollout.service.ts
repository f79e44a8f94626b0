import { z } from 'zod';
import type { Clock, Ids } from '../../platform/clock.js';
import type { Store } from '../../platform/db/store.js';
import { GatehouseError, isRetryable, NotFoundError } from '../../platform/errors.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { JobHandler } from '../../platform/jobs/job-types.js';
import { systemActor, type AuditAppender, type RequestContext } from '../audit/audit.types.js';
import { inSync, type LayerPlan } from './domain/plan.js';
import type { Rule } from './domain/rule.js';
import { assignWaves, failuresStop } from './domain/waves.js';
import { loadFleet, type FleetInventory } from './fleet.js';
import type { CreateRolloutInput, RolloutView } from './network.schemas.js';
import type { EnforcerProvider, PlanService } from './plan.service.js';
import { rolloutStore, type RolloutRow, type TargetRow } from './rollout.store.js';

/**
 * Rollouts: the compiled rules applied to a fleet in waves (a canary set, then growing shares), one
 * level-based job per asset and layer (observe, diff, apply, re-read to verify, audit), stopped when
 * failures pass a threshold, resumable after a stop or a crash. Per-target results are stored.
 */
export const jobKinds = { advance: 'network.rollout.advance', reconcile: 'network.reconcile' } as const;

export interface RolloutDefaults {
  canary: number;
  waves: number;
  failureThreshold: number;
  /** runs of one asset layer before it counts as failed */
  attempts: number;
  /** how soon the wave driver looks again while targets run */
  pollMs: number;
}

export interface RolloutServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  jobs: Pick<JobQueue, 'enqueue'>;
  inventory: FleetInventory;
  rules: { allRules(): Promise<Rule[]> };
  enforcers: EnforcerProvider;
  plans: Pick<PlanService, 'plan' | 'desiredFor'>;
  defaults: RolloutDefaults;
}

const advancePayload = z.object({ rolloutId: z.uuid() });
const reconcilePayload = z.object({
  rolloutId: z.uuid(),
  assetId: z.uuid(),
  layer: z.enum(['cloud', 'host']),
});
const reconcilerCtx: RequestContext = { actor: systemActor('network-reconciler') };

const summary = (plan: LayerPlan) => ({
  adds: plan.adds.map((i) => ({ what: i.what, rules: i.rules })),
  removals: plan.removals.map((i) => ({ what: i.what, rules: i.rules })),
  unknown: plan.unknown,
});

function view(rollout: RolloutRow, targets: TargetRow[]): RolloutView {
  const counts = { pending: 0, queued: 0, succeeded: 0, failed: 0 };
  for (const t of targets) counts[t.state]++;
  return {
    id: rollout.id,
    state: rollout.state,
    waves: rollout.waves,
    currentWave: rollout.current_wave,
    failureThreshold: rollout.failure_threshold,
    stopReason: rollout.stop_reason,
    createdBy: rollout.created_by,
    createdAt: rollout.created_at,
    updatedAt: rollout.updated_at,
    counts,
    targets: targets.map((t) => ({
      asset: t.asset_name,
      layer: t.layer,
      wave: t.wave,
      state: t.state,
      attempts: t.attempts,
      error: t.error,
      result: (t.result as Record<string, unknown> | null) ?? null,
    })),
  };
}

export function createRolloutService(deps: RolloutServiceDeps) {
  const { db } = deps.store;
  const now = () => deps.clock.now();
  const later = (ms: number) => new Date(now().getTime() + ms);

  async function get(id: string): Promise<RolloutView> {
    const rollout = await rolloutStore.rollout(db, id);
    if (!rollout) throw new NotFoundError('Rollout', id);
    return view(rollout, await rolloutStore.targets(db, id));
  }

  async function advance(rolloutId: string): Promise<void | { requeueAt: Date }> {
    return db.transaction().execute(async (tx) => {
      const rollout = await rolloutStore.rollout(tx, rolloutId, true);
      if (!rollout || rollout.state !== 'running') return undefined;
      const wave = rollout.current_wave;
      // earlier waves too: a resume sends their failed targets back to pending
      const targets = (await rolloutStore.targets(tx, rolloutId)).filter((t) => t.wave <= wave);
      for (const t of targets.filter((t) => t.state === 'pending')) {
        await rolloutStore.setTarget(
          tx,
          { rolloutId, assetId: t.asset_id, layer: t.layer },
          { state: 'queued', now: now() },
        );
        await deps.jobs.enqueue(tx, {
          kind: jobKinds.reconcile,
          payload: { rolloutId, assetId: t.asset_id, layer: t.layer },
          dedupeKey: `${jobKinds.reconcile}:${rolloutId}:${t.asset_id}:${t.layer}`,
          maxAttempts: deps.defaults.attempts,
        });
      }
      if (targets.some((t) => t.state === 'pending' || t.state === 'queued'))
        return { requeueAt: later(deps.defaults.pollMs) };
      const done = targets;
      const failed = done.filter((t) => t.state === 'failed').length;
      if (failuresStop(failed, done.length, rollout.failure_threshold)) {
        const reason = `wave ${wave}: ${failed} of ${done.length} targets failed (threshold ${Math.round(rollout.failure_threshold * 100)}%)`;
        await rolloutStore.setRollout(tx, rolloutId, { state: 'stopped', stopReason: reason, now: now() });
        await deps.audit.append(tx, {
          ...reconcilerCtx,
          action: 'network.rollout.stopped',
          target: { type: 'network-rollout', id: rolloutId },
          details: { wave, failed, finished: done.length, reason },
        });
        return undefined;
      }
      if (wave + 1 < rollout.waves) {
        await rolloutStore.setRollout(tx, rolloutId, { currentWave: wave + 1, now: now() });
        return { requeueAt: now() };
      }
      await rolloutStore.setRollout(tx, rolloutId, { state: 'completed', now: now() });
      await deps.audit.append(tx, {
        ...reconcilerCtx,
        action: 'network.rollout.completed',
        target: { type: 'network-rollout', id: rolloutId },
        details: { waves: rollout.waves, targets: done.length, failed },
      });
      return undefined;
    });
  }

  async function reconcile(
    payload: z.infer<typeof reconcilePayload>,
    attempt: number,
    maxAttempts: number,
  ): Promise<void> {
    const key = { rolloutId: payload.rolloutId, assetId: payload.assetId, layer: payload.layer };
    const rollout = await rolloutStore.rollout(db, payload.rolloutId);
    if (!rollout) return;
    let plan: LayerPlan | undefined;
    let target = '';
    try {
      const fleet = await loadFleet(deps.inventory, { asset: payload.assetId });
      const asset = fleet.assets[0];
      if (!asset) throw new GatehouseError('not_found', `asset ${payload.assetId} no longer exists`);
      const enforcer = deps.enforcers.forAsset(asset).find((e) => e.layer === payload.layer);
      if (!enforcer)
        throw new GatehouseError('not_found', `${asset.name} no longer has a ${payload.layer} layer`);
      target = enforcer.target;
      const desired = deps.plans.desiredFor(await deps.rules.allRules(), fleet, asset);
      plan = await enforcer.observe(desired);
      if (plan.blockers.length > 0) throw new GatehouseError('precondition_failed', plan.blockers.join('; '));
      if (!inSync(plan)) await enforcer.apply(desired);
      const after = await enforcer.observe(desired);
      if (!inSync(after)) {
        throw new GatehouseError(
          'target_unavailable',
          `verify: ${target} still differs after the apply (${after.adds.length} missing, ${after.removals.length + after.unknown.length} extra)`,
          { retryable: true },
        );
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (isRetryable(error) && attempt < maxAttempts) throw error;
      await db.transaction().execute(async (tx) => {
        await rolloutStore.setTarget(tx, key, { state: 'failed', error: message, attempt: true, now: now() });
        await deps.audit.append(tx, {
          ...reconcilerCtx,
          action: 'network.layer.failed',
          target: { type: 'asset', id: payload.assetId },
          details: {
            rollout: payload.rolloutId,
            layer: payload.layer,
            target,
            error: message,
            startedBy: rollout.created_by,
          },
        });
      });
      return;
    }
    const result = { ...summary(plan), verified: true, target };
    await db.transaction().execute(async (tx) => {
      await rolloutStore.setTarget(tx, key, {
        state: 'succeeded',
        result,
        error: null,
        attempt: true,
        now: now(),
      });
      await deps.audit.append(tx, {
        ...reconcilerCtx,
        action: 'network.layer.applied',
        target: { type: 'asset', id: payload.assetId },
        details: {
          rollout: payload.rolloutId,
          layer: payload.layer,
          ...result,
          startedBy: rollout.created_by,
        },
      });
      // entries no rule explains (added by hand or by another tool): found and removed by this apply
      const drift = [
        ...plan.unknown,
        ...plan.removals
          .filter((r) => r.rules.length === 0 && (payload.layer === 'cloud' || r.what.startsWith('rule ')))
          .map((r) => r.what),
      ];
      if (drift.length > 0) {
        const details = { rollout: payload.rolloutId, layer: payload.layer, target, entries: drift };
        const on = { type: 'asset', id: payload.assetId };
        await deps.audit.append(tx, {
          ...reconcilerCtx,
          action: 'network.drift-detected',
          target: on,
          details,
        });
        await deps.audit.append(tx, {
          ...reconcilerCtx,
          action: 'network.drift-corrected',
          target: on,
          details,
        });
      }
    });
  }

  const jobHandlers: Record<string, JobHandler> = {
    [jobKinds.advance]: async (job) => advance(advancePayload.parse(job.payload).rolloutId),
    [jobKinds.reconcile]: async (job, context) =>
      reconcile(reconcilePayload.parse(job.payload), context.attempt, job.maxAttempts),
  };

  async function enqueueAdvance(tx: Parameters<JobQueue['enqueue']>[0], rolloutId: string) {
    await deps.jobs.enqueue(tx, {
      kind: jobKinds.advance,
      payload: { rolloutId },
      dedupeKey: `${jobKinds.advance}:${rolloutId}`,
      maxAttempts: 1000,
    });
  }

  return {
    jobHandlers,
    getRollout: get,

    startRollout: async (ctx: RequestContext, input: CreateRolloutInput): Promise<RolloutView> => {
      const filter = { customer: input.customer, environment: input.environment, asset: input.asset };
      const plan = await deps.plans.plan(filter);
      const blockers = plan.layers.flatMap((l) => l.blockers.map((b) => `${l.asset} ${l.layer}: ${b}`));
      if (blockers.length > 0) {
        throw new GatehouseError(
          'precondition_failed',
          `The plan cannot be applied: ${blockers.join('; ')}`,
          {
            details: { blockers },
          },
        );
      }
      if (plan.brake.stopped && !input.confirm) {
        throw new GatehouseError(
          'precondition_failed',
          `The plan stops at the brake: it ${plan.brake.reasons.join(' and ')}. Review it (gatehouse network plan) and confirm to go on`,
          { details: { brake: plan.brake } },
        );
      }
      const assets = [...new Map(plan.entries.map((e) => [e.asset.id, e.asset])).values()].sort((a, b) =>
        a.name.localeCompare(b.name),
      );
      if (assets.length === 0)
        throw new GatehouseError(
          'precondition_failed',
          'No asset with a managed layer matches; nothing to apply',
        );
      const waveOf = assignWaves(
        assets.length,
        input.canary ?? deps.defaults.canary,
        input.waves ?? deps.defaults.waves,
      );
      const waveByAsset = new Map(assets.map((a, i) => [a.id, waveOf[i] ?? 0]));
      const waves = Math.max(...waveOf) + 1;
      const id = deps.ids.uuid();
      const at = now();
      const threshold = input.failureThreshold ?? deps.defaults.failureThreshold;
      await db.transaction().execute(async (tx) => {
        await rolloutStore.insertRollout(tx, {
          id,
          state: 'running',
          request: { ...filter, confirm: input.confirm, brake: plan.brake },
          waves,
          failure_threshold: threshold,
          stop_reason: null,
          created_by: ctx.actor.name,
          created_at: at,
          updated_at: at,
        });
        await rolloutStore.insertTargets(
          tx,
          plan.entries.map((e) => ({
            rollout_id: id,
            asset_id: e.asset.id,
            asset_name: e.asset.name,
            layer: e.enforcer.layer,
            wave: waveByAsset.get(e.asset.id) ?? 0,
            state: 'pending',
            updated_at: at,
          })),
        );
        await deps.audit.append(tx, {
          ...ctx,
          action: 'network.rollout.started',
          target: { type: 'network-rollout', id },
          details: {
            filter,
            waves,
            failureThreshold: threshold,
            confirmed: input.confirm,
            brake: plan.brake,
            targets: plan.entries.length,
            changes: plan.layers
              .filter((l) => !l.inSync)
              .map((l) => ({
                asset: l.asset,
                layer: l.layer,
                adds: l.adds.length,
                removals: l.removals.length + l.unknown.length,
              })),
          },
        });
        await enqueueAdvance(tx, id);
      });
      return get(id);
    },

    resumeRollout: async (ctx: RequestContext, id: string): Promise<RolloutView> => {
      await db.transaction().execute(async (tx) => {
        const rollout = await rolloutStore.rollout(tx, id, true);
        if (!rollout) throw new NotFoundError('Rollout', id);
        if (rollout.state === 'completed')
          throw new GatehouseError('conflict', 'The rollout has completed; start a new one to apply again');
        const reset = await rolloutStore.resetFailed(tx, id, now());
        await rolloutStore.setRollout(tx, id, { state: 'running', stopReason: null, now: now() });
        await deps.audit.append(tx, {
          ...ctx,
          action: 'network.rollout.resumed',
          target: { type: 'network-rollout', id },
          details: { wave: rollout.current_wave, retried: reset, wasState: rollout.state },
        });
        await enqueueAdvance(tx, id);
      });
      return get(id);
    },

    stopRollout: async (ctx: RequestContext, id: string): Promise<RolloutView> => {
      await db.transaction().execute(async (tx) => {
        const rollout = await rolloutStore.rollout(tx, id, true);
        if (!rollout) throw new NotFoundError('Rollout', id);
        if (rollout.state !== 'running')
          throw new GatehouseError('conflict', `The rollout is ${rollout.state}, not running`);
        await rolloutStore.setRollout(tx, id, {
          state: 'stopped',
          stopReason: `stopped by ${ctx.actor.name}`,
          now: now(),
        });
        await deps.audit.append(tx, {
          ...ctx,
          action: 'network.rollout.stopped',
          target: { type: 'network-rollout', id },
          details: { wave: rollout.current_wave, reason: 'stopped by hand' },
        });
      });
      return get(id);
    },
  };
}

export type RolloutService = ReturnType<typeof createRolloutService>;

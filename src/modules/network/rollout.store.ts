import { sql } from 'kysely';
import type { Executor } from '../../platform/db/store.js';
import type { Row } from '../../platform/db/schema.js';

/** SQL for rollouts and their per-asset, per-layer targets. */
export type RolloutRow = Row<'network_rollouts'>;
export type TargetRow = Row<'network_rollout_targets'>;
export type TargetState = TargetRow['state'];

export const rolloutStore = {
  insertRollout: async (
    db: Executor,
    rollout: Omit<RolloutRow, 'current_wave' | 'request'> & { request: Record<string, unknown> },
  ): Promise<void> => {
    await db
      .insertInto('network_rollouts')
      .values({ ...rollout, request: JSON.stringify(rollout.request) })
      .execute();
  },

  insertTargets: async (
    db: Executor,
    targets: readonly Omit<TargetRow, 'attempts' | 'result' | 'error'>[],
  ): Promise<void> => {
    for (let i = 0; i < targets.length; i += 500) {
      await db
        .insertInto('network_rollout_targets')
        .values(targets.slice(i, i + 500).map((t) => ({ ...t, result: null, error: null })))
        .execute();
    }
  },

  rollout: async (db: Executor, id: string, lock = false): Promise<RolloutRow | undefined> => {
    let query = db.selectFrom('network_rollouts').selectAll().where('id', '=', id);
    if (lock) query = query.forUpdate();
    return query.executeTakeFirst();
  },

  targets: async (db: Executor, rolloutId: string, wave?: number): Promise<TargetRow[]> => {
    let query = db.selectFrom('network_rollout_targets').selectAll().where('rollout_id', '=', rolloutId);
    if (wave !== undefined) query = query.where('wave', '=', wave);
    return query.orderBy('wave').orderBy('asset_name').orderBy('layer').execute();
  },

  target: async (
    db: Executor,
    rolloutId: string,
    assetId: string,
    layer: string,
  ): Promise<TargetRow | undefined> =>
    db
      .selectFrom('network_rollout_targets')
      .selectAll()
      .where('rollout_id', '=', rolloutId)
      .where('asset_id', '=', assetId)
      .where('layer', '=', layer as TargetRow['layer'])
      .forUpdate()
      .executeTakeFirst(),

  setTarget: async (
    db: Executor,
    key: { rolloutId: string; assetId: string; layer: TargetRow['layer'] },
    patch: {
      state: TargetState;
      result?: Record<string, unknown> | null;
      error?: string | null;
      attempt?: boolean;
      now: Date;
    },
  ): Promise<void> => {
    await db
      .updateTable('network_rollout_targets')
      .set({
        state: patch.state,
        ...(patch.result !== undefined
          ? { result: patch.result === null ? null : JSON.stringify(patch.result) }
          : {}),
        ...(patch.error !== undefined ? { error: patch.error } : {}),
        ...(patch.attempt ? { attempts: sql<number>`attempts + 1` } : {}),
        updated_at: patch.now,
      })
      .where('rollout_id', '=', key.rolloutId)
      .where('asset_id', '=', key.assetId)
      .where('layer', '=', key.layer)
      .execute();
  },

  resetFailed: async (db: Executor, rolloutId: string, now: Date): Promise<number> => {
    const result = await db
      .updateTable('network_rollout_targets')
      .set({ state: 'pending', updated_at: now })
      .where('rollout_id', '=', rolloutId)
      .where('state', '=', 'failed')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },

  setRollout: async (
    db: Executor,
    id: string,
    patch: { state?: RolloutRow['state']; currentWave?: number; stopReason?: string | null; now: Date },
  ): Promise<void> => {
    await db
      .updateTable('network_rollouts')
      .set({
        ...(patch.state ? { state: patch.state } : {}),
        ...(patch.currentWave !== undefined ? { current_wave: patch.currentWave } : {}),
        ...(patch.stopReason !== undefined ? { stop_reason: patch.stopReason } : {}),
        updated_at: patch.now,
      })
      .where('id', '=', id)
      .execute();
  },
};

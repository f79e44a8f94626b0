import type { Clock, Ids } from '../../platform/clock.js';
import type { Store } from '../../platform/db/store.js';
import type { JobQueue } from '../../platform/jobs/job-queue.js';
import type { AuditAppender } from '../audit/audit.types.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import type { CheckPolicy } from './domain/checks.js';
import type { GroupSecurityGroups } from './domain/cloud-layer.js';
import type { BrakePolicy } from './domain/plan.js';
import type { SystemRuleSet } from './domain/system-rules.js';
import { createPlanService, type EnforcerProvider } from './plan.service.js';
import { createRolloutService, type RolloutDefaults } from './rollout.service.js';
import { createRulesService } from './rules.service.js';

/**
 * Network rules as authoritative desired state: rules (system and customer, with checks), plans and
 * drift over both layers, imports, and rollouts in waves. One service for callers, built from parts.
 */
export interface NetworkServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  jobs: Pick<JobQueue, 'enqueue'>;
  inventory: Pick<
    InventoryService,
    'listAssets' | 'listJumpboxes' | 'listAssetGroups' | 'getEnvironment' | 'getMachineType'
  >;
  enforcers: EnforcerProvider;
  systemRules: readonly SystemRuleSet[];
  settings: {
    checkPolicy: CheckPolicy;
    brake: BrakePolicy;
    groupSecurityGroups: GroupSecurityGroups;
    rollout: RolloutDefaults;
    concurrency: number;
  };
}

export function createNetworkService(deps: NetworkServiceDeps) {
  const rules = createRulesService({ ...deps, checkPolicy: deps.settings.checkPolicy });
  const plans = createPlanService({
    inventory: deps.inventory,
    rules,
    enforcers: deps.enforcers,
    groupSecurityGroups: deps.settings.groupSecurityGroups,
    brake: deps.settings.brake,
    concurrency: deps.settings.concurrency,
  });
  const rollouts = createRolloutService({
    ...deps,
    rules,
    plans,
    defaults: deps.settings.rollout,
  });
  return {
    listRules: rules.listRules,
    getRule: rules.getRule,
    createRule: rules.createRule,
    updateRule: rules.updateRule,
    checkDraft: rules.checkDraft,
    deleteRule: rules.deleteRule,
    checkSystemRules: rules.checkSystemRules,
    plan: async (filter: Parameters<typeof plans.plan>[0]) => {
      const { entries: _entries, ...view } = await plans.plan(filter);
      return view;
    },
    drift: plans.drift,
    importLayers: plans.importLayers,
    startRollout: rollouts.startRollout,
    getRollout: rollouts.getRollout,
    resumeRollout: rollouts.resumeRollout,
    stopRollout: rollouts.stopRollout,
    jobHandlers: rollouts.jobHandlers,
  };
}

export type NetworkService = ReturnType<typeof createNetworkService>;

import type { DesiredLayers, LayerEnforcer } from '../../adapters/enforcers/types.js';
import type { GroupSecurityGroups } from './domain/cloud-layer.js';
import { indexRules } from './domain/compile.js';
import { compileAsset } from './domain/desired.js';
import { brake, inSync, type BrakePolicy, type LayerPlan } from './domain/plan.js';
import type { Rule } from './domain/rule.js';
import { loadFleet, type Fleet, type FleetAsset, type FleetInventory } from './fleet.js';
import type { FleetQuery, ImportView, LayerPlanView, PlanQuery, PlanView } from './network.schemas.js';

/**
 * Reading the layers: plan (what an apply would change), drift (where a layer differs from the
 * desired state), import (what each layer holds today, classified as system, customer or unknown).
 * Nothing here changes a layer.
 */
export interface EnforcerProvider {
  /** The enforcers of an asset's layers; an asset without a layer has no enforcer for it. */
  forAsset(asset: FleetAsset): LayerEnforcer[];
}

export interface PlanServiceDeps {
  inventory: FleetInventory;
  rules: { allRules(): Promise<Rule[]>; systemRules(): Rule[] };
  enforcers: EnforcerProvider;
  groupSecurityGroups: GroupSecurityGroups;
  brake: BrakePolicy;
  /** layers read at once */
  concurrency: number;
}

export interface AssetLayerPlan {
  asset: FleetAsset;
  enforcer: LayerEnforcer;
  plan: LayerPlan | null;
  error: string | null;
}

/** Runs `work` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function layerView(entry: AssetLayerPlan): LayerPlanView {
  const plan = entry.plan;
  return {
    asset: entry.asset.name,
    layer: entry.enforcer.layer,
    target: entry.enforcer.target,
    inSync: plan ? inSync(plan) : false,
    adds: plan?.adds ?? [],
    removals: plan?.removals ?? [],
    unknown: plan?.unknown ?? [],
    blockers: plan?.blockers ?? [],
    error: entry.error,
  };
}

export function createPlanService(deps: PlanServiceDeps) {
  const indexes = new WeakMap<readonly Rule[], (asset: FleetAsset) => Rule[]>();
  const desiredFor = (rules: readonly Rule[], fleet: Fleet, asset: FleetAsset): DesiredLayers => {
    let candidates = indexes.get(rules);
    if (!candidates) {
      candidates = indexRules(rules);
      indexes.set(rules, candidates);
    }
    return compileAsset(candidates(asset), asset, fleet.members, deps.groupSecurityGroups);
  };

  async function planLayers(filter: PlanQuery): Promise<{ fleet: Fleet; layers: AssetLayerPlan[] }> {
    const { layer, ...where } = filter;
    const fleet = await loadFleet(deps.inventory, where);
    const rules = await deps.rules.allRules();
    const work = fleet.assets.flatMap((asset) =>
      deps.enforcers
        .forAsset(asset)
        .filter((enforcer) => !layer || enforcer.layer === layer)
        .map((enforcer) => ({ asset, enforcer })),
    );
    const layers = await mapLimit(work, deps.concurrency, async ({ asset, enforcer }) => {
      try {
        const plan = await enforcer.observe(desiredFor(rules, fleet, asset));
        return { asset, enforcer, plan, error: null };
      } catch (error) {
        return { asset, enforcer, plan: null, error: message(error) };
      }
    });
    return { fleet, layers };
  }

  async function plan(filter: PlanQuery): Promise<PlanView & { entries: AssetLayerPlan[] }> {
    const { fleet, layers } = await planLayers(filter);
    const plans = layers.flatMap((l) =>
      l.plan ? [{ ...l.plan, label: `${l.asset.name} ${l.enforcer.layer}` }] : [],
    );
    return {
      assets: fleet.assets.length,
      layers: layers.map(layerView),
      brake: brake(plans, deps.brake),
      entries: layers,
    };
  }

  return {
    desiredFor,
    plan,

    drift: async (filter: PlanQuery): Promise<PlanView> => {
      const result = await plan(filter);
      return { assets: result.assets, brake: result.brake, layers: result.layers.filter((l) => !l.inSync) };
    },

    /**
     * What each layer holds today, classified: matches a system rule, matches a customer rule, or
     * unknown (the first authoritative apply removes it). Reads other owners' host tables too.
     */
    importLayers: async (filter: FleetQuery): Promise<ImportView> => {
      const fleet = await loadFleet(deps.inventory, filter);
      const all = await deps.rules.allRules();
      const system = deps.rules.systemRules();
      const work = fleet.assets.flatMap((asset) =>
        deps.enforcers.forAsset(asset).map((enforcer) => ({ asset, enforcer })),
      );
      const layers = await mapLimit(work, deps.concurrency, async ({ asset, enforcer }) => {
        const base = { asset: asset.name, layer: enforcer.layer, target: enforcer.target };
        try {
          const bySystem = await enforcer.observe(desiredFor(system, fleet, asset), { includeForeign: true });
          const byAll = await enforcer.observe(desiredFor(all, fleet, asset), { includeForeign: true });
          const systemWhat = new Set(bySystem.kept.map((k) => k.what));
          const entries = [
            ...byAll.kept.map((k) => ({
              what: k.what,
              class: systemWhat.has(k.what) ? ('system' as const) : ('customer' as const),
              rules: k.rules,
              action: 'keep' as const,
            })),
            ...byAll.removals.map((r) => ({
              what: r.what,
              class: 'unknown' as const,
              rules: r.rules,
              action: 'remove' as const,
            })),
            ...byAll.unknown.map((u) => ({
              what: u,
              class: 'unknown' as const,
              rules: [],
              action: 'remove' as const,
            })),
          ];
          return { ...base, error: null, entries, adds: byAll.adds.map((a) => a.what) };
        } catch (error) {
          return { ...base, error: message(error), entries: [], adds: [] };
        }
      });
      const count = (c: string) =>
        layers.reduce((n, l) => n + l.entries.filter((e) => e.class === c).length, 0);
      return {
        layers,
        summary: {
          system: count('system'),
          customer: count('customer'),
          unknown: count('unknown'),
          adds: layers.reduce((n, l) => n + l.adds.length, 0),
        },
      };
    },
  };
}

export type PlanService = ReturnType<typeof createPlanService>;

import { baselineCatalog, loadBaselines, type BaselineCatalog } from './baselines.js';
import { createDecisionService, type DecisionServiceDeps } from './decisions.service.js';

export interface HardeningServiceDeps extends Omit<DecisionServiceDeps, 'baselines'> {
  /** The baselines (tests may give their own); by default the files in baselines/. */
  baselines?: BaselineCatalog;
}

/**
 * Hardening: baselines as code, the decisions register, scans with drift and scores, templates
 * (apply) and the hardening document. One service for callers, built from one part per concern.
 */
export function createHardeningService(deps: HardeningServiceDeps) {
  const baselines = deps.baselines ?? baselineCatalog(loadBaselines());
  const decisions = createDecisionService({ ...deps, baselines });
  return {
    baselines,
    decisions,
    listBaselines: () =>
      baselines.list().map((b) => ({
        id: b.id,
        version: b.version,
        title: b.title,
        benchmark: b.benchmark,
        profile: b.profile,
        rules: b.rules.length,
      })),
  };
}

export type HardeningService = ReturnType<typeof createHardeningService>;

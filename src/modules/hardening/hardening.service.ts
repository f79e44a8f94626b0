import { createApplyService } from './apply.service.js';
import { baselineCatalog, loadBaselines, type BaselineCatalog } from './baselines.js';
import { createDecisionService, type DecisionServiceDeps } from './decisions.service.js';
import { addTallies, emptyTally, score, scoreBy, type HostScore } from './domain/score.js';
import type { ScoreReport } from './hardening.schemas.js';
import { createScanService, serversWhere, type ScanServiceDeps } from './scan.service.js';

export interface HardeningServiceDeps
  extends Omit<DecisionServiceDeps, 'baselines' | 'inventory'>, Omit<ScanServiceDeps, 'baselines'> {
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
  const scans = createScanService({ ...deps, baselines });
  const templates = createApplyService({ ...deps, scans });

  return {
    baselines,
    decisions,
    scans,
    templates,
    listBaselines: () =>
      baselines.list().map((b) => ({
        id: b.id,
        version: b.version,
        title: b.title,
        benchmark: b.benchmark,
        profile: b.profile,
        rules: b.rules.length,
      })),

    /** Scores from the latest scan of every host: per host, machine type, customer and the fleet. */
    async scores(baselineId: string): Promise<ScoreReport> {
      const baseline = baselines.get(baselineId);
      const { scans: latest } = await scans.latest(baseline.id);
      const servers = new Map((await serversWhere(deps.inventory, {})).map((a) => [a.id, a]));
      const hosts = latest.flatMap((scan) => {
        const asset = servers.get(scan.assetId);
        if (!asset) return [];
        const host: HostScore = {
          name: asset.name,
          machineType: asset.machineType,
          customer: asset.customer,
          counts: scan.counts,
        };
        return [{ host, scan }];
      });
      const fleetCounts = hosts.reduce((sum, h) => addTallies(sum, h.host.counts), emptyTally());
      return {
        baseline: baseline.id,
        fleet: { name: 'fleet', hosts: hosts.length, counts: fleetCounts, score: score(fleetCounts) },
        hosts: hosts
          .map(({ host, scan }) => ({
            name: host.name,
            hosts: 1,
            counts: host.counts,
            score: scan.score,
            scanId: scan.id,
            scannedAt: scan.finishedAt,
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
        machineTypes: scoreBy(
          hosts.map((h) => h.host),
          (h) => h.machineType,
        ),
        customers: scoreBy(
          hosts.map((h) => h.host),
          (h) => h.customer,
        ),
      };
    },
  };
}

export type HardeningService = ReturnType<typeof createHardeningService>;

import { createApplyService } from './apply.service.js';
import { baselineCatalog, loadBaselines, type BaselineCatalog } from './baselines.js';
import { createDecisionService, type DecisionServiceDeps } from './decisions.service.js';
import { addTallies, emptyTally, score, scoreBy, type HostScore } from './domain/score.js';
import { hardeningHtml, hardeningMarkdown } from './domain/document.js';
import type { FinalResult } from './domain/decisions.js';
import type { ScoreReport } from './hardening.schemas.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
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

    /** The hardening document (Markdown or HTML) for a baseline, for the fleet or one machine type. */
    async document(
      baselineId: string,
      machineType: string | undefined,
      format: 'markdown' | 'html',
    ): Promise<string> {
      const baseline = baselines.get(baselineId);
      if (machineType !== undefined) {
        await deps.inventory.getMachineType(machineType).catch((error: unknown) => {
          if (error instanceof NotFoundError) {
            throw new ValidationError(`machineType: there is no machine type named '${machineType}'`, {
              details: { field: 'machineType' },
            });
          }
          throw error;
        });
      }
      const register = await decisions.list({ baseline: baseline.id });
      const latest = await scans.latest(baseline.id);
      const servers = new Map((await serversWhere(deps.inventory, {})).map((a) => [a.id, a]));
      const inScope = latest.scans.filter((scan) => {
        const asset = servers.get(scan.assetId);
        return asset !== undefined && (machineType === undefined || asset.machineType === machineType);
      });
      const results = new Map<string, FinalResult[]>();
      for (const scan of inScope) {
        for (const r of latest.results.get(scan.id) ?? [])
          results.set(r.ruleId, [...(results.get(r.ruleId) ?? []), r.result]);
      }
      const input = {
        baseline,
        machineType: machineType ?? null,
        decisions: register,
        results,
        hosts: inScope.length,
        generatedAt: deps.clock.now(),
      };
      return format === 'html' ? hardeningHtml(input) : hardeningMarkdown(input);
    },
  };
}

export type HardeningService = ReturnType<typeof createHardeningService>;

import type { Transport } from '../../adapters/transports/types.js';
import type { Clock, Ids } from '../../platform/clock.js';
import type { Store } from '../../platform/db/store.js';
import { GatehouseError, NotFoundError, ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import type { Asset, AssetListQuery } from '../inventory/inventory.schemas.js';
import type { BaselineCatalog } from './baselines.js';
import type { Baseline } from './domain/baseline-schema.js';
import { assess, planBaseline, type RuleResult } from './domain/assess.js';
import type { ScanPlan } from './domain/scan-script.js';
import { parseScanOutput, scanScript } from './domain/scan-script.js';
import { drift, mapLimited, score, tally } from './domain/score.js';
import type { Scan, ScanDetail, ScanInput } from './hardening.schemas.js';
import { hardeningStore, type DecisionRecord, type ScanRecord } from './hardening.store.js';

/** How to reach a server asset: the transport a scan or an apply runs its one script over. */
export type TransportResolver = (asset: Asset) => Transport | Promise<Transport>;

export interface ScanServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  baselines: BaselineCatalog;
  inventory: Pick<InventoryService, 'getAsset' | 'listAssets' | 'getMachineType' | 'getCustomer'>;
  transports: TransportResolver;
  /** Hosts scanned at once in a fleet scan (default 16). */
  concurrency?: number;
}

export interface ScanProgress {
  done: number;
  total: number;
  scan: Scan;
}

/** Every server asset matching a filter, page by page. */
export async function serversWhere(
  inventory: Pick<InventoryService, 'listAssets'>,
  filter: Partial<Pick<AssetListQuery, 'machineType' | 'customer'>>,
): Promise<Asset[]> {
  const assets: Asset[] = [];
  let cursor: string | undefined;
  do {
    const page = await inventory.listAssets({
      limit: 500,
      kind: 'server',
      ...filter,
      ...(cursor ? { cursor } : {}),
    });
    assets.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return assets;
}

/**
 * Scans: a baseline's checks as one read-only script per host over its transport, evaluated in pure
 * code, stored with drift against the host's previous scan, audited. A host that cannot be reached or
 * whose script fails gets a failed scan (recorded, never a partial result).
 */
export function createScanService(deps: ScanServiceDeps) {
  const { db } = deps.store;
  const plans = new Map<string, { plan: ScanPlan; script: string }>();
  const planOf = (baseline: Baseline) => {
    const key = `${baseline.id}@${baseline.version}`;
    let entry = plans.get(key);
    if (!entry) {
      const plan = planBaseline(baseline);
      entry = { plan, script: scanScript(plan.probes) };
      plans.set(key, entry);
    }
    return entry;
  };

  const toScan = (record: ScanRecord, asset: string): Scan => ({ ...record, asset });

  /** Runs the scan script on one host; the probe outputs, or the reason it failed. */
  async function probe(baseline: Baseline, asset: Asset) {
    const { script } = planOf(baseline);
    try {
      const transport = await deps.transports(asset);
      const run = await transport.exec(['sh', '-s'], script);
      if (run.code !== 0)
        throw new Error(`the scan script exited with ${run.code}: ${run.stderr.trim().slice(0, 500)}`);
      return { transport: transport.kind, outputs: parseScanOutput(run.stdout) };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return { transport: 'unknown', error: message.slice(0, 2000) };
    }
  }

  async function scanOne(
    ctx: RequestContext,
    baseline: Baseline,
    asset: Asset,
    decisions: DecisionRecord[],
  ): Promise<Scan> {
    return (await scanDetailed(ctx, baseline, asset, decisions)).scan;
  }

  /** One host scanned and stored; with its rule results and raw probe outputs (for templates). */
  async function scanDetailed(
    ctx: RequestContext,
    baseline: Baseline,
    asset: Asset,
    decisions: DecisionRecord[],
  ) {
    if (asset.kind !== 'server') {
      throw new ValidationError(
        `asset: ${asset.name} is a ${asset.kind}; hardening baselines apply to servers`,
        {
          details: { field: 'asset' },
        },
      );
    }
    const startedAt = deps.clock.now();
    const probed = await probe(baseline, asset);
    const finishedAt = deps.clock.now();
    const scope = { assetId: asset.id, machineTypeId: asset.machineTypeId, customerId: asset.customerId };
    const results: RuleResult[] =
      'outputs' in probed && probed.outputs
        ? assess(baseline, planOf(baseline).plan, probed.outputs, decisions, scope, finishedAt)
        : [];
    const counts = tally(results.map((r) => r.result));
    const record = await db.transaction().execute(async (tx) => {
      const previous = await hardeningStore.previousCompleted(tx, asset.id, baseline.id);
      const failed = 'error' in probed;
      let changes: ScanRecord['drift'] = [];
      if (!failed && previous) {
        const before = (await hardeningStore.results(tx, [previous.id])).get(previous.id) ?? [];
        changes = drift(
          new Map(before.map((r) => [r.ruleId, r.result])),
          new Map(results.map((r) => [r.ruleId, r.result])),
        );
      }
      const scan: ScanRecord = {
        id: deps.ids.uuid(),
        assetId: asset.id,
        baseline: baseline.id,
        baselineVersion: baseline.version,
        transport: probed.transport,
        state: failed ? 'failed' : 'completed',
        error: failed ? (probed.error ?? 'unknown') : null,
        startedAt,
        finishedAt,
        counts,
        score: failed ? null : score(counts),
        drift: changes,
        actor: ctx.actor.name,
      };
      await hardeningStore.insertScan(tx, scan, results);
      await deps.audit.append(tx, {
        ...ctx,
        action: failed ? 'hardening.scan.failed' : 'hardening.scan.completed',
        target: { type: 'asset', id: asset.id },
        details: {
          scanId: scan.id,
          asset: asset.name,
          baseline: baseline.id,
          baselineVersion: baseline.version,
          score: scan.score,
          counts,
          drift: changes.length,
          ...(scan.error ? { error: scan.error } : {}),
        },
      });
      return scan;
    });
    return {
      scan: toScan(record, asset.name),
      results,
      outputs: 'outputs' in probed ? probed.outputs : undefined,
      plan: planOf(baseline).plan,
    };
  }

  async function targetsOf(input: ScanInput): Promise<Asset[]> {
    if (input.asset) return [await deps.inventory.getAsset(input.asset)];
    const lookup = async (field: string, get: () => Promise<unknown>) => {
      try {
        await get();
      } catch (error) {
        if (error instanceof NotFoundError)
          throw new ValidationError(`${field}: ${error.message}`, { details: { field } });
        throw error;
      }
    };
    if (input.machineType)
      await lookup('machineType', () => deps.inventory.getMachineType(input.machineType!));
    if (input.customer) await lookup('customer', () => deps.inventory.getCustomer(input.customer!));
    return serversWhere(deps.inventory, { machineType: input.machineType, customer: input.customer });
  }

  return {
    /** Scans the target (one asset, a machine type's, a customer's or every server) with a concurrency limit. */
    async scan(
      ctx: RequestContext,
      input: ScanInput,
      onProgress?: (p: ScanProgress) => void,
    ): Promise<Scan[]> {
      const baseline = deps.baselines.get(input.baseline);
      const targets = await targetsOf(input);
      const decisions = await hardeningStore.decisions(db, { baseline: baseline.id });
      let done = 0;
      return mapLimited(targets, input.concurrency ?? deps.concurrency ?? 16, async (asset) => {
        const scan = await scanOne(ctx, baseline, asset, decisions);
        onProgress?.({ done: ++done, total: targets.length, scan });
        return scan;
      });
    },

    /** Scans one asset now and returns what a template needs: results and probe outputs. */
    async scanForApply(ctx: RequestContext, baselineId: string, assetRef: string) {
      const baseline = deps.baselines.get(baselineId);
      const asset = await deps.inventory.getAsset(assetRef);
      const decisions = await hardeningStore.decisions(db, { baseline: baseline.id });
      return { baseline, asset, ...(await scanDetailed(ctx, baseline, asset, decisions)) };
    },

    async list(filter: {
      asset?: string | undefined;
      baseline?: string | undefined;
      limit: number;
    }): Promise<Scan[]> {
      const assetId = filter.asset ? (await deps.inventory.getAsset(filter.asset)).id : undefined;
      const records = await hardeningStore.scans(db, {
        assetId,
        baseline: filter.baseline,
        limit: filter.limit,
      });
      return withNames(records);
    },

    async get(id: string): Promise<ScanDetail> {
      const record = await hardeningStore.scanById(db, id);
      if (!record) throw new NotFoundError('Scan', id);
      const baseline = deps.baselines.get(record.baseline);
      const rules = new Map(baseline.rules.map((r) => [r.id, r]));
      const results = (await hardeningStore.results(db, [id])).get(id) ?? [];
      const [scan] = await withNames([record]);
      return {
        ...scan!,
        results: results.map((r) => ({
          ...r,
          title: rules.get(r.ruleId)?.title ?? r.ruleId,
          cis: rules.get(r.ruleId)?.cis ?? '',
        })),
      };
    },

    /** The latest completed scan of every host for a baseline, with their results. */
    async latest(baselineId: string) {
      const records = await hardeningStore.latestScans(db, baselineId);
      const results = await hardeningStore.results(
        db,
        records.map((r) => r.id),
      );
      return { scans: records, results };
    },
  };

  async function withNames(records: ScanRecord[]): Promise<Scan[]> {
    const names = new Map<string, string>();
    for (const r of records) {
      if (names.has(r.assetId)) continue;
      const name = await deps.inventory.getAsset(r.assetId).then(
        (a) => a.name,
        (error: unknown) => {
          if (error instanceof GatehouseError) return r.assetId;
          throw error;
        },
      );
      names.set(r.assetId, name);
    }
    return records.map((r) => toScan(r, names.get(r.assetId) ?? r.assetId));
  }
}

export type ScanService = ReturnType<typeof createScanService>;

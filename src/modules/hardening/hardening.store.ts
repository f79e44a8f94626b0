import { sql, type ColumnType, type Selectable } from 'kysely';
import type { Executor } from '../../platform/db/store.js';
import type { DecisionOutcome, DecisionStatus, FinalResult, ScopeType } from './domain/decisions.js';
import type { CheckResult } from './domain/evaluate.js';
import type { DriftEntry, Tally } from './domain/score.js';

/**
 * SQL for the decisions register, scans and results (migrations/0012_hardening.sql). The tables are
 * declared here and added with `withTables`, so this module's SQL stays in this module.
 */
type Timestamp = ColumnType<Date, Date, Date>;
type Json<T> = ColumnType<T, string, string>;

interface DecisionsTable {
  id: string;
  baseline: string;
  rule_id: string;
  scope_type: ScopeType;
  scope_id: string | null;
  status: DecisionStatus;
  justification: string;
  approver: string | null;
  expires_at: Timestamp | null;
  compensating_control: string;
  author: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

interface ScansTable {
  id: string;
  asset_id: string;
  baseline: string;
  baseline_version: string;
  transport: string;
  state: 'completed' | 'failed';
  error: string | null;
  started_at: Timestamp;
  finished_at: Timestamp;
  counts: Json<Tally>;
  score: ColumnType<string | null, number | null, number | null>;
  drift: Json<DriftEntry[]>;
  actor: string;
}

interface ResultsTable {
  scan_id: string;
  rule_id: string;
  checked: CheckResult;
  result: FinalResult;
  decision: DecisionOutcome;
  decision_id: string | null;
  observed: string;
  expected: string;
}

export type HardeningTables = {
  hardening_decisions: DecisionsTable;
  hardening_scans: ScansTable;
  hardening_results: ResultsTable;
};

const tables = (db: Executor) => db.withTables<HardeningTables>();

export interface DecisionRecord {
  id: string;
  baseline: string;
  ruleId: string;
  scopeType: ScopeType;
  scopeId: string | null;
  status: DecisionStatus;
  justification: string;
  approver: string | null;
  expiresAt: Date | null;
  compensatingControl: string;
  author: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface ScanRecord {
  id: string;
  assetId: string;
  baseline: string;
  baselineVersion: string;
  transport: string;
  state: 'completed' | 'failed';
  error: string | null;
  startedAt: Date;
  finishedAt: Date;
  counts: Tally;
  score: number | null;
  drift: DriftEntry[];
  actor: string;
}

export interface ResultRecord {
  ruleId: string;
  checked: CheckResult;
  result: FinalResult;
  decision: DecisionOutcome;
  decisionId: string | null;
  observed: string;
  expected: string;
}

const toDecision = (r: Selectable<DecisionsTable>): DecisionRecord => ({
  id: r.id,
  baseline: r.baseline,
  ruleId: r.rule_id,
  scopeType: r.scope_type,
  scopeId: r.scope_id,
  status: r.status,
  justification: r.justification,
  approver: r.approver,
  expiresAt: r.expires_at,
  compensatingControl: r.compensating_control,
  author: r.author,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const parseJson = <T>(value: unknown): T =>
  typeof value === 'string' ? (JSON.parse(value) as T) : (value as T);

const toScan = (r: Selectable<ScansTable>): ScanRecord => ({
  id: r.id,
  assetId: r.asset_id,
  baseline: r.baseline,
  baselineVersion: r.baseline_version,
  transport: r.transport,
  state: r.state,
  error: r.error,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  counts: parseJson<Tally>(r.counts),
  score: r.score === null ? null : Number(r.score),
  drift: parseJson<DriftEntry[]>(r.drift),
  actor: r.actor,
});

export interface DecisionFilter {
  baseline?: string | undefined;
  ruleId?: string | undefined;
  scopeType?: ScopeType | undefined;
  scopeId?: string | undefined;
}

export const hardeningStore = {
  async decisions(db: Executor, filter: DecisionFilter = {}): Promise<DecisionRecord[]> {
    let q = tables(db).selectFrom('hardening_decisions').selectAll();
    if (filter.baseline) q = q.where('baseline', '=', filter.baseline);
    if (filter.ruleId) q = q.where('rule_id', '=', filter.ruleId);
    if (filter.scopeType) q = q.where('scope_type', '=', filter.scopeType);
    if (filter.scopeId) q = q.where('scope_id', '=', filter.scopeId);
    const rows = await q.orderBy('baseline').orderBy('rule_id').orderBy('scope_type').orderBy('id').execute();
    return rows.map(toDecision);
  },

  async decisionById(db: Executor, id: string, options: { forUpdate?: boolean } = {}) {
    let q = tables(db).selectFrom('hardening_decisions').selectAll().where('id', '=', id);
    if (options.forUpdate) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row ? toDecision(row) : undefined;
  },

  /** The decision for exactly this rule and scope, locked for the change that replaces it. */
  async decisionAt(db: Executor, key: Pick<DecisionRecord, 'baseline' | 'ruleId' | 'scopeType' | 'scopeId'>) {
    let q = tables(db)
      .selectFrom('hardening_decisions')
      .selectAll()
      .where('baseline', '=', key.baseline)
      .where('rule_id', '=', key.ruleId)
      .where('scope_type', '=', key.scopeType);
    q = key.scopeId === null ? q.where('scope_id', 'is', null) : q.where('scope_id', '=', key.scopeId);
    const row = await q.forUpdate().executeTakeFirst();
    return row ? toDecision(row) : undefined;
  },

  async insertDecision(db: Executor, d: DecisionRecord): Promise<void> {
    await tables(db)
      .insertInto('hardening_decisions')
      .values({
        id: d.id,
        baseline: d.baseline,
        rule_id: d.ruleId,
        scope_type: d.scopeType,
        scope_id: d.scopeId,
        status: d.status,
        justification: d.justification,
        approver: d.approver,
        expires_at: d.expiresAt,
        compensating_control: d.compensatingControl,
        author: d.author,
        created_at: d.createdAt,
        updated_at: d.updatedAt,
      })
      .execute();
  },

  async updateDecision(db: Executor, d: DecisionRecord): Promise<void> {
    await tables(db)
      .updateTable('hardening_decisions')
      .set({
        status: d.status,
        justification: d.justification,
        approver: d.approver,
        expires_at: d.expiresAt,
        compensating_control: d.compensatingControl,
        author: d.author,
        updated_at: d.updatedAt,
      })
      .where('id', '=', d.id)
      .execute();
  },

  async deleteDecision(db: Executor, id: string): Promise<void> {
    await tables(db).deleteFrom('hardening_decisions').where('id', '=', id).execute();
  },

  async insertScan(db: Executor, scan: ScanRecord, results: readonly ResultRecord[]): Promise<void> {
    await tables(db)
      .insertInto('hardening_scans')
      .values({
        id: scan.id,
        asset_id: scan.assetId,
        baseline: scan.baseline,
        baseline_version: scan.baselineVersion,
        transport: scan.transport,
        state: scan.state,
        error: scan.error,
        started_at: scan.startedAt,
        finished_at: scan.finishedAt,
        counts: JSON.stringify(scan.counts),
        score: scan.score,
        drift: JSON.stringify(scan.drift),
        actor: scan.actor,
      })
      .execute();
    if (results.length === 0) return;
    await tables(db)
      .insertInto('hardening_results')
      .values(
        results.map((r) => ({
          scan_id: scan.id,
          rule_id: r.ruleId,
          checked: r.checked,
          result: r.result,
          decision: r.decision,
          decision_id: r.decisionId,
          observed: r.observed,
          expected: r.expected,
        })),
      )
      .execute();
  },

  async scanById(db: Executor, id: string): Promise<ScanRecord | undefined> {
    const row = await tables(db)
      .selectFrom('hardening_scans')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toScan(row) : undefined;
  },

  async scans(
    db: Executor,
    filter: { assetId?: string | undefined; baseline?: string | undefined; limit: number },
  ) {
    let q = tables(db).selectFrom('hardening_scans').selectAll();
    if (filter.assetId) q = q.where('asset_id', '=', filter.assetId);
    if (filter.baseline) q = q.where('baseline', '=', filter.baseline);
    const rows = await q.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(toScan);
  },

  /** The latest completed scan of each asset for a baseline (the fleet's current state). */
  async latestScans(db: Executor, baseline: string): Promise<ScanRecord[]> {
    const rows = await tables(db)
      .selectFrom('hardening_scans')
      .selectAll()
      .where('baseline', '=', baseline)
      .where('state', '=', 'completed')
      .where((eb) =>
        eb(
          'id',
          '=',
          eb
            .selectFrom('hardening_scans as later')
            .select('later.id')
            .whereRef('later.asset_id', '=', 'hardening_scans.asset_id')
            .where('later.baseline', '=', baseline)
            .where('later.state', '=', 'completed')
            .orderBy('later.started_at', 'desc')
            .orderBy('later.id', 'desc')
            .limit(1),
        ),
      )
      .execute();
    return rows.map(toScan);
  },

  async previousCompleted(db: Executor, assetId: string, baseline: string): Promise<ScanRecord | undefined> {
    const [scan] = await tables(db)
      .selectFrom('hardening_scans')
      .selectAll()
      .where('asset_id', '=', assetId)
      .where('baseline', '=', baseline)
      .where('state', '=', 'completed')
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .execute();
    return scan ? toScan(scan) : undefined;
  },

  async results(db: Executor, scanIds: readonly string[]): Promise<Map<string, ResultRecord[]>> {
    const byScan = new Map<string, ResultRecord[]>();
    if (scanIds.length === 0) return byScan;
    const rows = await tables(db)
      .selectFrom('hardening_results')
      .selectAll()
      .where('scan_id', 'in', scanIds)
      .orderBy(sql`rule_id`)
      .execute();
    for (const r of rows) {
      const list = byScan.get(r.scan_id) ?? [];
      list.push({
        ruleId: r.rule_id,
        checked: r.checked,
        result: r.result,
        decision: r.decision,
        decisionId: r.decision_id,
        observed: r.observed,
        expected: r.expected,
      });
      byScan.set(r.scan_id, list);
    }
    return byScan;
  },
};

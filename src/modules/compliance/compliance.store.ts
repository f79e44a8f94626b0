import { sql, type ColumnType } from 'kysely';
import type { Executor } from '../../platform/db/store.js';
import type { Area, Cell, Control, Gap, Matrix, Story } from './domain/matrix.js';
import type { ThreatModelRecord } from './domain/threat-model.js';

/**
 * SQL for the compliance workbench (migrations/0013_compliance.sql). The tables are declared here and
 * added to the executor with `withTables`, so this module's SQL stays in this module.
 */
type Json<T> = ColumnType<T, string, string>;

// a type, not an interface: withTables needs the index signature only type aliases get implicitly
export type ComplianceTables = {
  compliance_areas: { key: string; title: string; description: string };
  compliance_cells: Cell;
  compliance_gaps: Gap;
  compliance_stories: {
    key: string;
    title: string;
    gaps: Json<string[]>;
    estimate: number | null;
    priority: Story['priority'];
    state: Story['state'];
    ticket_url: string | null;
  };
  compliance_controls: {
    key: string;
    title: string;
    description: string;
    owner: string;
    frequency: Control['frequency'];
    mode: Control['mode'];
    test: Control['test'];
    criteria: Json<string[]>;
  };
  compliance_threat_models: {
    key: string;
    title: string;
    model: Json<ThreatModelRecord['model']>;
    status: ThreatModelRecord['status'];
    approved_by: string | null;
    approved_at: ColumnType<Date | null, Date | null, Date | null>;
    updated_at: ColumnType<Date, Date, Date>;
  };
};

const tables = (db: Executor) => db.withTables<ComplianceTables>();

/** Serialises changes to the matrix: each one is checked against the whole matrix as it stands. */
const MATRIX_LOCK_KEY = 7070_0013;

export type MatrixList = 'areas' | 'gaps' | 'stories' | 'controls';
const tableOf = {
  areas: 'compliance_areas',
  gaps: 'compliance_gaps',
  stories: 'compliance_stories',
  controls: 'compliance_controls',
} as const;

const storyRow = (s: Story) => ({
  key: s.key,
  title: s.title,
  gaps: JSON.stringify(s.gaps),
  estimate: s.estimate,
  priority: s.priority,
  state: s.state,
  ticket_url: s.ticketUrl,
});
const controlRow = (c: Control) => ({ ...c, criteria: JSON.stringify(c.criteria) });

export const complianceStore = {
  async lockMatrix(tx: Executor): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(${MATRIX_LOCK_KEY})`.execute(tx);
  },

  async matrix(db: Executor): Promise<Matrix> {
    const t = tables(db);
    const [cells, areas, gaps, stories, controls] = await Promise.all([
      t.selectFrom('compliance_cells').selectAll().execute(),
      t.selectFrom('compliance_areas').selectAll().execute(),
      t.selectFrom('compliance_gaps').selectAll().execute(),
      t.selectFrom('compliance_stories').selectAll().execute(),
      t.selectFrom('compliance_controls').selectAll().execute(),
    ]);
    return {
      cells,
      areas: areas,
      gaps,
      stories: stories.map((s) => ({
        key: s.key,
        title: s.title,
        gaps: s.gaps,
        estimate: s.estimate,
        priority: s.priority,
        state: s.state,
        ticketUrl: s.ticket_url,
      })),
      controls: controls.map((c) => ({ ...c, criteria: c.criteria })),
    };
  },

  async putCell(tx: Executor, cell: Cell, isDefault: boolean): Promise<void> {
    const t = tables(tx);
    if (isDefault) {
      await t
        .deleteFrom('compliance_cells')
        .where('criterion', '=', cell.criterion)
        .where('component', '=', cell.component)
        .execute();
      return;
    }
    await t
      .insertInto('compliance_cells')
      .values(cell)
      .onConflict((oc) =>
        oc.columns(['criterion', 'component']).doUpdateSet({
          applicable: cell.applicable,
          status: cell.status,
          notes: cell.notes,
        }),
      )
      .execute();
  },

  async putArea(tx: Executor, area: Area): Promise<void> {
    await tables(tx)
      .insertInto('compliance_areas')
      .values(area)
      .onConflict((oc) => oc.column('key').doUpdateSet({ title: area.title, description: area.description }))
      .execute();
  },

  async putGap(tx: Executor, gap: Gap): Promise<void> {
    const { key: _key, ...rest } = gap;
    await tables(tx)
      .insertInto('compliance_gaps')
      .values(gap)
      .onConflict((oc) => oc.column('key').doUpdateSet(rest))
      .execute();
  },

  async putStory(tx: Executor, story: Story): Promise<void> {
    const { key: _key, ...rest } = storyRow(story);
    await tables(tx)
      .insertInto('compliance_stories')
      .values(storyRow(story))
      .onConflict((oc) => oc.column('key').doUpdateSet(rest))
      .execute();
  },

  async putControl(tx: Executor, control: Control): Promise<void> {
    const { key: _key, ...rest } = controlRow(control);
    await tables(tx)
      .insertInto('compliance_controls')
      .values(controlRow(control))
      .onConflict((oc) => oc.column('key').doUpdateSet(rest))
      .execute();
  },

  async remove(tx: Executor, list: MatrixList, key: string): Promise<boolean> {
    const result = await tables(tx).deleteFrom(tableOf[list]).where('key', '=', key).executeTakeFirst();
    return result.numDeletedRows > 0n;
  },

  /** Makes the stored matrix exactly `matrix` (import): everything else is removed. */
  async replaceMatrix(tx: Executor, matrix: Matrix): Promise<void> {
    const t = tables(tx);
    for (const table of [
      'compliance_cells',
      'compliance_stories',
      'compliance_controls',
      'compliance_gaps',
      'compliance_areas',
    ] as const) {
      await t.deleteFrom(table).execute();
    }
    if (matrix.areas.length > 0) await t.insertInto('compliance_areas').values(matrix.areas).execute();
    if (matrix.cells.length > 0) await t.insertInto('compliance_cells').values(matrix.cells).execute();
    if (matrix.gaps.length > 0) await t.insertInto('compliance_gaps').values(matrix.gaps).execute();
    if (matrix.stories.length > 0) {
      await t.insertInto('compliance_stories').values(matrix.stories.map(storyRow)).execute();
    }
    if (matrix.controls.length > 0) {
      await t.insertInto('compliance_controls').values(matrix.controls.map(controlRow)).execute();
    }
  },

  async threatModels(db: Executor): Promise<ThreatModelRecord[]> {
    const rows = await tables(db).selectFrom('compliance_threat_models').selectAll().orderBy('key').execute();
    return rows.map(toThreatModel);
  },

  async threatModel(db: Executor, key: string, options: { forUpdate?: boolean } = {}) {
    let query = tables(db).selectFrom('compliance_threat_models').selectAll().where('key', '=', key);
    if (options.forUpdate) query = query.forUpdate();
    const row = await query.executeTakeFirst();
    return row ? toThreatModel(row) : undefined;
  },

  async putThreatModel(tx: Executor, record: ThreatModelRecord): Promise<void> {
    const row = {
      key: record.key,
      title: record.title,
      model: JSON.stringify(record.model),
      status: record.status,
      approved_by: record.approvedBy,
      approved_at: record.approvedAt,
      updated_at: record.updatedAt,
    };
    const { key: _key, ...rest } = row;
    await tables(tx)
      .insertInto('compliance_threat_models')
      .values(row)
      .onConflict((oc) => oc.column('key').doUpdateSet(rest))
      .execute();
  },
};

function toThreatModel(row: {
  key: string;
  title: string;
  model: ThreatModelRecord['model'];
  status: ThreatModelRecord['status'];
  approved_by: string | null;
  approved_at: Date | null;
  updated_at: Date;
}): ThreatModelRecord {
  return {
    key: row.key,
    title: row.title,
    model: row.model,
    status: row.status,
    approvedBy: row.approved_by,
    approvedAt: row.approved_at,
    updatedAt: row.updated_at,
  };
}

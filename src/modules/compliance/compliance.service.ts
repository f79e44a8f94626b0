import { createHash } from 'node:crypto';
import type { Clock } from '../../platform/clock.js';
import type { Store, Tx } from '../../platform/db/store.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import { type Catalog } from './domain/catalog.js';
import {
  defaultCell,
  isDefaultCell,
  matrixProblems,
  normaliseMatrix,
  type Area,
  type Cell,
  type Control,
  type Gap,
  type Matrix,
  type MatrixProblem,
  type Story,
} from './domain/matrix.js';
import { matrixFromYaml, matrixToYaml } from './domain/matrix-document.js';
import { describeProblems } from './domain/yaml-document.js';
import { complianceStore, type MatrixList } from './compliance.store.js';

export interface ComplianceServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  audit: AuditAppender;
  catalog: Catalog;
}

type Entry = { areas: Area; gaps: Gap; stories: Story; controls: Control };
const singular: Record<MatrixList, string> = {
  areas: 'area',
  gaps: 'gap',
  stories: 'story',
  controls: 'control',
};
const noun: Record<MatrixList, string> = {
  areas: 'Area of concern',
  gaps: 'Gap',
  stories: 'Story',
  controls: 'Control',
};

function refuse(problems: MatrixProblem[]): never {
  throw new ValidationError(problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; '), {
    details: { problems },
  });
}

/**
 * The matrix: cells, areas of concern, gaps, stories and controls. Every change is checked against
 * the whole matrix (under a lock, so two changes cannot each pass alone and break it together) and
 * writes its audit event in the same transaction.
 */
export function createComplianceService(deps: ComplianceServiceDeps) {
  const { db } = deps.store;
  const { catalog } = deps;
  const criteria = new Set(catalog.criteria.map((c) => c.id));

  async function change<T>(work: (tx: Tx, matrix: Matrix) => Promise<T>): Promise<T> {
    return db.transaction().execute(async (tx) => {
      await complianceStore.lockMatrix(tx);
      return work(tx, await complianceStore.matrix(tx));
    });
  }

  function checked(matrix: Matrix): void {
    const problems = matrixProblems(matrix, catalog);
    if (problems.length > 0) refuse(problems);
  }

  async function put<L extends MatrixList>(ctx: RequestContext, list: L, entry: Entry[L]): Promise<Entry[L]> {
    return change(async (tx, matrix) => {
      const entries = matrix[list] as Entry[L][];
      const before = entries.find((e) => e.key === entry.key);
      checked({ ...matrix, [list]: [...entries.filter((e) => e.key !== entry.key), entry] });
      if (before && JSON.stringify(normaliseEntry(before)) === JSON.stringify(normaliseEntry(entry)))
        return before;
      const writers: { [K in MatrixList]: (e: Entry[K]) => Promise<void> } = {
        areas: (e: Area) => complianceStore.putArea(tx, e),
        gaps: (e: Gap) => complianceStore.putGap(tx, e),
        stories: (e: Story) => complianceStore.putStory(tx, e),
        controls: (e: Control) => complianceStore.putControl(tx, e),
      };
      await writers[list](entry);
      await deps.audit.append(tx, {
        ...ctx,
        action: `compliance.${singular[list]}-${before ? 'updated' : 'created'}`,
        target: { type: `compliance-${singular[list]}`, id: entry.key },
        details: { ...(before ? { from: before } : {}), to: entry },
      });
      return entry;
    });
  }

  async function remove(ctx: RequestContext, list: MatrixList, key: string): Promise<void> {
    await change(async (tx, matrix) => {
      const before = (matrix[list] as { key: string }[]).find((e) => e.key === key);
      if (!before) throw new NotFoundError(noun[list], key);
      const problems = matrixProblems(
        { ...matrix, [list]: (matrix[list] as { key: string }[]).filter((e) => e.key !== key) },
        catalog,
      );
      if (problems.length > 0) {
        throw new ConflictError(
          `${noun[list]} '${key}' is still referenced: ${problems.map((p) => p.message).join('; ')}; change those first`,
        );
      }
      await complianceStore.remove(tx, list, key);
      await deps.audit.append(tx, {
        ...ctx,
        action: `compliance.${singular[list]}-deleted`,
        target: { type: `compliance-${singular[list]}`, id: key },
        details: { was: before },
      });
    });
  }

  return {
    catalog: () => catalog,

    /** The whole matrix in export order (default cells left out). */
    async matrix(): Promise<Matrix> {
      return normaliseMatrix(await complianceStore.matrix(db), catalog);
    },

    /** One cell, default if never assessed. */
    async cell(criterion: string, component: Cell['component']): Promise<Cell> {
      if (!criteria.has(criterion)) throw new NotFoundError('Criterion', criterion);
      const matrix = await complianceStore.matrix(db);
      return (
        matrix.cells.find((c) => c.criterion === criterion && c.component === component) ??
        defaultCell(criterion, component)
      );
    },

    async putCell(ctx: RequestContext, cell: Cell): Promise<Cell> {
      if (!criteria.has(cell.criterion)) throw new NotFoundError('Criterion', cell.criterion);
      return change(async (tx, matrix) => {
        const before =
          matrix.cells.find((c) => c.criterion === cell.criterion && c.component === cell.component) ??
          defaultCell(cell.criterion, cell.component);
        if (JSON.stringify(before) === JSON.stringify(cell)) return before;
        await complianceStore.putCell(tx, cell, isDefaultCell(cell));
        await deps.audit.append(tx, {
          ...ctx,
          action: 'compliance.cell-updated',
          target: { type: 'compliance-cell', id: `${cell.criterion}/${cell.component}` },
          details: { from: before, to: cell },
        });
        return cell;
      });
    },

    putArea: (ctx: RequestContext, area: Area) => put(ctx, 'areas', area),
    putGap: (ctx: RequestContext, gap: Gap) => put(ctx, 'gaps', gap),
    putStory: (ctx: RequestContext, story: Story) => put(ctx, 'stories', story),
    putControl: (ctx: RequestContext, control: Control) => put(ctx, 'controls', control),
    remove,

    async exportYaml(): Promise<string> {
      return matrixToYaml(await complianceStore.matrix(db), catalog);
    },

    /**
     * Makes the stored matrix equal to the document, in one transaction and one audit event. A
     * document with any problem changes nothing; the error lists each problem with its line.
     */
    async importYaml(
      ctx: RequestContext,
      text: string,
    ): Promise<{ changed: boolean; counts: Record<string, number> }> {
      const parsed = matrixFromYaml(text, catalog);
      if (!parsed.ok) {
        throw new ValidationError(`The matrix document has problems:\n${describeProblems(parsed.problems)}`, {
          details: { problems: parsed.problems },
        });
      }
      const next = parsed.value;
      const counts = Object.fromEntries(Object.entries(next).map(([k, v]) => [k, (v as unknown[]).length]));
      return change(async (tx, current) => {
        const before = matrixToYaml(current, catalog);
        const after = matrixToYaml(next, catalog);
        if (before === after) return { changed: false, counts };
        await complianceStore.replaceMatrix(tx, next);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'compliance.matrix-imported',
          target: { type: 'compliance-matrix', id: catalog.catalog },
          details: {
            counts,
            sha256: createHash('sha256').update(after).digest('hex'),
            previousSha256: sha(before),
          },
        });
        return { changed: true, counts };
      });
    },
  };
}

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

function normaliseEntry(entry: object): unknown {
  return Object.fromEntries(Object.entries(entry).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export type ComplianceService = ReturnType<typeof createComplianceService>;

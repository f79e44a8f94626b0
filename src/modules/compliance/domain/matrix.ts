import { z } from 'zod';
import { automatedTestIds } from './control-actions.js';
import { componentIds, CRITERION_ID, ENTRY_KEY, ENTRY_KEY_HINT, type Catalog } from './catalog.js';

/**
 * The assessment matrix: criterion × component cells, gaps found in cells and grouped by area of
 * concern, stories that close gaps, and controls that satisfy criteria. Plain data; the rules that
 * need the whole matrix (references, catalog ids) are in `matrixProblems`.
 */

export const assessmentStatuses = ['not-assessed', 'met', 'partially-met', 'not-met'] as const;
export const gapStatuses = ['open', 'closed'] as const;
export const storyPriorities = ['low', 'medium', 'high', 'critical'] as const;
export const storyStates = ['todo', 'in-progress', 'done', 'wont-do'] as const;
export const controlFrequencies = [
  'continuous',
  'per-change',
  'daily',
  'weekly',
  'monthly',
  'quarterly',
  'yearly',
] as const;
export const controlModes = ['automated', 'manual'] as const;

export const entryKey = z.string().regex(ENTRY_KEY, ENTRY_KEY_HINT);
export const criterionId = z.string().regex(CRITERION_ID, 'a criterion id like CC6.1 or PI1.3');
const title = z.string().trim().min(1, 'must not be blank').max(200, 'at most 200 characters');
const prose = z.string().max(4000, 'at most 4000 characters');

export const cellSchema = z
  .object({
    criterion: criterionId,
    component: z.enum(componentIds),
    applicable: z.boolean(),
    status: z.enum(assessmentStatuses),
    notes: prose,
  })
  .strict();

export const areaSchema = z.object({ key: entryKey, title, description: prose }).strict();

export const gapSchema = z
  .object({
    key: entryKey,
    criterion: criterionId,
    component: z.enum(componentIds),
    area: entryKey,
    title,
    description: prose,
    status: z.enum(gapStatuses),
  })
  .strict();

export const storySchema = z
  .object({
    key: entryKey,
    title,
    gaps: z.array(entryKey).max(100),
    estimate: z.number().int().min(0).max(1000).nullable().describe('Story points, or null'),
    priority: z.enum(storyPriorities),
    state: z.enum(storyStates),
    ticketUrl: z
      .url({ protocol: /^https?$/ })
      .max(500)
      .nullable(),
  })
  .strict();

export const controlSchema = z
  .object({
    key: entryKey,
    title,
    description: prose,
    owner: z.string().trim().min(1).max(100),
    frequency: z.enum(controlFrequencies),
    mode: z.enum(controlModes),
    test: z.enum(automatedTestIds).nullable().describe('The built-in automated test, for automated controls'),
    criteria: z.array(criterionId).min(1).max(100),
  })
  .strict();

export type Cell = z.infer<typeof cellSchema>;
export type Area = z.infer<typeof areaSchema>;
export type Gap = z.infer<typeof gapSchema>;
export type Story = z.infer<typeof storySchema>;
export type Control = z.infer<typeof controlSchema>;

export interface Matrix {
  cells: Cell[];
  areas: Area[];
  gaps: Gap[];
  stories: Story[];
  controls: Control[];
}

export const defaultCell = (criterion: string, component: Cell['component']): Cell => ({
  criterion,
  component,
  applicable: true,
  status: 'not-assessed',
  notes: '',
});

export const isDefaultCell = (cell: Cell): boolean =>
  cell.applicable && cell.status === 'not-assessed' && cell.notes === '';

export interface MatrixProblem {
  path: (string | number)[];
  message: string;
}

/** Rules that need the whole matrix and the catalog: known criteria, references that resolve, unique keys. */
export function matrixProblems(matrix: Matrix, catalog: Catalog): MatrixProblem[] {
  const criteria = new Set(catalog.criteria.map((c) => c.id));
  const areas = new Set(matrix.areas.map((a) => a.key));
  const gaps = new Set(matrix.gaps.map((g) => g.key));
  const problems: MatrixProblem[] = [];
  const unknownCriterion = (id: string, path: (string | number)[]) => {
    if (!criteria.has(id)) {
      problems.push({ path, message: `'${id}' is not a criterion of ${catalog.catalog}; see the catalog` });
    }
  };
  const unique = (list: 'areas' | 'gaps' | 'stories' | 'controls') => {
    const seen = new Set<string>();
    matrix[list].forEach((entry, index) => {
      if (seen.has(entry.key))
        problems.push({ path: [list, index, 'key'], message: `'${entry.key}' is used twice` });
      seen.add(entry.key);
    });
  };
  (['areas', 'gaps', 'stories', 'controls'] as const).forEach(unique);
  const cellSeen = new Set<string>();
  matrix.cells.forEach((cell, index) => {
    unknownCriterion(cell.criterion, ['cells', index, 'criterion']);
    const id = `${cell.criterion}/${cell.component}`;
    if (cellSeen.has(id))
      problems.push({ path: ['cells', index], message: `the cell ${id} is listed twice` });
    cellSeen.add(id);
  });
  matrix.gaps.forEach((gap, index) => {
    unknownCriterion(gap.criterion, ['gaps', index, 'criterion']);
    if (!areas.has(gap.area)) {
      problems.push({ path: ['gaps', index, 'area'], message: `there is no area of concern '${gap.area}'` });
    }
  });
  matrix.stories.forEach((story, index) => {
    story.gaps.forEach((key, at) => {
      if (!gaps.has(key))
        problems.push({ path: ['stories', index, 'gaps', at], message: `there is no gap '${key}'` });
    });
  });
  matrix.controls.forEach((control, index) => {
    control.criteria.forEach((id, at) => unknownCriterion(id, ['controls', index, 'criteria', at]));
    if (control.mode === 'automated' && control.test === null) {
      problems.push({
        path: ['controls', index, 'test'],
        message: 'an automated control names its built-in test (one of the automated tests)',
      });
    }
    if (control.mode === 'manual' && control.test !== null) {
      problems.push({ path: ['controls', index, 'test'], message: 'a manual control has no automated test' });
    }
  });
  return problems;
}

const byKey = <T extends { key: string }>(list: readonly T[]): T[] =>
  [...list].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/**
 * One order for everything, so two equal matrices export to the same bytes: cells in catalog order,
 * then component order; default cells left out (a missing cell is a default one); entries by key.
 */
export function normaliseMatrix(matrix: Matrix, catalog: Catalog): Matrix {
  const criterionOrder = new Map(catalog.criteria.map((c, i) => [c.id, i]));
  const componentOrder = new Map(componentIds.map((c, i) => [c, i]));
  const rank = (cell: Cell) =>
    (criterionOrder.get(cell.criterion) ?? 1e6) * 10 + (componentOrder.get(cell.component) ?? 9);
  // fields in one order too, whatever order the source (a row, a file, a request) gave them in
  return {
    cells: matrix.cells
      .filter((c) => !isDefaultCell(c))
      .sort((a, b) => rank(a) - rank(b))
      .map((c) => ({
        criterion: c.criterion,
        component: c.component,
        applicable: c.applicable,
        status: c.status,
        notes: c.notes,
      })),
    areas: byKey(matrix.areas).map((a) => ({ key: a.key, title: a.title, description: a.description })),
    gaps: byKey(matrix.gaps).map((g) => ({
      key: g.key,
      criterion: g.criterion,
      component: g.component,
      area: g.area,
      title: g.title,
      description: g.description,
      status: g.status,
    })),
    stories: byKey(matrix.stories).map((s) => ({
      key: s.key,
      title: s.title,
      gaps: [...new Set(s.gaps)].sort(),
      estimate: s.estimate,
      priority: s.priority,
      state: s.state,
      ticketUrl: s.ticketUrl,
    })),
    controls: byKey(matrix.controls).map((c) => ({
      key: c.key,
      title: c.title,
      description: c.description,
      owner: c.owner,
      frequency: c.frequency,
      mode: c.mode,
      test: c.test,
      criteria: sortCriteria(c.criteria, criterionOrder),
    })),
  };
}

function sortCriteria(ids: readonly string[], order: Map<string, number>): string[] {
  return [...new Set(ids)].sort((a, b) => (order.get(a) ?? 1e6) - (order.get(b) ?? 1e6) || (a < b ? -1 : 1));
}

import type { Catalog } from './catalog.js';
import { componentIds } from './catalog.js';
import type { ControlTestResult } from './controls/types.js';
import type { Matrix } from './matrix.js';

/**
 * The workbench's report: criteria coverage (at least one effective control: a manual one, or an
 * automated one whose test passed in the period), open gaps by area and component, stories' progress,
 * and failing automated controls with their exceptions.
 */
export interface ComplianceReport {
  period: { from: string; to: string };
  coverage: {
    criteria: number;
    covered: number;
    uncovered: string[];
    byCriterion: { criterion: string; controls: string[]; effective: string[] }[];
  };
  openGaps: {
    total: number;
    byArea: Record<string, number>;
    byComponent: Record<string, number>;
  };
  stories: {
    total: number;
    byState: Record<string, number>;
    points: { done: number; total: number };
  };
  failingControls: { control: string; test: string; exceptions: ControlTestResult['exceptions'] }[];
}

export function buildReport(
  catalog: Catalog,
  matrix: Matrix,
  results: readonly ControlTestResult[],
  period: { from: string; to: string },
): ComplianceReport {
  const passed = new Map(results.map((r) => [r.test, r.status === 'pass']));
  const effective = (control: Matrix['controls'][number]) =>
    control.mode === 'manual' || (control.test !== null && passed.get(control.test) === true);
  const byCriterion = catalog.criteria.map((criterion) => {
    const controls = matrix.controls.filter((c) => c.criteria.includes(criterion.id));
    return {
      criterion: criterion.id,
      controls: controls.map((c) => c.key),
      effective: controls.filter(effective).map((c) => c.key),
    };
  });
  const open = matrix.gaps.filter((g) => g.status === 'open');
  const count = <K extends string>(keys: readonly K[], of: (k: K) => number) =>
    Object.fromEntries(keys.map((k) => [k, of(k)])) as Record<K, number>;
  const storyStates = ['todo', 'in-progress', 'done', 'wont-do'] as const;
  return {
    period,
    coverage: {
      criteria: catalog.criteria.length,
      covered: byCriterion.filter((c) => c.effective.length > 0).length,
      uncovered: byCriterion.filter((c) => c.effective.length === 0).map((c) => c.criterion),
      byCriterion,
    },
    openGaps: {
      total: open.length,
      byArea: count(
        matrix.areas.map((a) => a.key),
        (area) => open.filter((g) => g.area === area).length,
      ),
      byComponent: count(componentIds, (component) => open.filter((g) => g.component === component).length),
    },
    stories: {
      total: matrix.stories.length,
      byState: count(storyStates, (state) => matrix.stories.filter((s) => s.state === state).length),
      points: {
        done: matrix.stories.filter((s) => s.state === 'done').reduce((n, s) => n + (s.estimate ?? 0), 0),
        total: matrix.stories.filter((s) => s.state !== 'wont-do').reduce((n, s) => n + (s.estimate ?? 0), 0),
      },
    },
    failingControls: matrix.controls.flatMap((control) => {
      const result = results.find((r) => r.test === control.test);
      return result && result.status === 'fail'
        ? [{ control: control.key, test: result.test, exceptions: result.exceptions }]
        : [];
    }),
  };
}

const table = (head: string[], rows: (string | number)[][]) =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
const cell = (value: string) => value.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(report: ComplianceReport): string {
  const { coverage, openGaps, stories } = report;
  return [
    `# Compliance report ${report.period.from} – ${report.period.to}`,
    '',
    `## Coverage`,
    '',
    `${coverage.covered} of ${coverage.criteria} criteria have at least one effective control.`,
    '',
    coverage.uncovered.length > 0
      ? `Without an effective control: ${coverage.uncovered.join(', ')}`
      : 'Every criterion is covered.',
    '',
    `## Open gaps (${openGaps.total})`,
    '',
    table(
      ['area of concern', 'open gaps'],
      Object.entries(openGaps.byArea).map(([k, v]) => [cell(k), v]),
    ),
    '',
    table(
      ['component', 'open gaps'],
      Object.entries(openGaps.byComponent).map(([k, v]) => [k, v]),
    ),
    '',
    `## Stories (${stories.total})`,
    '',
    table(
      ['state', 'stories'],
      Object.entries(stories.byState).map(([k, v]) => [k, v]),
    ),
    '',
    `Points done: ${stories.points.done} of ${stories.points.total}.`,
    '',
    `## Failing automated controls (${report.failingControls.length})`,
    '',
    report.failingControls.length === 0
      ? 'None: every automated control passed for the period.'
      : table(
          ['control', 'subject', 'rule', 'what'],
          report.failingControls.flatMap((f) =>
            f.exceptions.map((e) => [cell(f.control), cell(e.subject), e.rule, cell(e.message)]),
          ),
        ),
    '',
  ].join('\n');
}

const escapeHtml = (value: string) =>
  value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

/** The Markdown report as a standalone HTML page (every value escaped). */
export function reportHtml(report: ComplianceReport): string {
  const rows = (head: string[], body: (string | number)[][]) =>
    `<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${body
      .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const { coverage, openGaps, stories } = report;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Compliance report</title></head><body>
<h1>Compliance report ${escapeHtml(report.period.from)} – ${escapeHtml(report.period.to)}</h1>
<h2>Coverage</h2><p>${coverage.covered} of ${coverage.criteria} criteria have at least one effective control.</p>
<p>Without an effective control: ${escapeHtml(coverage.uncovered.join(', ') || 'none')}</p>
<h2>Open gaps (${openGaps.total})</h2>
${rows(['area of concern', 'open gaps'], Object.entries(openGaps.byArea))}
${rows(['component', 'open gaps'], Object.entries(openGaps.byComponent))}
<h2>Stories (${stories.total})</h2>
${rows(['state', 'stories'], Object.entries(stories.byState))}
<p>Points done: ${stories.points.done} of ${stories.points.total}.</p>
<h2>Failing automated controls (${report.failingControls.length})</h2>
${rows(
  ['control', 'subject', 'rule', 'what'],
  report.failingControls.flatMap((f) => f.exceptions.map((e) => [f.control, e.subject, e.rule, e.message])),
)}
</body></html>
`;
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/modules/compliance/catalog.js';
import { componentIds } from '../../src/modules/compliance/domain/catalog.js';
import { toCsv } from '../../src/modules/compliance/domain/evidence-pack.js';
import {
  assessmentStatuses,
  controlFrequencies,
  normaliseMatrix,
  storyPriorities,
  storyStates,
  type Matrix,
} from '../../src/modules/compliance/domain/matrix.js';
import { matrixFromYaml, matrixToYaml } from '../../src/modules/compliance/domain/matrix-document.js';
import { automatedTestIds } from '../../src/modules/compliance/domain/control-actions.js';

const catalog = loadCatalog();
const criterion = fc.constantFrom(...catalog.criteria.map((c) => c.id));
const key = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/);
/** Any text a person might type, YAML's special characters included. */
const prose = fc.string({ unit: 'grapheme', maxLength: 80 });
const title = prose.map((s) => s.trim()).filter((s) => s.length > 0);

const matrix: fc.Arbitrary<Matrix> = fc
  .record({
    areaKeys: fc.uniqueArray(key, { minLength: 1, maxLength: 4 }),
    gapKeys: fc.uniqueArray(key, { maxLength: 4 }),
    storyKeys: fc.uniqueArray(key, { maxLength: 3 }),
    controlKeys: fc.uniqueArray(key, { maxLength: 3 }),
  })
  .chain(({ areaKeys, gapKeys, storyKeys, controlKeys }) =>
    fc.record({
      areas: fc.tuple(...areaKeys.map((k) => fc.record({ key: fc.constant(k), title, description: prose }))),
      cells: fc.uniqueArray(
        fc.record({
          criterion,
          component: fc.constantFrom(...componentIds),
          applicable: fc.boolean(),
          status: fc.constantFrom(...assessmentStatuses),
          notes: prose,
        }),
        { selector: (c) => `${c.criterion}/${c.component}`, maxLength: 6 },
      ),
      gaps: fc.tuple(
        ...gapKeys.map((k) =>
          fc.record({
            key: fc.constant(k),
            criterion,
            component: fc.constantFrom(...componentIds),
            area: fc.constantFrom(...areaKeys),
            title,
            description: prose,
            status: fc.constantFrom('open' as const, 'closed' as const),
          }),
        ),
      ),
      stories: fc.tuple(
        ...storyKeys.map((k) =>
          fc.record({
            key: fc.constant(k),
            title,
            gaps:
              gapKeys.length > 0 ? fc.uniqueArray(fc.constantFrom(...gapKeys)) : fc.constant<string[]>([]),
            estimate: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
            priority: fc.constantFrom(...storyPriorities),
            state: fc.constantFrom(...storyStates),
            ticketUrl: fc.option(fc.constant('https://tracker.example.com/browse/SEC-1'), { nil: null }),
          }),
        ),
      ),
      controls: fc.tuple(
        ...controlKeys.map((k) =>
          fc
            .record({
              key: fc.constant(k),
              title,
              description: prose,
              owner: title.map((s) => s.slice(0, 100).trim() || 'x'),
              frequency: fc.constantFrom(...controlFrequencies),
              test: fc.option(fc.constantFrom(...automatedTestIds), { nil: null }),
              criteria: fc.uniqueArray(criterion, { minLength: 1, maxLength: 3 }),
            })
            .map((c) => ({ ...c, mode: c.test === null ? ('manual' as const) : ('automated' as const) })),
        ),
      ),
    }),
  );

describe('matrix YAML document', () => {
  it('re-imports to the same matrix and exports to the same bytes (property)', () => {
    fc.assert(
      fc.property(matrix, (m) => {
        const yaml = matrixToYaml(m, catalog);
        const back = matrixFromYaml(yaml, catalog);
        if (!back.ok) throw new Error(JSON.stringify(back.problems));
        expect(back.value).toEqual(normaliseMatrix(m, catalog));
        expect(matrixToYaml(back.value, catalog)).toBe(yaml);
      }),
      { numRuns: 150 },
    );
  });

  it('names the line of every problem and accepts nothing from a document that has one', () => {
    const text = [
      'format: gatehouse.compliance.matrix.v1',
      'catalog: tsc-2017@1',
      'areas:',
      '  - { key: ops, title: Ops, description: "" }',
      'gaps:',
      '  - key: g1',
      '    criterion: CC6.9',
      '    component: data',
      '    area: nowhere',
      '    title: t',
      '    description: ""',
      '    status: open',
    ].join('\n');
    const result = matrixFromYaml(text, catalog);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.map((p) => [p.line, p.path])).toEqual([
        [7, 'gaps.0.criterion'],
        [9, 'gaps.0.area'],
      ]);
    }
  });
});

describe('population CSV', () => {
  it('quotes separators and defuses spreadsheet formulas', () => {
    expect(toCsv([{ a: 'x,y', b: '=HYPERLINK("z")', c: null, d: 3 }])).toBe(
      'a,b,c,d\n"x,y","\'=HYPERLINK(""z"")",,3\n',
    );
    expect(toCsv([])).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/modules/compliance/catalog.js';
import { parseCatalog } from '../../src/modules/compliance/domain/catalog.js';

const range = (prefix: string, from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}.${from + i}`);

/** Every criterion id the 2017 Trust Services Criteria define, spelled out independently of the file. */
const expectedIds = [
  ...range('CC1', 1, 5),
  ...range('CC2', 1, 3),
  ...range('CC3', 1, 4),
  ...range('CC4', 1, 2),
  ...range('CC5', 1, 3),
  ...range('CC6', 1, 8),
  ...range('CC7', 1, 5),
  'CC8.1',
  ...range('CC9', 1, 2),
  ...range('A1', 1, 3),
  ...range('C1', 1, 2),
  ...range('PI1', 1, 5),
  'P1.1',
  'P2.1',
  ...range('P3', 1, 2),
  ...range('P4', 1, 3),
  ...range('P5', 1, 2),
  ...range('P6', 1, 7),
  'P7.1',
  'P8.1',
];

describe('criteria catalog', () => {
  const catalog = loadCatalog();

  it('lists exactly the 33 common and the additional criteria, each once, with a title', () => {
    const ids = catalog.criteria.map((c) => c.id);
    expect(ids).toEqual(expectedIds);
    expect(ids.filter((id) => id.startsWith('CC'))).toHaveLength(33);
    for (const c of catalog.criteria) expect(c.title.length).toBeGreaterThan(10);
  });

  it('has the five components and the ten default areas of concern', () => {
    expect(catalog.components.map((c) => c.id)).toEqual([
      'infrastructure',
      'software',
      'people',
      'procedures',
      'data',
    ]);
    expect(catalog.areas.map((a) => a.title)).toEqual([
      'Architecture',
      'Authentication and authorization',
      'Auditing',
      'Business continuity plan',
      'Change management',
      'Disaster recovery',
      'Hardening',
      'Human resources',
      'Monitoring and operation',
      'User privacy',
    ]);
  });

  it('refuses a catalog with a duplicate id, naming its line', () => {
    const text = [
      'catalog: t',
      'version: 1',
      'components: [{id: infrastructure, title: a}, {id: software, title: b}, {id: people, title: c},',
      '  {id: procedures, title: d}, {id: data, title: e}]',
      'areas: []',
      'criteria:',
      '  - {id: CC1.1, category: common, title: one}',
      '  - {id: CC1.1, category: common, title: again}',
    ].join('\n');
    expect(() => parseCatalog(text)).toThrow(
      /line 8, column 10 \(criteria\.1\.id\): 'CC1\.1' is listed twice/,
    );
  });
});

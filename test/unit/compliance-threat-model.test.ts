import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canApprove,
  strideCategories,
  threatModelProblems,
  threatSeverities,
  type ThreatModel,
} from '../../src/modules/compliance/domain/threat-model.js';

const mitigation = fc.record({
  description: fc.constant('m'),
  control: fc.constantFrom('access-grants', null),
  story: fc.constantFrom('s-1', null),
});
const threat = (id: number) =>
  fc.record({
    id: fc.constant(`t-${id}`),
    title: fc.constant('t'),
    category: fc.constantFrom(...strideCategories),
    severity: fc.constantFrom(...threatSeverities),
    entryPoints: fc.constant([] as string[]),
    assets: fc.constant([] as string[]),
    mitigations: fc.array(mitigation, { maxLength: 2 }),
  });
const model: fc.Arbitrary<ThreatModel> = fc
  .integer({ min: 0, max: 6 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => threat(i))))
  .map((threats) => ({ feature: 'f', description: '', assets: [], entryPoints: [], threats }));

describe('threat model approval', () => {
  it('is allowed exactly when there are threats and every high one has a mitigation', () => {
    fc.assert(
      fc.property(model, (m) => {
        const open = m.threats.some((t) => t.severity === 'high' && t.mitigations.length === 0);
        expect(canApprove(m).ok).toBe(m.threats.length > 0 && !open);
      }),
    );
  });

  it('names the unmitigated high threats when it refuses', () => {
    const m: ThreatModel = {
      feature: 'f',
      description: '',
      assets: [],
      entryPoints: [],
      threats: [
        {
          id: 'a',
          title: 'a',
          category: 'spoofing',
          severity: 'high',
          entryPoints: [],
          assets: [],
          mitigations: [],
        },
        {
          id: 'b',
          title: 'b',
          category: 'tampering',
          severity: 'low',
          entryPoints: [],
          assets: [],
          mitigations: [],
        },
      ],
    };
    expect(canApprove(m)).toEqual({ ok: false, reason: expect.stringMatching(/: a;/) as unknown });
  });

  it('reports references to missing assets, entry points, controls and stories', () => {
    const m: ThreatModel = {
      feature: 'f',
      description: '',
      assets: [{ id: 'db', description: 'd' }],
      entryPoints: [],
      threats: [
        {
          id: 'a',
          title: 'a',
          category: 'spoofing',
          severity: 'high',
          entryPoints: ['api'],
          assets: ['db', 'disk'],
          mitigations: [
            { description: 'x', control: 'nope', story: null },
            { description: 'y', control: null, story: null },
          ],
        },
      ],
    };
    const problems = threatModelProblems(m, { controls: new Set(['c']), stories: new Set() });
    expect(problems.map((p) => p.path.join('.'))).toEqual([
      'threats.0.assets.1',
      'threats.0.entryPoints.0',
      'threats.0.mitigations.0.control',
      'threats.0.mitigations.1',
    ]);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  decisionProblems,
  governingDecision,
  scopeTypes,
  type DecisionFacts,
} from '../../src/modules/hardening/domain/decisions.js';
import { checkResults } from '../../src/modules/hardening/domain/evaluate.js';

const now = new Date('2026-06-01T00:00:00Z');
const later = new Date('2026-07-01T00:00:00Z');
const earlier = new Date('2026-05-01T00:00:00Z');
const scope = { assetId: 'a1', machineTypeId: 'm1', customerId: 'c1' };

const decision = (over: Partial<DecisionFacts>): DecisionFacts => ({
  ruleId: 'r',
  scopeType: 'fleet',
  scopeId: null,
  status: 'enforced',
  expiresAt: null,
  ...over,
});

describe('governingDecision', () => {
  it('the most specific scope covering the asset wins: asset, customer, machine type, fleet', () => {
    const fleet = decision({ status: 'not-applicable' });
    const type = decision({ scopeType: 'machine-type', scopeId: 'm1', status: 'enforced' });
    const customer = decision({
      scopeType: 'customer',
      scopeId: 'c1',
      status: 'exception',
      expiresAt: later,
    });
    const asset = decision({ scopeType: 'asset', scopeId: 'a1', status: 'enforced' });
    expect(governingDecision([fleet], 'r', scope)).toBe(fleet);
    expect(governingDecision([fleet, type], 'r', scope)).toBe(type);
    expect(governingDecision([customer, fleet, type], 'r', scope)).toBe(customer);
    expect(governingDecision([type, asset, customer, fleet], 'r', scope)).toBe(asset);
  });

  it('ignores decisions of other rules and of scopes the asset is not in', () => {
    const other = decision({ ruleId: 'x' });
    const otherType = decision({ scopeType: 'machine-type', scopeId: 'm2' });
    const otherAsset = decision({ scopeType: 'asset', scopeId: 'a2' });
    expect(governingDecision([other, otherType, otherAsset], 'r', scope)).toBeUndefined();
    expect(
      governingDecision([decision({ scopeType: 'machine-type', scopeId: 'm1' })], 'r', {
        ...scope,
        machineTypeId: null,
      }),
    ).toBeUndefined();
  });

  it('property: the chosen decision always covers the asset and no covering one is more specific', () => {
    const arb = fc.array(
      fc.record({
        ruleId: fc.constant('r'),
        scopeType: fc.constantFrom(...scopeTypes),
        scopeId: fc.constantFrom('a1', 'a2', 'm1', 'm2', 'c1', 'c2'),
        status: fc.constantFrom('enforced' as const, 'not-applicable' as const),
        expiresAt: fc.constant(null),
      }),
    );
    fc.assert(
      fc.property(arb, (raw) => {
        const decisions = raw.map((d) => (d.scopeType === 'fleet' ? { ...d, scopeId: null } : d));
        const chosen = governingDecision(decisions, 'r', scope);
        const covering = decisions.filter(
          (d) =>
            d.scopeType === 'fleet' ||
            (d.scopeType === 'asset' && d.scopeId === 'a1') ||
            (d.scopeType === 'customer' && d.scopeId === 'c1') ||
            (d.scopeType === 'machine-type' && d.scopeId === 'm1'),
        );
        if (covering.length === 0) return chosen === undefined;
        const rank = (t: string) => scopeTypes.indexOf(t as never);
        return (
          chosen !== undefined &&
          covering.includes(chosen) &&
          covering.every((d) => rank(d.scopeType) <= rank(chosen.scopeType))
        );
      }),
    );
  });
});

describe('decisionProblems', () => {
  const exception = { status: 'exception' as const, justification: 'why', approver: 'sam', expiresAt: later };
  it('accepts a complete exception and a plain enforcement', () => {
    expect(decisionProblems(exception, 'olivia', now)).toEqual([]);
    expect(decisionProblems({ status: 'enforced' }, 'olivia', now)).toEqual([]);
  });
  it('refuses an exception without justification, approver or expiry, or self-approved, or already expired', () => {
    const fields = (d: object) => decisionProblems({ ...exception, ...d }, 'olivia', now).map((p) => p.field);
    expect(fields({ justification: '  ' })).toEqual(['justification']);
    expect(fields({ approver: undefined })).toEqual(['approver']);
    expect(fields({ approver: 'olivia' })).toEqual(['approver']);
    expect(fields({ expiresAt: undefined })).toEqual(['expiresAt']);
    expect(fields({ expiresAt: earlier })).toEqual(['expiresAt']);
  });
  it('not-applicable needs a justification', () => {
    expect(decisionProblems({ status: 'not-applicable' }, 'olivia', now).map((p) => p.field)).toEqual([
      'justification',
    ]);
  });
});

describe('decide', () => {
  it('a live exception turns a failure into an exception; an expired one leaves the finding', () => {
    expect(decide('fail', { status: 'exception', expiresAt: later }, now)).toEqual({
      result: 'exception',
      decision: 'exception',
    });
    expect(decide('fail', { status: 'exception', expiresAt: earlier }, now)).toEqual({
      result: 'fail',
      decision: 'exception-expired',
    });
    expect(decide('pass', { status: 'exception', expiresAt: later }, now)).toEqual({
      result: 'pass',
      decision: 'exception',
    });
  });
  it('not-applicable is never scanned as a finding; enforced (or none) keeps the result', () => {
    for (const checked of checkResults) {
      expect(decide(checked, { status: 'not-applicable', expiresAt: null }, now).result).toBe(
        'notapplicable',
      );
      expect(decide(checked, undefined, now)).toEqual({ result: checked, decision: 'enforced' });
      expect(decide(checked, { status: 'enforced', expiresAt: null }, now).result).toBe(checked);
    }
  });
  it('an exception expiring exactly now has expired', () => {
    expect(decide('fail', { status: 'exception', expiresAt: now }, now).result).toBe('fail');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tallyApprovals } from '../../src/modules/access/domain/approvals.js';
import {
  evaluateRequest,
  policySchema,
  type AccessRequestInput,
  type EvaluationContext,
  type Policy,
  type PolicyDecision,
} from '../../src/modules/access/domain/policy.js';
import { compareSpecificity } from '../../src/modules/access/domain/policy-match.js';
import { permissionLevels, type AccessTarget } from '../../src/modules/access/domain/types.js';
import { tiers } from '../../src/modules/inventory/inventory.schemas.js';

/**
 * Invariants of policy evaluation over random policy sets and requests, checked against a plain
 * re-statement of the matching rules (the oracle below), not against the implementation's helpers.
 */

const M = 60_000;
const now = new Date('2026-03-02T09:00:00.000Z');
const operatorGroups = ['dev', 'dba', 'ops', 'security', 'oncall'];
const assetNames = ['db-a', 'db-b', 'srv-a'];

/** Absent three times in four: selectors and rules that constrain everything would rarely match. */
const someOf = <T>(values: readonly T[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.subarray([...values], { minLength: 1 }) },
  );

const selector = fc
  .record({
    names: someOf(assetNames),
    assetGroups: someOf(['payments', 'core']),
    customers: someOf(['acme', 'globex']),
    tiers: someOf(tiers),
    engines: someOf(['postgres', 'mysql'] as const),
    kinds: someOf(['server', 'database'] as const),
  })
  .map((s) => {
    const engines = s.engines && s.kinds && !s.kinds.includes('database') ? undefined : s.engines;
    return Object.fromEntries(Object.entries({ ...s, engines }).filter(([, v]) => v !== undefined));
  });

const rawPolicy = fc.record({
  requesterGroups: fc.subarray(operatorGroups, { minLength: 2 }),
  levels: fc.subarray([...permissionLevels], { minLength: 2 }),
  assets: selector,
  maxMinutes: fc.integer({ min: 1, max: 600 }),
  ticket: fc.constantFrom('required' as const, 'optional' as const),
  approverGroups: fc.subarray(operatorGroups),
  requiredGroups: fc.subarray(operatorGroups, { maxLength: 2 }),
  extraQuorum: fc.integer({ min: 0, max: 2 }),
  autoApprove: fc.array(
    fc.record({
      levels: fc.subarray([...permissionLevels], { minLength: 1 }),
      tiers: someOf(tiers),
      maxMinutes: fc.integer({ min: 1, max: 600 }),
      requireTicket: fc.boolean(),
      fileTransfer: fc.boolean(),
    }),
    { maxLength: 2 },
  ),
  breakGlass: fc.option(
    fc.record({ maxMinutes: fc.integer({ min: 1, max: 600 }), levels: someOf(permissionLevels) }),
    {
      nil: undefined,
    },
  ),
  fileTransfer: fc.boolean(),
  clockStart: fc.constantFrom({ mode: 'at-approval' }, { mode: 'at-first-reveal', claimWindow: '30m' }),
});

type RawPolicy = typeof rawPolicy extends fc.Arbitrary<infer T> ? T : never;

/** A valid policy from raw values: rules narrowed to what the policy allows, as the schema demands. */
function toPolicy(raw: RawPolicy, i: number): Policy {
  const minutes = (m: number) => `${Math.min(m, raw.maxMinutes)}m`;
  const within = (levels: readonly string[] | undefined) => {
    const kept = (levels ?? raw.levels).filter((l) => raw.levels.includes(l as never));
    return kept.length > 0 ? kept : raw.levels;
  };
  const policyTiers = (raw.assets as { tiers?: string[] }).tiers;
  return policySchema.parse({
    name: `policy-${i}`,
    requesterGroups: raw.requesterGroups,
    levels: raw.levels,
    assets: raw.assets,
    maxDuration: `${raw.maxMinutes}m`,
    ticket: raw.ticket,
    approvals: {
      approverGroups:
        raw.approverGroups.length + raw.requiredGroups.length === 0 ? ['security'] : raw.approverGroups,
      requiredGroups: raw.requiredGroups,
      quorum: Math.max(1, raw.requiredGroups.length) + raw.extraQuorum,
    },
    autoApprove: raw.autoApprove.map((r) => ({
      levels: within(r.levels),
      ...(r.tiers && (!policyTiers || r.tiers.some((t) => policyTiers.includes(t)))
        ? { tiers: r.tiers }
        : {}),
      maxDuration: minutes(r.maxMinutes),
      requireTicket: r.requireTicket,
      fileTransfer: r.fileTransfer,
    })),
    breakGlass: raw.breakGlass
      ? {
          allowed: true,
          maxDuration: minutes(raw.breakGlass.maxMinutes),
          levels: within(raw.breakGlass.levels),
        }
      : { allowed: false },
    fileTransfer: raw.fileTransfer,
    clockStart: raw.clockStart,
  });
}

const policySet = fc.array(rawPolicy, { maxLength: 6 }).map((raws) => raws.map(toPolicy));

const asset: fc.Arbitrary<AccessTarget> = fc
  .record({
    name: fc.constantFrom(...assetNames),
    kind: fc.constantFrom('server' as const, 'database' as const),
    engine: fc.constantFrom('postgres' as const, 'mysql' as const),
    customer: fc.option(fc.constantFrom('acme', 'globex'), { nil: null }),
    tier: fc.option(fc.constantFrom(...tiers), { nil: null }),
    groups: fc.subarray(['payments', 'core']),
  })
  .map((a) => ({ ...a, id: `id-${a.name}`, engine: a.kind === 'database' ? a.engine : null }));

const requester = { id: 'op-rita', username: 'rita' };

const requestAndContext = fc
  .record({
    groups: fc.subarray(operatorGroups, { minLength: 1 }),
    asset,
    level: fc.constantFrom(...permissionLevels),
    minutes: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 90 }) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 700 }) },
    ),
    reason: fc.constantFrom('fix INC-7', 'fix INC-7', 'fix INC-7', ' '),
    ticketId: fc.option(fc.constant('T-1'), { nil: null, freq: 5 }),
    fileTransfer: fc.constantFrom(false, false, false, true),
    breakGlass: fc.constantFrom(false, false, false, true),
    ticket: fc.option(
      fc.record({
        id: fc.constantFrom('T-1', 'T-1', 'T-1', 'T-2'),
        state: fc.constantFrom('open' as const, 'open' as const, 'open' as const, 'closed' as const),
        assignee: fc.constantFrom('rita', 'rita', 'op-rita', 'bob', null),
      }),
      { nil: null, freq: 5 },
    ),
  })
  .map((r): [AccessRequestInput, EvaluationContext] => [
    {
      requester: { ...requester, groups: r.groups },
      asset: r.asset,
      level: r.level,
      durationMs: r.minutes * M,
      reason: r.reason,
      ticketId: r.ticketId,
      fileTransfer: r.fileTransfer,
      breakGlass: r.breakGlass,
    },
    { now, ticket: r.ticket },
  ]);

// ---- the oracle: the matching rules, stated plainly --------------------------------------------------

function applies(p: Policy, r: AccessRequestInput): boolean {
  const a = r.asset;
  const s = p.assets;
  const selected =
    (!s.names || s.names.includes(a.name)) &&
    (!s.assetGroups || s.assetGroups.some((g) => a.groups.includes(g))) &&
    (!s.customers || (a.customer !== null && s.customers.includes(a.customer))) &&
    (!s.tiers || (a.tier !== null && s.tiers.includes(a.tier))) &&
    (!s.engines || (a.engine !== null && s.engines.includes(a.engine))) &&
    (!s.kinds || s.kinds.includes(a.kind));
  const glass =
    !r.breakGlass || (p.breakGlass.allowed && (p.breakGlass.levels ?? p.levels).includes(r.level));
  return (
    p.requesterGroups.some((g) => r.requester.groups.includes(g)) &&
    selected &&
    p.levels.includes(r.level) &&
    glass
  );
}

function ticketGood(r: AccessRequestInput, c: EvaluationContext): boolean {
  const t = c.ticket;
  return (
    r.ticketId !== null &&
    t !== null &&
    t.id === r.ticketId &&
    t.state === 'open' &&
    (t.assignee === r.requester.username || t.assignee === r.requester.id)
  );
}

const governing = (policies: Policy[], d: PolicyDecision) => policies.find((p) => p.name === d.policy);

/**
 * One random sample shared by every invariant (generating it is the slow part). Its seed is printed
 * with any failure, together with the case, so a failure can be replayed. The seed is fixed so that
 * the coverage guard below sees the same sample on every run; set ACCESS_POLICY_SEED to explore others.
 */
const seed = Number(process.env.ACCESS_POLICY_SEED ?? 20261126);
const cases = fc.sample(fc.tuple(policySet, requestAndContext), { numRuns: 300, seed });

const property = (
  check: (policies: Policy[], r: AccessRequestInput, c: EvaluationContext, d: PolicyDecision) => void,
) => {
  for (const [policies, [r, c]] of cases) {
    try {
      check(policies, r, c, evaluateRequest(policies, r, c));
    } catch (error) {
      const replay = JSON.stringify({ seed, policies, request: r, context: c }, null, 1);
      throw new Error(`${String(error)}\nfailing case:\n${replay}`, { cause: error });
    }
  }
};

describe('policy evaluation invariants', () => {
  it('are checked on a sample that reaches every outcome (so none holds vacuously)', () => {
    const seen = new Map<string, number>();
    property((_p, _r, _c, d) => {
      const key =
        d.outcome === 'refused'
          ? d.policy === null
            ? 'refused: none applies'
            : 'refused: condition'
          : d.outcome;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    });
    for (const key of [
      'refused: none applies',
      'refused: condition',
      'auto-approved',
      'needs-approval',
      'break-glass',
    ]) {
      expect(seen.get(key) ?? 0, `${key} in ${JSON.stringify([...seen])}`).toBeGreaterThanOrEqual(5);
    }
  });

  it('default deny: with no policies, or none that applies, the request is refused', () => {
    for (const [, [r, c]] of cases) {
      expect(evaluateRequest([], r, c)).toMatchObject({ outcome: 'refused', policy: null });
    }
    property((policies, r, _c, d) => {
      if (!policies.some((p) => applies(p, r))) expect(d).toMatchObject({ outcome: 'refused', policy: null });
    });
  });

  it('a decision is governed by a policy that applies, and the most specific of those', () => {
    property((policies, r, _c, d) => {
      if (d.policy === null) return;
      const p = governing(policies, d)!;
      expect(applies(p, r)).toBe(true);
      for (const other of policies.filter((q) => applies(q, r))) {
        expect(compareSpecificity(other.assets, p.assets)).toBeGreaterThanOrEqual(0);
      }
      expect(d.applicable.sort()).toEqual(
        policies
          .filter((q) => applies(q, r))
          .map((q) => q.name)
          .sort(),
      );
    });
  });

  it('never grants more duration than the policy maximum, nor other terms than asked', () => {
    property((policies, r, _c, d) => {
      if (d.outcome === 'refused') return;
      const p = governing(policies, d)!;
      expect(d.terms.durationMs).toBe(r.durationMs);
      expect(d.terms.durationMs).toBeLessThanOrEqual(d.terms.maxDurationMs);
      expect(d.terms.maxDurationMs).toBeLessThanOrEqual(p.maxDuration);
      expect(d.terms).toMatchObject({
        level: r.level,
        fileTransfer: r.fileTransfer,
        breakGlass: r.breakGlass,
      });
      expect(r.reason.trim()).not.toBe('');
      if (r.fileTransfer) expect(p.fileTransfer).toBe(true);
      if (p.ticket === 'required' && !r.breakGlass) expect(ticketGood(r, _c)).toBe(true);
    });
  });

  it('auto-approval never exceeds the limits of a rule of the governing policy', () => {
    property((policies, r, c, d) => {
      if (d.outcome !== 'auto-approved') return;
      const rule = governing(policies, d)!.autoApprove[d.rule]!;
      expect(rule.levels).toContain(r.level);
      expect(r.durationMs).toBeLessThanOrEqual(rule.maxDuration);
      if (rule.tiers) expect(rule.tiers).toContain(r.asset.tier);
      if (rule.requireTicket) expect(ticketGood(r, c)).toBe(true);
      if (r.fileTransfer) expect(rule.fileTransfer).toBe(true);
      expect(r.breakGlass).toBe(false);
    });
  });

  it('break-glass is decided only for break-glass requests, where the policy allows it', () => {
    property((policies, r, _c, d) => {
      if (d.outcome === 'break-glass') {
        const p = governing(policies, d)!;
        expect(r.breakGlass && p.breakGlass.allowed).toBe(true);
      }
      if (r.breakGlass) expect(['break-glass', 'refused']).toContain(d.outcome);
    });
  });

  it('a requester is never counted as an approver, whatever groups they are in', () => {
    property((_policies, r, _c, d) => {
      if (d.outcome === 'refused') return;
      const self = { reviewerId: r.requester.id, groups: operatorGroups };
      expect(tallyApprovals(d.approvals, [self, self], r.requester.id)).toMatchObject({
        approvers: 0,
        satisfied: false,
      });
      const others = operatorGroups.map((g, i) => ({ reviewerId: `rev-${i}`, groups: [g] }));
      expect(tallyApprovals(d.approvals, [self, ...others], r.requester.id)).toEqual(
        tallyApprovals(d.approvals, others, r.requester.id),
      );
    });
  });

  it('every refusal says why, and only needs-approval has a review deadline, in the future', () => {
    property((_policies, _r, _c, d) => {
      if (d.outcome === 'refused') {
        expect(d.reasons.length).toBeGreaterThan(0);
        for (const reason of d.reasons) expect(reason.message.length).toBeGreaterThan(10);
      }
      if (d.outcome === 'needs-approval') expect(d.reviewDeadline.getTime()).toBeGreaterThan(now.getTime());
      else expect(d).not.toHaveProperty('reviewDeadline');
    });
  });

  it('does not depend on the order policies are listed in', () => {
    property((policies, r, c, d) => {
      const reversed = evaluateRequest([...policies].reverse(), r, c);
      const rotated = evaluateRequest([...policies.slice(1), ...policies.slice(0, 1)], r, c);
      for (const other of [reversed, rotated]) {
        expect({ ...other, applicable: [...other.applicable].sort() }).toEqual({
          ...d,
          applicable: [...d.applicable].sort(),
        });
        expect(other.applicable[0]).toBe(d.applicable[0]);
      }
    });
  });
});

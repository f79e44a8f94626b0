import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/modules/access/domain/duration.js';
import {
  evaluateRequest,
  policySchema,
  policySetSchema,
  type AccessRequestInput,
  type EvaluationContext,
  type Policy,
  type PolicyDecision,
  type PolicyInput,
  type TicketFacts,
} from '../../src/modules/access/domain/policy.js';
import type { AccessTarget, Operator } from '../../src/modules/access/domain/types.js';

const M = 60_000;
const H = 60 * M;
const T0 = new Date('2026-03-02T09:00:00.000Z');

const policy = (input: Partial<PolicyInput> & { name: string }): Policy =>
  policySchema.parse({
    requesterGroups: ['dev'],
    levels: ['read-only'],
    assets: {},
    maxDuration: '4h',
    approvals: { approverGroups: ['leads'] },
    ...input,
  });

const prodDb: AccessTarget = {
  id: 'asset-1',
  name: 'acme-prod-db',
  kind: 'database',
  engine: 'postgres',
  customer: 'acme',
  tier: 'production',
  groups: ['payments'],
};
const stagingDb: AccessTarget = {
  ...prodDb,
  id: 'asset-2',
  name: 'acme-staging-db',
  tier: 'staging',
  groups: [],
};
const dana: Operator = { id: 'op-dana', username: 'dana', groups: ['dev'] };

const request = (over: Partial<AccessRequestInput> = {}): AccessRequestInput => ({
  requester: dana,
  asset: prodDb,
  level: 'read-only',
  durationMs: H,
  reason: 'investigate INC-42',
  ticketId: 'OPS-1',
  fileTransfer: false,
  breakGlass: false,
  ...over,
});

const openTicket: TicketFacts = { id: 'OPS-1', state: 'open', assignee: 'dana' };
const context = (ticket: Partial<TicketFacts> | null = {}): EvaluationContext => ({
  now: T0,
  ticket: ticket === null ? null : { ...openTicket, ...ticket },
});

const messages = (d: PolicyDecision) => (d.outcome === 'refused' ? d.reasons.map((r) => r.message) : []);
const codes = (d: PolicyDecision) => (d.outcome === 'refused' ? d.reasons.map((r) => r.code) : []);

describe('durations', () => {
  it.each([
    ['30m', 30 * M],
    ['4h', 4 * H],
    ['1h30m', 90 * M],
    ['2d', 48 * H],
    ['90s', 90_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each(['', '4', '4 hours', '1.5h', 'h', '-1h', '30m1h'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('prints the largest units first', () => {
    expect([8 * H, 90 * M, 26 * H, 0, 1500].map(formatDuration)).toEqual(['8h', '1h30m', '1d2h', '0s', '1s']);
  });
});

describe('the policy schema', () => {
  it('fills in the safe defaults and reads durations', () => {
    const p = policy({ name: 'dev-read' });
    expect(p).toMatchObject({
      maxDuration: 4 * H,
      ticket: 'required',
      clockStart: { mode: 'at-approval' },
      autoApprove: [],
      breakGlass: { allowed: false },
      fileTransfer: false,
      approvals: { quorum: 1, approverGroups: ['leads'], requiredGroups: [], reviewWindow: 24 * H },
    });
  });

  it('needs one approver per required group unless told more', () => {
    const p = policy({ name: 'xx', approvals: { requiredGroups: ['dba', 'security'] } });
    expect(p.approvals.quorum).toBe(2);
    expect(policy({ name: 'yy', approvals: { requiredGroups: ['dba'], quorum: 3 } }).approvals.quorum).toBe(
      3,
    );
  });

  const problems = (input: Record<string, unknown>) => {
    const result = policySchema.safeParse({
      name: 'p',
      requesterGroups: ['dev'],
      levels: ['read-only'],
      assets: {},
      maxDuration: '4h',
      approvals: { approverGroups: ['leads'] },
      ...input,
    });
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it.each([
    [
      { approvals: { requiredGroups: ['dba', 'security'], quorum: 1 } },
      /approvals.quorum: quorum 1 is less than the 2/,
    ],
    [{ approvals: {} }, /who may approve/],
    [{ approvals: { requiredGroups: ['dba', 'dba'] } }, /each required group once/],
    [{ maxDuration: '4 hours' }, /maxDuration: use a duration like "30m"/],
    [{ maxDuration: '31d' }, /from 1m to 30d/],
    [{ levels: [] }, /list the permission levels/],
    [{ levels: ['superuser'] }, /levels.0/],
    [{ requesterGroups: [] }, /operator groups this policy is for/],
    [{ assets: { tiers: [] } }, /list at least one environment tier, or leave the key out/],
    [{ assets: { tier: ['production'] } }, /assets: Unrecognized key/i],
    [{ assets: { kinds: ['server'], engines: ['postgres'] } }, /engines select databases only/],
    [{ autoApprove: [{ levels: ['admin'], maxDuration: '1h' }] }, /autoApprove.0.levels: admin is not among/],
    [{ autoApprove: [{ levels: ['read-only'], maxDuration: '8h' }] }, /maxDuration of 4h/],
    [
      {
        assets: { tiers: ['production'] },
        autoApprove: [{ levels: ['read-only'], tiers: ['test'], maxDuration: '1h' }],
      },
      /can never apply/,
    ],
    [{ breakGlass: { allowed: true, maxDuration: '6h' } }, /breakGlass.maxDuration: must not exceed/],
    [{ breakGlass: { allowed: true, maxDuration: '1h', levels: ['admin'] } }, /breakGlass.levels: admin/],
    [{ clockStart: { mode: 'at-first-reveal' } }, /clockStart.claimWindow/],
    [{ approve: true }, /Unrecognized key/i],
  ])('refuses a bad policy %#, saying what to fix', (input, message) => {
    expect(problems(input).join('\n')).toMatch(message);
  });

  it('refuses a policy set that defines a name twice', () => {
    const p = { ...policy({ name: 'twice' }), maxDuration: '4h', approvals: { approverGroups: ['leads'] } };
    const result = policySetSchema.safeParse({ policies: [p, p] });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe("policy 'twice' is defined twice");
  });
});

describe('default deny', () => {
  it('refuses when there are no policies at all', () => {
    const d = evaluateRequest([], request(), context());
    expect(d).toMatchObject({ outcome: 'refused', policy: null, applicable: [] });
    expect(messages(d)).toEqual([
      'no policy lets group dev request access to database acme-prod-db (customer acme, production); ask an admin for a policy that covers it',
    ]);
  });

  it('refuses an operator in no group', () => {
    const d = evaluateRequest(
      [policy({ name: 'pp' })],
      request({ requester: { ...dana, groups: [] } }),
      context(),
    );
    expect(messages(d)[0]).toMatch(/^you are in no operator group/);
  });

  it('refuses when no policy covers the asset', () => {
    const p = policy({ name: 'staging', assets: { tiers: ['staging'] } });
    expect(codes(evaluateRequest([p], request(), context()))).toEqual(['no-policy']);
    const noEnv = { ...prodDb, tier: null, customer: null };
    expect(codes(evaluateRequest([p], request({ asset: noEnv }), context()))).toEqual(['no-policy']);
    expect(messages(evaluateRequest([p], request({ asset: noEnv }), context()))[0]).toContain(
      'database acme-prod-db;',
    );
  });
});

describe('refusals that say what to change', () => {
  const devProd = policy({ name: 'dev-prod', assets: { tiers: ['production'] } });

  it('names the levels the group may have', () => {
    const d = evaluateRequest([devProd], request({ level: 'read-write' }), context());
    expect(messages(d)).toEqual([
      'read-write is not allowed on production for group dev; allowed: read-only',
    ]);
  });

  it('names only the groups of the requester that the policies know', () => {
    const ops = policy({ name: 'ops', requesterGroups: ['ops'], levels: ['read-only', 'read-write'] });
    const d = evaluateRequest(
      [devProd, ops],
      request({ level: 'admin', requester: { ...dana, groups: ['dev', 'ops', 'chess-club'] } }),
      context(),
    );
    expect(messages(d)).toEqual([
      'admin is not allowed on production for groups dev and ops; allowed: read-only, read-write',
    ]);
  });

  it('says how long is allowed', () => {
    const d = evaluateRequest([devProd], request({ durationMs: 8 * H }), context());
    expect(messages(d)).toEqual([
      'duration 8h exceeds the maximum of 4h for read-only on production; ask for 4h or less',
    ]);
    expect(codes(evaluateRequest([devProd], request({ durationMs: 0 }), context()))).toEqual([
      'duration-invalid',
    ]);
    expect(codes(evaluateRequest([devProd], request({ durationMs: 1.5 }), context()))).toEqual([
      'duration-invalid',
    ]);
  });

  it('lists every problem at once, so one round of fixes is enough', () => {
    const d = evaluateRequest(
      [devProd],
      request({ durationMs: 5 * H, ticketId: null, fileTransfer: true, reason: '  ' }),
      context(null),
    );
    expect(d).toMatchObject({ outcome: 'refused', policy: 'dev-prod', applicable: ['dev-prod'] });
    expect(codes(d)).toEqual([
      'reason-required',
      'duration-exceeds-maximum',
      'ticket-required',
      'file-transfer-not-allowed',
    ]);
    expect(messages(d)).toContain(
      'file transfer is not allowed on production (policy dev-prod); ask without file transfer',
    );
  });

  it.each([
    [
      { ticketId: null },
      null,
      'ticket-required',
      'policy dev-prod requires a ticket: link an open ticket assigned to you',
    ],
    [{ ticketId: 'OPS-9' }, null, 'ticket-not-found', 'ticket OPS-9 was not found; check its id'],
    [{}, { state: 'closed' as const }, 'ticket-closed', 'ticket OPS-1 is closed; link an open ticket'],
    [
      {},
      { assignee: 'bob' },
      'ticket-not-assigned',
      'ticket OPS-1 is assigned to bob, not to you; have it assigned to you or link one that is',
    ],
    [
      {},
      { assignee: null },
      'ticket-not-assigned',
      'ticket OPS-1 is unassigned; have it assigned to you or link one that is',
    ],
  ])('checks the ticket %#', (over, ticket, code, message) => {
    const d = evaluateRequest([devProd], request(over), context(ticket));
    expect(d.outcome === 'refused' && d.reasons).toEqual([{ code, message }]);
  });

  it('accepts a ticket assigned by operator id, and an optional ticket left out', () => {
    expect(evaluateRequest([devProd], request(), context({ assignee: 'op-dana' })).outcome).toBe(
      'needs-approval',
    );
    const optional = policy({ name: 'optional', ticket: 'optional' });
    expect(evaluateRequest([optional], request({ ticketId: null }), context(null)).outcome).toBe(
      'needs-approval',
    );
    // a ticket that is named must still be open, even when none is required
    expect(codes(evaluateRequest([optional], request(), context({ state: 'closed' })))).toEqual([
      'ticket-closed',
    ]);
  });
});

describe('decisions', () => {
  const devNonProd = policy({
    name: 'dev-nonprod',
    assets: { tiers: ['staging', 'development', 'test'] },
    autoApprove: [{ levels: ['read-only'], maxDuration: '1h' }],
    approvals: { approverGroups: ['leads'], reviewWindow: '8h' },
  });

  it('auto-approves within the rule, with the terms of the grant', () => {
    const d = evaluateRequest([devNonProd], request({ asset: stagingDb }), context());
    expect(d).toEqual({
      outcome: 'auto-approved',
      policy: 'dev-nonprod',
      applicable: ['dev-nonprod'],
      rule: 0,
      terms: {
        policy: 'dev-nonprod',
        level: 'read-only',
        durationMs: H,
        maxDurationMs: 4 * H,
        clockStart: { mode: 'at-approval' },
        fileTransfer: false,
        breakGlass: false,
      },
      approvals: { quorum: 1, approverGroups: ['leads'], requiredGroups: [] },
    });
  });

  it.each([
    ['longer than the rule allows', { durationMs: 2 * H }, {}],
    ['without a ticket', { ticketId: null }, null],
    ['with file transfer', { fileTransfer: true }, {}],
  ])('asks for approval when %s', (_, over, ticket) => {
    const p = { ...devNonProd, fileTransfer: true, ticket: 'optional' as const };
    const d = evaluateRequest([p], request({ asset: stagingDb, ...over }), context(ticket));
    expect(d).toMatchObject({
      outcome: 'needs-approval',
      approvals: { quorum: 1, approverGroups: ['leads'], requiredGroups: [] },
      reviewDeadline: new Date(T0.getTime() + 8 * H),
    });
  });

  it('auto-approves only on the tiers the rule names', () => {
    const p = policy({
      name: 'dev-all',
      autoApprove: [{ levels: ['read-only'], tiers: ['staging'], maxDuration: '1h' }],
    });
    expect(evaluateRequest([p], request({ asset: stagingDb }), context()).outcome).toBe('auto-approved');
    expect(evaluateRequest([p], request(), context()).outcome).toBe('needs-approval');
    expect(evaluateRequest([p], request({ asset: { ...stagingDb, tier: null } }), context()).outcome).toBe(
      'needs-approval',
    );
  });

  it('asks for one approval from dba and one from security', () => {
    const p = policy({
      name: 'dba-prod',
      requesterGroups: ['dba'],
      levels: ['read-only', 'read-write'],
      approvals: { requiredGroups: ['dba', 'security'] },
    });
    const d = evaluateRequest(
      [p],
      request({ level: 'read-write', requester: { ...dana, groups: ['dba'] } }),
      context(),
    );
    expect(d).toMatchObject({
      outcome: 'needs-approval',
      approvals: { quorum: 2, approverGroups: [], requiredGroups: ['dba', 'security'] },
    });
  });

  describe('break-glass', () => {
    const oncall = policy({
      name: 'oncall',
      requesterGroups: ['oncall'],
      levels: ['read-only', 'admin'],
      maxDuration: '4h',
      approvals: { approverGroups: ['security'] },
      breakGlass: { allowed: true, maxDuration: '1h', levels: ['admin'] },
    });
    const ana = { ...dana, groups: ['oncall', 'dev'] };
    const emergency = (over: Partial<AccessRequestInput> = {}) =>
      request({ requester: ana, level: 'admin', breakGlass: true, ticketId: null, ...over });

    it('is self-approved, needs no ticket and is capped by its own maximum', () => {
      const d = evaluateRequest([oncall], emergency(), context(null));
      expect(d).toMatchObject({
        outcome: 'break-glass',
        policy: 'oncall',
        terms: { breakGlass: true, maxDurationMs: H, level: 'admin' },
        approvals: { approverGroups: ['security'] },
      });
      expect(messages(evaluateRequest([oncall], emergency({ durationMs: 2 * H }), context(null)))).toEqual([
        'break-glass duration 2h exceeds the maximum of 1h for admin on production; ask for 1h or less',
      ]);
    });

    it('is refused where the policy does not allow it, saying what is', () => {
      expect(messages(evaluateRequest([oncall], emergency({ level: 'read-only' }), context(null)))).toEqual([
        'break-glass is not allowed for read-only on production for group oncall; break-glass allows: admin',
      ]);
      const noGlass = policy({ name: 'dev', levels: ['read-only'] });
      expect(
        messages(
          evaluateRequest([noGlass], emergency({ requester: dana, level: 'read-only' }), context(null)),
        ),
      ).toEqual([
        'break-glass is not allowed for read-only on production for group dev; request access with approval instead',
      ]);
    });

    it('is matched only against policies that allow it, so a stricter ordinary policy does not block it', () => {
      const devAdmin = policy({
        name: 'dev-admin',
        levels: ['admin'],
        approvals: { approverGroups: ['a', 'b'], quorum: 2 },
      });
      expect(evaluateRequest([devAdmin, oncall], emergency(), context(null))).toMatchObject({
        outcome: 'break-glass',
        policy: 'oncall',
      });
      expect(
        evaluateRequest([devAdmin, oncall], emergency({ breakGlass: false, ticketId: 'OPS-1' }), context()),
      ).toMatchObject({
        outcome: 'needs-approval',
        policy: 'dev-admin',
      });
    });
  });
});

describe('precedence: the most specific policy governs', () => {
  const base = {
    requesterGroups: ['dev'],
    levels: ['read-only' as const],
    approvals: { approverGroups: ['leads'] },
  };
  const ladder: PolicyInput[] = [
    { ...base, name: 'by-name', assets: { names: ['acme-prod-db'] }, maxDuration: '1h' },
    { ...base, name: 'by-asset-group', assets: { assetGroups: ['payments'] }, maxDuration: '2h' },
    { ...base, name: 'by-customer', assets: { customers: ['acme'] }, maxDuration: '3h' },
    { ...base, name: 'by-tier', assets: { tiers: ['production'] }, maxDuration: '4h' },
    { ...base, name: 'by-engine', assets: { engines: ['postgres'] }, maxDuration: '5h' },
    { ...base, name: 'by-kind', assets: { kinds: ['database'] }, maxDuration: '6h' },
    { ...base, name: 'everything', assets: {}, maxDuration: '7h' },
  ];
  const policies = ladder.map((p) => policySchema.parse(p));

  it.each(policies.map((p, i) => [p.name, i] as const))('%s beats every broader policy', (name, i) => {
    const d = evaluateRequest(policies.slice(i).reverse(), request(), context());
    expect(d.policy).toBe(name);
    expect(d.applicable).toEqual(policies.slice(i).map((p) => p.name));
  });

  it('conditions do not choose the policy: a lax broad policy cannot be shopped for', () => {
    const d = evaluateRequest(policies, request({ durationMs: 3 * H }), context());
    expect(d).toMatchObject({ outcome: 'refused', policy: 'by-name' });
    expect(codes(d)).toEqual(['duration-exceeds-maximum']);
  });

  it('the level is part of what a policy grants: a broad policy allowing it still applies', () => {
    const rw = policy({ name: 'dev-rw-everywhere', levels: ['read-write'], assets: {} });
    expect(evaluateRequest([policies[0]!, rw], request({ level: 'read-write' }), context()).policy).toBe(
      'dev-rw-everywhere',
    );
  });

  it('fewer listed values are more specific than more', () => {
    const one = policy({ name: 'prod', assets: { tiers: ['production'] }, maxDuration: '1h' });
    const two = policy({ name: 'prod-and-staging', assets: { tiers: ['production', 'staging'] } });
    expect(evaluateRequest([two, one], request(), context()).policy).toBe('prod');
    const both = policy({ name: 'acme-prod', assets: { customers: ['acme'], tiers: ['production'] } });
    expect(evaluateRequest([one, both, two], request(), context()).policy).toBe('acme-prod');
  });

  describe('ties go to the most restrictive decision', () => {
    const tied = (name: string, over: Partial<PolicyInput>) =>
      policy({ name, assets: { tiers: ['production'] }, ...over });
    const auto = tied('a-auto', { autoApprove: [{ levels: ['read-only'], maxDuration: '1h' }] });
    const one = tied('b-one', {});
    const two = tied('c-two', { approvals: { approverGroups: ['leads'], quorum: 2 } });
    const dbaSec = tied('d-dba-sec', {
      approvals: { approverGroups: ['leads'], requiredGroups: ['dba', 'security'] },
    });
    const short = tied('e-short', { maxDuration: '30m' });

    it.each([
      [[auto, one], 'b-one'],
      [[one, two], 'c-two'],
      [[two, dbaSec], 'd-dba-sec'],
      [[auto, short], 'e-short'], // refused beats anything
      [[one, tied('f-one-short', { maxDuration: '2h' })], 'f-one-short'],
      [[one, tied('a-one', {})], 'a-one'], // same decision, same maximum: by name
    ])('%# → %s', (candidates, winner) => {
      expect(evaluateRequest(candidates, request(), context()).policy).toBe(winner);
      expect(evaluateRequest([...candidates].reverse(), request(), context()).policy).toBe(winner);
    });
  });
});

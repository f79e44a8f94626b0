import { describe, expect, it } from 'vitest';
import {
  evaluateRequest,
  policySchema,
  type AccessRequestInput,
  type Policy,
  type PolicyInput,
  type TicketFacts,
} from '../../src/modules/access/domain/policy.js';
import { previewRequest } from '../../src/modules/access/domain/preview.js';
import type { AccessTarget, Operator } from '../../src/modules/access/domain/types.js';

/**
 * The policy preview a request form shows: the same decision request creation would reach, and what
 * the governing policy offers around it (maximum, approvals, auto-approval rules, break-glass).
 */

const M = 60_000;
const H = 60 * M;
const now = new Date('2026-03-02T09:00:00.000Z');

const policy = (input: Partial<PolicyInput> & { name: string }): Policy =>
  policySchema.parse({
    requesterGroups: ['dev'],
    levels: ['read-only', 'read-write'],
    assets: {},
    maxDuration: '4h',
    ticket: 'optional',
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
  groups: [],
};
const stagingDb: AccessTarget = { ...prodDb, id: 'asset-2', name: 'acme-staging-db', tier: 'staging' };
const dana: Operator = { id: 'op-dana', username: 'dana', groups: ['dev'] };
const openTicket: TicketFacts = { id: 'OPS-1', state: 'open', assignee: 'dana' };

const request = (over: Partial<AccessRequestInput> = {}): AccessRequestInput => ({
  requester: dana,
  asset: prodDb,
  level: 'read-only',
  durationMs: H,
  reason: 'investigate INC-42',
  ticketId: null,
  fileTransfer: false,
  breakGlass: false,
  ...over,
});

const policies: Policy[] = [
  policy({
    name: 'dev-databases',
    assets: { kinds: ['database'] },
    approvals: { approverGroups: ['leads'], reviewWindow: '2h' },
    breakGlass: { allowed: true, maxDuration: '1h' },
  }),
  policy({
    name: 'dba-production',
    requesterGroups: ['dba'],
    assets: { kinds: ['database'], tiers: ['production'] },
    maxDuration: '2h',
    ticket: 'required',
    approvals: { requiredGroups: ['dba', 'security'], quorum: 2 },
  }),
  policy({
    name: 'dev-staging-auto',
    levels: ['read-only'],
    assets: { kinds: ['database'], tiers: ['staging'] },
    maxDuration: '2h',
    autoApprove: [{ levels: ['read-only'], maxDuration: '1h', requireTicket: false }],
  }),
];

describe('policy preview', () => {
  it('agrees with request evaluation on the outcome and the governing policy, for every shape of request', () => {
    const variants: Partial<AccessRequestInput>[] = [
      {},
      { asset: stagingDb },
      { asset: stagingDb, durationMs: 90 * M },
      { durationMs: 5 * H },
      { level: 'admin' },
      { breakGlass: true },
      { breakGlass: true, durationMs: 2 * H },
      { requester: { ...dana, groups: ['dba'] } },
      { requester: { ...dana, groups: ['dba'] }, ticketId: 'OPS-1' },
      { requester: { ...dana, groups: [] } },
      { fileTransfer: true },
    ];
    for (const variant of variants) {
      const asked = request(variant);
      const ticket = asked.ticketId ? { ...openTicket } : null;
      const decision = evaluateRequest(policies, asked, { now, ticket });
      const preview = previewRequest(policies, asked, { now, ticket });
      expect(preview.outcome, JSON.stringify(variant)).toBe(decision.outcome);
      expect(preview.policy).toBe(decision.policy);
      expect(preview.allowed).toBe(decision.outcome !== 'refused');
      expect(preview.reasons).toEqual(decision.outcome === 'refused' ? decision.reasons : []);
    }
  });

  it('a request for review: its maximum, who approves within which window, and break-glass as an alternative', () => {
    const preview = previewRequest(policies, request(), { now, ticket: null });
    expect(preview).toMatchObject({
      outcome: 'needs-approval',
      allowed: true,
      policy: 'dev-databases',
      maxDurationMs: 4 * H,
      approvals: { quorum: 1, approverGroups: ['leads'], requiredGroups: [], reviewWindowMs: 2 * H },
      autoApproved: false,
      autoApprovalRules: [],
      ticket: 'optional',
      fileTransferAllowed: false,
      clockStart: { mode: 'at-approval' },
      breakGlass: { available: true, maxDurationMs: H, requireTicket: false, reasons: [] },
    });
  });

  it('auto-approval: approved at once within the rule, for review beyond it, with the rule shown', () => {
    const auto = previewRequest(policies, request({ asset: stagingDb }), { now, ticket: null });
    expect(auto).toMatchObject({ outcome: 'auto-approved', autoApproved: true, maxDurationMs: 2 * H });
    expect(auto.autoApprovalRules).toEqual([
      { levels: ['read-only'], tiers: null, maxDurationMs: H, requireTicket: false, fileTransfer: false },
    ]);
    const longer = previewRequest(policies, request({ asset: stagingDb, durationMs: 90 * M }), {
      now,
      ticket: null,
    });
    expect(longer).toMatchObject({ outcome: 'needs-approval', autoApproved: false, allowed: true });
  });

  it('refused: every reason at once, and still the maximum and approvals of the governing policy', () => {
    const dba = { ...dana, groups: ['dba'] };
    const preview = previewRequest(
      policies,
      request({ requester: dba, durationMs: 3 * H, fileTransfer: true }),
      { now, ticket: null },
    );
    expect(preview.allowed).toBe(false);
    expect(preview.policy).toBe('dba-production');
    expect(preview.reasons.map((r) => r.code).sort()).toEqual([
      'duration-exceeds-maximum',
      'file-transfer-not-allowed',
      'ticket-required',
    ]);
    expect(preview.maxDurationMs).toBe(2 * H);
    expect(preview.approvals).toMatchObject({ quorum: 2, requiredGroups: ['dba', 'security'] });
    expect(preview.ticket).toBe('required');
    // this policy has no break-glass: the preview says so, with why
    expect(preview.breakGlass.available).toBe(false);
    expect(preview.breakGlass.reasons.map((r) => r.code)).toEqual(['break-glass-not-allowed']);
  });

  it('no policy at all: refused with the explanation, and nothing else to offer', () => {
    const preview = previewRequest(policies, request({ requester: { ...dana, groups: [] } }), {
      now,
      ticket: null,
    });
    expect(preview).toMatchObject({
      outcome: 'refused',
      allowed: false,
      policy: null,
      maxDurationMs: null,
      approvals: null,
      ticket: null,
      breakGlass: { available: false, maxDurationMs: null },
    });
    expect(preview.reasons[0]!.code).toBe('no-policy');
  });

  it('break-glass asked for: its own maximum governs, and a longer one is refused with that maximum', () => {
    const ok = previewRequest(policies, request({ breakGlass: true }), { now, ticket: null });
    expect(ok).toMatchObject({ outcome: 'break-glass', allowed: true, maxDurationMs: H });
    const over = previewRequest(policies, request({ breakGlass: true, durationMs: 2 * H }), {
      now,
      ticket: null,
    });
    expect(over.allowed).toBe(false);
    expect(over.reasons.map((r) => r.code)).toEqual(['duration-exceeds-maximum']);
    expect(over.breakGlass.available).toBe(false);
  });
});

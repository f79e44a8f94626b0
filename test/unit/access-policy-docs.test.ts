import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  evaluateRequest,
  policySchema,
  policySetSchema,
  type AccessRequestInput,
  type PolicyDecision,
} from '../../src/modules/access/domain/policy.js';
import type { AccessTarget } from '../../src/modules/access/domain/types.js';

/** The examples in docs/access-policies.md parse, and decide what the page says they decide. */

const page = readFileSync(new URL('../../docs/access-policies.md', import.meta.url), 'utf8');
const yamlBlocks = [...page.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

const H = 3_600_000;
const db = (tier: AccessTarget['tier']): AccessTarget => ({
  id: `db-${tier}`,
  name: 'acme-db',
  kind: 'database',
  engine: 'postgres',
  customer: 'acme',
  tier,
  groups: [],
});
const server: AccessTarget = {
  ...db('production'),
  id: 'srv',
  name: 'acme-web-1',
  kind: 'server',
  engine: null,
};

const ask = (groups: string[], over: Partial<AccessRequestInput>): AccessRequestInput => ({
  requester: { id: 'op-1', username: 'sam', groups },
  asset: db('staging'),
  level: 'read-only',
  durationMs: H / 2,
  reason: 'INC-7',
  ticketId: 'OPS-1',
  fileTransfer: false,
  breakGlass: false,
  ...over,
});

const summary = (d: PolicyDecision) => {
  switch (d.outcome) {
    case 'refused':
      return `refused: ${d.reasons.map((r) => r.message).join('; ')}`;
    case 'needs-approval':
      return `needs ${d.approvals.quorum} from ${[...d.approvals.requiredGroups, ...d.approvals.approverGroups].join('+')}`;
    case 'auto-approved':
      return `auto-approved by ${d.policy}`;
    case 'break-glass':
      return `break-glass under ${d.policy}`;
  }
};

describe('the policy documentation', () => {
  it('shows a single policy that parses', () => {
    expect(policySchema.safeParse(parse(yamlBlocks[0]!)).error).toBeUndefined();
  });

  const set = policySetSchema.parse(parse(yamlBlocks[1]!));
  const ticket = { id: 'OPS-1', state: 'open' as const, assignee: 'sam' };
  const decide = (r: AccessRequestInput) =>
    summary(evaluateRequest(set.policies, r, { now: new Date(0), ticket }));

  it.each([
    [['dev'], {}, 'auto-approved by dev-nonprod-read'],
    [['dev'], { durationMs: 3 * H }, 'needs 1 from dev-leads'],
    [
      ['dev'],
      { level: 'read-write' },
      'refused: read-write is not allowed on staging for group dev; allowed: read-only',
    ],
    [
      ['dev'],
      { asset: db('production') },
      /^refused: no policy lets group dev request access to database acme-db/,
    ],
    [
      ['dba'],
      { asset: db('production'), level: 'read-write', durationMs: 2 * H },
      'needs 2 from dba+security',
    ],
    [
      ['dba'],
      { asset: db('production'), durationMs: 8 * H },
      /^refused: duration 8h exceeds the maximum of 4h/,
    ],
    [
      ['oncall-admins'],
      { asset: server, level: 'admin', breakGlass: true, ticketId: null, durationMs: 0.75 * H },
      'break-glass under oncall-admin',
    ],
    [
      ['oncall-admins'],
      { asset: server, level: 'admin', breakGlass: true, ticketId: null, durationMs: 2 * H },
      /^refused: break-glass duration 2h exceeds the maximum of 1h/,
    ],
  ] as const)('example %#: %j %j → %s', (groups, over, expected) => {
    const result = decide(ask([...groups], over));
    if (typeof expected === 'string') expect(result).toBe(expected);
    else expect(result).toMatch(expected);
  });
});

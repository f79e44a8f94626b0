import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approversWhoCanAct,
  emailRecipients,
  noticeFor,
  renderNotice,
  securityOffice,
  signWebhook,
  slackPayload,
  teamsPayload,
  verifyWebhook,
  type OperatorFacts,
} from '../../src/modules/integrations/domain/notices.js';

const op = (
  id: string,
  groups: string[],
  permissions: string[],
  extra: Partial<OperatorFacts> = {},
): OperatorFacts => ({
  id,
  username: id,
  email: `${id}@example.com`,
  groups,
  active: true,
  permissions: new Set(permissions),
  ...extra,
});

describe('which events notify whom', () => {
  it('maps the access events of the issue and nothing else', () => {
    expect(noticeFor('access-request.created')).toEqual({ notice: 'request-created', audience: 'approvers' });
    expect(noticeFor('access-request.approved')).toEqual({
      notice: 'request-approved',
      audience: 'requester',
    });
    expect(noticeFor('access-request.denied')).toEqual({ notice: 'request-denied', audience: 'requester' });
    expect(noticeFor('grant.revocation-failed')).toEqual({
      notice: 'revocation-failed',
      audience: 'security',
    });
    expect(noticeFor('break-glass.opened')).toEqual({ notice: 'break-glass-used', audience: 'security' });
    for (const action of [
      'access-request.reviewed',
      'grant.revoked',
      'notification.dead-lettered',
      'ticket.created',
    ]) {
      expect(noticeFor(action)).toBeUndefined();
    }
  });

  it('approvers who can act: in an approving group, allowed to review, active, never the requester', () => {
    const operators = [
      op('lee', ['leads'], ['access:review']),
      op('req', ['leads'], ['access:review']),
      op('ray', ['leads'], ['access:request']),
      op('old', ['leads'], ['access:review'], { active: false }),
      op('sam', ['security'], ['access:review']),
      op('nat', ['network'], ['access:review']),
    ];
    const ids = approversWhoCanAct(
      { requesterId: 'req', approverGroups: ['leads'], requiredGroups: ['security'] },
      operators,
    ).map((o) => o.id);
    expect(ids).toEqual(['lee', 'sam']);
    expect(
      securityOffice([op('adm', [], ['access:admin']), op('lee', [], ['access:review'])]).map((o) => o.id),
    ).toEqual(['adm']);
  });

  it('emails those with an address who have not muted the notice, once each, lower-cased', () => {
    const operators = [
      op('a', [], [], { email: 'A@Example.com' }),
      op('b', [], []),
      op('c', [], [], { email: null }),
      op('d', [], [], { email: 'a@example.com' }),
    ];
    const muted = new Map([['b', ['request-created']]]);
    expect(emailRecipients(operators, 'request-created', muted)).toEqual(['a@example.com']);
    expect(emailRecipients(operators, 'request-approved', muted)).toEqual(['a@example.com', 'b@example.com']);
  });
});

describe('messages', () => {
  const facts = {
    at: new Date('2026-11-26T10:00:00Z'),
    requestId: 'r-1',
    asset: 'acme-db',
    level: 'read-only',
    requester: 'dana',
    reason: '<script>alert(1)</script> & more',
  };

  it('says the same in text and HTML, escapes HTML, links when a public URL is set', () => {
    const m = renderNotice('request-created', facts, 'https://gatehouse.example/');
    expect(m.subject).toBe('[Gatehouse] dana requests read-only access to acme-db');
    expect(m.text).toContain('Reason: <script>alert(1)</script> & more');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more');
    expect(m.html).not.toContain('<script>');
    expect(m.link).toBe('https://gatehouse.example/access/requests/r-1');
    expect(renderNotice('request-created', facts).link).toBeNull();
  });

  it('builds Slack blocks and a Teams Adaptive Card from the message', () => {
    const m = renderNotice('request-approved', facts);
    expect(slackPayload(m)).toMatchObject({ text: m.subject });
    expect(teamsPayload(m)).toMatchObject({
      type: 'message',
      attachments: [
        { contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard' } },
      ],
    });
  });
});

describe('webhook signatures', () => {
  const secret = 'whsec-0123456789abcdef';

  it('is v1= hex HMAC-SHA256 over "<timestamp>.<body>"', () => {
    // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec-0123456789abcdef
    expect(signWebhook(secret, 1700000000, '{"a":1}')).toBe(
      'v1=d77c78ac4da074c56908b55eac30358b2a7bfc573be4c76819af5102e8dcf939',
    );
    expect(signWebhook(secret, 1700000000, '{"a":1}')).not.toBe(signWebhook(secret, 1700000001, '{"a":1}'));
  });

  it('verifies what was signed, and refuses a changed body, another secret or a stale timestamp', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
        (body, other, ts) => {
          const signature = signWebhook(secret, ts, body);
          const headers = { signature, timestamp: String(ts) };
          expect(verifyWebhook(secret, headers, body, ts)).toBe(true);
          if (other !== body) expect(verifyWebhook(secret, headers, other, ts)).toBe(false);
          expect(verifyWebhook(`${secret}x`, headers, body, ts)).toBe(false);
          expect(verifyWebhook(secret, headers, body, ts + 301)).toBe(false);
          expect(verifyWebhook(secret, { signature, timestamp: undefined }, body, ts)).toBe(false);
        },
      ),
    );
  });
});

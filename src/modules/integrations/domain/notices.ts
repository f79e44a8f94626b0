import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Notifications, pure: which audit events call for one and to whom, what it says (plain text and
 * HTML, never a secret: only names, levels, times, reasons and links), the chat payloads, and the
 * signature of generic webhooks.
 */
export const notices = [
  'request-created',
  'request-approved',
  'request-denied',
  'grant-expiring',
  'revocation-failed',
  'break-glass-used',
] as const;
export type Notice = (typeof notices)[number];

/** Who hears of it by email: approvers who can act, the requester/holder, or the security office. */
export type Audience = 'approvers' | 'requester' | 'security';

const byAction: Record<string, { notice: Notice; audience: Audience }> = {
  'access-request.created': { notice: 'request-created', audience: 'approvers' },
  'access-request.approved': { notice: 'request-approved', audience: 'requester' },
  'access-request.denied': { notice: 'request-denied', audience: 'requester' },
  'grant.revocation-failed': { notice: 'revocation-failed', audience: 'security' },
  'break-glass.opened': { notice: 'break-glass-used', audience: 'security' },
};

export function noticeFor(action: string): { notice: Notice; audience: Audience } | undefined {
  return byAction[action];
}

export interface OperatorFacts {
  id: string;
  username: string;
  email: string | null;
  groups: readonly string[];
  active: boolean;
  /** Effective permissions of the operator's roles. */
  permissions: ReadonlySet<string>;
}

/** Approvers who can act on a request: active, not the requester, allowed to review, in an approving group. */
export function approversWhoCanAct(
  request: { requesterId: string; approverGroups: readonly string[]; requiredGroups: readonly string[] },
  operators: readonly OperatorFacts[],
): OperatorFacts[] {
  const groups = new Set([...request.approverGroups, ...request.requiredGroups]);
  return operators.filter(
    (o) =>
      o.active &&
      o.id !== request.requesterId &&
      o.permissions.has('access:review') &&
      o.groups.some((g) => groups.has(g)),
  );
}

/** The security office: active operators who may administer access (admins, security officers with access:admin). */
export function securityOffice(operators: readonly OperatorFacts[]): OperatorFacts[] {
  return operators.filter((o) => o.active && o.permissions.has('access:admin'));
}

/** Email addresses of those who have one and have not muted this notice. */
export function emailRecipients(
  operators: readonly OperatorFacts[],
  notice: Notice,
  muted: ReadonlyMap<string, readonly string[]>,
): string[] {
  const out = new Set<string>();
  for (const o of operators) {
    if (!o.email) continue;
    if (muted.get(o.id)?.includes(notice)) continue;
    out.add(o.email.toLowerCase());
  }
  return [...out].sort();
}

/** What a notification is about: facts from the access service, never a credential. */
export interface NoticeFacts {
  requestId?: string | undefined;
  grantId?: string | undefined;
  asset?: string | undefined;
  level?: string | undefined;
  requester?: string | undefined;
  reason?: string | undefined;
  ticket?: string | null | undefined;
  duration?: string | undefined;
  actor?: string | undefined;
  comment?: string | undefined;
  notAfter?: Date | null | undefined;
  error?: string | null | undefined;
  at: Date;
}

export interface Message {
  notice: Notice;
  subject: string;
  text: string;
  html: string;
  /** Link to the request or grant in the back-office, when a public URL is configured. */
  link: string | null;
  facts: Record<string, string>;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const headline: Record<Notice, (f: NoticeFacts) => string> = {
  'request-created': (f) =>
    `${f.requester ?? 'Someone'} requests ${f.level ?? ''} access to ${f.asset ?? '?'}`,
  'request-approved': (f) => `Your request for ${f.level ?? ''} access to ${f.asset ?? '?'} was approved`,
  'request-denied': (f) => `Your request for ${f.level ?? ''} access to ${f.asset ?? '?'} was denied`,
  'grant-expiring': (f) => `Your ${f.level ?? ''} access to ${f.asset ?? '?'} ends soon`,
  'revocation-failed': (f) => `Revoking access to ${f.asset ?? '?'} failed`,
  'break-glass-used': (f) => `Break-glass access to ${f.asset ?? '?'} opened by ${f.requester ?? '?'}`,
};

/** The message for a notice: subject, plain text and HTML with the same facts. */
export function renderNotice(notice: Notice, facts: NoticeFacts, publicUrl?: string): Message {
  const rows: [string, string][] = [];
  const add = (label: string, value: string | null | undefined) => {
    if (value !== undefined && value !== null && value !== '') rows.push([label, value]);
  };
  add('Asset', facts.asset);
  add('Level', facts.level);
  add('Requester', facts.requester);
  add('Duration', facts.duration);
  add('Ticket', facts.ticket);
  add('Reason', facts.reason);
  add('By', facts.actor);
  add('Comment', facts.comment);
  add('Ends at', facts.notAfter?.toISOString());
  add('Error', facts.error);
  add('Request', facts.requestId);
  add('Grant', facts.grantId);
  add('At', facts.at.toISOString());
  const base = publicUrl?.replace(/\/+$/, '');
  const link = base
    ? facts.requestId
      ? `${base}/access/requests/${facts.requestId}`
      : facts.grantId
        ? `${base}/access/grants/${facts.grantId}`
        : null
    : null;
  const title = headline[notice](facts).replace(/\s+/g, ' ').trim();
  const subject = `[Gatehouse] ${title}`;
  const text = [
    title,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    ...(link ? ['', link] : []),
    '',
    '-- Gatehouse (change what you receive: gatehouse integrations prefs)',
  ].join('\n');
  const html = [
    `<p><strong>${escapeHtml(title)}</strong></p>`,
    '<table>',
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    ...(link ? [`<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`] : []),
  ].join('\n');
  return { notice, subject, text, html, link, facts: Object.fromEntries(rows) };
}

/** Slack-compatible incoming-webhook body. */
export function slackPayload(message: Message): Record<string, unknown> {
  const lines = Object.entries(message.facts).map(([k, v]) => `*${k}:* ${v}`);
  return {
    text: message.subject,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${message.subject}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } },
      ...(message.link
        ? [{ type: 'section', text: { type: 'mrkdwn', text: `<${message.link}|Open>` } }]
        : []),
    ],
  };
}

/** Microsoft Teams incoming-webhook body: a message with one Adaptive Card. */
export function teamsPayload(message: Message): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: message.subject, weight: 'Bolder', wrap: true },
            {
              type: 'FactSet',
              facts: Object.entries(message.facts).map(([title, value]) => ({ title, value })),
            },
          ],
          ...(message.link
            ? { actions: [{ type: 'Action.OpenUrl', title: 'Open', url: message.link }] }
            : {}),
        },
      },
    ],
  };
}

export const SIGNATURE_HEADER = 'x-gatehouse-signature';
export const TIMESTAMP_HEADER = 'x-gatehouse-timestamp';

/** `v1=` + hex HMAC-SHA256(secret, `<timestamp>.<body>`), the timestamp in Unix seconds. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does: recompute, compare in constant time, refuse a timestamp too far from now. */
export function verifyWebhook(
  secret: string,
  headers: { signature: string | undefined; timestamp: string | undefined },
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!headers.signature || !headers.timestamp || !/^\d{1,12}$/.test(headers.timestamp)) return false;
  const timestamp = Number(headers.timestamp);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(headers.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

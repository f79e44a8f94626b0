import nodemailer from 'nodemailer';
import {
  signWebhook,
  SIGNATURE_HEADER,
  slackPayload,
  teamsPayload,
  TIMESTAMP_HEADER,
  type Message,
} from '../../modules/integrations/domain/notices.js';

/** Delivers one notification; throws when the receiver did not take it (the job retries). */
export type NotificationSender = (message: Message, recipients: readonly string[]) => Promise<void>;

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (port 465); otherwise plain, upgraded with STARTTLS when offered. */
  secure: boolean;
  /** Refuse to send unless the server upgrades with STARTTLS. */
  requireTls: boolean;
  user?: string | undefined;
  from: string;
  /** PEM CAs to trust instead of the system's. */
  ca?: string | undefined;
}

export function smtpSender(settings: SmtpSettings, password: string | undefined): NotificationSender {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.requireTls,
    ...(settings.user && password !== undefined ? { auth: { user: settings.user, pass: password } } : {}),
    tls: { rejectUnauthorized: true, ...(settings.ca ? { ca: settings.ca } : {}) },
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 30_000,
    // nodemailer's own logger stays off: it would print the SMTP conversation, AUTH included
    logger: false,
  });
  return async (message, recipients) => {
    if (recipients.length === 0) return;
    try {
      await transport.sendMail({
        from: settings.from,
        to: [...recipients],
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
    } finally {
      transport.close();
    }
  };
}

async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  what: string,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(15_000),
      redirect: 'error',
    });
  } catch (error) {
    // the URL of a chat webhook is its secret: it never goes into the error
    const cause = (error as Error & { cause?: { code?: string } }).cause?.code;
    throw new Error(`${what} unreachable: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
  }
  await response.arrayBuffer().catch(() => undefined);
  if (response.status < 200 || response.status >= 300) {
    throw new Error(`${what} answered ${response.status}`);
  }
}

/** Slack-compatible or Teams incoming webhook: the URL (a secret) is the only credential. */
export function chatSender(kind: 'slack' | 'teams', url: string): NotificationSender {
  return (message) =>
    postJson(
      url,
      JSON.stringify(kind === 'slack' ? slackPayload(message) : teamsPayload(message)),
      {},
      `${kind} webhook`,
    );
}

/** Generic webhook: JSON body signed with HMAC-SHA256 over `<timestamp>.<body>` (see README). */
export function webhookSender(
  url: string,
  secret: string,
  now: () => Date,
  deliveryId: string,
): NotificationSender {
  return (message) => {
    const body = JSON.stringify({
      id: deliveryId,
      notice: message.notice,
      subject: message.subject,
      text: message.text,
      link: message.link,
      facts: message.facts,
    });
    const timestamp = Math.floor(now().getTime() / 1000);
    return postJson(
      url,
      body,
      {
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
        'x-gatehouse-delivery': deliveryId,
      },
      `webhook ${new URL(url).host}`,
    );
  };
}

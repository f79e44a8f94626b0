import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { contextFor } from '../context.js';
import { registerTrackers } from './integrations-trackers.js';

interface SinkView {
  name: string;
  kind: string;
  enabled: boolean;
  cursorSeq: number;
  lagEvents: number;
  failures: number;
  lastError: string | null;
}

const SINK_COLUMNS = ['name', 'kind', 'enabled', 'cursorSeq', 'lagEvents', 'failures', 'lastError'];
const sinkPath = (name: string) => `/api/v1/integrations/sinks/${encodeURIComponent(name)}`;

/** A secret from a file (never from the command line, where it would land in shell history and ps). */
export function secretFromFile(file: string | undefined, what: string): string | undefined {
  if (file === undefined) return undefined;
  const value = readFileSync(file, 'utf8').trim();
  if (!value) throw new ValidationError(`${file} is empty: it should hold the ${what}`);
  return value;
}

export function registerIntegrations(program: Command): Command {
  const integrations = program
    .command('integrations')
    .description('Audit forwarding (syslog, Splunk HEC) and notifications (admin)');

  const sinks = integrations
    .command('sinks')
    .description('Audit sinks: every audit event forwarded in order, at least once')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse integrations sinks add siem --syslog siem.example.net:6514 --tls --ca ca.pem
  gatehouse integrations sinks add splunk --hec https://splunk.example:8088 --token-file hec.token
  gatehouse integrations sinks list
  gatehouse integrations sinks disable siem`,
    );

  sinks
    .command('list')
    .description('List sinks with their cursor, lag and last error')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { sinks: rows } = await ctx.api().get<{ sinks: SinkView[] }>('/api/v1/integrations/sinks');
      ctx.out.page({ items: rows, nextCursor: null }, SINK_COLUMNS);
    });

  sinks
    .command('add <name>')
    .description('Add a sink; it starts from the first audit event')
    .addOption(new Option('--syslog <host:port>', 'RFC 5424 over TCP').conflicts('hec'))
    .option('--tls', 'syslog over TLS')
    .option('--ca <file>', 'PEM bundle of CAs to trust for TLS')
    .option('--hostname <name>', 'HOSTNAME field of syslog messages')
    .option('--hec <url>', 'Splunk HEC base URL, like https://splunk.example:8088')
    .option('--token-file <file>', 'file holding the HEC token')
    .option('--index <index>', 'HEC index')
    .option('--sourcetype <sourcetype>', 'HEC source type (default gatehouse:audit)')
    .action(async (name: string, o: Record<string, string | boolean | undefined>, command: Command) => {
      const ctx = contextFor(command);
      let body: Record<string, unknown>;
      if (typeof o.syslog === 'string') {
        const match = /^(.+):(\d{1,5})$/.exec(o.syslog);
        if (!match) throw new ValidationError('--syslog takes host:port, like siem.example.net:6514');
        body = {
          name,
          kind: 'syslog',
          settings: {
            host: match[1]!.replace(/^\[|\]$/g, ''),
            port: Number(match[2]),
            tls: Boolean(o.tls),
            ...(typeof o.ca === 'string' ? { ca: readFileSync(o.ca, 'utf8') } : {}),
            ...(typeof o.hostname === 'string' ? { hostname: o.hostname } : {}),
          },
        };
      } else if (typeof o.hec === 'string') {
        const token = secretFromFile(typeof o.tokenFile === 'string' ? o.tokenFile : undefined, 'HEC token');
        if (!token) throw new ValidationError('--hec needs --token-file <file> holding the HEC token');
        body = {
          name,
          kind: 'splunk-hec',
          token,
          settings: {
            url: o.hec,
            ...(typeof o.index === 'string' ? { index: o.index } : {}),
            ...(typeof o.sourcetype === 'string' ? { sourcetype: o.sourcetype } : {}),
          },
        };
      } else {
        throw new ValidationError('Name the receiver: --syslog host:port or --hec <url>');
      }
      const sink = await ctx.api().post<SinkView>('/api/v1/integrations/sinks', body);
      ctx.out.result(sink, () => ctx.out.line(`added ${sink.kind} sink ${sink.name}`));
    });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    sinks
      .command(`${verb} <name>`)
      .description(`${enabled ? 'Resume' : 'Pause'} forwarding to a sink (its cursor is kept)`)
      .action(async (name: string, _o: unknown, command: Command) => {
        const ctx = contextFor(command);
        const sink = await ctx.api().patch<SinkView>(sinkPath(name), { enabled });
        ctx.out.result(sink, () => ctx.out.line(`${name} ${enabled ? 'enabled' : 'disabled'}`));
      });
  }

  sinks
    .command('set-token <name>')
    .description('Replace the HEC token of a sink')
    .requiredOption('--token-file <file>', 'file holding the new token')
    .action(async (name: string, o: { tokenFile: string }, command: Command) => {
      const ctx = contextFor(command);
      const sink = await ctx
        .api()
        .patch<SinkView>(sinkPath(name), { token: secretFromFile(o.tokenFile, 'token') });
      ctx.out.result(sink, () => ctx.out.line(`token of ${name} replaced`));
    });

  sinks
    .command('remove <name>')
    .description('Remove a sink')
    .action(async (name: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      await ctx.api().delete(sinkPath(name));
      ctx.out.result({ removed: name }, () => ctx.out.line(`removed ${name}`));
    });

  registerNotifications(integrations);
  registerTrackers(integrations);
  return integrations;
}

interface ChannelView {
  name: string;
  kind: string;
  notices: string[];
  enabled: boolean;
}

interface DeliveryView {
  id: string;
  channel: string;
  notice: string;
  state: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

function registerNotifications(integrations: Command): void {
  const channels = integrations
    .command('channels')
    .description('Notification channels: email (SMTP), Slack, Teams, signed webhooks')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse integrations channels add ops-mail --email smtp.example.net:587 --from gatehouse@example.net \\
      --smtp-user gatehouse --password-file smtp.pw
  gatehouse integrations channels add ops-chat --slack-url-file slack.url --notices request-created,break-glass-used
  gatehouse integrations channels add soc --webhook https://soc.example/hooks/gatehouse --secret-file hook.secret
  gatehouse integrations channels list`,
    );

  channels
    .command('list')
    .description('List channels (secrets never shown)')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { channels: rows } = await ctx
        .api()
        .get<{ channels: ChannelView[] }>('/api/v1/integrations/channels');
      ctx.out.page({ items: rows.map((c) => ({ ...c, notices: c.notices.join(',') })), nextCursor: null }, [
        'name',
        'kind',
        'enabled',
        'notices',
      ]);
    });

  channels
    .command('add <name>')
    .description('Add a channel (one of --email, --slack-url-file, --teams-url-file, --webhook)')
    .option('--email <host:port>', 'SMTP server (STARTTLS required unless --no-require-tls)')
    .option('--from <address>', 'sender address of the emails')
    .option('--smtp-user <user>', 'SMTP user')
    .option('--password-file <file>', 'file holding the SMTP password')
    .option('--implicit-tls', 'SMTP over implicit TLS (port 465)')
    .option('--no-require-tls', 'send even when the server offers no STARTTLS')
    .option('--slack-url-file <file>', 'file holding the Slack incoming-webhook URL')
    .option('--teams-url-file <file>', 'file holding the Teams incoming-webhook URL')
    .option('--webhook <url>', 'generic webhook URL (https)')
    .option('--secret-file <file>', 'file holding the webhook signing secret (16+ characters)')
    .option('--notices <list>', 'comma-separated notices (default: all)')
    .action(async (name: string, o: Record<string, string | boolean | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const str = (key: string) => (typeof o[key] === 'string' ? o[key] : undefined);
      const notices = str('notices')
        ? {
            notices: str('notices')!
              .split(',')
              .map((n) => n.trim()),
          }
        : {};
      let body: Record<string, unknown>;
      if (str('email')) {
        const match = /^(.+):(\d{1,5})$/.exec(str('email')!);
        if (!match) throw new ValidationError('--email takes host:port, like smtp.example.net:587');
        const password = secretFromFile(str('passwordFile'), 'SMTP password');
        body = {
          name,
          kind: 'email',
          settings: {
            host: match[1],
            port: Number(match[2]),
            secure: Boolean(o.implicitTls),
            requireTls: o.requireTls !== false,
            from: str('from'),
            ...(str('smtpUser') ? { user: str('smtpUser') } : {}),
          },
          ...(password ? { password } : {}),
          ...notices,
        };
      } else if (str('slackUrlFile') || str('teamsUrlFile')) {
        const kind = str('slackUrlFile') ? 'slack' : 'teams';
        body = { name, kind, url: secretFromFile(str(`${kind}UrlFile`), `${kind} webhook URL`), ...notices };
      } else if (str('webhook')) {
        body = {
          name,
          kind: 'webhook',
          settings: { url: str('webhook') },
          secret: secretFromFile(str('secretFile'), 'webhook signing secret'),
          ...notices,
        };
      } else {
        throw new ValidationError(
          'Name the channel: --email, --slack-url-file, --teams-url-file or --webhook',
        );
      }
      const channel = await ctx.api().post<ChannelView>('/api/v1/integrations/channels', body);
      ctx.out.result(channel, () => ctx.out.line(`added ${channel.kind} channel ${channel.name}`));
    });

  channels
    .command('remove <name>')
    .description('Remove a channel')
    .action(async (name: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      await ctx.api().delete(`/api/v1/integrations/channels/${encodeURIComponent(name)}`);
      ctx.out.result({ removed: name }, () => ctx.out.line(`removed ${name}`));
    });

  const deliveries = integrations
    .command('notifications')
    .description('Notifications sent or waiting; by default the dead-letter list');

  deliveries
    .command('list')
    .description('List notifications by state (dead by default), newest first')
    .addOption(
      new Option('--state <state>', 'which').choices(['pending', 'delivered', 'dead']).default('dead'),
    )
    .option('--limit <n>', 'per page (1-500)', '50')
    .option('--cursor <cursor>', 'nextCursor from the previous page')
    .action(async (o: { state: string; limit: string; cursor?: string }, command: Command) => {
      const ctx = contextFor(command);
      const params = new URLSearchParams({
        state: o.state,
        limit: o.limit,
        ...(o.cursor ? { cursor: o.cursor } : {}),
      });
      const page = await ctx
        .api()
        .get<{ items: DeliveryView[]; nextCursor: string | null }>(
          `/api/v1/integrations/notifications?${params.toString()}`,
        );
      ctx.out.page(page, ['id', 'channel', 'notice', 'state', 'attempts', 'lastError', 'createdAt']);
    });

  deliveries
    .command('retry <id>')
    .description('Send a dead-lettered notification again')
    .action(async (id: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const d = await ctx
        .api()
        .post<DeliveryView>(`/api/v1/integrations/notifications/${encodeURIComponent(id)}/retry`, {});
      ctx.out.result(d, () => ctx.out.line(`${d.id} queued again`));
    });

  integrations
    .command('prefs')
    .description('Your notification preferences: show them, or --mute the notices you do not want by email')
    .option('--mute <list>', 'comma-separated notices to mute ("" for none)')
    .action(async (o: { mute?: string }, command: Command) => {
      const ctx = contextFor(command);
      const prefs =
        o.mute === undefined
          ? await ctx.api().get<{ muted: string[]; available: string[] }>('/api/v1/integrations/preferences')
          : await ctx
              .api()
              .put<{ muted: string[]; available: string[] }>('/api/v1/integrations/preferences', {
                muted: o.mute
                  .split(',')
                  .map((n) => n.trim())
                  .filter(Boolean),
              });
      ctx.out.result(prefs, () => {
        ctx.out.line(`muted:     ${prefs.muted.join(', ') || '(none)'}`);
        ctx.out.line(`available: ${prefs.available.join(', ')}`);
      });
    });
}

import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { contextFor } from '../context.js';

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

  return integrations;
}

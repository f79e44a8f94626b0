import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { contextFor } from '../context.js';

interface TrackerView {
  name: string;
  kind: string;
  baseUrl: string;
  username: string | null;
  refKeys: string[];
  hasSecret: boolean;
}

const COLUMNS = ['name', 'kind', 'baseUrl', 'username', 'refKeys', 'hasSecret'];
const trackerPath = (name: string) => `/api/v1/integrations/trackers/${encodeURIComponent(name)}`;

/** The credential from a file, or from stdin with `-` (never a flag value: shell history and ps show those). */
function secretFrom(file: string): string {
  const value = readFileSync(file === '-' ? 0 : file, 'utf8').trim();
  if (!value)
    throw new ValidationError(`${file === '-' ? 'stdin' : file} is empty: it should hold the secret`);
  return value;
}

const keys = (value: string) =>
  value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);

interface TrackerOptions {
  baseUrl?: string;
  user?: string;
  keys?: string;
  secretFile?: string;
  apiVersion?: string;
  pat?: boolean;
}

export function registerTrackers(integrations: Command): void {
  const trackers = integrations
    .command('trackers')
    .description('Jira and ServiceNow trackers: the tickets of their keys are looked up there')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse integrations trackers add jira-cloud --kind jira --base-url https://acme.atlassian.net \\
      --user bot@acme.example --keys OPS,SEC --secret-file jira.token
  gatehouse integrations trackers add snow --kind servicenow --base-url https://acme.service-now.com \\
      --user gatehouse.integration --secret-file - < snow.password
  gatehouse integrations trackers set-secret snow --secret-file snow.password
  gatehouse integrations trackers list`,
    );

  trackers
    .command('list')
    .description('List trackers (credentials never shown, only whether one is set)')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const { trackers: rows } = await ctx
        .api()
        .get<{ trackers: TrackerView[] }>('/api/v1/integrations/trackers');
      ctx.out.page(
        { items: rows.map((r) => ({ ...r, refKeys: r.refKeys.join(',') })), nextCursor: null },
        COLUMNS,
      );
    });

  trackers
    .command('show <name>')
    .description('Show a tracker')
    .action(async (name: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const tracker = await ctx.api().get<TrackerView>(trackerPath(name));
      ctx.out.result(tracker, () =>
        ctx.out.line(
          `${tracker.name} (${tracker.kind}) ${tracker.baseUrl} user=${tracker.username ?? '-'} keys=${tracker.refKeys.join(',')} secret=${tracker.hasSecret ? 'set' : 'none'}`,
        ),
      );
    });

  trackers
    .command('add <name>')
    .description('Add a tracker; it owns the refs of its keys at once')
    .requiredOption('--kind <kind>', 'jira or servicenow')
    .requiredOption('--base-url <url>', 'base URL, like https://acme.atlassian.net')
    .option(
      '--user <user>',
      'Jira Cloud account email, or the ServiceNow user (omit for a Jira personal access token)',
    )
    .option('--keys <list>', 'Jira project keys (OPS,SEC); ServiceNow prefixes (INC,CHG; default both)')
    .option('--api-version <n>', 'Jira REST API version, 2 or 3')
    .requiredOption('--secret-file <file>', "file holding the API token or password ('-' reads stdin)")
    .action(async (name: string, o: TrackerOptions & { kind: string }, command: Command) => {
      const ctx = contextFor(command);
      const body = {
        name,
        kind: o.kind,
        baseUrl: o.baseUrl,
        ...(o.user !== undefined ? { username: o.user } : {}),
        ...(o.keys !== undefined ? { refKeys: keys(o.keys) } : {}),
        ...(o.apiVersion !== undefined ? { apiVersion: Number(o.apiVersion) } : {}),
        secret: secretFrom(o.secretFile!),
      };
      const tracker = await ctx.api().post<TrackerView>('/api/v1/integrations/trackers', body);
      ctx.out.result(tracker, () =>
        ctx.out.line(`added ${tracker.kind} tracker ${tracker.name} for ${tracker.refKeys.join(',')}`),
      );
    });

  trackers
    .command('update <name>')
    .description('Change the URL, user, keys or API version of a tracker')
    .option('--base-url <url>', 'base URL')
    .option('--user <user>', 'account email or user')
    .option('--pat', 'Jira: the secret is a personal access token (clears the user)')
    .option('--keys <list>', 'project keys or prefixes, comma-separated (replaces the list)')
    .option('--api-version <n>', 'Jira REST API version, 2 or 3')
    .option('--secret-file <file>', "replace the credential from a file ('-' reads stdin)")
    .action(async (name: string, o: TrackerOptions, command: Command) => {
      const ctx = contextFor(command);
      const body = {
        ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
        ...(o.user !== undefined ? { username: o.user } : o.pat ? { username: null } : {}),
        ...(o.keys !== undefined ? { refKeys: keys(o.keys) } : {}),
        ...(o.apiVersion !== undefined ? { apiVersion: Number(o.apiVersion) } : {}),
        ...(o.secretFile !== undefined ? { secret: secretFrom(o.secretFile) } : {}),
      };
      const tracker = await ctx.api().patch<TrackerView>(trackerPath(name), body);
      ctx.out.result(tracker, () => ctx.out.line(`updated ${name}`));
    });

  trackers
    .command('set-secret <name>')
    .description("Replace the credential of a tracker, read from a file or stdin ('-')")
    .requiredOption('--secret-file <file>', "file holding the new credential ('-' reads stdin)")
    .action(async (name: string, o: { secretFile: string }, command: Command) => {
      const ctx = contextFor(command);
      const tracker = await ctx
        .api()
        .patch<TrackerView>(trackerPath(name), { secret: secretFrom(o.secretFile) });
      ctx.out.result(tracker, () => ctx.out.line(`credential of ${name} replaced`));
    });

  trackers
    .command('remove <name>')
    .description('Remove a tracker (its refs go back to the next tracker that claims them)')
    .action(async (name: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      await ctx.api().delete(trackerPath(name));
      ctx.out.result({ removed: name }, () => ctx.out.line(`removed ${name}`));
    });
}

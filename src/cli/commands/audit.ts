import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { Option, type Command } from 'commander';
import { formatEvent, formatHeader, type ExportFormat } from '../../modules/audit/domain/export-format.js';
import { ValidationError } from '../../platform/errors.js';
import { query } from '../api-client.js';
import { contextFor } from '../context.js';
import { openLocal } from '../local.js';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new ValidationError(`${name} must be a positive event number, got '${value}'`);
    return n;
  };
}

function isoTime(name: string) {
  return (value: string): Date => {
    const date = new Date(value);
    if (Number.isNaN(date.getTime()))
      throw new ValidationError(`${name} must be an ISO 8601 time, got '${value}'`);
    return date;
  };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('The tamper-evident audit log: verify, export, search')
    .addHelpText(
      'after',
      `
Every change in Gatehouse appends an event whose SHA-256 covers its predecessor's, and checkpoints
signed with Ed25519 seal the chain's head. \`verify\` and \`export\` read the store directly (they work
on a restored copy too); \`search\` goes through the API.`,
    );

  audit
    .command('verify')
    .description(
      'Check the hash chain and signed checkpoints; exit 0 when intact, 1 naming the first broken event',
    )
    .option('--from <seq>', 'first event number to check', positiveInt('--from'))
    .option('--to <seq>', 'last event number to check', positiveInt('--to'))
    .option(
      '--public-key <file>',
      'also trust checkpoints signed by this PEM public key (repeatable)',
      collect,
    )
    .action(async (options: { from?: number; to?: number; publicKey?: string[] }, command: Command) => {
      const ctx = contextFor(command);
      const local = await openLocal(ctx.config());
      try {
        let lastNote = 0;
        const result = await local.audit.verify(local.store.db, {
          fromSeq: options.from,
          toSeq: options.to,
          extraPublicKeys: (options.publicKey ?? []).map((file) => readFileSync(file, 'utf8')),
          onProgress: (checked, total) => {
            if (!ctx.out.json && total > 50_000 && Date.now() - lastNote > 1000) {
              lastNote = Date.now();
              ctx.out.note(
                `verified ${checked.toLocaleString('en')} of ${total.toLocaleString('en')} events…`,
              );
            }
          },
        });
        ctx.out.result(result, () => {
          if (result.ok) {
            ctx.out.line(
              result.checked === 0
                ? 'Audit log intact: no events in that range.'
                : `Audit log intact: ${result.checked} events (${result.fromSeq}–${result.toSeq}), ` +
                    `${result.checkpoints.verified} of ${result.checkpoints.total} signed checkpoints verified.`,
            );
          } else {
            ctx.out.line(`Audit log BROKEN at event ${result.broken!.seq}: ${result.broken!.reason}`);
            ctx.out.line(`(${result.checked} events before it verified)`);
          }
        });
        process.exitCode = result.ok ? 0 : 1;
      } finally {
        await local.close();
      }
    });

  audit
    .command('export')
    .description('Write events in sequence order, with their hashes, as JSON lines or CSV')
    .addOption(new Option('--format <format>', 'output format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--from <time>', 'first event time (ISO 8601)', isoTime('--from'))
    .option('--to <time>', 'last event time (ISO 8601)', isoTime('--to'))
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(
      async (
        options: { format: ExportFormat; from?: Date; to?: Date; output?: string },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const local = await openLocal(ctx.config());
        const sink = options.output ? createWriteStream(options.output, { mode: 0o600 }) : process.stdout;
        const write = async (chunk: string) => {
          if (!sink.write(chunk)) await once(sink, 'drain');
        };
        let count = 0;
        try {
          const header = formatHeader(options.format);
          if (header) await write(header);
          const window = {
            ...(options.from ? { from: options.from } : {}),
            ...(options.to ? { to: options.to } : {}),
          };
          for await (const event of local.audit.stream(local.store.db, window)) {
            await write(formatEvent(event, options.format));
            count += 1;
          }
        } finally {
          await local.close();
          if (options.output) {
            sink.end();
            await once(sink, 'finish');
          }
        }
        if (options.output) ctx.out.note(`exported ${count} events to ${options.output}`);
      },
    );

  audit
    .command('search')
    .description('Search events through the API, newest first')
    .option('--action <action>', "an action, or a prefix like 'customer.*'")
    .option('--actor <username>', 'who did it')
    .option('--target-type <type>', 'kind of object acted on')
    .option('--target-id <id>', 'id of the object acted on')
    .option('--ticket <ticket>', 'ticket reference')
    .option('--from <time>', 'from this time (ISO 8601)')
    .option('--to <time>', 'until this time (ISO 8601)')
    .option('--limit <n>', 'events per page (1-500)', '50')
    .option('--cursor <seq>', 'nextCursor from the previous page')
    .action(async (options: Record<string, string | undefined>, command: Command) => {
      const ctx = contextFor(command);
      const page = await ctx.api().get<{ items: Record<string, unknown>[]; nextCursor: number | null }>(
        `/api/v1/audit/events${query({
          action: options.action,
          actorName: options.actor,
          targetType: options.targetType,
          targetId: options.targetId,
          ticket: options.ticket,
          from: options.from,
          to: options.to,
          limit: options.limit,
          cursor: options.cursor,
        })}`,
      );
      ctx.out.page(page, ['seq', 'occurredAt', 'actorName', 'action', 'targetType', 'targetId', 'ticket']);
    });

  audit
    .command('public-key')
    .description('Print the Ed25519 public key that signs checkpoints, for verifying offline')
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextFor(command);
      const local = await openLocal(ctx.config());
      try {
        const key = local.audit.publicKey();
        ctx.out.result(key, () => process.stdout.write(key.pem));
      } finally {
        await local.close();
      }
    });

  audit
    .command('checkpoint')
    .description('Sign the head of the chain now')
    .action(async (_options: unknown, command: Command) => {
      const ctx = contextFor(command);
      const local = await openLocal(ctx.config());
      try {
        const seq = await local.audit.checkpointNow(local.store);
        ctx.out.result({ seq: seq ?? null }, () =>
          ctx.out.line(
            seq
              ? `Signed a checkpoint at event ${seq}.`
              : 'Nothing new to sign: the head is already checkpointed.',
          ),
        );
      } finally {
        await local.close();
      }
    });
}

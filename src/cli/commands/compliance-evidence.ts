import { readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { checkPack, type PackProblem } from '../../modules/compliance/domain/evidence-pack.js';
import { query } from '../api-client.js';
import { contextFor } from '../context.js';

const BASE = '/api/v1/compliance';

const describe = (problems: readonly PackProblem[]) =>
  problems.map((p) => `  ${p.file}: ${p.problem}\n`).join('');

function period(options: { from: string; to: string }) {
  for (const [flag, value] of [
    ['--from', options.from],
    ['--to', options.to],
  ] as const) {
    if (Number.isNaN(Date.parse(value))) {
      throw new ValidationError(`${flag}: '${value}' is not a time; use ISO 8601, like 2026-01-01T00:00:00Z`);
    }
  }
  return { from: new Date(options.from).toISOString(), to: new Date(options.to).toISOString() };
}

/** Evidence packs (from the server), their offline check (local, no server), reports and test runs. */
export function registerComplianceEvidence(compliance: Command): void {
  compliance
    .command('tests')
    .description("Run the automated control tests over a period: each one's result and exceptions")
    .requiredOption('--from <time>', 'start of the period (ISO 8601)')
    .requiredOption('--to <time>', 'end of the period (ISO 8601)')
    .action(async (options: { from: string; to: string }, command: Command) => {
      const ctx = contextFor(command);
      const run = await ctx.api().get<{
        results: {
          test: string;
          status: string;
          population: unknown[];
          exceptions: Record<string, unknown>[];
        }[];
      }>(`${BASE}/tests${query(period(options))}`);
      ctx.out.result(run, () => {
        ctx.out.table(
          run.results.map((r) => ({
            ...r,
            population: r.population.length,
            exceptions: r.exceptions.length,
          })),
          ['test', 'status', 'population', 'exceptions'],
        );
        const exceptions = run.results.flatMap((r) => r.exceptions.map((e) => ({ test: r.test, ...e })));
        if (exceptions.length > 0) ctx.out.table(exceptions, ['test', 'subject', 'rule', 'message']);
      });
    });

  compliance
    .command('evidence')
    .description('Download the evidence pack of a period (zip; check it with verify-pack)')
    .requiredOption('--from <time>', 'start of the period (ISO 8601)')
    .requiredOption('--to <time>', 'end of the period (ISO 8601)')
    .requiredOption('--out <file>', 'where to write the zip')
    .action(async (options: { from: string; to: string; out: string }, command: Command) => {
      const ctx = contextFor(command);
      const zip = await ctx.api().bytes(`${BASE}/evidence${query(period(options))}`);
      writeFileSync(options.out, zip);
      const check = checkPack(zip);
      ctx.out.result({ file: options.out, bytes: zip.length, ok: check.ok, problems: check.problems }, () =>
        ctx.out.line(`wrote ${options.out} (${zip.length} bytes, ${check.files} files)`),
      );
      if (!check.ok) {
        process.stderr.write(
          `gatehouse: the pack was written but does not verify:\n${describe(check.problems)}`,
        );
        process.exitCode = 1;
      }
    });

  compliance
    .command('verify-pack <zip>')
    .description(
      'Check an evidence pack offline: every file against the signed manifest, and the audit-chain proof',
    )
    .option(
      '--public-key <pem>',
      'the audit public key you trust (from gatehouse audit or the security office)',
    )
    .action((file: string, options: { publicKey?: string }, command: Command) => {
      const ctx = contextFor(command);
      const check = checkPack(readFileSync(file), {
        ...(options.publicKey ? { expectedPublicKeyPem: readFileSync(options.publicKey, 'utf8') } : {}),
      });
      ctx.out.result(check, () => {
        if (check.ok) {
          ctx.out.line(
            `ok: ${check.files} files match the signed manifest; chain proof holds over ${check.proof.events ?? 0} events to checkpoint ${check.proof.checkpointSeq ?? 0}`,
          );
        }
      });
      // like `audit verify`: exit 1 when the pack does not verify, naming each file and what is wrong
      if (!check.ok) {
        process.stderr.write(`gatehouse: ${file} does not verify:\n${describe(check.problems)}`);
        process.exitCode = 1;
      }
    });

  compliance
    .command('report')
    .description('Coverage, open gaps by area and component, stories, failing controls')
    .requiredOption('--from <time>', 'start of the period (ISO 8601)')
    .requiredOption('--to <time>', 'end of the period (ISO 8601)')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['markdown', 'html', 'json'])
        .default('markdown'),
    )
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(
      async (options: { from: string; to: string; format: string; output?: string }, command: Command) => {
        const ctx = contextFor(command);
        const path = `${BASE}/report${query({ ...period(options), format: options.format })}`;
        const body =
          options.format === 'json'
            ? `${JSON.stringify(await ctx.api().get(path), null, 2)}\n`
            : await ctx.api().text(path);
        if (options.output) {
          writeFileSync(options.output, body);
          ctx.out.note(`wrote the report to ${options.output}`);
        } else process.stdout.write(body);
      },
    );
}

import { readFileSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parse } from 'yaml';
import { ValidationError } from '../../platform/errors.js';
import { contextFor } from '../context.js';
import { registerComplianceEvidence } from './compliance-evidence.js';

const BASE = '/api/v1/compliance';
const lists = ['areas', 'gaps', 'stories', 'controls'] as const;
const columns: Record<(typeof lists)[number], string[]> = {
  areas: ['key', 'title'],
  gaps: ['key', 'criterion', 'component', 'area', 'status', 'title'],
  stories: ['key', 'priority', 'state', 'estimate', 'gaps', 'title'],
  controls: ['key', 'mode', 'frequency', 'owner', 'criteria', 'title'],
};

/** A body from a YAML or JSON file (JSON is YAML). */
function bodyFrom(file: string): unknown {
  try {
    return parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new ValidationError(`${file}: ${(error as Error).message}`);
  }
}

const itemPath = (list: string, key: string) => `${BASE}/${list}/${encodeURIComponent(key)}`;

export function registerCompliance(program: Command): void {
  const compliance = program
    .command('compliance')
    .description('SOC 2 workbench: criteria × components, gaps, stories, controls, threat models, evidence')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse compliance export -o matrix.yaml        # keep the matrix in git
  gatehouse compliance import matrix.yaml           # make the server's matrix equal to the file
  gatehouse compliance cell CC6.1 infrastructure --status met --notes "JIT access only"
  gatehouse compliance gaps put no-dr-test --file gap.yaml
  gatehouse compliance evidence --from 2026-01-01T00:00:00Z --to 2026-04-01T00:00:00Z --out pack.zip
  gatehouse compliance verify-pack pack.zip
  gatehouse compliance report --from 2026-01-01T00:00:00Z --to 2026-04-01T00:00:00Z --format markdown`,
    );

  compliance
    .command('catalog')
    .description('List the criteria of the catalog')
    .action(async (_o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const catalog = await ctx.api().get<{ criteria: Record<string, unknown>[] }>(`${BASE}/catalog`);
      ctx.out.result(catalog, () => ctx.out.table(catalog.criteria, ['id', 'category', 'title']));
    });

  compliance
    .command('export')
    .description('Write the matrix as YAML (cells left out are applicable and not assessed)')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (options: { output?: string }, command: Command) => {
      const ctx = contextFor(command);
      const yaml = await ctx.api().text(`${BASE}/matrix/export`);
      if (options.output) {
        writeFileSync(options.output, yaml);
        ctx.out.note(`wrote the matrix to ${options.output}`);
      } else process.stdout.write(yaml);
    });

  compliance
    .command('import <file>')
    .description('Make the matrix equal to a YAML file; a file with problems changes nothing')
    .action(async (file: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const result = await ctx
        .api()
        .post<{ changed: boolean; counts: Record<string, number> }>(`${BASE}/matrix/import`, {
          yaml: readFileSync(file, 'utf8'),
        });
      ctx.out.result(result, () =>
        ctx.out.line(
          `${result.changed ? 'imported' : 'unchanged'}: ${Object.entries(result.counts)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ')}`,
        ),
      );
    });

  compliance
    .command('cell <criterion> <component>')
    .description('Show a criterion × component cell, or assess it with the options')
    .addOption(
      new Option('--status <status>', 'assessment').choices([
        'not-assessed',
        'met',
        'partially-met',
        'not-met',
      ]),
    )
    .option('--applicable', 'the criterion applies to this component')
    .option('--not-applicable', 'the criterion does not apply to this component')
    .option('--notes <text>', 'assessment notes')
    .action(
      async (
        criterion: string,
        component: string,
        options: { status?: string; applicable?: boolean; notApplicable?: boolean; notes?: string },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const path = `${BASE}/cells/${encodeURIComponent(criterion)}/${encodeURIComponent(component)}`;
        let cell = await ctx.api().get<Record<string, unknown>>(path);
        if (options.status ?? options.applicable ?? options.notApplicable ?? options.notes) {
          cell = await ctx.api().put<Record<string, unknown>>(path, {
            applicable: options.notApplicable ? false : options.applicable ? true : cell.applicable,
            status: options.status ?? cell.status,
            notes: options.notes ?? cell.notes,
          });
        }
        ctx.out.result(cell, () =>
          ctx.out.table([cell], ['criterion', 'component', 'applicable', 'status', 'notes']),
        );
      },
    );

  for (const list of lists) {
    const group = compliance.command(list).description(`The matrix's ${list}`);
    group
      .command('list')
      .description(`List the ${list}`)
      .action(async (_o: unknown, command: Command) => {
        const ctx = contextFor(command);
        const items = await ctx.api().get<Record<string, unknown>[]>(`${BASE}/${list}`);
        ctx.out.result(items, () => ctx.out.table(items, columns[list]));
      });
    group.command('show <key>').action(async (key: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const item = await ctx.api().get<Record<string, unknown>>(itemPath(list, key));
      ctx.out.result(item, () => ctx.out.table([item], Object.keys(item)));
    });
    group
      .command('put <key>')
      .description('Create or replace one from a YAML or JSON file (the fields of the API body)')
      .requiredOption('--file <file>', 'the body, YAML or JSON')
      .action(async (key: string, options: { file: string }, command: Command) => {
        const ctx = contextFor(command);
        const item = await ctx
          .api()
          .put<Record<string, unknown>>(itemPath(list, key), bodyFrom(options.file));
        ctx.out.result(item, () => ctx.out.line(`saved ${list} ${key}`));
      });
    group.command('delete <key>').action(async (key: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      await ctx.api().delete(itemPath(list, key));
      ctx.out.note(`deleted ${list} ${key}`);
    });
  }

  const models = compliance.command('threat-models').description('Threat models of features and designs');
  models.command('list').action(async (_o: unknown, command: Command) => {
    const ctx = contextFor(command);
    const items = await ctx.api().get<Record<string, unknown>[]>(`${BASE}/threat-models`);
    ctx.out.result(items, () => ctx.out.table(items, ['key', 'status', 'approvedBy', 'title']));
  });
  models.command('show <key>').action(async (key: string, _o: unknown, command: Command) => {
    const ctx = contextFor(command);
    ctx.out.result(await ctx.api().get(itemPath('threat-models', key)));
  });
  models
    .command('put <key>')
    .description('Create or replace a threat model from a YAML file ({title, model}); it becomes a draft')
    .requiredOption('--file <file>', 'the body, YAML or JSON')
    .action(async (key: string, options: { file: string }, command: Command) => {
      const ctx = contextFor(command);
      ctx.out.result(await ctx.api().put(itemPath('threat-models', key), bodyFrom(options.file)));
    });
  models
    .command('approve <key>')
    .description('Approve a threat model (refused while a high threat has no mitigation)')
    .action(async (key: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      ctx.out.result(await ctx.api().post(`${itemPath('threat-models', key)}/approve`, {}));
    });

  registerComplianceEvidence(compliance);
}

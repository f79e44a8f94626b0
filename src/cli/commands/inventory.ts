import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ValidationError } from '../../platform/errors.js';
import { query } from '../api-client.js';
import { contextFor, type CliContext } from '../context.js';

interface Collection {
  /** CLI name and API path segment. */
  name: string;
  description: string;
  columns: string[];
  /** Filters the list route accepts, besides limit/cursor/q. */
  filters: string[];
  /** Nested under a customer (environments). */
  perCustomer?: boolean;
}

const collections: Collection[] = [
  { name: 'regions', description: 'Regions', columns: ['name', 'displayName'], filters: [] },
  { name: 'customers', description: 'Customers', columns: ['name', 'displayName'], filters: [] },
  {
    name: 'environments',
    description: "A customer's environments (production, staging …)",
    columns: ['customer', 'name', 'tier', 'region'],
    filters: ['tier', 'region'],
    perCustomer: true,
  },
  { name: 'machine-types', description: 'Machine types', columns: ['name', 'description'], filters: [] },
  {
    name: 'asset-groups',
    description: 'Asset groups',
    columns: ['name', 'description', 'memberCount'],
    filters: [],
  },
  {
    name: 'assets',
    description: 'Servers and databases',
    columns: ['name', 'kind', 'customer', 'environment', 'region', 'os', 'address', 'engine', 'host', 'port'],
    filters: ['customer', 'environment', 'region', 'kind', 'engine', 'machine-type', 'group', 'label'],
  },
  {
    name: 'jumpboxes',
    description: 'Jumpboxes and their source CIDRs',
    columns: ['name', 'region', 'address', 'sourceCidrs'],
    filters: ['region'],
  },
];

const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `key=value` pairs into an object: dotted keys nest, values that parse as JSON are taken as such. */
export function parseAssignments(pairs: string[]): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ValidationError(`--set takes key=value, got '${pair}'`);
    const keys = pair.slice(0, at).split('.');
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    let node = body;
    for (const key of keys.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]!] = value;
  }
  return body;
}

function bodyFrom(options: { set?: string[]; file?: string }): Record<string, unknown> {
  const fromFile = options.file
    ? (JSON.parse(readFileSync(options.file, 'utf8')) as Record<string, unknown>)
    : {};
  return { ...fromFile, ...parseAssignments(options.set ?? []) };
}

function basePath(collection: Collection, customer: string | undefined): string {
  if (!collection.perCustomer) return `/api/v1/${collection.name}`;
  if (!customer) throw new ValidationError(`${collection.name} belong to a customer: pass --customer <name>`);
  return `/api/v1/customers/${encodeURIComponent(customer)}/${collection.name}`;
}

function registerCollection(parent: Command, collection: Collection): void {
  const group = parent.command(collection.name).description(collection.description);
  const withCustomer = (command: Command) =>
    collection.perCustomer
      ? command.requiredOption('--customer <name>', 'the customer they belong to')
      : command;
  const call = (command: Command): CliContext => contextFor(command);

  const list = withCustomer(group.command('list').description(`List ${collection.name}`))
    .option('--q <text>', 'only names containing this')
    .option('--limit <n>', 'per page (1-500)', '50')
    .option('--cursor <cursor>', 'nextCursor from the previous page');
  for (const filter of collection.filters) list.option(`--${filter} <value>`, `only with this ${filter}`);
  list.action(async (options: Record<string, string | undefined>, command: Command) => {
    const ctx = call(command);
    const { customer, ...params } = options;
    const filters = Object.fromEntries(Object.entries(params).map(([k, v]) => [camel(k), v]));
    const page = await ctx
      .api()
      .get<{ items: Record<string, unknown>[]; nextCursor: string | null }>(
        `${basePath(collection, customer)}${query(filters)}`,
      );
    ctx.out.page(page, collection.columns);
  });

  withCustomer(group.command('show <ref>').description('Show one, by name or id')).action(
    async (ref: string, options: { customer?: string }, command: Command) => {
      const ctx = call(command);
      ctx.out.result(
        await ctx.api().get(`${basePath(collection, options.customer)}/${encodeURIComponent(ref)}`),
      );
    },
  );

  withCustomer(
    group.command('create').description('Create one from --set key=value pairs and/or --file body.json'),
  )
    .option(
      '--set <key=value>',
      'a field (repeatable; dotted keys nest: adminCredential.username=postgres)',
      collect,
    )
    .option('--file <json>', 'a JSON body, as in the API docs')
    .action(async (options: { customer?: string; set?: string[]; file?: string }, command: Command) => {
      const ctx = call(command);
      const created = await ctx
        .api()
        .post<{ name?: string }>(basePath(collection, options.customer), bodyFrom(options));
      ctx.out.result(created, () =>
        ctx.out.line(`Created ${collection.name.replace(/e?s$/, '')} ${created.name ?? ''}.`),
      );
    });

  withCustomer(group.command('update <ref>').description('Change the given fields'))
    .option('--set <key=value>', 'a field to change (repeatable)', collect)
    .option('--file <json>', 'a JSON body with the fields to change')
    .action(
      async (
        ref: string,
        options: { customer?: string; set?: string[]; file?: string },
        command: Command,
      ) => {
        const ctx = call(command);
        const updated = await ctx
          .api()
          .patch(`${basePath(collection, options.customer)}/${encodeURIComponent(ref)}`, bodyFrom(options));
        ctx.out.result(updated, () => ctx.out.line(`Updated ${ref}.`));
      },
    );

  withCustomer(
    group.command('delete <ref>').description('Delete one (refused while something refers to it)'),
  ).action(async (ref: string, options: { customer?: string }, command: Command) => {
    const ctx = call(command);
    await ctx.api().delete(`${basePath(collection, options.customer)}/${encodeURIComponent(ref)}`);
    ctx.out.result({ deleted: ref }, () => ctx.out.line(`Deleted ${ref}.`));
  });
}

export function registerInventory(program: Command): void {
  const inventory = program
    .command('inventory')
    .description('Customers, environments, regions, assets, machine types, asset groups, jumpboxes')
    .addHelpText(
      'after',
      `
Examples:
  gatehouse inventory customers create --set name=acme --set displayName="Acme Corp"
  gatehouse inventory environments create --customer acme --set name=production --set tier=production --set region=eu-west-1
  gatehouse inventory assets create --set name=acme-db-1 --set kind=database --set customer=acme \\
      --set environment=production --set region=eu-west-1 --set engine=postgres --set host=10.0.0.5 --set port=5432 \\
      --set adminCredential.username=gatehouse --set adminCredential.password="$PW"
  gatehouse inventory assets list --customer acme --kind database
  gatehouse inventory import fleet.json --dry-run`,
    );
  for (const collection of collections) registerCollection(inventory, collection);

  inventory
    .command('import <file>')
    .description('Import a JSON document or a CSV file: every row or none (see docs/inventory-import.md)')
    .option(
      '--entity <entity>',
      'what a CSV file (or a JSON list) holds: regions, customers, environments, machineTypes, assetGroups, assets, jumpboxes',
    )
    .option('--dry-run', 'check every row, change nothing')
    .option('--upsert', 'update existing names instead of refusing them')
    .action(
      async (
        file: string,
        options: { entity?: string; dryRun?: boolean; upsert?: boolean },
        command: Command,
      ) => {
        const ctx = contextFor(command);
        const format = path.extname(file).toLowerCase() === '.csv' ? 'csv' : 'json';
        const result = await ctx.api().post<{
          rows: number;
          created: Record<string, number>;
          updated: Record<string, number>;
          unchanged: Record<string, number>;
        }>('/api/v1/inventory/import', {
          format,
          content: readFileSync(file, 'utf8'),
          ...(options.entity ? { entity: options.entity } : {}),
          dryRun: Boolean(options.dryRun),
          mode: options.upsert ? 'upsert' : 'create',
        });
        ctx.out.result(result, () => {
          ctx.out.line(
            `${options.dryRun ? 'Dry run: all' : 'Imported'} ${result.rows} rows${options.dryRun ? ' are valid' : ''}.`,
          );
          ctx.out.table(
            Object.keys(result.created).map((entity) => ({
              entity,
              created: result.created[entity],
              updated: result.updated[entity],
              unchanged: result.unchanged[entity],
            })),
            ['entity', 'created', 'updated', 'unchanged'],
          );
        });
      },
    );
}

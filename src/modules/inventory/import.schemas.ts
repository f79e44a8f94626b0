import { z } from 'zod';
import { importEntities, MAX_IMPORT_ROWS } from './domain/import-source.js';

/**
 * The bulk import contract (docs/inventory-import.md). Rows are typed loosely here on purpose: each
 * one is checked by the import itself, which reports every bad row with its number instead of
 * stopping at the first problem.
 */

const rows = (like: string) =>
  z.array(z.unknown()).max(MAX_IMPORT_ROWS).optional().describe(`Rows shaped like the body of ${like}`);

export const importBody = z
  .object({
    format: z.enum(['json', 'csv']).optional().describe('How content is written'),
    entity: z
      .enum(importEntities)
      .optional()
      .describe('What content holds: required for CSV; for JSON, makes content a list of this entity'),
    content: z
      .string()
      .max(16 * 1024 * 1024)
      .optional()
      .describe('A JSON document or a CSV file, as text'),
    regions: rows('POST /api/v1/regions'),
    customers: rows('POST /api/v1/customers'),
    environments: rows('POST /api/v1/customers/{customer}/environments, plus customer'),
    machineTypes: rows('POST /api/v1/machine-types'),
    assetGroups: rows('POST /api/v1/asset-groups'),
    assets: rows('POST /api/v1/assets'),
    jumpboxes: rows('POST /api/v1/jumpboxes'),
    mode: z
      .enum(['create', 'upsert'])
      .default('create')
      .describe(
        'create: every name must be new. upsert: rows for existing names update the fields they give',
      ),
    dryRun: z.boolean().default(false).describe('Check everything, change nothing'),
  })
  .strict();

export type ImportRequest = z.infer<typeof importBody>;

const counts = z.object(
  Object.fromEntries(importEntities.map((e) => [e, z.number().int()])) as Record<
    (typeof importEntities)[number],
    z.ZodNumber
  >,
);
export type ImportCounts = z.infer<typeof counts>;

export const importResponse = z.object({
  importId: z
    .string()
    .nullable()
    .describe(
      "Target id of the inventory.imported audit event and details.importId of each object's event; null on a dry run",
    ),
  dryRun: z.boolean(),
  mode: z.enum(['create', 'upsert']),
  rows: z.number().int(),
  created: counts,
  updated: counts,
  unchanged: counts,
});

export type ImportResult = z.infer<typeof importResponse>;

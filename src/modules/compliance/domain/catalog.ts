import { z } from 'zod';
import { describeProblems, parseYamlDocument } from './yaml-document.js';

/**
 * The Trust Services Criteria catalog as data (compliance/catalog/*.yaml): criteria by id with short
 * titles in our own words, the five system components and the default areas of concern.
 */

export const componentIds = ['infrastructure', 'software', 'people', 'procedures', 'data'] as const;
export type ComponentId = (typeof componentIds)[number];

export const criterionCategories = [
  'common',
  'availability',
  'confidentiality',
  'processing-integrity',
  'privacy',
] as const;

/** A criterion id: CC1.1 … CC9.2, A1.x, C1.x, PI1.x, P1.x … P8.x. */
export const CRITERION_ID = /^(CC[1-9]|A1|C1|PI1|P[1-8])\.[1-9]$/;
/** Keys of areas, gaps, stories, controls and threat models: lower-case words with hyphens. */
export const ENTRY_KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const ENTRY_KEY_HINT = 'lower-case letters, digits and hyphens, at most 63, like access-review-01';

const title = z.string().trim().min(1).max(160);

export const catalogSchema = z
  .object({
    catalog: z.string().regex(/^[a-z0-9-]{1,40}$/),
    version: z.number().int().min(1),
    components: z.array(z.object({ id: z.enum(componentIds), title }).strict()),
    areas: z.array(z.object({ id: z.string().regex(ENTRY_KEY, ENTRY_KEY_HINT), title }).strict()),
    criteria: z.array(
      z
        .object({
          id: z.string().regex(CRITERION_ID, 'a criterion id like CC6.1 or PI1.3'),
          category: z.enum(criterionCategories),
          title,
        })
        .strict(),
    ),
  })
  .strict();

export type Catalog = z.infer<typeof catalogSchema>;
export type Criterion = Catalog['criteria'][number];

function duplicates(ids: readonly string[]): { index: number; id: string }[] {
  const seen = new Set<string>();
  return ids.flatMap((id, index) => (seen.has(id) ? [{ index, id }] : (seen.add(id), [])));
}

/** Parses a catalog file; every id must be unique and every component present. */
export function parseCatalog(text: string): Catalog {
  const result = parseYamlDocument(text, catalogSchema, (catalog) => [
    ...(['criteria', 'areas', 'components'] as const).flatMap((list) =>
      duplicates(catalog[list].map((entry) => entry.id)).map(({ index, id }) => ({
        path: [list, index, 'id'],
        message: `'${id}' is listed twice`,
      })),
    ),
    ...componentIds
      .filter((id) => !catalog.components.some((c) => c.id === id))
      .map((id) => ({ path: ['components'], message: `component '${id}' is missing` })),
  ]);
  if (!result.ok) throw new Error(`The criteria catalog is invalid:\n${describeProblems(result.problems)}`);
  return result.value;
}

/** `tsc-2017@1`: the catalog and version a matrix was assessed against. */
export const catalogRef = (catalog: Pick<Catalog, 'catalog' | 'version'>): string =>
  `${catalog.catalog}@${catalog.version}`;

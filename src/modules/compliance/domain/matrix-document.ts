import { stringify } from 'yaml';
import { z } from 'zod';
import { catalogRef, type Catalog } from './catalog.js';
import {
  areaSchema,
  cellSchema,
  controlSchema,
  gapSchema,
  matrixProblems,
  normaliseMatrix,
  storySchema,
  type Matrix,
} from './matrix.js';
import { parseYamlDocument, type DocumentResult } from './yaml-document.js';

/**
 * The matrix as a YAML document a security office keeps in git: `gatehouse compliance export` writes
 * it, `import` makes the stored matrix equal to it. Missing lists are empty; cells left out are
 * applicable and not assessed.
 */
export const MATRIX_FORMAT = 'gatehouse.compliance.matrix.v1';

export const matrixDocumentSchema = z
  .object({
    format: z.literal(MATRIX_FORMAT),
    catalog: z.string().max(60),
    areas: z.array(areaSchema).default([]),
    cells: z.array(cellSchema).default([]),
    gaps: z.array(gapSchema).default([]),
    stories: z.array(storySchema).default([]),
    controls: z.array(controlSchema).default([]),
  })
  .strict();

export function matrixToYaml(matrix: Matrix, catalog: Catalog): string {
  const normal = normaliseMatrix(matrix, catalog);
  return stringify(
    { format: MATRIX_FORMAT, catalog: catalogRef(catalog), ...normal },
    { lineWidth: 0, aliasDuplicateObjects: false },
  );
}

/** Parses and checks a matrix document against the catalog; problems carry line numbers. */
export function matrixFromYaml(text: string, catalog: Catalog): DocumentResult<Matrix> {
  return parseYamlDocument(
    text,
    matrixDocumentSchema,
    (doc) => [
      ...(doc.catalog === catalogRef(catalog)
        ? []
        : [
            {
              path: ['catalog'],
              message: `this matrix was assessed against ${doc.catalog}; this server has ${catalogRef(catalog)}`,
            },
          ]),
      ...matrixProblems(doc, catalog),
    ],
    (doc) => normaliseMatrix(doc, catalog),
  );
}

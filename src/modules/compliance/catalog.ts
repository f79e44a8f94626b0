import { readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../platform/paths.js';
import { parseCatalog, type Catalog } from './domain/catalog.js';

export const CATALOG_FILE = path.join(packageRoot, 'compliance', 'catalog', 'tsc-2017.yaml');

/** Reads the shipped criteria catalog (compliance/catalog/tsc-2017.yaml). */
export function loadCatalog(file = CATALOG_FILE): Catalog {
  return parseCatalog(readFileSync(file, 'utf8'));
}

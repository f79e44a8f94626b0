import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { packageRoot } from '../../../src/platform/paths.js';
import { removeStaleRuns } from './stale.js';

declare module 'vitest' {
  export interface ProvidedContext {
    e2eWebDir: string;
  }
}

/**
 * Once per e2e run: removes what crashed runs left on the PostgreSQL server, and builds the
 * back-office from the current web/ sources into a folder of this run's own (not web/dist, which a
 * running demo or another engineer's run may be serving), removed afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await removeStaleRuns();
  const outDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-e2e-web-'));
  await build({
    configFile: path.join(packageRoot, 'web', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  project.provide('e2eWebDir', outDir);
  return async () => rmSync(outDir, { recursive: true, force: true });
}

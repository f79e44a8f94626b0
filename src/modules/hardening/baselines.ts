import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { NotFoundError } from '../../platform/errors.js';
import { packageRoot } from '../../platform/paths.js';
import { parseBaseline, type Baseline } from './domain/baseline-schema.js';

/** The folder of versioned baseline files shipped with Gatehouse. */
export const baselinesDir = path.join(packageRoot, 'baselines');

/** Every baseline in a folder (`*.yaml`), parsed; a broken file stops the start with its problem. */
export function loadBaselines(dir = baselinesDir): Map<string, Baseline> {
  const baselines = new Map<string, Baseline>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const baseline = parseBaseline(readFileSync(path.join(dir, file), 'utf8'), file);
    baselines.set(baseline.id, baseline);
  }
  return baselines;
}

export interface BaselineCatalog {
  list(): Baseline[];
  get(id: string): Baseline;
}

export function baselineCatalog(baselines: Map<string, Baseline>): BaselineCatalog {
  return {
    list: () => [...baselines.values()],
    get: (id) => {
      const baseline = baselines.get(id);
      if (!baseline) throw new NotFoundError('Baseline', id);
      return baseline;
    },
  };
}

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../platform/errors.js';
import { parseSystemRuleFile, SystemRuleFileError, type SystemRuleSet } from './domain/system-rules.js';

/** Reads every `*.yaml` in the system rules folder; a broken file stops the start with its problems. */
export function loadSystemRules(folder: string): SystemRuleSet[] {
  let files: string[];
  try {
    files = readdirSync(folder).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
  } catch (error) {
    throw new ConfigError(`network.systemRulesDir: cannot read ${folder}: ${(error as Error).message}`);
  }
  const sets = files.sort().map((file) => {
    try {
      return parseSystemRuleFile(file, readFileSync(path.join(folder, file), 'utf8'));
    } catch (error) {
      if (error instanceof SystemRuleFileError) throw new ConfigError(`System rules ${error.message}`);
      throw error;
    }
  });
  const seen = new Map<string, string>();
  for (const [i, set] of sets.entries()) {
    const other = seen.get(set.machineType);
    if (other)
      throw new ConfigError(
        `System rules: machine type ${set.machineType} is in both ${other} and ${files[i]}`,
      );
    seen.set(set.machineType, files[i] ?? '');
  }
  return sets;
}

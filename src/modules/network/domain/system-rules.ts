import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { slug, text } from '../../../platform/validation.js';
import { parsePorts, parseSource, protocols, type Rule } from './rule.js';

/**
 * System rules: one YAML file per machine type in `rules/system/`, reviewed like code. This module
 * parses the text; reading the folder is the service's business.
 */
const portsField = z.union([z.number().int(), z.string().max(11)]);

const systemRuleEntry = z
  .object({
    id: slug,
    protocol: z.enum(protocols),
    ports: portsField.optional(),
    source: z.string().max(120),
    description: text(200).min(1, 'say why this opening exists'),
    ticket: text(60).optional(),
  })
  .strict();

export const systemRuleFile = z
  .object({
    machineType: slug,
    version: z.number().int().min(1),
    owner: text(80).min(1).default('platform'),
    /** ports that may be open to the whole internet on this machine type */
    publicPorts: z.array(z.number().int().min(1).max(65535)).default([]),
    rules: z.array(systemRuleEntry).max(500),
  })
  .strict();

export interface SystemRuleSet {
  machineType: string;
  version: number;
  publicPorts: number[];
  rules: Rule[];
}

export class SystemRuleFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.join('; ')}`);
  }
}

/** Parses one system rule file; every problem is named with its place in the file. */
export function parseSystemRuleFile(file: string, content: string): SystemRuleSet {
  let raw: unknown;
  try {
    raw = parseYaml(content);
  } catch (error) {
    throw new SystemRuleFileError(file, [`not valid YAML: ${(error as Error).message}`]);
  }
  const parsed = systemRuleFile.safeParse(raw);
  if (!parsed.success) {
    throw new SystemRuleFileError(
      file,
      parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`),
    );
  }
  const doc = parsed.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  const rules: Rule[] = [];
  doc.rules.forEach((entry, index) => {
    const where = `rules.${index} (${entry.id})`;
    if (seen.has(entry.id)) problems.push(`${where}: id is used twice`);
    seen.add(entry.id);
    const source = parseSource(entry.source);
    if ('error' in source) problems.push(`${where}: ${source.error}`);
    const ports = entry.ports === undefined ? null : parsePorts(entry.ports);
    if (entry.protocol === 'icmp' && entry.ports !== undefined) problems.push(`${where}: icmp has no ports`);
    if (entry.protocol !== 'icmp' && !ports) {
      problems.push(`${where}: ${entry.protocol} needs ports, like 443 or 8000-8100 (1-65535)`);
    }
    if ('error' in source || (entry.protocol !== 'icmp' && !ports)) return;
    rules.push({
      id: `system:${doc.machineType}:${entry.id}`,
      kind: 'system',
      scope: { type: 'machine-type', name: doc.machineType },
      protocol: entry.protocol,
      ports: entry.protocol === 'icmp' ? null : (ports ?? null),
      source,
      description: entry.description,
      owner: doc.owner,
      ticket: entry.ticket ?? null,
      customer: null,
      environment: null,
    });
  });
  if (problems.length > 0) throw new SystemRuleFileError(file, problems);
  return { machineType: doc.machineType, version: doc.version, publicPorts: doc.publicPorts, rules };
}

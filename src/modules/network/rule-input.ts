import { NotFoundError } from '../../platform/errors.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import type { RuleField } from './domain/checks.js';
import {
  parsePorts,
  parseSource,
  type PortRange,
  type Protocol,
  type Rule,
  type Scope,
} from './domain/rule.js';
import { groupExists, type Fleet } from './fleet.js';

/**
 * Reading a customer rule as a person typed it (a form, the CLI) into the rule model. Every problem
 * names the field it is about, so a form can show it next to that field; nothing stops at the first.
 */
export type FormField = RuleField | 'customer' | 'environment' | 'description' | 'owner' | 'ticket';

export interface InputProblem {
  field: FormField;
  message: string;
}

export interface RuleDraft {
  scope: Scope;
  protocol: Protocol;
  ports?: string | number | undefined;
  source: string;
}

export type ParsedDraft = Pick<Rule, 'scope' | 'protocol' | 'ports' | 'source'>;

export async function readRuleDraft(
  draft: RuleDraft,
  where: { customer: string; environment: string; fleet: Fleet },
  inventory: Pick<InventoryService, 'getMachineType'>,
): Promise<{ value: ParsedDraft; problems: [] } | { value: undefined; problems: InputProblem[] }> {
  const problems: InputProblem[] = [];
  const { fleet } = where;

  const source = parseSource(draft.source);
  if ('error' in source) {
    problems.push({ field: 'source', message: source.error });
  } else if (source.type === 'group' && !groupExists(fleet, source.group)) {
    problems.push({
      field: 'source',
      message: `no dynamic group '${source.group}': use jumpboxes, an asset group, or customer:<customer>:<asset group>`,
    });
  }

  let ports: PortRange | null = null;
  if (draft.protocol === 'icmp') {
    if (draft.ports !== undefined)
      problems.push({ field: 'ports', message: 'icmp has no ports; leave them out' });
  } else {
    const parsed = draft.ports === undefined ? undefined : parsePorts(draft.ports);
    if (parsed) ports = parsed;
    else
      problems.push({
        field: 'ports',
        message: `${draft.protocol} needs a port or range within 1-65535, like 443 or 8000-8100`,
      });
  }

  const { scope } = draft;
  if (scope.type === 'machine-type') {
    const known = await inventory.getMachineType(scope.name).then(
      () => true,
      (error: unknown) => {
        if (error instanceof NotFoundError) return false;
        throw error;
      },
    );
    if (!known) problems.push({ field: 'scope', message: `there is no machine type named '${scope.name}'` });
  } else if (scope.type === 'asset-group' && !fleet.assetGroups.has(scope.name)) {
    problems.push({ field: 'scope', message: `there is no asset group named '${scope.name}'` });
  } else if (scope.type === 'asset' && !fleet.assets.some((a) => a.name === scope.name)) {
    problems.push({
      field: 'scope',
      message: `${where.customer}/${where.environment} has no asset named '${scope.name}'`,
    });
  }

  if (problems.length > 0 || 'error' in source) return { value: undefined, problems };
  return { value: { scope, protocol: draft.protocol, ports, source }, problems: [] };
}

/** One line for an error message: `source: …; ports: …`. */
export function describeProblems(problems: readonly InputProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}

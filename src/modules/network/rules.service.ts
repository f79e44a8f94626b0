import type { Clock, Ids } from '../../platform/clock.js';
import type { Store } from '../../platform/db/store.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import { checkRule, checkRuleSet, type CheckPolicy, type Finding } from './domain/checks.js';
import {
  describeRule,
  formatPorts,
  formatSource,
  parsePorts,
  parseSource,
  type Rule,
} from './domain/rule.js';
import type { SystemRuleSet } from './domain/system-rules.js';
import { groupExists, loadFleet, type Fleet, type FleetInventory } from './fleet.js';
import type { CreateRuleInput, RuleListQuery, RuleView } from './network.schemas.js';
import { ruleStore, type StoredRule } from './rule.store.js';

/**
 * Customer rules (through the API, checked and audited) and system rules (from the repository's
 * files, checked and reported). A customer rule with any finding is refused with the check's id.
 */
export interface RulesServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  inventory: FleetInventory & Pick<InventoryService, 'getEnvironment' | 'getMachineType'>;
  systemRules: readonly SystemRuleSet[];
  checkPolicy: CheckPolicy;
}

export function toRuleView(rule: Rule): RuleView {
  return {
    id: rule.id,
    kind: rule.kind,
    scope: rule.scope,
    protocol: rule.protocol,
    ports: rule.ports ? formatPorts(rule.ports) : null,
    source: formatSource(rule.source),
    description: rule.description,
    owner: rule.owner,
    ticket: rule.ticket,
    customer: rule.customer,
    environment: rule.environment,
  };
}

export function createRulesService(deps: RulesServiceDeps) {
  const { db } = deps.store;
  const systemRules = deps.systemRules.flatMap((set) => set.rules);
  const publicByType = new Map(deps.systemRules.map((set) => [set.machineType, set.publicPorts]));

  /** Ports public on every machine type the rule reaches (none known: only the policy's own). */
  function publicPortsFor(rule: Rule, fleet?: Fleet): number[] {
    if (rule.scope.type === 'machine-type') return publicByType.get(rule.scope.name) ?? [];
    const types = new Set(
      (fleet?.assets ?? [])
        .filter((a) =>
          rule.scope.type === 'asset' ? a.name === rule.scope.name : a.groups.includes(rule.scope.name),
        )
        .map((a) => a.machineType ?? ''),
    );
    if (types.size === 0) return [];
    const lists = [...types].map((t) => publicByType.get(t) ?? []);
    return (lists[0] ?? []).filter((p) => lists.every((l) => l.includes(p)));
  }

  async function parseInput(input: CreateRuleInput, fleet: Fleet): Promise<Omit<Rule, 'id'>> {
    const source = parseSource(input.source);
    if ('error' in source)
      throw new ValidationError(`source: ${source.error}`, { details: { field: 'source' } });
    if (source.type === 'group' && !groupExists(fleet, source.group)) {
      throw new ValidationError(
        `source: no dynamic group '${source.group}': use jumpboxes, an asset group, or customer:<customer>:<asset group>`,
        { details: { field: 'source' } },
      );
    }
    let ports = null;
    if (input.protocol === 'icmp') {
      if (input.ports !== undefined)
        throw new ValidationError('ports: icmp has no ports; leave them out', {
          details: { field: 'ports' },
        });
    } else {
      ports = input.ports === undefined ? undefined : parsePorts(input.ports);
      if (!ports) {
        throw new ValidationError(
          `ports: ${input.protocol} needs a port or range within 1-65535, like 443 or 8000-8100`,
          {
            details: { field: 'ports' },
          },
        );
      }
    }
    const { scope } = input;
    if (scope.type === 'machine-type') {
      await deps.inventory.getMachineType(scope.name).catch((error: unknown) => {
        if (error instanceof NotFoundError)
          throw new ValidationError(`scope: there is no machine type named '${scope.name}'`, {
            details: { field: 'scope' },
          });
        throw error;
      });
    } else if (scope.type === 'asset-group' && !fleet.assetGroups.has(scope.name)) {
      throw new ValidationError(`scope: there is no asset group named '${scope.name}'`, {
        details: { field: 'scope' },
      });
    } else if (scope.type === 'asset' && !fleet.assets.some((a) => a.name === scope.name)) {
      throw new ValidationError(
        `scope: ${input.customer}/${input.environment} has no asset named '${scope.name}'`,
        {
          details: { field: 'scope' },
        },
      );
    }
    return {
      kind: 'customer',
      scope,
      protocol: input.protocol,
      ports,
      source,
      description: input.description,
      owner: input.owner,
      ticket: input.ticket ?? null,
      customer: input.customer,
      environment: input.environment,
    };
  }

  return {
    systemRules: () => systemRules,

    /** Every rule in force: system rules and all customer rules. */
    allRules: async (): Promise<Rule[]> => [...systemRules, ...(await ruleStore.listRules(db))],

    checkSystemRules: (): Finding[] => checkRuleSet(systemRules, deps.checkPolicy, (r) => publicPortsFor(r)),

    listRules: async (query: RuleListQuery): Promise<{ rules: RuleView[]; findings: Finding[] }> => {
      const withSystem = query.kind !== 'customer';
      const customer =
        query.kind === 'system'
          ? []
          : await ruleStore.listRules(db, { customer: query.customer, environment: query.environment });
      const rules: Rule[] = [...(withSystem ? systemRules : []), ...customer];
      return {
        rules: rules.map(toRuleView),
        findings: checkRuleSet(rules, deps.checkPolicy, (r) => publicPortsFor(r)),
      };
    },

    getRule: async (id: string): Promise<RuleView> => {
      const rule = await ruleStore.ruleById(db, id);
      if (!rule) throw new NotFoundError('Network rule', id);
      return toRuleView(rule);
    },

    createRule: async (ctx: RequestContext, input: CreateRuleInput): Promise<RuleView> => {
      const environment = await deps.inventory
        .getEnvironment(input.customer, input.environment)
        .catch((error: unknown) => {
          if (error instanceof NotFoundError) {
            throw new ValidationError(
              `customer/environment: there is no environment ${input.customer}/${input.environment}`,
              {
                details: { field: 'environment' },
              },
            );
          }
          throw error;
        });
      const fleet = await loadFleet(deps.inventory, {
        customer: input.customer,
        environment: input.environment,
      });
      const parsed = await parseInput(input, fleet);
      return db.transaction().execute(async (tx) => {
        await ruleStore.lockEnvironment(tx, environment.id);
        const others = [
          ...systemRules,
          ...(await ruleStore.listRules(tx, { customer: input.customer, environment: input.environment })),
        ];
        const rule: StoredRule = {
          ...parsed,
          id: deps.ids.uuid(),
          customerId: environment.customerId,
          environmentId: environment.id,
          createdAt: deps.clock.now(),
        };
        const findings = checkRule(rule, {
          policy: deps.checkPolicy,
          publicPorts: publicPortsFor(rule, fleet),
          others,
        });
        if (findings.length > 0) {
          throw new ValidationError(
            `Refused by ${findings.map((f) => `check ${f.check}: ${f.message}`).join('; ')}`,
            { details: { check: findings[0]?.check, findings } },
          );
        }
        await ruleStore.insertRule(tx, rule);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'network.rule.created',
          target: { type: 'network-rule', id: rule.id },
          ticket: rule.ticket ?? undefined,
          details: { rule: toRuleView(rule), summary: describeRule(rule) },
        });
        return toRuleView(rule);
      });
    },

    deleteRule: async (ctx: RequestContext, id: string, ticket?: string): Promise<void> => {
      await db.transaction().execute(async (tx) => {
        const rule = await ruleStore.ruleById(tx, id);
        if (!rule) throw new NotFoundError('Network rule', id);
        await ruleStore.deleteRule(tx, id);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'network.rule.deleted',
          target: { type: 'network-rule', id },
          ticket: ticket ?? rule.ticket ?? undefined,
          details: { rule: toRuleView(rule), summary: describeRule(rule) },
        });
      });
    },
  };
}

export type RulesService = ReturnType<typeof createRulesService>;

import type { Clock, Ids } from '../../platform/clock.js';
import type { Executor, Store } from '../../platform/db/store.js';
import { ConflictError, NotFoundError, ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import { checkRule, checkRuleSet, type CheckPolicy, type Finding } from './domain/checks.js';
import { describeRule, formatPorts, formatSource, type Rule } from './domain/rule.js';
import type { SystemRuleSet } from './domain/system-rules.js';
import { loadFleet, type Fleet, type FleetInventory } from './fleet.js';
import type {
  CheckRuleInput,
  CheckRuleView,
  CreateRuleInput,
  RuleListQuery,
  RuleView,
  UpdateRuleInput,
} from './network.schemas.js';
import { describeProblems, readRuleDraft, type InputProblem, type RuleDraft } from './rule-input.js';
import { ruleStore, type StoredRule } from './rule.store.js';

/**
 * Customer rules (through the API, checked and audited) and system rules (from the repository's
 * files, checked and reported). A customer rule with any finding is refused with the check's id.
 * Edits name the version they were made from, so two editors never overwrite each other unseen.
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

export function toRuleView(rule: Rule & { version?: number; updatedAt?: Date }): RuleView {
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
    version: rule.version ?? null,
    updatedAt: rule.updatedAt ?? null,
  };
}

const editable = ['scope', 'protocol', 'ports', 'source', 'description', 'owner', 'ticket'] as const;

/** The fields an edit changed, by the values a person reads. */
function changedFields(before: RuleView, after: RuleView): string[] {
  return editable.filter((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f]));
}

function refusal(problems: readonly InputProblem[]): ValidationError {
  return new ValidationError(describeProblems(problems), {
    details: { field: problems[0]?.field, problems },
  });
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

  async function environmentOf(customer: string, environment: string) {
    return deps.inventory.getEnvironment(customer, environment).catch((error: unknown) => {
      if (error instanceof NotFoundError) {
        throw refusal([
          { field: 'environment', message: `there is no environment ${customer}/${environment}` },
        ]);
      }
      throw error;
    });
  }

  /** The fleet of an environment and the draft read against it; input problems refuse it. */
  async function readOrRefuse(customer: string, environment: string, draft: RuleDraft) {
    const fleet = await loadFleet(deps.inventory, { customer, environment });
    const read = await readRuleDraft(draft, { customer, environment, fleet }, deps.inventory);
    if (!read.value) throw refusal(read.problems);
    return { fleet, parsed: read.value };
  }

  /** The security checks of a rule against the system rules and its environment's other rules. */
  async function findingsFor(executor: Executor, rule: Rule, fleet: Fleet): Promise<Finding[]> {
    const others = [
      ...systemRules,
      ...(await ruleStore.listRules(executor, { customer: rule.customer!, environment: rule.environment! })),
    ];
    return checkRule(rule, { policy: deps.checkPolicy, publicPorts: publicPortsFor(rule, fleet), others });
  }

  function refuseFindings(findings: readonly Finding[]): void {
    if (findings.length === 0) return;
    throw new ValidationError(
      `Refused by ${findings.map((f) => `check ${f.check}: ${f.message}`).join('; ')}`,
      { details: { check: findings[0]?.check, field: findings[0]?.field, findings } },
    );
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
      const environment = await environmentOf(input.customer, input.environment);
      const { fleet, parsed } = await readOrRefuse(input.customer, input.environment, input);
      return db.transaction().execute(async (tx) => {
        await ruleStore.lockEnvironment(tx, environment.id);
        const at = deps.clock.now();
        const rule: StoredRule = {
          ...parsed,
          kind: 'customer',
          description: input.description,
          owner: input.owner,
          ticket: input.ticket,
          customer: input.customer,
          environment: input.environment,
          id: deps.ids.uuid(),
          customerId: environment.customerId,
          environmentId: environment.id,
          createdAt: at,
          updatedAt: at,
          version: 1,
        };
        refuseFindings(await findingsFor(tx, rule, fleet));
        await ruleStore.insertRule(tx, rule);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'network.rule.created',
          target: { type: 'network-rule', id: rule.id },
          ticket: input.ticket,
          details: { rule: toRuleView(rule), summary: describeRule(rule) },
        });
        return toRuleView(rule);
      });
    },

    /**
     * An edit of a customer rule, made from the version the editor read: the same reading and checks
     * as a new rule, against the environment's other rules; audited with the rule before and after.
     */
    updateRule: async (ctx: RequestContext, id: string, input: UpdateRuleInput): Promise<RuleView> => {
      const current = await ruleStore.ruleById(db, id);
      if (!current) throw new NotFoundError('Network rule', id);
      const protocol = input.protocol ?? current.protocol;
      const keptPorts = protocol === 'icmp' || !current.ports ? undefined : formatPorts(current.ports);
      const draft: RuleDraft = {
        scope: input.scope ?? current.scope,
        protocol,
        ports: input.ports === undefined ? keptPorts : (input.ports ?? undefined),
        source: input.source ?? formatSource(current.source),
      };
      const where = { customer: current.customer!, environment: current.environment! };
      const { fleet, parsed } = await readOrRefuse(where.customer, where.environment, draft);
      return db.transaction().execute(async (tx) => {
        await ruleStore.lockEnvironment(tx, current.environmentId);
        const before = await ruleStore.ruleById(tx, id);
        if (!before) throw new NotFoundError('Network rule', id);
        if (before.version !== input.version) {
          throw new ConflictError(
            `Rule ${id} has changed since version ${input.version} (it is at version ${before.version}): reload it, then make the edit again`,
            { details: { current: toRuleView(before) } },
          );
        }
        const rule: StoredRule = {
          ...before,
          ...parsed,
          description: input.description ?? before.description,
          owner: input.owner ?? before.owner,
          ticket: input.ticket,
          version: before.version + 1,
          updatedAt: deps.clock.now(),
        };
        const [was, now] = [toRuleView(before), toRuleView(rule)];
        const changes = changedFields(was, now);
        if (changes.length === 0) return was;
        refuseFindings(await findingsFor(tx, rule, fleet));
        if (!(await ruleStore.updateRule(tx, rule, before.version))) {
          throw new ConflictError(`Rule ${id} changed while it was being edited: reload it and try again`);
        }
        await deps.audit.append(tx, {
          ...ctx,
          action: 'network.rule.updated',
          target: { type: 'network-rule', id },
          ticket: input.ticket,
          details: {
            rule: now,
            before: was,
            changes,
            summary: describeRule(rule),
            summaryBefore: describeRule(before),
          },
        });
        return now;
      });
    },

    /**
     * Everything that would refuse a rule, without saving it: input that cannot be read and the
     * security checks' findings, each naming the form field it is about. With `rule`, the draft is
     * checked as that rule's replacement.
     */
    checkDraft: async (input: CheckRuleInput): Promise<CheckRuleView> => {
      const problems: CheckRuleView['findings'] = [];
      const known = await deps.inventory.getEnvironment(input.customer, input.environment).then(
        () => true,
        (error: unknown) => {
          if (error instanceof NotFoundError) return false;
          throw error;
        },
      );
      if (!known) {
        const message = `there is no environment ${input.customer}/${input.environment}`;
        return { ok: false, findings: [{ check: 'input', field: 'environment', message }] };
      }
      const fleet = await loadFleet(deps.inventory, {
        customer: input.customer,
        environment: input.environment,
      });
      const read = await readRuleDraft(input, { ...input, fleet }, deps.inventory);
      if (!read.value) {
        problems.push(...read.problems.map((p) => ({ check: 'input' as const, ...p })));
        return { ok: false, findings: problems };
      }
      const draft: Rule = {
        ...read.value,
        id: input.rule ?? 'draft',
        kind: 'customer',
        description: input.description ?? '',
        owner: input.owner ?? '',
        ticket: input.ticket ?? null,
        customer: input.customer,
        environment: input.environment,
      };
      const findings = await findingsFor(db, draft, fleet);
      problems.push(...findings.map((f) => ({ check: f.check, field: f.field, message: f.message })));
      return { ok: problems.length === 0, findings: problems };
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

import type { Executor } from '../../platform/db/store.js';
import { parseSource, type Rule } from './domain/rule.js';

/** SQL for customer rules. Every method takes the executor (a transaction or the pool) it runs in. */
export interface StoredRule extends Rule {
  customerId: string;
  environmentId: string;
  createdAt: Date;
  updatedAt: Date;
  /** 1 when created; each edit adds one */
  version: number;
}

function selectRules(db: Executor) {
  return db
    .selectFrom('network_rules as r')
    .innerJoin('customers as c', 'c.id', 'r.customer_id')
    .innerJoin('environments as e', 'e.id', 'r.environment_id')
    .select([
      'r.id',
      'r.customer_id',
      'r.environment_id',
      'c.name as customer_name',
      'e.name as environment_name',
      'r.scope_type',
      'r.scope_name',
      'r.protocol',
      'r.port_from',
      'r.port_to',
      'r.source',
      'r.description',
      'r.owner',
      'r.ticket',
      'r.created_at',
      'r.updated_at',
      'r.version',
    ]);
}

type RuleRow = Awaited<ReturnType<ReturnType<typeof selectRules>['executeTakeFirstOrThrow']>>;

function toRule(row: RuleRow): StoredRule {
  const source = parseSource(row.source);
  return {
    id: row.id,
    kind: 'customer',
    scope: { type: row.scope_type, name: row.scope_name },
    protocol: row.protocol,
    ports: row.port_from === null || row.port_to === null ? null : { from: row.port_from, to: row.port_to },
    // stored sources were parsed on the way in; a row that no longer parses opens nothing
    source: 'error' in source ? { type: 'group', group: 'invalid-source' } : source,
    description: row.description,
    owner: row.owner,
    ticket: row.ticket,
    customer: row.customer_name,
    environment: row.environment_name,
    customerId: row.customer_id,
    environmentId: row.environment_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

/** The columns an edit may change (with its version and time): what an insert and an update both write. */
function editableColumns(rule: StoredRule) {
  return {
    scope_type: rule.scope.type,
    scope_name: rule.scope.name,
    protocol: rule.protocol,
    port_from: rule.ports?.from ?? null,
    port_to: rule.ports?.to ?? null,
    source: rule.source.type === 'cidr' ? rule.source.cidr : rule.source.group,
    description: rule.description,
    owner: rule.owner,
    ticket: rule.ticket,
    version: rule.version,
    updated_at: rule.updatedAt,
  };
}

export const ruleStore = {
  insertRule: async (db: Executor, rule: StoredRule): Promise<void> => {
    await db
      .insertInto('network_rules')
      .values({
        id: rule.id,
        customer_id: rule.customerId,
        environment_id: rule.environmentId,
        ...editableColumns(rule),
        created_at: rule.createdAt,
      })
      .execute();
  },

  /** Writes an edit made from `fromVersion`; false when the rule has moved on (or is gone). */
  updateRule: async (db: Executor, rule: StoredRule, fromVersion: number): Promise<boolean> => {
    const result = await db
      .updateTable('network_rules')
      .set(editableColumns(rule))
      .where('id', '=', rule.id)
      .where('version', '=', fromVersion)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  ruleById: async (db: Executor, id: string): Promise<StoredRule | undefined> => {
    const row = await selectRules(db).where('r.id', '=', id).executeTakeFirst();
    return row ? toRule(row) : undefined;
  },

  listRules: async (
    db: Executor,
    filters: { customer?: string | undefined; environment?: string | undefined } = {},
  ): Promise<StoredRule[]> => {
    let query = selectRules(db);
    if (filters.customer) query = query.where('c.name', '=', filters.customer);
    if (filters.environment) query = query.where('e.name', '=', filters.environment);
    return (await query.orderBy('c.name').orderBy('e.name').orderBy('r.id').execute()).map(toRule);
  },

  /** Locks the environment's rules so two concurrent adds are checked against each other. */
  lockEnvironment: async (db: Executor, environmentId: string): Promise<void> => {
    await db.selectFrom('environments').select('id').where('id', '=', environmentId).forUpdate().execute();
  },

  deleteRule: async (db: Executor, id: string): Promise<void> => {
    await db.deleteFrom('network_rules').where('id', '=', id).execute();
  },
};

import { z } from 'zod';
import { api, withQuery } from './client';

/**
 * Customer network rules as the back-office reads them: /api/v1/network/* (rules, checks, plan,
 * rollouts) and the inventory look-ups the rule form offers as choices.
 */

export const scopeTypes = ['asset-group', 'machine-type', 'asset'] as const;
export type ScopeType = (typeof scopeTypes)[number];
export const protocols = ['tcp', 'udp', 'icmp'] as const;
export type Protocol = (typeof protocols)[number];
export const layers = ['cloud', 'host'] as const;
export type Layer = (typeof layers)[number];

export const rule = z.object({
  id: z.string(),
  kind: z.enum(['system', 'customer']),
  scope: z.object({ type: z.enum(scopeTypes), name: z.string() }),
  protocol: z.enum(protocols),
  ports: z.string().nullable(),
  source: z.string(),
  description: z.string(),
  owner: z.string(),
  ticket: z.string().nullable(),
  customer: z.string().nullable(),
  environment: z.string().nullable(),
  version: z.number().nullable(),
  updatedAt: z.string().nullable(),
});
export type Rule = z.infer<typeof rule>;

const ruleList = z.object({
  rules: z.array(rule),
  findings: z.array(
    z.object({ check: z.string(), rule: z.string(), field: z.string(), message: z.string() }),
  ),
});

/** The form's fields: where a check's message is shown. `rule` is the rule as a whole. */
export type FormField =
  | 'scope'
  | 'protocol'
  | 'ports'
  | 'source'
  | 'rule'
  | 'customer'
  | 'environment'
  | 'description'
  | 'owner'
  | 'ticket';

export const checkFinding = z.object({ check: z.string(), field: z.string(), message: z.string() });
export type CheckFinding = z.infer<typeof checkFinding>;
const checkAnswer = z.object({ ok: z.boolean(), findings: z.array(checkFinding) });
export type CheckAnswer = z.infer<typeof checkAnswer>;

const planItem = z.object({
  action: z.enum(['add', 'remove', 'keep']),
  what: z.string(),
  rules: z.array(z.string()),
});
export type PlanItem = z.infer<typeof planItem>;

export const layerPlan = z.object({
  asset: z.string(),
  layer: z.enum(layers),
  target: z.string(),
  inSync: z.boolean(),
  adds: z.array(planItem),
  removals: z.array(planItem),
  unknown: z.array(z.string()),
  blockers: z.array(z.string()),
  error: z.string().nullable(),
});
export type LayerPlan = z.infer<typeof layerPlan>;

export const plan = z.object({
  assets: z.number(),
  layers: z.array(layerPlan),
  brake: z.object({
    stopped: z.boolean(),
    removals: z.number(),
    opens: z.number(),
    observed: z.number(),
    reasons: z.array(z.string()),
  }),
});
export type Plan = z.infer<typeof plan>;

export const targetStates = ['pending', 'queued', 'succeeded', 'failed'] as const;
export const rollout = z.object({
  id: z.string(),
  state: z.enum(['running', 'stopped', 'completed']),
  waves: z.number(),
  currentWave: z.number(),
  stopReason: z.string().nullable(),
  createdBy: z.string(),
  counts: z.object({ pending: z.number(), queued: z.number(), succeeded: z.number(), failed: z.number() }),
  targets: z.array(
    z.object({
      asset: z.string(),
      layer: z.enum(layers),
      wave: z.number(),
      state: z.enum(targetStates),
      attempts: z.number(),
      error: z.string().nullable(),
    }),
  ),
});
export type Rollout = z.infer<typeof rollout>;

const named = z.object({ name: z.string(), displayName: z.string().optional() });
const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
const environment = z.object({ name: z.string(), tier: z.string(), region: z.string() });
export type Environment = z.infer<typeof environment>;

/** What a customer rule is made of, as the form sends it. */
export interface RuleDraft {
  scope: { type: ScopeType; name: string };
  protocol: Protocol;
  ports?: string;
  source: string;
  description: string;
  owner: string;
  ticket: string;
}

export interface Where {
  customer: string;
  environment: string;
}

const many = (items: readonly { name: string }[]) => items.map((i) => i.name).sort();

export const networkApi = {
  customers: async (signal?: AbortSignal) =>
    (await api.get('/api/v1/customers?limit=500', page(named), signal)).items,
  environments: async (customer: string, signal?: AbortSignal) =>
    (
      await api.get(
        `/api/v1/customers/${encodeURIComponent(customer)}/environments?limit=500`,
        page(environment),
        signal,
      )
    ).items,
  /** The names a rule's scope may take in this environment, by scope type. */
  scopeChoices: async (where: Where, signal?: AbortSignal): Promise<Record<ScopeType, string[]>> => {
    const [groups, types, assets] = await Promise.all([
      api.get('/api/v1/asset-groups?limit=500', page(named), signal),
      api.get('/api/v1/machine-types?limit=500', page(named), signal),
      api.get(withQuery('/api/v1/assets', { ...where, limit: 500 }), page(named), signal),
    ]);
    return {
      'asset-group': many(groups.items),
      'machine-type': many(types.items),
      asset: many(assets.items),
    };
  },

  rules: (where: Where, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/network/rules', { kind: 'customer', ...where }), ruleList, signal),
  create: (where: Where, draft: RuleDraft) =>
    api.post('/api/v1/network/rules', { ...where, ...body(draft) }, rule),
  /** An edit made from `version`: every field is sent, so what the form shows is what is saved. */
  update: (id: string, version: number, draft: RuleDraft) => {
    const sent = body(draft);
    return api.patch(`/api/v1/network/rules/${id}`, { version, ...sent, ports: sent.ports ?? null }, rule);
  },
  remove: (id: string, ticket: string) => api.delete(withQuery(`/api/v1/network/rules/${id}`, { ticket })),
  /** The checks on a draft, without saving it; `editing` is the rule the draft would replace. */
  check: (where: Where, draft: RuleDraft, editing?: string) =>
    api.post(
      '/api/v1/network/checks',
      { ...where, ...body(draft), ...(editing ? { rule: editing } : {}) },
      checkAnswer,
    ),

  plan: (where: Where, signal?: AbortSignal) =>
    api.get(withQuery('/api/v1/network/plan', { ...where }), plan, signal),
  apply: (where: Where, confirm: boolean) =>
    api.post('/api/v1/network/rollouts', { ...where, confirm }, rollout),
  rollout: (id: string, signal?: AbortSignal) => api.get(`/api/v1/network/rollouts/${id}`, rollout, signal),
};

/** A draft as the API wants it: empty optional fields left out, a port number as a number. */
function body(draft: RuleDraft): Record<string, unknown> {
  const ports = draft.ports?.trim();
  return {
    scope: draft.scope,
    protocol: draft.protocol,
    ...(draft.protocol !== 'icmp' && ports ? { ports: /^\d+$/.test(ports) ? Number(ports) : ports } : {}),
    source: draft.source.trim(),
    ...(draft.description.trim() ? { description: draft.description.trim() } : {}),
    ...(draft.owner.trim() ? { owner: draft.owner.trim() } : {}),
    ...(draft.ticket.trim() ? { ticket: draft.ticket.trim() } : {}),
  };
}

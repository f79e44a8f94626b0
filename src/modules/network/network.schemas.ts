import { z } from 'zod';
import { slug, text } from '../../platform/validation.js';
import { checkIds, ruleFields as checkedFields } from './domain/checks.js';
import { protocols, ruleKinds, scopeTypes } from './domain/rule.js';

/** The network API's contract: request bodies and queries, and the answers. */
export const scopeBody = z.object({ type: z.enum(scopeTypes), name: slug }).strict();

const ruleFields = {
  scope: scopeBody,
  protocol: z.enum(protocols),
  ports: z
    .union([z.number().int(), z.string().max(11)])
    .optional()
    .describe('a port (443) or a range ("8000-8100"); absent for icmp'),
  source: text(120)
    .min(1)
    .describe(
      'a CIDR (192.0.2.0/24, 2001:db8::/48) or a group (jumpboxes, app-tier, customer:acme:frontends)',
    ),
  description: text(200).min(1, 'say why this opening exists'),
  owner: text(80).min(1),
};

export const createRuleBody = z
  .object({
    customer: slug,
    environment: slug,
    ...ruleFields,
    ticket: text(60)
      .min(1, 'name the ticket that asked for this rule')
      .describe('the ticket that asked for this rule: required, as for an edit'),
  })
  .strict();
export type CreateRuleInput = z.infer<typeof createRuleBody>;

export const updateRuleBody = z
  .object({
    version: z
      .number()
      .int()
      .min(1)
      .describe('the version the edit was made from: 409 when the rule has changed since'),
    ticket: text(60).min(1).describe('the change ticket of this edit (it becomes the rule’s ticket)'),
    scope: ruleFields.scope.optional(),
    protocol: ruleFields.protocol.optional(),
    ports: z
      .union([z.number().int(), z.string().max(11), z.null()])
      .optional()
      .describe('a port or a range; null clears it (icmp)'),
    source: ruleFields.source.optional(),
    description: ruleFields.description.optional(),
    owner: ruleFields.owner.optional(),
  })
  .strict();
export type UpdateRuleInput = z.infer<typeof updateRuleBody>;

export const checkRuleBody = z
  .object({
    customer: slug,
    environment: slug,
    ...ruleFields,
    description: ruleFields.description.optional(),
    owner: ruleFields.owner.optional(),
    ticket: text(60).optional(),
    rule: z
      .uuid('must be a UUID')
      .optional()
      .describe('the rule being edited: it is checked as replaced by this one, not as its duplicate'),
  })
  .strict();
export type CheckRuleInput = z.infer<typeof checkRuleBody>;

export const deleteRuleQuery = z.object({ ticket: text(60).min(1).optional() }).strict();

export const ruleListQuery = z
  .object({
    kind: z.enum(ruleKinds).optional(),
    customer: slug.optional(),
    environment: slug.optional(),
  })
  .strict();
export type RuleListQuery = z.infer<typeof ruleListQuery>;

export const findingResponse = z.object({
  check: z.enum(checkIds),
  rule: z.string(),
  field: z.enum(checkedFields).describe('the field the message is about; rule: the rule as a whole'),
  message: z.string(),
});

export const formFields = [
  ...checkedFields,
  'customer',
  'environment',
  'description',
  'owner',
  'ticket',
] as const;

export const checkRuleResponse = z.object({
  ok: z.boolean().describe('true when the rule would be accepted'),
  findings: z.array(
    z.object({
      check: z.enum([...checkIds, 'input']).describe('a security check, or input that cannot be read'),
      field: z.enum(formFields).describe('the form field to show the message next to'),
      message: z.string(),
    }),
  ),
});
export type CheckRuleView = z.infer<typeof checkRuleResponse>;

export const ruleResponse = z.object({
  id: z.string(),
  kind: z.enum(ruleKinds),
  scope: z.object({ type: z.enum(scopeTypes), name: z.string() }),
  protocol: z.enum(protocols),
  ports: z.string().nullable(),
  source: z.string(),
  description: z.string(),
  owner: z.string(),
  ticket: z.string().nullable(),
  customer: z.string().nullable(),
  environment: z.string().nullable(),
  version: z.number().int().nullable().describe('customer rules: send it back with an edit'),
  updatedAt: z.date().nullable(),
});
export type RuleView = z.infer<typeof ruleResponse>;

export const ruleListResponse = z.object({
  rules: z.array(ruleResponse),
  findings: z
    .array(findingResponse)
    .describe('check findings on the listed rules (system rules are reported, not refused)'),
});

export const idParams = z.object({ id: z.uuid('must be a UUID') }).strict();

export const fleetQuery = z
  .object({
    customer: slug.optional(),
    environment: slug.optional(),
    asset: slug.optional(),
  })
  .strict();
export type FleetQuery = z.infer<typeof fleetQuery>;

export const planQuery = fleetQuery
  .extend({ layer: z.enum(['cloud', 'host']).optional().describe('only this layer') })
  .strict();
export type PlanQuery = z.infer<typeof planQuery>;

const planItem = z.object({
  action: z.enum(['add', 'remove', 'keep']),
  what: z.string(),
  rules: z.array(z.string()),
});

export const layerPlanResponse = z.object({
  asset: z.string(),
  layer: z.enum(['cloud', 'host']),
  target: z.string(),
  inSync: z.boolean(),
  adds: z.array(planItem),
  removals: z.array(planItem),
  unknown: z.array(z.string()),
  blockers: z.array(z.string()),
  error: z.string().nullable().describe('the layer could not be read'),
});
export type LayerPlanView = z.infer<typeof layerPlanResponse>;

export const brakeResponse = z.object({
  stopped: z.boolean(),
  removals: z.number().int(),
  opens: z.number().int(),
  observed: z.number().int(),
  reasons: z.array(z.string()),
});

export const planResponse = z.object({
  assets: z.number().int(),
  layers: z.array(layerPlanResponse),
  brake: brakeResponse,
});
export type PlanView = z.infer<typeof planResponse>;

export const createRolloutBody = z
  .object({
    customer: slug.optional(),
    environment: slug.optional(),
    asset: slug.optional(),
    waves: z.number().int().min(1).max(20).optional().describe('waves after the canary wave'),
    canary: z.number().int().min(1).max(1000).optional().describe('assets in the first wave'),
    failureThreshold: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('share of failed targets that stops the rollout'),
    confirm: z.boolean().default(false).describe('go past the brake'),
  })
  .strict();
export type CreateRolloutInput = z.infer<typeof createRolloutBody>;

const targetResponse = z.object({
  asset: z.string(),
  layer: z.enum(['cloud', 'host']),
  wave: z.number().int(),
  state: z.enum(['pending', 'queued', 'succeeded', 'failed']),
  attempts: z.number().int(),
  error: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
});

export const rolloutResponse = z.object({
  id: z.string(),
  state: z.enum(['running', 'stopped', 'completed']),
  waves: z.number().int(),
  currentWave: z.number().int(),
  failureThreshold: z.number(),
  stopReason: z.string().nullable(),
  createdBy: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
  counts: z.object({
    pending: z.number().int(),
    queued: z.number().int(),
    succeeded: z.number().int(),
    failed: z.number().int(),
  }),
  targets: z.array(targetResponse),
});
export type RolloutView = z.infer<typeof rolloutResponse>;

export const importResponse = z.object({
  layers: z.array(
    z.object({
      asset: z.string(),
      layer: z.enum(['cloud', 'host']),
      target: z.string(),
      error: z.string().nullable(),
      entries: z.array(
        z.object({
          what: z.string(),
          class: z.enum(['system', 'customer', 'unknown']),
          rules: z.array(z.string()),
          action: z.enum(['keep', 'remove']),
        }),
      ),
      adds: z.array(z.string()).describe('what the first authoritative apply would add'),
    }),
  ),
  summary: z.object({
    system: z.number().int(),
    customer: z.number().int(),
    unknown: z.number().int(),
    adds: z.number().int(),
  }),
});
export type ImportView = z.infer<typeof importResponse>;

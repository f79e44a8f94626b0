import { z } from 'zod';
import { groupName } from '../../identity/identity.schemas.js';
import { assetKinds, engines, name, tiers } from '../../inventory/inventory.schemas.js';
import { text } from '../../../platform/validation.js';
import { durationSchema, formatDuration } from './duration.js';
import { permissionLevels } from './types.js';

/**
 * Access policies as data: the zod schema a policy file or API body is parsed with. Durations are
 * written as text (`4h`) and parsed to milliseconds. Every object is strict, so a misspelt key is an
 * error rather than a silently missing restriction. See docs/access-policies.md.
 */

export const permissionLevel = z.enum(permissionLevels);

const nonEmpty = <T extends z.ZodType>(item: T, what: string) =>
  z
    .array(item)
    .min(1, `list at least one ${what}, or leave the key out to match any`)
    .max(100, `at most 100 ${what}s`);

/**
 * Which assets a policy covers. Keys combine with AND, values within a key with OR; an absent key does
 * not constrain. An empty object covers every asset.
 */
export const assetSelectorSchema = z
  .object({
    names: nonEmpty(name, 'asset name').optional().describe('Exact asset names'),
    assetGroups: nonEmpty(name, 'asset group').optional(),
    customers: nonEmpty(name, 'customer').optional(),
    tiers: nonEmpty(z.enum(tiers), 'environment tier').optional(),
    engines: nonEmpty(z.enum(engines), 'engine').optional().describe('Databases only'),
    kinds: nonEmpty(z.enum(assetKinds), 'asset kind').optional(),
  })
  .strict()
  .refine((s) => !(s.engines && s.kinds && !s.kinds.includes('database')), {
    message: 'engines select databases only: add database to kinds or drop engines',
    path: ['engines'],
  });

export const approvalsSchema = z
  .object({
    quorum: z
      .number()
      .int()
      .min(1)
      .max(10)
      .optional()
      .describe('Distinct approvers needed; defaults to the number of required groups, at least 1'),
    approverGroups: z.array(groupName).max(20).default([]).describe('Members of any of these may approve'),
    requiredGroups: z
      .array(groupName)
      .max(5)
      .default([])
      .describe('Each needs its own approver: [dba, security] means one from dba AND one from security'),
    reviewWindow: durationSchema.prefault('24h').describe('An unreviewed request expires after this'),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.approverGroups.length + a.requiredGroups.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'name approverGroups or requiredGroups: who may approve?' });
    }
    if (new Set(a.requiredGroups).size !== a.requiredGroups.length) {
      ctx.addIssue({ code: 'custom', path: ['requiredGroups'], message: 'list each required group once' });
    }
    if (a.quorum !== undefined && a.quorum < a.requiredGroups.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['quorum'],
        message: `quorum ${a.quorum} is less than the ${a.requiredGroups.length} required groups, each of which needs its own approver; raise it or leave it out`,
      });
    }
  })
  .transform((a) => ({ ...a, quorum: a.quorum ?? Math.max(1, a.requiredGroups.length) }));

export const clockStartSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('at-approval') }).strict(),
  z
    .object({
      mode: z.literal('at-first-reveal'),
      claimWindow: durationSchema.describe('Revoked unrevealed after this long from approval'),
    })
    .strict(),
]);

export const autoApprovalRuleSchema = z
  .object({
    levels: z.array(permissionLevel).min(1),
    tiers: nonEmpty(z.enum(tiers), 'environment tier')
      .optional()
      .describe('Default: every tier the policy covers'),
    maxDuration: durationSchema,
    requireTicket: z.boolean().default(true).describe('An open ticket assigned to the requester'),
    fileTransfer: z.boolean().default(false).describe('Whether a request with file transfer qualifies'),
  })
  .strict();

/** Self-approved emergency access. It always alerts and always needs a review afterwards: not optional. */
export const breakGlassSchema = z.discriminatedUnion('allowed', [
  z.object({ allowed: z.literal(false) }).strict(),
  z
    .object({
      allowed: z.literal(true),
      maxDuration: durationSchema,
      levels: z.array(permissionLevel).min(1).optional().describe("Default: the policy's levels"),
      requireTicket: z.boolean().default(false).describe('Emergencies often come before their ticket'),
    })
    .strict(),
]);

export const policySchema = z
  .object({
    name,
    description: text(500).optional(),
    requesterGroups: z.array(groupName).min(1, 'name the operator groups this policy is for').max(50),
    levels: z.array(permissionLevel).min(1, 'list the permission levels that may be requested'),
    assets: assetSelectorSchema,
    maxDuration: durationSchema,
    ticket: z.enum(['required', 'optional']).default('required'),
    approvals: approvalsSchema,
    clockStart: clockStartSchema.default({ mode: 'at-approval' }),
    autoApprove: z.array(autoApprovalRuleSchema).max(10).default([]),
    breakGlass: breakGlassSchema.default({ allowed: false }),
    fileTransfer: z.boolean().default(false),
    onTicketClose: z
      .enum(['revoke', 'keep'])
      .default('revoke')
      .describe("What closing a grant's ticket does to it: revoke it (default) or let it run out"),
  })
  .strict()
  .superRefine((p, ctx) => {
    const max = formatDuration(p.maxDuration);
    p.autoApprove.forEach((rule, i) => {
      const extra = rule.levels.filter((l) => !p.levels.includes(l));
      if (extra.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['autoApprove', i, 'levels'],
          message: `${extra.join(', ')} is not among the policy's levels (${p.levels.join(', ')})`,
        });
      }
      if (rule.maxDuration > p.maxDuration) {
        ctx.addIssue({
          code: 'custom',
          path: ['autoApprove', i, 'maxDuration'],
          message: `must not exceed the policy's maxDuration of ${max}`,
        });
      }
      if (rule.tiers && p.assets.tiers && !rule.tiers.some((t) => p.assets.tiers?.includes(t))) {
        ctx.addIssue({
          code: 'custom',
          path: ['autoApprove', i, 'tiers'],
          message: 'none of these tiers is covered by the policy, so the rule can never apply',
        });
      }
    });
    if (p.breakGlass.allowed) {
      if (p.breakGlass.maxDuration > p.maxDuration) {
        ctx.addIssue({
          code: 'custom',
          path: ['breakGlass', 'maxDuration'],
          message: `must not exceed the policy's maxDuration of ${max}`,
        });
      }
      const extra = (p.breakGlass.levels ?? []).filter((l) => !p.levels.includes(l));
      if (extra.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['breakGlass', 'levels'],
          message: `${extra.join(', ')} is not among the policy's levels (${p.levels.join(', ')})`,
        });
      }
    }
  });

export const policySetSchema = z
  .object({ policies: z.array(policySchema).max(1000) })
  .strict()
  .superRefine(({ policies }, ctx) => {
    const seen = new Set<string>();
    policies.forEach((p, i) => {
      if (seen.has(p.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['policies', i, 'name'],
          message: `policy '${p.name}' is defined twice`,
        });
      }
      seen.add(p.name);
    });
  });

/** A policy as written (durations as text, defaults not applied). */
export type PolicyInput = z.input<typeof policySchema>;
/** A parsed policy: durations in milliseconds, every default filled in. */
export type Policy = z.output<typeof policySchema>;
export type AssetSelector = z.output<typeof assetSelectorSchema>;
export type AutoApprovalRule = z.output<typeof autoApprovalRuleSchema>;
export type ClockStart = z.output<typeof clockStartSchema>;
export type BreakGlassRule = z.output<typeof breakGlassSchema>;

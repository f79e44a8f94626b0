import { z } from 'zod';
import { slug, text } from '../../platform/validation.js';
import { username } from '../identity/identity.schemas.js';
import { RULE_ID } from './domain/baseline-schema.js';
import { decisionStatuses, finalResults, scopeTypes } from './domain/decisions.js';
import { checkResults } from './domain/evaluate.js';

/** The hardening API contract. Inputs are strict: a field the API does not know is an error. */

export const baselineId = z.string().regex(RULE_ID, 'a baseline id like debian-12-server');
export const ruleIdParam = z.string().regex(RULE_ID, 'a rule id like sshd-root-login');

export const scopeInput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('fleet') }).strict(),
  z.object({ type: z.literal('machine-type'), name: slug }).strict(),
  z.object({ type: z.literal('customer'), name: slug }).strict(),
  z.object({ type: z.literal('asset'), name: slug }).strict(),
]);

export const recordDecisionBody = z
  .object({
    baseline: baselineId,
    ruleId: ruleIdParam,
    scope: scopeInput,
    status: z.enum(decisionStatuses),
    justification: text(2000).optional().describe('Why: required unless enforced'),
    approver: username.optional().describe('Exceptions: the operator who approved it (not the author)'),
    expiresAt: z.coerce.date().optional().describe('Exceptions: when it stops counting'),
    compensatingControl: text(2000).optional().describe('Exceptions: what mitigates the risk meanwhile'),
  })
  .strict();

export const decisionListQuery = z
  .object({
    baseline: baselineId.optional(),
    ruleId: ruleIdParam.optional(),
    scopeType: z.enum(scopeTypes).optional(),
  })
  .strict();

export const decisionParams = z.object({ id: z.string().uuid('a decision id') }).strict();

export const decisionResponse = z.object({
  id: z.string(),
  baseline: z.string(),
  ruleId: z.string(),
  scopeType: z.enum(scopeTypes),
  scopeId: z.string().nullable(),
  scopeName: z.string().nullable().describe('The machine type, customer or asset; null for the fleet'),
  status: z.enum(decisionStatuses),
  justification: z.string(),
  approver: z.string().nullable(),
  expiresAt: z.date().nullable(),
  expired: z.boolean().describe('An exception past its expiry: its rule counts as a finding again'),
  compensatingControl: z.string(),
  author: z.string(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export const decisionList = z.object({ items: z.array(decisionResponse) });

const tallyResponse = z.object({
  pass: z.number().int(),
  fail: z.number().int(),
  error: z.number().int(),
  notapplicable: z.number().int(),
  notchecked: z.number().int(),
  exception: z.number().int(),
});

const driftEntry = z.object({
  ruleId: z.string(),
  from: z.enum(finalResults).nullable(),
  to: z.enum(finalResults).nullable(),
});

export const scanResponse = z.object({
  id: z.string(),
  assetId: z.string(),
  asset: z.string(),
  baseline: z.string(),
  baselineVersion: z.string(),
  transport: z.string(),
  state: z.enum(['completed', 'failed']),
  error: z.string().nullable(),
  startedAt: z.date(),
  finishedAt: z.date(),
  counts: tallyResponse,
  score: z.number().nullable().describe('Share of passing rules among pass, fail and error, in percent'),
  drift: z.array(driftEntry).describe('Rules whose result changed since the previous scan'),
  actor: z.string(),
});

export const resultResponse = z.object({
  ruleId: z.string(),
  title: z.string(),
  cis: z.string(),
  checked: z.enum(checkResults),
  result: z.enum(finalResults),
  decision: z.enum(['enforced', 'not-applicable', 'exception', 'exception-expired']),
  decisionId: z.string().nullable(),
  observed: z.string(),
  expected: z.string(),
});

export const scanDetailResponse = scanResponse.extend({ results: z.array(resultResponse) });

export const scanBody = z
  .object({
    baseline: baselineId,
    asset: slug.optional(),
    machineType: slug.optional(),
    customer: slug.optional(),
    all: z.boolean().optional(),
    concurrency: z.number().int().min(1).max(64).optional(),
  })
  .strict()
  .refine(
    (b) =>
      [b.asset, b.machineType, b.customer, b.all || undefined].filter((v) => v !== undefined).length === 1,
    'name exactly one target: asset, machineType, customer or all',
  );

export const scanList = z.object({ items: z.array(scanResponse) });

export const scanListQuery = z
  .object({
    asset: slug.optional(),
    baseline: baselineId.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

export const scanParams = z.object({ id: z.string().uuid('a scan id') }).strict();

export const scoreQuery = z.object({ baseline: baselineId }).strict();

const scoreLine = z.object({
  name: z.string(),
  hosts: z.number().int(),
  counts: tallyResponse,
  score: z.number().nullable(),
});
export const scoreResponse = z.object({
  baseline: z.string(),
  fleet: scoreLine,
  hosts: z.array(scoreLine.extend({ scanId: z.string(), scannedAt: z.date() })),
  machineTypes: z.array(scoreLine),
  customers: z.array(scoreLine),
});

export const applyBody = z
  .object({
    baseline: baselineId,
    asset: slug,
    dryRun: z.boolean().default(true).describe('Only plan (the default); false changes the host'),
  })
  .strict();

export const plannedChange = z.object({
  ruleId: z.string(),
  title: z.string(),
  change: z.string().describe('What will be changed on the host'),
});

export const applyResponse = z.object({
  asset: z.string(),
  baseline: z.string(),
  applied: z.boolean(),
  changes: z.array(plannedChange),
  manual: z.array(plannedChange).describe('Failing enforced rules Gatehouse cannot fix by itself'),
  scan: scanResponse.nullable().describe('The scan after applying'),
});

export const baselineSummary = z.object({
  id: z.string(),
  version: z.string(),
  title: z.string(),
  benchmark: z.object({ name: z.string(), version: z.string() }),
  profile: z.string(),
  rules: z.number().int(),
});
export const baselineList = z.object({ items: z.array(baselineSummary) });

export const documentQuery = z
  .object({
    baseline: baselineId,
    machineType: slug.optional(),
    format: z.enum(['markdown', 'html']).default('markdown'),
  })
  .strict();

export type RecordDecisionInput = z.infer<typeof recordDecisionBody>;
export type Decision = z.infer<typeof decisionResponse>;
export type ScopeInput = z.infer<typeof scopeInput>;
export type Scan = z.infer<typeof scanResponse>;
export type ScanDetail = z.infer<typeof scanDetailResponse>;
export type ScanInput = z.infer<typeof scanBody>;
export type ScoreReport = z.infer<typeof scoreResponse>;
export type ApplyInput = z.infer<typeof applyBody>;
export type ApplyOutcome = z.infer<typeof applyResponse>;
export type PlannedChange = z.infer<typeof plannedChange>;

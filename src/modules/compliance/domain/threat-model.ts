import { z } from 'zod';
import { entryKey } from './matrix.js';

/**
 * A threat model per feature or design: what is worth protecting, where an attacker gets in, the
 * threats by STRIDE category, and the mitigations that answer them, each pointing at a control or a
 * story of the matrix. A design cannot be approved while a high threat has no mitigation.
 */

export const strideCategories = [
  'spoofing',
  'tampering',
  'repudiation',
  'information-disclosure',
  'denial-of-service',
  'elevation-of-privilege',
] as const;
export const threatSeverities = ['low', 'medium', 'high'] as const;

const title = z.string().trim().min(1, 'must not be blank').max(200, 'at most 200 characters');
const prose = z.string().max(4000, 'at most 4000 characters');
const localId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and hyphens');

export const mitigationSchema = z
  .object({
    description: title,
    control: entryKey.nullable().default(null).describe('The control that mitigates, by key'),
    story: entryKey.nullable().default(null).describe('The story that will mitigate, by key'),
  })
  .strict();

export const threatSchema = z
  .object({
    id: localId,
    title,
    category: z.enum(strideCategories),
    severity: z.enum(threatSeverities),
    entryPoints: z.array(localId).max(50).default([]),
    assets: z.array(localId).max(50).default([]),
    mitigations: z.array(mitigationSchema).max(50).default([]),
  })
  .strict();

export const threatModelSchema = z
  .object({
    feature: title.describe('The feature or design this models'),
    description: prose.default(''),
    assets: z
      .array(z.object({ id: localId, description: title }).strict())
      .max(100)
      .default([]),
    entryPoints: z
      .array(z.object({ id: localId, description: title }).strict())
      .max(100)
      .default([]),
    threats: z.array(threatSchema).max(200).default([]),
  })
  .strict();

export type ThreatModel = z.infer<typeof threatModelSchema>;
export type Threat = z.infer<typeof threatSchema>;

export interface ThreatModelRecord {
  key: string;
  title: string;
  model: ThreatModel;
  status: 'draft' | 'approved';
  approvedBy: string | null;
  approvedAt: Date | null;
  updatedAt: Date;
}

export interface ThreatModelProblem {
  path: (string | number)[];
  message: string;
}

/** References inside the model and to the matrix: entry points, assets, controls and stories that exist. */
export function threatModelProblems(
  model: ThreatModel,
  matrix: { controls: ReadonlySet<string>; stories: ReadonlySet<string> },
): ThreatModelProblem[] {
  const assets = new Set(model.assets.map((a) => a.id));
  const entryPoints = new Set(model.entryPoints.map((e) => e.id));
  const problems: ThreatModelProblem[] = [];
  const seen = new Set<string>();
  model.threats.forEach((threat, t) => {
    if (seen.has(threat.id))
      problems.push({ path: ['threats', t, 'id'], message: `'${threat.id}' is used twice` });
    seen.add(threat.id);
    threat.assets.forEach((id, i) => {
      if (!assets.has(id))
        problems.push({ path: ['threats', t, 'assets', i], message: `there is no asset '${id}'` });
    });
    threat.entryPoints.forEach((id, i) => {
      if (!entryPoints.has(id)) {
        problems.push({ path: ['threats', t, 'entryPoints', i], message: `there is no entry point '${id}'` });
      }
    });
    threat.mitigations.forEach((m, i) => {
      const at = ['threats', t, 'mitigations', i];
      if (m.control === null && m.story === null) {
        problems.push({
          path: at,
          message: 'a mitigation names the control or the story that carries it out',
        });
      }
      if (m.control !== null && !matrix.controls.has(m.control)) {
        problems.push({ path: [...at, 'control'], message: `there is no control '${m.control}'` });
      }
      if (m.story !== null && !matrix.stories.has(m.story)) {
        problems.push({ path: [...at, 'story'], message: `there is no story '${m.story}'` });
      }
    });
  });
  return problems;
}

/** High threats with no mitigation: while there is one, the design cannot be approved. */
export const unmitigatedHighThreats = (model: ThreatModel): Threat[] =>
  model.threats.filter((t) => t.severity === 'high' && t.mitigations.length === 0);

export type ApprovalDecision = { ok: true } | { ok: false; reason: string };

/** Whether a threat model may be approved now. */
export function canApprove(model: ThreatModel): ApprovalDecision {
  const open = unmitigatedHighThreats(model);
  if (open.length > 0) {
    return {
      ok: false,
      reason: `high threats without a mitigation: ${open.map((t) => t.id).join(', ')}; link each to a control or story first`,
    };
  }
  if (model.threats.length === 0) {
    return {
      ok: false,
      reason: 'a threat model with no threats cannot be approved; list what could go wrong',
    };
  }
  return { ok: true };
}

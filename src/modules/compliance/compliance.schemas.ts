import { z } from 'zod';
import { componentIds } from './domain/catalog.js';
import {
  areaSchema,
  assessmentStatuses,
  cellSchema,
  controlSchema,
  criterionId,
  entryKey,
  gapSchema,
  storySchema,
} from './domain/matrix.js';
import { threatModelSchema } from './domain/threat-model.js';

/** The compliance API contract. Every input object is strict: an unknown field is an error. */

export const cellParams = z.object({ criterion: criterionId, component: z.enum(componentIds) });
export const cellBody = z
  .object({
    applicable: z.boolean(),
    status: z.enum(assessmentStatuses),
    notes: z.string().max(4000).default(''),
  })
  .strict();
export const keyParams = z.object({ key: entryKey });

/** Bodies of PUT /…/:key: the entry without its key (the path names it). */
export const areaBody = areaSchema
  .omit({ key: true })
  .extend({ description: z.string().max(4000).default('') });
export const gapBody = gapSchema.omit({ key: true }).extend({
  description: z.string().max(4000).default(''),
  status: gapSchema.shape.status.default('open'),
});
export const storyBody = storySchema.omit({ key: true }).extend({
  gaps: storySchema.shape.gaps.default([]),
  estimate: storySchema.shape.estimate.default(null),
  priority: storySchema.shape.priority.default('medium'),
  state: storySchema.shape.state.default('todo'),
  ticketUrl: storySchema.shape.ticketUrl.default(null),
});
export const controlBody = controlSchema.omit({ key: true }).extend({
  description: z.string().max(4000).default(''),
  test: controlSchema.shape.test.default(null),
});

export const matrixResponse = z.object({
  catalog: z.string(),
  cells: z.array(cellSchema),
  areas: z.array(areaSchema),
  gaps: z.array(gapSchema),
  stories: z.array(storySchema),
  controls: z.array(controlSchema),
});

export const importBody = z
  .object({
    yaml: z.string().max(5_000_000).describe('The matrix document, as `compliance export` writes it'),
  })
  .strict();
export const importResponse = z.object({ changed: z.boolean(), counts: z.record(z.string(), z.number()) });

export const threatModelBody = z
  .object({ title: z.string().trim().min(1).max(200), model: threatModelSchema })
  .strict();
export const threatModelResponse = z.object({
  key: z.string(),
  title: z.string(),
  model: threatModelSchema,
  status: z.enum(['draft', 'approved']),
  approvedBy: z.string().nullable(),
  approvedAt: z.date().nullable(),
  updatedAt: z.date(),
});

/** An audit period: from and to as ISO 8601 times, from before to. */
export const periodQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).describe('Start of the period (ISO 8601)'),
    to: z.iso.datetime({ offset: true }).describe('End of the period (ISO 8601)'),
  })
  .strict()
  .refine((p) => Date.parse(p.from) < Date.parse(p.to), { message: 'from must be before to', path: ['to'] });

export const catalogResponse = z.object({
  catalog: z.string(),
  version: z.number(),
  components: z.array(z.object({ id: z.string(), title: z.string() })),
  areas: z.array(z.object({ id: z.string(), title: z.string() })),
  criteria: z.array(z.object({ id: z.string(), category: z.string(), title: z.string() })),
});

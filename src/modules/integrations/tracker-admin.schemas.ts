import { z } from 'zod';
import { refKeyProblem, SERVICENOW_PREFIXES } from './domain/tracker-routes.js';
import { httpUrl, sinkName } from './forwarding.schemas.js';

export const trackerName = sinkName.describe('1-63 lower-case letters, digits and dashes, like "jira-cloud"');

const secret = z
  .string()
  .min(1)
  .max(1000)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .describe('API token, personal access token or password (stored encrypted, never shown again)');

const username = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\s:]+$/, 'no spaces or colons');

const projectKeys = z
  .array(
    z.string().superRefine((key, ctx) => {
      const problem = refKeyProblem('jira', key);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    }),
  )
  .min(1, 'at least one project key')
  .max(100);

const prefixes = z.array(z.enum(SERVICENOW_PREFIXES)).min(1, 'INC, CHG or both');

const apiVersion = z.union([z.literal(2), z.literal(3)]);

export const createTrackerBody = z.discriminatedUnion('kind', [
  z
    .object({
      name: trackerName,
      kind: z.literal('jira'),
      baseUrl: httpUrl,
      username: username
        .optional()
        .describe('Jira Cloud: the account email (Basic); omit for a personal access token (Bearer)'),
      secret,
      refKeys: projectKeys.describe('Project keys whose issues this tracker owns, like ["OPS"]'),
      apiVersion: apiVersion.default(2),
    })
    .strict(),
  z
    .object({
      name: trackerName,
      kind: z.literal('servicenow'),
      baseUrl: httpUrl,
      username: username.describe('The integration user'),
      secret,
      refKeys: prefixes.default(['INC', 'CHG']).describe('Numbers this tracker owns: INC, CHG'),
    })
    .strict(),
]);
export type CreateTrackerInput = z.output<typeof createTrackerBody>;

/** Kind-specific fields (refKeys grammar, apiVersion on Jira only) are checked by the service. */
export const updateTrackerBody = z
  .object({
    baseUrl: httpUrl.optional(),
    username: username.nullable().optional(),
    secret: secret.optional(),
    refKeys: z.array(z.string().max(20)).min(1).max(100).optional(),
    apiVersion: apiVersion.optional(),
  })
  .strict();
export type UpdateTrackerInput = z.output<typeof updateTrackerBody>;

export const trackerParams = z.object({ name: trackerName }).strict();

export const trackerResponse = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['jira', 'servicenow']),
  baseUrl: z.string(),
  username: z.string().nullable(),
  refKeys: z.array(z.string()),
  apiVersion: z.number().nullable(),
  hasSecret: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type TrackerView = z.infer<typeof trackerResponse>;
export const trackerList = z.object({ trackers: z.array(trackerResponse) });

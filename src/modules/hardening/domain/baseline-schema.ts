import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ValidationError } from '../../../platform/errors.js';

/**
 * Baselines as code: the grammar of `baselines/*.yaml`. Every value that ends up in the scan or apply
 * script (paths, sysctl keys, package, service and module names, command arguments) is held to a strict
 * grammar here; the script generator then single-quotes it as one argument, never interpolates it.
 */

export const RULE_ID = /^[a-z0-9][a-z0-9-]{1,62}$/;
const ruleId = z.string().regex(RULE_ID, 'use 2-63 lower-case letters, digits and dashes');
const absolutePath = z
  .string()
  .max(255)
  .regex(/^\/[A-Za-z0-9._/+@-]*$/, 'an absolute path of letters, digits and ._/+@-');
const sysctlKey = z.string().regex(/^[a-z0-9_]+(\.[a-z0-9_*-]+)+$/, 'a sysctl key like net.ipv4.ip_forward');
const debianName = z.string().regex(/^[a-z0-9][a-z0-9+.-]{0,62}$/, 'a Debian package name');
const unitName = z.string().regex(/^[A-Za-z0-9@._-]{1,80}$/, 'a systemd unit name');
const moduleName = z.string().regex(/^[a-z0-9_-]{1,40}$/, 'a kernel module name');
const sshdKey = z.string().regex(/^[a-z]{2,40}$/, 'a lower-case sshd -T keyword, like permitrootlogin');
const account = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'a user or group name');
const octalMode = z.string().regex(/^0[0-7]{3}$/, 'an octal mode like 0644');
const regex = z
  .string()
  .min(1)
  .max(500)
  .refine(
    (source) => {
      try {
        new RegExp(source, 'm');
        return true;
      } catch {
        return false;
      }
    },
    { message: 'must be a valid regular expression' },
  );
const argv = z
  .array(
    z
      .string()
      .max(500)
      .refine((a) => !a.includes('\u0000'), 'must not contain NUL'),
  )
  .min(1)
  .refine((a) => /^\/[A-Za-z0-9._/-]+$/.test(a[0] ?? ''), 'the command must be an absolute path');

export const checkSchema = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('sysctl'), key: sysctlKey, value: z.string().regex(/^[0-9 -]{1,20}$/) })
    .strict(),
  z
    .object({
      type: z.literal('file-mode'),
      path: absolutePath,
      /** The most permissive mode allowed: no bit outside it may be set. */
      mode: octalMode,
      owner: account,
      group: z.array(account).min(1).describe('any of these groups'),
      whenMissing: z.enum(['pass', 'fail']).default('fail'),
    })
    .strict(),
  z
    .object({
      type: z.literal('file-content'),
      path: absolutePath,
      pattern: regex,
      expect: z.enum(['match', 'no-match']),
      whenMissing: z.enum(['pass', 'fail']).default('fail'),
    })
    .strict(),
  z
    .object({
      type: z.literal('sshd-option'),
      key: sshdKey,
      oneOf: z.array(z.string().max(200)).min(1).optional(),
      max: z.number().int().min(0).optional(),
      min: z.number().int().min(0).optional(),
      pattern: regex.optional(),
    })
    .strict()
    .refine((c) => c.oneOf ?? c.max ?? c.min ?? c.pattern, 'give oneOf, max, min or pattern'),
  z
    .object({ type: z.literal('nginx-directive'), pattern: regex, expect: z.enum(['match', 'no-match']) })
    .strict(),
  z.object({ type: z.literal('package'), name: debianName, state: z.enum(['installed', 'absent']) }).strict(),
  z.object({ type: z.literal('service'), name: unitName, state: z.enum(['enabled', 'disabled']) }).strict(),
  z
    .object({
      type: z.literal('mount'),
      path: absolutePath,
      /** Without an option: the path must be its own mount (a separate partition). */
      option: z
        .string()
        .regex(/^[a-z]{2,20}$/)
        .optional(),
    })
    .strict(),
  z.object({ type: z.literal('kernel-module'), name: moduleName }).strict(),
  z
    .object({
      type: z.literal('command'),
      argv,
      expect: z.enum(['empty', 'match', 'no-match']),
      pattern: regex.optional(),
    })
    .strict()
    .refine((c) => c.expect === 'empty' || c.pattern !== undefined, 'match and no-match need a pattern'),
  z.object({ type: z.literal('manual'), procedure: z.string().min(1).max(1000) }).strict(),
]);

export const remediationSchema = z.discriminatedUnion('type', [
  /** The natural fix of the check's own type: sysctl, file-mode, kernel-module, package, service. */
  z.object({ type: z.literal('from-check') }).strict(),
  z
    .object({
      type: z.literal('sshd-option'),
      key: z.string().regex(/^[A-Za-z]{2,40}$/),
      value: z.string().regex(/^[A-Za-z0-9 ,:@./_-]{1,200}$/),
    })
    .strict(),
  z
    .object({
      type: z.literal('file-line'),
      path: absolutePath,
      pattern: regex,
      line: z
        .string()
        .max(500)
        .refine((l) => !/[\n\r]/.test(l) && !l.includes('\u0000'), 'one line'),
    })
    .strict(),
  z
    .object({
      type: z.literal('file'),
      path: absolutePath,
      content: z.string().max(10_000),
      mode: octalMode.default('0644'),
    })
    .strict(),
  z.object({ type: z.literal('manual'), steps: z.string().min(1).max(2000) }).strict(),
]);

const FROM_CHECK = new Set(['sysctl', 'file-mode', 'kernel-module', 'package', 'service']);

export const ruleSchema = z
  .object({
    id: ruleId,
    title: z.string().min(5).max(200),
    cis: z.string().regex(/^\d+(\.\d+){1,5}$/, 'a CIS recommendation number like 5.1.20'),
    level: z.union([z.literal(1), z.literal(2)]),
    automated: z.boolean(),
    rationale: z.string().min(20).max(2000),
    check: checkSchema,
    remediation: remediationSchema,
    ssg: z.array(z.string().regex(/^[a-z0-9_]+$/)).default([]),
  })
  .strict()
  .refine((r) => r.remediation.type !== 'from-check' || FROM_CHECK.has(r.check.type), {
    message: `remediation from-check only for ${[...FROM_CHECK].join(', ')} checks`,
    path: ['remediation'],
  })
  .refine((r) => r.automated === (r.check.type !== 'manual'), {
    message: 'a manual check is exactly a not-automated rule',
    path: ['automated'],
  });

export const baselineSchema = z
  .object({
    id: ruleId,
    version: z.string().regex(/^\d+(\.\d+)*$/),
    title: z.string().min(3).max(200),
    benchmark: z.object({ name: z.string().min(3), version: z.string().min(1) }).strict(),
    profile: z.string().min(3).max(100),
    rules: z.array(ruleSchema).min(1),
  })
  .strict()
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    for (const [i, rule] of b.rules.entries()) {
      if (seen.has(rule.id))
        ctx.addIssue({ code: 'custom', message: `duplicate rule id ${rule.id}`, path: ['rules', i, 'id'] });
      seen.add(rule.id);
    }
  });

export type Check = z.infer<typeof checkSchema>;
export type Remediation = z.infer<typeof remediationSchema>;
export type Rule = z.infer<typeof ruleSchema>;
export type Baseline = z.infer<typeof baselineSchema>;

/** The CIS reference of a rule in full: benchmark, version, recommendation number, profile and level. */
export function cisReference(baseline: Baseline, rule: Rule): string {
  return `${baseline.benchmark.name} ${baseline.benchmark.version}, ${rule.cis} (${baseline.profile}, Level ${rule.level})`;
}

/** Parses a baseline file's text; every problem is named with its path in the file. */
export function parseBaseline(source: string, file = 'baseline'): Baseline {
  let data: unknown;
  try {
    data = parseYaml(source);
  } catch (error) {
    throw new ValidationError(`${file}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = baselineSchema.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new ValidationError(`${file}: ${issues}`);
  }
  return parsed.data;
}

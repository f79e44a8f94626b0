import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { ValidationError } from '../../platform/errors.js';
import { contextFor } from '../context.js';

interface PolicySetView {
  version: number;
  document: { policies: unknown[] };
  checksum: string | null;
  createdAt: string | null;
  createdBy: string | null;
  comment: string;
  changed?: boolean;
}

interface PolicySummary {
  name: string;
  requesterGroups: string[];
  levels: string[];
  maxDuration: string;
  autoApprove: boolean;
  breakGlass: boolean;
}

/** A policy file: YAML or JSON, `{ policies: [...] }` or just the list. */
export function readPolicyFile(file: string): { policies: unknown[] } {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  if (Array.isArray(parsed)) return { policies: parsed };
  if (typeof parsed === 'object' && parsed !== null && 'policies' in parsed) {
    return parsed as { policies: unknown[] };
  }
  throw new ValidationError(
    `${file} must hold a policy set: "policies:" followed by a list of policies (see docs/access-policies.md)`,
  );
}

export function registerPolicies(program: Command): void {
  const policies = program
    .command('policies')
    .description('Access policies: who may request which access to what, and who approves')
    .addHelpText(
      'after',
      `
Policies are one versioned set, written in YAML or JSON (docs/access-policies.md). Applying a file
replaces the set in force with a new version, audited; applying the same content again changes nothing.

Examples:
  gatehouse policies show --yaml > policies.yaml
  gatehouse policies validate policies.yaml
  gatehouse policies apply policies.yaml --comment "DBAs need security's approval on production"`,
    );

  policies
    .command('show')
    .description('Show the policy set in force')
    .option('--yaml', 'print the set itself as YAML (to edit and apply again)')
    .action(async (options: { yaml?: boolean }, command: Command) => {
      const ctx = contextFor(command);
      const set = await ctx.api().get<PolicySetView>('/api/v1/access/policies');
      if (options.yaml) return ctx.out.line(toYaml(set.document).trimEnd());
      ctx.out.result(set, () => {
        if (set.version === 0) {
          ctx.out.line('No policies yet: every request is refused. Apply a policy file to begin.');
          return;
        }
        ctx.out.line(`Version ${set.version}, applied by ${set.createdBy ?? '?'} at ${set.createdAt ?? '?'}`);
        if (set.comment) ctx.out.line(`  ${set.comment}`);
        ctx.out.table(
          set.document.policies.map((p) => {
            const policy = p as Record<string, unknown>;
            return {
              name: policy.name,
              requesterGroups: policy.requesterGroups,
              levels: policy.levels,
              maxDuration: policy.maxDuration,
            };
          }),
          ['name', 'requesterGroups', 'levels', 'maxDuration'],
        );
      });
    });

  policies
    .command('validate <file>')
    .description('Check a policy file (YAML or JSON) without applying it')
    .action(async (file: string, _o: unknown, command: Command) => {
      const ctx = contextFor(command);
      const result = await ctx
        .api()
        .post<{ valid: true; policies: PolicySummary[] }>(
          '/api/v1/access/policies/validate',
          readPolicyFile(file),
        );
      ctx.out.result(result, () => {
        ctx.out.line(`${file} is valid: ${result.policies.length} policies.`);
        ctx.out.table(result.policies as unknown as Record<string, unknown>[], [
          'name',
          'requesterGroups',
          'levels',
          'maxDuration',
          'autoApprove',
          'breakGlass',
        ]);
      });
    });

  policies
    .command('apply <file>')
    .description('Replace the policy set in force with the one in a file (a new version, audited)')
    .option('--comment <text>', 'why the policies change (kept in the audit log)')
    .action(async (file: string, options: { comment?: string }, command: Command) => {
      const ctx = contextFor(command);
      const set = await ctx.api().post<PolicySetView>('/api/v1/access/policies', {
        ...readPolicyFile(file),
        ...(options.comment ? { comment: options.comment } : {}),
      });
      ctx.out.result(set, () =>
        ctx.out.line(
          set.changed
            ? `Applied version ${set.version}: ${set.document.policies.length} policies.`
            : `Unchanged: version ${set.version} already holds these policies.`,
        ),
      );
    });
}

import { canonicalJson } from '../../platform/canonical-json.js';
import type { Clock } from '../../platform/clock.js';
import { sha256Hex } from '../../platform/crypto.js';
import type { Executor, Store } from '../../platform/db/store.js';
import { ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import { policySetSchema, type Policy } from './domain/policy.js';
import { formatDuration } from './domain/duration.js';
import { policyStore, type PolicySetRecord } from './access.store.js';

/**
 * Access policies as data: one versioned policy set, replaced whole (every change a new version,
 * audited), validated strictly with the domain's schema. Stored as written (durations as text), so
 * `show` gives back a document `apply` takes. A store with no set yet has version 0: no policy, so
 * every request is refused (default deny).
 */

export interface PolicySetView {
  version: number;
  document: { policies: unknown[] };
  checksum: string | null;
  createdAt: Date | null;
  createdBy: string | null;
  comment: string;
}

export interface PolicySummary {
  name: string;
  requesterGroups: string[];
  levels: string[];
  maxDuration: string;
  autoApprove: boolean;
  breakGlass: boolean;
}

export interface CurrentPolicies {
  version: number;
  policies: Policy[];
}

/** Parses a policy set, or throws a ValidationError naming every problem by its path. */
export function parsePolicySet(document: unknown): Policy[] {
  const result = policySetSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const [first, index, ...rest] = issue.path;
      const named =
        first === 'policies' && typeof index === 'number'
          ? policyLabel(document, index) + (rest.length > 0 ? `.${rest.join('.')}` : '')
          : issue.path.join('.');
      return { path: named || '(top)', message: issue.message };
    });
    throw new ValidationError(
      `The policy set is invalid (nothing was changed): ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      { details: { problems } },
    );
  }
  return result.data.policies;
}

function policyLabel(document: unknown, index: number): string {
  const policies = (document as { policies?: unknown[] } | null)?.policies;
  const name = (policies?.[index] as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? `policies[${index}] (${name})` : `policies[${index}]`;
}

export const summarise = (policies: readonly Policy[]): PolicySummary[] =>
  policies.map((p) => ({
    name: p.name,
    requesterGroups: [...p.requesterGroups],
    levels: [...p.levels],
    maxDuration: formatDuration(p.maxDuration),
    autoApprove: p.autoApprove.length > 0,
    breakGlass: p.breakGlass.allowed,
  }));

export interface PolicyServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  audit: AuditAppender;
}

export function createPolicyService(deps: PolicyServiceDeps) {
  const { db } = deps.store;
  // a version never changes, so its parse is kept
  const parsed = new Map<number, Policy[]>();

  const view = (record: PolicySetRecord | undefined): PolicySetView =>
    record
      ? {
          version: record.version,
          document: record.document as { policies: unknown[] },
          checksum: record.checksum,
          createdAt: record.createdAt,
          createdBy: record.createdBy,
          comment: record.comment,
        }
      : {
          version: 0,
          document: { policies: [] },
          checksum: null,
          createdAt: null,
          createdBy: null,
          comment: '',
        };

  return {
    /** The policies in force now, parsed. */
    async current(executor: Executor = db): Promise<CurrentPolicies> {
      const record = await policyStore.current(executor);
      if (!record) return { version: 0, policies: [] };
      let policies = parsed.get(record.version);
      if (!policies) {
        policies = parsePolicySet(record.document);
        parsed.set(record.version, policies);
      }
      return { version: record.version, policies };
    },

    async show(): Promise<PolicySetView> {
      return view(await policyStore.current(db));
    },

    /** Checks a policy set without storing it; says what it would contain. */
    validate(document: unknown): { valid: true; policies: PolicySummary[] } {
      return { valid: true, policies: summarise(parsePolicySet(document)) };
    },

    /** Replaces the policy set with a new version, audited. The same document again changes nothing. */
    async apply(
      ctx: RequestContext,
      document: unknown,
      comment = '',
    ): Promise<PolicySetView & { changed: boolean }> {
      const policies = parsePolicySet(document);
      const checksum = sha256Hex(canonicalJson(document));
      return db.transaction().execute(async (tx) => {
        await policyStore.lock(tx);
        const previous = await policyStore.current(tx);
        if (previous?.checksum === checksum) return { ...view(previous), changed: false };
        const before = previous ? parsePolicySet(previous.document).map((p) => p.name) : [];
        const after = policies.map((p) => p.name);
        const record: PolicySetRecord = {
          version: (previous?.version ?? 0) + 1,
          document,
          checksum,
          createdAt: deps.clock.now(),
          createdBy: ctx.actor.name,
          comment,
        };
        await policyStore.insert(tx, record);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'access-policy-set.applied',
          target: { type: 'access-policy-set', id: String(record.version) },
          details: {
            version: record.version,
            previousVersion: previous?.version ?? 0,
            checksum,
            policies: after,
            added: after.filter((n) => !before.includes(n)),
            removed: before.filter((n) => !after.includes(n)),
            ...(comment ? { comment } : {}),
          },
        });
        parsed.set(record.version, policies);
        return { ...view(record), changed: true };
      });
    },
  };
}

export type PolicyService = ReturnType<typeof createPolicyService>;

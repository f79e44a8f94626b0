import type { Clock } from '../../platform/clock.js';
import type { SecretBox } from '../../platform/crypto.js';
import type { Store } from '../../platform/db/store.js';
import { isRetryable, TransientError } from '../../platform/errors.js';
import { errorSummary } from '../../platform/jobs/job-types.js';
import type { Logger } from '../../platform/logger.js';
import { systemActor } from '../audit/audit.types.js';
import { effectsToResume, type GrantEvent, type GrantLimits } from './domain/grant-machine.js';
import { leaseDueAt } from './domain/lease.js';
import { generatePassword, type PasswordPolicy } from './domain/password.js';
import { requestStore } from './access.store.js';
import type { GrantRecord } from './access.types.js';
import { grantStore } from './grant.store.js';
import {
  targetOf,
  jumpboxSources,
  provisionable,
  type AccessInventory,
  type ConnectorLookup,
} from './targets.js';
import { lockGrant, passwordContext, type Transitions } from './transitions.js';

/**
 * The grant's outside work, as jobs. Each handler names a grant and re-reads it (level-based): the
 * state is written before each outside effect and its outcome after, so a crash anywhere leaves a row
 * that says what to run again, and every effect is idempotent.
 */

export interface GrantJobDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  secrets: Pick<SecretBox, 'seal' | 'open'>;
  inventory: AccessInventory;
  connectors: ConnectorLookup;
  transitions: Transitions;
  limits: GrantLimits;
  passwordPolicy?: PasswordPolicy;
  logger: Logger;
}

const provisioner = { actor: systemActor('access-provisioner') };
const reaper = { actor: systemActor('lease-reaper') };

export function createGrantJobs(deps: GrantJobDeps) {
  const { db } = deps.store;
  const { clock, transitions } = deps;

  async function targetFor(grant: GrantRecord) {
    const asset = provisionable(await deps.inventory.getAsset(grant.assetId));
    return {
      asset,
      target: await targetOf(deps.inventory, asset),
      connector: deps.connectors(asset.engine),
    };
  }

  /** Runs the account's removal and records its outcome; throws to be retried with backoff. */
  async function removeAccount(grant: GrantRecord): Promise<void> {
    let failure: unknown;
    try {
      const { target, connector } = await targetFor(grant);
      await connector.revokeAccount(target, grant.accountName);
    } catch (error) {
      failure = error;
    }
    const attempt = await db.transaction().execute(async (tx) => {
      const locked = await lockGrant(tx, grant.id);
      if (!locked) return undefined;
      const message = failure === undefined ? null : errorSummary(failure);
      const event: GrantEvent =
        failure === undefined
          ? { type: 'revoked', at: clock.now() }
          : { type: 'revocation-failed', at: clock.now(), retryable: isRetryable(failure), error: message! };
      const result = await transitions.applyGrant(tx, reaper, locked.grant, event, {
        request: locked.request,
        removal: 'caller',
        patch: { lastError: message },
        ...(message ? { details: { error: message } } : {}),
      });
      return result.ok ? result.grant.state.attempts.revoke : undefined;
    });
    if (failure !== undefined) {
      // never given up: flagged past the limit, then retried with backoff for as long as it takes
      throw new TransientError(
        'target_unavailable',
        `Revoking ${grant.accountName} failed (attempt ${attempt ?? '?'}): ${errorSummary(failure)}; it will be retried`,
      );
    }
  }

  return {
    /** `grant.provision`: pending → provisioning (password sealed) → create the account → active. */
    async provision(grantId: string): Promise<void> {
      let fileTransfer = false;
      const started = await db.transaction().execute(async (tx) => {
        const locked = await lockGrant(tx, grantId);
        if (!locked) return undefined;
        fileTransfer = locked.request.fileTransfer;
        let { grant } = locked;
        if (grant.state.status === 'pending') {
          const result = await transitions.applyGrant(
            tx,
            provisioner,
            grant,
            { type: 'start-provisioning', at: clock.now() },
            { request: locked.request, removal: 'enqueue' },
          );
          if (!result.ok) return undefined;
          grant = result.grant;
        }
        if (grant.state.status !== 'provisioning') return undefined;
        if (!grant.sealedPassword) {
          // the password exists only sealed, bound to this grant, before the account is created with it
          const password = generatePassword(deps.passwordPolicy);
          grant = { ...grant, sealedPassword: deps.secrets.seal(password, passwordContext(grant.id)) };
          await grantStore.update(tx, grant);
        }
        return grant;
      });
      if (!started) return;

      let failure: unknown;
      try {
        const { asset, target, connector } = await targetFor(started);
        const password = deps.secrets.open(started.sealedPassword!, passwordContext(started.id));
        await connector.createAccount(target, {
          username: started.accountName,
          password,
          level: started.level,
          validUntil: leaseDueAt(started.state.lease),
          sourceCidrs: await jumpboxSources(deps.inventory, asset),
          fileTransfer,
        });
      } catch (error) {
        failure = error;
      }

      const retry = await db.transaction().execute(async (tx) => {
        const locked = await lockGrant(tx, grantId);
        if (!locked) return false;
        const message = failure === undefined ? null : errorSummary(failure);
        const event: GrantEvent =
          failure === undefined
            ? { type: 'provisioned', at: clock.now() }
            : {
                type: 'provisioning-failed',
                at: clock.now(),
                retryable: isRetryable(failure),
                error: message!,
              };
        const result = await transitions.applyGrant(tx, provisioner, locked.grant, event, {
          request: locked.request,
          removal: 'enqueue',
          patch: { lastError: message },
          ...(message ? { details: { error: message } } : {}),
        });
        return result.ok && result.outside.some((e) => e.type === 'retry');
      });
      if (retry) {
        throw new TransientError(
          'target_unavailable',
          `Creating ${started.accountName} failed: ${errorSummary(failure)}; it will be retried`,
        );
      }
    },

    /**
     * `grant.revoke`, the lease reaper: at the lease's end, expire the grant and remove its account;
     * for a grant already being revoked, remove its account. Early: asks to run again when due.
     */
    async revoke(grantId: string): Promise<void | { requeueAt: Date }> {
      type Step = { kind: 'done' } | { kind: 'requeue'; at: Date } | { kind: 'remove'; grant: GrantRecord };
      const done: Step = { kind: 'done' };
      const step = await db.transaction().execute(async (tx): Promise<Step> => {
        const locked = await lockGrant(tx, grantId);
        if (!locked) return done;
        const { grant, request } = locked;
        switch (grant.state.status) {
          case 'revoked':
          case 'failed':
            return done;
          case 'revoking':
          case 'revocation_failed':
            return { kind: 'remove', grant };
          case 'pending':
          case 'provisioning':
          case 'active': {
            const due = leaseDueAt(grant.state.lease);
            if (clock.now() < due) return { kind: 'requeue', at: due };
            const result = await transitions.applyGrant(
              tx,
              reaper,
              grant,
              { type: 'expire', now: clock.now() },
              { request, removal: 'caller' },
            );
            if (result.ok && result.outside.some((e) => e.type === 'remove-account')) {
              return { kind: 'remove', grant: result.grant };
            }
            return done;
          }
        }
      });
      if (step.kind === 'requeue') return { requeueAt: step.at };
      if (step.kind === 'remove') await removeAccount(step.grant);
    },

    /** `grant.set-expiry`: moves the target's own expiry to the lease's end (reveal, extension). */
    async setExpiry(grantId: string): Promise<void> {
      const grant = await grantStore.byId(db, grantId);
      if (!grant || grant.state.status !== 'active') return;
      const { target, connector } = await targetFor(grant);
      await connector.setAccountExpiry(target, grant.accountName, leaseDueAt(grant.state.lease));
    },

    /**
     * After a start: every grant not yet ended gets the work its state calls for again, and every
     * request awaiting review its expiry. Jobs carry dedupe keys, so running this twice adds nothing.
     */
    async resume(): Promise<{ grants: number; requests: number }> {
      const grants = await grantStore.inFlight(db);
      const pending = await requestStore.pendingIds(db);
      await db.transaction().execute(async (tx) => {
        for (const grant of grants) {
          for (const effect of effectsToResume(grant.state)) {
            switch (effect.type) {
              case 'enqueue-provisioning':
              case 'create-account':
                await transitions.enqueueProvisioning(tx, grant.id);
                break;
              case 'schedule-expiry':
                await transitions.scheduleExpiry(tx, grant.id, effect.at);
                break;
              case 'remove-account':
                await transitions.enqueueRemoval(tx, grant.id);
                break;
              case 'alert':
              case 'audit':
              case 'credentials-issued':
              case 'discard-credential':
              case 'notify':
              case 'retry':
              case 'set-account-expiry':
                break; // effectsToResume never asks for these
            }
          }
        }
        for (const { id, reviewDeadline } of pending) {
          if (!reviewDeadline) continue;
          await transitions.enqueueRequestExpiry(tx, id, reviewDeadline);
        }
      });
      if (grants.length > 0) deps.logger.info({ grants: grants.length }, 'resumed access work in flight');
      return { grants: grants.length, requests: pending.length };
    },
  };
}

export type GrantJobs = ReturnType<typeof createGrantJobs>;

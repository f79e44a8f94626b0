import { hash as argonHash } from '@node-rs/argon2';
import type { Clock } from '../../platform/clock.js';
import type { Store } from '../../platform/db/store.js';
import { NotFoundError, ValidationError } from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import { freshLockout } from './domain/lockout.js';
import { passwordProblem } from './domain/secrets.js';
import { credentialsStore } from './credentials.store.js';
import { identityStore } from './identity.store.js';
import type { Operator } from './identity.types.js';
import { argon2id } from './sign-in.service.js';

export interface PasswordAdminDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  audit: AuditAppender;
}

/** What administrators do to another operator's local sign-in: set the password, reset MFA, unlock. */
export function createPasswordAdminService(deps: PasswordAdminDeps) {
  const { db } = deps.store;

  async function activeOperator(ref: string): Promise<Operator> {
    const operator = /^[0-9a-f-]{36}$/.test(ref)
      ? await identityStore.operatorById(db, ref)
      : await identityStore.operatorByUsername(db, ref);
    if (!operator) throw new NotFoundError('Operator', ref);
    return operator;
  }

  return {
    /** An administrator sets an operator's password; their second factor is enrolled at next sign-in if missing. */
    async setPassword(ctx: RequestContext, ref: string, password: string, resetMfa = false): Promise<void> {
      const operator = await activeOperator(ref);
      const problem = passwordProblem(password, operator.username);
      if (problem) throw new ValidationError(`The password is refused: ${problem}`);
      const hashed = await argonHash(password, argon2id);
      await db.transaction().execute(async (tx) => {
        const now = deps.clock.now();
        await credentialsStore.lockFor(tx, operator.id, now);
        await credentialsStore.update(tx, operator.id, now, {
          passwordHash: hashed,
          ...(resetMfa
            ? { totpSeedSealed: null, totpPendingSealed: null, totpEnrolledAt: null, totpLastStep: null }
            : {}),
        });
        if (resetMfa) await credentialsStore.replaceRecoveryCodes(tx, operator.id, [], now);
        await deps.audit.append(tx, {
          ...ctx,
          action: 'operator.password-set',
          target: { type: 'operator', id: operator.id },
          details: { username: operator.username, mfaReset: resetMfa },
        });
      });
    },

    /** An administrator lifts a lockout. */
    async unlock(ctx: RequestContext, ref: string): Promise<void> {
      const operator = await activeOperator(ref);
      await db.transaction().execute(async (tx) => {
        const now = deps.clock.now();
        const credentials = await credentialsStore.lockFor(tx, operator.id, now);
        await credentialsStore.update(tx, operator.id, now, { lockout: freshLockout });
        await deps.audit.append(tx, {
          ...ctx,
          action: 'operator.unlocked',
          target: { type: 'operator', id: operator.id },
          details: { username: operator.username, failedAttempts: credentials.lockout.failedAttempts },
        });
      });
    },
  };
}

export type PasswordAdminService = ReturnType<typeof createPasswordAdminService>;

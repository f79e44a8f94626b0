import type { Executor } from '../../platform/db/store.js';
import type { Row } from '../../platform/db/schema.js';
import type { LockoutState } from './domain/lockout.js';

/** An operator's local sign-in material and lockout state (never leaves the identity module). */
export interface OperatorCredentials {
  operatorId: string;
  passwordHash: string | null;
  totpSeedSealed: string | null;
  totpPendingSealed: string | null;
  totpEnrolledAt: Date | null;
  totpLastStep: number | null;
  lockout: LockoutState;
}

function toCredentials(row: Row<'operator_credentials'>): OperatorCredentials {
  return {
    operatorId: row.operator_id,
    passwordHash: row.password_hash,
    totpSeedSealed: row.totp_seed_sealed,
    totpPendingSealed: row.totp_pending_sealed,
    totpEnrolledAt: row.totp_enrolled_at,
    totpLastStep: row.totp_last_step === null ? null : Number(row.totp_last_step),
    lockout: { failedAttempts: row.failed_attempts, retryAfter: row.retry_after, lockedAt: row.locked_at },
  };
}

export const credentialsStore = {
  async passwordHashOf(db: Executor, operatorId: string): Promise<string | undefined> {
    const row = await db
      .selectFrom('operator_credentials')
      .select('password_hash')
      .where('operator_id', '=', operatorId)
      .executeTakeFirst();
    return row?.password_hash ?? undefined;
  },

  /** Reads the row for update, creating an empty one first if there is none. */
  async lockFor(db: Executor, operatorId: string, now: Date): Promise<OperatorCredentials> {
    await db
      .insertInto('operator_credentials')
      .values({ operator_id: operatorId, updated_at: now })
      .onConflict((oc) => oc.column('operator_id').doNothing())
      .execute();
    const row = await db
      .selectFrom('operator_credentials')
      .selectAll()
      .where('operator_id', '=', operatorId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    return toCredentials(row);
  },

  async update(
    db: Executor,
    operatorId: string,
    now: Date,
    patch: Partial<Omit<OperatorCredentials, 'operatorId' | 'lockout'>> & { lockout?: LockoutState },
  ): Promise<void> {
    await db
      .updateTable('operator_credentials')
      .set({
        updated_at: now,
        ...(patch.passwordHash !== undefined ? { password_hash: patch.passwordHash } : {}),
        ...(patch.totpSeedSealed !== undefined ? { totp_seed_sealed: patch.totpSeedSealed } : {}),
        ...(patch.totpPendingSealed !== undefined ? { totp_pending_sealed: patch.totpPendingSealed } : {}),
        ...(patch.totpEnrolledAt !== undefined ? { totp_enrolled_at: patch.totpEnrolledAt } : {}),
        ...(patch.totpLastStep !== undefined ? { totp_last_step: patch.totpLastStep } : {}),
        ...(patch.lockout
          ? {
              failed_attempts: patch.lockout.failedAttempts,
              retry_after: patch.lockout.retryAfter,
              locked_at: patch.lockout.lockedAt,
            }
          : {}),
      })
      .where('operator_id', '=', operatorId)
      .execute();
  },

  async replaceRecoveryCodes(
    db: Executor,
    operatorId: string,
    codes: { id: string; hash: string }[],
    now: Date,
  ): Promise<void> {
    await db.deleteFrom('recovery_codes').where('operator_id', '=', operatorId).execute();
    if (codes.length === 0) return;
    await db
      .insertInto('recovery_codes')
      .values(
        codes.map((c) => ({
          id: c.id,
          operator_id: operatorId,
          code_hash: c.hash,
          created_at: now,
          used_at: null,
        })),
      )
      .execute();
  },

  /** Marks an unused code of this operator used; false when there is none with that hash. */
  async useRecoveryCode(db: Executor, operatorId: string, hash: string, now: Date): Promise<boolean> {
    const result = await db
      .updateTable('recovery_codes')
      .set({ used_at: now })
      .where('operator_id', '=', operatorId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  },

  async unusedRecoveryCodes(db: Executor, operatorId: string): Promise<number> {
    const row = await db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('operator_id', '=', operatorId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
};

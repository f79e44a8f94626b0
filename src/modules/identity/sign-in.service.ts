import { randomBytes } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import type { Clock, Ids } from '../../platform/clock.js';
import { constantTimeEqual, sha256Hex, type SecretBox } from '../../platform/crypto.js';
import type { Store, Tx } from '../../platform/db/store.js';
import {
  ForbiddenError,
  GatehouseError,
  UnauthenticatedError,
  ValidationError,
} from '../../platform/errors.js';
import type { AuditAppender, RequestContext } from '../audit/audit.types.js';
import {
  afterFailure,
  attemptVerdict,
  defaultLockoutPolicy,
  freshLockout,
  type LockoutPolicy,
} from './domain/lockout.js';
import { effectiveRoles, permissionsOf } from './domain/roles.js';
import { canonicalRecoveryCode, generateRecoveryCode } from './domain/secrets.js';
import { sessionVerdict, type SessionPolicy } from './domain/session-policy.js';
import { credentialsStore, type OperatorCredentials } from './credentials.store.js';
import { identityStore } from './identity.store.js';
import type { Operator, Principal } from './identity.types.js';
import { issueSession, sessionStore, type IssuedSession, type Session } from './session.store.js';

export type { IssuedSession };

/** Argon2id (the package's const enum value 2) with OWASP's minimum cost. */
export const argon2id = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
/** Verified against when the username is unknown, so the answer takes as long as for a known one. */
let dummyHash: Promise<string> | undefined;
const dummy = () => (dummyHash ??= argonHash(randomBytes(16).toString('hex'), argon2id));
const RECOVERY_CODES = 10;
const MFA_WINDOW_MS = 5 * 60_000;
const TOUCH_RESOLUTION_MS = 60_000;

export interface SignInSettings {
  idleMinutes: number;
  absoluteHours: number;
  lockout?: Partial<LockoutPolicy>;
}

export interface SignInServiceDeps {
  store: Pick<Store, 'db'>;
  clock: Clock;
  ids: Ids;
  audit: AuditAppender;
  secrets: SecretBox;
  settings: SignInSettings;
}

/** Where a sign-in attempt comes from (the caller is not yet known). */
export type AttemptContext = Omit<RequestContext, 'actor'>;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: GatehouseError };

const totpContext = (operatorId: string) => `operator:${operatorId}:totp`;

export function createSignInService(deps: SignInServiceDeps) {
  const { db } = deps.store;
  const lockoutPolicy = { ...defaultLockoutPolicy, ...deps.settings.lockout };
  const sessionPolicy: SessionPolicy = {
    idleMs: deps.settings.idleMinutes * 60_000,
    mfaMs: MFA_WINDOW_MS,
  };
  const operatorActor = (o: Operator) => ({ type: 'operator' as const, id: o.id, name: o.username });

  const openSession = (
    tx: Tx,
    operator: Operator,
    stage: Session['stage'],
    method: Session['method'],
    sourceIp: string | undefined,
  ): Promise<IssuedSession> =>
    issueSession(tx, deps, {
      operatorId: operator.id,
      stage,
      method,
      sourceIp: sourceIp ?? null,
      lifetimeMs: stage === 'mfa' ? MFA_WINDOW_MS : deps.settings.absoluteHours * 3_600_000,
    });

  /** Records a failed attempt (and a lockout it causes) and returns the error to give the caller. */
  async function recordFailure(
    tx: Tx,
    ctx: AttemptContext,
    operator: Operator,
    credentials: OperatorCredentials,
    action: 'auth.sign-in-failed' | 'auth.mfa-failed',
    reason: string,
  ): Promise<GatehouseError> {
    const now = deps.clock.now();
    const { state, lockedNow } = afterFailure(credentials.lockout, now, lockoutPolicy);
    await credentialsStore.update(tx, operator.id, now, { lockout: state });
    const actor = operatorActor(operator);
    await deps.audit.append(tx, {
      ...ctx,
      actor,
      action,
      target: { type: 'operator', id: operator.id },
      details: { username: operator.username, reason, failedAttempts: state.failedAttempts },
    });
    if (lockedNow) {
      await deps.audit.append(tx, {
        ...ctx,
        actor,
        action: 'auth.locked-out',
        target: { type: 'operator', id: operator.id },
        details: { username: operator.username, failedAttempts: state.failedAttempts },
      });
    }
    return action === 'auth.mfa-failed'
      ? new UnauthenticatedError('Wrong or already used code')
      : new UnauthenticatedError('Wrong username or password');
  }

  /** Refuses an attempt the lockout forbids (audited); undefined when the attempt may be checked. */
  async function refusal(
    tx: Tx,
    ctx: AttemptContext,
    operator: Operator,
    credentials: OperatorCredentials,
  ): Promise<GatehouseError | undefined> {
    const verdict = attemptVerdict(credentials.lockout, deps.clock.now());
    if (verdict.allowed) return undefined;
    await deps.audit.append(tx, {
      ...ctx,
      actor: operatorActor(operator),
      action: 'auth.attempt-refused',
      target: { type: 'operator', id: operator.id },
      details: { username: operator.username, reason: verdict.reason },
    });
    if (verdict.reason === 'locked') {
      return new ForbiddenError(
        'This account is locked after too many failed attempts; ask an administrator',
      );
    }
    const seconds = Math.ceil((verdict.retryAfter.getTime() - deps.clock.now().getTime()) / 1000);
    return new GatehouseError('rate_limited', `Too many failed attempts; try again in ${seconds} s`, {
      details: { retryAfterSeconds: seconds },
    });
  }

  async function unwrap<T>(work: (tx: Tx) => Promise<Outcome<T>>): Promise<T> {
    const outcome = await db.transaction().execute(work);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  return {
    /**
     * First step: username and password. Opens a session waiting for the second factor; on a first
     * sign-in, also returns a new TOTP seed to enrol (shown this once).
     */
    async signIn(
      ctx: AttemptContext,
      input: { username: string; password: string },
    ): Promise<{ session: IssuedSession; enrol?: { secret: string; otpauthUri: string } }> {
      const operator = await identityStore.operatorByUsername(db, input.username);
      const stored = operator ? await credentialsStore.passwordHashOf(db, operator.id) : undefined;
      if (!operator || !operator.active || !stored) {
        await argonVerify(await dummy(), input.password).catch(() => false);
        await db.transaction().execute((tx) =>
          deps.audit.append(tx, {
            ...ctx,
            actor: { type: 'system', id: null, name: 'sign-in' },
            action: 'auth.sign-in-failed',
            details: {
              username: input.username,
              reason: !operator ? 'unknown-user' : !operator.active ? 'inactive' : 'no-password',
            },
          }),
        );
        throw new UnauthenticatedError('Wrong username or password');
      }
      const passwordOk = await argonVerify(stored, input.password).catch(() => false);
      return unwrap(async (tx) => {
        const credentials = await credentialsStore.lockFor(tx, operator.id, deps.clock.now());
        const refused = await refusal(tx, ctx, operator, credentials);
        if (refused) return { ok: false, error: refused };
        if (!passwordOk) {
          return {
            ok: false,
            error: await recordFailure(
              tx,
              ctx,
              operator,
              credentials,
              'auth.sign-in-failed',
              'wrong-password',
            ),
          };
        }
        let enrol: { secret: string; otpauthUri: string } | undefined;
        if (!credentials.totpSeedSealed) {
          const secret = generateSecret();
          await credentialsStore.update(tx, operator.id, deps.clock.now(), {
            totpPendingSealed: deps.secrets.seal(secret, totpContext(operator.id)),
          });
          enrol = {
            secret,
            otpauthUri: generateURI({ issuer: 'Gatehouse', label: operator.username, secret }),
          };
        }
        await deps.audit.append(tx, {
          ...ctx,
          actor: operatorActor(operator),
          action: 'auth.password-accepted',
          target: { type: 'operator', id: operator.id },
          details: { username: operator.username, mfa: enrol ? 'enrolment' : 'totp' },
        });
        const session = await openSession(tx, operator, 'mfa', 'password', ctx.sourceIp);
        return { ok: true, value: { session, ...(enrol ? { enrol } : {}) } };
      });
    },

    /**
     * Second step: a TOTP code (which also completes enrolment) or a one-time recovery code. Ends the
     * waiting session and opens a signed-in one (a new cookie, so a planted one is worthless).
     */
    async completeSignIn(
      ctx: AttemptContext,
      pendingSecret: string | undefined,
      input: { code?: string | undefined; recoveryCode?: string | undefined },
    ): Promise<{ session: IssuedSession; operator: Operator; recoveryCodes?: string[] }> {
      const pending = pendingSecret
        ? await sessionStore.bySecretHash(db, sha256Hex(pendingSecret))
        : undefined;
      if (
        !pending ||
        pending.stage !== 'mfa' ||
        sessionVerdict(pending, deps.clock.now(), sessionPolicy) !== 'valid'
      ) {
        throw new UnauthenticatedError('Sign in with your username and password first');
      }
      const operator = await identityStore.operatorById(db, pending.operatorId);
      if (!operator?.active) throw new UnauthenticatedError('Sign in with your username and password first');
      return unwrap(async (tx) => {
        const now = deps.clock.now();
        const credentials = await credentialsStore.lockFor(tx, operator.id, now);
        const refused = await refusal(tx, ctx, operator, credentials);
        if (refused) return { ok: false, error: refused };
        const fail = async (reason: string) => ({
          ok: false as const,
          error: await recordFailure(tx, ctx, operator, credentials, 'auth.mfa-failed', reason),
        });

        let recoveryCodes: string[] | undefined;
        let factor: 'totp' | 'recovery-code';
        if (input.code !== undefined) {
          factor = 'totp';
          const sealed = credentials.totpSeedSealed ?? credentials.totpPendingSealed;
          if (!sealed) return fail('no-seed');
          const secret = deps.secrets.open(sealed, totpContext(operator.id));
          const epoch = Math.floor(now.getTime() / 1000);
          const check = { secret, token: input.code, epoch, epochTolerance: 30 };
          const result = await verifyTotp({
            ...check,
            ...(credentials.totpLastStep !== null ? { afterTimeStep: credentials.totpLastStep } : {}),
          }).catch(() => ({ valid: false as const }));
          if (!result.valid) {
            const replayed =
              credentials.totpLastStep !== null &&
              (await verifyTotp(check).catch(() => ({ valid: false as const }))).valid;
            return fail(replayed ? 'replayed-code' : 'wrong-code');
          }
          await credentialsStore.update(tx, operator.id, now, {
            totpLastStep: 'timeStep' in result ? result.timeStep : null,
          });
          if (!credentials.totpSeedSealed) {
            recoveryCodes = Array.from({ length: RECOVERY_CODES }, generateRecoveryCode);
            await credentialsStore.update(tx, operator.id, now, {
              totpSeedSealed: sealed,
              totpPendingSealed: null,
              totpEnrolledAt: now,
            });
            await credentialsStore.replaceRecoveryCodes(
              tx,
              operator.id,
              recoveryCodes.map((c) => ({ id: deps.ids.uuid(), hash: sha256Hex(c) })),
              now,
            );
            await deps.audit.append(tx, {
              ...ctx,
              actor: operatorActor(operator),
              action: 'auth.totp-enrolled',
              target: { type: 'operator', id: operator.id },
              details: { username: operator.username, recoveryCodes: recoveryCodes.length },
            });
          }
        } else if (input.recoveryCode !== undefined) {
          factor = 'recovery-code';
          const canonical = canonicalRecoveryCode(input.recoveryCode);
          if (!credentials.totpSeedSealed || !canonical) return fail('wrong-recovery-code');
          if (!(await credentialsStore.useRecoveryCode(tx, operator.id, sha256Hex(canonical), now))) {
            return fail('wrong-recovery-code');
          }
        } else {
          throw new ValidationError('Send a TOTP code (code) or a recovery code (recoveryCode)');
        }

        await credentialsStore.update(tx, operator.id, now, { lockout: freshLockout });
        await sessionStore.revoke(tx, pending.id, now);
        const session = await openSession(tx, operator, 'active', 'password', ctx.sourceIp);
        await deps.audit.append(tx, {
          ...ctx,
          actor: operatorActor(operator),
          action: 'auth.signed-in',
          target: { type: 'operator', id: operator.id },
          details: {
            username: operator.username,
            method: 'password',
            factor,
            ...(factor === 'recovery-code'
              ? { recoveryCodesLeft: await credentialsStore.unusedRecoveryCodes(tx, operator.id) }
              : {}),
          },
        });
        return { ok: true, value: { session, operator, ...(recoveryCodes ? { recoveryCodes } : {}) } };
      });
    },

    /**
     * Resolves a session cookie to the caller. State changes must echo the session's CSRF token; a
     * session idle or past its absolute end is refused.
     */
    async authenticateSession(
      secret: string,
      check: { stateChanging: boolean; csrfToken: string | undefined },
    ): Promise<Principal> {
      const session = await sessionStore.bySecretHash(db, sha256Hex(secret));
      const now = deps.clock.now();
      if (!session || session.stage !== 'active' || sessionVerdict(session, now, sessionPolicy) !== 'valid') {
        throw new UnauthenticatedError('Your session has ended; sign in again');
      }
      const found = await identityStore.operatorById(db, session.operatorId);
      if (!found?.active) throw new UnauthenticatedError('Your session has ended; sign in again');
      if (
        check.stateChanging &&
        !(check.csrfToken && constantTimeEqual(sha256Hex(check.csrfToken), session.csrfHash))
      ) {
        throw new ForbiddenError(
          'Missing or wrong CSRF token: send the X-CSRF-Token header given at sign-in',
        );
      }
      if (now.getTime() - session.lastSeenAt.getTime() > TOUCH_RESOLUTION_MS) {
        await sessionStore.touch(db, session.id, now);
      }
      const held = effectiveRoles(found.roles, []);
      return {
        operatorId: found.id,
        username: found.username,
        groups: found.groups,
        roles: held,
        permissions: permissionsOf(held),
        customerIds: found.customerIds,
        tokenId: null,
        sessionId: session.id,
      };
    },

    /** Ends the calling session, or with `everywhere` every session of the caller. */
    async signOut(
      ctx: RequestContext,
      principal: Principal,
      everywhere: boolean,
    ): Promise<{ ended: number }> {
      if (!everywhere && !principal.sessionId) {
        throw new ValidationError('This call uses an API token, not a session: revoke the token instead');
      }
      return db.transaction().execute(async (tx) => {
        const now = deps.clock.now();
        let ended = 0;
        if (everywhere) ended = await sessionStore.revokeAllOf(tx, principal.operatorId, now);
        else {
          await sessionStore.revoke(tx, principal.sessionId!, now);
          ended = 1;
        }
        await deps.audit.append(tx, {
          ...ctx,
          action: everywhere ? 'auth.signed-out-everywhere' : 'auth.signed-out',
          target: { type: 'operator', id: principal.operatorId },
          details: { sessionsEnded: ended },
        });
        return { ended };
      });
    },

    /** Ends every session of an operator (deactivation); in the caller's transaction. */
    endSessionsOf: (tx: Tx, operatorId: string) => sessionStore.revokeAllOf(tx, operatorId, deps.clock.now()),
  };
}

export type SignInService = ReturnType<typeof createSignInService>;

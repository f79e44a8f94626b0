import { randomBytes } from 'node:crypto';
import type { Clock, Ids } from '../../platform/clock.js';
import { sha256Hex } from '../../platform/crypto.js';
import type { Executor } from '../../platform/db/store.js';
import type { Row } from '../../platform/db/schema.js';

export interface Session {
  id: string;
  operatorId: string;
  csrfHash: string;
  stage: 'mfa' | 'active';
  method: 'password' | 'oidc';
  sourceIp: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
}

function toSession(row: Row<'sessions'>): Session {
  return {
    id: row.id,
    operatorId: row.operator_id,
    csrfHash: row.csrf_hash,
    stage: row.stage,
    method: row.method,
    sourceIp: row.source_ip,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  };
}

export const sessionStore = {
  async insert(db: Executor, session: Session, secretHash: string): Promise<void> {
    await db
      .insertInto('sessions')
      .values({
        id: session.id,
        operator_id: session.operatorId,
        secret_hash: secretHash,
        csrf_hash: session.csrfHash,
        stage: session.stage,
        method: session.method,
        source_ip: session.sourceIp,
        created_at: session.createdAt,
        last_seen_at: session.lastSeenAt,
        expires_at: session.expiresAt,
        revoked_at: null,
      })
      .execute();
  },

  async bySecretHash(db: Executor, secretHash: string): Promise<Session | undefined> {
    const row = await db
      .selectFrom('sessions')
      .selectAll()
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return row ? toSession(row) : undefined;
  },

  async touch(db: Executor, id: string, at: Date): Promise<void> {
    await db.updateTable('sessions').set({ last_seen_at: at }).where('id', '=', id).execute();
  },

  async revoke(db: Executor, id: string, at: Date): Promise<void> {
    await db
      .updateTable('sessions')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  },

  /** Revokes every live session of an operator; returns how many. */
  async revokeAllOf(db: Executor, operatorId: string, at: Date): Promise<number> {
    const result = await db
      .updateTable('sessions')
      .set({ revoked_at: at })
      .where('operator_id', '=', operatorId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  },
};

/** What a browser holds after a step of sign-in: the cookie's secret and the CSRF token to echo. */
export interface IssuedSession {
  secret: string;
  csrfToken: string;
  expiresAt: Date;
}

/** Opens a session (only hashes are stored) and returns its secrets, to set as cookies once. */
export async function issueSession(
  tx: Executor,
  deps: { clock: Clock; ids: Ids },
  session: Pick<Session, 'operatorId' | 'stage' | 'method' | 'sourceIp'> & { lifetimeMs: number },
): Promise<IssuedSession> {
  const now = deps.clock.now();
  const secret = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + session.lifetimeMs);
  await sessionStore.insert(
    tx,
    {
      id: deps.ids.uuid(),
      operatorId: session.operatorId,
      csrfHash: sha256Hex(csrfToken),
      stage: session.stage,
      method: session.method,
      sourceIp: session.sourceIp,
      createdAt: now,
      lastSeenAt: now,
      expiresAt,
      revokedAt: null,
    },
    sha256Hex(secret),
  );
  return { secret, csrfToken, expiresAt };
}

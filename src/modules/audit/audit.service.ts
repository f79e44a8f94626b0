import { createPublicKey } from 'node:crypto';
import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { Clock, Ids } from '../../platform/clock.js';
import { publicKeyId, verifySignature, type Signer } from '../../platform/crypto.js';
import { PgCode, pgErrorCode, type Executor, type Store, type Tx } from '../../platform/db/store.js';
import { IntegrityError, ValidationError } from '../../platform/errors.js';
import { pageOf } from '../../platform/paging.js';
import { auditStore, type AuditSearchFilters } from './audit.store.js';
import type { AppendedEvent, AuditAppender, AuditEvent, AuditEventInput } from './audit.types.js';
import {
  checkpointPayload,
  createChainVerifier,
  GENESIS_HASH,
  hashEvent,
  type ChainBreak,
} from './domain/chain.js';

const ACTION = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/;
const MAX_DETAILS_BYTES = 64 * 1024;
/**
 * Keys that would mean a secret is being written into evidence that many people read; compared
 * without case or separators, so `private_key`, `privateKey` and `Private-Key` are all refused.
 */
const SECRET_KEYS = new Set([
  'password',
  'secret',
  'token',
  'privatekey',
  'credential',
  'totpsecret',
  'masterkey',
]);
const VERIFY_PAGE = 5000;
/** Events sealed per UPDATE (4 parameters each). */
const SEAL_BATCH = 1000;

function assertNoSecrets(value: unknown, path: string): void {
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (SECRET_KEYS.has(key.toLowerCase().replace(/[-_\s]/g, ''))) {
      throw new IntegrityError(`Audit details must not carry secrets (key '${path}${key}')`);
    }
    assertNoSecrets(inner, `${path}${key}.`);
  }
}

function checkInput(input: AuditEventInput): void {
  if (!ACTION.test(input.action)) {
    throw new ValidationError(
      `Audit action '${input.action}' must be dotted lower-case words, like 'customer.created'`,
    );
  }
  const details = input.details ?? {};
  assertNoSecrets(details, '');
  if (JSON.stringify(details).length > MAX_DETAILS_BYTES) {
    throw new ValidationError(`Audit details for '${input.action}' exceed ${MAX_DETAILS_BYTES} bytes`);
  }
}

export interface VerifyOptions {
  fromSeq?: number | undefined;
  toSeq?: number | undefined;
  /** More public keys (SPKI PEM) to accept checkpoint signatures from, e.g. from before a key rotation. */
  extraPublicKeys?: string[] | undefined;
  onProgress?: ((checked: number, total: number) => void) | undefined;
}

export interface VerifyResult {
  ok: boolean;
  fromSeq: number;
  toSeq: number;
  checked: number;
  checkpoints: { total: number; verified: number };
  /** The earliest problem found, naming the event. */
  broken?: ChainBreak;
}

export interface AuditLogDeps {
  clock: Clock;
  ids: Ids;
  signer: Signer;
  checkpointEvery: number;
  checkpointMinutes: number;
  metrics?: Registry;
}

export function createAuditLog(deps: AuditLogDeps) {
  const appended = new Counter({
    name: 'gatehouse_audit_events_total',
    help: 'Audit events appended by this process',
    registers: deps.metrics ? [deps.metrics] : [],
  });

  function sign(seq: number, hash: string) {
    const unsigned = { seq, hash, createdAt: deps.clock.now(), keyId: deps.signer.keyId };
    return { ...unsigned, signature: deps.signer.sign(checkpointPayload(unsigned)) };
  }

  const appendListeners = new Set<() => void>();

  /**
   * Writes the events, unsealed, in the caller's transaction: no lock, so audited transactions no
   * longer queue behind each other until commit. The sealer chains them once they are committed.
   */
  async function appendMany(tx: Tx, inputs: AuditEventInput[]): Promise<AppendedEvent[]> {
    if (inputs.length === 0) return [];
    inputs.forEach(checkInput);
    const occurredAt = deps.clock.now();
    const events = inputs.map((input) => ({
      id: deps.ids.uuid(),
      occurredAt,
      actorType: input.actor.type,
      actorId: input.actor.id,
      actorName: input.actor.name,
      action: input.action,
      targetType: input.target?.type ?? null,
      targetId: input.target?.id ?? null,
      ticket: input.ticket ?? null,
      // normalised through JSON: what the database gives back, and the sealer hashes
      details: JSON.parse(JSON.stringify(input.details ?? {})) as Record<string, unknown>,
      requestId: input.requestId ?? null,
      sourceIp: input.sourceIp ?? null,
    }));
    await auditStore.insertEvents(tx, events);
    appended.inc(events.length);
    for (const listener of appendListeners) listener();
    return events;
  }

  /**
   * Chains every committed unsealed event, oldest append first, under the sealer lock the caller
   * holds: the next sequence numbers, each hash over its predecessor's, and a signed checkpoint every
   * `checkpointEvery` events. Returns how many it sealed.
   */
  async function sealLocked(tx: Executor): Promise<number> {
    const head = await auditStore.head(tx);
    let seq = head.seq;
    let prevHash = head.hash ?? GENESIS_HASH;
    let lastCheckpoint = head.checkpointSeq;
    let sealed = 0;
    for (;;) {
      const batch = await auditStore.unsealed(tx, SEAL_BATCH);
      if (batch.length === 0) break;
      const chained = batch.map((event) => {
        seq += 1;
        const hash = hashEvent({ ...event, seq, prevHash });
        const link = { id: event.id, seq, prevHash, hash };
        prevHash = hash;
        return link;
      });
      await auditStore.seal(tx, chained);
      for (const link of chained) {
        if (link.seq - lastCheckpoint < deps.checkpointEvery) continue;
        await auditStore.insertCheckpoint(tx, sign(link.seq, link.hash));
        lastCheckpoint = link.seq;
      }
      sealed += batch.length;
      if (batch.length < SEAL_BATCH) break;
    }
    return sealed;
  }

  const inTransaction = <T>(db: Executor, work: (tx: Executor) => Promise<T>): Promise<T> =>
    db.isTransaction ? work(db) : db.transaction().execute(work);

  /**
   * Read-your-writes: seals what is committed and unsealed before a read, waiting for a sealer at
   * work elsewhere. Costs one index look when nothing waits.
   */
  async function sealWaiting(db: Executor): Promise<number> {
    if (!(await auditStore.hasUnsealed(db))) return 0;
    return inTransaction(db, async (tx) => {
      await auditStore.lockSealer(tx);
      return sealLocked(tx);
    });
  }

  /**
   * Before a read: seals what waits, unless this connection may not write (a read-only replica or
   * role, e.g. an auditor's verify on a restored copy) — then the read sees the sealed part only.
   */
  async function sealBeforeRead(db: Executor): Promise<void> {
    try {
      await sealWaiting(db);
    } catch (error) {
      const code = pgErrorCode(error);
      if (code !== PgCode.readOnlyTransaction && code !== PgCode.insufficientPrivilege) throw error;
    }
  }

  const appender: AuditAppender = {
    append: async (tx, input) => (await appendMany(tx, [input]))[0]!,
  };

  return {
    ...appender,
    appendMany,
    sealWaiting,

    /** The background sealer's turn: seals unless another sealer holds the lock ('busy'). */
    async trySeal(store: Pick<Store, 'db'>): Promise<number | 'busy'> {
      if (!(await auditStore.hasUnsealed(store.db))) return 0;
      return store.db.transaction().execute(async (tx) => {
        if (!(await auditStore.tryLockSealer(tx))) return 'busy' as const;
        return sealLocked(tx);
      });
    },

    /** Calls `listener` after every append in this process (before its transaction commits). */
    onAppended(listener: () => void): () => void {
      appendListeners.add(listener);
      return () => appendListeners.delete(listener);
    },

    /** Signs the head of the chain if the last checkpoint is older than `checkpointMinutes`. */
    async checkpointIfDue(store: Store): Promise<boolean> {
      return store.db.transaction().execute(async (tx) => {
        await auditStore.lockSealer(tx);
        await sealLocked(tx);
        const head = await auditStore.head(tx);
        if (!head.hash || head.seq <= head.checkpointSeq) return false;
        const age = head.checkpointAt ? deps.clock.now().getTime() - head.checkpointAt.getTime() : Infinity;
        if (age < deps.checkpointMinutes * 60_000) return false;
        await auditStore.insertCheckpoint(tx, sign(head.seq, head.hash));
        return true;
      });
    },

    /** Signs the head of the chain now (used at shutdown and by `gatehouse audit checkpoint`). */
    async checkpointNow(store: Store): Promise<number | undefined> {
      return store.db.transaction().execute(async (tx) => {
        await auditStore.lockSealer(tx);
        await sealLocked(tx);
        const head = await auditStore.head(tx);
        if (!head.hash || head.seq <= head.checkpointSeq) return undefined;
        await auditStore.insertCheckpoint(tx, sign(head.seq, head.hash));
        return head.seq;
      });
    },

    async verify(db: Executor, options: VerifyOptions = {}): Promise<VerifyResult> {
      await sealBeforeRead(db);
      const trusted = new Map<string, string>([[deps.signer.keyId, deps.signer.publicKeyPem]]);
      for (const pem of options.extraPublicKeys ?? []) {
        trusted.set(publicKeyId(createPublicKey(pem)), pem);
      }
      const bounds = await auditStore.seqBounds(db);
      const lastCheckpoint = await auditStore.lastCheckpointSeq(db);
      const fromSeq = Math.max(1, options.fromSeq ?? 1);
      // without an explicit end, a checkpoint past the last event also counts: a cut-off tail is a break
      const toSeq = options.toSeq ?? Math.max(bounds.max ?? 0, lastCheckpoint);
      const result: VerifyResult = {
        ok: true,
        fromSeq,
        toSeq,
        checked: 0,
        checkpoints: { total: 0, verified: 0 },
      };
      if (toSeq < fromSeq) return result;

      let anchor = { seq: 0, hash: GENESIS_HASH };
      if (fromSeq > 1) {
        const before = await auditStore.eventBySeq(db, fromSeq - 1);
        if (!before) {
          return {
            ...result,
            ok: false,
            broken: { seq: fromSeq - 1, reason: `event ${fromSeq - 1} is missing` },
          };
        }
        anchor = { seq: before.seq, hash: before.hash };
      }
      const checkpoints = await auditStore.checkpoints(db, fromSeq, toSeq);
      const verifier = createChainVerifier(anchor, { keepHashesOf: new Set(checkpoints.map((c) => c.seq)) });
      let cursor = fromSeq - 1;
      while (cursor < toSeq) {
        const page = await auditStore.page(db, cursor, toSeq, VERIFY_PAGE);
        if (page.length === 0) break;
        for (const event of page) if (!verifier.push(event)) break;
        if (verifier.broken) break;
        cursor = page[page.length - 1]!.seq;
        options.onProgress?.(verifier.checked, toSeq - fromSeq + 1);
      }
      let broken = verifier.broken;
      if (!broken && verifier.lastSeq < toSeq) {
        const missing = verifier.lastSeq + 1;
        broken = {
          seq: missing,
          reason: `event ${missing}${toSeq > missing ? `–${toSeq}` : ''} is missing (deleted?): the log ends at ${verifier.lastSeq}`,
        };
      }

      let verified = 0;
      for (const checkpoint of checkpoints) {
        if (broken && checkpoint.seq >= broken.seq) break;
        const pem = trusted.get(checkpoint.keyId);
        const problem = !pem
          ? `checkpoint at event ${checkpoint.seq} is signed by unknown key ${checkpoint.keyId}`
          : !verifySignature(pem, checkpointPayload(checkpoint), checkpoint.signature)
            ? `checkpoint at event ${checkpoint.seq} has an invalid signature (forged or altered)`
            : verifier.verifiedHash(checkpoint.seq) !== checkpoint.hash
              ? `checkpoint at event ${checkpoint.seq} does not match the event's hash (forged, or the event was replaced)`
              : undefined;
        if (problem) {
          broken = { seq: checkpoint.seq, reason: problem };
          break;
        }
        verified += 1;
      }
      return {
        ...result,
        ok: !broken,
        checked: verifier.checked,
        checkpoints: { total: checkpoints.length, verified },
        ...(broken ? { broken } : {}),
      };
    },

    async search(db: Executor, filters: AuditSearchFilters, options: { cursor?: number; limit: number }) {
      await sealBeforeRead(db);
      const rows = await auditStore.search(db, filters, options.cursor, options.limit + 1);
      const { items, nextCursor } = pageOf(rows, options.limit, (last) => last.seq);
      return { events: items, nextCursor };
    },

    async get(db: Executor, id: string) {
      await sealBeforeRead(db);
      return auditStore.eventById(db, id);
    },

    /** Up to `limit` events after `afterSeq`, oldest first: how followers (forwarders, notifier) read on. */
    async after(db: Executor, afterSeq: number, limit: number) {
      await sealBeforeRead(db);
      return auditStore.page(db, afterSeq, Number.MAX_SAFE_INTEGER, limit);
    },

    /** Events in sequence order for export, page by page, within an optional time window. */
    async *stream(db: Executor, window: { from?: Date; to?: Date } = {}): AsyncGenerator<AuditEvent> {
      await sealBeforeRead(db);
      const bounds = await auditStore.seqBounds(db, window.from, window.to);
      if (bounds.min === null || bounds.max === null) return;
      let cursor = bounds.min - 1;
      for (;;) {
        const page = await auditStore.page(db, cursor, bounds.max, VERIFY_PAGE);
        if (page.length === 0) return;
        for (const event of page) {
          if (window.from && event.occurredAt < window.from) continue;
          if (window.to && event.occurredAt > window.to) continue;
          yield event;
        }
        cursor = page[page.length - 1]!.seq;
      }
    },

    publicKey: () => ({ keyId: deps.signer.keyId, pem: deps.signer.publicKeyPem }),

    /** Signed checkpoints with fromSeq <= seq <= toSeq, oldest first (evidence packs carry them). */
    async checkpoints(db: Executor, fromSeq: number, toSeq: number) {
      await sealBeforeRead(db);
      return auditStore.checkpoints(db, fromSeq, toSeq);
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

import { randomBytes } from 'node:crypto';
import { createAuditLog } from '../../src/modules/audit/audit.service.js';
import type { AuditEvent, AuditEventInput } from '../../src/modules/audit/audit.types.js';
import { createChainVerifier, GENESIS_HASH, hashEvent } from '../../src/modules/audit/domain/chain.js';
import { systemClock, systemIds, uuidv7 } from '../../src/platform/clock.js';
import { createSigner } from '../../src/platform/crypto.js';
import { migrate } from '../../src/platform/db/migrate.js';
import { openStore, type Store } from '../../src/platform/db/store.js';
import { perSecond, timed, type BenchContext, type BenchGroup } from '../framework.js';

const POSTGRES_EVENTS = 50_000;
const PGLITE_EVENTS = 10_000;
const BATCH = 500;
const SINGLE_EVENTS = 500;
const VERIFY_EVENTS = 500_000;
const VERIFY_PASSES = 3;
/** Appending stops early past this, so a slow machine still finishes in bounded time. */
const APPEND_BUDGET_MS = 30_000;

const input = (n: number): AuditEventInput => ({
  actor: { type: 'operator', id: 'op-7f3a', name: 'alice' },
  action: n % 3 ? 'grant.created' : 'grant.revoked',
  target: { type: 'asset', id: `asset-${n % 1000}` },
  ticket: `OPS-${1000 + (n % 50)}`,
  details: { permission: 'read', reason: 'incident follow-up', minutes: 60, reviewers: ['bob', 'carol'] },
  requestId: `req-${n}`,
  sourceIp: '10.20.30.40',
});

function newLog() {
  return createAuditLog({
    clock: systemClock,
    ids: systemIds(systemClock),
    signer: createSigner(randomBytes(32)),
    checkpointEvery: 1000,
    checkpointMinutes: 60,
  });
}

/** Appends `total` events in transactions of `batch`; returns how many it appended and how long that took. */
async function appendBatches(ctx: BenchContext, store: Store, total: number, batch: number) {
  const log = newLog();
  let appended = 0;
  const { ms } = await timed(async () => {
    const started = performance.now();
    while (appended < total && performance.now() - started < APPEND_BUDGET_MS) {
      const size = Math.min(batch, total - appended);
      const inputs = Array.from({ length: size }, (_, i) => input(appended + i));
      await store.db.transaction().execute((tx) => log.appendMany(tx, inputs));
      appended += size;
      if (appended % (batch * 20) === 0) ctx.log(`${store.kind}: ${appended}/${total} appended`);
    }
  });
  if (appended < total) ctx.log(`${store.kind}: stopped at ${appended} events after ${APPEND_BUDGET_MS} ms`);
  return { log, appended, ms };
}

/**
 * A chained log built with the pure domain functions, shaped as verification sees it: pages of rows
 * parsed from the database (flat strings, fresh objects), one timestamp per appended batch.
 */
function generateChain(count: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  for (let seq = 1; seq <= count; seq++) {
    const source = input(seq);
    const occurredAt = new Date(start + Math.floor((seq - 1) / BATCH) * 37);
    const unhashed = {
      seq,
      id: uuidv7(occurredAt.getTime()),
      occurredAt,
      actorType: source.actor.type,
      actorId: source.actor.id,
      actorName: source.actor.name,
      action: source.action,
      targetType: source.target!.type,
      targetId: source.target!.id,
      ticket: source.ticket!,
      details: source.details!,
      requestId: source.requestId!,
      sourceIp: source.sourceIp!,
      prevHash,
    };
    const hash = hashEvent(unhashed);
    const row = JSON.parse(JSON.stringify({ ...unhashed, hash })) as AuditEvent & { occurredAt: string };
    events.push({ ...row, occurredAt: new Date(row.occurredAt) });
    prevHash = hash;
  }
  return events;
}

const group: BenchGroup = {
  name: 'audit',
  targets: {
    'append_per_s.postgres': { atLeast: 5_000 },
    verify_per_s: { atLeast: 500_000 },
  },

  async run(ctx) {
    const results: Record<string, number> = {};

    // verification of the chain itself, over events already in memory
    ctx.log(`verify: generating ${VERIFY_EVENTS} chained events`);
    const chain = generateChain(VERIFY_EVENTS);
    let best = Infinity;
    let bestCpuMs = Infinity;
    for (let pass = 1; pass <= VERIFY_PASSES; pass++) {
      const verifier = createChainVerifier();
      const cpu = process.cpuUsage();
      const { ms } = await timed(() => {
        for (const event of chain) verifier.push(event);
      });
      const used = process.cpuUsage(cpu);
      bestCpuMs = Math.min(bestCpuMs, (used.user + used.system) / 1000);
      if (verifier.broken || verifier.checked !== VERIFY_EVENTS) {
        throw new Error(`the generated chain did not verify: ${verifier.broken?.reason ?? 'short'}`);
      }
      ctx.log(`verify: pass ${pass}: ${perSecond(VERIFY_EVENTS, ms)} events/s`);
      best = Math.min(best, ms);
    }
    // best of the passes: other work on a shared machine only ever slows a pass down
    results.verify_per_s = perSecond(VERIFY_EVENTS, best);
    // per second of this process's CPU time: less sensitive to the machine's load than wall time
    results.verify_per_cpu_s = perSecond(VERIFY_EVENTS, bestCpuMs);
    chain.length = 0;

    // PostgreSQL: batched appends, then verify() reading them back
    const database = await ctx.scratchDatabase();
    const pgStore = await database.open();
    await migrate(pgStore);
    ctx.log(`postgres: appending ${POSTGRES_EVENTS} events in batches of ${BATCH}`);
    const pg = await appendBatches(ctx, pgStore, POSTGRES_EVENTS, BATCH);
    results['append_per_s.postgres'] = perSecond(pg.appended, pg.ms);
    ctx.log(`postgres: ${results['append_per_s.postgres']} events/s`);

    const singles = newLog();
    const single = await timed(async () => {
      for (let i = 0; i < SINGLE_EVENTS; i++) {
        await pgStore.db.transaction().execute((tx) => singles.append(tx, input(i)));
      }
    });
    results['append_per_s.postgres_one_per_transaction'] = perSecond(SINGLE_EVENTS, single.ms);

    ctx.log('postgres: verify() end to end');
    const verified = await timed(() =>
      pg.log.verify(pgStore.db, { extraPublicKeys: [singles.publicKey().pem] }),
    );
    if (!verified.value.ok)
      throw new Error(`verify() failed on the benchmark log: ${verified.value.broken?.reason}`);
    results['verify_per_s.postgres_end_to_end'] = perSecond(verified.value.checked, verified.ms);

    // PGlite, in memory
    ctx.log('pglite: migrating an in-memory store');
    const pglite = await openStore({});
    ctx.defer(() => pglite.close());
    await migrate(pglite);
    ctx.log(`pglite: appending ${PGLITE_EVENTS} events in batches of ${BATCH}`);
    const embedded = await appendBatches(ctx, pglite, PGLITE_EVENTS, BATCH);
    results['append_per_s.pglite'] = perSecond(embedded.appended, embedded.ms);
    ctx.log(`pglite: ${results['append_per_s.pglite']} events/s`);

    return results;
  },
};

export default group;

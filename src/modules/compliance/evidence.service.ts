import type { Clock } from '../../platform/clock.js';
import type { Signer } from '../../platform/crypto.js';
import type { Store } from '../../platform/db/store.js';
import type { AuditLog } from '../audit/audit.service.js';
import type { AuditEvent } from '../audit/audit.types.js';
import { checkpointPayload } from '../audit/domain/chain.js';
import { formatEvent } from '../audit/domain/export-format.js';
import type { InventoryService } from '../inventory/inventory.service.js';
import type { ComplianceService } from './compliance.service.js';
import { catalogRef } from './domain/catalog.js';
import { toProofCheckpoint, verifyChainProof, type ProofCheckpoint } from './domain/chain-proof.js';
import { allControlActions, automatedTestIds, controlActions } from './domain/control-actions.js';
import {
  defaultControlTestSettings,
  runControlTests,
  type ControlTestResult,
  type ControlTestSettings,
  type Period,
  type ScopedHost,
} from './domain/controls/index.js';
import {
  json,
  PROOF_CHECKPOINT,
  PROOF_EVENTS,
  PUBLIC_KEY,
  sealPack,
  text,
  toCsv,
  type PackFiles,
} from './domain/evidence-pack.js';
import { packReadme } from './domain/pack-readme.js';

export interface EvidenceServiceDeps {
  store: Store;
  clock: Clock;
  audit: Pick<AuditLog, 'stream' | 'checkpoints' | 'checkpointNow' | 'publicKey'>;
  /** Signs the pack's manifest: the audit checkpoint key, so one public key checks both. */
  signer: Pick<Signer, 'sign' | 'keyId'>;
  inventory: Pick<InventoryService, 'listAssets'>;
  compliance: Pick<ComplianceService, 'matrix' | 'exportYaml' | 'catalog'>;
  settings?: Partial<ControlTestSettings>;
}

export interface ControlTestRun {
  period: { from: string; to: string };
  results: ControlTestResult[];
}

/**
 * Evidence computed from Gatehouse's own records: the automated control tests over the audit log (the
 * population queries are here, the tests are pure), and evidence packs that carry the populations,
 * results, matrix and the chain proof for the period.
 */
export function createEvidenceService(deps: EvidenceServiceDeps) {
  const { db } = deps.store;
  const settings = { ...defaultControlTestSettings, ...deps.settings };

  /** Servers of the inventory are in scope of hardening scans, from when they were recorded. */
  async function scopedHosts(): Promise<ScopedHost[]> {
    const hosts: ScopedHost[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.inventory.listAssets({
        kind: 'server',
        limit: 500,
        ...(cursor ? { cursor } : {}),
      });
      for (const asset of page.items) hosts.push({ id: asset.id, name: asset.name, since: asset.createdAt });
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return hosts;
  }

  /** Every event a control reads, from the start of the log to the end of the period (for replay). */
  async function controlEvents(period: Period): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    for await (const event of deps.audit.stream(db, { to: period.to })) {
      if (allControlActions.has(event.action)) events.push(event);
    }
    return events;
  }

  async function run(period: Period): Promise<ControlTestRun> {
    const results = runControlTests(await controlEvents(period), await scopedHosts(), period, settings);
    return {
      period: { from: period.from.toISOString(), to: period.to.toISOString() },
      results: automatedTestIds.map((id) => results[id]),
    };
  }

  /** The period's events up to a signed checkpoint at or after the last of them (signing one if needed). */
  async function proofEvents(
    period: Period,
  ): Promise<{ events: AuditEvent[]; checkpoint: ProofCheckpoint | null }> {
    let firstSeq = 0;
    let lastSeq = 0;
    for await (const event of deps.audit.stream(db, period)) {
      firstSeq ||= event.seq;
      lastSeq = event.seq;
    }
    if (lastSeq === 0) return { events: [], checkpoint: null };
    let [checkpoint] = await deps.audit.checkpoints(db, lastSeq, Number.MAX_SAFE_INTEGER);
    if (!checkpoint) {
      await deps.audit.checkpointNow(deps.store);
      [checkpoint] = await deps.audit.checkpoints(db, lastSeq, Number.MAX_SAFE_INTEGER);
    }
    if (!checkpoint) return { events: [], checkpoint: null };
    const events: AuditEvent[] = [];
    // by sequence number, not time: the proof is every event from the first of the period to the checkpoint
    for await (const event of deps.audit.stream(db)) {
      if (event.seq > checkpoint.seq) break;
      if (event.seq >= firstSeq) events.push(event);
    }
    return { events, checkpoint: toProofCheckpoint(checkpoint) };
  }

  return {
    run,

    /** Builds the zip of a period's evidence; `proof` says whether the chain proof held at export. */
    async pack(period: Period, generatedBy: string) {
      const tests = await run(period);
      const matrix = await deps.compliance.matrix();
      const catalog = deps.compliance.catalog();
      const { events, checkpoint } = await proofEvents(period);
      const publicKey = deps.audit.publicKey();
      const proof = verifyChainProof(events, checkpoint, publicKey.pem);

      const files: PackFiles = new Map();
      for (const result of tests.results) {
        const base = `controls/${result.test}`;
        const controls = matrix.controls.filter((c) => c.test === result.test).map((c) => c.key);
        files.set(`${base}/population.csv`, text(toCsv(result.population)));
        files.set(`${base}/population.json`, json(result.population));
        files.set(
          `${base}/result.json`,
          json({
            test: result.test,
            criteria: result.criteria,
            controls,
            period: result.period,
            status: result.status,
            populationSize: result.population.length,
            exceptions: result.exceptions,
            auditActionsRead: controlActions[result.test],
          }),
        );
      }
      files.set('matrix/matrix.yaml', text(await deps.compliance.exportYaml()));
      files.set(
        'matrix/gaps.csv',
        text(
          toCsv(
            matrix.gaps.map((g) => ({
              ...g,
              stories: matrix.stories
                .filter((s) => s.gaps.includes(g.key))
                .map((s) => s.key)
                .join(' '),
            })),
          ),
        ),
      );
      files.set(PROOF_EVENTS, text(events.map((e) => formatEvent(e, 'jsonl')).join('')));
      files.set(PROOF_CHECKPOINT, json(checkpoint));
      files.set(PUBLIC_KEY, text(publicKey.pem));
      files.set('audit/checkpoint.payload', text(checkpoint ? checkpointPayloadText(checkpoint) : ''));
      files.set(
        'audit/checkpoint.sig',
        checkpoint ? Buffer.from(checkpoint.signature, 'base64') : new Uint8Array(),
      );
      const summary = {
        format: 'gatehouse.evidence-pack.v1',
        period: tests.period,
        generatedAt: deps.clock.now().toISOString(),
        generatedBy,
        catalog: catalogRef(catalog),
        keyId: publicKey.keyId,
        controls: tests.results.map((r) => ({
          test: r.test,
          criteria: r.criteria,
          status: r.status,
          exceptions: r.exceptions.length,
        })),
        chainProof: {
          ...proof,
          fromSeq: events[0]?.seq ?? null,
          toSeq: events[events.length - 1]?.seq ?? null,
          periodEvents: events.filter((e) => e.occurredAt <= period.to).length,
        },
      };
      files.set('pack.json', json(summary));
      files.set('README.txt', text(packReadme(summary)));
      return { zip: sealPack(files, deps.signer.sign), summary };
    },
  };
}

/** Exactly the bytes the checkpoint's signature covers, for `openssl pkeyutl -verify -rawin`. */
const checkpointPayloadText = (checkpoint: ProofCheckpoint): string =>
  checkpointPayload({ ...checkpoint, createdAt: new Date(checkpoint.createdAt) });

export type EvidenceService = ReturnType<typeof createEvidenceService>;

import { verifySignature } from '../../../platform/crypto.js';
import type { AuditEvent } from '../../audit/audit.types.js';
import { checkpointPayload, createChainVerifier, type Checkpoint } from '../../audit/domain/chain.js';
import type { ExportRecord } from '../../audit/domain/export-format.js';

/**
 * The audit-chain proof of an evidence pack: the events from the first of the period up to a signed
 * checkpoint, each re-hashed and linked to the one before, the last one's hash equal to the
 * checkpoint's, and the checkpoint's signature valid under the public key. Pure: runs on the pack's
 * files, on the server at export and offline in `verify-pack`.
 */

export interface ProofCheckpoint {
  seq: number;
  hash: string;
  createdAt: string;
  keyId: string;
  signature: string;
}

export type ProofResult = { ok: true; events: number; checkpointSeq: number } | { ok: false; reason: string };

export function fromExportRecord(record: ExportRecord): AuditEvent {
  return { ...record, occurredAt: new Date(record.occurredAt) };
}

export function toProofCheckpoint(checkpoint: Checkpoint): ProofCheckpoint {
  return { ...checkpoint, createdAt: checkpoint.createdAt.toISOString() };
}

export function verifyChainProof(
  events: readonly AuditEvent[],
  checkpoint: ProofCheckpoint | null,
  publicKeyPem: string,
): ProofResult {
  // a period without events proves nothing and needs nothing
  if (events.length === 0 && checkpoint === null) return { ok: true, events: 0, checkpointSeq: 0 };
  if (events.length === 0) return { ok: false, reason: 'the proof holds no events' };
  if (!checkpoint) return { ok: false, reason: 'the proof holds no signed checkpoint' };
  const first = events[0]!;
  const verifier = createChainVerifier(
    { seq: first.seq - 1, hash: first.prevHash },
    { keepHashesOf: new Set([checkpoint.seq]) },
  );
  for (const event of events) if (!verifier.push(event)) break;
  if (verifier.broken) return { ok: false, reason: verifier.broken.reason };
  if (verifier.lastSeq !== checkpoint.seq) {
    return {
      ok: false,
      reason: `the events end at ${verifier.lastSeq} but the checkpoint is at ${checkpoint.seq}`,
    };
  }
  const signed = { ...checkpoint, createdAt: new Date(checkpoint.createdAt) };
  if (!verifySignature(publicKeyPem, checkpointPayload(signed), checkpoint.signature)) {
    return { ok: false, reason: `checkpoint at event ${checkpoint.seq} has an invalid signature` };
  }
  if (verifier.verifiedHash(checkpoint.seq) !== checkpoint.hash) {
    return { ok: false, reason: `checkpoint at event ${checkpoint.seq} does not match the event's hash` };
  }
  return { ok: true, events: verifier.checked, checkpointSeq: checkpoint.seq };
}

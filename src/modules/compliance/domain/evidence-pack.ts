import { createHash } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { verifySignature } from '../../../platform/crypto.js';
import type { ExportRecord } from '../../audit/domain/export-format.js';
import { csvCell } from '../../audit/domain/export-format.js';
import { fromExportRecord, verifyChainProof, type ProofCheckpoint } from './chain-proof.js';
import type { PopulationRow } from './controls/types.js';

/**
 * An evidence pack is a zip of plain files an auditor can read and check with standard tools:
 * `SHA256SUMS` (sha256sum's format) lists every other file, `SHA256SUMS.sig` is its Ed25519 signature
 * under `audit/public-key.pem`, and `audit/` holds the chain proof. Building and checking are pure.
 */
export const MANIFEST = 'SHA256SUMS';
export const MANIFEST_SIGNATURE = 'SHA256SUMS.sig';
export const PUBLIC_KEY = 'audit/public-key.pem';
export const PROOF_EVENTS = 'audit/events.jsonl';
export const PROOF_CHECKPOINT = 'audit/checkpoint.json';

/** Files in a pack by path; text is stored as UTF-8. */
export type PackFiles = Map<string, Uint8Array>;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** Fixed time for every entry, so the same files always zip to the same bytes. */
const ZIP_TIME = new Date('2000-01-01T00:00:00Z');

export function toCsv(rows: readonly PopulationRow[]): string {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  if (columns.length === 0) return '';
  const lines = [columns.map(csvCell).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row[c] ?? null)).join(','));
  return `${lines.join('\n')}\n`;
}

export const text = (value: string): Uint8Array => strToU8(value);
export const json = (value: unknown): Uint8Array => strToU8(`${JSON.stringify(value, null, 2)}\n`);

/** The manifest in sha256sum's format (two spaces, path), sorted by path. */
export function manifestOf(files: PackFiles): string {
  return [...files.keys()]
    .filter((name) => name !== MANIFEST && name !== MANIFEST_SIGNATURE)
    .sort()
    .map((name) => `${sha256(files.get(name)!)}  ${name}\n`)
    .join('');
}

/** Adds the manifest and its signature (raw Ed25519, for openssl) and zips everything. */
export function sealPack(files: PackFiles, sign: (data: string) => string): Uint8Array {
  const manifest = manifestOf(files);
  const all = new Map(files);
  all.set(MANIFEST, text(manifest));
  all.set(MANIFEST_SIGNATURE, Buffer.from(sign(manifest), 'base64'));
  const entries: Record<string, [Uint8Array, { mtime: Date }]> = {};
  for (const name of [...all.keys()].sort()) entries[name] = [all.get(name)!, { mtime: ZIP_TIME }];
  return zipSync(entries, { level: 6 });
}

export interface PackProblem {
  file: string;
  problem: string;
}

export interface PackCheck {
  ok: boolean;
  problems: PackProblem[];
  files: number;
  proof: { ok: boolean; events?: number; checkpointSeq?: number; reason?: string };
}

function unzip(bytes: Uint8Array): PackFiles | PackProblem {
  try {
    return new Map(Object.entries(unzipSync(bytes)));
  } catch (error) {
    return { file: '(the zip itself)', problem: `not a readable zip: ${(error as Error).message}` };
  }
}

function parseManifest(manifest: string): Map<string, string> | undefined {
  const entries = new Map<string, string>();
  for (const line of manifest.split('\n')) {
    if (line === '') continue;
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!match) return undefined;
    entries.set(match[2]!, match[1]!);
  }
  return entries;
}

/** The chain proof from the pack's own files (never from anything the pack says about itself). */
export function proofOf(files: PackFiles): PackCheck['proof'] {
  try {
    const events = strFromU8(files.get(PROOF_EVENTS) ?? new Uint8Array())
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => fromExportRecord(JSON.parse(line) as ExportRecord));
    const checkpoint = JSON.parse(
      strFromU8(files.get(PROOF_CHECKPOINT) ?? strToU8('null')),
    ) as ProofCheckpoint | null;
    return verifyChainProof(events, checkpoint, strFromU8(files.get(PUBLIC_KEY) ?? new Uint8Array()));
  } catch (error) {
    return { ok: false, reason: `the proof files cannot be read: ${(error as Error).message}` };
  }
}

/**
 * Checks a pack offline: the manifest's signature under the pack's public key (optionally pinned to
 * an expected key), every file against its hash, no file missing or added, and the chain proof.
 * Every problem names the file.
 */
export function checkPack(bytes: Uint8Array, options: { expectedPublicKeyPem?: string } = {}): PackCheck {
  const files = unzip(bytes);
  const fail = (problems: PackProblem[]): PackCheck => ({
    ok: false,
    problems,
    files: files instanceof Map ? files.size : 0,
    proof: { ok: false, reason: 'not checked' },
  });
  if (!(files instanceof Map)) return fail([files]);
  const manifestBytes = files.get(MANIFEST);
  if (!manifestBytes) return fail([{ file: MANIFEST, problem: 'missing: the pack has no manifest' }]);
  const manifestText = strFromU8(manifestBytes);
  const listed = parseManifest(manifestText);
  if (!listed) return fail([{ file: MANIFEST, problem: 'not in sha256sum format (changed?)' }]);

  const problems: PackProblem[] = [];
  for (const [name, expected] of listed) {
    const content = files.get(name);
    if (!content) problems.push({ file: name, problem: 'listed in the manifest but missing' });
    else if (sha256(content) !== expected)
      problems.push({ file: name, problem: 'changed: its SHA-256 does not match the manifest' });
  }
  for (const name of files.keys()) {
    if (name !== MANIFEST && name !== MANIFEST_SIGNATURE && !listed.has(name)) {
      problems.push({ file: name, problem: 'not listed in the manifest (added?)' });
    }
  }
  const publicKey = files.get(PUBLIC_KEY) ? strFromU8(files.get(PUBLIC_KEY)!) : '';
  if (
    options.expectedPublicKeyPem !== undefined &&
    publicKey.trim() !== options.expectedPublicKeyPem.trim()
  ) {
    problems.push({ file: PUBLIC_KEY, problem: 'is not the public key you expect' });
  }
  const signature = files.get(MANIFEST_SIGNATURE);
  const signed =
    signature !== undefined &&
    verifySignature(publicKey, manifestText, Buffer.from(signature).toString('base64'));
  // a changed key explains a failed signature by itself; otherwise the manifest or its signature changed
  if (!signed && !problems.some((p) => p.file === PUBLIC_KEY)) {
    if (problems.length === 0) {
      problems.push({
        file: MANIFEST_SIGNATURE,
        problem: `does not verify ${MANIFEST} under ${PUBLIC_KEY}: the signature (or the manifest with it) was changed`,
      });
    } else {
      problems.unshift({
        file: MANIFEST,
        problem: `changed: its signature does not verify under ${PUBLIC_KEY}, so the hashes it lists cannot be trusted`,
      });
    }
  }
  const proof = proofOf(files);
  if (!proof.ok) problems.push({ file: PROOF_EVENTS, problem: `chain proof fails: ${proof.reason}` });
  return { ok: problems.length === 0, problems, files: files.size, proof };
}

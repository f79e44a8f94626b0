import type { Asset } from '../inventory/inventory.schemas.js';
import { formatDuration } from './domain/duration.js';
import { extensionTally } from './domain/extension-machine.js';
import { tallyOf } from './domain/request-machine.js';
import type { PolicyPreview } from './domain/preview.js';
import type { EndpointView, ExtensionView, GrantView, PreviewView, RequestView } from './access.schemas.js';
import type { AccessRequestRecord, ExtensionRecord, GrantRecord } from './access.types.js';
import { connectionLine, databaseOf, endpointOf, provisionable, type ProvisionableAsset } from './targets.js';

/** Records as the API shows them: names next to ids, no sealed secret, the connection line while usable. */

/** Where an account on the asset connects: engine, host, port, database, and the account's name. */
export function endpointView(asset: ProvisionableAsset, account: string): EndpointView {
  return {
    engine: asset.engine,
    ...endpointOf(asset),
    database: asset.engine === 'linux-ssh' ? null : (databaseOf(asset) ?? null),
    username: account,
  };
}

export function grantView(
  grant: GrantRecord,
  request: Pick<AccessRequestRecord, 'assetName' | 'requesterUsername' | 'ticket'>,
  asset: Asset | undefined,
): GrantView {
  const s = grant.state;
  const usable = s.status === 'active' && asset !== undefined;
  return {
    id: grant.id,
    requestId: grant.requestId,
    asset: request.assetName,
    assetId: grant.assetId,
    account: grant.accountName,
    level: grant.level,
    status: s.status,
    holder: request.requesterUsername,
    holderId: grant.holderId,
    ticket: request.ticket,
    startedAt: s.lease.startedAt,
    notAfter: s.lease.notAfter,
    claimDeadline: s.lease.claimDeadline,
    revealedAt: s.revealedAt,
    revealedBy: grant.revealedBy?.username ?? null,
    endReason: s.endReason,
    attempts: { ...s.attempts },
    lastError: grant.lastError,
    revocationFailed: grant.revocationFailed,
    endedAt: s.endedAt,
    connection: usable ? connectionLine(provisionable(asset), grant.accountName) : null,
    endpoint: usable ? endpointView(provisionable(asset), grant.accountName) : null,
    createdAt: grant.createdAt,
    updatedAt: grant.updatedAt,
  };
}

export function requestView(request: AccessRequestRecord, grant: GrantView | null): RequestView {
  const s = request.state;
  return {
    id: request.id,
    asset: request.assetName,
    assetId: request.assetId,
    level: request.level,
    duration: formatDuration(request.durationMs),
    durationMs: request.durationMs,
    reason: request.reason,
    ticket: request.ticket,
    fileTransfer: request.fileTransfer,
    breakGlass: request.breakGlass,
    status: s.status,
    requester: request.requesterUsername,
    requesterId: s.requesterId,
    policy: request.policy,
    policyVersion: request.policyVersion,
    approvals: {
      quorum: s.approvals.quorum,
      approverGroups: [...s.approvals.approverGroups],
      requiredGroups: [...s.approvals.requiredGroups],
    },
    tally: tallyOf(s),
    reviewDeadline: s.reviewDeadline,
    reviews: s.reviews.map((r) => ({
      reviewer: request.reviewerNames[r.reviewerId] ?? r.reviewerId,
      reviewerId: r.reviewerId,
      verdict: r.verdict,
      comment: r.comment,
      at: r.at,
      countedFor: r.countedFor,
      afterDecision: r.afterDecision,
    })),
    autoApproved: s.autoApproved,
    postReview: s.breakGlass?.postReview ?? null,
    decidedAt: s.decidedAt,
    issuedAt: s.issuedAt,
    createdAt: request.createdAt,
    updatedAt: request.updatedAt,
    grant,
  };
}

export function extensionView(extension: ExtensionRecord, grant: GrantView): ExtensionView {
  const s = extension.state;
  return {
    id: extension.id,
    grantId: extension.grantId,
    asset: grant.asset,
    account: grant.account,
    requester: extension.requesterUsername,
    requesterId: s.requesterId,
    reason: extension.reason,
    status: s.status,
    policy: extension.policy,
    policyVersion: extension.policyVersion,
    fromNotAfter: s.fromNotAfter,
    notAfter: s.notAfter,
    extendBy: formatDuration(s.notAfter.getTime() - s.fromNotAfter.getTime()),
    capped: extension.capped,
    approvals: {
      quorum: s.approvals.quorum,
      approverGroups: [...s.approvals.approverGroups],
      requiredGroups: [...s.approvals.requiredGroups],
    },
    tally: extensionTally(s),
    reviewDeadline: s.reviewDeadline,
    reviews: s.reviews.map((r) => ({
      reviewer: extension.reviewerNames[r.reviewerId] ?? r.reviewerId,
      reviewerId: r.reviewerId,
      verdict: r.verdict,
      comment: r.comment,
      at: r.at,
      countedFor: r.countedFor,
      afterDecision: r.afterDecision,
    })),
    autoApproved: s.autoApproved,
    breakGlass: s.breakGlass,
    decidedAt: s.decidedAt,
    createdAt: extension.createdAt,
    updatedAt: extension.updatedAt,
    grant,
  };
}

const durationOrNull = (ms: number | null) => (ms === null ? null : formatDuration(ms));

export function previewView(preview: PolicyPreview, policyVersion: number): PreviewView {
  const { approvals, clockStart, breakGlass } = preview;
  return {
    ...preview,
    policyVersion,
    maxDuration: durationOrNull(preview.maxDurationMs),
    approvals: approvals && {
      quorum: approvals.quorum,
      approverGroups: [...approvals.approverGroups],
      requiredGroups: [...approvals.requiredGroups],
      reviewWindow: formatDuration(approvals.reviewWindowMs),
    },
    autoApprovalRules: preview.autoApprovalRules.map(({ maxDurationMs, ...rule }) => ({
      ...rule,
      maxDuration: formatDuration(maxDurationMs),
    })),
    clockStart:
      clockStart &&
      (clockStart.mode === 'at-first-reveal'
        ? { mode: clockStart.mode, claimWindow: formatDuration(clockStart.claimWindow) }
        : { mode: clockStart.mode }),
    breakGlass: {
      available: breakGlass.available,
      maxDuration: durationOrNull(breakGlass.maxDurationMs),
      requireTicket: breakGlass.requireTicket,
      reasons: breakGlass.reasons,
    },
  };
}

export interface PresenterDeps {
  inventory: { getAsset(ref: string): Promise<Asset> };
  requestOf(requestId: string): Promise<AccessRequestRecord | undefined>;
  grantOf(requestId: string): Promise<GrantRecord | undefined>;
}

/** Builds views, fetching what a record only refers to (its asset, its request or grant). */
export function createPresenter(deps: PresenterDeps) {
  const assetOf = (id: string, cache: Map<string, Promise<Asset | undefined>>) => {
    let found = cache.get(id);
    if (!found) {
      found = deps.inventory.getAsset(id).catch(() => undefined);
      cache.set(id, found);
    }
    return found;
  };

  async function grant(
    record: GrantRecord,
    request?: AccessRequestRecord,
    cache = new Map<string, Promise<Asset | undefined>>(),
  ): Promise<GrantView> {
    const owner = request ?? (await deps.requestOf(record.requestId));
    if (!owner) throw new Error(`grant ${record.id} has no request ${record.requestId}`);
    return grantView(record, owner, await assetOf(record.assetId, cache));
  }

  return {
    grant,
    async grants(records: readonly GrantRecord[]): Promise<GrantView[]> {
      const cache = new Map<string, Promise<Asset | undefined>>();
      return Promise.all(records.map((r) => grant(r, undefined, cache)));
    },
    async request(record: AccessRequestRecord): Promise<RequestView> {
      const issued = await deps.grantOf(record.id);
      return requestView(record, issued ? await grant(issued, record) : null);
    },
  };
}

export type Presenter = ReturnType<typeof createPresenter>;

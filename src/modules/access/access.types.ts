import type { AccessRequestState } from './domain/request-machine.js';
import type { ExtensionState } from './domain/extension-machine.js';
import type { GrantState } from './domain/grant-machine.js';
import type { GrantTerms } from './domain/policy.js';
import type { PermissionLevel } from './domain/types.js';

/** What ends a grant when its ticket closes, frozen from the governing policy. */
export type OnTicketClose = 'revoke' | 'keep';

/** An access request as stored: what was asked, what the policy decided, and the machine's state. */
export interface AccessRequestRecord {
  id: string;
  requesterUsername: string;
  assetId: string;
  assetName: string;
  level: PermissionLevel;
  durationMs: number;
  reason: string;
  ticket: string | null;
  fileTransfer: boolean;
  breakGlass: boolean;
  policy: string;
  policyVersion: number;
  terms: GrantTerms;
  onTicketClose: OnTicketClose;
  state: AccessRequestState;
  /** Usernames of the reviewers, by reviewer id (the machine's reviews carry ids only). */
  reviewerNames: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/** A grant as stored: the grant machine's state plus what ties it to a target and a person. */
export interface GrantRecord {
  id: string;
  requestId: string;
  assetId: string;
  holderId: string;
  accountName: string;
  level: PermissionLevel;
  state: GrantState;
  /** Sealed with the master key, bound to the grant id; null once revealed or ended. */
  sealedPassword: string | null;
  revealedBy: { id: string; username: string } | null;
  lastError: string | null;
  revocationFailed: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** The statuses of a grant whose account may exist on its target. */
export const liveGrantStatuses = [
  'pending',
  'provisioning',
  'active',
  'revoking',
  'revocation_failed',
] as const;

/** Who is calling, as access needs them: the operator, their groups now, and their permissions. */
export interface Caller {
  operatorId: string;
  username: string;
  groups: readonly string[];
  permissions: ReadonlySet<string>;
}

/** Whether the caller sees everyone's requests and grants, or only their own. */
export const seesAll = (caller: Caller): boolean =>
  caller.permissions.has('access:read') ||
  caller.permissions.has('access:review') ||
  caller.permissions.has('access:admin');

/** An extension of a grant as stored: what was asked, what the policy decided, and the machine's state. */
export interface ExtensionRecord {
  id: string;
  grantId: string;
  requesterUsername: string;
  reason: string;
  policy: string;
  policyVersion: number;
  /** True when the time asked for was shortened to the policy maximum. */
  capped: boolean;
  state: ExtensionState;
  /** Usernames of the reviewers, by reviewer id. */
  reviewerNames: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

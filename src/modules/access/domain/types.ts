import type { assetKinds, engines, tiers } from '../../inventory/inventory.schemas.js';

/**
 * Words shared by the access domain: permission levels, the asset and the operator a request is about,
 * and the result every state machine returns. Nothing here does I/O.
 */

/** Ordered from least to most power. */
export const permissionLevels = ['read-only', 'read-write', 'admin'] as const;
export type PermissionLevel = (typeof permissionLevels)[number];

export type Tier = (typeof tiers)[number];
export type Engine = (typeof engines)[number];
export type AssetKind = (typeof assetKinds)[number];

/** The asset a request is for, as policy selectors see it: by names, the way policies are written. */
export interface AccessTarget {
  id: string;
  name: string;
  kind: AssetKind;
  /** Databases only; null for servers. */
  engine: Engine | null;
  /** Customer name, or null for platform assets. */
  customer: string | null;
  /** Tier of the asset's environment, or null when it has no environment. */
  tier: Tier | null;
  /** Names of the asset groups it belongs to. */
  groups: readonly string[];
}

/** An operator as the access domain needs them: who they are and which operator groups they are in. */
export interface Operator {
  id: string;
  username: string;
  groups: readonly string[];
}

/** Why a grant is being ended. Carried from the request machine's `revoke-grant` into the grant machine. */
export type RevokeReason =
  | 'expired'
  | 'unclaimed'
  | 'revoked-by-holder'
  | 'revoked-by-admin'
  | 'ticket-closed'
  | 'request-cancelled'
  | 'request-denied'
  | 'late-denial'
  | 'credentials-without-approval'
  | 'provisioning-failed';

/** A refused transition: a stable code to switch on and a message telling the user what to do next. */
export interface Refusal<Code extends string = string> {
  code: Code;
  message: string;
}

/**
 * What a state machine returns. On success, the new state and the effects the service must carry out,
 * in order, in the same transaction that persists the state (audit, notify, enqueue) or as the job that
 * follows it (outside effects). On refusal, nothing changed.
 */
export type Transition<State, Effect, Code extends string = string> =
  { ok: true; state: State; effects: readonly Effect[] } | { ok: false; error: Refusal<Code> };

export const refuse = <Code extends string>(code: Code, message: string) =>
  ({ ok: false, error: { code, message } }) as const;

/** Lists for messages: `a, b and c`. */
export function listOf(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1]}`;
}

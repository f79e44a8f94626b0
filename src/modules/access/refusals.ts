import {
  ConflictError,
  ForbiddenError,
  ValidationError,
  type GatehouseError,
} from '../../platform/errors.js';
import type { ExtensionRefusalCode } from './domain/extension-machine.js';
import type { GrantRefusalCode } from './domain/grant-machine.js';
import type { RequestRefusalCode } from './domain/request-machine.js';
import type { Refusal } from './domain/types.js';

/** The state machines' refusals as the errors callers see: 403, 409 or 400, the machine's code in details. */

const requestStatus: Record<RequestRefusalCode, 'forbidden' | 'conflict' | 'validation'> = {
  refused: 'forbidden',
  'self-review': 'forbidden',
  'not-an-approver': 'forbidden',
  'not-your-request': 'forbidden',
  'comment-required': 'validation',
  'already-reviewed': 'conflict',
  'review-window-closed': 'conflict',
  'already-decided': 'conflict',
  'break-glass-not-cancellable': 'conflict',
  'already-issued': 'conflict',
  'not-pending': 'conflict',
  'not-yet-due': 'conflict',
  'request-closed': 'conflict',
};

const grantStatus: Record<GrantRefusalCode, 'conflict' | 'validation'> = {
  'out-of-order': 'conflict',
  'not-active': 'conflict',
  'already-revealed': 'conflict',
  'claim-window-closed': 'conflict',
  'lease-ended': 'conflict',
  'not-started': 'conflict',
  'not-later': 'validation',
  'exceeds-maximum': 'validation',
  'not-yet-due': 'conflict',
  'grant-ended': 'conflict',
};

const extensionStatus: Record<ExtensionRefusalCode, 'forbidden' | 'conflict' | 'validation'> = {
  refused: 'forbidden',
  'self-review': 'forbidden',
  'not-an-approver': 'forbidden',
  'not-your-extension': 'forbidden',
  'comment-required': 'validation',
  'already-reviewed': 'conflict',
  'review-window-closed': 'conflict',
  'already-decided': 'conflict',
  'not-pending': 'conflict',
  'not-yet-due': 'conflict',
  'extension-closed': 'conflict',
};

const sentence = (message: string) => message.charAt(0).toUpperCase() + message.slice(1);

/** A refused transition as the error the caller sees: the machine's message, its code in details. */
export function refusalError(
  refusal: Refusal,
  kind: 'forbidden' | 'conflict' | 'validation',
  extra: Record<string, unknown> = {},
): GatehouseError {
  const options = { details: { reason: refusal.code, ...extra } };
  const message = sentence(refusal.message);
  if (kind === 'forbidden') return new ForbiddenError(message, options);
  if (kind === 'validation') return new ValidationError(message, options);
  return new ConflictError(message, options);
}

export const requestRefusal = (r: Refusal<RequestRefusalCode>) => refusalError(r, requestStatus[r.code]);
export const grantRefusal = (r: Refusal<GrantRefusalCode>, extra: Record<string, unknown> = {}) =>
  refusalError(r, grantStatus[r.code], extra);
export const extensionRefusal = (r: Refusal<ExtensionRefusalCode>) =>
  refusalError(r, extensionStatus[r.code]);

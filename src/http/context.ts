import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../modules/audit/audit.types.js';
import type { Principal } from '../modules/identity/identity.types.js';
import { UnauthenticatedError } from '../platform/errors.js';

/** The caller of an authenticated route (the auth hook guarantees it exists). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError();
  return request.principal;
}

/** Who is calling and from where, for services and their audit events. */
export function contextOf(request: FastifyRequest): RequestContext {
  const principal = principalOf(request);
  return {
    actor: { type: 'operator', id: principal.operatorId, name: principal.username },
    requestId: request.id,
    sourceIp: request.ip,
  };
}
